"""Item imports from MARC 21 and MARCXML files built with pymarc, with 952 and 949 holdings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pymarc
import pytest
from pymarc import Field, Indicators, Subfield
from sqlalchemy import select

from core.imports import (
    ImportFailed,
    ImportReport,
    ItemRow,
    MarcHoldings,
    import_items,
    read_items_marc,
)
from core.model import Item, Record
from core.policy.rules import CirculationRules
from core.services.actors import local_admin
from core.store.uow import Store
from tests.core.test_imports import table_counts, with_rules

ADMIN = local_admin()
KOHA = MarcHoldings()
# Innovative-style 949: $i barcode, $a call number, $l location, $t item type, $b branch.
III = MarcHoldings(
    tag="949", barcode="i", call_number="a", location="l", media_type="t", branch="b"
)


def bib(
    title: list[tuple[str, str]],
    *,
    author: tuple[str, str] | None = None,
    isbn: str | None = None,
    holdings: list[list[tuple[str, str]]] | None = None,
    tag: str = "952",
) -> pymarc.Record:
    fields = [Field(tag="001", data="ocm0001")]
    if isbn is not None:
        fields.append(Field("020", Indicators(" ", " "), [Subfield("a", isbn)]))
    if author is not None:
        author_tag, name = author
        fields.append(Field(author_tag, Indicators("1", " "), [Subfield("a", name)]))
    fields.append(Field("245", Indicators("1", "0"), [Subfield(c, v) for c, v in title]))
    for subfields in holdings or []:
        fields.append(Field(tag, Indicators(" ", " "), [Subfield(c, v) for c, v in subfields]))
    # Leader position 9 "a": the record is UTF-8 (a blank would mean MARC-8).
    return pymarc.Record(fields=fields, force_utf8=True, leader=" " * 9 + "a" + " " * 14)


def sample_records(tag: str = "952", codes: MarcHoldings = KOHA) -> list[pymarc.Record]:
    def copy(
        barcode: str, media: str, call: str = "", location: str = "", branch: str = ""
    ) -> list[tuple[str, str]]:
        values = [
            (codes.barcode, barcode),
            (codes.media_type, media),
            (codes.call_number, call),
            (codes.location, location),
            (codes.branch, branch),
        ]
        return [(code, value) for code, value in values if value]

    return [
        bib(
            [("a", "The hobbit, or, There and back again /")],
            author=("100", "Tolkien, J. R. R.,"),
            isbn="0261102214 (pbk.)",
            holdings=[
                copy("H1", "BK", "823.912 TOL", "stacks", "MAIN"),
                copy("H2", "bk", "823.912 TOL", "stacks"),
                [(codes.call_number, "no barcode, not an item")],
            ],
            tag=tag,
        ),
        bib(
            [("a", "Café society :"), ("b", "a film /")],
            author=("700", "Allen, Woody."),
            holdings=[copy("V1", "DVD", "791.43 CAF", "av")],
            tag=tag,
        ),
        bib(
            [("a", "Annual report.")],
            author=("110", "Parish Council,"),
            holdings=[copy("R1", "ZZZ")],
            tag=tag,
        ),
    ]


def write_marc(path: Path, records: list[pymarc.Record]) -> Path:
    path.write_bytes(b"".join(record.as_marc() for record in records))
    return path


def write_marcxml(path: Path, records: list[pymarc.Record]) -> Path:
    writer = pymarc.XMLWriter(path.open("wb"))
    for record in records:
        writer.write(record)
    writer.close()
    return path


Writer = Callable[[Path, list[pymarc.Record]], Path]

EXPECTED = [
    (1, ItemRow("H1", "The hobbit, or, There and back again", "Tolkien, J. R. R.", "0261102214",
                "823.912 TOL", "book", "stacks", "MAIN")),
    (1, ItemRow("H2", "The hobbit, or, There and back again", "Tolkien, J. R. R.", "0261102214",
                "823.912 TOL", "book", "stacks", "")),
    (2, ItemRow("V1", "Café society: a film", "Allen, Woody.", "", "791.43 CAF", "video", "av",
                "")),
    (3, ItemRow("R1", "Annual report", "Parish Council", "", "", "other", "", "")),
]  # fmt: skip


def test_marc21_rows(tmp_path: Path) -> None:
    path = write_marc(tmp_path / "export.mrc", sample_records())
    assert list(read_items_marc(path, KOHA)) == EXPECTED


@pytest.mark.parametrize("name", ["export.xml", "export.marcxml", "export.dat"])
def test_marcxml_rows_by_suffix_or_content(tmp_path: Path, name: str) -> None:
    path = write_marcxml(tmp_path / name, sample_records())
    assert list(read_items_marc(path, KOHA)) == EXPECTED


def test_marcxml_without_namespace(tmp_path: Path) -> None:
    path = tmp_path / "plain.xml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<collection><record>'
        '<datafield tag="245" ind1="0" ind2="0"><subfield code="a">Plain /</subfield></datafield>'
        '<datafield tag="952" ind1=" " ind2=" "><subfield code="p">P1</subfield>'
        '<subfield code="y">CR</subfield></datafield></record></collection>',
        encoding="utf-8",
    )
    assert list(read_items_marc(path, KOHA)) == [
        (1, ItemRow("P1", "Plain", "", "", "", "magazine", "", ""))
    ]


def test_949_holdings(tmp_path: Path) -> None:
    path = write_marc(tmp_path / "iii.mrc", sample_records("949", III))
    rows = list(read_items_marc(path, III))
    assert rows == EXPECTED
    # The same file read as 952 has no holdings at all.
    assert list(read_items_marc(path, KOHA)) == []


@pytest.mark.parametrize("writer", [write_marc, write_marcxml])
def test_import_marc_into_the_store(
    store: Store, now: dt.datetime, tmp_path: Path, writer: Writer
) -> None:
    path = writer(tmp_path / "export", sample_records())
    rules = CirculationRules(branches=("main", "east"))
    with store.write() as uow:
        report = import_items(with_rules(uow, rules), ADMIN, now, read_items_marc(path, KOHA))
    assert report == ImportReport(rows=4, records_created=3, items_created=4)
    with store.read() as uow:
        items = {item.barcode: item for item in uow.session.scalars(select(Item))}
        assert items["H1"].record_id == items["H2"].record_id
        assert items["H1"].home_branch == "main"  # "MAIN" names the configured branch
        assert items["V1"].record.title == "Café society: a film"
        assert items["R1"].media_type == "other"
        assert sorted(uow.session.scalars(select(Record.isbn))) == ["", "", "0261102214"]


def test_unknown_item_type_without_other_is_an_error_for_its_record(
    store: Store, now: dt.datetime, tmp_path: Path
) -> None:
    media_types = ("book", "video")
    rules = CirculationRules(media_types=media_types)
    path = write_marc(tmp_path / "export.mrc", sample_records())
    rows = read_items_marc(path, KOHA, media_types=media_types)
    with pytest.raises(ImportFailed) as caught, store.write() as uow:
        import_items(with_rules(uow, rules), ADMIN, now, rows)
    assert [str(e) for e in caught.value.errors] == [
        "line 3: media type 'ZZZ' is not configured (configured: book, video)"
    ]
    assert table_counts(store)["items"] == 0


def test_duplicate_barcodes_name_the_records(
    store: Store, now: dt.datetime, tmp_path: Path
) -> None:
    records = sample_records()
    records.append(bib([("a", "Again")], holdings=[[("p", "V1"), ("y", "BK")]]))
    path = write_marcxml(tmp_path / "export.xml", records)
    with pytest.raises(ImportFailed) as caught, store.write() as uow:
        import_items(uow, ADMIN, now, read_items_marc(path, KOHA))
    assert [str(e) for e in caught.value.errors] == ["line 4: duplicate barcode (also on line 2)"]


def test_truncated_marc21_names_the_record(store: Store, now: dt.datetime, tmp_path: Path) -> None:
    data = b"".join(record.as_marc() for record in sample_records())
    path = tmp_path / "cut.mrc"
    path.write_bytes(data[:-40])
    with pytest.raises(ImportFailed) as caught, store.write() as uow:
        import_items(uow, ADMIN, now, read_items_marc(path, KOHA))
    assert [e.line for e in caught.value.errors] == [3]
    assert "cannot be read" in caught.value.errors[0].reason
    assert table_counts(store)["items"] == 0


def test_broken_marcxml_names_where(store: Store, now: dt.datetime, tmp_path: Path) -> None:
    path = write_marcxml(tmp_path / "export.xml", sample_records())
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("</record>", "</recrd>", 2).replace("</recrd>", "</record>", 1))
    with pytest.raises(ImportFailed) as caught, store.write() as uow:
        import_items(uow, ADMIN, now, read_items_marc(path, KOHA))
    assert [str(e) for e in caught.value.errors] == ["line 2: MARCXML is not well-formed here"]
