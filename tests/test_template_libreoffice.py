"""The filled template in a real spreadsheet engine (LibreOffice headless).

* Opened with forced recalculation, every formula recomputes to exactly the value xlbudget wrote.
* Opened without recalculation, it shows the written values (the figures of the seed, never 0).
* Printed to PDF, the pages are A4 and carry the titles and the department.
"""

from __future__ import annotations

import hashlib
import math
import re
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import openpyxl
import pytest

from openpyxl.utils import get_column_letter

from xlbudget import libreoffice as lo
from xlbudget.layout import layout_for
from xlbudget.model import budget_from_document, load_example
from xlbudget.template import fill

pytestmark = pytest.mark.libreoffice

DEPARTMENT = "克孜勒苏柯尔克孜自治州数字化发展局"
A4 = (595.28, 841.89)


@pytest.fixture(scope="module")
def example():
    return load_example()


@pytest.fixture(scope="module")
def filled(tmp_path_factory, example) -> Path:
    spec, doc = example
    return fill(doc, tmp_path_factory.mktemp("filled") / "filled.xlsx", spec)


@pytest.fixture(scope="module")
def written(filled):
    """(sheet, coordinate) -> value xlbudget wrote, for every formula cell of the workbook."""
    formulas = openpyxl.load_workbook(filled)
    values = openpyxl.load_workbook(filled, data_only=True)
    out = {}
    for ws in formulas.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    out[(ws.title, cell.coordinate)] = values[ws.title][cell.coordinate].value
    return out


@pytest.fixture(scope="module")
def recalculated(soffice, filled, tmp_path_factory) -> Path:
    return lo.convert(filled, tmp_path_factory.mktemp("recalc"), "xlsx", recalc=True)


@pytest.fixture(scope="module")
def not_recalculated(soffice, filled, tmp_path_factory) -> Path:
    return lo.convert(filled, tmp_path_factory.mktemp("norecalc"), "xlsx", recalc=False)


def _same(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=0, abs_tol=1e-9)
    # an empty string result and an empty cell are the same thing on screen
    return (a if a is not None else "") == (b if b is not None else "")


def _compare(written: dict, other: Path) -> list[str]:
    wb = openpyxl.load_workbook(other, data_only=True)
    bad = []
    for (sheet, coord), want in written.items():
        assert sheet in wb.sheetnames, f"LibreOffice lost sheet {sheet}"
        got = wb[sheet][coord].value
        if not _same(want, got):
            bad.append(f"{sheet}!{coord}: written {want!r}, LibreOffice {got!r}")
    return bad


def test_filled_has_many_formulas(written):
    assert len(written) > 350
    numbers = [v for v in written.values() if isinstance(v, (int, float))]
    assert len(numbers) > 300
    assert any(v and abs(v - 417.374) < 1e-9 for v in numbers)


def test_forced_recalculation_reproduces_every_written_value(written, recalculated):
    bad = _compare(written, recalculated)
    assert not bad, f"{len(bad)} formula cells differ after recalculation:\n" + "\n".join(bad[:40])


def test_recalculated_totals_are_the_seed_totals(recalculated, example):
    spec, doc = example
    layout = layout_for(spec)
    budget = budget_from_document(doc, spec)
    wb = openpyxl.load_workbook(recalculated, data_only=True)
    for tid, row, col, printed in [("T1", "in_total", "amount", "417.37"), ("T1", "out_total", "amount", "417.37"),
                                   ("T3", "total", "basic", "186.63"), ("T6", "total", "personnel", "180.45"),
                                   ("T6", "total", "operating", "6.18"), ("T7", "total", "total", "230.74"),
                                   ("T10", "total", "total", "3.10")]:
        t = layout.table(tid)
        r, c = t.pos(row, col)
        v = wb[t.sheet].cell(row=r + 1, column=c + 1).value
        assert isinstance(v, (int, float)), f"{layout.position(tid, row, col)}: {v!r}"
        assert Decimal(repr(v)).quantize(Decimal("0.01"), ROUND_HALF_UP) == Decimal(printed)
        assert abs(v - float(budget.value(tid, row, col))) < 1e-9


def test_without_recalculation_the_written_values_show(written, not_recalculated, filled):
    bad = _compare(written, not_recalculated)
    assert not bad, f"{len(bad)} formula cells differ without recalculation:\n" + "\n".join(bad[:40])


