"""Opening a shared PostgreSQL store: URL rules, the password file, TLS off loopback (PRIV-08)."""

from __future__ import annotations

import dataclasses
import secrets
from pathlib import Path

import pytest

from core.errors import KeyFileError, StoreError, WrongKeyError
from core.policy.rules import CirculationRules
from core.security.keys import generate_key_file
from core.store.open import StoreOptions, create_store, open_store
from core.store.postgres import (
    create_postgres_engine,
    is_local_transport,
    parse_store_url,
    read_password,
    transport_problem,
)
from core.store.uow import Store
from tests import pg_support
from tests.conftest import FAST_ARGON2, NOW, add_patron

PASSWORD = "correct-Horse-battery-" + secrets.token_hex(4)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("db.example.org", "expected a database URL"),
        ("sqlite:///x.db", r"must start with postgresql\+psycopg://"),
        ("postgresql+psycopg://u:hunter2-secret@db/x", "must not hold a password"),
        ("postgresql+psycopg://u@db.example.org", "names no database"),
    ],
)
def test_bad_urls_are_refused_without_repeating_them(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message) as caught:
        parse_store_url(url)
    assert "hunter2" not in str(caught.value) and "db.example" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("postgresql+psycopg://u@/reticent", True),  # the default Unix socket
        ("postgresql+psycopg://u@/reticent?host=/run/postgresql", True),
        ("postgresql+psycopg://u@localhost/reticent", True),
        ("postgresql+psycopg://u@127.0.0.1:5432/reticent", True),
        ("postgresql+psycopg://u@[::1]/reticent", True),
        ("postgresql+psycopg://u@db.example.org/reticent", False),
        ("postgresql+psycopg://u@10.0.0.5/reticent?sslmode=require", False),
    ],
)
def test_only_sockets_and_loopback_are_local(url: str, local: bool) -> None:
    parsed = parse_store_url(url)
    assert is_local_transport(parsed) is local
    assert (transport_problem(parsed) is None) is local


@pytest.mark.parametrize("sslmode", ["disable", "prefer", "require", "verify-ca"])
def test_a_remote_server_needs_verify_full(sslmode: str) -> None:
    url = parse_store_url(f"postgresql+psycopg://u@db.example.org/reticent?sslmode={sslmode}")
    with pytest.raises(StoreError, match=r"not on this machine: add \?sslmode=verify-full"):
        create_postgres_engine(url, "pw")


def test_verify_full_is_accepted_for_a_remote_server() -> None:
    url = parse_store_url(
        "postgresql+psycopg://u@db.example.org/reticent?sslmode=verify-full&sslrootcert=/ca.crt"
    )
    assert transport_problem(url) is None
    create_postgres_engine(url, "pw").dispose()  # no connection is made until one is needed


def test_a_readable_password_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db.password"
    path.write_text(PASSWORD + "\n")
    path.chmod(0o644)
    with pytest.raises(StoreError, match="mode 0644") as caught:
        read_password(path)
    assert PASSWORD not in str(caught.value)
    path.chmod(0o600)
    assert read_password(path) == PASSWORD


@pytest.fixture
def tcp_options(
    tmp_path: Path, pg_cluster: pg_support.Cluster, pg_databases: pg_support.Databases
) -> StoreOptions:
    """A role with a password, reached over loopback TCP (the server asks for the password)."""
    role = f"branch_{secrets.token_hex(3)}"
    name = pg_databases.fresh()
    pg_cluster.psql(f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'")
    pg_cluster.psql(f'ALTER DATABASE "{name}" OWNER TO {role}')
    pg_cluster.psql(
        f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role};"
        f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}",
        database=name,
    )
    password_file = tmp_path / "db.password"
    password_file.write_text(PASSWORD + "\n")
    password_file.chmod(0o600)
    return StoreOptions(
        database=tmp_path / "unused.db",
        key_file=tmp_path / "reticent.key",
        url=pg_cluster.tcp_url(name, user=role),
        password_file=password_file,
    )


def test_the_password_comes_from_its_file_over_tcp(tcp_options: StoreOptions) -> None:
    store = create_store(tcp_options, CirculationRules(), FAST_ARGON2, now=NOW)
    try:
        add_patron(store, "P1")
        assert store.engine.url.password is not None
        assert PASSWORD not in repr(store.engine.url) and PASSWORD not in str(store.engine.url)
    finally:
        store.close()
    reopened = open_store(tcp_options, CirculationRules(), FAST_ARGON2)
    reopened.close()


def test_a_wrong_password_is_one_line_without_it(tcp_options: StoreOptions) -> None:
    assert tcp_options.password_file is not None
    tcp_options.password_file.write_text("not-the-password")
    with pytest.raises(StoreError) as caught:
        create_store(tcp_options, CirculationRules(), FAST_ARGON2, now=NOW)
    message = str(caught.value)
    assert "password authentication failed" in message
    assert "\n" not in message and "not-the-password" not in message
    assert not tcp_options.key_file.exists()  # refused before anything was made


def test_a_second_init_is_refused(pg_store: Store, pg_store_options: StoreOptions) -> None:
    other = dataclasses.replace(
        pg_store_options, key_file=pg_store_options.key_file.with_name("k2")
    )
    with pytest.raises(StoreError, match="already holds a store"):
        create_store(other, CirculationRules(), FAST_ARGON2, now=NOW)
    assert not other.key_file.exists()


def test_another_key_file_does_not_open_the_store(
    pg_store: Store, pg_store_options: StoreOptions
) -> None:
    other = dataclasses.replace(
        pg_store_options, key_file=pg_store_options.key_file.with_name("k2")
    )
    generate_key_file(other.key_file)
    with pytest.raises(WrongKeyError, match="every branch needs a copy of the key file"):
        open_store(other, CirculationRules(), FAST_ARGON2)
    missing = dataclasses.replace(
        pg_store_options, key_file=pg_store_options.key_file.with_name("k3")
    )
    with pytest.raises(KeyFileError, match="does not exist"):
        open_store(missing, CirculationRules(), FAST_ARGON2)


def test_a_database_without_a_store_is_refused(
    tmp_path: Path, pg_cluster: pg_support.Cluster
) -> None:
    pg_cluster.psql('CREATE DATABASE "empty_db"')
    try:
        generate_key_file(tmp_path / "k")
        options = StoreOptions(
            database=tmp_path / "x.db", key_file=tmp_path / "k", url=pg_cluster.url("empty_db")
        )
        with pytest.raises(WrongKeyError, match="is not a reticent store"):
            open_store(options, CirculationRules(), FAST_ARGON2)
        assert (
            pg_cluster.psql(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", database="empty_db"
            ).strip()
            == "0"
        )
    finally:
        pg_cluster.psql('DROP DATABASE "empty_db" WITH (FORCE)')


def test_two_branches_open_one_store(pg_store: Store, pg_store_options: StoreOptions) -> None:
    """A second appliance with a copy of the key file sees the first one's patrons."""
    add_patron(pg_store, "P1", given="Ada")
    branch = open_store(pg_store_options, CirculationRules(), FAST_ARGON2, migrate=True)
    try:
        from core.services import patrons
        from core.services.actors import local_admin

        with branch.read() as uow:
            assert patrons.find_patron(uow, local_admin(), NOW, "P1").given_name == "Ada"
    finally:
        branch.close()
