"""Shared fixtures: a real SQLCipher store in a temporary folder, a fixed clock, demo records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.model import Item, Patron, Record
from core.policy.rules import CirculationRules
from core.security.secrets import Argon2Params
from core.store.migrate import upgrade
from core.store.open import StoreOptions, create_store
from core.store.postgres import create_postgres_engine, parse_store_url
from core.store.uow import Store
from tests import pg_support

# Cheap argon2 parameters keep the suite fast; the hashing code path is the same.
FAST_ARGON2 = Argon2Params(time_cost=1, memory_cost_kib=1024, parallelism=1)
# A fixed Wednesday morning; the default calendar closes on Sundays.
NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def now() -> dt.datetime:
    return NOW


# Suites whose `store` runs on both databases: every test there that takes the store runs
# once on a SQLCipher file and once on a fresh PostgreSQL database ([sqlcipher], [postgres]).
BOTH_STORES = (
    "tests/core/privacy/",
    "tests/sip2/",
    "tests/core/test_store",
    "tests/core/test_circulation",
)
SQLCIPHER_ONLY = "sqlcipher_only"  # marker: the test is about the SQLCipher file itself


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{SQLCIPHER_ONLY}: about the SQLCipher file itself; not run on PostgreSQL"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store_backend" not in metafunc.fixturenames:
        return
    where = Path(metafunc.definition.path).relative_to(Path(__file__).parent.parent).as_posix()
    if where.startswith(BOTH_STORES) and not metafunc.definition.get_closest_marker(SQLCIPHER_ONLY):
        metafunc.parametrize("store_backend", ["sqlcipher", "postgres"])


@pytest.fixture
def store_backend() -> str:
    """Which database `store` opens; the suites in BOTH_STORES run on both."""
    return "sqlcipher"


@pytest.fixture
def store_options(
    tmp_path: Path, store_backend: str, request: pytest.FixtureRequest
) -> StoreOptions:
    if store_backend == "postgres":
        options: StoreOptions = request.getfixturevalue("pg_store_options")
        return options
    return StoreOptions(database=tmp_path / "reticent.db", key_file=tmp_path / "reticent.key")


@pytest.fixture
def store(store_options: StoreOptions) -> Iterator[Store]:
    opened = create_store(store_options, CirculationRules(), FAST_ARGON2, now=NOW)
    yield opened
    opened.close()


def add_record_with_items(
    store: Store, title: str, barcodes: list[str], *, media_type: str = "book", branch: str = "main"
) -> int:
    with store.write() as uow:
        record = Record(title=title, author="Author, Some", isbn="")
        uow.session.add(record)
        uow.session.flush()
        for barcode in barcodes:
            uow.session.add(
                Item(
                    barcode=barcode,
                    record_id=record.id,
                    call_number="QA 1",
                    media_type=media_type,
                    home_branch=branch,
                    location="stacks",
                )
            )
        return record.id


def add_patron(
    store: Store,
    barcode: str,
    *,
    given: str = "Ada",
    family: str = "Lovelace",
    category: str = "adult",
    expires_on: dt.date = dt.date(2030, 1, 1),
    pin: str | None = None,
) -> int:
    pin_hash = store.env.hasher.hash(pin) if pin is not None else None
    with store.write() as uow:
        patron = Patron(
            barcode=barcode,
            given_name=given,
            family_name=family,
            category=category,
            expires_on=expires_on,
            pin_hash=pin_hash,
            created_on=NOW.date(),
            last_activity_on=NOW.date(),
        )
        uow.session.add(patron)
        uow.session.flush()
        return patron.id


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[pg_support.Cluster]:
    """One throwaway PostgreSQL server for the whole session (`.ci/run` installs it)."""
    if not pg_support.available():
        pytest.fail("PostgreSQL is not installed here: apt-get install postgresql")
    with pg_support.running_cluster() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def pg_databases(pg_cluster: pg_support.Cluster) -> pg_support.Databases:
    """Fresh databases cloned from one template migrated to head once per session."""
    template = "reticent_template"
    pg_cluster.psql(f'CREATE DATABASE "{template}"')
    engine = create_postgres_engine(parse_store_url(pg_cluster.url(template)), None)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return pg_support.Databases(pg_cluster, template)


@pytest.fixture
def pg_store_options(
    tmp_path: Path, pg_cluster: pg_support.Cluster, pg_databases: pg_support.Databases
) -> Iterator[StoreOptions]:
    """Options for a store on a fresh PostgreSQL database (the key file stays local)."""
    name = pg_databases.fresh()
    yield StoreOptions(
        database=tmp_path / "unused.db",
        key_file=tmp_path / "reticent.key",
        url=pg_cluster.url(name),
    )
    pg_databases.drop(name)


@pytest.fixture
def pg_store(pg_store_options: StoreOptions) -> Iterator[Store]:
    opened = create_store(pg_store_options, CirculationRules(), FAST_ARGON2, now=NOW)
    yield opened
    opened.close()
