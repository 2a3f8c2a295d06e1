"""The reader simulators' console: placing, lifting and failing, with one-line errors."""

from __future__ import annotations

import pytest

from devices.protocols.iso28560 import decode_tag
from devices.sim.tags import CommandError, Pad, uid_for


def test_place_writes_iso28560_data_and_lift_removes() -> None:
    pad = Pad()
    assert pad.run("place 33191000105864 2/3 afi=C2 eas=off").startswith("placed")
    tag = pad.tags[uid_for("33191000105864", 2)]
    decoded = decode_tag(bytes(tag.memory[:32]))
    assert (decoded.tag.item_id, decoded.tag.part_number, decoded.tag.parts_in_item) == (
        "33191000105864",
        2,
        3,
    )
    assert (tag.afi, tag.eas) == (0xC2, False)
    assert pad.run("lift 33191000105864") == "lifted 1 tag(s)"
    assert pad.run("list") == "the pad is empty"


def test_a_failing_write_is_taken_once() -> None:
    pad = Pad()
    pad.run("fail-next-write")
    assert pad.take_write_failure()
    assert not pad.take_write_failure()


@pytest.mark.parametrize(
    "line",
    [
        "place",
        "place X 2",
        "place X 3/2",
        "place X afi=zz",
        "place X uid=12",
        "lift",
        "lift Y",
        "jump",
    ],
)
def test_bad_commands_say_why_in_one_line(line: str) -> None:
    with pytest.raises(CommandError) as caught:
        Pad().run(line)
    assert "\n" not in str(caught.value)
