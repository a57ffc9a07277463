"""Write a filled budget as a workbook in an official layout, the way budget-system exports, a region's
official template and hand-made copies look: plain numbers, no formulas, no template identity.

The geometry here is written independently of ``xlbudget.layout`` (only the header labels and the rows
come from the table descriptions), so that reading these files tests the locator, not a copy of the
template writer. Arrangements:

* ``sheets``   one sheet per table, official titles with the year in front, codes split 类/款/项;
* ``onesheet`` every table on one sheet, one below the other;
* ``split``    each long table printed in two blocks, the header (and the title marked 续表) repeated;
* ``handmade`` sheet names changed, numbers typed as text with thousands separators, joined codes, names
  indented with full-width spaces, a blank 编制部门, placeholder rows (…, XX) left in, zero classes dropped.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter

from xlbudget.layout import LTable, merge_regions
from xlbudget.model import Budget
from xlbudget.official.locate import GRID_PLANS, aliases

ARRANGEMENTS = ("sheets", "onesheet", "split", "handmade")


def official_tables(budget: Budget) -> list[LTable]:
    al = aliases(budget.layout.tableset)
    return [budget.layout.tables[tid] for tid in al.official if tid in budget.layout.tables]


def _columns(t: LTable, joined: bool) -> list[tuple[str, Any, int | None, list[str]]]:
    """(block, column, split part or None, header labels) per physical column."""
    out = []
    depth = 0
    for b in t.desc.blocks:
        for col in b.columns:
            depth = max(depth, len(col.header) + (0 if joined or not col.split else 1))
    for b in t.desc.blocks:
        for col in b.columns:
            h = list(col.header) or [""]
            if col.split and not joined:
                for i, part in enumerate(col.split):
                    labels = h + [h[-1]] * (depth - 1 - len(h)) + [part]
                    out.append((b.key, col, i, labels))
            else:
                out.append((b.key, col, None, h + [h[-1]] * (depth - len(h))))
    return out


def _code_parts(code: str | None, n: int) -> list[str]:
    if not code:
        return [""] * n
    segs = (3, 2, 2)[:n]
    parts, pos = [], 0
    for s in segs:
        parts.append(code[pos:pos + s])
        pos += s
    return parts


def _rows(budget: Budget, t: LTable, block: str, drop_zero: bool) -> list:
    rows = sorted((r for r in t.rows.values() if r.block == block), key=lambda r: r.r)
    if drop_zero:
        b = t.desc.block(block)
        keep = []
        for r in rows:
            vals = [budget.published(t.id, r.key, c.key) for c in b.columns if c.numeric]
            if b.plan == "classes" and not any(v for v in vals):
                continue
            keep.append(r)
        rows = keep
    return rows


def write_table(ws, budget: Budget, t: LTable, top: int, *, joined: bool = False, handmade: bool = False,
                split_at: int | None = None, department: str | None = None, prefix: str = "") -> int:
    """Write table ``t`` from sheet row ``top`` (1-based); returns the next free row."""
    spec = budget.spec
    cols = _columns(t, joined)
    width = len(cols)
    dec = budget.decimals
    if t.title.startswith(str(spec.year)):
        prefix = prefix.replace(f"{spec.year}年", "")
    title = f"{prefix}{t.title}"
    ws.cell(top, 1, title)
    ws.merge_cells(start_row=top, start_column=1, end_row=top, end_column=max(width, 1))
    dep = spec.department if department is None else department
    ws.cell(top + 1, 1, f"编制部门：{dep}")
    ws.cell(top + 1, width, "单位：" + t.desc.precision().unit)
    depth = max(len(c[3]) for c in cols)

    def header(at: int) -> int:
        grid = [[c[3][lvl] if lvl < len(c[3]) else c[3][-1] for c in cols] for lvl in range(depth)]
        for l0, c0, l1, c1, lab in merge_regions(grid):
            text = lab.replace("（", "(").replace("）", ")") if handmade else lab
            if handmade and len(text) > 6:
                text = text[:4] + "\n" + text[4:]
            ws.cell(at + l0, c0 + 1, text)
            if (l0, c0) != (l1, c1):
                ws.merge_cells(start_row=at + l0, start_column=c0 + 1, end_row=at + l1, end_column=c1 + 1)
        return at + depth

    r = header(top + 2)
    blocks = [b.key for b in t.desc.blocks]
    body = {bk: _rows(budget, t, bk, handmade) for bk in blocks}
    # side by side: the bottom rows (收入总计 / 支出总计) share the last line
    height = 0
    placed: dict[str, list] = {}
    for bk in blocks:
        normal = [x for x in body[bk] if not x.bottom]
        bottoms = [x for x in body[bk] if x.bottom]
        placed[bk] = normal
        height = max(height, len(normal))
    if t.desc.arrange != "side":
        placed = {bk: body[bk] for bk in blocks}
        height = 0
    lines: list[dict[int, Any]] = []
    if t.desc.arrange == "side":
        for i in range(height):
            lines.append({})
        bottom_line: dict[int, Any] = {}
        for bk in blocks:
            for i, row in enumerate(placed[bk]):
                _put(lines[i], budget, t, row, cols, bk, joined, handmade, dec)
            for row in [x for x in body[bk] if x.bottom]:
                _put(bottom_line, budget, t, row, cols, bk, joined, handmade, dec)
        if bottom_line:
            lines.append(bottom_line)
    else:
        for bk in blocks:
            for row in placed[bk]:
                line: dict[int, Any] = {}
                _put(line, budget, t, row, cols, bk, joined, handmade, dec)
                lines.append(line)
    if budget.table_is_empty(t.id) and t.note_text:
        lines = []
    if handmade and lines:
        lines.insert(len(lines) // 2, {0: "…", 1: "XX"})
        lines.append({0: "……"})
    for i, line in enumerate(lines):
        if split_at is not None and i == split_at:
            r += 1
            ws.cell(r, 1, f"{title}（续）")
            r = header(r + 1)
        for c, v in line.items():
            ws.cell(r, c + 1, v)
        r += 1
    if budget.table_is_empty(t.id) and t.note_text:
        ws.cell(r, 1, "说明：" + t.note_text)
        r += 1
    for i in range(width):
        ws.column_dimensions[get_column_letter(i + 1)].width = 14
    return r + 2


def _put(line: dict[int, Any], budget: Budget, t: LTable, row, cols, block: str, joined: bool, handmade: bool,
         dec: int) -> None:
    for i, (bk, col, part, _) in enumerate(cols):
        if bk != block:
            continue
        v: Any = None
        if col.kind == "code":
            code = budget.code_of(t, row)
            if part is None:
                v = code or None
            else:
                p = _code_parts(code, len(col.split))[part]
                v = (int(p) if part == 0 and p else p) or None
            if handmade and joined and code:
                v = code
        elif col.kind in ("name", "label"):
            if row.project and col.kind == "name":
                v = row.label
            elif row.total or not row.code or col.kind == "label" or True:
                v = row.label or None
            if handmade and v and row.level > 1:
                v = "\u3000" * (row.level - 1) + v
        elif col.kind == "project":
            v = row.project_name or None
        elif col.numeric:
            d = budget.published(t.id, row.key, col.key)
            if d is not None:
                dec = t.desc.precision(col.key).display_decimals
                d = d.quantize(Decimal(1).scaleb(-dec))
                v = f"{d:,.{dec}f}" if handmade and d >= 100 else float(d)
        if v not in (None, ""):
            line[i] = v


def write_official(budget: Budget, path: Path, arrangement: str = "sheets") -> Path:
    """The whole disclosure of ``budget`` as one workbook in the given arrangement."""
    assert arrangement in ARRANGEMENTS, arrangement
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    tables = official_tables(budget)
    year = budget.spec.year
    if arrangement == "onesheet":
        ws = wb.create_sheet("公开表")
        r = 1
        for t in tables:
            r = write_table(ws, budget, t, r, prefix=f"{year}年")
    else:
        for n, t in enumerate(tables, start=1):
            name = t.sheet if arrangement != "handmade" else f"{n:02d}{t.title[:10]} "
            ws = wb.create_sheet(name[:31])
            long = len(t.rows) > 12
            write_table(ws, budget, t, 1, joined=arrangement == "handmade" and n % 2 == 0,
                        handmade=arrangement == "handmade",
                        split_at=(len(t.rows) // 2 if arrangement == "split" and long else None),
                        department="" if arrangement == "handmade" else None,
                        prefix=f"{budget.spec.department}{year}年" if arrangement == "handmade" else f"{year}年")
    wb.save(path)
    return path
