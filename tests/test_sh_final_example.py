"""The Shanghai 决算 example (examples/putuo-social-work-2024): filled from its data, the sh-final workbook
reproduces the published tables cell for cell.

The expected figures are read from the published text shipped beside the data (disclosure-2024.txt), not from
the data files, so a transcription error fails. The text is layout-flattened (empty cells dropped), so each
table is compared as what the text keeps: the printed figures in reading order (row by row, left to right),
the codes in order, the fixed labels, the title and the notes under the table.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import openpyxl
import pytest

from xlbudget.layout import layout_for
from xlbudget.model import budget_from_document, load_example
from xlbudget.writer.template import write_workbook

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "putuo-social-work-2024"
FIGURE = re.compile(r"(?<![\d.])\d{1,3}(?:,\d{3})*\.\d{2}(?![\d.])")
CODE = re.compile(r"(?<![\d.])\d{3}(?:\d{2}){0,2}(?![\d.])")


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def example():
    spec, doc = load_example("sh-final")
    return spec, budget_from_document(doc, spec)


@pytest.fixture(scope="module")
def workbook(example, tmp_path_factory):
    spec, budget = example
    out = write_workbook(layout_for(spec), tmp_path_factory.mktemp("shf") / "filled.xlsx", budget)
    return openpyxl.load_workbook(out, data_only=False), openpyxl.load_workbook(out, data_only=True)


@pytest.fixture(scope="module")
def published() -> dict[str, list[str]]:
    """The lines of each table of 第二部分, by title."""
    text = (EXAMPLE / "disclosure-2024.txt").read_text(encoding="utf-8")
    start = text.index("=== page 5 ===")
    part2 = text[start:text.index("第三部分", start)]
    lines = [ln.strip() for ln in part2.splitlines() if ln.strip() and not ln.startswith("=== page")]
    titles = [t for t in ("收入支出决算总表", "收入决算表", "支出决算表", "财政拨款收入支出决算总表",
                          "一般公共预算财政拨款支出决算表", "一般公共预算财政拨款基本支出决算表",
                          "财政拨款“三公”经费支出决算表", "政府性基金预算财政拨款收入支出决算表",
                          "国有资本经营预算财政拨款收入支出决算表")]
    starts = [lines.index(t) for t in titles]
    return {t: lines[a:b] for t, a, b in zip(titles, starts, starts[1:] + [len(lines)])}


def _shown(cell, show_zero: bool) -> str | None:
    """A cell as printed: text, or a figure at 2 decimals (a zero is blank unless the table prints 0.00)."""
    v = cell.value
    if v is None or v == "":
        return None
    if isinstance(v, (int, float)):
        d = Decimal(repr(v)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        if d == 0 and not show_zero:
            return None
        return f"{d:,.2f}"
    return str(v)


def test_every_table_of_the_set_is_in_the_text(example, published):
    _, budget = example
    public = [t.title for tid, t in budget.layout.tables.items() if tid.startswith("T")]
    assert public == list(published)


@pytest.mark.parametrize("tid", [f"T{i}" for i in range(1, 10)])
def test_table_reproduces_the_published_table(example, workbook, published, tid):
    _, budget = example
    t = budget.layout.tables[tid]
    ws = workbook[1][t.sheet]
    lines = published[t.title]
    body_lines = [ln for ln in lines if not ln.startswith(("注：", "说明：", "无政府性基金", "无国有资本"))]
    # the figures, in reading order
    want = [f for ln in body_lines for f in FIGURE.findall(ln)]
    got = []
    codes = []
    texts = []
    for r in range(t.body_top, t.last_row + 1):
        for c in range(t.width):
            cell = ws.cell(row=r + 1, column=c + 1)
            shown = _shown(cell, t.desc.zeros)
            if shown is None:
                continue
            if isinstance(cell.value, (int, float)):
                got.append(shown)
            else:
                texts.append(shown)
                if CODE.fullmatch(shown) and any(r == row.r for row in t.rows.values() if row.code):
                    codes.append(shown)
    assert got == want
    # the codes in printed order (two per line in side-by-side tables)
    printed_codes = [c for ln in body_lines for c in CODE.findall(ln)]
    assert codes == printed_codes
    # every label, name, title and note of the sheet is printed (names broken over lines compared without spaces)
    flat = _squash("".join(lines))
    for text in texts:
        assert _squash(text) in flat, text
    assert ws.cell(row=2, column=1).value == t.title
    for note in [ln for ln in lines if ln.startswith(("注：", "说明：", "无政府性基金", "无国有资本"))]:
        assert note in texts, note


@pytest.mark.parametrize("tid", [f"T{i}" for i in range(1, 10)])
def test_units_and_decimals_as_printed(example, workbook, tid):
    _, budget = example
    t = budget.layout.tables[tid]
    ws = workbook[0][t.sheet]
    assert any(c.value == "单位：万元" for c in ws[3])
    formats = {ws.cell(row=row.r + 1, column=t.colpos[(row.block, col.key)][0] + 1).number_format
               for row in t.rows.values() for col in t.desc.block(row.block).columns if col.numeric}
    assert formats and all(f.startswith("#,##0.00") for f in formats), formats
    zero = {f.split(";")[2] if f.count(";") >= 2 else "0.00" for f in formats}
    assert zero == ({"0.00"} if t.desc.zeros else {'""'})
