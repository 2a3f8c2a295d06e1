"""The commented `reticent.toml` that `reticent init` writes, generated from the defaults."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from config.settings import Argon2Settings, LibrarySettings, Settings
from config.settings_devices import DEVICES_TEMPLATE
from core.policy.rules import LoanRule
from core.policy.secret_rules import PinRule

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

_LINE_LENGTH = 96
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}

_HEADER = """\
# reticent.toml: the configuration of this reticent appliance.
#
# Lines starting with "# " explain. Lines starting with "#" followed directly by a setting are
# examples: remove the "#" to use them. A setting left out keeps the value shown here.
# Relative paths are taken from the folder holding this file.
# The database key is never written here: it lives in its own file (PRIV-08).
"""


def render_config(
    data_dir: Path, *, library_name: str = LibrarySettings().name, pin: PinRule | None = None
) -> str:
    """Return the text of a commented configuration file that loads back to the defaults.

    `data_dir` is written as given; a relative one is taken from the file's folder. `pin`
    replaces the default PIN rule (the demo allows its simple PIN that way).
    """
    defaults = Settings()
    if pin is not None:
        defaults = dataclasses.replace(
            defaults, security=dataclasses.replace(defaults.security, pin=pin)
        )
    parts = [
        _HEADER,
        "# Folder for the encrypted database, its key file and backups.",
        f"data_dir = {_value(str(data_dir))}",
        "",
        _library(dataclasses.replace(defaults.library, name=library_name)),
        _store(defaults),
        _circulation(defaults),
        _security(defaults),
        _imports(defaults),
        _sip2(defaults),
        _logging(defaults),
        _generic("metrics", defaults.metrics),
        _generic("retention", defaults.retention),
        _generic("privacy", defaults.privacy),
        _generic("notices", defaults.notices),
        DEVICES_TEMPLATE,
        _generic("station", defaults.station),
    ]
    return "\n".join(parts)


def _value(value: object) -> str:
    """Write one value as TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        text = "".join(_escape(char) for char in str(value))
        return f'"{text}"'
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, frozenset):
        return _value(tuple(sorted(value)))
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _assign(name: str, value: object) -> str:
    """Write `name = value`, one array item per line when the line would be long."""
    line = f"{_key(name)} = {_value(value)}"
    if len(line) <= _LINE_LENGTH or not isinstance(value, tuple):
        return line
    items = " ".join(f"{_value(item)}," for item in value)
    wrapped = textwrap.wrap(items, _LINE_LENGTH - 4, break_long_words=False)
    return "\n".join([f"{_key(name)} = [", *(f"    {part}" for part in wrapped), "]"])


