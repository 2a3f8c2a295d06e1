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

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
