"""The data inventory page is generated from the annotations and kept up to date (PRIV-06)."""

from __future__ import annotations

from pathlib import Path

from core.model import Base
from core.privacy.inventory import INVENTORY_PATH, REGENERATE, render_inventory

REPOSITORY = Path(__file__).resolve().parents[3]


def test_the_committed_inventory_matches_the_schema() -> None:
    page = REPOSITORY / INVENTORY_PATH
    assert page.exists(), f"{INVENTORY_PATH} is missing: run `{REGENERATE}`"
    assert page.read_text(encoding="utf-8") == render_inventory(), (
        f"{INVENTORY_PATH} is out of date with the schema: run `{REGENERATE}`"
    )


def test_every_table_and_column_is_listed_with_its_annotation() -> None:
    page = render_inventory()
    for table in Base.metadata.sorted_tables:
        assert f"\n## {table.name}\n" in page
        for column in table.columns:
            assert f"| `{column.name}` | {column.info['pii']} | " in page
    assert "not annotated" not in page


def test_the_pin_hash_is_listed_but_never_a_value() -> None:
    page = render_inventory()
    line = next(line for line in page.splitlines() if line.startswith("| `pin_hash` |"))
    assert "argon2id" in line and "$argon2" not in page