def _escape(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    if ord(char) < 0x20 or ord(char) == 0x7F:
        return f"\\u{ord(char):04x}"
    return char


def _key(name: str) -> str:
    return name if _BARE_KEY.fullmatch(name) else _value(name)


def _settings_of(
    instance: DataclassInstance,
    comments: Mapping[str, str],
    *,
    skip: str = "",
    skip_types: tuple[type, ...] = (),
) -> list[str]:
    """Write a dataclass's fields as `key = value`, each after its comment, leaving out None
    (and values of `skip_types`: tables written as sections of their own)."""
    lines: list[str] = []
    for f in dataclasses.fields(instance):
        value = getattr(instance, f.name)
        if f.name == skip or value is None or isinstance(value, skip_types):
            continue
        if f.name in comments:
            lines.extend(f"# {line}" for line in comments[f.name].splitlines())
        lines.append(_assign(f.name, getattr(instance, f.name)))
    return lines


def _generic(title: str, instance: DataclassInstance) -> str:
    """A flat section rendered from its dataclass: docstring as heading, `COMMENTS` per key."""
    comments: Mapping[str, str] = getattr(instance, "COMMENTS", {})
    doc = (type(instance).__doc__ or "").strip().splitlines()[0]
    lines = _settings_of(instance, comments)
    # Settings that are off by default are shown as examples (`EXAMPLES`), so they can be found.
    examples: Mapping[str, str] = getattr(instance, "EXAMPLES", {})
    for f in dataclasses.fields(instance):
        if getattr(instance, f.name) is None:
            lines.extend(f"# {line}" for line in comments.get(f.name, "").splitlines())
            lines.append(f"#{f.name} = {_value(examples.get(f.name, f'/etc/reticent/{f.name}'))}")
    return _section(title, doc, lines)


def _section(title: str, comment: str, lines: list[str]) -> str:
    head = [f"# {line}" if line else "#" for line in comment.splitlines()] if comment else []
    return "\n".join([*head, f"[{title}]", *lines, ""])


def _library(library: LibrarySettings) -> str:
    return _section(
        "library",
        "Who the library is.",
        _settings_of(
            library,
            {
                "name": "Shown on staff screens and the kiosk.",
                "institution_id": "Institution id (SIP2 field AO) your terminals are set up with.",
                "currency": "ISO 4217 code of the currency of fines and fees.",
                "contact": "Where patrons can ask for help; shown on kiosk screens.",
                "language": "SIP2 language code of messages sent to terminals; 001 is English.",
            },
        ),
    )


def _store(defaults: Settings) -> str:
    store = defaults.store
    return _section(
        "store",
        "The database.",
        [
            "# The database is normally an encrypted file in data_dir. To share one PostgreSQL",
            "# database between branches, give its address instead (off this machine TLS with",
            "# a checked certificate is required), and the file holding its password:",
            '#url = "postgresql+psycopg://reticent@db.example.org/reticent'
            '?sslmode=verify-full&sslrootcert=/etc/reticent/db-ca.crt"',
            '#password_file = "/etc/reticent/db.password"',
            "# Other places for the database file and its key file (default: inside data_dir):",
            '#database = "/srv/reticent/reticent.db"',
            '#key_file = "/etc/reticent/reticent.key"',
            "# How long one writer waits for another, in milliseconds.",
            f"busy_timeout_ms = {_value(store.busy_timeout_ms)}",
            '# "FULL" survives power cuts; "NORMAL" is faster but a power cut may lose the',
            "# last few seconds of work.",
            f"synchronous = {_value(store.synchronous)}",
        ],
    )


def _circulation(defaults: Settings) -> str:
    rules = defaults.circulation
    built_in = ", ".join(
        _assign(f.name, getattr(LoanRule(), f.name)) for f in dataclasses.fields(LoanRule)
    )
    parts = [
        _section(
            "circulation",
            "Circulation rules.",
            [
                "# Patron categories, media types and branches the rules below may name.",
                _assign("categories", rules.categories),
                _assign("media_types", rules.media_types),
                _assign("branches", rules.branches),
            ],
        ),
        _section(
            "circulation.default",
            (
                "The rule for a category and media type not listed under circulation.rules.\n"
                "loan_days: length of a loan; renewals: how often it may be renewed;\n"
                "max_loans: most items of this media type out at once; fine_per_day: per open day\n"
                "late and max_fine: per loan, both in the currency's smallest unit (cents);\n"
                "hold_shelf_days: how long a held item waits for its patron."
            ),
            _settings_of(rules.default, {}),
        ),
    ]
    comment = "\n".join(
        textwrap.wrap(
            "Rules per patron category and media type. Giving any category here replaces all the "
            "built-in rules, so keep every line you still want. A key left out of a line takes "
            f"its built-in value: {built_in}.",
            _LINE_LENGTH - 2,
        )
    )
    for i, (category, by_media) in enumerate(rules.rules.items()):
        lines = _rule_table(by_media)
        parts.append(
            _section(f"circulation.rules.{_key(category)}", comment if i == 0 else "", lines)
        )
    parts += [
        _section(
            "circulation.limits",
            "Above these a patron cannot borrow until it is settled.",
            _settings_of(
                rules.limits,
                {
                    "max_loans": "Items out at once, all media types together.",
                    "max_overdue": "Overdue items.",
                    "max_fees": "Unpaid fees, in the currency's smallest unit (cents).",
                },
            ),
        ),
        _section(
            "circulation.calendar",
            "When the library is closed.",
            [
                '# Time zone of the library, a name such as "America/Chicago".',
                f"timezone = {_value(rules.calendar.timezone)}",
                "# Days closed every week: 0 is Monday ... 6 is Sunday.",
                f"closed_weekdays = {_value(rules.calendar.closed_weekdays)}",
                "# Other closed days, e.g. [2025-12-25, 2026-01-01]. Nothing falls due on a closed",
                "# day and fines do not run.",
                f"closed_dates = {_value(rules.calendar.closed_dates)}",
            ],
        ),
        _section(
            "circulation.barcodes",
            "Barcode checks; by default any text is a barcode.",
            [
                "# A regular expression every barcode must match in full:",
                '#pattern = "[0-9]{14}"',
                "# Require the 14-digit library check digit:",
                f"luhn = {_value(rules.barcodes.luhn)}",
            ],
        ),
        _section(
            "circulation.pin_lockout",
            "Failed PIN attempts lock a patron (PRIV-09).",
            _settings_of(
                rules.pin_lockout,
                {
                    "max_attempts": "Failed attempts before the lock.",
                    "lock_minutes": "How long the lock lasts.",
                },
            ),
        ),
    ]
    return "\n".join(parts)


def _rule_table(by_media: Mapping[str, LoanRule]) -> list[str]:
    """Write one inline table per media type, aligned in columns so they read as a table."""
    names = {name: _key(name) for name in by_media}
    cells = {
        name: [f"{f.name} = {_value(getattr(rule, f.name))}" for f in dataclasses.fields(rule)]
        for name, rule in by_media.items()
    }
    widths = [
        max(len(row[col]) for row in cells.values())
        for col in range(len(dataclasses.fields(LoanRule)))
    ]
    name_width = max(len(key) for key in names.values())
    lines = []
    for name, row in cells.items():
        padded = [f"{cell},".ljust(width + 1) for cell, width in zip(row, widths, strict=True)]
        lines.append(f"{names[name]:<{name_width}} = {{ {' '.join(padded)[:-1].rstrip()} }}")
    return lines


def _security(defaults: Settings) -> str:
    security = defaults.security
    rules = _section(
        "security",
        "What new secrets must be (PRIV-09). Secrets set before a stricter rule are named by\n"
        "`reticent privacy audit`.",
        _settings_of(
            security,
            {
                "staff_password_min_length": "Shortest staff password accepted.",
                "terminal_password_min_length": (
                    "Shortest SIP2 terminal password accepted; `reticent sip-account add\n"
                    "--generate` makes one for you."
                ),
            },
            skip_types=(PinRule, Argon2Settings),
        ),
    )
    pin_comment = "What a patron's PIN may be, wherever it is set or imported."
    if not security.pin.refuse_obvious:
        pin_comment += (
            "\nThis demo instance allows obvious PINs for its demo PIN 1234; a library's own\n"
            "instance keeps refuse_obvious = true (`reticent privacy audit` warns otherwise)."
        )
    pin = _section(
        "security.pin",
        pin_comment,
        _settings_of(
            security.pin,
            {
                "min_length": "Shortest PIN (at least 4).",
                "max_length": "Longest PIN.",
                "digits_only": "Only digits, for terminals whose PIN pads have nothing else.",
                "refuse_obvious": "Refuse one repeated digit (0000) and runs (1234, 9876).",
            },
        ),
    )
    argon2 = _section(
        "security.argon2",
        (
            "Cost of hashing PINs and staff passwords with argon2id (PRIV-09). Higher values make\n"
            "guessing harder and logins slower; stored hashes are updated at the next login."
        ),
        _settings_of(security.argon2, {}),
    )
    return "\n".join([rules, pin, argon2])


def _imports(defaults: Settings) -> str:
    return _section(
        "imports",
        "Catalogue and patron imports.",
        _settings_of(
            defaults.imports,
            {
                "marc_holdings_tag": "MARC field holding one item each, and its subfields.",
                "csv_progress_threshold": "Larger CSV imports report their progress.",
            },
        ),
    )


def _sip2(defaults: Settings) -> str:
    sip2 = defaults.sip2
    general = _section(
        "sip2",
        "Self-check terminals, book drops and sorters (SIP2).",
        [
            "# Seconds of silence after which a terminal's connection is closed.",
            f"idle_timeout_s = {_value(sip2.idle_timeout_s)}",
            "# Seconds a new connection has to log in, and a message to arrive whole.",
            f"login_timeout_s = {_value(sip2.login_timeout_s)}",
            f"message_timeout_s = {_value(sip2.message_timeout_s)}",
            "# Connections open at once. (Messages longer than 8192 bytes are always refused.)",
            f"max_sessions = {_value(sip2.max_sessions)}",
            "# Connections not logged in yet, in all and per address; over either, the oldest",
            "# of them is closed, so a new kiosk can always log in.",
            f"max_prelogin = {_value(sip2.max_prelogin)}",
            f"max_prelogin_per_address = {_value(sip2.max_prelogin_per_address)}",
            "# Seconds without a request after which a patron's verified PIN is forgotten.",
            f"patron_idle_s = {_value(sip2.patron_idle_s)}",
            "# Answer a status request (99) before a terminal logs in; some kiosks need it.",
            f"status_before_login = {_value(sip2.status_before_login)}",
            "# Failed terminal logins before the connection is closed.",
            f"max_failed_logins = {_value(sip2.max_failed_logins)}",
            "# Seconds open connections get to finish when the server stops.",
            f"shutdown_grace_s = {_value(sip2.shutdown_grace_s)}",
            "# Processes answering terminals, all on the same ports. More than 1 uses more CPU",
            "# cores; each gets an equal share of max_sessions. At most the number of cores.",
            f"workers = {_value(sip2.workers)}",
        ],
    )
    listeners = [
        "# Each [[sip2.listeners]] block is one address and port. SIP2 carries PINs, so plain",
        "# (unencrypted) SIP2 is allowed only on this machine (127.0.0.1) unless",
        "# allow_plaintext = true; terminals on the network should use TLS (PRIV-08).",
    ]
    codec_help = (
        "How the listener's terminals encode and frame messages. encoding: text encoding;\n"
        'terminator: "CR", "LF" or "CRLF"; field_delimiter: between fields; error_detection:\n'
        'sequence numbers and checksums "off", "accept" (checked when sent) or "require";\n'
        'due_date_format: "sip2" is the standard form.'
    )
    for listener in sip2.listeners:
        codec = _settings_of(listener.codec, {})
        listeners += [
            "[[sip2.listeners]]",
            *_settings_of(listener, {}, skip="codec"),
            "",
            _section("sip2.listeners.codec", codec_help, codec),
        ]
    examples = [
        "# A TLS listener for terminals on the network:",
        "#[[sip2.listeners]]",
        '#host = "0.0.0.0"',
        "#port = 6443",
        '#tls_cert = "/etc/reticent/sip2.crt"',
        '#tls_key = "/etc/reticent/sip2.key"',
        "",
        "# A different codec for one terminal login (the SIP2 login user id):",
        "#[sip2.terminals.kiosk-lobby]",
        '#encoding = "utf-8"',
        '#terminator = "CRLF"',
        '#error_detection = "require"',
        "# Record checkouts this terminal made while offline (SIP2 no block); lost or expired",
        "# cards, items held for someone else and withdrawn items are still refused.",
        "#offline = true",
        "",
        "# Terminals that act for patrons without their PIN in the request (PRIV-16). Every",
        '# login not listed is "required": 11, 29, 65, 15 and 37 need the patron\'s PIN in the',
        '# request; "session": in the request or earlier in the same SIP2 session for the',
        '# same patron; "not_required": no PIN (`reticent privacy audit` reports these).',
        "#[sip2.patron_pin]",
        '#kiosk-lobby = "session"',
        "",
        "# A custom field profile: what terminals using it are told, as a built-in base",
        '# ("minimal" or "named") plus extra two-letter SIP2 field codes (PRIV-16).',
        "#[sip2.profiles.sorter]",
        '#base = "minimal"',
        '#extra_fields = ["CK", "CH"]',
        '#note = "book return sorter: media type and item properties pick the bin"',
        "",
    ]
    return "\n".join([general, *listeners, *examples])


def _logging(defaults: Settings) -> str:
    return _section(
        "logging",
        "Logs never hold PINs or link a patron to an item (PRIV-16).",
        _settings_of(
            defaults.logging,
            {
                "level": '"DEBUG", "INFO", "WARNING" or "ERROR".',
                "format": '"text", or "json" for one JSON object per line (log collectors).',
            },
        ),
    )
