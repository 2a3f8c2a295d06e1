"""Hypothesis properties of the SIP2 codec: garbage never escapes as a bug; encode/parse agree."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from sip2.codec import (
    CONNECTION_CLOSED,
    MAX_MESSAGE_BYTES,
    NEED_DATA,
    ACSStatus,
    Checkin,
    CheckinResponse,
    Checkout,
    CheckoutResponse,
    Connection,
    Message,
    PatronInformationResponse,
    PatronStatus,
    RemoteProtocolError,
    Replay,
    Role,
    TerminalSettings,
    encode_message,
    parse_message,
)
from sip2.codec._fields import layout_of

MODES = ("off", "accept", "require")


def _in_cp850(char: str) -> bool:
    try:
        char.encode("cp850")
    except UnicodeEncodeError:
        return False
    return True


# Text a terminal can carry: no delimiter, no line breaks, nothing the encoding would replace.
CP850_TEXT = "".join(
    char for char in map(chr, range(0x20, 0x250)) if char != "|" and _in_cp850(char)
)


def texts(encoding: str) -> st.SearchStrategy[str]:
    if encoding == "cp850":
        return st.text(alphabet=CP850_TEXT, max_size=12)
    return st.text(st.characters(codec="utf-8", exclude_characters="|\r\n"), max_size=12)


def fixed_texts(width: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789 +-*ABCUSDEUR", min_size=width, max_size=width)


seconds = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)).map(
    lambda moment: moment.replace(microsecond=0)
)
dates = st.one_of(st.none(), seconds, seconds.map(lambda moment: moment.replace(tzinfo=UTC)))
statuses = st.builds(PatronStatus, **{flag.name: st.booleans() for flag in fields(PatronStatus)})
counts = st.integers(min_value=0, max_value=9999)
optional_flags = st.one_of(st.none(), st.booleans())


def extras(
    message_type: type[Message], encoding: str
) -> st.SearchStrategy[tuple[tuple[str, str], ...]]:
    known = set(layout_of(message_type).by_code) | {"AY", "AZ"}
    code = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2).filter(
        lambda candidate: candidate not in known
    )
    return st.lists(st.tuples(code, texts(encoding)), max_size=3).map(tuple)


def messages(encoding: str) -> st.SearchStrategy[Message]:
    text = texts(encoding)
    maybe = st.one_of(st.none(), text)
    items = st.lists(text, max_size=3).map(tuple)
    return st.one_of(
        st.builds(
            Checkout,
            sc_renewal_policy=st.booleans(),
            no_block=st.booleans(),
            transaction_date=dates,
            nb_due_date=dates,
            institution_id=text,
            patron_id=text,
            item_id=text,
            terminal_password=text,
            item_properties=maybe,
            patron_password=maybe,
            fee_acknowledged=optional_flags,
            cancel=optional_flags,
            extra=extras(Checkout, encoding),
        ),
        st.builds(
            Checkin,
            no_block=st.booleans(),
            transaction_date=dates,
            return_date=dates,
            current_location=text,
            institution_id=text,
            item_id=text,
            terminal_password=text,
            extra=extras(Checkin, encoding),
        ),
        st.builds(
            CheckoutResponse,
            ok=st.booleans(),
            renewal_ok=st.booleans(),
            magnetic_media=optional_flags,
            desensitize=optional_flags,
            transaction_date=dates,
            institution_id=text,
            patron_id=text,
            item_id=text,
            title=text,
            due_date=dates,
            security_inhibit=optional_flags,
            fee_amount=maybe,
            screen_messages=items,
            print_lines=items,
            extra=extras(CheckoutResponse, encoding),
        ),
        st.builds(
            CheckinResponse,
            ok=st.booleans(),
            resensitize=st.booleans(),
            magnetic_media=optional_flags,
            alert=st.booleans(),
            transaction_date=dates,
            institution_id=text,
            item_id=text,
            permanent_location=text,
            sort_bin=maybe,
            screen_messages=items,
        ),
        st.builds(
            PatronInformationResponse,
            patron_status=statuses,
            language=fixed_texts(3),
            transaction_date=dates,
            hold_items_count=counts,
            overdue_items_count=counts,
            charged_items_count=counts,
            fine_items_count=counts,
            recall_items_count=counts,
            unavailable_holds_count=counts,
            institution_id=text,
            patron_id=text,
            personal_name=text,
            hold_items_limit=st.one_of(st.none(), counts),
            valid_patron=optional_flags,
            valid_patron_password=optional_flags,
            charged_items=items,
            hold_items=items,
            extra=extras(PatronInformationResponse, encoding),
        ),
        st.builds(
            ACSStatus,
            online_status=st.booleans(),
            checkin_ok=st.booleans(),
            checkout_ok=st.booleans(),
            acs_renewal_policy=st.booleans(),
            status_update_ok=st.booleans(),
            offline_ok=st.booleans(),
            timeout_period=st.integers(min_value=0, max_value=999),
            retries_allowed=st.integers(min_value=0, max_value=999),
            date_time_sync=dates,
            protocol_version=fixed_texts(4),
            institution_id=text,
            library_name=text,
            supported_messages=st.frozensets(st.sampled_from(["23", "11", "09", "99", "65"])),
            terminal_location=maybe,
        ),
    )


def drain_everything(connection: Connection) -> None:
    while True:
        try:
            event = connection.next_event()
        except RemoteProtocolError:
            continue
        if event is NEED_DATA or event is CONNECTION_CLOSED:
            return
        assert isinstance(event, Message | Replay)


def garbage() -> st.SearchStrategy[bytes]:
    pieces = st.one_of(
        st.binary(min_size=1, max_size=40),
        st.sampled_from(
            [b"\r", b"\n", b"|", b"AY1AZ", b"AZ0000", b"97", b"96", b"11", b"64", b"98", b"9300"]
        ),
    )
    # Never b"": that is the end of the stream, fed once at the end of the test.
    return st.lists(pieces, min_size=1, max_size=30).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(
    role=st.sampled_from(["acs", "sc"]),
    mode=st.sampled_from(MODES),
    encoding=st.sampled_from(["cp850", "utf-8", "ascii"]),
    chunks=st.lists(garbage(), max_size=8),
)
def test_any_bytes_give_events_or_remote_errors(
    role: Role, mode: str, encoding: str, chunks: list[bytes]
) -> None:
    connection = Connection(role, TerminalSettings(encoding=encoding, error_detection=mode))  # type: ignore[arg-type]
    for chunk in chunks:
        connection.receive_data(chunk)
        drain_everything(connection)
        assert len(connection._partial) <= MAX_MESSAGE_BYTES
    connection.receive_data(b"")
    drain_everything(connection)
    assert connection.next_event() is CONNECTION_CLOSED


@settings(max_examples=100, deadline=None)
@given(data=st.data(), encoding=st.sampled_from(["cp850", "utf-8"]))
def test_encode_then_parse_gives_the_message_back(data: st.DataObject, encoding: str) -> None:
    message = data.draw(messages(encoding))
    terminal = TerminalSettings(encoding=encoding)
    assert parse_message(encode_message(message, terminal), terminal) == message


@settings(max_examples=100, deadline=None)
@given(
    data=st.data(),
    encoding=st.sampled_from(["cp850", "utf-8"]),
    mode=st.sampled_from(MODES),
    terminator=st.sampled_from(["\r", "\n", "\r\n"]),
)
def test_messages_cross_a_connection_pair_whole_or_byte_by_byte(
    data: st.DataObject, encoding: str, mode: str, terminator: str
) -> None:
    message = data.draw(messages(encoding))
    terminal = TerminalSettings(encoding=encoding, error_detection=mode, terminator=terminator)  # type: ignore[arg-type]
    is_request = isinstance(message, Checkout | Checkin)
    sender = Connection("sc" if is_request else "acs", terminal)
    receiver = Connection("acs" if is_request else "sc", terminal)
    wire = sender.send(message)
    for index in range(len(wire)):
        receiver.receive_data(wire[index : index + 1])
    assert receiver.next_event() == message
    assert receiver.next_event() is NEED_DATA
