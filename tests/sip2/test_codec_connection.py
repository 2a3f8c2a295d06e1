"""The SIP2 Connection: framing, limits, error detection, resend and retry, both roles."""

from __future__ import annotations

from datetime import datetime

import pytest

from sip2.codec import (
    CHECKSUM,
    CONNECTION_CLOSED,
    MAX_MESSAGE_BYTES,
    NEED_DATA,
    OVERSIZE,
    UNEXPECTED,
    UNKNOWN_COMMAND,
    ACSStatus,
    Checkout,
    CheckoutResponse,
    Connection,
    EndPatronSession,
    EndSessionResponse,
    Event,
    LocalProtocolError,
    Login,
    LoginResponse,
    Message,
    RemoteProtocolError,
    Replay,
    RequestACSResend,
    RequestSCResend,
    SCStatus,
    TerminalSettings,
    checksum,
)

WHEN = datetime(2024, 5, 1, 12, 0, 0)
D = "20240501    120000"
LOGIN = Login(login_user_id="user_id", login_password="passw0rd")
LOGIN_AY1 = b"9300CNuser_id|COpassw0rd|AY1AZF594"
STATUS = SCStatus(max_print_width=80)
CHECKOUT = Checkout(
    sc_renewal_policy=True,
    no_block=False,
    transaction_date=WHEN,
    institution_id="lib",
    patron_id="1234",
    item_id="item42",
    terminal_password="",
)
CHECKOUT_OK = CheckoutResponse(
    ok=True,
    renewal_ok=False,
    magnetic_media=False,
    desensitize=True,
    transaction_date=WHEN,
    institution_id="lib",
    patron_id="1234",
    item_id="item42",
    title="A Book",
    due_date=datetime(2024, 5, 15),
)
ACS_STATUS = ACSStatus(
    online_status=True,
    checkin_ok=True,
    checkout_ok=True,
    acs_renewal_policy=False,
    status_update_ok=False,
    offline_ok=False,
    timeout_period=100,
    retries_allowed=3,
    date_time_sync=WHEN,
    institution_id="lib",
    library_name="Main",
    supported_messages=frozenset({"93", "99", "11"}),
)

Outcome = Message | Replay | tuple[str, str | None]


def with_trailer(body: bytes, sequence: int | None = None) -> bytes:
    covered = body + (b"AY%d" % sequence if sequence is not None else b"") + b"AZ"
    return covered + checksum(covered).encode()


def drain(connection: Connection) -> list[Outcome]:
    """Every event up to NEED_DATA or CONNECTION_CLOSED, errors as (reason, command)."""
    outcomes: list[Outcome] = []
    while True:
        try:
            event: Event = connection.next_event()
        except RemoteProtocolError as error:
            outcomes.append((error.reason, error.command))
            continue
        if event is NEED_DATA or event is CONNECTION_CLOSED:
            return outcomes
        outcomes.append(event)


def feed(connection: Connection, data: bytes) -> list[Outcome]:
    connection.receive_data(data)
    return drain(connection)


STREAM = (
    b"9900802.00\r"
    + LOGIN_AY1
    + b"\r\n"
    + b"\n\r\n"
    + with_trailer(f"11YN{D}{' ' * 18}AOlib|AA1234|ABitem42|AC|".encode(), 2)
    + b"\n"
    + LOGIN_AY1[:-1]
    + b"0\r"  # damaged checksum
    + b"93" + b"x" * (MAX_MESSAGE_BYTES + 10) + b"\r"
    + b"42junk\r"
    + b"9900802.00"  # no terminator: ended by the end of the stream
)  # fmt: skip
STREAM_OUTCOMES: list[Outcome] = [
    STATUS,
    LOGIN,
    CHECKOUT,
    (CHECKSUM, "93"),
    (OVERSIZE, "93"),
    (UNKNOWN_COMMAND, "42"),
    STATUS,
]


def test_stream_fed_whole() -> None:
    connection = Connection("acs", TerminalSettings())
    outcomes = feed(connection, STREAM)
    outcomes += feed(connection, b"")
    assert outcomes == STREAM_OUTCOMES
    assert connection.next_event() is CONNECTION_CLOSED


