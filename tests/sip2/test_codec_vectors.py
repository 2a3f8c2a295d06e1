"""Wire vectors for every SIP2 message, run in both directions, and the checksum vectors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sip2.codec import (
    MESSAGE_TYPES,
    ACSStatus,
    BlockPatron,
    Checkin,
    CheckinResponse,
    Checkout,
    CheckoutResponse,
    Connection,
    EndPatronSession,
    EndSessionResponse,
    FeePaid,
    FeePaidResponse,
    Hold,
    HoldResponse,
    ItemInformation,
    ItemInformationResponse,
    ItemStatusUpdate,
    ItemStatusUpdateResponse,
    Login,
    LoginResponse,
    Message,
    PatronEnable,
    PatronEnableResponse,
    PatronInformation,
    PatronInformationResponse,
    PatronStatus,
    PatronStatusRequest,
    PatronStatusResponse,
    Renew,
    RenewAll,
    RenewAllResponse,
    RenewResponse,
    RequestACSResend,
    RequestSCResend,
    SCStatus,
    Summary,
    TerminalSettings,
    checksum,
    encode_message,
    parse_message,
)

SETTINGS = TerminalSettings()
WHEN = datetime(2024, 5, 1, 12, 0, 0)
D = "20240501    120000"  # WHEN, local time
DUE = datetime(2024, 5, 15, 23, 59, 0)
DUE_WIRE = "20240515    235900"
EXPIRES = datetime(2024, 8, 1, 0, 0, 0, tzinfo=UTC)
EXPIRES_WIRE = "20240801   Z000000"
BLANK = " " * 18
ALL_SUPPORTED = frozenset(
    ["23", "11", "09", "01", "99", "97", "93", "63", "35", "37", "17", "19", "25", "15", "29", "65"]
)

REQUESTS: list[tuple[str, Message]] = [
    (
        "9300CNkiosk1|COsecret|CPmain|",
        Login(login_user_id="kiosk1", login_password="secret", location_code="main"),
    ),
    ("9900802.00", SCStatus(status_code="0", max_print_width=80, protocol_version="2.00")),
    (
        f"23000{D}AOlib|AA1234|AC|AD9999|",
        PatronStatusRequest(
            transaction_date=WHEN,
            institution_id="lib",
            patron_id="1234",
            terminal_password="",
            patron_password="9999",
        ),
    ),
    (
        f"11YN{D}{BLANK}AOlib|AA1234|ABitem42|AC|ADpin|BON|",
        Checkout(
            sc_renewal_policy=True,
            no_block=False,
            transaction_date=WHEN,
            nb_due_date=None,
            institution_id="lib",
            patron_id="1234",
            item_id="item42",
            terminal_password="",
            patron_password="pin",
            fee_acknowledged=False,
        ),
    ),
    (
        f"09N{D}{D}APdesk|AOlib|ABitem42|AC|BIY|",
        Checkin(
            no_block=False,
            transaction_date=WHEN,
            return_date=WHEN,
            current_location="desk",
            institution_id="lib",
            item_id="item42",
            terminal_password="",
            cancel=True,
        ),
    ),
    (
        f"63000{D}  Y       AOlib|AA1234|ADpin|BP1|BQ5|",
        PatronInformation(
            transaction_date=WHEN,
            summary=Summary(charged_items=True),
            institution_id="lib",
            patron_id="1234",
            patron_password="pin",
            start_item=1,
            end_item=5,
        ),
    ),
    (
        f"17{D}AOlib|ABitem42|AC|",
        ItemInformation(
            transaction_date=WHEN, institution_id="lib", item_id="item42", terminal_password=""
        ),
    ),
    (
        f"37{D}0400USDBV2.50|AOlib|AA1234|CGfee7|BKtx1|",
        FeePaid(
            transaction_date=WHEN,
            fee_type="04",
            payment_type="00",
            currency_type="USD",
            fee_amount="2.50",
            institution_id="lib",
            patron_id="1234",
            fee_identifier="fee7",
            transaction_id="tx1",
        ),
    ),
    (
        f"29NN{D}{BLANK}AOlib|AA1234|ABitem42|",
        Renew(
            third_party_allowed=False,
            no_block=False,
            transaction_date=WHEN,
            institution_id="lib",
            patron_id="1234",
            item_id="item42",
        ),
    ),
    (
        f"65{D}AOlib|AA1234|ADpin|",
        RenewAll(
            transaction_date=WHEN, institution_id="lib", patron_id="1234", patron_password="pin"
        ),
    ),
    (
        f"35{D}AOlib|AA1234|",
        EndPatronSession(transaction_date=WHEN, institution_id="lib", patron_id="1234"),
    ),
    (
        f"01Y{D}AOlib|ALcard swallowed|AA1234|AC|",
        BlockPatron(
            card_retained=True,
            transaction_date=WHEN,
            institution_id="lib",
            blocked_card_message="card swallowed",
            patron_id="1234",
            terminal_password="",
        ),
    ),
    (
        f"15+{D}BW{EXPIRES_WIRE}|BSmain|BY2|AOlib|AA1234|ABitem42|",
        Hold(
            hold_mode="+",
            transaction_date=WHEN,
            expiration_date=EXPIRES,
            pickup_location="main",
            hold_type="2",
            institution_id="lib",
            patron_id="1234",
            item_id="item42",
        ),
    ),
    (
        f"19{D}AOlib|ABitem42|CHfragile|",
        ItemStatusUpdate(
            transaction_date=WHEN, institution_id="lib", item_id="item42", item_properties="fragile"
        ),
    ),
    (
        f"25{D}AOlib|AA1234|",
        PatronEnable(transaction_date=WHEN, institution_id="lib", patron_id="1234"),
    ),
    ("97", RequestACSResend()),
]

RESPONSES: list[tuple[str, Message]] = [
    ("941", LoginResponse(ok=True)),
    ("940", LoginResponse(ok=False)),
    (
        f"98YYYNYN100003{D}2.00AOlib|AMMain Library|BXYYYYYYYYYYYYYYYY|ANdesk|AFWelcome|",
        ACSStatus(
            online_status=True,
            checkin_ok=True,
            checkout_ok=True,
            acs_renewal_policy=False,
            status_update_ok=True,
            offline_ok=False,
            timeout_period=100,
            retries_allowed=3,
            date_time_sync=WHEN,
            institution_id="lib",
            library_name="Main Library",
            supported_messages=ALL_SUPPORTED,
            terminal_location="desk",
            screen_messages=("Welcome",),
        ),
    ),
    (
        f"98YNNNNN999999{D}2.00AOlib|AM|BXNNNNYNYNNNNNNNNN|",
        ACSStatus(
            online_status=True,
            checkin_ok=False,
            checkout_ok=False,
            acs_renewal_policy=False,
            status_update_ok=False,
            offline_ok=False,
            timeout_period=999,
            retries_allowed=999,
            date_time_sync=WHEN,
            institution_id="lib",
            library_name="",
            supported_messages=frozenset({"99", "93"}),
        ),
    ),
    (
        f"24  Y           000{D}AOlib|AA1234|AEAda|BLY|CQN|BHEUR|BV1.00|AFBlocked|",
        PatronStatusResponse(
            patron_status=PatronStatus(recall_privileges_denied=True),
            transaction_date=WHEN,
            institution_id="lib",
            patron_id="1234",
            personal_name="Ada",
            valid_patron=True,
            valid_patron_password=False,
            currency_type="EUR",
            fee_amount="1.00",
            screen_messages=("Blocked",),
        ),
    ),
    (
        f"121NNY{D}AOlib|AA1234|ABitem42|AJA Book|AH{DUE_WIRE}|CK001|",
        CheckoutResponse(
            ok=True,
            renewal_ok=False,
            magnetic_media=False,
            desensitize=True,
            transaction_date=WHEN,
            institution_id="lib",
            patron_id="1234",
            item_id="item42",
            title="A Book",
            due_date=DUE,
            media_type="001",
        ),
    ),
    (
        f"120NUN{D}AOlib|AA1234|ABitem42|AJ|AH|AFNot allowed|AFAsk staff|",
        CheckoutResponse(
            ok=False,
            renewal_ok=False,
            magnetic_media=None,
            desensitize=False,
            transaction_date=WHEN,
            institution_id="lib",
            patron_id="1234",
            item_id="item42",
            title="",
            due_date=None,
            screen_messages=("Not allowed", "Ask staff"),
        ),
    ),
    (
        f"301YNY{D}AOlib|AA1234|ABitem42|AJA Book|AH{DUE_WIRE}|BT04|CIN|BHEUR|BV0.50|BKtx9|",
        RenewResponse(
            ok=True,
            renewal_ok=True,
            magnetic_media=False,
            desensitize=True,
            transaction_date=WHEN,
            institution_id="lib",
            patron_id="1234",
            item_id="item42",
            title="A Book",
            due_date=DUE,
            fee_type="04",
            security_inhibit=False,
            currency_type="EUR",
            fee_amount="0.50",
            transaction_id="tx9",
        ),
    ),
    (
        f"101YNN{D}AOlib|ABitem42|AQstacks|AJA Book|CLbin3|CK001|",
        CheckinResponse(
            ok=True,
            resensitize=True,
            magnetic_media=False,
            alert=False,
            transaction_date=WHEN,
            institution_id="lib",
            item_id="item42",
            permanent_location="stacks",
            title="A Book",
            sort_bin="bin3",
            media_type="001",
        ),
    ),
    (
        f"64              000{D}000100000002000000000000"
        "AOlib|AA1234|AEAda|BZ0010|CA0005|CB0020|BLY|CQY|AUitem1|AUitem2|",
        PatronInformationResponse(
            patron_status=PatronStatus(),
            transaction_date=WHEN,
            hold_items_count=1,
            overdue_items_count=0,
            charged_items_count=2,
            fine_items_count=0,
            recall_items_count=0,
            unavailable_holds_count=0,
            institution_id="lib",
            patron_id="1234",
            personal_name="Ada",
            hold_items_limit=10,
            overdue_items_limit=5,
            charged_items_limit=20,
            valid_patron=True,
            valid_patron_password=True,
            charged_items=("item1", "item2"),
        ),
    ),
    (
        f"18040101{D}CF2|AH{DUE_WIRE}|ABitem42|AJA Book|CK001|AQstacks|",
        ItemInformationResponse(
            circulation_status="04",
            security_marker="01",
            fee_type="01",
            transaction_date=WHEN,
            hold_queue_length=2,
            due_date=DUE,
            item_id="item42",
            title="A Book",
            media_type="001",
            permanent_location="stacks",
        ),
    ),
    (
        f"38Y{D}AOlib|AA1234|BKtx1|",
        FeePaidResponse(
            payment_accepted=True,
            transaction_date=WHEN,
            institution_id="lib",
            patron_id="1234",
            transaction_id="tx1",
        ),
    ),
    (
        f"66100020001{D}AOlib|BMitem1|BMitem2|BNitem3|",
        RenewAllResponse(
            ok=True,
            renewed_count=2,
            unrenewed_count=1,
            transaction_date=WHEN,
            institution_id="lib",
            renewed_items=("item1", "item2"),
            unrenewed_items=("item3",),
        ),
    ),
    (
        f"36Y{D}AOlib|AA1234|AFGoodbye|",
        EndSessionResponse(
            end_session=True,
            transaction_date=WHEN,
            institution_id="lib",
            patron_id="1234",
            screen_messages=("Goodbye",),
        ),
    ),
    (
        f"161N{D}BW{EXPIRES_WIRE}|BR3|BSmain|AOlib|AA1234|ABitem42|",
        HoldResponse(
            ok=True,
            available=False,
            transaction_date=WHEN,
            expiration_date=EXPIRES,
            queue_position=3,
            pickup_location="main",
            institution_id="lib",
            patron_id="1234",
            item_id="item42",
        ),
    ),
    (
        f"201{D}ABitem42|CHfragile|",
        ItemStatusUpdateResponse(
            item_properties_ok=True,
            transaction_date=WHEN,
            item_id="item42",
            item_properties="fragile",
        ),
    ),
    (
        f"26              000{D}AOlib|AA1234|AEAda|BLY|",
        PatronEnableResponse(
            patron_status=PatronStatus(),
            transaction_date=WHEN,
            institution_id="lib",
            patron_id="1234",
            personal_name="Ada",
            valid_patron=True,
        ),
    ),
    ("96", RequestSCResend()),
]

VECTORS = REQUESTS + RESPONSES


def test_every_message_type_has_a_vector() -> None:
    covered = {type(message) for _, message in VECTORS}
    assert covered == set(MESSAGE_TYPES.values())
    assert len(MESSAGE_TYPES) == 31


@pytest.mark.parametrize(("wire", "message"), VECTORS, ids=lambda v: getattr(v, "COMMAND", None))
def test_parse_vector(wire: str, message: Message) -> None:
    assert parse_message(wire.encode("cp850"), SETTINGS) == message


@pytest.mark.parametrize(("wire", "message"), VECTORS, ids=lambda v: getattr(v, "COMMAND", None))
def test_encode_vector(wire: str, message: Message) -> None:
    assert encode_message(message, SETTINGS) == wire.encode("cp850")


@pytest.mark.parametrize(("wire", "message"), REQUESTS, ids=lambda v: getattr(v, "COMMAND", None))
def test_request_travels_from_sc_to_acs(wire: str, message: Message) -> None:
    sc = Connection("sc", TerminalSettings())
    acs = Connection("acs", TerminalSettings())
    data = sc.send(message)
    assert data.startswith(wire.encode("cp850"))
    acs.receive_data(data)
    if isinstance(message, RequestACSResend):
        assert acs.next_event() == RequestACSResend()  # nothing sent yet
    else:
        assert acs.next_event() == message


@pytest.mark.parametrize(("wire", "message"), RESPONSES, ids=lambda v: getattr(v, "COMMAND", None))
def test_response_travels_from_acs_to_sc(wire: str, message: Message) -> None:
    acs = Connection("acs", TerminalSettings(error_detection="require"))
    sc = Connection("sc", TerminalSettings(error_detection="require"))
    data = acs.send(message)
    assert data.startswith(wire.encode("cp850"))
    sc.receive_data(data)
    assert sc.next_event() == message


@pytest.mark.parametrize(
    ("covered", "expected"),
    [
        (b"9300CNuser_id|COpassw0rd|AY1AZ", "F594"),
        (b"96AZ", "FEF6"),
        (b"97AZ", "FEF5"),
    ],
)
def test_checksum_vectors(covered: bytes, expected: str) -> None:
    assert checksum(covered) == expected


def test_login_vector_from_the_kiosk_side() -> None:
    sc = Connection("sc", TerminalSettings())
    login = Login(login_user_id="user_id", login_password="passw0rd")
    sc.send(login)  # AY0
    assert sc.send(login) == b"9300CNuser_id|COpassw0rd|AY1AZF594\r"


def test_login_vector_read_by_the_acs() -> None:
    acs = Connection("acs", TerminalSettings())
    acs.receive_data(b"9300CNuser_id|COpassw0rd|AY1AZF594\r")
    assert acs.next_event() == Login(login_user_id="user_id", login_password="passw0rd")
    assert acs.send(LoginResponse(ok=True)) == b"941AY1AZFDFC\r"


def test_resend_vectors() -> None:
    sc = Connection("sc", TerminalSettings())
    assert sc.send(RequestACSResend()) == b"97AZFEF5\r"
    acs = Connection("acs", TerminalSettings(error_detection="require"))
    assert acs.send(RequestSCResend()) == b"96AZFEF6\r"
