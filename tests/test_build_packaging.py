"""The disclosure's worksheets assembled by two processes make the same file as a serial assembly."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest

import xlbudget.writer.packaging as packaging
from xlbudget.model import budget_from_document, load_example
from xlbudget.writer.disclosure import write_disclosure

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the two-process assembly forks")


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:   # the core properties carry the time of writing
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


def _write(tmp_path: Path, name: str, monkeypatch, min_sheets: int) -> tuple[dict[str, bytes], list]:
    """The parts of the example's disclosure, and for each fork whether the child's sheets were used."""
    spec, doc = load_example()
    used: list = []
    collect = packaging._collect

    def collected(pid, out, n):
        texts = collect(pid, out, n)
        used.append(pid > 0 and texts is not None)
        return texts

    monkeypatch.setattr(packaging, "MIN_SHEETS", min_sheets)
    monkeypatch.setattr(packaging, "_collect", collected)
    out = write_disclosure(budget_from_document(doc, spec), tmp_path / name, unverified=True)
    return _parts(out), used


def test_two_processes_write_the_serial_file(tmp_path, monkeypatch):
    serial, used = _write(tmp_path, "serial.xlsx", monkeypatch, 10**9)
    assert used == []
    shared, used = _write(tmp_path, "shared.xlsx", monkeypatch, 0)
    assert used == [True]                    # the child's sheets are in the file
    assert list(shared) == list(serial)      # the same parts, in the same order
    for name in serial:
        assert shared[name] == serial[name], name


def test_a_failed_child_costs_time_only(tmp_path, monkeypatch):
    serial, _ = _write(tmp_path, "serial.xlsx", monkeypatch, 10**9)

    def broken(*args, **kwargs):
        raise OSError("no space left")

    monkeypatch.setattr(packaging.pickle, "dump", broken)   # in the child: it cannot hand its sheets back
    shared, used = _write(tmp_path, "shared.xlsx", monkeypatch, 0)
    assert used == [False]                   # the child failed: its sheets were assembled here
    assert shared == serial


def test_the_child_takes_a_share_of_the_sheets(tmp_path, monkeypatch):
    spec, doc = load_example()
    seen: list[int] = []
    share = packaging._share
    monkeypatch.setattr(packaging, "MIN_SHEETS", 0)
    monkeypatch.setattr(packaging, "_share", lambda sheets: seen.append(len(sheets)) or share(sheets))
    taken: list[int] = []
    monkeypatch.setattr(packaging, "_fork", lambda sheets, out, numbers: taken.append(len(sheets)) or 0)
    write_disclosure(budget_from_document(doc, spec), tmp_path / "d.xlsx")
    assert seen and taken and 0 < taken[0] < seen[0]


def test_unknown_xlsxwriter_internals_fall_back_to_the_serial_file(tmp_path, monkeypatch):
    serial, _ = _write(tmp_path, "serial.xlsx", monkeypatch, 10**9)

    def drifted(sheets):
        raise AttributeError("'Worksheet' object has no attribute 'col_info'")   # another XlsxWriter

    monkeypatch.setattr(packaging, "_index_formats", drifted)
    shared, used = _write(tmp_path, "shared.xlsx", monkeypatch, 0)
    assert used == []                        # no child forked
    assert shared == serial
