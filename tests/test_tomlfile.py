"""xlbudget.tomlfile: what tomllib parses, kept as JSON by the text's digest."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from xlbudget import tomlfile

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
DATA = Path(__file__).resolve().parent.parent / "xlbudget" / "data"


def _entries() -> list[Path]:
    return sorted(tomlfile.cache_dir().glob("*.json"))


def test_every_shipped_file_reads_as_tomllib_reads_it_first_and_from_the_cache():
    files = sorted(TEMPLATES.glob("*/*.toml")) + sorted(DATA.glob("*.toml"))
    assert len(files) > 30
    for f in files:
        want = tomllib.loads(f.read_text(encoding="utf-8"))
        assert tomlfile.load(f) == want, f
        assert tomlfile.load(f) == want, f
        # the same text, not only equal values: key order (the rule book's order) survives too
        assert json.dumps(tomlfile.load(f), ensure_ascii=False) == json.dumps(want, ensure_ascii=False)
    assert len(_entries()) == len({f.read_text(encoding="utf-8") for f in files})


def test_a_second_read_comes_from_the_cache_and_an_edited_file_is_parsed_again(tmp_path):
    f = tmp_path / "t.toml"
    f.write_text('id = "T1"\nrows = [1, 2]\n', encoding="utf-8")
    assert tomlfile.load(f) == {"id": "T1", "rows": [1, 2]}
    (entry,) = _entries()
    entry.write_text('{"id": "from the cache"}', encoding="utf-8")
    assert tomlfile.load(f) == {"id": "from the cache"}
    f.write_text('id = "T2"\n', encoding="utf-8")
    assert tomlfile.load(f) == {"id": "T2"}
    assert len(_entries()) == 2


def test_a_broken_entry_is_parsed_again(tmp_path):
    f = tmp_path / "t.toml"
    f.write_text("a = 1.5\n", encoding="utf-8")
    tomlfile.load(f)
    for broken in ("{not json", "[1, 2]", ""):
        _entries()[0].write_text(broken, encoding="utf-8")
        assert tomlfile.load(f) == {"a": 1.5}


def test_values_json_cannot_hold_are_parsed_each_time(tmp_path):
    f = tmp_path / "t.toml"
    f.write_text("day = 2025-01-01\nat = 2025-01-01T08:00:00\nx = inf\n", encoding="utf-8")
    want = tomllib.loads(f.read_text(encoding="utf-8"))
    assert tomlfile.load(f) == want and tomlfile.load(f) == want
    assert _entries() == []


def test_an_unwritable_home_costs_speed_only(tmp_path, monkeypatch):
    blocker = tmp_path / "home"
    blocker.write_text("a file where the home folder should be", encoding="utf-8")
    monkeypatch.setenv("XLBUDGET_HOME", str(blocker))
    f = tmp_path / "t.toml"
    f.write_text('[t]\nname = "表1"\n', encoding="utf-8")
    assert tomlfile.load(f) == {"t": {"name": "表1"}}
    assert tomlfile.load(f) == {"t": {"name": "表1"}}


def test_errors_are_the_parsers_and_the_files(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text("a = = 1\n", encoding="utf-8")
    with pytest.raises(tomlfile.TOMLDecodeError):
        tomlfile.load(f)
    with pytest.raises(tomllib.TOMLDecodeError):
        tomlfile.load(f)
    with pytest.raises(FileNotFoundError):
        tomlfile.load(tmp_path / "missing.toml")
    assert _entries() == []
