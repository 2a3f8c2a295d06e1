"""One result line per scan, from the server's answer: item barcode and outcome, never a patron."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sip2.codec import CheckinResponse, ItemInformationResponse, Message

# SIP2 circulation status codes (18), in words.
CIRCULATION_STATUS: Final[dict[str, str]] = {
    "01": "other",
    "02": "on order",
    "03": "available",
    "04": "charged",
    "05": "charged (no recall yet)",
    "06": "in process",
    "07": "recalled",
    "08": "waiting on the hold shelf",
    "09": "waiting to be re-shelved",
    "10": "in transit",
    "11": "claimed returned",
    "12": "lost",
    "13": "missing",
}
_COURTESY: Final = frozenset({"Thank you."})
# A barcode the server does not know may be a patron's card scanned at the wrong place: its
# result line names it this way instead (PRIV-16: no patron barcode in a log).
UNKNOWN_BARCODE: Final = "a barcode the server does not know"


@dataclass(frozen=True)
class Outcome:
    """The server's answer in words; ``problem`` rings the bell; ``known`` False hides the
    barcode from the result line."""

    text: str
    problem: bool
    known: bool = True


def checkin_outcome(answer: Message) -> Outcome:
    """The outcome of a checkin."""
    if not isinstance(answer, CheckinResponse):
        return Outcome(f"unexpected answer {answer.COMMAND}", True)
    # PRIV-16: the answer's patron_id (AA), if a server sent one, is never shown.
    messages = [text for text in answer.screen_messages if text not in _COURTESY]
    if not answer.ok:
        known = bool(answer.title or answer.permanent_location)
        return Outcome("not checked in: " + ("; ".join(messages) or "refused"), True, known)
    words = ["checked in"]
    if answer.sort_bin:
        words.append(f"sort bin {answer.sort_bin}")
    if answer.alert:
        words.append("alert" + (f" {answer.alert_type}" if answer.alert_type else ""))
    words += messages
    return Outcome("; ".join(words), answer.alert)


def item_outcome(answer: Message) -> Outcome:
    """The outcome of an item lookup."""
    if not isinstance(answer, ItemInformationResponse):
        return Outcome(f"unexpected answer {answer.COMMAND}", True)
    if answer.circulation_status == "01" and not answer.title:  # the server does not know it
        text = "not found: " + ("; ".join(answer.screen_messages) or "unknown item")
        return Outcome(text, True, known=False)
    status = CIRCULATION_STATUS.get(answer.circulation_status, answer.circulation_status)
    words = [status]
    if answer.due_date is not None:
        words.append(f"due {answer.due_date.date().isoformat()}")
    if answer.permanent_location:
        words.append(f"home {answer.permanent_location}")
    return Outcome("; ".join(words), False)