def test_stream_fed_one_byte_at_a_time_gives_the_same_events() -> None:
    connection = Connection("acs", TerminalSettings())
    outcomes: list[Outcome] = []
    for index in range(len(STREAM)):
        outcomes += feed(connection, STREAM[index : index + 1])
    outcomes += feed(connection, b"")
    assert outcomes == STREAM_OUTCOMES


@pytest.mark.parametrize("terminator", [b"\r", b"\n", b"\r\n"])
def test_input_terminators(terminator: bytes) -> None:
    connection = Connection("acs", TerminalSettings())
    data = b"9900802.00" + terminator + LOGIN_AY1 + terminator
    assert feed(connection, data) == [STATUS, LOGIN]


def test_a_message_waits_for_its_terminator() -> None:
    connection = Connection("acs", TerminalSettings())
    assert feed(connection, b"9900802.00") == []
    assert connection.next_event() is NEED_DATA
    assert feed(connection, b"\r") == [STATUS]


@pytest.mark.parametrize("terminator", ["\r", "\n", "\r\n"])
def test_output_terminator_is_a_setting(terminator: str) -> None:
    connection = Connection("acs", TerminalSettings(terminator=terminator))
    feed(connection, b"9900802.00\r")
    assert connection.send(LoginResponse(ok=True)) == b"941" + terminator.encode()


def test_oversize_line_is_dropped_while_streaming_and_the_next_message_parsed() -> None:
    connection = Connection("acs", TerminalSettings())
    chunk = b"y" * 4096
    assert feed(connection, b"11") == []
    for _ in range(1000):  # 4 MB that must never be held
        assert feed(connection, chunk) == []
        assert len(connection._partial) <= MAX_MESSAGE_BYTES
    assert feed(connection, b"tail\r9900802.00\r") == [(OVERSIZE, "11"), STATUS]


def test_a_line_of_exactly_the_limit_is_read() -> None:
    connection = Connection("acs", TerminalSettings())
    body = b"9900802.00AO" + b"x" * (MAX_MESSAGE_BYTES - 12)
    assert len(body) == MAX_MESSAGE_BYTES
    (event,) = feed(connection, body + b"\r")
    assert isinstance(event, SCStatus)
    assert event.extra == (("AO", "x" * (MAX_MESSAGE_BYTES - 12)),)


def test_unterminated_oversize_line_is_reported_at_end_of_stream() -> None:
    connection = Connection("acs", TerminalSettings())
    feed(connection, b"x" * (MAX_MESSAGE_BYTES + 1))
    assert feed(connection, b"") == [(OVERSIZE, None)]
    assert connection.next_event() is CONNECTION_CLOSED


def test_data_after_end_of_stream_is_a_local_error() -> None:
    connection = Connection("acs", TerminalSettings())
    connection.receive_data(b"")
    connection.receive_data(b"")
    with pytest.raises(LocalProtocolError):
        connection.receive_data(b"99")


# Error detection, ACS side.
def test_bad_checksum_is_answered_96_and_the_session_goes_on() -> None:
    connection = Connection("acs", TerminalSettings())
    connection.receive_data(LOGIN_AY1[:-4] + b"0000\r")
    with pytest.raises(RemoteProtocolError) as caught:
        connection.next_event()
    assert caught.value.reason == CHECKSUM
    assert caught.value.wants_resend
    assert connection.send(RequestSCResend()) == b"96AZFEF6\r"
    assert feed(connection, LOGIN_AY1 + b"\r") == [LOGIN]
    assert connection.send(LoginResponse(ok=True)) == with_trailer(b"941", 1) + b"\r"


def test_lowercase_checksum_is_accepted() -> None:
    connection = Connection("acs", TerminalSettings())
    assert feed(connection, LOGIN_AY1[:-4] + b"f594\r") == [LOGIN]


def test_delimiter_before_az_is_accepted() -> None:
    connection = Connection("acs", TerminalSettings())
    body = b"9300CNuser_id|COpassw0rd|AY4|AZ"
    assert feed(connection, body + checksum(body).encode() + b"\r") == [LOGIN]
    assert connection.send(LoginResponse(ok=False)) == with_trailer(b"940", 4) + b"\r"


