# reticent: `make run` starts the appliance, `make test` checks everything.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DATA ?= var

.PHONY: install run test lint types contracts pytest bench clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	@if [ ! -f $(DATA)/reticent.toml ]; then $(VENV)/bin/reticent init --data-dir $(DATA) --demo; fi
	RETICENT_CONFIG=$(DATA)/reticent.toml $(VENV)/bin/reticent serve

lint: $(STAMP)
	$(VENV)/bin/ruff check .

types: $(STAMP)
	$(VENV)/bin/mypy

contracts: $(STAMP)
	$(VENV)/bin/lint-imports

pytest: $(STAMP)
	$(VENV)/bin/pytest -q

test: lint types contracts pytest

# Removes what `make` and the tools it runs create: the virtualenv, the caches of mypy, pytest,
# ruff, hypothesis and import-linter, build output and bytecode. Never $(DATA): the instance
# (database, key, backups) is removed only by hand.
CACHES := .mypy_cache .pytest_cache .ruff_cache .hypothesis .import_linter_cache build dist

clean:
	rm -rf $(VENV) $(CACHES) *.egg-info
	find . -path ./$(DATA) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
	@echo "kept $(DATA)/ (the instance and its key): remove it yourself if you mean to"
