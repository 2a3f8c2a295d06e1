"""Tests of the generic strict dataclass loader."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import pytest

from config.loader import ConfigError, load_dataclass
from core.errors import ReticentError

SOURCE = "sample.toml"


@dataclasses.dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    tls: bool = False


@dataclasses.dataclass(frozen=True)
class Inner:
    a: int = 1
    b: int = 2


@dataclasses.dataclass(frozen=True)
class Sample:
    name: str = "demo"
    ratio: float = 0.5
    count: int = 3
    enabled: bool = True
    opened: dt.date | None = None
    folder: Path | None = None
    mode: Literal["NORMAL", "FULL"] = "FULL"
    inner: Inner = Inner(a=5)
    endpoints: tuple[Endpoint, ...] = (Endpoint("127.0.0.1", 1),)
    days: frozenset[int] = frozenset({6})
    groups: Mapping[str, Mapping[str, Inner]] = dataclasses.field(
        default_factory=lambda: {"x": {"y": Inner(a=9)}, "z": {}}
    )


def load(text: str, base_dir: Path | None = None) -> Sample:
    return load_dataclass(Sample, tomllib.loads(text), source=SOURCE, base_dir=base_dir)


def message_of(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(text)
    return str(caught.value)


def test_empty_table_gives_the_defaults() -> None:
    assert load("") == Sample()


def test_scalars_are_read() -> None:
    sample = load('name = "n"\nratio = 2\ncount = 7\nenabled = false\nmode = "NORMAL"')
    assert sample == Sample(name="n", ratio=2.0, count=7, enabled=False, mode="NORMAL")
    assert isinstance(sample.ratio, float)


def test_dates_come_as_toml_dates_or_iso_strings() -> None:
    assert load("opened = 2024-03-01").opened == dt.date(2024, 3, 1)
    assert load('opened = "2024-03-01"').opened == dt.date(2024, 3, 1)


def test_relative_paths_are_taken_from_the_base_dir(tmp_path: Path) -> None:
    assert load('folder = "data/x"', tmp_path).folder == tmp_path / "data" / "x"
    assert load('folder = "../y"', tmp_path / "sub").folder == tmp_path / "y"
    assert load('folder = "/srv/reticent"', tmp_path).folder == Path("/srv/reticent")


def test_relative_paths_default_to_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load('folder = "d"').folder == tmp_path / "d"


def test_partial_nested_table_keeps_the_field_default_not_the_class_default() -> None:
    assert load("[inner]\nb = 7").inner == Inner(a=5, b=7)


def test_arrays_of_tables_and_sets() -> None:
    sample = load(
        'days = [5, 6, 6]\n[[endpoints]]\nhost = "a"\nport = 2\n[[endpoints]]\nhost = "b"\n'
        "port = 3\ntls = true"
    )
    assert sample.endpoints == (Endpoint("a", 2), Endpoint("b", 3, tls=True))
    assert sample.days == frozenset({5, 6})


def test_a_mapping_in_the_file_replaces_the_default_and_items_keep_class_defaults() -> None:
    sample = load("[groups.new.one]\nb = 4")
    assert sample.groups == {"new": {"one": Inner(a=1, b=4)}}


def test_loaded_mappings_cannot_be_changed() -> None:
    sample = load("[groups.new.one]\nb = 4")
    with pytest.raises(TypeError):
        sample.groups["other"] = {}  # type: ignore[index]


def test_result_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        load("").inner.a = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("colour = 1", "colour: unknown key"),
        ("[inner]\nc = 1", "inner.c: unknown key"),
        ("[groups.g.h]\nzz = 1", "groups.g.h.zz: unknown key"),
        ('count = "x"', "count: expected an integer, got 'x'"),
        ("count = true", "count: expected an integer, got true"),
        ("count = 1.5", "count: expected an integer, got 1.5"),
        ("ratio = false", "ratio: expected a number, got false"),
        ("ratio = nan", "ratio: expected a finite number, got nan"),
        ("name = 3", "name: expected a string, got 3"),
        ('enabled = "yes"', "enabled: expected true or false, got 'yes'"),
        ('mode = "normal"', "mode: expected one of 'NORMAL', 'FULL', got 'normal'"),
        ('opened = "yesterday"', "opened: expected a date (YYYY-MM-DD), got 'yesterday'"),
        ('opened = "2024-02-30"', "opened: no such date: '2024-02-30'"),
        ('opened = "20240301"', "opened: expected a date (YYYY-MM-DD), got '20240301'"),
        (
            "opened = 2024-03-01T10:00:00",
            "opened: expected a date (YYYY-MM-DD), got a date-time (2024-03-01T10:00:00)",
        ),
        ("folder = 3", "folder: expected a path (a non-empty string), got 3"),
        ('folder = ""', "folder: expected a path (a non-empty string), got ''"),
        ("inner = 3", "inner: expected a table, got 3"),
        ("[[inner]]\na = 1", "inner: expected a table, got an array"),
        ("endpoints = 1", "endpoints: expected an array, got 1"),
        ('[[endpoints]]\nhost = "a"', "endpoints[0].port: missing key"),
        (
            '[[endpoints]]\nhost = "a"\nport = "p"',
            "endpoints[0].port: expected an integer, got 'p'",
        ),
        ('days = [1, "2"]', "days[1]: expected an integer, got '2'"),
        ("groups = []", "groups: expected a table, got an array"),
        ('[groups."kiosk 1".a]\nb = "x"', "groups.\"kiosk 1\".a.b: expected an integer, got 'x'"),
    ],
)
def test_errors_name_the_file_and_the_dotted_key(text: str, expected: str) -> None:
    assert message_of(text) == f"{SOURCE}: {expected}"


def test_long_values_are_cut_in_messages() -> None:
    message = message_of('count = "' + "x" * 100 + '"')
    assert message == f"{SOURCE}: count: expected an integer, got '{'x' * 37}...'"


def test_error_carries_its_parts() -> None:
    with pytest.raises(ConfigError) as caught:
        load("[inner]\na = 'x'")
    assert (caught.value.source, caught.value.key) == (SOURCE, "inner.a")
    assert caught.value.problem == "expected an integer, got 'x'"


def test_path_prefix_is_used_in_messages() -> None:
    with pytest.raises(ConfigError, match=r"^f\.toml: outer\.inner\.a: expected an integer"):
        load_dataclass(Inner, {"a": "x"}, source="f.toml", path="outer.inner")


def test_only_dataclasses_can_be_loaded() -> None:
    with pytest.raises(TypeError):
        load_dataclass(int, {}, source=SOURCE)


def test_config_error_is_a_reticent_error() -> None:
    assert issubclass(ConfigError, ReticentError)
