"""The settings tree of reticent as frozen dataclasses with defaults, and `load_settings`."""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar, Literal

from config.loader import ConfigError, join_key, load_dataclass
from config.settings_devices import (
    DeviceSettings,
    StationSettings,
    no_devices,
    validate_devices,
)
from config.settings_notices import NoticesSettings
from config.settings_privacy import PrivacySettings
from config.settings_retention import RetentionSettings
from core.policy.rules import CirculationRules, LoanRule
from core.policy.secret_rules import (
    MAX_PIN_LENGTH,
    STAFF_PASSWORD_MIN,
    TERMINAL_PASSWORD_MIN,
    PasswordRule,
    PinRule,
)
from core.security.keys import credential_key_file
from core.security.network import is_loopback

CONFIG_ENV_VAR = "RETICENT_CONFIG"
DEFAULT_DATA_DIR = Path("var")


@dataclass(frozen=True)
class StoreSettings:
    """Where the database lives and how SQLite waits and syncs."""

    # None: the SQLCipher file; a postgresql+psycopg:// URL for consortia.
    url: str | None = None
    database: Path | None = None  # None: data_dir/reticent.db
    key_file: Path | None = None  # None: data_dir/reticent.key (PRIV-08: never the key itself)
    busy_timeout_ms: int = 5000
    synchronous: Literal["NORMAL", "FULL"] = "FULL"
    # The PostgreSQL password, never in the URL (PRIV-08); None: the systemd credential
    # `reticent-store-password` when there is one, else no password (a local socket).
    password_file: Path | None = None


@dataclass(frozen=True)
class LibrarySettings:
    """Who the library is, as shown to staff and sent to SIP2 terminals."""

    name: str = "Reticent Demo Library"
    institution_id: str = "main"  # SIP2 AO
    currency: str = "USD"  # ISO 4217, SIP2 BH
    contact: str = "circulation desk, 555-0100"
    language: str = "001"  # SIP2 language code; 001 is English


@dataclass(frozen=True)
class Argon2Settings:
    """Cost of argon2id hashing of PINs and staff passwords (PRIV-09, rehash on login)."""

    time_cost: int = 3
    memory_cost_kib: int = 65536
    parallelism: int = 4
    hash_len: int = 32
    salt_len: int = 16


@dataclass(frozen=True)
class SecuritySettings:
    """Password and PIN hashing parameters, and what new secrets must be (PRIV-09)."""

    staff_password_min_length: int = STAFF_PASSWORD_MIN
    terminal_password_min_length: int = TERMINAL_PASSWORD_MIN
    pin: PinRule = field(default_factory=PinRule)
    argon2: Argon2Settings = Argon2Settings()

    @property
    def staff_password_rule(self) -> PasswordRule:
        return PasswordRule(self.staff_password_min_length)

    @property
    def terminal_password_rule(self) -> PasswordRule:
        return PasswordRule(self.terminal_password_min_length)


@dataclass(frozen=True)
class ImportSettings:
    """Where MARC holdings fields keep item data, and CSV import feedback."""

    marc_holdings_tag: str = "952"
    marc_barcode_subfield: str = "p"
    marc_call_number_subfield: str = "o"
    marc_location_subfield: str = "c"
    marc_media_type_subfield: str = "y"
    marc_branch_subfield: str = "a"
    csv_progress_threshold: int = 5000  # rows; larger imports report progress


@dataclass(frozen=True)
class TerminalCodecSettings:
    """How one kind of SIP2 terminal frames and encodes its messages."""

    encoding: str = "cp850"
    terminator: Literal["CR", "LF", "CRLF"] = "CR"
    field_delimiter: str = "|"
    error_detection: Literal["off", "accept", "require"] = "accept"
    due_date_format: str = "sip2"
    # Per terminal login only: honour "no block" checkouts (SIP2 11, BO=Y) it made offline.
    offline: bool = False


@dataclass(frozen=True)
class ListenerSettings:
    """One SIP2 listening socket, plain or TLS (PRIV-08)."""

    host: str
    port: int
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # PRIV-08: SIP2 carries PINs, so plain TCP off the loopback needs an explicit yes.
    allow_plaintext: bool = False
    codec: TerminalCodecSettings = TerminalCodecSettings()


@dataclass(frozen=True)
class FieldProfileSettings:
    """A custom SIP2 field profile: a built-in base plus extra optional fields (PRIV-16)."""

    base: Literal["minimal", "named"] = "minimal"
    extra_fields: tuple[str, ...] = ()  # two-letter SIP2 field codes, e.g. "BE"
    note: str = ""