def test_without_recalculation_cached_values_are_kept(soffice, filled, tmp_path):
    """A non-recalculating open really shows the cached value (so the comparison above means something):
    a tampered cache shows as tampered without recalculation and is corrected with it."""
    spec, _ = load_example()
    t = layout_for(spec).table("T6")
    r, c = t.pos("total", "personnel")
    coord = f"{get_column_letter(c + 1)}{r + 1}"
    src = zipfile.ZipFile(filled)
    parts = {i.filename: src.read(i.filename) for i in src.infolist()}
    wb_xml = parts["xl/workbook.xml"].decode()
    # keep the cached values on load: drop fullCalcOnLoad so the file itself does not ask for a recalculation
    parts["xl/workbook.xml"] = re.sub(r'\s*fullCalcOnLoad="1"', "", wb_xml).encode()
    rid = re.search(r'<sheet name="表6"[^>]*r:id="([^"]+)"', wb_xml).group(1)
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    target = re.search(rf'<Relationship Id="{rid}"[^>]*Target="([^"]+)"', rels).group(1)
    sheet_part = "xl/" + target.lstrip("/").removeprefix("xl/")
    xml = parts[sheet_part].decode()
    xml, n = re.subn(rf'(<c r="{coord}"[^>]*><f>[^<]*</f><v>)[^<]*(</v>)', r"\g<1>777\g<2>", xml)
    assert n == 1
    parts[sheet_part] = xml.encode()
    tampered = tmp_path / "tampered.xlsx"
    with zipfile.ZipFile(tampered, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    kept = lo.convert(tampered, tmp_path / "kept", "xlsx", recalc=False)
    fixed = lo.convert(tampered, tmp_path / "fixed", "xlsx", recalc=True)
    assert openpyxl.load_workbook(kept, data_only=True)["表6"][coord].value == 777
    assert abs(openpyxl.load_workbook(fixed, data_only=True)["表6"][coord].value - 180.452) < 1e-9


@pytest.mark.parametrize("which", ["recalculated", "not_recalculated"])
def test_libreoffice_saved_copy_reads_back_unchanged(which, request, filled):
    """A department that opens and saves the workbook in LibreOffice submits the same figures, cleanly."""
    from xlbudget.model import canonical
    from xlbudget.reader import read_workbook

    path = request.getfixturevalue(which)
    original = read_workbook(filled)
    again = read_workbook(path)
    assert again.ok
    assert [(f.kind, f.cells) for f in again.findings if f.severity.value != "info"] == []
    sections = ("tables", "performance", "facts")
    assert canonical({k: again.budget.doc.get(k) for k in sections}) == \
        canonical({k: original.budget.doc.get(k) for k in sections})
    assert again.budget.value("T1", "in_total", "amount") == Decimal("417.374")


def test_source_untouched_by_conversion(soffice, filled, tmp_path):
    before = hashlib.sha256(filled.read_bytes()).hexdigest()
    lo.convert(filled, tmp_path, "xlsx", recalc=True)
    assert hashlib.sha256(filled.read_bytes()).hexdigest() == before


@pytest.fixture(scope="module")
def pdf(soffice, poppler, filled, tmp_path_factory) -> Path:
    return lo.convert(filled, tmp_path_factory.mktemp("pdf"), "pdf", recalc=True)


def test_pdf_pages_are_a4(pdf):
    pages = lo.pdf_pages(pdf)
    assert len(pages) >= 20  # 11 tables, 7 绩效 sheets, facts, last year's figures
    for i, (w, h) in enumerate(pages, start=1):
        short, long_ = sorted((w, h))
        assert abs(short - A4[0]) < 1.5 and abs(long_ - A4[1]) < 1.5, f"page {i}: {w} x {h} pt is not A4"


def test_pdf_text(pdf):
    text = lo.pdf_text(pdf)
    flat = "".join(text.split())
    for needle in ("部门收支总体情况表", DEPARTMENT, "一般公共预算基本支出情况表", "部门整体绩效目标表",
                   "417.37", "180.45", "克州12345政务服务便民热线经费项目"):
        assert needle in flat, f"{needle} not in the PDF text"
    assert "第1页" in flat
