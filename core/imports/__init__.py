"""All-or-nothing imports: items from CSV, MARC 21 or MARCXML, and patrons from CSV."""

from core.imports._common import MAX_ERRORS, ImportFailed, ImportReport
from core.imports.items import (
    ItemRow,
    MarcHoldings,
    import_items,
    read_items_csv,
    read_items_marc,
)
from core.imports.patrons import PatronRow, import_patrons, read_patrons_csv

__all__ = [
    "MAX_ERRORS",
    "ImportFailed",
    "ImportReport",
    "ItemRow",
    "MarcHoldings",
    "PatronRow",
    "import_items",
    "import_patrons",
    "read_items_csv",
    "read_items_marc",
    "read_patrons_csv",
]
