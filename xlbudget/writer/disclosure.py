"""Write the print-ready disclosure workbook (部门预算公开文件) with XlsxWriter.

Sheets, in print order: 封面, 目录, 第一部分 (部门概况), 表1 … 表11 (第二部分), 第三部分 (情况说明 一 …
十二（四）), the 绩效目标 tables (部门整体绩效目标表, one 项目支出绩效目标表 per project), then 第四部分 (which
opens with 十二（五）, as the seed prints it on the same page, and closes with the department and date).

How totals reproduce the published figures
-------------------------------------------
Each published figure is rounded on its own, so a published parent is not always the sum of its published
children (seed 表6: 301 is published 180.43 while its children sum to 180.44). The workbook therefore keeps
two copies of every numeric cell of 表1–表11:

* the hidden sheet ``精确数`` holds the exact figures: the inputs as approved (to the 元 or 分) and every
  total as an unrounded formula over that sheet (表1's 一般公共预算拨款 is the exact 表2 total, and so on);
* the visible cells print the published figures: an input is written as its published (2-decimal) number,
  a total or derived cell is the formula ``=ROUND(<the same expression over the exact cells>,2)``, e.g.
  ``=ROUND(SUM(精确数!E112:E119),2)`` for 表6 301.

So every formula's cached value is the published figure (180.43 above), a recalculation by Excel, WPS or
LibreOffice gives the same numbers, and each visible table is the disclosure cell for cell. Zero cells are
shown blank (number format), as in the official tables.

Print setup: A4, landscape for wide tables, one page wide (``fit_to_pages(1, 0)``), header rows repeated
on every page, borders, centred, footer "第 &P 页 共 &N 页", fonts 宋体 (LibreOffice substitutes a
Chinese font such as WenQuanYi when 宋体 is missing). The file is written to a temporary file in the
target folder and then renamed over the target.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

import xlsxwriter

from .. import __version__
from ..layout import LRow, LTable, a1, header_grid, merge_regions, quote_sheet
from ..model import ZERO, Budget, q, to_decimal
from ..narrative import Section, narrative, part_title
from ..tableset import Column
from ..utility import atomic_output
from .template import _Sheet  # formulas as written: no future-function expansion (a regex per name and formula)

__all__ = ["write_disclosure", "TABLE_IDS"]

FONT = "宋体"
TITLE_FONT = "黑体"
AMOUNT_FMT = '#,##0.00;-#,##0.00;"";@'      # zero shown blank, as in the official tables
AMOUNT_FMT_ZERO = "#,##0.00"                  # forms (绩效目标表) print 0.00
EXACT_FMT = "0.00####"
EXACT_SHEET = "精确数"                        # hidden sheet of the exact figures
EXACT_COL0 = 3                                # first column of the exact blocks (A-C hold labels)
NARRATIVE_WIDTH = 72                          # width (in Excel units) of the single text column
TABLE_IDS = ("T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "T10", "T11")


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _units(text: str) -> float:
    """Approximate display width of a text in Excel column units at 11 pt."""
    w = 0.0
    for ch in text:
        o = ord(ch)
        if o >= 0x2E80 or 0xFF00 <= o <= 0xFFEF or ch in "“”‘’…—":
            w += 2.05
        else:
            w += 1.05
    return w


def _lines(text: str, width_units: float, font_size: float = 10) -> int:
    if not text:
        return 1
    avail = max(width_units - 1.2, 2.0)
    total = 0
    for part in str(text).split("\n"):
        total += max(1, math.ceil(_units(part) * font_size / 11 / avail))
    return total


def _line_height(font_size: float) -> float:
    return font_size * 1.32


def _num(v: Decimal | None) -> float | None:
    return None if v is None else float(v)


@dataclass
class NumCell:
    """A numeric cell of a table: its exact and published values and, for totals, its terms."""

    exact: Decimal | None
    terms: list[tuple[int, tuple[str, str, str]]] | None = None   # None: an input
    sum: bool = False                                               # a sum of child rows

    @property
    def published(self) -> Decimal | None:
        return q(self.exact, 2)


@dataclass
class PlanTable:
    t: LTable
    rows: list[LRow]
    off: int                                   # sheet rows inserted above the layout's rows
    cells: dict[tuple[str, str], NumCell] = field(default_factory=dict)
    empty: bool = False
    note: str | None = None
    base: int = 0                              # row offset of the table's block on the exact-figures sheet

    def row(self, key: str) -> LRow | None:
        if not hasattr(self, "_index"):
            self._index = {r.key: r for r in self.rows}
        return self._index.get(key)

    @property
    def width(self) -> int:
        return self.t.width


# --------------------------------------------------------------------------------------------
# Formats
# --------------------------------------------------------------------------------------------


class _Formats:
    def __init__(self, wb: xlsxwriter.Workbook):
        self.wb = wb
        self._cache: dict[tuple, Any] = {}

    def __call__(self, **props: Any) -> Any:
        base = {"font_name": FONT, "font_size": 10, "valign": "vcenter"}
        base.update(props)
        key = tuple(sorted(base.items()))
        if key not in self._cache:
            self._cache[key] = self.wb.add_format(base)
        return self._cache[key]


# --------------------------------------------------------------------------------------------
# Plans of the 11 tables
# --------------------------------------------------------------------------------------------


class _Plans:
    """Rows, exact values and formula terms of 表1–表11, and where each cell sits."""

    def __init__(self, budget: Budget):
        self.b = budget
        self.layout = budget.layout
        self.tables: dict[str, PlanTable] = {}
        for tid in TABLE_IDS:
            t = self.layout.tables.get(tid)
            if t is None:
                continue
            off = 2 if tid == "T1" else 0
            rows = list(t.rows.values())
            pt = PlanTable(t=t, rows=rows, off=off)
            self.tables[tid] = pt
        self.layout_exact_sheet()
        for pt in self.tables.values():
            self._cells(pt)
            if pt.t.note_text and budget.table_is_empty(pt.t.id):
                pt.empty = True
                pt.note = pt.t.note_text

    def _cells(self, pt: PlanTable) -> None:
        t = pt.t
        keys = {r.key for r in pt.rows}
        for row in pt.rows:
            for col in t.desc.block(row.block).columns:
                if not col.numeric:
                    continue
                role = self.layout.cell_role(t, row, col)
                exact = self.b.value(t.id, row.key, col.key)
                if role == "input":
                    pt.cells[(row.key, col.key)] = NumCell(exact)
                elif role == "formula":
                    expr = self.layout.expr_of(t, row, col)
                    terms = []
                    for term in expr.terms:
                        ref = term.ref.resolve(t.id, row.key)
                        if ref.table == t.id:
                            if ref.row not in keys:
                                continue
                        elif not self.layout.has(ref.table, ref.row) or ref.table not in TABLE_IDS:
                            continue
                        terms.append((term.sign, (ref.table, ref.row, ref.col)))
                    pt.cells[(row.key, col.key)] = NumCell(exact, terms) if terms else NumCell(None, [])
                elif role == "sum":
                    terms = [(1, (t.id, ch, col.key)) for ch in row.children if ch in keys]
                    pt.cells[(row.key, col.key)] = NumCell(exact, terms, sum=True)
                else:
                    pt.cells[(row.key, col.key)] = NumCell(None, [])

    # --- addresses -------------------------------------------------------------------------------
    def layout_exact_sheet(self) -> None:
        """Stack the exact blocks of the tables on the hidden sheet: a title row, then the table's rows."""
        r = 2
        for pt in self.tables.values():
            pt.base = r - (pt.t.header_top + pt.off) + 1
            rows = [x.r for x in pt.rows]
            r = pt.base + pt.off + (max(rows) if rows else pt.t.header_top) + 2

    def pos(self, tid: str, rkey: str, ckey: str, mirror: bool) -> tuple[int, int] | None:
        pt = self.tables.get(tid)
        if pt is None:
            return None
        row = pt.row(rkey)
        if row is None:
            return None
        c0, _ = pt.t.colpos[(row.block, ckey)]
        if mirror:
            return pt.base + row.r + pt.off, c0 + EXACT_COL0
        return row.r + pt.off, c0

    def ref(self, here: str | None, key: tuple[str, str, str], mirror: bool = True) -> str | None:
        """Reference to a cell from sheet ``here`` (a table id, or None for another sheet)."""
        p = self.pos(*key, mirror=mirror)
        if p is None:
            return None
        cell = a1(*p)
        if mirror:
            return cell if here == EXACT_SHEET else f"{quote_sheet(EXACT_SHEET)}!{cell}"
        if key[0] == here:
            return cell
        return f"{quote_sheet(self.tables[key[0]].t.sheet)}!{cell}"

    def expression(self, here: str, cell: NumCell) -> str | None:
        """Excel expression of a total over the exact cells, as seen from sheet ``here``."""
        refs = []
        for sign, key in cell.terms or ():
            r = self.ref(here, key)
            if r is not None:
                refs.append((sign, key, r))
        if not refs:
            return None
        if cell.sum and len(refs) > 1:
            pos = [self.pos(*k, mirror=True) for _s, k, _r in refs]
            cols = {c for _r, c in pos}
            rows_ = sorted(r for r, _c in pos)
            if len(cols) == 1 and rows_ == list(range(rows_[0], rows_[0] + len(rows_))):
                c = cols.pop()
                prefix = "" if here == EXACT_SHEET else f"{quote_sheet(EXACT_SHEET)}!"
                return f"SUM({prefix}{a1(rows_[0], c)}:{a1(rows_[-1], c)})"
        out = ""
        for sign, _k, r in refs:
            if sign < 0:
                out += "-" + r
            else:
                out += ("+" if out else "") + r
        return out


