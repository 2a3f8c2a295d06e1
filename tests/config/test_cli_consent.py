"""The policy, consent, export-patron, staff acknowledge and inventory commands (PRIV-01..05)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.privacy.inventory import render_inventory
from tests.config.cli_support import new_instance, run

PATRONS = """barcode,given_name,family_name,category,expires_on,pin,email,phone
P1,Ada,Lovelace,adult,2030-01-01,zyx-8642-pin,,
"""


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    config = new_instance(tmp_path)
    patrons = tmp_path / "p.csv"
    patrons.write_text(PATRONS)
    assert run(config, "import", "patrons", str(patrons))[0] == 0
    return config


def test_policy_publish_status_and_acknowledge(instance: Path, tmp_path: Path) -> None:
    text = tmp_path / "policy.txt"
    text.write_text("We keep as little as we can.\n")
    code, out, _ = run(instance, "policy", "status")
    assert code == 0 and "no privacy policy in force" in out
    code, out, _ = run(
        instance, "policy", "publish", str(text), "--version", "2026-1", "--effective", "2026-03-01"
    )
    assert code == 0 and "published policy 2026-1" in out
    code, _, err = run(
        instance, "policy", "publish", str(text), "--version", "2026-1", "--effective", "2026-03-01"
    )
    assert code == 1 and "already published" in err
    code, out, _ = run(instance, "policy", "status")
    assert "patrons still to ack.    1" in out
    code, out, _ = run(instance, "policy", "acknowledge", "P1", "--channel", "desk")
    assert code == 0 and "2026-1" in out
    code, out, _ = run(instance, "policy", "status")
    assert "patrons acknowledged     1" in out and "patrons still to ack.    0" in out


def test_consent_grant_show_withdraw(instance: Path) -> None:
    code, out, _ = run(instance, "consent", "grant", "P1", "checkout_history")
    assert code == 0 and "granted" in out
    code, out, _ = run(instance, "consent", "show", "P1")
    assert code == 0 and "checkout_history  since" in out and "(desk, policy -)" in out
    code, out, _ = run(
        instance, "consent", "withdraw", "P1", "checkout_history", "--channel", "web"
    )
    assert code == 0 and "withdrawn; 0 records" in out
    code, out, _ = run(instance, "consent", "show", "P1")
    assert "consents given:\n  none" in out and "withdrawn  checkout_history  (web" in out
    code, _, err = run(instance, "consent", "grant", "P1", "everything")
    assert code == 1 and "unknown consent kind" in err


def test_staff_training_and_export_as_the_privacy_officer(instance: Path, tmp_path: Path) -> None:
    assert (
        run(
            instance,
            "staff",
            "add",
            "pia",
            "--role",
            "privacy_officer",
            "--password-stdin",
            stdin="officer-secret\n",
        )[0]
        == 0
    )
    text = tmp_path / "policy.txt"
    text.write_text("policy\n")
    assert (
        run(
            instance, "policy", "publish", str(text), "--version", "1", "--effective", "2026-01-01"
        )[0]
        == 0
    )
    export = ("export-patron", "P1", "--as", "pia", "--password-stdin", "--format", "json")
    code, _, err = run(instance, *export, stdin="officer-secret\n")
    assert code == 1 and "training acknowledgement required" in err
    code, _, err = run(instance, *export, stdin="wrong\n")
    assert code == 1 and "not accepted" in err
    code, out, _ = run(instance, "staff", "acknowledge", "pia")
    assert code == 0 and "version 1" in out
    code, out, _ = run(instance, *export, stdin="officer-secret\n")
    assert code == 0
    document = json.loads(out)
    assert {t["table"] for t in document["tables"]} >= {"patrons", "consents", "audit_events"}
    assert "zyx-8642-pin" not in out and "$argon2" not in out and "pin_hash" not in out
    code, out, _ = run(instance, *export[:-1], "text", stdin="officer-secret\n")
    assert code == 0 and "Lovelace" in out and "zyx-8642-pin" not in out


def test_export_is_refused_to_a_circulation_user(instance: Path) -> None:
    add = ("staff", "add", "cora", "--role", "circulation", "--password-stdin")
    run(instance, *add, stdin="cora-password\n")
    code, out, err = run(
        instance, "export-patron", "P1", "--as", "cora", "--password-stdin", stdin="cora-password\n"
    )
    assert code == 1 and "not permitted: export_patron" in err and out == ""


def test_inventory_prints_and_writes(tmp_path: Path) -> None:
    code, out, _ = run(None, "inventory")
    assert code == 0 and out == render_inventory()
    target = tmp_path / "inventory.txt"
    code, _, _ = run(None, "inventory", "--write", str(target))
    assert code == 0 and target.read_text() == render_inventory()
