"""The privacy self-audit: the live instance checked against the privacy requirements (PRIV-15)."""

from __future__ import annotations

import datetime as dt
import enum
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import verify_chain
from core.errors import KeyFileError
from core.model import Instance, Patron, SipAccount, StaffUser
from core.policy.retention import RetentionRules
from core.policy.secret_rules import (
    DEFAULT_STAFF_RULE,
    DEFAULT_TERMINAL_RULE,
    PasswordRule,
    PinRule,
)
from core.privacy.delivery import print_files
from core.security.keys import require_owner_only
from core.security.network import is_loopback
from core.store.uow import Store

PURGE_MAX_AGE = dt.timedelta(hours=48)  # the retention job runs daily; two days allows one miss
BUILT_IN_PROFILES = ("minimal", "named")


class AuditStatus(enum.StrEnum):
    """The outcome of one check."""

    PASS = "PASS"  # noqa: S105 (an outcome, not a password)
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class AuditItem:
    """One line of the self-audit: requirement id, what was checked, outcome, one-line detail."""

    id: str
    title: str
    status: AuditStatus
    detail: str
    next_step: str = ""  # what to do about a WARN or FAIL, as a command where there is one


@dataclass(frozen=True)
class ListenerFacts:
    """A configured SIP2 listener, as far as transport security goes."""

    host: str
    port: int
    tls_cert: Path | None = None
    allow_plaintext: bool = False
    tls_key: Path | None = None


@dataclass(frozen=True)
class ProfileFacts:
    """A configured SIP2 field profile: its base and the extra fields it sends (PRIV-16)."""

    base: str = "minimal"
    extra_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuditFacts:
    """What the self-audit needs from the configuration (the core never reads it)."""

    key_path: Path
    listeners: tuple[ListenerFacts, ...] = ()
    profiles: Mapping[str, ProfileFacts] = field(default_factory=lambda: MappingProxyType({}))
    retention: RetentionRules | None = None  # None: retention is not configured
    canary_path: Path | None = None
    canary_public_key: Path | None = None  # the privacy officer's public key (PEM file)
    canary_warn_days: int = 14
    smtp_host: str | None = None
    smtp_starttls: bool = True
    print_folder: Path | None = None  # None: no print folder is configured
    print_keep: dt.timedelta = dt.timedelta(hours=48)
    staff_password_rule: PasswordRule = DEFAULT_STAFF_RULE
    terminal_password_rule: PasswordRule = DEFAULT_TERMINAL_RULE
    pin_rule: PinRule = field(default_factory=PinRule)
    store_url: str | None = None  # None: the embedded SQLCipher file
    # SIP2 terminal logins whose patron_pin is not "required" (login -> setting).
    patron_pin: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


def _item(req: str, title: str, status: AuditStatus, detail: str, next_step: str = "") -> AuditItem:
    return AuditItem(req, title, status, detail, next_step)


PURGE_STEP = "run `reticent purge` now; `reticent serve` runs the retention job every day"
CANARY_STEP = (
    "the privacy officer signs a canary: `reticent canary keygen --out KEYFILE "
    "--passphrase-stdin`, then `reticent canary sign --key KEYFILE --valid-days 90 "
    "--passphrase-stdin`, and sets privacy.canary_public_key to KEYFILE.pub"
)
POLICY_STEP = (
    "publish a privacy policy: `reticent policy publish FILE --version V --effective DATE`"
)
STAFF_STEP = "create a staff user: `reticent staff add USER --role admin --password-stdin`"
TERMINAL_STEP = (
    "add a self-check terminal: `reticent sip-account add LOGIN --institution INST --generate`"
)


def instance_created_at(session: Session) -> dt.datetime | None:
    return session.scalar(select(Instance.created_at).where(Instance.id == 1))


P, W, F = AuditStatus.PASS, AuditStatus.WARN, AuditStatus.FAIL


def check_key_file(facts: AuditFacts) -> AuditItem:
    title = "store key file readable by its owner only"
    try:
        mode = stat.S_IMODE(facts.key_path.stat().st_mode)
    except FileNotFoundError:
        return _item("PRIV-08", title, F, f"{facts.key_path} does not exist")
    if mode & 0o077:
        detail = f"{facts.key_path} has mode {mode:04o}"
        return _item("PRIV-08", title, F, detail, f"run `chmod 600 {facts.key_path}`")
    return _item("PRIV-08", title, P, f"mode {mode:04o}")


