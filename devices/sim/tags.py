"""The tags on a simulated reader's pad: memory, AFI, EAS, and the commands that move them."""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass, field

from devices.protocols.iso28560 import TagData, encode_tag

BLOCK_BYTES = 4
TAG_BLOCKS = 28  # an ICODE SLIX: 28 blocks of 4 bytes
DEFAULT_AFI = 0x07

HELP = """commands:
  place ITEM [PART/PARTS] [afi=HEX] [eas=on|off] [uid=HEX16] [owner=ISIL]
  place-blank [uid=HEX16]     a tag with no library data
  lift ITEM [PART] | lift uid=HEX16 | lift all
  fail-next-write             the next write (AFI, EAS, blocks) fails
  unplug | plug               close the port and open it again
  list                        the tags on the pad
  help"""


class CommandError(ValueError):
    """A console command that cannot be carried out; the message says why, in one line."""


@dataclass
class SimTag:
    """One tag: UID, memory, AFI, EAS bit."""

    uid: bytes
    memory: bytearray
    afi: int = DEFAULT_AFI
    eas: bool = True
    item_id: str | None = None
    part: int = 1

    def describe(self) -> str:
        what = f"{self.item_id} part {self.part}" if self.item_id else "blank"
        eas = "on" if self.eas else "off"
        return f"{self.uid.hex().upper()} {what} afi={self.afi:02X} eas={eas}"


def uid_for(item_id: str, part: int) -> bytes:
    """A stable UID per item and part: E0 (ISO 15693), 04 (NXP), then six bytes of a hash."""
    digest = hashlib.sha256(f"{item_id}/{part}".encode()).digest()
    return bytes([0xE0, 0x04]) + digest[:6]


@dataclass
class Pad:
    """What lies on the reader; ``fail_next_write`` makes the next write fail once."""

    tags: dict[bytes, SimTag] = field(default_factory=dict)
    fail_next_write: bool = False

    def take_write_failure(self) -> bool:
        failing, self.fail_next_write = self.fail_next_write, False
        return failing

    def run(self, line: str) -> str | None:
        """Carry out one console command; its one-line answer, or None for unplug/plug."""
        try:
            words = shlex.split(line)
        except ValueError as error:
            raise CommandError(str(error)) from None
        if not words:
            return ""
        command, args = words[0].lower(), words[1:]
        options = dict(arg.split("=", 1) for arg in args if "=" in arg)
        plain = [arg for arg in args if "=" not in arg]
        if command == "place":
            return self._place(plain, options)
        if command == "place-blank":
            uid = _uid_option(options) or bytes([0xE0, 0x04, 0, 0, 0, 0, 0, len(self.tags)])
            self.tags[uid] = SimTag(uid, bytearray(TAG_BLOCKS * BLOCK_BYTES), item_id=None)
            return f"placed {self.tags[uid].describe()}"
        if command == "lift":
            return self._lift(plain, options)
        if command == "fail-next-write":
            self.fail_next_write = True
            return "the next write will fail"
        if command == "list":
            return "; ".join(tag.describe() for tag in self.tags.values()) or "the pad is empty"
        if command == "help":
            return HELP
        raise CommandError(f"unknown command {command!r} (try: help)")

    def _place(self, plain: list[str], options: dict[str, str]) -> str:
        if not plain:
            raise CommandError("place needs an item id")
        item_id = plain[0]
        part, parts = 1, 1
        if len(plain) > 1:
            try:
                part_text, parts_text = plain[1].split("/")
                part, parts = int(part_text), int(parts_text)
            except ValueError:
                raise CommandError(f"expected PART/PARTS such as 1/2, got {plain[1]!r}") from None
        afi = _hex_option(options, "afi", DEFAULT_AFI)
        eas = options.get("eas", "on").lower() in ("on", "1", "yes", "true")
        try:
            data = encode_tag(
                TagData(
                    item_id, parts_in_item=parts, part_number=part, owner=options.get("owner", "")
                )
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        uid = _uid_option(options) or uid_for(item_id, part)
        memory = bytearray(data + bytes(TAG_BLOCKS * BLOCK_BYTES - len(data)))
        tag = SimTag(uid, memory, afi, eas, item_id, part)
        self.tags[uid] = tag
        return f"placed {tag.describe()}"

    def _lift(self, plain: list[str], options: dict[str, str]) -> str:
        uid = _uid_option(options)
        if uid is not None:
            lifted = [uid] if uid in self.tags else []
        elif plain == ["all"]:
            lifted = list(self.tags)
        elif plain:
            part = int(plain[1]) if len(plain) > 1 and plain[1].isdigit() else None
            lifted = [
                tag.uid
                for tag in self.tags.values()
                if tag.item_id == plain[0] and (part is None or tag.part == part)
            ]
        else:
            raise CommandError("lift needs an item id, uid=HEX16 or all")
        if not lifted:
            raise CommandError("no such tag on the pad")
        for uid in lifted:
            del self.tags[uid]
        return f"lifted {len(lifted)} tag(s)"


def _hex_option(options: dict[str, str], name: str, default: int) -> int:
    if name not in options:
        return default
    try:
        value = int(options[name], 16)
    except ValueError:
        raise CommandError(f"{name} is a hex byte such as 07, got {options[name]!r}") from None
    if not 0 <= value <= 0xFF:
        raise CommandError(f"{name} is one byte")
    return value


def _uid_option(options: dict[str, str]) -> bytes | None:
    if "uid" not in options:
        return None
    try:
        uid = bytes.fromhex(options["uid"])
    except ValueError:
        uid = b""
    if len(uid) != 8:
        raise CommandError("uid is 16 hex digits")
    return uid
