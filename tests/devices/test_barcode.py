"""Scanner reads: framing (terminators, STX/ETX, idle gap), AIM ids, Codabar start/stop."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.protocols.barcode import (
    MAX_READ_BYTES,
    BarcodeFramer,
    BarcodeFraming,
    Scan,
    Symbology,
    Terminator,
    decode_read,
    encode_read,
)
from devices.protocols.errors import DecodeError, EncodeError

CR = BarcodeFraming()


def reads(data: bytes, framing: BarcodeFraming = CR, *, bytewise: bool = False) -> list[bytes]:
    framer = BarcodeFramer(framing)
    if not bytewise:
        return framer.receive_data(data, 0.0)
    found: list[bytes] = []
    for byte in data:
        found += framer.receive_data(bytes([byte]), 0.0)
    return found


@pytest.mark.parametrize("bytewise", [False, True])
@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        (b"33191000105864\r", [b"33191000105864"]),
        (b"33191000105864\r\n", [b"33191000105864"]),
        (b"33191000105864\n", [b"33191000105864"]),
        (b"\x0233191000105864\x03", [b"33191000105864"]),
        (b"\x0233191000105864\x03\r\n", [b"33191000105864"]),
        (b"A\rB\r\nC\n", [b"A", b"B", b"C"]),
        (b"noise\x02123\x03", [b"123"]),  # STX starts a read: the fragment before it goes
        (b"\r\n\r\n", []),
        (b"123", []),  # no terminator yet
    ],
)
def test_reads_end_at_cr_lf_or_etx(wire: bytes, expected: list[bytes], bytewise: bool) -> None:
    assert reads(wire, bytewise=bytewise) == expected


def test_tab_ends_a_read_only_when_it_is_the_terminator() -> None:
    assert reads(b"12\t34\r") == [b"12\t34"]
    assert reads(b"12\t34\t", BarcodeFraming(terminator="TAB")) == [b"12", b"34"]


def test_without_a_terminator_an_idle_gap_ends_the_read() -> None:
    framer = BarcodeFramer(BarcodeFraming(terminator="none", idle_gap_s=0.05))
    assert framer.deadline is None
    assert framer.receive_data(b"3319", 1.00) == []
    assert framer.receive_data(b"1000", 1.02) == []  # still within the gap
    assert framer.deadline == pytest.approx(1.07)
    assert framer.flush_idle(1.06) == []
    assert framer.flush_idle(1.07) == [b"33191000"]
    assert framer.deadline is None


def test_bytes_after_a_gap_start_a_new_read() -> None:
    framer = BarcodeFramer(BarcodeFraming(terminator="none", idle_gap_s=0.05))
    assert framer.receive_data(b"111", 0.0) == []
    assert framer.receive_data(b"222", 0.2) == [b"111"]
    assert framer.flush_idle(0.3) == [b"222"]


def test_an_overlong_read_is_dropped_and_the_next_one_is_kept() -> None:
    wire = b"9" * (MAX_READ_BYTES + 10) + b"\r33191000105864\r"
    assert reads(wire) == [b"33191000105864"]


@pytest.mark.parametrize(
    ("raw", "scan"),
    [
        (b"]C033191000105864", Scan("33191000105864", Symbology.CODE128, "]C0")),
        (b"]C1010123", Scan("010123", Symbology.GS1_128, "]C1")),
        (b"]A0ABC-123", Scan("ABC-123", Symbology.CODE39, "]A0")),
        (b"]E04006381333931", Scan("4006381333931", Symbology.EAN_UPC, "]E0")),
        (b"]F0A33191000105864B", Scan("33191000105864", Symbology.CODABAR, "]F0")),
        (b"]F4c123d", Scan("123", Symbology.CODABAR, "]F4")),
        (b"]I012345678", Scan("12345678", Symbology.ITF, "]I0")),
        (b"]L0text", Scan("text", Symbology.PDF417, "]L0")),
        (b"]Q1https://x", Scan("https://x", Symbology.QR, "]Q1")),
        (b"]d2abc", Scan("abc", Symbology.DATA_MATRIX, "]d2")),
        (b"]X0abc", Scan("abc", Symbology.OTHER, "]X0")),
        (b"A33191000105864B", Scan("33191000105864")),  # Codabar letters without an AIM id
        (b"33191000105864", Scan("33191000105864")),
        (b"]C0A123B", Scan("A123B", Symbology.CODE128, "]C0")),  # not Codabar: kept
    ],
)
def test_decode_strips_aim_ids_and_codabar_letters(raw: bytes, scan: Scan) -> None:
    assert decode_read(raw, CR) == scan


def test_prefix_and_suffix_are_stripped() -> None:
    framing = BarcodeFraming(prefix="<", suffix=">")
    assert decode_read(b"<]C0123>", framing) == Scan("123", Symbology.CODE128, "]C0")


def test_codabar_stripping_can_be_turned_off() -> None:
    assert decode_read(b"A123B", BarcodeFraming(strip_codabar=False)).data == "A123B"


@pytest.mark.parametrize("raw", [b"", b"]C0", b"12\x0734", b"12\t34", b"\x7f"])
def test_empty_reads_and_control_characters_are_refused(raw: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_read(raw, CR)


@pytest.mark.parametrize("data", ["12\r3", "\x0212", "é€"])
def test_encode_refuses_what_a_scanner_cannot_send(data: str) -> None:
    with pytest.raises(EncodeError):
        encode_read(data, CR)


TERMINATORS: tuple[Terminator, ...] = ("CR", "LF", "CRLF", "TAB", "ETX")
BARCODE = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40
).filter(lambda text: not text.startswith("]"))


@given(
    data=BARCODE,
    terminator=st.sampled_from(TERMINATORS),
    stx_etx=st.booleans(),
    aim=st.sampled_from(["]C0", "]E0", "]A0", "]Q1"]),
    bytewise=st.booleans(),
)
def test_encoded_reads_decode_to_the_same_barcode(
    data: str, terminator: Terminator, stx_etx: bool, aim: str, bytewise: bool
) -> None:
    framing = BarcodeFraming(terminator=terminator, stx_etx=stx_etx)
    wire = encode_read(data, framing, aim) * 2
    found = reads(wire, framing, bytewise=bytewise)
    assert [decode_read(raw, framing).data for raw in found] == [data, data]
    assert decode_read(found[0], framing).aim == aim


@given(data=BARCODE)
def test_idle_gap_framing_round_trips(data: str) -> None:
    framing = BarcodeFraming(terminator="none")
    framer = BarcodeFramer(framing)
    assert framer.receive_data(encode_read(data, framing, "]C0"), 0.0) == []
    (raw,) = framer.flush_idle(1.0)
    assert decode_read(raw, framing).data == data


@given(wire=st.binary(max_size=600), bytewise=st.booleans())
def test_any_bytes_frame_and_decode_or_raise_decode_error(wire: bytes, bytewise: bool) -> None:
    for raw in reads(wire, bytewise=bytewise):
        assert 0 < len(raw) <= MAX_READ_BYTES
        try:
            scan = decode_read(raw, CR)
        except DecodeError:
            continue
        assert scan.data