def check_store_transport(facts: AuditFacts) -> AuditItem:
    title = "shared database reached locally or with a checked certificate"
    if facts.store_url is None:
        return _item("PRIV-08", title, P, "embedded SQLCipher store: no database connection")
    from core.errors import StoreError
    from core.store.postgres import describe, is_local_transport, parse_store_url, transport_problem

    try:
        url = parse_store_url(facts.store_url)
    except StoreError as exc:
        return _item("PRIV-08", title, F, f"store.url: {exc}")
    problem = transport_problem(url)
    if problem is not None:
        return _item("PRIV-08", title, F, problem)
    how = "on this machine" if is_local_transport(url) else "TLS with a checked certificate"
    return _item("PRIV-08", title, P, f"{describe(url)}: {how}")


def check_listeners(facts: AuditFacts) -> AuditItem:
    title = "TLS on every SIP2 listener reachable from the network"
    problems: list[str] = []
    for listener in facts.listeners:
        where = f"{listener.host}:{listener.port}"
        if listener.tls_cert is None:
            if not is_loopback(listener.host):
                problems.append(f"{where} is plain TCP")
        elif not listener.tls_cert.is_file():
            problems.append(f"{where} certificate {listener.tls_cert} is missing")
        if listener.tls_key is not None:
            try:
                require_owner_only(listener.tls_key, "TLS key file")
            except KeyFileError as exc:
                problems.append(f"{where}: {exc}")
    if problems:
        step = "give each listener off this machine tls_cert and tls_key in [[sip2.listeners]]"
        return _item("PRIV-08", title, F, "; ".join(problems), step)
    return _item("PRIV-08", title, P, f"{len(facts.listeners)} listener(s) checked")


def check_retention(session: Session, now: dt.datetime, facts: AuditFacts) -> AuditItem:
    title = "retention rules set and purge run in the last 48 hours"
    if facts.retention is None:
        return _item("PRIV-07", title, F, "no retention rules are configured")
    try:
        from core.privacy.purge import last_purge_at
    except ImportError:
        return _item("PRIV-07", title, F, "retention job not available")
    last = last_purge_at(session)
    if last is None:
        created = instance_created_at(session)
        if created is not None and now - created <= PURGE_MAX_AGE:
            # A new instance has had no daily run yet: nothing is overdue (PRIV-07).
            detail = f"no purge has run yet on this instance, made {created:%Y-%m-%d %H:%M} UTC"
            return _item("PRIV-07", title, W, detail, PURGE_STEP)
        return _item("PRIV-07", title, F, "no purge has run yet", PURGE_STEP)
    if now - last > PURGE_MAX_AGE:
        return _item("PRIV-07", title, F, f"last purge {last:%Y-%m-%d %H:%M} UTC", PURGE_STEP)
    return _item("PRIV-07", title, P, f"last purge {last:%Y-%m-%d %H:%M} UTC")


def check_canary(now: dt.datetime, facts: AuditFacts) -> AuditItem:
    title = "warrant canary signed and fresh"
    try:
        from core.privacy.canary import canary_status
    except ImportError:
        return _item("PRIV-14", title, F, "canary check not available")
    status = canary_status(facts.canary_path, facts.canary_public_key, now, facts.canary_warn_days)
    until = "" if status.expires_at is None else f" until {status.expires_at:%Y-%m-%d}"
    if status.state == "expiring":
        detail = f"expiring{until}: the privacy officer must sign anew"
        return _item("PRIV-14", title, W, detail, CANARY_STEP)
    if status.state == "missing":
        # The guideline says a library "could consider" a canary: having none is a choice.
        detail = "none published (optional; once published it must be kept fresh)"
        return _item("PRIV-14", title, W, detail, CANARY_STEP)
    if status.state != "fresh":
        # A stale or broken canary tells readers an order was served: never a mere warning.
        problem = f": {status.problem}" if status.problem else ""
        return _item("PRIV-14", title, F, f"{status.state}{problem}", CANARY_STEP)
    if facts.canary_public_key is None:
        # Without a pinned key anyone able to write the file could publish a canary.
        return _item("PRIV-14", title, W, f"fresh{until}, but privacy.canary_public_key is not set")
    return _item("PRIV-14", title, P, f"fresh{until}")


def check_audit_chain(session: Session) -> AuditItem:
    title = "audit log hash chain intact"
    report = verify_chain(session)
    if report.first_broken is not None:
        return _item("PRIV-15", title, F, f"broken at event {report.first_broken}: {report.reason}")
    return _item("PRIV-15", title, P, f"{report.events} events verified")


