"""`reticent init`, `migrate` and `privacy audit` against a shared PostgreSQL database."""

from __future__ import annotations

from pathlib import Path

from tests import pg_support
from tests.config.cli_support import cheapen_argon2, run, set_option


def _init(tmp_path: Path, url: str, *extra: str) -> tuple[int, str, str]:
    return run(None, "init", "--data-dir", str(tmp_path / "inst"), "--store-url", url, *extra)


def test_init_migrate_and_audit_on_postgresql(
    tmp_path: Path, pg_cluster: pg_support.Cluster, pg_databases: pg_support.Databases
) -> None:
    name = pg_databases.fresh()
    code, out, err = _init(tmp_path, pg_cluster.url(name))
    assert code == 0, err
    assert f"created the shared store at {pg_cluster.socket_dir}/{name}" in out
    config = tmp_path / "inst" / "reticent.toml"
    assert not (tmp_path / "inst" / "reticent.db").exists()  # no SQLCipher file
    cheapen_argon2(config)
    code, out, err = run(config, "migrate")
    assert code == 0, err
    assert "schema at revision" in out
    code, out, _ = run(config, "privacy", "audit")
    line = next(line for line in out.splitlines() if "shared database" in line)
    assert line.startswith("PASS  PRIV-08") and "on this machine" in line
    # A second init against the same database is refused and makes nothing.
    code, _, err = _init(tmp_path / "again", pg_cluster.url(name))
    assert code == 2 and "already holds a store" in err
    assert not (tmp_path / "again" / "inst" / "reticent.key").exists()
    pg_databases.drop(name)


def test_a_remote_database_without_verify_full_fails_the_audit(tmp_path: Path) -> None:
    code, _, err = run(None, "init", "--data-dir", str(tmp_path / "inst"))
    assert code == 0, err
    config = tmp_path / "inst" / "reticent.toml"
    cheapen_argon2(config)
    set_option(config, "#url", '"postgresql+psycopg://reticent@192.0.2.7/reticent?sslmode=require"')
    text = config.read_text().replace("#url =", "url =", 1)
    config.write_text(text)
    code, out, _ = run(config, "privacy", "audit")
    assert code == 1
    line = next(line for line in out.splitlines() if "shared database" in line)
    assert line.startswith("FAIL  PRIV-08") and "sslmode=verify-full" in line
    code, _, err = run(config, "migrate")
    assert code == 2 and "not on this machine: add ?sslmode=verify-full" in err


def test_a_password_in_the_url_is_refused_and_never_shown(tmp_path: Path) -> None:
    code, _, err = _init(tmp_path, "postgresql+psycopg://reticent:s3cr3t-pw@127.0.0.1/reticent")
    assert code == 2 and "must not hold a password" in err and "s3cr3t" not in err
    assert not (tmp_path / "inst" / "reticent.toml").exists()


def test_backup_and_restore_commands_on_postgresql(
    tmp_path: Path, pg_cluster: pg_support.Cluster, pg_databases: pg_support.Databases
) -> None:
    name = pg_databases.fresh()
    code, _, err = _init(tmp_path, pg_cluster.url(name))
    assert code == 0, err
    config = tmp_path / "inst" / "reticent.toml"
    cheapen_argon2(config)
    code, out, err = run(config, "backup")
    assert code == 0, err
    assert "backup written to" in out and ".shared-backup" in out
    written = next((tmp_path / "inst").rglob("reticent-*.shared-backup"))
    code, out, err = run(config, "restore", str(written))
    assert code == 0, err
    assert "patrons already purged and removed again: 0" in out
    code, _, err = run(config, "rekey")
    assert code == 2 and "embedded SQLCipher store only" in err
    pg_databases.drop(name)
