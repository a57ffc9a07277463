"""A table of a submission drawn as HTML, as the file lays it out, with the cells of findings marked.

Where the table is and which of its rows are headers or totals comes from the table set's layout (the one
the reader used); what each cell shows comes from the file itself (the raw reader: values as the clerk
sees them in Excel, merged ranges as merged).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from msgspec import Struct, field

from ..io.rawxlsx import RawWorkbook, parse_ref
from ..layout import LTable, a1
from ..reader import read_workbook
from ..report import FileReport

MAX_ROWS = 400
MAX_COLS = 40


class Cell(Struct):
    text: str = ""
    ref: str = ""
    rowspan: int = 1
    colspan: int = 1
    number: bool = False
    mark: str | None = None          # error / warning / info
    rules: list[str] = field(default_factory=list)


class Row(Struct):
    kind: str                        # title / head / body / total
    cells: list[Cell]


class Drawn(Struct):
    table: str
    sheet: str
    title: str
    rows: list[Row]


def _text(v: object) -> tuple[str, bool]:
    if v is None:
        return "", False
    if isinstance(v, bool):
        return ("TRUE" if v else "FALSE"), False
    if isinstance(v, (int, float)):
        return f"{float(v):,.2f}", True     # as the template's number format shows it
    if isinstance(v, (datetime, date)):
        return v.isoformat(), False
    return str(v), False


def _span(rng: str) -> tuple[int, int, int, int] | None:
    a, _, b = rng.partition(":")
    try:
        r0, c0 = parse_ref(a)
        r1, c1 = parse_ref(b or a)
    except ValueError:
        return None
    return r0, c0, r1, c1


def _marks(fr: FileReport, sheet: str) -> dict[tuple[int, int], tuple[str, list[str]]]:
    """Cell -> (worst severity, rules). An error or warning marks every cell it involves; an info finding
    (a rounding residue, say) only the cell it is about, so that a table of residues stays readable."""
    out: dict[tuple[int, int], tuple[str, list[str]]] = {}
    rank = {"error": 0, "warning": 1, "info": 2}
    for f in fr.findings:
        sev = f.severity.value
        for pos in (f.cells[:1] if sev == "info" else f.cells):
            s, _, ref = pos.rpartition("!")
            if s != sheet:
                continue
            try:
                rc = parse_ref(ref)
            except ValueError:
                continue
            worst, rules = out.get(rc, (sev, []))
            out[rc] = (min(worst, sev, key=rank.__getitem__), rules + ([f.rule] if f.rule not in rules else []))
    return out


def draw_table(wb: RawWorkbook, t: LTable, fr: FileReport) -> Drawn:
    sh = wb.sheet(t.sheet)
    marks = _marks(fr, t.sheet)
    last = max([t.last_row] + [r for r, _ in marks]) if marks else t.last_row
    width = max([t.width] + [c + 1 for _, c in marks]) if marks else t.width
    last, width = min(last, MAX_ROWS), min(width, MAX_COLS)
    covered: set[tuple[int, int]] = set()
    spans: dict[tuple[int, int], tuple[int, int]] = {}
    for rng in sh.merged:
        sp = _span(rng)
        if sp is None:
            continue
        r0, c0, r1, c1 = sp
        spans[(r0, c0)] = (min(r1, last) - r0 + 1, min(c1, width - 1) - c0 + 1)
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                if (r, c) != (r0, c0):
                    covered.add((r, c))
    totals = {row.r for row in t.rows.values() if row.total}
    rows = []
    for r in range(0, last + 1):
        kind = "title" if r < t.header_top else "head" if r < t.body_top else "total" if r in totals else "body"
        cells = []
        for c in range(width):
            if (r, c) in covered:
                continue
            text, number = _text(sh.values.get((r, c)))
            rs, cs = spans.get((r, c), (1, 1))
            mark, rules = marks.get((r, c), (None, []))
            cells.append(Cell(text, a1(r, c), rs, cs, number, mark, rules))
        rows.append(Row(kind, cells))
    return Drawn(t.id, t.sheet, t.title, rows)


def draw(path: Path, fr: FileReport) -> dict[str, list[Drawn]]:
    """Every table of the submission at ``path`` that holds a cell of a finding: "main" those with an error
    or warning cell, "minor" those with info cells only; in the order of the findings. Empty when the file
    cannot be laid out."""
    res = read_workbook(path)
    out: dict[str, list[Drawn]] = {"main": [], "minor": []}
    if res.budget is None:
        return out
    by_sheet = {t.sheet: t for t in res.budget.layout.tables.values()}
    parts: dict[str, str] = {}
    for f in fr.sorted_findings():
        part = "minor" if f.severity.value == "info" else "main"
        for pos in (f.cells[:1] if part == "minor" else f.cells):
            sheet = pos.rpartition("!")[0]
            if sheet in by_sheet and parts.get(sheet) != "main":
                parts[sheet] = part
    wb = RawWorkbook.open(path)
    for part in ("main", "minor"):
        for sheet, p in parts.items():
            if p == part and sheet in wb.sheet_names:
                out[part].append(draw_table(wb, by_sheet[sheet], fr))
    return out
