"""Logs for journald: one event per line with its level, text or JSON, never personal data."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.config.cli_support import set_option
from tests.ops.support import busy_run, make_instance, personal_values, serve, sip2_port

LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}
TEXT_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?P<level>[A-Z]+) reticent\.\S+ \S")


@pytest.mark.parametrize("form", ["text", "json"])
def test_one_event_per_line_with_a_level_and_nothing_personal(tmp_path: Path, form: str) -> None:
    config = make_instance(tmp_path)
    set_option(config, "format", f'"{form}"')
    served = serve(config, tmp_path)
    try:
        busy_run(sip2_port(config))
    finally:
        assert served.stop() == 0
    lines = served.log_text().splitlines()
    events = []
    for line in lines:
        if form == "json":
            entry = json.loads(line)  # every line is a whole JSON object
            assert entry["logger"].startswith("reticent.")
            events.append((entry["level"], entry["message"], entry))
        else:
            found = TEXT_LINE.match(line)
            assert found is not None, line
            events.append((found.group("level"), line, {}))
    assert {level for level, _, _ in events} <= LEVELS
    messages = [message for _, message, _ in events]
    assert any("login failed" in message for message in messages)
    assert sum("request" in message for message in messages) >= 14
    if form == "json":
        requests = [entry for _, message, entry in events if message == "request"]
        assert {entry["command"] for entry in requests} >= {"93", "63", "11", "09"}
        assert all(isinstance(entry["ms"], float) for entry in requests)
    # PRIV-16, PRIV-03: no PIN, password, patron barcode, name or item id, in either format.
    text = served.log_text()
    for value in personal_values():
        assert value not in text, value
