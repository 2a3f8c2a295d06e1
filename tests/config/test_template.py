"""Tests of the configuration file written by `reticent init`."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

from config.settings import Settings, TerminalCodecSettings, load_settings
from config.template import render_config

# A "#" directly followed by a setting or a table header marks an example to uncomment.
EXAMPLE_LINE = re.compile(r"^#(?=[^\s#])", re.MULTILINE)


def test_template_loads_back_to_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "reticent.toml"
    path.write_text(render_config(tmp_path / "data"), encoding="utf-8")
    assert load_settings(path, {}) == dataclasses.replace(Settings(), data_dir=tmp_path / "data")


def test_relative_data_dir_is_taken_from_the_file_folder(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "reticent.toml"
    path.parent.mkdir()
    path.write_text(render_config(Path("state")), encoding="utf-8")
    assert load_settings(path, {}).data_dir == tmp_path / "etc" / "state"


def test_library_name_is_written_safely(tmp_path: Path) -> None:
    name = 'Bibliothèque "Le Quai" \\ annex\tB'
    path = tmp_path / "reticent.toml"
    path.write_text(render_config(tmp_path / 'da"ta', library_name=name), encoding="utf-8")
    settings = load_settings(path, {})
    assert settings.library.name == name
    assert settings.data_dir == tmp_path / 'da"ta'
    assert dataclasses.replace(settings, data_dir=Settings().data_dir) == dataclasses.replace(
        Settings(), library=dataclasses.replace(Settings().library, name=name)
    )


def test_every_part_of_the_settings_is_shown(tmp_path: Path) -> None:
    text = render_config(tmp_path)
    for field in dataclasses.fields(Settings):
        assert re.search(rf"^(\[{field.name}[.\]]|{field.name} = )", text, re.MULTILINE), field.name
    # Defaults a librarian is most likely to change are written out, not only described.
    assert re.search(r"^loan_days = 21$", text, re.MULTILINE)
    assert re.search(r"^magazine += \{ loan_days = 7,", text, re.MULTILINE)
    assert re.search(r"^port = 6001$", text, re.MULTILINE)
    assert re.search(r"^time_cost = 3$", text, re.MULTILINE)


def test_text_is_commented_for_librarians(tmp_path: Path) -> None:
    lines = render_config(tmp_path).splitlines()
    comments = [line for line in lines if line.startswith("# ")]
    assert len(comments) > 40
    assert "PRIV-08" in "\n".join(comments)


def test_examples_work_when_uncommented(tmp_path: Path) -> None:
    text = EXAMPLE_LINE.sub("", render_config(tmp_path / "data"))
    tomllib.loads(text)  # still valid TOML
    path = tmp_path / "reticent.toml"
    path.write_text(text, encoding="utf-8")
    settings = load_settings(path, {})
    plain, tls = settings.sip2.listeners
    assert (plain.host, plain.port, plain.tls_cert) == ("127.0.0.1", 6001, None)
    assert (tls.host, tls.port) == ("0.0.0.0", 6443)
    assert tls.tls_cert == Path("/etc/reticent/sip2.crt")
    assert tls.tls_key == Path("/etc/reticent/sip2.key")
    assert settings.sip2.terminals == {
        "kiosk-lobby": TerminalCodecSettings(
            encoding="utf-8", terminator="CRLF", error_detection="require", offline=True
        )
    }
    profile = settings.sip2.profiles["sorter"]
    assert (profile.base, profile.extra_fields) == ("minimal", ("CK", "CH"))
    assert profile.note
    assert settings.store.url is not None
    assert settings.store.url.startswith("postgresql+psycopg://")
    assert settings.circulation.barcodes.pattern == "[0-9]{14}"
