"""MARC 21 and MARCXML records read with pymarc, and the bibliographic values an item row needs."""

from __future__ import annotations

import xml.sax
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from xml.sax.handler import feature_external_ges, feature_namespaces
from xml.sax.xmlreader import IncrementalParser

import pymarc

from core.errors import ImportRowError
from core.imports._common import resolve_name

XML_SUFFIXES = frozenset({".xml", ".marcxml"})
_READ_BYTES = 1 << 16
_UTF8_BOM = b"\xef\xbb\xbf"

# Item-type codes seen in Koha, Evergreen and vendor exports, folded to lower case, and the
# media type each stands for (docs/sip2.md, "Value sets"; named as in
# core.policy.rules.MEDIA_TYPES).
MEDIA_CODES: Mapping[str, str] = {
    "bk": "book",
    "book": "book",
    "cr": "magazine",
    "ser": "magazine",
    "magazine": "magazine",
    "dvd": "video",
    "vm": "video",
    "video": "video",
    "cd": "cd",
    "music": "cd",
    "audio": "audio",
    "sr": "audio",
}

_TITLE_TRAILING = " /:;,.=" + "\t"
# Periods stay: they end initials ("Tolkien, J. R. R."), not the heading.
_AUTHOR_TRAILING = " /:;,=" + "\t"
_AUTHOR_TAGS = ("100", "110", "700")


def is_marcxml(path: Path) -> bool:
    """MARCXML by its suffix, or by a `<` as the first thing in the file."""
    if path.suffix.lower() in XML_SUFFIXES:
        return True
    with path.open("rb") as handle:
        start = handle.read(64).removeprefix(_UTF8_BOM).lstrip()
    return start.startswith(b"<")


def marc_records(path: Path) -> Iterator[tuple[int, pymarc.Record]]:
    """Yield (1-based record number, record) from a MARC 21 or MARCXML file.

    A record that cannot be read ends the file with an ImportRowError naming its number.
    """
    if is_marcxml(path):
        yield from _xml_records(path)
    else:
        yield from _binary_records(path)


def _binary_records(path: Path) -> Iterator[tuple[int, pymarc.Record]]:
    with path.open("rb") as handle:
        reader = pymarc.MARCReader(handle, to_unicode=True, permissive=True)
        for number, record in enumerate(reader, start=1):
            if record is None:
                # Name the kind of damage only: pymarc's messages may quote record bytes.
                kind = type(reader.current_exception).__name__
                raise ImportRowError(number, f"MARC record cannot be read ({kind})")
            yield number, record


def _xml_records(path: Path) -> Iterator[tuple[int, pymarc.Record]]:
    # Fed in chunks so a large file is never held whole; pymarc's handler builds the records.
    handler = pymarc.XmlHandler()  # type: ignore[no-untyped-call]  # pymarc leaves it unannotated
    parser = xml.sax.make_parser()  # noqa: S317 - external entities are switched off below
    if not isinstance(parser, IncrementalParser):
        raise TypeError("the XML parser cannot be fed incrementally")
    parser.setFeature(feature_namespaces, True)
    parser.setFeature(feature_external_ges, False)
    parser.setContentHandler(handler)
    number = 0
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(_READ_BYTES)
            broken = False
            try:
                if chunk:
                    parser.feed(chunk)
                else:
                    parser.close()
            except xml.sax.SAXException:
                broken = True
            # Records completed before the damage are passed on, so the error names the right one.
            records: list[pymarc.Record] = handler.records
            for record in records:
                number += 1
                yield number, record
            records.clear()
            if broken:
                raise ImportRowError(number + 1, "MARCXML is not well-formed here")
            if not chunk:
                return


def _first(field: pymarc.Field, code: str) -> str:
    value = field.get(code)
    return value.strip() if value else ""


def title_of(record: pymarc.Record) -> str:
    """245 $a, with $b after a colon; ISBD punctuation at the ends removed."""
    field = record.get("245")
    if field is None:
        return ""
    main = _first(field, "a").rstrip(_TITLE_TRAILING)
    rest = _first(field, "b").rstrip(_TITLE_TRAILING)
    return f"{main}: {rest}" if main and rest else main or rest


def author_of(record: pymarc.Record) -> str:
    """The first $a of 100, then 110, then 700."""
    for tag in _AUTHOR_TAGS:
        for field in record.get_fields(tag):
            name = _first(field, "a").rstrip(_AUTHOR_TRAILING)
            if name:
                return name
    return ""


def isbn_of(record: pymarc.Record) -> str:
    """The first token of the first 020 $a ("0140328726 (pbk.)" gives "0140328726")."""
    for field in record.get_fields("020"):
        tokens = _first(field, "a").split()
        if tokens:
            return tokens[0]
    return ""


def holdings_value(field: pymarc.Field, code: str) -> str:
    """The first value of subfield `code` of a holdings field, trimmed, or ""."""
    return _first(field, code)


def media_type_for(code: str, media_types: Collection[str]) -> str:
    """The media type an item-type code stands for.

    Known codes map through MEDIA_CODES; a code that is itself a configured media type stays;
    anything else becomes "other" when that is configured, else stays as it is so that
    validation reports it for its record.
    """
    code = code.strip()
    known = MEDIA_CODES.get(code.casefold())
    if known is not None:
        return known
    configured = tuple(media_types)
    named = resolve_name(code, configured)
    if named is not None:
        return named
    return "other" if "other" in configured else code