def _no_terminals() -> Mapping[str, TerminalCodecSettings]:
    return MappingProxyType({})


def _no_profiles() -> Mapping[str, FieldProfileSettings]:
    return MappingProxyType({})


# What a terminal must show before acting for a patron (sip2.handlers.session.PatronPin).
PatronPinSetting = Literal["required", "session", "not_required"]


def _no_pin_overrides() -> Mapping[str, PatronPinSetting]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Sip2Settings:
    """SIP2 listeners, limits, and per-terminal overrides."""

    listeners: tuple[ListenerSettings, ...] = (ListenerSettings(host="127.0.0.1", port=6001),)
    idle_timeout_s: float = 600.0
    login_timeout_s: float = 30.0
    message_timeout_s: float = 10.0
    max_sessions: int = 2500
    max_prelogin: int = 64
    max_prelogin_per_address: int = 16
    status_before_login: bool = True
    max_failed_logins: int = 3
    patron_idle_s: float = 180.0
    shutdown_grace_s: float = 5.0
    # Processes serving SIP2 on the same ports (SO_REUSEPORT); 1 is one process, as always.
    workers: int = 1
    terminals: Mapping[str, TerminalCodecSettings] = field(default_factory=_no_terminals)
    profiles: Mapping[str, FieldProfileSettings] = field(default_factory=_no_profiles)
    # By terminal login; every login not listed is "required" (PRIV-16).
    patron_pin: Mapping[str, PatronPinSetting] = field(default_factory=_no_pin_overrides)