# --------------------------------------------------------------------------------------------
# The writer
# --------------------------------------------------------------------------------------------


class _Writer:
    def __init__(self, wb: xlsxwriter.Workbook, budget: Budget, sections: list[Section], unverified: bool):
        self.wb = wb
        self.b = budget
        self.spec = budget.spec
        self.year = budget.spec.year
        self.dept = budget.spec.department
        self.sections = sections
        self.unverified = unverified
        self.f = _Formats(wb)
        self.plans = _Plans(budget)
        self.sheet_names: list[str] = []

    # --- common page setup -----------------------------------------------------------------------
    def page(self, ws, *, landscape: bool = False, repeat: tuple[int, int] | None = None,
             area: tuple[int, int, int, int] | None = None) -> None:
        ws.set_paper(9)
        if landscape:
            ws.set_landscape()
        else:
            ws.set_portrait()
        ws.fit_to_pages(1, 0)
        ws.center_horizontally()
        ws.set_margins(left=0.5, right=0.5, top=0.75, bottom=0.75)
        ws.set_footer("&C第 &P 页 共 &N 页")
        if self.unverified:
            ws.set_header("&R&\"宋体,Bold\"&12未经校验")
        if repeat is not None:
            ws.repeat_rows(*repeat)
        if area is not None:
            ws.print_area(*area)
        ws.hide_gridlines(2)

    def add_sheet(self, name: str):
        ws = self.wb.add_worksheet(name, worksheet_class=_Sheet)
        self.sheet_names.append(name)
        return ws

    # --- 封面 --------------------------------------------------------------------------------------
    def cover(self) -> None:
        ws = self.add_sheet("封面")
        ws.set_column(0, 0, NARRATIVE_WIDTH)
        f = self.f
        ws.set_row(0, 60)
        ws.set_row(2, 40)
        ws.write_string(2, 0, self.dept, f(bold=True, font_size=20, align="center", text_wrap=True, font_name=TITLE_FONT))
        ws.set_row(3, 30)
        ws.set_row(4, 56)
        ws.write_string(4, 0, f"{self.year} 年部门预算公开", f(bold=True, font_size=28, align="center",
                                                          font_name=TITLE_FONT))
        ws.set_row(5, 30)
        ws.set_row(6, 24)
        ws.write_string(6, 0, f"编制部门：{self.dept}", f(font_size=12, align="center"))
        ws.set_row(7, 24)
        ws.write_string(7, 0, f"金额单位：{self.spec.unit or '万元'}", f(font_size=12, align="center"))
        pub = str(((self.b.doc.get("facts") or {}).get("narrative") or {}).get("date") or "").strip()
        ws.set_row(8, 24)
        ws.write_string(8, 0, f"公开日期：{pub}" if pub else f"生成日期：{date.today():%Y 年 %m 月 %d 日}",
                        f(font_size=12, align="center"))
        row = 10
        if self.unverified:
            ws.set_row(row, 50)
            ws.write_string(row, 0, "未经校验", f(bold=True, font_size=28, align="center", font_color="#C00000",
                                                border=2, border_color="#C00000"))
            ws.set_row(row + 1, 48)
            ws.write_string(row + 1, 0, "本文件在校验发现错误的情况下强制生成，数据未经校验，不得作为正式公开文件。",
                            f(font_size=12, align="center", font_color="#C00000", text_wrap=True))
            row += 2
        self.page(ws, area=(0, 0, max(row, 9), 0))

    # --- 目录 --------------------------------------------------------------------------------------
    def toc(self, entries: list[tuple[int, str, str | None]]) -> None:
        ws = self.add_sheet("目录")
        ws.set_column(0, 0, NARRATIVE_WIDTH)
        f = self.f
        ws.set_row(0, 36)
        ws.write_string(0, 0, "目　　录", f(bold=True, font_size=18, align="center", font_name=TITLE_FONT))
        r = 2
        for level, text, sheet in entries:
            fmt = f(font_size=12 if level == 0 else 11, bold=level == 0, indent=level * 2)
            ws.set_row(r, 22)
            if sheet:
                link = f(font_size=12 if level == 0 else 11, bold=level == 0, indent=level * 2, font_color="#1F3864")
                ws.write_url(r, 0, f"internal:{quote_sheet(sheet)}!A1", link, string=text)
            else:
                ws.write_string(r, 0, text, fmt)
            r += 1
        self.page(ws, area=(0, 0, r - 1, 0))

    # --- narrative sheets --------------------------------------------------------------------------
    def text_sheet(self, name: str, sections: list[Section]) -> None:
        ws = self.add_sheet(name)
        ws.set_column(0, 0, NARRATIVE_WIDTH)
        f = self.f
        r = 0
        for s in sections:
            if s.kind == "performance_tables":
                continue
            if s.level == 0:
                ws.set_row(r, 40)
                ws.write_string(r, 0, s.title, f(bold=True, font_size=16, align="center", font_name=TITLE_FONT))
                r += 1
                continue
            if s.title:
                size = 12 if s.level == 1 else 11
                fmt = f(bold=True, font_size=size, text_wrap=True, font_name=TITLE_FONT if s.level == 1 else FONT)
                ws.set_row(r, _lines(s.title, NARRATIVE_WIDTH, size) * _line_height(size) + 8)
                ws.write_string(r, 0, s.title, fmt)
                r += 1
            for p in s.paragraphs:
                if s.kind == "signature":
                    ws.set_row(r, 22)
                    ws.write_string(r, 0, p, f(font_size=11, align="right"))
                else:
                    text = "　　" + p
                    ws.set_row(r, _lines(text, NARRATIVE_WIDTH, 11) * _line_height(11) + 6)
                    ws.write_string(r, 0, text, f(font_size=11, text_wrap=True, valign="top"))
                r += 1
        self.page(ws, area=(0, 0, max(r - 1, 0), 0))

    # --- 表1–表11 ------------------------------------------------------------------------------------
    def table(self, pt: PlanTable, first: bool) -> None:
        t = pt.t
        ws = self.add_sheet(t.sheet)
        f = self.f
        off = pt.off
        W = pt.width
        # physical column widths in order of colpos
        colw = [13.0] * W
        for b in t.desc.blocks:
            for col in b.columns:
                c0, n = t.colpos[(b.key, col.key)]
                for i in range(n):
                    colw[c0 + i] = col.width
        for c, w in enumerate(colw):
            ws.set_column(c, c, w)
        if first:
            ws.set_row(0, 34)
            ws.merge_range(0, 0, 0, W - 1, part_title(2, self.year),
                           f(bold=True, font_size=16, align="center", font_name=TITLE_FONT))
        # 表N / title / 编制部门 + 单位
        ws.write_string(off + 0, 0, t.desc.number.replace("表", "表 ") if t.desc.number else "", f(font_size=11))
        ws.set_row(off + 1, 30)
        ws.merge_range(off + 1, 0, off + 1, W - 1, t.title, f(bold=True, font_size=16, align="center",
                                                              font_name=TITLE_FONT))
        unit = f"单位：{self.spec.unit or '万元'}"
        if W >= 2:
            ws.merge_range(off + 2, 0, off + 2, W - 2, f"编制部门：{self.dept}", f(align="left"))
            ws.write_string(off + 2, W - 1, unit, f(align="right"))
        else:
            ws.write_string(off + 2, 0, f"编制部门：{self.dept}　{unit}", f())
        # header
        grid = header_grid(t)
        top = t.header_top + off
        hfmt = f(bold=True, align="center", text_wrap=True, border=1)
        heights = [18.0] * len(grid)
        for l0, c0, l1, c1, label in merge_regions(grid):
            width = sum(colw[c0:c1 + 1])
            need = _lines(label, width, 10) * _line_height(10) + 6
            per = need / (l1 - l0 + 1)
            for lv in range(l0, l1 + 1):
                heights[lv] = max(heights[lv], per)
            if l0 == l1 and c0 == c1:
                ws.write_string(top + l0, c0, label, hfmt)
            else:
                ws.merge_range(top + l0, c0, top + l1, c1, label, hfmt)
        for lv, h in enumerate(heights):
            ws.set_row(top + lv, min(h, 120))
        for c in range(W):
            if all(grid[lv][c] is None for lv in range(len(grid))):
                for lv in range(len(grid)):
                    ws.write_blank(top + lv, c, None, hfmt)
        last_header = top + len(grid) - 1
        if t.numbering_row is not None:
            nr = t.numbering_row + off
            last_header = nr
            nf = f(align="center", border=1)
            colmap: dict[int, Column] = {}
            for b in t.desc.blocks:
                for col in b.columns:
                    c0, ncols = t.colpos[(b.key, col.key)]
                    for i in range(ncols):
                        colmap[c0 + i] = col
            bottom = grid[-1]
            runs: list[list[int]] = []      # ※ cells; label columns under one bottom header label share one
            n = 0
            for c in range(W):
                col = colmap[c]
                if col.numeric:
                    n += 1
                    ws.write_number(nr, c, n, nf)
                    continue
                prev = colmap.get(c - 1)
                if runs and runs[-1][1] == c - 1 and prev is not None and not prev.numeric and prev is not col \
                        and not col.split and not prev.split and bottom[c] == bottom[c - 1]:
                    runs[-1][1] = c
                else:
                    runs.append([c, c])
            for c0, c1 in runs:
                if c1 > c0:
                    ws.merge_range(nr, c0, nr, c1, "※", nf)
                else:
                    ws.write_string(nr, c0, "※", nf)
        body_top = last_header + 1
        # body
        self._body_height = 0.0
        if pt.empty:
            ws.set_row(body_top, 40)
            ws.merge_range(body_top, 0, body_top, W - 1, pt.note or "", f(text_wrap=True, border=1, align="left"))
            last = body_top
        else:
            last = self._body(ws, pt)
        height = 30 + 2 * 16 + sum(heights) + (18 if t.numbering_row is not None else 0) + self._body_height
        landscape = _landscape(sum(colw), height, t.desc.landscape)
        self.page(ws, landscape=landscape, repeat=(top, last_header), area=(0, 0, max(last, body_top), W - 1))
        ws.ignore_errors({"number_stored_as_text": f"A1:{a1(max(last, body_top), W - 1)}"})
        ws.freeze_panes(body_top, 0)

    def _body(self, ws, pt: PlanTable) -> int:
        t = pt.t
        f = self.f
        off = pt.off
        last = t.header_top + off
        for row in pt.rows:
            r = row.r + off
            last = max(last, r)
            block = t.desc.block(row.block)
            bold = bool(row.total or (row.children and row.level == 0))
            label_cols = [c for c in block.columns if not c.numeric]
            height = self._labels(ws, pt, row, r, label_cols, bold)
            if height > 18.5:
                ws.set_row(r, height)
            self._body_height += max(height, 15.0)
            fmt = f(num_format=AMOUNT_FMT, border=1, bold=bold)
            for col in block.columns:
                if not col.numeric:
                    continue
                c0, _ = t.colpos[(block.key, col.key)]
                cell = pt.cells.get((row.key, col.key))
                expr = self.plans.expression(t.id, cell) if cell is not None and cell.terms else None
                if cell is None or cell.exact is None or (cell.terms is not None and expr is None):
                    ws.write_blank(r, c0, None, fmt)
                elif cell.terms is None:
                    ws.write_number(r, c0, _num(cell.published), fmt)
                else:
                    ws.write_formula(r, c0, f"=ROUND({expr},2)", fmt, _num(cell.published))
        return last

    def exact_sheet(self) -> None:
        """The hidden sheet of exact figures that the visible totals round (see the module docstring)."""
        ws = self.add_sheet(EXACT_SHEET)
        f = self.f
        ws.set_column(0, 0, 8)
        ws.set_column(1, 1, 12)
        ws.set_column(2, 2, 36)
        ws.set_column(EXACT_COL0, EXACT_COL0 + 20, 14)
        ws.write_string(0, 0, "精确数：录入的批复数（万元，可到元、分）及按其计算的未舍入合计。公开表中的合计 = 本表对应合计四舍五入到两位小数。",
                        f())
        xf = f(num_format=EXACT_FMT)
        for pt in self.plans.tables.values():
            t = pt.t
            top = pt.base + t.header_top + pt.off - 1
            ws.write_string(top, 0, t.desc.number, f(bold=True))
            ws.write_string(top, 2, t.title, f(bold=True))
            for b in t.desc.blocks:
                for col in b.columns:
                    if col.numeric:
                        c0, _ = t.colpos[(b.key, col.key)]
                        hdr = [h for h in col.header if h] or [col.key]
                        ws.write_string(top, EXACT_COL0 + c0, hdr[-1], f(bold=True, text_wrap=True))
            labels: dict[int, list[tuple[str, str]]] = {}
            for row in pt.rows:
                labels.setdefault(pt.base + row.r + pt.off, []).append((row.code or "", row.project_name or row.label or ""))
            for r, items in labels.items():      # side-by-side blocks (表1, 表4) share their rows
                ws.write_string(r, 0, t.desc.number, f())
                ws.write_string(r, 1, " / ".join(code for code, _l in items), f())
                ws.write_string(r, 2, " / ".join(label for _c, label in items), f())
            for row in pt.rows:
                r = pt.base + row.r + pt.off
                block = t.desc.block(row.block)
                for col in block.columns:
                    if not col.numeric:
                        continue
                    c0, _ = t.colpos[(block.key, col.key)]
                    cell = pt.cells.get((row.key, col.key))
                    if cell is None or cell.exact is None:
                        continue
                    if cell.terms is None:
                        ws.write_number(r, EXACT_COL0 + c0, _num(cell.exact), xf)
                        continue
                    expr = self.plans.expression(EXACT_SHEET, cell)
                    if expr is not None:
                        ws.write_formula(r, EXACT_COL0 + c0, f"={expr}", xf, _num(cell.exact))
        ws.hide()

    def _labels(self, ws, pt: PlanTable, row: LRow, r: int, label_cols: list[Column], bold: bool) -> float:
        t = pt.t
        f = self.f
        block = t.desc.block(row.block)
        height = 18.0
        # where the label columns span
        spans = [(t.colpos[(block.key, c.key)], c) for c in label_cols]
        text_fmt = f(border=1, text_wrap=True, bold=bold, indent=min(row.indent, 3) if row.indent else 0)
        code_fmt = f(border=1, align="left", bold=bold)
        if row.code is None or row.code == "":
            # total, unit or fixed rows: the label spans every label column of the block (fixed blocks have one)
            c_start = spans[0][0][0]
            c_end = spans[-1][0][0] + spans[-1][0][1] - 1
            label = row.label
            width = sum(self._colw(t, c) for c in range(c_start, c_end + 1))
            height = max(height, _lines(label, width) * _line_height(10) + 6)
            fmt = f(border=1, align="center", bold=True, text_wrap=True) if row.total and block.plan != "fixed" \
                else text_fmt
            if c_end > c_start:
                ws.merge_range(r, c_start, r, c_end, label, fmt)
            else:
                ws.write_string(r, c_start, label, fmt)
            return height
        for (c0, n), col in spans:
            if col.kind == "code":
                if col.split:
                    parts = _split_code(row.code, [2 if i else 3 for i in range(n)])
                    for i in range(n):
                        ws.write_string(r, c0 + i, parts[i] if i < len(parts) else "", code_fmt)
                else:
                    ws.write_string(r, c0, row.code, code_fmt)
            elif col.kind == "name":
                ws.write_string(r, c0, row.label or "", text_fmt)
                height = max(height, _lines(row.label or "", self._colw(t, c0)) * _line_height(10) + 6)
            elif col.kind == "project":
                ws.write_string(r, c0, row.project_name or "", text_fmt)
                height = max(height, _lines(row.project_name or "", self._colw(t, c0)) * _line_height(10) + 6)
            else:
                ws.write_string(r, c0, row.label or "", text_fmt)
                height = max(height, _lines(row.label or "", self._colw(t, c0)) * _line_height(10) + 6)
        return height

    @staticmethod
    def _colw(t: LTable, c: int) -> float:
        for b in t.desc.blocks:
            for col in b.columns:
                c0, n = t.colpos[(b.key, col.key)]
                if c0 <= c < c0 + n:
                    return col.width
        return 13.0

    # --- 绩效目标表 ------------------------------------------------------------------------------------
    def _perf_sheet(self, name: str, title: str, widths: list[int]):
        """A 绩效目标表 sheet with its title and year lines; returns (sheet, width, formats...)."""
        ws = self.add_sheet(name)
        f = self.f
        for c, w in enumerate(widths):
            ws.set_column(c, c, w)
        W = len(widths)
        ws.set_row(0, 32)
        ws.merge_range(0, 0, 0, W - 1, title, f(bold=True, font_size=16, align="center", font_name=TITLE_FONT))
        ws.merge_range(1, 0, 1, W - 1, f"（{self.year} 年）", f(align="center"))
        return (ws, W, f(border=1, text_wrap=True), f(border=1, text_wrap=True, align="center"),
                f(border=1, num_format=AMOUNT_FMT_ZERO, align="right"))

    def perf_department(self) -> str | None:
        perf = (self.b.doc.get("performance") or {}).get("department") or {}
        if not perf:
            return None
        t = self.b.layout.tables.get("PD")
        name = t.sheet if t is not None else "部门整体绩效"
        widths = [12, 12, 30, 12, 20, 9]
        ws, W, b, bc, money = self._perf_sheet(name, "部门整体绩效目标表", widths)
        f = self.f
        ws.merge_range(2, 0, 2, 1, "部门名称（盖章）", bc)
        ws.merge_range(2, 2, 2, W - 1, str(perf.get("unit_name") or self.dept), b)
        ws.merge_range(3, 0, 3, 1, "部门联系人", bc)
        ws.write_string(3, 2, str(perf.get("contact") or ""), b)
        ws.write_string(3, 3, "联系电话", bc)
        ws.merge_range(3, 4, 3, W - 1, str(perf.get("phone") or ""), b)
        goal = str(perf.get("goal") or "")
        ws.merge_range(4, 0, 4, 1, "年度绩效目标", bc)
        ws.merge_range(4, 2, 4, W - 1, goal, f(border=1, text_wrap=True, valign="top"))
        ws.set_row(4, _lines(goal, sum(widths[2:])) * _line_height(10) + 8)
        funds = perf.get("funds") or {}
        vals = [q(to_decimal(funds.get(k)) or ZERO) for k in ("fiscal_upper", "fiscal_own", "other")]
        ws.merge_range(5, 0, 9, 1, "年度预算（万元）", bc)
        ws.merge_range(5, 2, 5, 3, "资金来源", bc)
        ws.merge_range(5, 4, 5, W - 1, "资金总额（万元）", bc)
        ws.merge_range(6, 2, 7, 2, "财政资金（万元）", bc)
        ws.write_string(6, 3, "上级安排", bc)
        ws.write_string(7, 3, "本级安排", bc)
        ws.write_string(8, 2, "其他资金（万元）", bc)
        ws.write_string(8, 3, "其他", bc)
        for i, v in enumerate(vals):
            ws.merge_range(6 + i, 4, 6 + i, W - 1, None, money)
            ws.write_number(6 + i, 4, float(v), money)
        ws.merge_range(9, 2, 9, 3, "合计", bc)
        ws.merge_range(9, 4, 9, W - 1, None, money)
        ws.write_formula(9, 4, "=ROUND(SUM(E7:E9),2)", money, float(sum(vals, ZERO)))
        header = ["一级指标", "二级指标", "三级指标", "指标值", "指标设定依据", "分值权重"]
        keys = ["level1", "level2", "name", "value", "basis", "weight"]
        last = self._indicators(ws, 10, header, keys, widths, perf.get("indicators") or [])
        self.page(ws, repeat=None, area=(0, 0, last, W - 1))
        return name

    def perf_project(self, n: int, pkey: str) -> str | None:
        perf = ((self.b.doc.get("performance") or {}).get("projects") or {}).get(pkey)
        if perf is None:
            return None
        p = self.spec.project(pkey)
        tid = f"PP_{pkey}"
        t = self.b.layout.tables.get(tid)
        name = t.sheet if t is not None else f"项目绩效{n}"
        widths = [10, 10, 26, 12, 14, 10, 8, 14, 10]
        ws, W, b, bc, money = self._perf_sheet(name, "项目支出绩效目标表", widths)
        f = self.f
        ws.merge_range(2, 0, 2, 1, "预算单位", bc)
        ws.merge_range(2, 2, 2, W - 1, p.unit or self.dept, b)
        ws.merge_range(3, 0, 3, 1, "项目名称", bc)
        ws.merge_range(3, 2, 3, 5, p.name, b)
        ws.write_string(3, 6, "项目负责人", bc)
        ws.merge_range(3, 7, 3, W - 1, str(perf.get("owner") or ""), b)
        ws.set_row(3, max(18, _lines(p.name, sum(widths[2:6])) * _line_height(10) + 6))
        ws.merge_range(4, 0, 5, 1, "项目资金（万元）", bc)
        ws.merge_range(4, 2, 4, 3, "年度预算总额", bc)
        ws.merge_range(5, 2, 5, 3, "其中：财政拨款", bc)
        other = q(to_decimal(perf.get("other_funds")) or ZERO)
        t7 = self.plans.tables.get("T7")
        fiscal_ref = self.plans.ref(None, ("T7", pkey, "total"), mirror=False) if t7 is not None else None
        fiscal = q(self.b.value("T7", pkey, "total") or ZERO)
        ws.merge_range(5, 4, 5, 5, None, money)
        if fiscal_ref:
            ws.write_formula(5, 4, f"={fiscal_ref}", money, float(fiscal))
        else:
            ws.write_number(5, 4, float(fiscal), money)
        ws.write_string(5, 6, "其他资金", bc)
        ws.merge_range(5, 7, 5, W - 1, None, money)
        ws.write_number(5, 7, float(other), money)
        ws.merge_range(4, 4, 4, W - 1, None, money)
        ws.write_formula(4, 4, "=ROUND(E6+H6,2)", money, float(fiscal + other))
        goal = str(perf.get("goal") or "")
        ws.merge_range(6, 0, 6, 1, "项目总体目标", bc)
        ws.merge_range(6, 2, 6, W - 1, goal, f(border=1, text_wrap=True, valign="top"))
        ws.set_row(6, _lines(goal, sum(widths[2:])) * _line_height(10) + 8)
        header = ["一级指标", "二级指标", "三级指标", "指标值", "指标值设置依据", "上年完成值", "指标分值权重",
                  "指标赋分规则", "佐证资料"]
        keys = ["level1", "level2", "name", "value", "basis", "last_year", "weight", "scoring", "evidence"]
        last = self._indicators(ws, 7, header, keys, widths, perf.get("indicators") or [])
        self.page(ws, landscape=True, repeat=(7, 7), area=(0, 0, last, W - 1))
        return name

    def _indicators(self, ws, r0: int, header: list[str], keys: list[str], widths: list[float],
                    rows: list[dict[str, Any]]) -> int:
        f = self.f
        hf = f(bold=True, border=1, align="center", text_wrap=True)
        for c, h in enumerate(header):
            ws.write_string(r0, c, h, hf)
        ws.set_row(r0, max(_lines(h, widths[c]) for c, h in enumerate(header)) * _line_height(10) + 6)
        cf = f(border=1, text_wrap=True, align="center")
        lf = f(border=1, text_wrap=True)
        r = r0 + 1
        rows = [x for x in rows if any(x.get(k) not in (None, "") for k in keys)]
        for i, ind in enumerate(rows):
            h = 18.0
            for c, k in enumerate(keys):
                v = ind.get(k)
                if k == "weight" and v not in (None, ""):
                    ws.write_number(r + i, c, int(Decimal(str(v))), cf)
                    continue
                text = "" if v is None else str(v)
                ws.write_string(r + i, c, text, lf if k in ("name", "basis", "scoring") else cf)
                if c >= 2:
                    h = max(h, _lines(text, widths[c]) * _line_height(10) + 6)
            ws.set_row(r + i, h)
        # merge runs of equal 一级/二级指标 cells
        for c, k in enumerate(keys[:2]):
            start = 0
            while start < len(rows):
                end = start
                while end + 1 < len(rows) and rows[end + 1].get(k) == rows[start].get(k) and \
                        (c == 0 or rows[end + 1].get(keys[0]) == rows[start].get(keys[0])):
                    end += 1
                if end > start:
                    ws.merge_range(r + start, c, r + end, c, str(rows[start].get(k) or ""), cf)
                start = end + 1
        return r + max(len(rows), 1) - 1

    # --- whole book -------------------------------------------------------------------------------
    def write(self) -> None:
        secs = self.sections
        part1 = [s for s in secs if s.part == 1]
        part3 = [s for s in secs if s.part == 3]
        part4 = [s for s in secs if s.part == 4]
        cut = next((i for i, s in enumerate(part3) if s.kind == "performance_tables"), None)
        part3_main = part3 if cut is None else part3[:cut]
        part3_rest = [] if cut is None else part3[cut + 1:]
        table_sheets = [(pt.t.sheet, f"{pt.t.desc.number} {pt.t.title}") for pt in self.plans.tables.values()]
        perf_projects = [p.key for p in self.spec.projects
                         if p.key in ((self.b.doc.get("performance") or {}).get("projects") or {})]
        pd = self.b.layout.tables.get("PD")
        has_pd = bool((self.b.doc.get("performance") or {}).get("department"))
        entries: list[tuple[int, str, str | None]] = []
        entries.append((0, part_title(1, self.year), "第一部分"))
        for s in part1:
            if s.level == 1 and s.title:
                entries.append((1, s.title, None))
        entries.append((0, part_title(2, self.year), table_sheets[0][0] if table_sheets else None))
        for sheet, label in table_sheets:
            entries.append((1, label, sheet))
        entries.append((0, part_title(3, self.year), "第三部分"))
        for s in part3_main:
            if s.level == 1 and s.title:
                entries.append((1, s.title, None))
        if has_pd:
            entries.append((1, "部门整体绩效目标表", pd.sheet if pd is not None else "部门整体绩效"))
        for n, key in enumerate(perf_projects, start=1):
            t = self.b.layout.tables.get(f"PP_{key}")
            entries.append((1, f"项目支出绩效目标表：{self.spec.project(key).name}", t.sheet if t else f"项目绩效{n}"))
        entries.append((0, part_title(4, self.year), "第四部分"))
        self.cover()
        self.toc(entries)
        self.text_sheet("第一部分", part1)
        for i, pt in enumerate(self.plans.tables.values()):
            self.table(pt, first=i == 0)
        self.text_sheet("第三部分", part3_main)
        self.perf_department()
        for n, key in enumerate(perf_projects, start=1):
            self.perf_project(n, key)
        self.text_sheet("第四部分", part3_rest + part4)
        self.exact_sheet()


