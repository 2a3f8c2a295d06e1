"""Lenient parsing, strict encoding, dates, character sets and settings of the SIP2 codec."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from sip2.codec import (
    MALFORMED,
    TRUNCATED,
    UNKNOWN_COMMAND,
    ACSStatus,
    Checkout,
    CheckoutResponse,
    ItemInformationResponse,
    LocalProtocolError,
    Login,
    PatronInformationResponse,
    PatronStatus,
    PatronStatusResponse,
    RemoteProtocolError,
    SCStatus,
    TerminalSettings,
    checksum,
    encode_message,
    format_date,
    parse_date,
    parse_message,
)

SETTINGS = TerminalSettings()
WHEN = datetime(2024, 5, 1, 12, 0, 0)
D = "20240501    120000"
BLANK = " " * 18
CHECKOUT = Checkout(
    sc_renewal_policy=True,
    no_block=False,
    transaction_date=WHEN,
    institution_id="lib",
    patron_id="1234",
    item_id="item42",
    terminal_password="pw",
)


def parse(text: str, settings: TerminalSettings = SETTINGS) -> object:
    return parse_message(text.encode(settings.encoding), settings)


def test_field_order_does_not_matter() -> None:
    assert parse(f"11YN{D}{BLANK}ABitem42|ACpw|AOlib|AA1234|") == CHECKOUT


def test_missing_final_delimiter_is_accepted() -> None:
    assert parse(f"11YN{D}{BLANK}AOlib|AA1234|ABitem42|ACpw") == CHECKOUT


def test_repeated_non_repeatable_field_keeps_the_first_value() -> None:
    assert parse(f"11YN{D}{BLANK}AOlib|AA1234|ABitem42|ABother|ACpw|AAintruder|") == CHECKOUT


def test_empty_value_is_a_value() -> None:
    message = parse(f"11YN{D}{BLANK}AOlib|AA1234|ABitem42|AC|AD|")
    assert isinstance(message, Checkout)
    assert message.terminal_password == ""
    assert message.patron_password == ""  # present but empty, not None


def test_missing_required_field_reads_as_empty() -> None:
    message = parse(f"11YN{D}{BLANK}AOlib|ABitem42|")
    assert isinstance(message, Checkout)
    assert message.patron_id == ""
    assert message.terminal_password == ""


def test_empty_pieces_are_skipped() -> None:
    assert parse(f"11YN{D}{BLANK}AOlib||AA1234|ABitem42|ACpw||") == CHECKOUT


@pytest.mark.parametrize(
    ("wire", "extra"),
    [
        ("CSQA 76.73|", (("CS", "QA 76.73"),)),
        ("CLbin2|PBx|CSshelf|", (("CL", "bin2"), ("PB", "x"), ("CS", "shelf"))),
        ("ZZ|", (("ZZ", ""),)),
    ],
)
def test_unknown_fields_are_kept_in_order_and_written_back(
    wire: str, extra: tuple[tuple[str, str], ...]
) -> None:
    text = f"121NNY{D}AOlib|AA1234|ABitem42|AJA Book|AH|{wire}"
    message = parse(text)
    assert isinstance(message, CheckoutResponse)
    assert message.extra == extra
    assert encode_message(message, SETTINGS) == text.encode("cp850")


def test_unknown_fields_between_known_ones_are_written_after_them() -> None:
    message = parse(f"18030101{D}CSQA 1|ABitem42|AJTitle|")
    assert isinstance(message, ItemInformationResponse)
    assert message.extra == (("CS", "QA 1"),)
    assert encode_message(message, SETTINGS) == f"18030101{D}ABitem42|AJTitle|CSQA 1|".encode()


def test_trailer_codes_inside_the_fields_are_not_data() -> None:
    assert parse(f"11YN{D}{BLANK}AOlib|AY3|AA1234|ABitem42|ACpw|AZ0000|") == CHECKOUT


def test_parse_message_drops_a_trailer_without_checking_it() -> None:
    assert parse("9300CNuser_id|COpassw0rd|AY1AZ0000") == Login(
        login_user_id="user_id", login_password="passw0rd"
    )


def test_field_codes_are_case_sensitive_and_values_are_kept_as_sent() -> None:
    message = parse(f"11YN{D}{BLANK}AOlib|AA 12 34 |ABitem42|ACpw|aoother|")
    assert isinstance(message, Checkout)
    assert message.patron_id == " 12 34 "
    assert message.extra == (("ao", "other"),)


@pytest.mark.parametrize(
    ("flag", "expected"), [("Y", True), ("N", False), ("U", None), ("y", True), ("?", None)]
)
def test_yes_no_unknown_fixed_fields(flag: str, expected: bool | None) -> None:
    message = parse(f"121N{flag}{flag}{D}AOa|AAb|ABc|AJ|AH|")
    assert isinstance(message, CheckoutResponse)
    assert message.ok is True
    assert message.renewal_ok is False
    assert message.magnetic_media is expected
    assert message.desensitize is expected


def test_variable_flags_read_y_n_and_otherwise_none() -> None:
    message = parse(f"24{' ' * 14}000{D}AOa|AAb|AEc|BLy|CQU|")
    assert isinstance(message, PatronStatusResponse)
    assert message.valid_patron is True
    assert message.valid_patron_password is None


def test_patron_status_flags_in_wire_order() -> None:
    status = PatronStatus(charge_privileges_denied=True, too_many_items_billed=True)
    assert status.to_wire() == "Y             Y"[:13] + "Y"
    assert PatronStatus.from_wire("Y" + " " * 12 + "Y") == status
    assert PatronStatus.from_wire("N" * 14) == PatronStatus()
    assert repr(status) == "PatronStatus(charge_privileges_denied=True, too_many_items_billed=True)"


def test_blank_counts_read_as_zero_and_letters_are_malformed() -> None:
    blank = parse(f"64{' ' * 14}000{D}{' ' * 24}AOa|AAb|AEc|")
    assert isinstance(blank, PatronInformationResponse)
    assert blank.hold_items_count == 0
    with pytest.raises(RemoteProtocolError) as caught:
        parse(f"64{' ' * 14}000{D}00x1{'0' * 20}AOa|AAb|AEc|")
    assert (caught.value.reason, caught.value.command) == (MALFORMED, "64")


def test_unreadable_variable_numbers_and_dates_read_as_none() -> None:
    message = parse(f"18030101{D}CFmany|AHsoon|CJ{BLANK}|ABi|AJt|")
    assert isinstance(message, ItemInformationResponse)
    assert (message.hold_queue_length, message.due_date, message.recall_date) == (None, None, None)


def test_supported_messages_short_or_long_bx() -> None:
    message = parse(f"98YYYYYY010003{D}2.00AOa|AMb|BXYYNY|")
    assert isinstance(message, ACSStatus)
    assert message.supported_messages == frozenset({"23", "11", "01"})
    longer = parse(f"98YYYYYY010003{D}2.00AOa|AMb|BXNNNNNNNNNNNNNNNNYY|")
    assert isinstance(longer, ACSStatus)
    assert longer.supported_messages == frozenset()


@pytest.mark.parametrize(
    ("wire", "reason", "command"),
    [
        ("", UNKNOWN_COMMAND, None),
        ("x", UNKNOWN_COMMAND, None),
        ("AB123", UNKNOWN_COMMAND, None),
        ("42abc", UNKNOWN_COMMAND, "42"),
        ("11YN2024", TRUNCATED, "11"),
        ("990", TRUNCATED, "99"),
    ],
)
def test_malformed_messages_raise_remote_errors(
    wire: str, reason: str, command: str | None
) -> None:
    with pytest.raises(RemoteProtocolError) as caught:
        parse(wire)
    assert (caught.value.reason, caught.value.command) == (reason, command)
    assert not caught.value.wants_resend


def test_remote_error_detail_never_holds_message_content() -> None:
    with pytest.raises(RemoteProtocolError) as caught:
        parse("64" + " " * 14 + "000" + D + "SECRET" * 4 + "AAsecret-barcode|")
    assert "SECRET" not in str(caught.value)
    assert "secret" not in str(caught.value)


def test_repr_hides_passwords_and_patron_data() -> None:
    # PRIV-09, PRIV-16: a logged message never shows PINs, passwords or patron barcodes.
    login = Login(login_user_id="kiosk", login_password="hunter2")
    assert "hunter2" not in repr(login)
    checkout = Checkout(
        sc_renewal_policy=True,
        no_block=False,
        transaction_date=WHEN,
        institution_id="lib",
        patron_id="P-998877",
        item_id="item42",
        terminal_password="termpw",
        patron_password="4321",
        extra=(("PB", "19700101"),),
    )
    shown = repr(checkout)
    assert "item42" in shown
    for secret in ("P-998877", "termpw", "4321", "19700101"):
        assert secret not in shown


# Character sets: "José" is 0x82 for é in cp850 and 0xC3 0xA9 in UTF-8.
@pytest.mark.parametrize(
    ("encoding", "name_bytes"),
    [("cp850", b"Jos\x82"), ("latin-1", b"Jos\xe9"), ("utf-8", b"Jos\xc3\xa9")],
)
def test_encodings_change_bytes_and_round_trip(encoding: str, name_bytes: bytes) -> None:
    settings = TerminalSettings(encoding=encoding)
    message = PatronStatusResponse(
        patron_status=PatronStatus(),
        transaction_date=WHEN,
        institution_id="lib",
        patron_id="1",
        personal_name="José",
    )
    data = encode_message(message, settings)
    assert b"AE" + name_bytes + b"|" in data
    assert parse_message(data, settings) == message


def test_the_checksum_sums_encoded_bytes() -> None:
    message = Login(login_user_id="José", login_password="x")
    cp850 = encode_message(message, TerminalSettings(encoding="cp850")) + b"AZ"
    utf8 = encode_message(message, TerminalSettings(encoding="utf-8")) + b"AZ"
    assert cp850 != utf8
    assert checksum(cp850) != checksum(utf8)
    assert checksum(cp850) == f"{-sum(cp850) & 0xFFFF:04X}"


def test_unencodable_characters_are_written_as_question_marks() -> None:
    message = Login(login_user_id="€uro 東", login_password="x")
    assert encode_message(message, TerminalSettings(encoding="ascii")) == b"9300CN?uro ?|COx|"


def test_undecodable_bytes_are_read_leniently() -> None:
    message = parse_message(b"9300CN\xff\xfe|COx|", TerminalSettings(encoding="utf-8"))
    assert isinstance(message, Login)
    assert message.login_user_id == "\ufffd\ufffd"


def test_custom_field_delimiter() -> None:
    settings = TerminalSettings(field_delimiter="^")
    message = Login(login_user_id="a|b", login_password="c")
    data = encode_message(message, settings)
    assert data == b"9300CNa|b^COc^"
    assert parse_message(data, settings) == message


# Encoding is strict: our own mistakes are LocalProtocolError.
@pytest.mark.parametrize(
    "message",
    [
        Login(login_user_id="a|b", login_password="c"),
        Login(login_user_id="a\rb", login_password="c"),
        Login(login_user_id="ab", login_password="c\n"),
        Login(uid_algorithm="00", login_user_id="a", login_password="b"),
        Login(login_user_id="a", login_password="b", extra=(("CSX", "v"),)),
        Login(login_user_id="a", login_password="b", extra=(("AZ", "v"),)),
        Login(login_user_id="a", login_password="b", extra=(("CS", "v|w"),)),
        SCStatus(max_print_width=1000),
        SCStatus(max_print_width=-1),
        SCStatus(max_print_width=True),
    ],
)
def test_invalid_values_are_local_errors(message: Login | SCStatus) -> None:
    with pytest.raises(LocalProtocolError):
        encode_message(message, SETTINGS)


def test_wrong_types_are_local_errors() -> None:
    bad_flag = Checkout(
        sc_renewal_policy="Y",  # type: ignore[arg-type]
        no_block=False,
        transaction_date=WHEN,
        institution_id="lib",
        patron_id="1",
        item_id="2",
        terminal_password="",
    )
    with pytest.raises(LocalProtocolError, match="sc_renewal_policy"):
        encode_message(bad_flag, SETTINGS)
    bad_list = CheckoutResponse(
        ok=True,
        renewal_ok=False,
        magnetic_media=None,
        desensitize=True,
        transaction_date=WHEN,
        institution_id="lib",
        patron_id="1",
        item_id="2",
        title="t",
        due_date=None,
        screen_messages=("ok", 3),  # type: ignore[arg-type]
    )
    with pytest.raises(LocalProtocolError, match="screen_messages"):
        encode_message(bad_list, SETTINGS)
    bad_extra = Login(login_user_id="a", login_password="b", extra=(("CS",),))  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="extra"):
        encode_message(bad_extra, SETTINGS)


# Dates.
@pytest.mark.parametrize(
    ("moment", "wire"),
    [
        (datetime(2024, 5, 1, 12, 0, 7), "20240501    120007"),
        (datetime(2024, 5, 1, 12, 0, 7, tzinfo=UTC), "20240501   Z120007"),
        (datetime(2024, 5, 1, 1, 0, tzinfo=timezone(timedelta(hours=2))), "20240430   Z230000"),
        (datetime(987, 1, 2, 3, 4, 5), "09870102    030405"),
        (None, BLANK),
    ],
)
def test_format_date(moment: datetime | None, wire: str) -> None:
    assert format_date(moment) == wire


@pytest.mark.parametrize(
    ("wire", "moment"),
    [
        ("20240501    120007", datetime(2024, 5, 1, 12, 0, 7)),
        ("20240501   Z120007", datetime(2024, 5, 1, 12, 0, 7, tzinfo=UTC)),
        ("20240501UTC 120007", datetime(2024, 5, 1, 12, 0, 7, tzinfo=UTC)),
        ("20240501EST 120007", datetime(2024, 5, 1, 12, 0, 7)),
        ("20240501120007", datetime(2024, 5, 1, 12, 0, 7)),
        ("2024-05-01", datetime(2024, 5, 1)),
        ("2024-05-01T12:00:07Z", datetime(2024, 5, 1, 12, 0, 7, tzinfo=UTC)),
        (BLANK, None),
        ("", None),
        ("20241301    120000", None),
        ("00000000    000000", None),
        ("tomorrow", None),
    ],
)
def test_parse_date_is_lenient(wire: str, moment: datetime | None) -> None:
    assert parse_date(wire) == moment


def _due(due_date: datetime | None) -> CheckoutResponse:
    return CheckoutResponse(
        ok=True,
        renewal_ok=False,
        magnetic_media=None,
        desensitize=True,
        transaction_date=WHEN,
        institution_id="a",
        patron_id="b",
        item_id="c",
        title="",
        due_date=due_date,
    )


@pytest.mark.parametrize(
    ("due_date_format", "due_date", "written"),
    [
        ("sip2", datetime(2024, 5, 15, 23, 59), "20240515    235900"),
        ("sip2", datetime(2024, 5, 15, 23, 59, tzinfo=UTC), "20240515   Z235900"),
        ("sip2_utc", datetime(2024, 5, 15, 23, 59, tzinfo=UTC), "20240515   Z235900"),
        ("%Y-%m-%d", datetime(2024, 5, 15), "2024-05-15"),
        ("%m/%d/%Y %H:%M", datetime(2024, 5, 15, 23, 59), "05/15/2024 23:59"),
        ("%d/%m/%Y", datetime(2024, 5, 15), "15/05/2024"),
        ("%d/%m/%Y", None, ""),
    ],
)
def test_due_date_format_is_a_terminal_setting(
    due_date_format: str, due_date: datetime | None, written: str
) -> None:
    settings = TerminalSettings(due_date_format=due_date_format)
    data = encode_message(_due(due_date), settings)
    assert f"AH{written}|".encode() in data
    # Fixed dates keep the SIP2 form whatever the due-date format.
    assert data.startswith(f"121NUY{D}".encode())
    assert parse_message(data, settings) == _due(due_date)


def test_sip2_utc_refuses_a_naive_due_date() -> None:
    with pytest.raises(LocalProtocolError, match="due_date"):
        encode_message(_due(datetime(2024, 5, 15)), TerminalSettings(due_date_format="sip2_utc"))


@pytest.mark.parametrize(
    "options",
    [
        {"encoding": "no-such-codec"},
        {"encoding": "utf-16"},
        {"encoding": "cp500"},
        {"terminator": "\r\r"},
        {"field_delimiter": "||"},
        {"field_delimiter": "A"},
        {"field_delimiter": " "},
        {"field_delimiter": "\r"},
        {"error_detection": "sometimes"},
        {"due_date_format": "iso"},
    ],
)
def test_invalid_settings_are_refused(options: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        TerminalSettings(**options)  # type: ignore[arg-type]