@dataclass(frozen=True)
class LoggingSettings:
    """How much is logged and in which form (PRIV-16: never PINs, never patron next to item)."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # One event per line either way, to standard error (the journal under systemd).
    format: Literal["text", "json"] = "text"


@dataclass(frozen=True)
class MetricsSettings:
    """The Prometheus endpoint: counts and latencies only, never a patron or an item (PRIV-16)."""

    listen: str | None = None  # "127.0.0.1:9464"; None: no endpoint
    # Off this machine the counts are readable by anyone who can reach the port.
    allow_remote: bool = False

    EXAMPLES: ClassVar[Mapping[str, str]] = MappingProxyType({"listen": "127.0.0.1:9464"})
    COMMENTS: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            "listen": (
                "HOST:PORT of a Prometheus endpoint (counts and latencies only, never a patron\n"
                "or an item); off unless set. Also `reticent serve --metrics-listen HOST:PORT`."
            ),
            "allow_remote": "Allow a listen address other than loopback (127.0.0.1, ::1).",
        }
    )

    @property
    def address(self) -> tuple[str, int] | None:
        """``listen`` as host and port (validated by ``load_settings``)."""
        return None if self.listen is None else parse_host_port(self.listen)


def parse_host_port(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6; port 0: any free one) as a pair; ValueError says
    what is wrong."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"expected HOST:PORT with a port from 0 to 65535, got {text!r}")
    return host, int(port)


def check_metrics_address(host: str, allow_remote: bool) -> None:
    """Refuse a metrics endpoint reachable from other machines unless allowed explicitly."""
    if not allow_remote and not is_loopback(host):
        raise ValueError(
            f"metrics on {host} would be reachable from other machines: listen on 127.0.0.1, "
            "or set [metrics] allow_remote = true"
        )


@dataclass(frozen=True)
class Settings:
    """Everything `reticent` reads from its configuration file."""

    data_dir: Path = DEFAULT_DATA_DIR
    store: StoreSettings = StoreSettings()
    library: LibrarySettings = LibrarySettings()
    circulation: CirculationRules = field(default_factory=CirculationRules)
    security: SecuritySettings = SecuritySettings()
    imports: ImportSettings = ImportSettings()
    sip2: Sip2Settings = Sip2Settings()
    logging: LoggingSettings = LoggingSettings()
    metrics: MetricsSettings = MetricsSettings()
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    notices: NoticesSettings = field(default_factory=NoticesSettings)
    devices: Mapping[str, DeviceSettings] = field(default_factory=no_devices)
    station: StationSettings = field(default_factory=StationSettings)

    @property
    def database_path(self) -> Path:
        """The SQLCipher database file (unused when `store.url` names another database)."""
        return self.store.database or self.data_dir / "reticent.db"

    @property
    def key_path(self) -> Path:
        """The file holding the 32-byte database key."""
        return self.store.key_file or self.data_dir / "reticent.key"


def load_settings(path: Path | None, environ: Mapping[str, str]) -> Settings:
    """Load the file at `path`, else at $RETICENT_CONFIG, else return the defaults.

    Relative paths in a file are taken from the file's folder; without a file, the data folder
    is `./var` under the current folder.
    """
    if path is None and environ.get(CONFIG_ENV_VAR):
        path = Path(environ[CONFIG_ENV_VAR])
    if path is None:
        return _with_key_credential(Settings(data_dir=Path.cwd() / DEFAULT_DATA_DIR), environ)
    source = str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(source, "", "no such file") from None
    except UnicodeDecodeError:
        raise ConfigError(source, "", "not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(source, "", f"cannot be read: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "", f"invalid TOML: {exc}") from None
    base_dir = Path(os.path.abspath(path)).parent
    settings = load_dataclass(Settings, data, source=source, base_dir=base_dir)
    if not settings.data_dir.is_absolute():  # the default, when the file does not set it
        settings = dataclasses.replace(settings, data_dir=base_dir / settings.data_dir)
    validate_settings(settings, source=source)
    return _with_key_credential(settings, environ)


def _with_key_credential(settings: Settings, environ: Mapping[str, str]) -> Settings:
    """Under systemd the key arrives as a credential and replaces the key file (PRIV-08)."""
    credential = credential_key_file(environ.get("CREDENTIALS_DIRECTORY"))
    if credential is None:
        return settings
    store = dataclasses.replace(settings.store, key_file=credential)
    return dataclasses.replace(settings, store=store)


_FIELD_CODE = re.compile(r"[A-Z0-9]{2}")  # SIP2 field identifiers
_MARC_TAG = re.compile(r"\d{3}")
_MARC_SUBFIELD = re.compile(r"[a-z0-9]")
_ASCII_PROBE = "".join(chr(c) for c in range(0x20, 0x7F)) + "\r\n"
# RFC 9106 recommends 128-bit salts; a tag under 128 bits gives too little margin.
_MIN_ARGON2_SALT = 16
_MIN_ARGON2_HASH = 16
# PRIV-09: rules weaker than these are refused in the configuration, whatever a file says.
MIN_PASSWORD_RULE = 8
MIN_PIN_LENGTH = 4
# More SIP2 worker processes than this buys nothing on an appliance: they share one SQLite
# writer, and each holds its own connection pool and page cache.
MAX_SIP2_WORKERS = 16


def validate_settings(settings: Settings, *, source: str) -> None:
    """Raise ConfigError naming the key of the first value that cannot be used."""
    check = _Checker(source)
    store = settings.store
    if store.url is not None:
        _validate_store_url(check, store.url)
    check.at_least("store.busy_timeout_ms", store.busy_timeout_ms, 1)
    _validate_library(check, settings.library)
    _validate_circulation(check, settings.circulation)
    argon2 = settings.security.argon2
    check.at_least("security.argon2.time_cost", argon2.time_cost, 1)
    check.at_least("security.argon2.parallelism", argon2.parallelism, 1)
    # argon2 needs at least 8 KiB of memory per lane.
    lanes_kib = 8 * argon2.parallelism
    check.at_least("security.argon2.memory_cost_kib", argon2.memory_cost_kib, lanes_kib)
    check.at_least("security.argon2.hash_len", argon2.hash_len, _MIN_ARGON2_HASH)
    check.at_least("security.argon2.salt_len", argon2.salt_len, _MIN_ARGON2_SALT)
    _validate_secret_rules(check, settings.security)
    _validate_imports(check, settings.imports)
    _validate_sip2(check, settings.sip2)
    _validate_metrics(check, settings.metrics)
    validate_devices(settings.devices, settings.station, source=source)


def _validate_secret_rules(check: _Checker, security: SecuritySettings) -> None:
    for name in ("staff_password_min_length", "terminal_password_min_length"):
        check.at_least(f"security.{name}", getattr(security, name), MIN_PASSWORD_RULE)
    pin = security.pin
    check.at_least("security.pin.min_length", pin.min_length, MIN_PIN_LENGTH)
    check.at_least("security.pin.max_length", pin.max_length, pin.min_length)
    if pin.max_length > MAX_PIN_LENGTH:
        raise check.error("security.pin.max_length", f"must be at most {MAX_PIN_LENGTH}")


def _validate_store_url(check: _Checker, url: str) -> None:
    from core.errors import StoreError
    from core.store.postgres import parse_store_url

    try:
        parse_store_url(url)
    except StoreError as exc:
        raise check.error("store.url", str(exc)) from None


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, key: str, problem: str) -> ConfigError:
        return ConfigError(self.source, key, problem)

    def at_least(self, key: str, value: float, minimum: float) -> None:
        if value < minimum:
            raise self.error(key, f"must be at least {minimum:g}, got {value:g}")

    def matches(self, key: str, value: str, pattern: re.Pattern[str], expected: str) -> None:
        if not pattern.fullmatch(value):
            raise self.error(key, f"expected {expected}, got {value!r}")

    def unique(self, key: str, values: tuple[str, ...]) -> None:
        for i, value in enumerate(values):
            if not value:
                raise self.error(f"{key}[{i}]", "must not be empty")
            if value in values[:i]:
                raise self.error(f"{key}[{i}]", f"{value!r} is listed twice")


def _validate_library(check: _Checker, library: LibrarySettings) -> None:
    if not library.name.strip():
        raise check.error("library.name", "must not be empty")
    if not library.institution_id.isprintable() or not library.institution_id.strip():
        raise check.error("library.institution_id", "expected printable text")
    check.matches("library.currency", library.currency, re.compile("[A-Z]{3}"), "an ISO 4217 code")
    check.matches("library.language", library.language, re.compile(r"\d{3}"), "three digits")


def _validate_circulation(check: _Checker, rules: CirculationRules) -> None:
    check.unique("circulation.categories", rules.categories)
    check.unique("circulation.media_types", rules.media_types)
    check.unique("circulation.branches", rules.branches)
    if not rules.categories:
        raise check.error("circulation.categories", "at least one patron category is needed")
    _validate_loan_rule(check, "circulation.default", rules.default)
    for category, by_media in rules.rules.items():
        key = join_key("circulation.rules", category)
        if category not in rules.categories:
            raise check.error(key, f"{category!r} is not in circulation.categories")
        for media_type, rule in by_media.items():
            if media_type not in rules.media_types:
                raise check.error(
                    join_key(key, media_type), f"{media_type!r} is not in circulation.media_types"
                )
            _validate_loan_rule(check, join_key(key, media_type), rule)
    limits = rules.limits
    check.at_least("circulation.limits.max_loans", limits.max_loans, 1)
    check.at_least("circulation.limits.max_overdue", limits.max_overdue, 0)
    check.at_least("circulation.limits.max_fees", limits.max_fees, 0)
    calendar = rules.calendar
    if calendar.timezone != "UTC":
        try:
            zoneinfo.ZoneInfo(calendar.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise check.error(
                "circulation.calendar.timezone", f"unknown time zone {calendar.timezone!r}"
            ) from None
    if not calendar.closed_weekdays <= frozenset(range(7)):
        raise check.error("circulation.calendar.closed_weekdays", "days are 0 (Monday) to 6")
    if len(calendar.closed_weekdays) == 7:  # no day would ever be open to fall due on
        raise check.error("circulation.calendar.closed_weekdays", "every day is closed")
    if rules.barcodes.pattern is not None:
        try:
            re.compile(rules.barcodes.pattern)
        except re.error as exc:
            raise check.error("circulation.barcodes.pattern", f"bad pattern: {exc}") from None
    # PRIV-09: a lockout that never triggers or lasts no time lets PINs be guessed.
    check.at_least("circulation.pin_lockout.max_attempts", rules.pin_lockout.max_attempts, 1)
    check.at_least("circulation.pin_lockout.lock_minutes", rules.pin_lockout.lock_minutes, 1)


def _validate_loan_rule(check: _Checker, key: str, rule: LoanRule) -> None:
    check.at_least(f"{key}.loan_days", rule.loan_days, 1)
    check.at_least(f"{key}.renewals", rule.renewals, 0)
    check.at_least(f"{key}.max_loans", rule.max_loans, 0)
    check.at_least(f"{key}.fine_per_day", rule.fine_per_day, 0)
    check.at_least(f"{key}.max_fine", rule.max_fine, 0)
    check.at_least(f"{key}.hold_shelf_days", rule.hold_shelf_days, 1)


def _validate_imports(check: _Checker, imports: ImportSettings) -> None:
    check.matches("imports.marc_holdings_tag", imports.marc_holdings_tag, _MARC_TAG, "3 digits")
    for name in (
        "marc_barcode_subfield",
        "marc_call_number_subfield",
        "marc_location_subfield",
        "marc_media_type_subfield",
        "marc_branch_subfield",
    ):
        value = getattr(imports, name)
        check.matches(f"imports.{name}", value, _MARC_SUBFIELD, "one lowercase letter or digit")
    check.at_least("imports.csv_progress_threshold", imports.csv_progress_threshold, 1)


def _validate_codec(check: _Checker, key: str, codec: TerminalCodecSettings) -> None:
    try:
        encoded = _ASCII_PROBE.encode(codec.encoding, errors="replace")
    except LookupError:
        raise check.error(f"{key}.encoding", f"unknown text encoding {codec.encoding!r}") from None
    # SIP2 framing is ASCII; an encoding that changes ASCII bytes would break every message.
    if encoded != _ASCII_PROBE.encode("ascii"):
        raise check.error(f"{key}.encoding", f"{codec.encoding!r} does not keep ASCII as is")
    delimiter = codec.field_delimiter
    if len(delimiter) != 1 or not delimiter.isascii() or not delimiter.isprintable():
        raise check.error(f"{key}.field_delimiter", f"expected one ASCII sign, got {delimiter!r}")
    if delimiter.isalnum() or delimiter == " ":
        raise check.error(f"{key}.field_delimiter", f"{delimiter!r} can occur inside fields")
    if not codec.due_date_format:
        raise check.error(f"{key}.due_date_format", "must not be empty")


def _validate_sip2(check: _Checker, sip2: Sip2Settings) -> None:
    seen: set[tuple[str, int]] = set()
    for i, listener in enumerate(sip2.listeners):
        key = f"sip2.listeners[{i}]"
        if not 1 <= listener.port <= 65535:
            raise check.error(f"{key}.port", f"must be between 1 and 65535, got {listener.port}")
        if not listener.host:
            raise check.error(f"{key}.host", "must not be empty")
        if (listener.host, listener.port) in seen:
            raise check.error(key, f"{listener.host}:{listener.port} is listed twice")
        seen.add((listener.host, listener.port))
        if listener.tls_cert is not None and listener.tls_key is None:
            raise check.error(f"{key}.tls_key", "needed when tls_cert is set")
        if listener.tls_key is not None and listener.tls_cert is None:
            raise check.error(f"{key}.tls_cert", "needed when tls_key is set")
        plain = listener.tls_cert is None
        if plain and not listener.allow_plaintext and not is_loopback(listener.host):
            raise check.error(
                key, "plain SIP2 off this machine needs tls_cert/tls_key or allow_plaintext = true"
            )
        _validate_codec(check, f"{key}.codec", listener.codec)
        if listener.codec.offline:
            raise check.error(f"{key}.codec.offline", "is set per login, in [sip2.terminals.LOGIN]")
    check.at_least("sip2.idle_timeout_s", sip2.idle_timeout_s, 1)
    check.at_least("sip2.login_timeout_s", sip2.login_timeout_s, 1)
    check.at_least("sip2.message_timeout_s", sip2.message_timeout_s, 1)
    check.at_least("sip2.patron_idle_s", sip2.patron_idle_s, 1)
    check.at_least("sip2.max_sessions", sip2.max_sessions, 1)
    check.at_least("sip2.max_prelogin", sip2.max_prelogin, 1)
    check.at_least("sip2.max_prelogin_per_address", sip2.max_prelogin_per_address, 1)
    check.at_least("sip2.max_failed_logins", sip2.max_failed_logins, 1)
    check.at_least("sip2.shutdown_grace_s", sip2.shutdown_grace_s, 0)
    check.at_least("sip2.workers", sip2.workers, 1)
    if sip2.workers > MAX_SIP2_WORKERS:
        raise check.error("sip2.workers", f"must be at most {MAX_SIP2_WORKERS}, got {sip2.workers}")
    for login, codec in sip2.terminals.items():
        _validate_codec(check, join_key("sip2.terminals", login), codec)
    for name, profile in sip2.profiles.items():
        key = join_key("sip2.profiles", name)
        for i, code in enumerate(profile.extra_fields):
            check.matches(f"{key}.extra_fields[{i}]", code, _FIELD_CODE, "a two-letter field code")


def _validate_metrics(check: _Checker, metrics: MetricsSettings) -> None:
    if metrics.listen is None:
        return
    try:
        host, _ = parse_host_port(metrics.listen)
        check_metrics_address(host, metrics.allow_remote)
    except ValueError as error:
        raise check.error("metrics.listen", str(error)) from None
