"""Tests of the settings tree, `load_settings` and the checks made after loading."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from config.loader import ConfigError
from config.settings import (
    FieldProfileSettings,
    ListenerSettings,
    Settings,
    TerminalCodecSettings,
    load_settings,
    validate_settings,
)
from core.policy.rules import CirculationRules, LoanRule
from core.store.uow import Store


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(folder: Path, text: str, name: str = "reticent.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def load_text(folder: Path, text: str) -> Settings:
    """Load `text` as ./reticent.toml, so messages start with "reticent.toml: "."""
    write(folder, text)
    return load_settings(Path("reticent.toml"), {})


def error_of(folder: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_text(folder, text)
    return str(caught.value)


def test_defaults_without_a_file_use_var_under_the_current_folder(in_tmp: Path) -> None:
    settings = load_settings(None, {})
    assert settings == Settings(data_dir=in_tmp / "var")
    assert settings.database_path == in_tmp / "var" / "reticent.db"
    assert settings.key_path == in_tmp / "var" / "reticent.key"
    assert settings.store.url is None
    assert settings.sip2.listeners == (ListenerSettings(host="127.0.0.1", port=6001),)
    assert settings.sip2.listeners[0].codec == TerminalCodecSettings()
    assert settings.circulation == CirculationRules()
    validate_settings(settings, source="(defaults)")


def test_the_environment_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[library]\nname = "Elm Street Branch"')
    settings = load_settings(None, {"RETICENT_CONFIG": str(path)})
    assert settings.library.name == "Elm Street Branch"
    assert settings.library.institution_id == "main"


def test_an_explicit_path_wins_over_the_environment(tmp_path: Path) -> None:
    chosen = write(tmp_path, "[logging]\nformat = 'json'", "chosen.toml")
    other = write(tmp_path, "[logging]\nlevel = 'DEBUG'", "other.toml")
    settings = load_settings(chosen, {"RETICENT_CONFIG": str(other)})
    assert settings.logging.format == "json"
    assert settings.logging.level == "INFO"


def test_an_empty_environment_variable_means_no_file(in_tmp: Path) -> None:
    assert load_settings(None, {"RETICENT_CONFIG": ""}).data_dir == in_tmp / "var"


def test_paths_in_a_file_are_relative_to_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    path = write(
        etc,
        'data_dir = "../lib"\n[store]\nkey_file = "keys/db.key"\n'
        '[[sip2.listeners]]\nhost = "0.0.0.0"\nport = 6443\n'
        'tls_cert = "tls/cert.pem"\ntls_key = "/secure/key.pem"',
    )
    monkeypatch.chdir(tmp_path / "etc")
    settings = load_settings(Path("reticent.toml"), {})
    assert path.exists()
    assert settings.data_dir == tmp_path / "lib"
    assert settings.key_path == etc / "keys" / "db.key"
    assert settings.database_path == tmp_path / "lib" / "reticent.db"
    assert settings.sip2.listeners[0].tls_cert == etc / "tls" / "cert.pem"
    assert settings.sip2.listeners[0].tls_key == Path("/secure/key.pem")


def test_without_data_dir_the_data_lives_beside_the_file(in_tmp: Path) -> None:
    folder = in_tmp / "conf"
    folder.mkdir()
    path = write(folder, "[logging]\nformat = 'json'")
    assert load_settings(path, {}).data_dir == folder / "var"


def test_partial_tables_keep_the_other_defaults(in_tmp: Path) -> None:
    settings = load_text(
        in_tmp,
        "[sip2]\nmax_sessions = 10\n"
        "[security.argon2]\ntime_cost = 4\n"
        "[circulation.calendar]\nclosed_weekdays = [5, 6]\n"
        "[circulation.limits]\nmax_fees = 2000\n",
    )
    defaults = Settings()
    assert settings.sip2 == dataclasses.replace(defaults.sip2, max_sessions=10)
    assert settings.security.argon2 == dataclasses.replace(defaults.security.argon2, time_cost=4)
    calendar = settings.circulation.calendar
    assert calendar == dataclasses.replace(
        defaults.circulation.calendar, closed_weekdays=frozenset({5, 6})
    )
    assert settings.circulation.limits.max_loans == defaults.circulation.limits.max_loans
    assert settings.circulation.rules == defaults.circulation.rules


def test_rules_in_the_file_replace_the_built_in_rules(in_tmp: Path) -> None:
    settings = load_text(in_tmp, "[circulation.rules.adult.book]\nloan_days = 28")
    circulation = settings.circulation
    assert circulation.rules == {"adult": {"book": LoanRule(loan_days=28)}}
    assert circulation.rule_for("adult", "book").renewals == LoanRule().renewals
    assert circulation.rule_for("child", "book") == circulation.default


def test_terminal_overrides_and_profiles(in_tmp: Path) -> None:
    settings = load_text(
        in_tmp,
        '[sip2.terminals.kiosk1]\nencoding = "utf-8"\nterminator = "CRLF"\n'
        '[sip2.profiles.desk]\nbase = "named"\nextra_fields = ["BE", "PB"]\n',
    )
    assert settings.sip2.terminals == {
        "kiosk1": TerminalCodecSettings(encoding="utf-8", terminator="CRLF")
    }
    assert settings.sip2.profiles == {
        "desk": FieldProfileSettings(base="named", extra_fields=("BE", "PB"))
    }


def test_closed_dates_accept_toml_dates_and_strings(in_tmp: Path) -> None:
    settings = load_text(
        in_tmp, '[circulation.calendar]\nclosed_dates = [2025-12-25, "2026-01-01"]'
    )
    assert {d.isoformat() for d in settings.circulation.calendar.closed_dates} == {
        "2025-12-25",
        "2026-01-01",
    }


def test_plain_listener_off_loopback_is_allowed_when_asked(in_tmp: Path) -> None:
    settings = load_text(
        in_tmp, '[[sip2.listeners]]\nhost = "0.0.0.0"\nport = 6001\nallow_plaintext = true'
    )
    assert settings.sip2.listeners[0].allow_plaintext


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The loader: unknown keys, wrong types, bad literals, bad dates.
        ("colour = 'red'", "colour: unknown key"),
        ("[sip2]\nlistenrs = []", "sip2.listenrs: unknown key"),
        (
            "[circulation.rules.adult.book]\nloan_dayz = 1",
            "circulation.rules.adult.book.loan_dayz: unknown key",
        ),
        (
            "[circulation.rules.adult.book]\nloan_days = 'x'",
            "circulation.rules.adult.book.loan_days: expected an integer, got 'x'",
        ),
        (
            "[store]\nsynchronous = 'normal'",
            "store.synchronous: expected one of 'NORMAL', 'FULL', got 'normal'",
        ),
        ("[logging]\nformat = 'yes'", "logging.format: expected one of 'text', 'json', got 'yes'"),
        (
            "[circulation.calendar]\nclosed_dates = ['2025-02-30']",
            "circulation.calendar.closed_dates[0]: no such date: '2025-02-30'",
        ),
        (
            "[circulation.calendar]\nclosed_dates = ['soon']",
            "circulation.calendar.closed_dates[0]: expected a date (YYYY-MM-DD), got 'soon'",
        ),
        ("[[sip2.listeners]]\nhost = 'a'", "sip2.listeners[0].port: missing key"),
        ("[sip2]\nidle_timeout_s = 'long'", "sip2.idle_timeout_s: expected a number, got 'long'"),
        ("data_dir = 5", "data_dir: expected a path (a non-empty string), got 5"),
        # Checks after loading.
        (
            "[[sip2.listeners]]\nhost = '127.0.0.1'\nport = 0",
            "sip2.listeners[0].port: must be between 1 and 65535, got 0",
        ),
        (
            "[[sip2.listeners]]\nhost = '127.0.0.1'\nport = 70000",
            "sip2.listeners[0].port: must be between 1 and 65535, got 70000",
        ),
        (
            "[[sip2.listeners]]\nhost = '::1'\nport = 6001\ntls_cert = 'c.pem'",
            "sip2.listeners[0].tls_key: needed when tls_cert is set",
        ),
        (
            "[[sip2.listeners]]\nhost = '::1'\nport = 6001\ntls_key = 'k.pem'",
            "sip2.listeners[0].tls_cert: needed when tls_key is set",
        ),
        (
            "[[sip2.listeners]]\nhost = '0.0.0.0'\nport = 6001",
            "sip2.listeners[0]: plain SIP2 off this machine needs tls_cert/tls_key"
            " or allow_plaintext = true",
        ),
        (
            "[[sip2.listeners]]\nhost = 'localhost'\nport = 1\n" * 2,
            "sip2.listeners[1]: localhost:1 is listed twice",
        ),
        (
            "[circulation.rules.staff.book]\nloan_days = 7",
            "circulation.rules.staff: 'staff' is not in circulation.categories",
        ),
        (
            "[circulation.rules.adult.vinyl]\nloan_days = 7",
            "circulation.rules.adult.vinyl: 'vinyl' is not in circulation.media_types",
        ),
        (
            "[circulation.rules.adult.book]\nloan_days = 0",
            "circulation.rules.adult.book.loan_days: must be at least 1, got 0",
        ),
        (
            "[circulation.default]\nmax_fine = -1",
            "circulation.default.max_fine: must be at least 0, got -1",
        ),
        (
            "[circulation]\ncategories = []",
            "circulation.categories: at least one patron category is needed",
        ),
        (
            "[circulation]\ncategories = ['adult', 'adult']",
            "circulation.categories[1]: 'adult' is listed twice",
        ),
        (
            "[circulation.calendar]\nclosed_weekdays = [7]",
            "circulation.calendar.closed_weekdays: days are 0 (Monday) to 6",
        ),
        (
            "[circulation.calendar]\nclosed_weekdays = [0, 1, 2, 3, 4, 5, 6]",
            "circulation.calendar.closed_weekdays: every day is closed",
        ),
        (
            "[circulation.calendar]\ntimezone = 'Mars/Olympus'",
            "circulation.calendar.timezone: unknown time zone 'Mars/Olympus'",
        ),
        (
            "[circulation.barcodes]\npattern = '[0-9'",
            "circulation.barcodes.pattern: bad pattern: unterminated character set at position 0",
        ),
        (
            "[circulation.pin_lockout]\nlock_minutes = 0",
            "circulation.pin_lockout.lock_minutes: must be at least 1, got 0",
        ),
        (
            "[security.argon2]\nparallelism = 8\nmemory_cost_kib = 32",
            "security.argon2.memory_cost_kib: must be at least 64, got 32",
        ),
        ("[security.argon2]\nsalt_len = 8", "security.argon2.salt_len: must be at least 16, got 8"),
        ("[store]\nbusy_timeout_ms = 0", "store.busy_timeout_ms: must be at least 1, got 0"),
        (
            "[store]\nurl = 'db.example.org'",
            "store.url: expected a database URL such as postgresql+psycopg://...",
        ),
        ("[library]\ncurrency = 'usd'", "library.currency: expected an ISO 4217 code, got 'usd'"),
        ("[library]\nlanguage = '1'", "library.language: expected three digits, got '1'"),
        (
            "[imports]\nmarc_holdings_tag = '95'",
            "imports.marc_holdings_tag: expected 3 digits, got '95'",
        ),
        (
            "[imports]\nmarc_barcode_subfield = 'pp'",
            "imports.marc_barcode_subfield: expected one lowercase letter or digit, got 'pp'",
        ),
        ("[sip2]\nidle_timeout_s = 0", "sip2.idle_timeout_s: must be at least 1, got 0"),
        ("[sip2]\nmax_sessions = 0", "sip2.max_sessions: must be at least 1, got 0"),
        (
            "[sip2.terminals.k1]\nencoding = 'klingon'",
            "sip2.terminals.k1.encoding: unknown text encoding 'klingon'",
        ),
        (
            "[sip2.terminals.k1]\nencoding = 'utf-16'",
            "sip2.terminals.k1.encoding: 'utf-16' does not keep ASCII as is",
        ),
        (
            "[sip2.terminals.k1]\nfield_delimiter = '||'",
            "sip2.terminals.k1.field_delimiter: expected one ASCII sign, got '||'",
        ),
        (
            "[sip2.terminals.k1]\nfield_delimiter = 'A'",
            "sip2.terminals.k1.field_delimiter: 'A' can occur inside fields",
        ),
        (
            "[sip2.terminals.k1]\nterminator = 'NUL'",
            "sip2.terminals.k1.terminator: expected one of 'CR', 'LF', 'CRLF', got 'NUL'",
        ),
        (
            "[sip2.profiles.p]\nextra_fields = ['BE', 'be']",
            "sip2.profiles.p.extra_fields[1]: expected a two-letter field code, got 'be'",
        ),
        (
            "[sip2.profiles.p]\nbase = 'everything'",
            "sip2.profiles.p.base: expected one of 'minimal', 'named', got 'everything'",
        ),
    ],
)
def test_errors_name_the_file_and_the_key(in_tmp: Path, text: str, expected: str) -> None:
    assert error_of(in_tmp, text) == f"reticent.toml: {expected}"


def test_toml_syntax_error_names_the_file_and_the_line(in_tmp: Path) -> None:
    message = error_of(in_tmp, "[library]\nname = \n")
    assert message.startswith("reticent.toml: invalid TOML: ")
    assert "line 2" in message


def test_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError, match=r"nowhere\.toml: no such file$"):
        load_settings(None, {"RETICENT_CONFIG": str(path)})


def test_a_file_that_is_not_utf8_is_refused(in_tmp: Path) -> None:
    (in_tmp / "reticent.toml").write_bytes(b'[library]\nname = "Caf\xe9"\n')
    with pytest.raises(ConfigError, match=r"^reticent\.toml: not UTF-8 text$"):
        load_settings(Path("reticent.toml"), {})


def test_a_folder_is_not_a_file(in_tmp: Path) -> None:
    (in_tmp / "conf.toml").mkdir()
    with pytest.raises(ConfigError, match=r"^conf\.toml: cannot be read: "):
        load_settings(Path("conf.toml"), {})


def test_settings_are_frozen(in_tmp: Path) -> None:
    settings = load_text(in_tmp, "[sip2.terminals.k1]\nencoding = 'utf-8'")
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.data_dir = in_tmp  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.sip2.listeners[0].port = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        settings.sip2.terminals["k2"] = TerminalCodecSettings()  # type: ignore[index]


def test_explicit_database_and_key_paths_are_kept(in_tmp: Path) -> None:
    settings = load_text(in_tmp, "[store]\ndatabase = '/srv/r.db'\nkey_file = '/etc/r.key'")
    assert settings.database_path == Path("/srv/r.db")
    assert settings.key_path == Path("/etc/r.key")


def test_offline_is_a_per_login_setting_that_reaches_the_handlers(
    in_tmp: Path, store: Store
) -> None:
    from config.sip2_wiring import build_handlers

    settings = load_text(
        in_tmp, "[sip2.terminals.drop1]\noffline = true\n[sip2.terminals.kiosk1]\n"
    )
    handlers = build_handlers(settings, store)
    assert handlers.ctx.options.offline_terminals == frozenset({"drop1"})
    on_a_listener = (
        '[[sip2.listeners]]\nhost = "127.0.0.1"\nport = 6001\n'
        "[sip2.listeners.codec]\noffline = true\n"
    )
    message = error_of(in_tmp, on_a_listener)
    assert "codec.offline" in message and "[sip2.terminals.LOGIN]" in message
