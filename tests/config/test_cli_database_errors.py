"""A database failure is one line naming its kind, never the statement or its values."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from core.security.keys import load_key
from core.store.engine import create_store_engine
from core.store.uow import Store
from tests.config.cli_support import new_instance, run, write
from tests.conftest import add_patron

MARKER = "Zenobia-Marker-5521"
ROWS = (
    "barcode,given_name,family_name,category,expires_on,pin,email,phone\n"
    f"P1,{MARKER},{MARKER}-family,adult,2030-01-01,,,\n"
)


def test_a_refused_write_is_one_line_without_the_values(tmp_path: Path) -> None:
    config = new_instance(tmp_path)
    data = config.parent
    engine = create_store_engine(data / "reticent.db", load_key(data / "reticent.key"))
    with engine.begin() as conn:  # the database itself refuses the insert
        conn.execute(
            text(
                "CREATE TRIGGER refuse BEFORE INSERT ON patrons "
                "BEGIN SELECT RAISE(ABORT, 'refused by the database'); END"
            )
        )
    engine.dispose()
    code, out, err = run(config, "import", "patrons", str(write(tmp_path / "p.csv", ROWS)))
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("reticent: database error (")
    assert "refused by the database" in err
    assert MARKER not in err + out and "INSERT" not in err


def test_the_engine_hides_bound_values_in_its_errors(store: Store) -> None:
    add_patron(store, "DUP", given=MARKER)
    with pytest.raises(IntegrityError) as caught, store.write() as uow:
        uow.session.execute(
            text(
                "INSERT INTO patrons (barcode, given_name, family_name, category, home_branch,"
                " expires_on, pin_failed_attempts, is_minor, card_lost, created_on,"
                " last_activity_on) VALUES ('DUP', :name, 'x', 'adult', 'main', '2030-01-01',"
                " 0, 0, 0, '2026-01-01', '2026-01-01')"
            ),
            {"name": MARKER},
        )
    assert MARKER not in str(caught.value)
    assert "UNIQUE constraint failed: patrons.barcode" in str(caught.value)
