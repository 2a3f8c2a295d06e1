"""`reticent staff|sip-account list|disable|enable|passwd|remove` and password rules (PRIV-09)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config.cli import build_parser
from tests.config.cli_support import new_instance, run

STAFF_PW = "a-long-staff-passphrase"
KIOSK_PW = "a-long-kiosk-password-16+"


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    config = new_instance(tmp_path)
    add = ("staff", "add", "desk", "--role", "circulation", "--password-stdin")
    assert run(config, *add, stdin=STAFF_PW + "\n")[0] == 0
    kiosk = ("sip-account", "add", "kiosk1", "--institution", "main", "--password-stdin")
    assert run(config, *kiosk, stdin=KIOSK_PW + "\n")[0] == 0
    return config


def test_short_secrets_are_refused_with_the_rule(tmp_path: Path) -> None:
    config = new_instance(tmp_path)
    add = ("staff", "add", "root", "--role", "admin", "--password-stdin")
    code, _, err = run(config, *add, stdin="x\n")
    assert code == 1 and "at least 12 characters" in err and err.count("\n") == 1
    kiosk = ("sip-account", "add", "k", "--institution", "main", "--password-stdin")
    code, _, err = run(config, *kiosk, stdin="fifteen-chars!!\n")
    assert code == 1 and "at least 16 characters" in err
    code, out, _ = run(config, "staff", "list")
    assert "(0 staff accounts)" in out


def test_generated_terminal_password_is_printed_once_and_works(tmp_path: Path) -> None:
    config = new_instance(tmp_path)
    code, out, _ = run(config, "sip-account", "add", "k2", "--institution", "main", "--generate")
    assert code == 0
    [password] = re.findall(r"shown once, it is not stored in clear\): (\S+)", out)
    assert len(password) >= 24
    code, listing, _ = run(config, "sip-account", "list")
    assert code == 0 and password not in listing and "k2" in listing
    code, out2, _ = run(config, "sip-account", "passwd", "k2", "--generate")
    [second] = re.findall(r"\): (\S+)", out2)
    assert second != password


def test_list_disable_enable_passwd_remove(instance: Path) -> None:
    code, out, _ = run(instance, "staff", "list")
    assert code == 0 and re.search(r"desk\s+circulation\s+enabled", out)
    assert STAFF_PW not in out and "argon2" not in out
    assert run(instance, "staff", "disable", "desk")[0] == 0
    code, out, _ = run(instance, "staff", "list")
    assert re.search(r"desk\s+circulation\s+disabled", out)
    code, out, _ = run(instance, "staff", "enable", "desk")
    assert code == 0 and "enabled" in out
    code, _, err = run(instance, "staff", "passwd", "desk", "--password-stdin", stdin="short\n")
    assert code == 1 and "at least 12" in err
    new_pw = "another-long-passphrase"
    code, out, _ = run(instance, "staff", "passwd", "desk", "--password-stdin", stdin=new_pw + "\n")
    assert code == 0 and new_pw not in out
    assert run(instance, "staff", "remove", "desk")[0] == 0
    code, out, _ = run(instance, "staff", "list")
    assert re.search(r"desk\s+circulation\s+removed", out)
    code, _, err = run(instance, "staff", "disable", "desk")
    assert code == 1 and "no staff user 'desk'" in err
    add = ("staff", "add", "desk", "--role", "admin", "--password-stdin")
    code, _, err = run(instance, *add, stdin=STAFF_PW + "\n")
    assert code == 1 and "not reused" in err

    assert run(instance, "sip-account", "disable", "kiosk1")[0] == 0
    code, out, _ = run(instance, "sip-account", "list")
    assert re.search(r"kiosk1\s+main\s+main\s+minimal\s+disabled", out) and KIOSK_PW not in out
    assert run(instance, "sip-account", "enable", "kiosk1")[0] == 0
    assert run(instance, "sip-account", "remove", "kiosk1")[0] == 0
    code, out, _ = run(instance, "sip-account", "list")
    assert re.search(r"kiosk1 .* removed", out)

    code, out, _ = run(instance, "audit", "verify")
    assert code == 0 and "intact" in out


def test_every_command_takes_config_after_its_name() -> None:
    """`--config` is accepted wherever it is put, for every command (README)."""
    parser = build_parser()
    leaves: list[str] = []

    def walk(p: object, path: list[str]) -> None:
        import argparse

        assert isinstance(p, argparse.ArgumentParser)
        subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            assert "--config" in p._option_string_actions, " ".join(path)
            leaves.append(" ".join(path))
        for action in subs:
            for name, child in action.choices.items():
                walk(child, [*path, name])

    walk(parser, [])
    assert "staff passwd" in leaves and "audit verify" in leaves and len(leaves) > 40


def test_config_after_the_subcommand_is_used(instance: Path) -> None:
    code, out, err = run(None, "audit", "verify", "--config", str(instance))
    assert code == 0 and "intact" in out, err
    code, out, _ = run(None, "staff", "--config", str(instance), "list")
    assert code == 0 and "desk" in out
