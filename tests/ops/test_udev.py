"""The udev rules shipped for serial devices: well-formed, and the names the docs promise."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

# One `KEY=="value"`, `KEY+="value"` or `KEY="value"` assignment; ATTRS{name} keys allowed.
ASSIGNMENT = re.compile(r'(?P<key>[A-Z]+(?:\{[a-zA-Z_]+\})?)(?P<op>==|\+=|=)"(?P<value>[^"]*)"')
NAMES = {"reticent-scanner", "reticent-rfid"}


def rules() -> list[dict[str, tuple[str, str]]]:
    text = (resources.files("config") / "udev" / "99-reticent.rules").read_text(encoding="utf-8")
    parsed = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = [part.strip() for part in line.split(",")]
        found = [ASSIGNMENT.fullmatch(part) for part in parts]
        assert all(found), line
        parsed.append({m["key"]: (m["op"], m["value"]) for m in found if m is not None})
    return parsed


def test_every_rule_names_a_tty_for_the_reticent_group_only() -> None:
    assert rules()
    for rule in rules():
        assert rule["SUBSYSTEM"] == ("==", "tty")
        assert re.fullmatch(r"[0-9a-f]{4}", rule["ATTRS{idVendor}"][1])
        assert rule["SYMLINK"][0] == "+=" and rule["SYMLINK"][1] in NAMES
        assert rule["GROUP"] == ("=", "reticent")
        assert rule["MODE"] == ("=", "0660")  # never readable by everyone


def test_the_guide_names_the_same_devices() -> None:
    guide = (Path(__file__).parents[2] / "docs" / "raspberry-pi.md").read_text(encoding="utf-8")
    assert {rule["SYMLINK"][1] for rule in rules()} == NAMES
    for name in NAMES:
        assert f"/dev/{name}" in guide
