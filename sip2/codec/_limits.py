"""Limits of the SIP2 codec, each with the reason for its value."""

from __future__ import annotations

from typing import Final

# The longest legitimate message is a 64 with item lists or a 98/18 with screen messages;
# those stay under 2 KiB in the field. 8 KiB leaves room for long item lists while bounding
# what one connection can make us hold in memory for a single line.
MAX_MESSAGE_BYTES: Final = 8192

# AY carries a single digit (SIP2 2.00), so sequence numbers cycle 0..9.
SEQUENCE_MODULUS: Final = 10