def _landscape(width_units: float, height_pt: float, preferred: bool) -> bool:
    """The description's orientation, unless the other one needs fewer A4 pages at one page wide without
    shrinking the print much (at least 3/4 of the scale)."""
    width_pt = width_units * 5.25 + 10
    printable = {False: (523.0, 770.0), True: (770.0, 523.0)}    # A4 less 0.5 in side and 0.75 in top/bottom margins

    def fit(land: bool) -> tuple[int, float]:
        w, h = printable[land]
        scale = min(1.0, w / width_pt)
        return math.ceil(height_pt * scale / h), scale

    pages, scale = fit(preferred)
    other_pages, other_scale = fit(not preferred)
    if other_pages < pages and other_scale >= 0.75 * scale:
        return not preferred
    return preferred


def _split_code(code: str, lens: list[int]) -> list[str]:
    parts = []
    pos = 0
    for ln in lens:
        if pos >= len(code):
            break
        parts.append(code[pos:pos + ln])
        pos += ln
    return parts


def write_disclosure(budget: Budget, out_path: str | os.PathLike, *, unverified: bool = False,
                     narrative_options: dict[str, Any] | None = None,
                     sections: Iterable[Section] | None = None) -> Path:
    """Write the disclosure workbook of ``budget`` to ``out_path`` (atomically) and return its path.

    ``unverified`` stamps the cover (and every page header) "未经校验". ``narrative_options`` are passed to
    :func:`xlbudget.narrative.narrative` (e.g. ``{"zero_last_year": "na"}``).
    """
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    secs = list(sections) if sections is not None else narrative(budget, **(narrative_options or {}))
    with atomic_output(out) as tmp:
        # in_memory: a disclosure of many units has a sheet per project; one temporary file per sheet
        # (written, read back, removed) cost more than the writing itself
        wb = xlsxwriter.Workbook(tmp, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                                       "strings_to_urls": False})
        wb.set_properties({"title": f"{budget.spec.department} {budget.spec.year} 年部门预算公开",
                           "subject": "部门预算公开", "author": budget.spec.department,
                           "company": budget.spec.department,
                           "comments": f"xlbudget {__version__}" + ("（未经校验）" if unverified else "")})
        wb.set_custom_property("xlbudget.kind", "disclosure")
        wb.set_custom_property("xlbudget.tableset", budget.layout.tableset.id)
        wb.set_custom_property("xlbudget.tableset_version", budget.layout.tableset.version)
        wb.set_custom_property("xlbudget.year", str(budget.spec.year))
        wb.set_custom_property("xlbudget.verified", not unverified)
        wb.set_calc_mode("auto")
        _Writer(wb, budget, secs, unverified).write()
        wb.close()
    return out
