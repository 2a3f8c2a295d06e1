"""A strict loader that builds nested frozen dataclasses from TOML data, and its ConfigError."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar, cast

from core.errors import ReticentError

T = TypeVar("T")

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SHOWN_CHARS = 40  # longer strings are cut in messages so one bad value cannot flood a log


class ConfigError(ReticentError):
    """The configuration cannot be used; the message names the file and the dotted key."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        super().__init__(f"{source}: {key}: {problem}" if key else f"{source}: {problem}")


def join_key(path: str, name: str) -> str:
    """Return the dotted key of `name` inside the table at `path`, quoting it as TOML would."""
    part = name if _BARE_KEY.fullmatch(name) else '"' + name.replace('"', '\\"') + '"'
    return f"{path}.{part}" if path else part


def load_dataclass(
    cls: type[T],
    data: Mapping[str, object],
    *,
    source: str,
    path: str = "",
    base_dir: Path | None = None,
) -> T:
    """Build `cls` from `data`: missing keys keep the defaults, unknown keys or wrong types raise.

    `source` names the file in error messages, `path` is the dotted key of `data` in it, and
    relative paths in the data are taken relative to `base_dir` (the current folder if None).
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    loader = _Loader(source, Path(os.path.abspath(base_dir or Path.cwd())))
    return cast(T, loader.build(cls, data, path, None))


def _show(value: object) -> str:
    """Describe a TOML value the way the librarian wrote it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if len(value) > _SHOWN_CHARS:
            return repr(value[: _SHOWN_CHARS - 3] + "...")
        return repr(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.datetime | dt.time):
        return f"a date-time ({value.isoformat()})"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "an array"
    return type(value).__name__


def _is_optional(tp: object) -> bool:
    return typing.get_origin(tp) in (types.UnionType, typing.Union)


class _Loader:
    def __init__(self, source: str, base_dir: Path) -> None:
        self.source = source
        self.base_dir = base_dir

    def error(self, key: str, problem: str) -> ConfigError:
        return ConfigError(self.source, key, problem)

    def mismatch(self, key: str, expected: str, value: object) -> ConfigError:
        return self.error(key, f"expected {expected}, got {_show(value)}")

    def build(self, cls: type, data: object, path: str, base: object | None) -> object:
        """Build one dataclass; keys missing from `data` come from `base`, else the defaults."""
        if not isinstance(data, Mapping):
            raise self.mismatch(path or "(top level)", "a table", data)
        fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
        hints = typing.get_type_hints(cls)
        for name in data:
            if name not in fields:
                raise self.error(join_key(path, str(name)), "unknown key")
        values: dict[str, object] = {}
        for name, field in fields.items():
            key = join_key(path, name)
            if name in data:
                values[name] = self.convert(hints[name], data[name], key, _current(field, base))
            elif base is not None:
                values[name] = getattr(base, name)
            elif _required(field):
                raise self.error(key, "missing key")
        return cls(**values)

    def convert(self, tp: object, value: object, key: str, current: object | None) -> object:
        """Check `value` against the annotation `tp`; `current` is what a partial table extends."""
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if _is_optional(tp):
            inner = [arg for arg in args if arg is not type(None)]
            if len(inner) != 1:
                raise TypeError(f"unsupported annotation {tp!r} at {key}")
            return self.convert(inner[0], value, key, current)
        if origin is typing.Literal:
            if any(type(arg) is type(value) and arg == value for arg in args):
                return value
            raise self.mismatch(key, "one of " + ", ".join(repr(arg) for arg in args), value)
        if origin is tuple:
            if len(args) != 2 or args[1] is not Ellipsis:
                raise TypeError(f"unsupported annotation {tp!r} at {key}")
            return tuple(self.items(args[0], value, key))
        if origin is frozenset:
            return frozenset(self.items(args[0], value, key))
        if origin is Mapping:
            return self.mapping(args[1], value, key)
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            base = current if isinstance(current, tp) else None
            return self.build(tp, value, key, base)
        if isinstance(tp, type):
            return self.scalar(tp, value, key)
        raise TypeError(f"unsupported annotation {tp!r} at {key}")

    def items(self, tp: object, value: object, key: str) -> list[object]:
        if not isinstance(value, list | tuple):
            raise self.mismatch(key, "an array", value)
        return [self.convert(tp, item, f"{key}[{i}]", None) for i, item in enumerate(value)]

    def mapping(self, tp: object, value: object, key: str) -> Mapping[str, object]:
        # A table given in the file replaces the default mapping entirely: merging would keep
        # rules the librarian believes were removed.
        if not isinstance(value, Mapping):
            raise self.mismatch(key, "a table", value)
        converted = {
            str(name): self.convert(tp, item, join_key(key, str(name)), None)
            for name, item in value.items()
        }
        return types.MappingProxyType(converted)

    def scalar(self, tp: type, value: object, key: str) -> object:
        if tp is bool:
            if isinstance(value, bool):
                return value
            raise self.mismatch(key, "true or false", value)
        if tp is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            raise self.mismatch(key, "an integer", value)
        if tp is float:
            if isinstance(value, int | float) and not isinstance(value, bool):
                if not math.isfinite(value):
                    raise self.mismatch(key, "a finite number", value)
                return float(value)
            raise self.mismatch(key, "a number", value)
        if tp is str:
            if isinstance(value, str):
                return value
            raise self.mismatch(key, "a string", value)
        if tp is dt.date:
            return self.date(value, key)
        if tp is Path:
            if not isinstance(value, str) or not value:
                raise self.mismatch(key, "a path (a non-empty string)", value)
            return Path(os.path.normpath(self.base_dir / Path(value).expanduser()))
        raise TypeError(f"unsupported annotation {tp!r} at {key}")

    def date(self, value: object, key: str) -> dt.date:
        expected = "a date (YYYY-MM-DD)"
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date | str):
            raise self.mismatch(key, expected, value)
        if isinstance(value, dt.date):
            return value
        if not _DATE.fullmatch(value):
            raise self.mismatch(key, expected, value)
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise self.error(key, f"no such date: {_show(value)}") from None


def _required(field: dataclasses.Field[object]) -> bool:
    no_factory = field.default_factory is dataclasses.MISSING
    return field.default is dataclasses.MISSING and no_factory


def _current(field: dataclasses.Field[object], base: object | None) -> object | None:
    """Return the value a partial nested table extends: the base's, else the field default."""
    if base is not None:
        return cast(object, getattr(base, field.name))
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None