def test_az_inside_data_is_not_the_trailer() -> None:
    connection = Connection("acs", TerminalSettings(error_detection="require"))
    body = f"11YN{D}{' ' * 18}AOAZ1234|AAAZ|ABAZAZ00AZ|AC|".encode()
    (event,) = feed(connection, with_trailer(body, 7) + b"\r")
    assert isinstance(event, Checkout)
    assert (event.institution_id, event.patron_id, event.item_id) == ("AZ1234", "AZ", "AZAZ00AZ")
    plain = Connection("acs", TerminalSettings())
    (no_trailer,) = feed(plain, body + b"\r")
    assert isinstance(no_trailer, Checkout)
    assert no_trailer.item_id == "AZAZ00AZ"


def test_accept_mode_answers_with_a_trailer_only_when_the_request_had_one() -> None:
    connection = Connection("acs", TerminalSettings(error_detection="accept"))
    feed(connection, b"9900802.00\r")
    assert connection.send(LoginResponse(ok=True)) == b"941\r"
    feed(connection, with_trailer(b"9900802.00") + b"\r")  # AZ without AY
    assert connection.send(LoginResponse(ok=True)) == with_trailer(b"941") + b"\r"
    feed(connection, with_trailer(b"9900802.00", 5) + b"\r")
    assert connection.send(LoginResponse(ok=True)) == with_trailer(b"941", 5) + b"\r"


def test_require_mode_answers_96_to_a_request_without_trailer() -> None:
    connection = Connection("acs", TerminalSettings(error_detection="require"))
    assert feed(connection, b"9900802.00\r") == [(CHECKSUM, "99")]
    assert connection.send(RequestSCResend()) == b"96AZFEF6\r"
    assert feed(connection, with_trailer(b"9900802.00", 0) + b"\r") == [STATUS]


def test_off_mode_ignores_trailers_and_never_sends_them() -> None:
    connection = Connection("acs", TerminalSettings(error_detection="off"))
    damaged = LOGIN_AY1[:-4] + b"0000\r"
    assert feed(connection, damaged) == [LOGIN]
    assert connection.send(LoginResponse(ok=True)) == b"941\r"
    assert feed(connection, damaged) == [LOGIN]  # no retry detection without error detection
    assert connection.send(RequestSCResend()) == b"96\r"


# Resend (97) and retries.
def test_97_replays_the_last_response() -> None:
    connection = Connection("acs", TerminalSettings())
    feed(connection, LOGIN_AY1 + b"\r")
    sent = connection.send(LoginResponse(ok=True))
    assert feed(connection, b"97AZFEF5\r") == [Replay(sent)]
    assert feed(connection, b"97\r") == [Replay(sent)]


def test_97_before_any_response_is_returned_as_a_message() -> None:
    connection = Connection("acs", TerminalSettings())
    assert feed(connection, b"97AZFEF5\r") == [RequestACSResend()]
    assert connection.send(RequestSCResend()) == b"96AZFEF6\r"


def test_a_retried_request_replays_the_response_instead_of_running_again() -> None:
    connection = Connection("acs", TerminalSettings())
    request = with_trailer(f"11YN{D}{' ' * 18}AOlib|AA1234|ABitem42|AC|".encode(), 3) + b"\r"
    assert feed(connection, request) == [CHECKOUT]
    sent = connection.send(CHECKOUT_OK)
    assert feed(connection, request) == [Replay(sent)]
    assert feed(connection, request) == [Replay(sent)]
    # The next sequence number is a new transaction, even with the same content.
    again = with_trailer(f"11YN{D}{' ' * 18}AOlib|AA1234|ABitem42|AC|".encode(), 4) + b"\r"
    assert feed(connection, again) == [CHECKOUT]


def test_only_the_request_just_answered_counts_as_a_retry() -> None:
    connection = Connection("acs", TerminalSettings())
    first = with_trailer(b"9900802.00", 1) + b"\r"
    feed(connection, first)
    connection.send(LoginResponse(ok=True))
    feed(connection, with_trailer(b"9900802.00", 2) + b"\r")
    connection.send(LoginResponse(ok=True))
    assert feed(connection, first) == [STATUS]


def test_no_retry_is_detected_before_the_first_answer() -> None:
    connection = Connection("acs", TerminalSettings())
    request = LOGIN_AY1 + b"\r"
    assert feed(connection, request + request) == [LOGIN, LOGIN]