def check_terminal_profiles(session: Session, facts: AuditFacts) -> AuditItem:
    title = "SIP2 terminals see only the minimal fields"
    findings: list[str] = []
    accounts = session.execute(
        select(SipAccount.login, SipAccount.profile)
        .where(SipAccount.enabled.is_(True))
        .order_by(SipAccount.login)
    ).all()
    for login, profile in accounts:
        custom = facts.profiles.get(profile)
        if profile == "named":
            findings.append(f"{login}: profile named (full names)")
        elif custom is not None:
            extra = list(custom.extra_fields)
            if custom.base == "named":
                extra.insert(0, "full names")
            if extra:
                findings.append(f"{login}: profile {profile} sends {', '.join(extra)}")
        elif profile not in BUILT_IN_PROFILES:
            findings.append(f"{login}: unknown profile {profile}")
    if findings:
        return _item("PRIV-16", title, W, "; ".join(findings))
    return _item("PRIV-16", title, P, f"{len(accounts)} terminal(s) on minimal profiles")


def check_terminal_pins(session: Session, facts: AuditFacts) -> AuditItem:
    """PRIV-16: terminals that act for patrons without the patron's PIN in the request."""
    title = "patron PIN asked before a SIP2 terminal acts for a patron"
    accounts = session.scalars(
        select(SipAccount.login).where(SipAccount.enabled.is_(True)).order_by(SipAccount.login)
    ).all()
    findings = [
        f"{login}: patron_pin = {facts.patron_pin[login]}"
        for login in accounts
        if facts.patron_pin.get(login, "required") != "required"
    ]
    if findings:
        return _item("PRIV-16", title, W, "; ".join(findings))
    return _item("PRIV-16", title, P, f"{len(accounts)} terminal(s) require a PIN")


def check_training(session: Session, now: dt.datetime) -> AuditItem:
    title = "staff acknowledged the current privacy training"
    try:
        from core.privacy.training import staff_needing_training
    except ImportError:
        return _item("PRIV-15", title, W, "training check not available")
    names = staff_needing_training(session, now)
    if names:
        detail = "not acknowledged: " + ", ".join(sorted(names))
        return _item("PRIV-15", title, W, detail, "each of them: `reticent staff acknowledge USER`")
    return _item("PRIV-15", title, P, "all active staff acknowledged")


def check_policy(session: Session, now: dt.datetime) -> AuditItem:
    title = "a privacy policy is published"
    try:
        from core.privacy.policy import current_policy
    except ImportError:
        return _item("PRIV-01", title, W, "policy check not available")
    policy = current_policy(session, now)
    if policy is None:
        patrons = session.scalar(select(func.count()).select_from(Patron)) or 0
        if patrons == 0:
            # PRIV-01 asks for the policy at registration: none has happened yet.
            detail = "no policy version in force; publish one before registering patrons"
            return _item("PRIV-01", title, W, detail, POLICY_STEP)
        return _item(
            "PRIV-01", title, F, f"no policy version in force, {patrons} patrons", POLICY_STEP
        )
    return _item("PRIV-01", title, P, f"version {policy.version} in force")


def check_secret_rules(session: Session, facts: AuditFacts) -> AuditItem:
    """Secrets set before the current rules, or under weaker ones (PRIV-09)."""
    title = "passwords and PINs meet the current rules"
    findings: list[str] = []
    staff = session.execute(
        select(StaffUser.username, StaffUser.secret_rule)
        .where(StaffUser.removed_at.is_(None))
        .order_by(StaffUser.username)
    ).all()
    old_staff = [name for name, rule in staff if not facts.staff_password_rule.covers(rule)]
    if old_staff:
        findings.append("staff passwords set before the rule: " + ", ".join(old_staff))
    terminals = session.execute(
        select(SipAccount.login, SipAccount.secret_rule)
        .where(SipAccount.removed_at.is_(None))
        .order_by(SipAccount.login)
    ).all()
    old_terminals = [
        name for name, rule in terminals if not facts.terminal_password_rule.covers(rule)
    ]
    if old_terminals:
        findings.append("terminal passwords set before the rule: " + ", ".join(old_terminals))
    label = facts.pin_rule.label
    old_pins = session.scalar(
        select(func.count())
        .select_from(Patron)
        .where(Patron.pin_hash.is_not(None))
        .where(Patron.pin_rule.is_(None) | (Patron.pin_rule != label))
    )
    if old_pins:
        findings.append(f"{old_pins} patron PIN(s) set under another PIN rule")
    if not facts.pin_rule.refuse_obvious:
        findings.append("[security.pin] refuse_obvious is off: PINs such as 1234 are accepted")
    if findings:
        fix = "; set new ones with `reticent staff passwd` / `reticent sip-account passwd`"
        return _item(
            "PRIV-09", title, W, "; ".join(findings) + (fix if old_staff or old_terminals else "")
        )
    return _item(
        "PRIV-09", title, P, f"{len(staff)} staff, {len(terminals)} terminal(s), PINs under {label}"
    )


