"""Column types the appliance encrypts itself on a shared PostgreSQL database (PRIV-08).

On SQLite (SQLCipher encrypts the whole file) these types are plain strings with no
processing at all, so nothing on the embedded store gets slower. On any other database a
value is sealed before it is sent and opened when it is read, with the column cipher of the
engine it travels through (``attach_cipher``); an engine without one refuses to write.
Model attributes keep their names and Python types: services never see the sealed form.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

from sqlalchemy import ColumnElement, Engine, String, Text, bindparam, func
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.types import TypeDecorator, TypeEngine

from core.errors import StoreError
from core.security.columns import ColumnCipher, name_words

EMBEDDED_DIALECT = "sqlite"

_ciphers: weakref.WeakKeyDictionary[Dialect, ColumnCipher] = weakref.WeakKeyDictionary()


def attach_cipher(engine: Engine, cipher: ColumnCipher) -> None:
    """Seal and open the sealed columns of everything that runs through `engine`."""
    _ciphers[engine.dialect] = cipher


def _cipher(dialect: Dialect) -> ColumnCipher:
    cipher = _ciphers.get(dialect)
    if cipher is None:
        raise StoreError("this shared store was opened without its column keys")
    return cipher


class _Sealed(TypeDecorator[str]):
    """A string column sealed on shared databases; ``length`` is the limit of the clear value."""

    impl = String
    cache_ok = True
    deterministic = False

    def __init__(self, length: int | None, context: str) -> None:
        super().__init__(length)
        self.context = context
        self._aad = context.encode("ascii")

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[str]:
        if dialect.name == EMBEDDED_DIALECT:
            return dialect.type_descriptor(Text() if self.length is None else String(self.length))
        return dialect.type_descriptor(Text())  # a sealed value is longer than its limit

    def _seal(self, cipher: ColumnCipher, value: str) -> str:
        return cipher.seal(value, self._aad)

    def _open(self, cipher: ColumnCipher, value: str) -> str:
        return cipher.open(value, self._aad)

    def bind_processor(self, dialect: Dialect) -> Callable[[str | None], str | None] | None:
        if dialect.name == EMBEDDED_DIALECT:
            return None

        def seal(value: str | None) -> str | None:
            return None if value is None else self._seal(_cipher(dialect), value)

        return seal

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[str | None], str | None] | None:
        if dialect.name == EMBEDDED_DIALECT:
            return None

        def open_(value: str | None) -> str | None:
            return None if value is None else self._open(_cipher(dialect), value)

        return open_


class SealedText(_Sealed):
    """AES-GCM with a random nonce: names, contact details, notes (never looked up by value)."""

    cache_ok = True


class SealedLookup(_Sealed):
    """AES-SIV, deterministic: looked up by equality (barcodes); equal values seal equally."""

    cache_ok = True
    deterministic = True

    def _seal(self, cipher: ColumnCipher, value: str) -> str:
        return cipher.seal_lookup(value, self._aad)

    def _open(self, cipher: ColumnCipher, value: str) -> str:
        return cipher.open_lookup(value, self._aad)


class WrappedSecret(TypeDecorator[str]):
    """The instance secret: hex on SQLite, wrapped by the key file (longer) on a shared store."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[str]:
        if dialect.name == EMBEDDED_DIALECT:
            return dialect.type_descriptor(String(self.length))
        return dialect.type_descriptor(Text())


WORD_SEPARATOR = ";"  # never in base64url, so it only ever starts a word hash


class SealedName(SealedText):
    """A sealed name followed by the keyed hashes of its words, so the desk can find a patron by
    an exact name word without the server learning the name (PRIV-08): ``<sealed>;<h1>;<h2>``."""

    cache_ok = True

    def _seal(self, cipher: ColumnCipher, value: str) -> str:
        tokens = "".join(WORD_SEPARATOR + cipher.name_token(w) for w in name_words(value))
        return cipher.seal(value, self._aad) + tokens

    def _open(self, cipher: ColumnCipher, value: str) -> str:
        return cipher.open(value.split(WORD_SEPARATOR, 1)[0], self._aad)


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class NameWordPattern(TypeDecorator[str]):
    """The LIKE pattern for one word a desk typed, matched against ``lower(name)``.

    SQLite holds names in clear: the word starts a name (a prefix). A shared database holds
    sealed names: the word must equal a whole name word, found by its keyed hash.
    """

    impl = String
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[str | None], str | None] | None:
        if dialect.name == EMBEDDED_DIALECT:

            def prefix(value: str | None) -> str | None:
                return None if value is None else escape_like(value.lower()) + "%"

            return prefix

        def token(value: str | None) -> str | None:
            if value is None:
                return None
            return f"%{WORD_SEPARATOR}{_cipher(dialect).name_token(value)}%"

        return token


def name_word_matches(
    column: ColumnElement[str] | InstrumentedAttribute[str], word: str
) -> ColumnElement[bool]:
    """Whether the name in `column` matches one typed word (see ``NameWordPattern``)."""
    return func.lower(column).like(bindparam(None, word, type_=NameWordPattern()), escape="\\")