def test_acs_refuses_responses_and_unknown_codes() -> None:
    connection = Connection("acs", TerminalSettings())
    assert feed(connection, b"941\r96\rXY\r") == [
        (UNEXPECTED, "94"),
        (UNEXPECTED, "96"),
        (UNKNOWN_COMMAND, None),
    ]


def test_each_role_sends_only_its_own_messages() -> None:
    with pytest.raises(LocalProtocolError):
        Connection("acs", TerminalSettings()).send(STATUS)
    with pytest.raises(LocalProtocolError):
        Connection("sc", TerminalSettings()).send(LoginResponse(ok=True))
    with pytest.raises(LocalProtocolError):
        Connection("kiosk", TerminalSettings())  # type: ignore[arg-type]


# The self-check side.
def test_sc_numbers_requests_0_to_9_and_wraps() -> None:
    connection = Connection("sc", TerminalSettings())
    sequences = [connection.send(STATUS)[-8:-7] for _ in range(12)]
    assert sequences == [str(n % 10).encode() for n in range(12)]


def test_sc_without_error_detection_sends_plain_requests() -> None:
    connection = Connection("sc", TerminalSettings(error_detection="off"))
    assert connection.send(STATUS) == b"9900802.00\r"
    assert connection.send(RequestACSResend()) == b"97\r"


def test_sc_gets_96_and_resends_the_same_bytes() -> None:
    connection = Connection("sc", TerminalSettings())
    sent = connection.send(CHECKOUT)
    assert connection.last_sent == sent
    assert feed(connection, b"96AZFEF6\r") == [RequestSCResend()]
    assert connection.last_sent == sent


def test_sc_reads_responses_and_flags_damaged_ones() -> None:
    connection = Connection("sc", TerminalSettings())
    response = Connection("acs", TerminalSettings(error_detection="require")).send(ACS_STATUS)
    assert feed(connection, response) == [ACS_STATUS]
    damaged = response[:2] + b"N" + response[3:]  # online_status flipped in transit
    assert feed(connection, damaged) == [(CHECKSUM, "98")]
    assert feed(connection, b"9900802.00\r") == [(UNEXPECTED, "99")]


def test_sc_and_acs_talk_through_a_whole_session() -> None:
    settings = TerminalSettings(encoding="utf-8", terminator="\r\n", error_detection="require")
    kiosk = Connection("sc", settings)
    server = Connection("acs", settings)
    for request, response in [(LOGIN, LoginResponse(ok=True)), (CHECKOUT, CHECKOUT_OK)]:
        assert feed(server, kiosk.send(request)) == [request]
        assert feed(kiosk, server.send(response)) == [response]


# Per-connection state.
def test_the_end_of_a_patron_session_leaves_nothing_to_replay() -> None:
    connection = Connection("acs", TerminalSettings())
    kiosk = Connection("sc", TerminalSettings())
    request = EndPatronSession(transaction_date=WHEN, institution_id="main", patron_id="P1")
    assert feed(connection, kiosk.send(request)) == [request]
    connection.send(
        EndSessionResponse(
            end_session=True,
            transaction_date=None,
            institution_id="main",
            patron_id="P1",
        )
    )
    assert connection.last_sent is None
    (resend,) = feed(connection, b"97AZFEF5\r")
    assert isinstance(resend, RequestACSResend)  # answered 96: nothing of the patron's comes back


def test_forget_drops_the_kept_answer() -> None:
    connection = Connection("acs", TerminalSettings())
    connection.send(LoginResponse(ok=True))
    connection.forget()
    (resend,) = feed(connection, b"97AZFEF5\r")
    assert isinstance(resend, RequestACSResend)


def test_settings_can_change_after_login() -> None:
    connection = Connection("acs", TerminalSettings(encoding="cp850"))
    (first,) = feed(connection, b"9300CNJos\x82|COx|\r")
    assert isinstance(first, Login)
    assert first.login_user_id == "José"
    connection.settings = TerminalSettings(encoding="utf-8", terminator="\r\n")
    (second,) = feed(connection, b"9300CNJos\xc3\xa9|COx|\r")
    assert isinstance(second, Login)
    assert second.login_user_id == "José"
    assert connection.send(LoginResponse(ok=True)) == b"941\r\n"