def check_print_queue(now: dt.datetime, facts: AuditFacts) -> AuditItem:
    """PRIV-10: printed notices are deleted after their time and readable by the owner only."""
    title = "print files deleted in time and private"
    folder = facts.print_folder
    if folder is None or not folder.exists():
        return _item("PRIV-10", title, P, "no print files")
    problems: list[str] = []
    mode = stat.S_IMODE(folder.stat().st_mode)
    if mode & 0o077:
        problems.append(f"{folder} has mode {mode:04o} (chmod 700)")
    files = print_files(folder)
    for path in files:
        file_mode = stat.S_IMODE(path.stat().st_mode)
        if file_mode & 0o077:
            problems.append(f"{path.name} has mode {file_mode:04o} (chmod 600)")
        modified = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
        if modified < now - facts.print_keep:
            problems.append(f"{path.name} is older than {facts.print_keep} and was not deleted")
    if problems:
        return _item("PRIV-10", title, F, "; ".join(problems))
    return _item("PRIV-10", title, P, f"{len(files)} print file(s), none overdue")


def check_notice_transport(facts: AuditFacts) -> AuditItem:
    title = "notices sent over an encrypted connection"
    host = facts.smtp_host
    if host is None:
        return _item("PRIV-10", title, P, "no mail server: notices go to the print queue")
    if not facts.smtp_starttls and not is_loopback(host):
        return _item("PRIV-10", title, F, f"STARTTLS is off for the remote mail server {host}")
    if not facts.smtp_starttls:
        return _item("PRIV-10", title, P, "STARTTLS off for a relay on this machine")
    return _item("PRIV-10", title, P, "STARTTLS required")


def _store_unavailable(reason: str) -> list[AuditItem]:
    detail = f"store not opened: {reason}"
    return [
        _item("PRIV-07", "retention rules set and purge run in the last 48 hours", F, detail),
        _item("PRIV-15", "audit log hash chain intact", F, detail),
        _item("PRIV-16", "SIP2 terminals see only the minimal fields", F, detail),
        _item("PRIV-15", "staff acknowledged the current privacy training", F, detail),
        _item("PRIV-01", "a privacy policy is published", F, detail),
        _item("PRIV-09", "passwords and PINs meet the current rules", F, detail),
    ]


def run_self_audit(
    store: Store | None, now: dt.datetime, facts: AuditFacts, *, store_error: str = ""
) -> list[AuditItem]:
    """Run every check; with no store (it could not be opened) its checks fail with the reason."""
    items = [check_key_file(facts), check_store_transport(facts), check_listeners(facts)]
    if store is None:
        items.extend(_store_unavailable(store_error or "unknown reason"))
    else:
        with store.read() as uow:
            session = uow.session
            items.extend(
                [
                    check_retention(session, now, facts),
                    check_audit_chain(session),
                    check_terminal_profiles(session, facts),
                    check_terminal_pins(session, facts),
                    check_training(session, now),
                    check_policy(session, now),
                    check_secret_rules(session, facts),
                ]
            )
    items.append(check_canary(now, facts))
    items.append(check_notice_transport(facts))
    items.append(check_print_queue(now, facts))
    return items


def getting_started(session: Session, now: dt.datetime) -> list[str]:
    """What a new instance still lacks to serve: a staff user, a policy, a terminal."""
    from core.privacy.policy import current_policy

    steps: list[str] = []
    staff = select(func.count()).select_from(StaffUser).where(StaffUser.removed_at.is_(None))
    if not session.scalar(staff.where(StaffUser.disabled.is_(False))):
        steps.append(STAFF_STEP)
    if current_policy(session, now) is None:
        steps.append(POLICY_STEP)
    terminals = select(func.count()).select_from(SipAccount).where(SipAccount.enabled.is_(True))
    if not session.scalar(terminals):
        steps.append(TERMINAL_STEP)
    return steps


def next_steps(items: list[AuditItem], started: list[str]) -> list[str]:
    """The audit's next steps: those of failed checks first, then warnings, then setup."""
    steps: list[str] = []
    for status in (F, W):
        for item in items:
            if item.status is status and item.next_step and item.next_step not in steps:
                steps.append(item.next_step)
    steps.extend(step for step in started if step not in steps)
    return steps


def any_failed(items: list[AuditItem]) -> bool:
    return any(item.status is AuditStatus.FAIL for item in items)
