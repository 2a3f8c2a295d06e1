"""The privacy self-audit on a well-kept instance and on deliberately bad ones (PRIV-15)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import update

from core.audit import append_event
from core.model import AuditEvent, Patron, SipAccount
from core.policy.retention import RetentionRules
from core.policy.secret_rules import PasswordRule, PinRule
from core.privacy.canary import generate_keypair, load_private_key, sign_canary
from core.privacy.policy import publish_policy
from core.privacy.purge import purge
from core.privacy.selfaudit import (
    POLICY_STEP,
    STAFF_STEP,
    TERMINAL_STEP,
    AuditFacts,
    AuditItem,
    AuditStatus,
    ListenerFacts,
    ProfileFacts,
    any_failed,
    getting_started,
    run_self_audit,
)
from core.services.accounts import add_staff, remove_staff
from core.services.actors import local_admin
from core.store.open import StoreOptions
from core.store.uow import Store
from tests.conftest import NOW, add_patron

ADMIN = local_admin()
PASSPHRASE = "correct horse battery staple"


def by_title(items: list[AuditItem], words: str) -> AuditItem:
    (found,) = [item for item in items if words in item.title]
    return found


@pytest.fixture
def good(store: Store, store_options: StoreOptions, tmp_path: Path) -> AuditFacts:
    """An instance that passes: policy, recent purge, pinned fresh canary, TLS off loopback."""
    with store.write() as uow:
        publish_policy(uow, ADMIN, NOW, "We keep little.", "2026-1", NOW.date())
    purge(store, NOW - dt.timedelta(hours=3), RetentionRules())
    keys = generate_keypair(PASSPHRASE)
    canary = sign_canary(
        load_private_key(keys.private_pem, PASSPHRASE), "No secret orders.", NOW, 90
    )
    (tmp_path / "canary.json").write_text(canary.to_json(), encoding="utf-8")
    (tmp_path / "canary.pub").write_bytes(keys.public_pem)
    cert = tmp_path / "sip.crt"
    cert.write_text("certificate")
    return AuditFacts(
        key_path=store_options.key_file,
        listeners=(
            ListenerFacts("127.0.0.1", 6001),
            ListenerFacts("0.0.0.0", 6443, tls_cert=cert),
        ),
        profiles={"plain": ProfileFacts()},
        retention=RetentionRules(),
        canary_path=tmp_path / "canary.json",
        canary_public_key=tmp_path / "canary.pub",
        smtp_host="mail.example.org",
    )


def test_a_well_kept_instance_passes(store: Store, good: AuditFacts) -> None:
    items = run_self_audit(store, NOW, good)
    assert [(i.id, i.status) for i in items if i.status is not AuditStatus.PASS] == []
    assert not any_failed(items)
    assert {i.id for i in items} >= {
        "PRIV-01",
        "PRIV-07",
        "PRIV-08",
        "PRIV-14",
        "PRIV-15",
        "PRIV-16",
    }
    assert all(i.detail and "\n" not in i.detail for i in items)


def test_a_key_file_readable_by_others_fails(
    store: Store, good: AuditFacts, store_options: StoreOptions
) -> None:
    store_options.key_file.chmod(0o644)
    items = run_self_audit(store, NOW, good)
    key = by_title(items, "key file")
    assert (key.id, key.status) == ("PRIV-08", AuditStatus.FAIL)
    assert "0644" in key.detail
    assert any_failed(items)


def test_plain_sip2_off_the_machine_fails(store: Store, good: AuditFacts, tmp_path: Path) -> None:
    facts = dataclasses.replace(
        good,
        listeners=(
            ListenerFacts("192.0.2.10", 6001, allow_plaintext=True),
            ListenerFacts("::1", 6002),
            ListenerFacts("0.0.0.0", 6443, tls_cert=tmp_path / "gone.crt"),
        ),
    )
    item = by_title(run_self_audit(store, NOW, facts), "TLS")
    assert item.status is AuditStatus.FAIL
    assert "192.0.2.10:6001 is plain TCP" in item.detail and "gone.crt" in item.detail
    assert "6002" not in item.detail


def test_terminals_with_extra_fields_are_named(store: Store, good: AuditFacts) -> None:
    facts = dataclasses.replace(
        good,
        profiles={"bookdrop": ProfileFacts(extra_fields=("BE", "BF")), "plain": ProfileFacts()},
    )
    with store.write() as uow:
        for login, profile in (("kiosk1", "named"), ("drop1", "bookdrop"), ("kiosk2", "plain")):
            uow.session.add(
                SipAccount(
                    login=login,
                    password_hash="x",
                    institution_id="main",
                    profile=profile,
                    created_at=NOW,
                )
            )
    item = by_title(run_self_audit(store, NOW, facts), "terminals")
    assert item.status is AuditStatus.WARN
    assert (
        "kiosk1: profile named" in item.detail
        and "drop1: profile bookdrop sends BE, BF" in item.detail
    )
    assert "kiosk2" not in item.detail


def test_a_neglected_instance_fails_each_check(store: Store, good: AuditFacts) -> None:
    """No recent purge, stale canary, edited audit log, untrained staff, unpinned canary."""
    with store.write() as uow:
        add_staff(uow, ADMIN, NOW, "sam", "circulation", "hash")
        append_event(uow.session, now=NOW, actor="x", action="test", subject=None, detail={"n": 1})
        uow.session.execute(update(AuditEvent).where(AuditEvent.id == 2).values(detail='{"n":2}'))
    later = NOW + dt.timedelta(days=120)
    items = run_self_audit(store, later, dataclasses.replace(good, canary_public_key=None))
    statuses = {i.title.split()[0]: (i.status, i.detail) for i in items}
    assert statuses["retention"][0] is AuditStatus.FAIL and "last purge" in statuses["retention"][1]
    assert statuses["warrant"][0] is AuditStatus.FAIL and statuses["warrant"][1].startswith("stale")
    assert statuses["audit"][0] is AuditStatus.FAIL and "event 2" in statuses["audit"][1]
    assert statuses["staff"] == (AuditStatus.WARN, "not acknowledged: sam")


def test_a_fresh_instance_warns_and_a_neglected_one_fails(
    store: Store, store_options: StoreOptions
) -> None:
    """No purge yet, no policy, no canary: WARN on a new instance, FAIL once they are due."""
    facts = AuditFacts(key_path=store_options.key_file)
    items = run_self_audit(store, NOW, facts)
    assert by_title(items, "retention").detail == "no retention rules are configured"
    with_rules = dataclasses.replace(facts, retention=RetentionRules())
    items = run_self_audit(store, NOW + dt.timedelta(hours=47), with_rules)
    assert not any_failed(items), [i for i in items if i.status is AuditStatus.FAIL]
    retention = by_title(items, "retention")
    assert retention.status is AuditStatus.WARN and "no purge has run yet" in retention.detail
    assert "reticent purge" in retention.next_step
    policy = by_title(items, "policy")
    assert policy.status is AuditStatus.WARN and "policy publish" in policy.next_step
    canary = by_title(items, "canary")
    assert canary.status is AuditStatus.WARN and "canary keygen" in canary.next_step
    with store.read() as uow:
        assert getting_started(uow.session, NOW) == [STAFF_STEP, POLICY_STEP, TERMINAL_STEP]

    add_patron(store, "P1")  # registration began: the policy is now missing for someone
    items = run_self_audit(store, NOW + dt.timedelta(hours=49), with_rules)
    assert by_title(items, "retention").status is AuditStatus.FAIL
    assert by_title(items, "policy").status is AuditStatus.FAIL
    assert by_title(items, "canary").status is AuditStatus.WARN  # optional, still


def test_a_fresh_canary_without_a_pinned_key_warns(store: Store, good: AuditFacts) -> None:
    item = by_title(
        run_self_audit(store, NOW, dataclasses.replace(good, canary_public_key=None)), "canary"
    )
    assert item.status is AuditStatus.WARN and "canary_public_key is not set" in item.detail


def test_without_a_store_the_store_checks_fail(store_options: StoreOptions) -> None:
    facts = AuditFacts(key_path=store_options.key_file)
    items = run_self_audit(None, NOW, facts, store_error="key file refused")
    assert by_title(items, "audit log").detail == "store not opened: key file refused"
    assert by_title(items, "key file").status is AuditStatus.FAIL  # it does not exist


def test_unencrypted_remote_mail_fails(store: Store, good: AuditFacts) -> None:
    remote = dataclasses.replace(good, smtp_starttls=False)
    local = dataclasses.replace(good, smtp_host="127.0.0.1", smtp_starttls=False)
    assert by_title(run_self_audit(store, NOW, remote), "notices").status is AuditStatus.FAIL
    assert by_title(run_self_audit(store, NOW, local), "notices").status is AuditStatus.PASS


def test_secrets_set_before_the_rules_are_named(store: Store, good: AuditFacts) -> None:
    """PRIV-09: a secret records the rule it was set under; older or weaker ones are named."""
    with store.write() as uow:
        add_staff(uow, ADMIN, NOW, "old", "circulation", "hash")  # before rules: no label
        add_staff(uow, ADMIN, NOW, "new", "circulation", "hash", secret_rule="min12")
        add_staff(uow, ADMIN, NOW, "long", "circulation", "hash", secret_rule="min20")
    add_patron(store, "P1", pin="4821")
    item = by_title(run_self_audit(store, NOW, good), "passwords and PINs")
    assert item.status is AuditStatus.WARN and item.id == "PRIV-09"
    assert "staff passwords set before the rule: old;" in item.detail
    assert "1 patron PIN(s) set under another PIN rule" in item.detail
    assert "new" not in item.detail.split(";")[0].split(":")[1]
    stricter = dataclasses.replace(good, staff_password_rule=PasswordRule(16))
    item = by_title(run_self_audit(store, NOW, stricter), "passwords and PINs")
    assert "set before the rule: new, old;" in item.detail  # min20 still meets 16
    with store.write() as uow:
        uow.session.execute(update(Patron).values(pin_rule=PinRule().label))
        remove_staff(uow, ADMIN, NOW, "old")
    item = by_title(run_self_audit(store, NOW, good), "passwords and PINs")
    assert item.status is AuditStatus.PASS, item.detail
    lax = dataclasses.replace(good, pin_rule=PinRule(refuse_obvious=False))
    item = by_title(run_self_audit(store, NOW, lax), "passwords and PINs")
    assert item.status is AuditStatus.WARN and "refuse_obvious is off" in item.detail


def test_terminals_that_do_not_require_a_pin_are_reported(store: Store, good: AuditFacts) -> None:
    with store.write() as uow:
        for login in ("kiosk1", "drop1", "lobby"):
            uow.session.add(
                SipAccount(login=login, password_hash="x", institution_id="main", created_at=NOW)
            )
    before = by_title(run_self_audit(store, NOW, good), "patron PIN")
    assert before.status is AuditStatus.PASS and "3 terminal(s)" in before.detail
    facts = dataclasses.replace(
        good, patron_pin={"drop1": "not_required", "lobby": "session", "kiosk1": "required"}
    )
    item = by_title(run_self_audit(store, NOW, facts), "patron PIN")
    assert item.status is AuditStatus.WARN  # PRIV-16
    assert "drop1: patron_pin = not_required" in item.detail
    assert "lobby: patron_pin = session" in item.detail
    assert "kiosk1" not in item.detail
