"""Write the print-ready disclosure workbook (部门预算公开文件) with XlsxWriter.

The sheets and their order come from the set's ``disclosure.toml`` (:mod:`xlbudget.setdata`); for the
seed's set: 封面, 目录, 第一部分 (部门概况), 表1 … 表11 (第二部分), 第三部分 (情况说明 一 … 十二（四）), the 绩效目标
tables (部门整体绩效目标表, one 项目支出绩效目标表 per project, written from their descriptions), then 第四部分
(which opens with 十二（五）, as the seed prints it on the same page, and closes with the department and date).
Each table prints its own 单位 line and each numeric column its own decimals (``TableDesc.precision``).

How totals reproduce the published figures
-------------------------------------------
Each published figure is rounded on its own, so a published parent is not always the sum of its published
children (seed 表6: 301 is published 180.43 while its children sum to 180.44). The workbook therefore keeps
two copies of every numeric cell of 表1–表11:

* the hidden sheet ``精确数`` holds the exact figures: the inputs as approved (to the 元 or 分) and every
  total as an unrounded formula over that sheet (表1's 一般公共预算拨款 is the exact 表2 total, and so on);
* the visible cells print the published figures: an input is written as its published number (rounded to
  its column's display decimals), a total or derived cell is the formula
  ``=ROUND(<the same expression over the exact cells>,<decimals>)``, e.g.
  ``=ROUND(SUM(精确数!E112:E119),2)`` for 表6 301. A term kept in another unit is converted in the
  formula (``精确数!E5/10000`` for an 元 figure in a 万元 total).

So every formula's cached value is the published figure (180.43 above), a recalculation by Excel, WPS or
LibreOffice gives the same numbers, and each visible table is the disclosure cell for cell. Zero cells are
shown blank (number format), as in the official tables.

Print setup: A4, landscape for wide tables, one page wide (``fit_to_pages(1, 0)``), header rows repeated
on every page, borders, centred, footer "第 &P 页 共 &N 页", fonts 宋体 (LibreOffice substitutes a
Chinese font such as WenQuanYi when 宋体 is missing). The file is written to a temporary file in the
target folder and then renamed over the target.
"""

from __future__ import annotations

import functools
import math
import os
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

import xlsxwriter
import xlsxwriter.exceptions
from msgspec import Struct, field

from .. import __version__, classification
from ..layout import LRow, LTable, a1, header_grid, merge_regions, quote_sheet
from ..model import ZERO, Budget, get_path, q, to_decimal
from ..narrative import Section, narrative
from ..narrative import prepare as prepare_narrative
from ..setdata import DisclosurePlan, SheetDef, disclosure_plan
from ..tableset import Column
from ..formulas import unit_factor
from ..utility import atomic_output
from .excel import PortableSheet, amount_format
from .packaging import Packager

__all__ = ["prepare", "write_disclosure"]

FONT = "宋体"
TITLE_FONT = "黑体"
EXACT_FMT = "0.00####"
EXACT_SHEET = "精确数"                        # hidden sheet of the exact figures
EXACT_COL0 = 3                                # first column of the exact blocks (A-C hold labels)
NARRATIVE_WIDTH = 72                          # width (in Excel units) of the single text column


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


@functools.lru_cache(maxsize=8192)   # the labels of a thousand project sheets repeat
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


class NumCell(Struct):
    """A numeric cell of a table: its exact and published values and, for totals, its terms."""

    exact: Decimal | None
    terms: list[tuple[int, tuple[str, str, str]]] | None = None   # None: an input
    sum: bool = False                                               # a sum of child rows
    decimals: int = 2                                               # display decimals of the column
    key: tuple[str, str] = ("", "")                                 # (table, column): its unit

    @property
    def published(self) -> Decimal | None:
        return q(self.exact, self.decimals)


class PlanTable(Struct, dict=True):
    t: LTable
    rows: list[LRow]
    off: int                                   # sheet rows inserted above the layout's rows
    heading: str = ""                          # the part title printed above the table (first of its part)
    cells: dict[tuple[str, str], NumCell] = field(default_factory=dict)
    empty: bool = False
    note: str | None = None
    base: int = 0                              # row offset of the table's block on the exact-figures sheet

    def row(self, key: str) -> LRow | None:
        index = self.__dict__.get("_index")
        if index is None:
            index = self.__dict__["_index"] = {r.key: r for r in self.rows}
        return index.get(key)

    @property
    def width(self) -> int:
        return self.t.width


class _PerfColumn(Struct):
    """A column of a 绩效 table's block: where it prints, its display decimals and the cell type of its
    values (a ``field`` column takes each row's own type)."""

    col: Column
    c0: int
    n: int
    width: float                               # the printed width of its cells (for the row heights)
    decimals: int
    typ: str


class _PerfLayout:
    """What the sheets of one 绩效 description share: the column widths, each block's columns and header
    regions (a disclosure has such a sheet per project, all alike but for their rows)."""

    def __init__(self, t: LTable, precision):
        self.width = t.width
        self.colpos = t.colpos
        widths = [8.0] * t.width
        for blk in t.desc.blocks:
            for col in blk.columns:
                c0, n = t.colpos[(blk.key, col.key)]
                for i in range(n):
                    widths[c0 + i] = max(widths[c0 + i], col.width / n)
        self.widths = widths
        self.columns: dict[str, list[_PerfColumn]] = {}
        for blk in t.desc.blocks:
            cols = []
            for col in blk.columns:
                c0, n = t.colpos[(blk.key, col.key)]
                typ = "amount" if col.kind == "amount" else "int" if col.kind == "int" else "text"
                cols.append(_PerfColumn(col, c0, n, sum(widths[c0:c0 + n]),
                                        precision(t.id, col.key).display_decimals, typ))
            self.columns[blk.key] = cols
        self._headers: dict[str, tuple[list[tuple[int, int, int, int, str]], float]] = {}

    def header(self, t: LTable, block: str) -> tuple[list[tuple[int, int, int, int, str]], float]:
        """A block's header regions (``merge_regions``) and the height of its first header row."""
        h = self._headers.get(block)
        if h is None:
            grid = header_grid(t, block)
            height = max(_lines(x or "", self.widths[c]) for c, x in enumerate(grid[-1])) * _line_height(10) + 6
            h = self._headers[block] = (merge_regions(grid), height)
        return h


class _Workbook(xlsxwriter.Workbook):
    """A workbook that checks each new sheet name against a set of the names taken: XlsxWriter compares it
    with every sheet already added, quadratic in a disclosure of a thousand project sheets. Its other
    checks (length, characters, apostrophes) run as they are."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._taken: set[str] = set()

    def _check_sheetname(self, sheetname, is_chartsheet=False):
        if sheetname and sheetname.lower() in self._taken:
            raise xlsxwriter.exceptions.DuplicateWorksheetName(
                f"Sheetname '{sheetname}', with case ignored, is already in use.")
        sheets, self.worksheets_objs = self.worksheets_objs, []   # nothing to compare with: checked above
        try:
            name = super()._check_sheetname(sheetname, is_chartsheet)
        finally:
            self.worksheets_objs = sheets
        self._taken.add(name.lower())
        return name

    def _get_packager(self):
        return Packager()   # the sheets' XML assembled by two processes (same file)


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
    """Rows, exact values and formula terms of the public tables, and where each cell sits."""

    def __init__(self, budget: Budget, plan: DisclosurePlan):
        self.b = budget
        self.layout = budget.layout
        self.tables: dict[str, PlanTable] = {}
        year = {"year": budget.spec.year, "department": budget.spec.department}
        for sheet in plan.sheets:
            if sheet.kind != "tables":
                continue
            heading = sheet.heading.format(**year)
            for tid in sheet.tables:
                t = self.layout.tables.get(tid)
                if t is None:
                    continue
                off = 2 if heading else 0
                self.tables[tid] = PlanTable(t=t, rows=list(t.rows.values()), off=off, heading=heading)
                heading = ""
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
                fmt = {"decimals": self.layout.precision(t.id, col.key).display_decimals, "key": (t.id, col.key)}
                if role == "input":
                    pt.cells[(row.key, col.key)] = NumCell(exact, **fmt)
                elif role == "formula":
                    expr = self.layout.expr_of(t, row, col)
                    terms: list[tuple[int, tuple[str, str, str]]] | None = []
                    for term in expr.terms:
                        ref = term.ref.resolve(t.id, row.key)
                        if ref.table == t.id:
                            if ref.row not in keys:
                                continue
                        elif not self.layout.has(ref.table, ref.row):
                            continue
                        elif ref.table not in self.tables:   # a figure of a table not printed: write the value
                            terms = None
                            break
                        terms.append((term.sign, (ref.table, ref.row, ref.col)))
                    if terms is None:
                        pt.cells[(row.key, col.key)] = NumCell(exact, **fmt)
                    else:
                        pt.cells[(row.key, col.key)] = NumCell(exact, terms, **fmt) if terms else NumCell(None, [], **fmt)
                elif role == "sum":
                    terms = [(1, (t.id, ch, col.key)) for ch in row.children if ch in keys]
                    pt.cells[(row.key, col.key)] = NumCell(exact, terms, sum=True, **fmt)
                else:
                    pt.cells[(row.key, col.key)] = NumCell(None, [], **fmt)

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
        terms = []   # (sign, key, position on the exact sheet) of each term the sheet holds
        for sign, key in cell.terms or ():
            p = self.pos(*key, mirror=True)
            if p is not None:
                terms.append((sign, key, p))
        if not terms:
            return None
        prefix = "" if here == EXACT_SHEET else f"{quote_sheet(EXACT_SHEET)}!"
        if cell.sum and len(terms) > 1:   # a run of rows of one column: a range
            cols = {c for _s, _k, (_r, c) in terms}
            rows_ = sorted(r for _s, _k, (r, _c) in terms)
            if len(cols) == 1 and rows_ == list(range(rows_[0], rows_[0] + len(rows_))):
                c = cols.pop()
                return f"SUM({prefix}{a1(rows_[0], c)}:{a1(rows_[-1], c)})"
        out = ""
        for sign, key, p in terms:
            r = prefix + a1(*p) + unit_factor(self.layout, key[0], key[2], *cell.key)
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
        self.plan = disclosure_plan(budget.layout.tableset)
        self.plans = _Plans(budget, self.plan)
        self.sheet_names: list[str] = []
        self._perf_formats: dict[tuple[str, int], Any] = {}
        self._perf_layouts: dict[str, _PerfLayout] = {}
        self.subs = {"year": self.year, "department": self.dept, "unit": budget.layout.tableset.unit}

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
        ws = self.wb.add_worksheet(name, worksheet_class=PortableSheet)
        self.sheet_names.append(name)
        return ws

    # --- 封面 --------------------------------------------------------------------------------------
    def cover(self, sd: SheetDef) -> None:
        ws = self.add_sheet(sd.name)
        ws.set_column(0, 0, NARRATIVE_WIDTH)
        f = self.f
        ws.set_row(0, 60)
        ws.set_row(2, 40)
        ws.write_string(2, 0, self.dept, f(bold=True, font_size=20, align="center", text_wrap=True, font_name=TITLE_FONT))
        ws.set_row(3, 30)
        ws.set_row(4, 56)
        ws.write_string(4, 0, sd.title.format(**self.subs), f(bold=True, font_size=28, align="center",
                                                              font_name=TITLE_FONT))
        ws.set_row(5, 30)
        row = 6
        for line in sd.lines:
            ws.set_row(row, 24)
            ws.write_string(row, 0, line.format(**self.subs), f(font_size=12, align="center"))
            row += 1
        pub = str(get_path(self.b.doc, sd.date) or "").strip() if sd.date else ""
        ws.set_row(row, 24)
        ws.write_string(row, 0, f"公开日期：{pub}" if pub else f"生成日期：{date.today():%Y 年 %m 月 %d 日}",
                        f(font_size=12, align="center"))
        row += 2
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
    def toc(self, sd: SheetDef, entries: list[tuple[int, str, str | None]]) -> None:
        ws = self.add_sheet(sd.name)
        ws.set_column(0, 0, NARRATIVE_WIDTH)
        f = self.f
        ws.set_row(0, 36)
        ws.write_string(0, 0, sd.title.format(**self.subs), f(bold=True, font_size=18, align="center",
                                                              font_name=TITLE_FONT))
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
            elif s.title:  # a part title may carry its own paragraphs (the Shanghai 编制说明 has no sections)
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
    def table(self, pt: PlanTable) -> None:
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
        if pt.heading:
            ws.set_row(0, 34)
            ws.merge_range(0, 0, 0, W - 1, pt.heading, f(bold=True, font_size=16, align="center", font_name=TITLE_FONT))
        # 表N / title / 编制部门 + 单位
        ws.write_string(off + 0, 0, t.desc.number.replace("表", "表 ") if t.desc.number else "", f(font_size=11))
        ws.set_row(off + 1, 30)
        ws.merge_range(off + 1, 0, off + 1, W - 1, t.title, f(bold=True, font_size=16, align="center",
                                                              font_name=TITLE_FONT))
        unit = f"单位：{t.desc.precision().unit}"
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
            last = body_top - 1
        else:
            last = self._body(ws, pt)
        for text in (note for _, note in t.notes):  # 注：本表反映… under every table
            last += 1
            ws.set_row(last, max(18.0, 15.0 * _lines(text, sum(colw))))
            ws.merge_range(last, 0, last, W - 1, text, f(text_wrap=True, align="left"))
        if pt.empty:
            last += 1
            ws.set_row(last, 40)
            ws.merge_range(last, 0, last, W - 1, pt.note or "", f(text_wrap=True, border=1, align="left"))
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
            for col in block.columns:
                if not col.numeric:
                    continue
                c0, _ = t.colpos[(block.key, col.key)]
                cell = pt.cells.get((row.key, col.key))
                decimals = self.b.layout.precision(t.id, col.key).display_decimals
                fmt = f(num_format=amount_format(decimals, blank_zero=not t.desc.zeros), border=1, bold=bold)
                expr = self.plans.expression(t.id, cell) if cell is not None and cell.terms else None
                if cell is None or cell.exact is None or (cell.terms is not None and expr is None):
                    ws.write_blank(r, c0, None, fmt)
                elif cell.terms is None:
                    ws.write_number(r, c0, _num(cell.published), fmt)
                else:
                    ws.write_formula(r, c0, f"=ROUND({expr},{decimals})", fmt, _num(cell.published))
        return last

    def exact_sheet(self) -> None:
        """The hidden sheet of exact figures that the visible totals round (see the module docstring)."""
        ws = self.add_sheet(EXACT_SHEET)
        f = self.f
        ws.set_column(0, 0, 8)
        ws.set_column(1, 1, 12)
        ws.set_column(2, 2, 36)
        ws.set_column(EXACT_COL0, EXACT_COL0 + 20, 14)
        ws.write_string(0, 0, "精确数：录入的批复数（各表的单位，可到元、分）及按其计算的未舍入合计。公开表中的合计 = 本表对应合计"
                              "按该列的小数位四舍五入。", f())
        xf = f(num_format=EXACT_FMT)
        for pt in self.plans.tables.values():
            t = pt.t
            top = pt.base + t.header_top + pt.off - 1
            ws.write_string(top, 0, t.desc.number, f(bold=True))
            ws.write_string(top, 2, f"{t.title}（单位：{t.desc.precision().unit}）", f(bold=True))
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
        if not spans:  # a table of figures only (one row, no label column)
            return height
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
                    kind = "economic" if block.codes == "economic" else "function"
                    parts = [row.code[a:b] for a, b in classification.cuts(kind) if a < len(row.code)]
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

    # --- 绩效目标表 (written from their descriptions, at the layout's coordinates) ----------------------
    def perf_tables(self, sd: SheetDef) -> list[LTable]:
        """The laid-out tables of a performance sheet entry that hold data (one per project when per project)."""
        out = []
        for t in self.b.layout.tables.values():
            if t.desc.id != sd.table:
                continue
            path = tuple(p.format(project=t.project or "") for p in sd.when)
            if path and not get_path(self.b.doc, path):
                continue
            out.append(t)
        return out

    def perf_label(self, sd: SheetDef, t: LTable) -> str:
        name = self.spec.project(t.project).name if t.project else ""
        return (sd.toc or t.title).format(project_name=name, **self.subs)

    def _perf_layout(self, t: LTable) -> "_PerfLayout":
        """What every sheet of ``t``'s description shares (one per project: the same columns and headers)."""
        pl = self._perf_layouts.get(t.desc.id)
        if pl is None or pl.width != t.width or pl.colpos != t.colpos:
            pl = self._perf_layouts[t.desc.id] = _PerfLayout(t, self.b.layout.precision)
        return pl

    def perf_sheet(self, sd: SheetDef, t: LTable) -> None:
        ws = self.add_sheet(t.sheet)
        hide = set(sd.hide)
        f = self.f
        d = t.desc
        W = t.width
        pl = self._perf_layout(t)
        widths = pl.widths
        for c, w in enumerate(widths):
            ws.set_column(c, c, w)
        ws.set_row(1, 32)
        ws.merge_range(1, 0, 1, W - 1, t.title, f(bold=True, font_size=16, align="center", font_name=TITLE_FONT))
        if d.subtitle:
            ws.merge_range(2, 0, 2, W - 1, d.subtitle.format(year=self.year, department=self.dept), f(align="center"))
        hf = f(bold=True, border=1, align="center", text_wrap=True)
        for blk in d.blocks:
            if blk.key in t.block_headers:
                r0, _depth = t.block_headers[blk.key]
                regions, height = pl.header(t, blk.key)
                for l0, c0, l1, c1, label in regions:
                    if l0 == l1 and c0 == c1:
                        ws.write_string(r0 + l0, c0, label, hf)
                    else:
                        ws.merge_range(r0 + l0, c0, r0 + l1, c1, label, hf)
                ws.set_row(r0, height)
        for r, text in t.section_rows:
            ws.merge_range(r, 0, r, W - 1, text, f(bold=True, border=1))
        for blk in d.blocks:
            if blk.key in hide and blk.key in t.block_headers:
                r0, depth = t.block_headers[blk.key]
                for r in range(r0, r0 + depth):
                    ws.set_row(r, None, None, {"hidden": True})
        cell_role = self.b.layout.cell_role
        records: dict[str, dict[str, Any]] = {}   # row key -> the raw values of a record row, by column
        holders: dict[tuple, Any] = {}             # a records block's path -> what holds its records
        for row in t.rows.values():
            blk = d.block(row.block)
            height = 18.0
            if row.record is not None and not row.total:
                records[row.key] = self._record_values(row, blk, holders)
            if row.key in hide or blk.key in hide or \
                    (row.record is not None and not row.total and _all_empty(records[row.key])):
                ws.set_row(row.r, None, None, {"hidden": True})
                continue
            cols = [(pc, cell_role(t, row, pc.col)) for pc in pl.columns[blk.key]]
            sum_start = min((pc.c0 for pc, role in cols if role == "sum"), default=None)
            if row.total and row.record is not None and sum_start:
                ws.merge_range(row.r, 0, row.r, sum_start - 1, row.label, f(border=1, align="center", bold=True)) \
                    if sum_start > 1 else ws.write_string(row.r, 0, row.label, f(border=1, align="center", bold=True))
            for pc, role in cols:
                if sum_start is not None and row.total and pc.c0 < sum_start:
                    continue
                text = self._perf_cell(ws, t, row, pc, role, records.get(row.key))
                if text:
                    height = max(height, _lines(text, pc.width) * _line_height(10) + 6)
            if height > 18.5:
                ws.set_row(row.r, min(height, 400))
        for blk in d.blocks:
            if blk.plan == "records" and blk.key not in hide:
                self._merge_runs(ws, t, blk, records)
        self.page(ws, landscape=d.landscape, area=(0, 0, t.last_row, W - 1))

    def _merge_runs(self, ws, t: LTable, blk, records: dict[str, dict[str, Any]]) -> None:
        """Merge the runs of equal values in the leading text columns of a records block (一级/二级指标),
        each run within the run of the column before it, up to the first column whose values all differ.
        ``records``: the raw values of the sheet's record rows (``_record_values``)."""
        rows = [r for r in t.rows_of(blk.key) if not r.total and not _all_empty(records[r.key])]
        if len(rows) < 2:
            return
        fmt = self.f(border=1, text_wrap=True, align="center")
        bounds = [(0, len(rows))]
        for col in blk.columns:
            values = [str(records[r.key][col.key] or "") for r in rows]
            if col.kind != "text" or len(set(values)) == len(values):
                break
            c0, n = t.colpos[(blk.key, col.key)]
            runs = []
            for lo, hi in bounds:
                i = lo
                while i < hi:
                    j = i
                    while j + 1 < hi and values[j + 1] == values[i] and rows[j + 1].r == rows[j].r + 1:
                        j += 1
                    if j > i and values[i]:
                        ws.merge_range(rows[i].r, c0, rows[j].r, c0 + n - 1, values[i], fmt)
                    runs.append((i, j + 1))
                    i = j + 1
            bounds = runs

    def _record_values(self, row: LRow, blk, holders: dict[tuple, Any]) -> dict[str, Any]:
        """The raw values of a record row by column (what ``Budget.raw`` gives for each), its record looked
        up once, in what holds the records of its path (``holders``, filled as the sheet's rows come)."""
        path = tuple(row.path or ())
        if path not in holders:
            holders[path] = get_path(self.b.doc, path)
        held = holders[path]
        rec = get_path(held, (row.record,)) if held is not None else None
        if not isinstance(rec, dict):
            return {col.key: None for col in blk.columns}
        return {col.key: rec.get(col.key) for col in blk.columns}

    def _perf_format(self, typ: str, decimals: int) -> Any:
        key = (typ, decimals)
        fmt = self._perf_formats.get(key)
        if fmt is None:
            f = self.f
            if typ == "amount":
                fmt = f(border=1, num_format=amount_format(decimals, blank_zero=False), align="right")
            elif typ in ("int", "signed_int"):
                fmt = f(border=1, align="center", num_format="0")
            else:
                fmt = f(border=1, text_wrap=True, valign="top" if typ in ("longtext", "lines") else "vcenter")
            self._perf_formats[key] = fmt
        return fmt

    def _perf_cell(self, ws, t: LTable, row: LRow, pc: "_PerfColumn", role: str,
                   record: dict[str, Any] | None = None) -> str:
        """Write one cell of a 绩效 sheet (``role``: the layout's ``cell_role``); return its text (for the row
        height). ``record``: the raw values of the row when it is a record row (``_record_values``)."""
        col, c0, n, decimals = pc.col, pc.c0, pc.n, pc.decimals
        typ = row.type if col.kind == "field" else pc.typ
        money = typ == "amount"
        fmt = self._perf_format(typ, decimals)

        def put(write, value, *cached) -> None:
            if n > 1:
                ws.merge_range(row.r, c0, row.r, c0 + n - 1, None, fmt)
            write(row.r, c0, value, fmt, *cached)

        if role == "label":
            text = "" if row.record is not None else row.label
            put(ws.write_string, text)
            return text
        if role == "fixed":
            put(ws.write_string, row.fixed or "")
            return row.fixed or ""
        if role in ("formula", "sum"):
            v = self.b.value(t.id, row.key, col.key) or ZERO
            expr = self._perf_formula(t, row, col, role)
            shown = q(v, decimals) if money else v
            if expr is None:
                put(ws.write_number, _num(shown))
            else:
                put(ws.write_formula, f"=ROUND({expr},{decimals})" if money else f"={expr}", _num(shown))
            return ""
        if role == "input":
            raw = record[col.key] if record is not None else self.b.raw(t, row, col)
            if typ in ("amount", "int", "signed_int"):
                v = to_decimal(raw) if raw not in (None, "") and not isinstance(raw, (list, dict)) else None
                if v is None:
                    put(ws.write_blank, None)
                else:
                    put(ws.write_number, _num(q(v, decimals) if money else v))
                return ""
            text = _text_value(raw)
            put(ws.write_string, text)
            return text
        put(ws.write_blank, None)
        return ""

    def _perf_formula(self, t: LTable, row: LRow, col: Column, role: str) -> str | None:
        """A 绩效 cell's formula: same-sheet cells at the layout's positions, public tables' printed cells."""
        if role == "sum":
            rs = sorted(t.rows[k].r for k in row.children if k in t.rows)
            if not rs:
                return None
            c0, _ = t.colpos[(row.block, col.key)]
            return f"SUM({a1(rs[0], c0)}:{a1(rs[-1], c0)})"
        expr = self.b.layout.expr_of(t, row, col)
        out = ""
        for term in expr.terms if expr is not None else ():
            ref = term.ref.resolve(t.id, row.key)
            if ref.table == t.id and ref.row in t.rows:
                cell = a1(*t.pos(ref.row, ref.col))
            elif ref.table in self.plans.tables:
                cell = self.plans.ref(None, (ref.table, ref.row, ref.col), mirror=False)
                if cell is None:
                    continue
                cell += unit_factor(self.b.layout, ref.table, ref.col, t.id, col.key)
            else:
                return None   # a figure of a table not printed: the value is written
            out += ("-" if term.sign < 0 else ("+" if out else "")) + cell
        return out or None

    # --- whole book -------------------------------------------------------------------------------
    def write(self) -> None:
        secs = self.sections
        sheets = self.plan.sheets
        perf = {i: self.perf_tables(sd) for i, sd in enumerate(sheets) if sd.kind == "performance"}
        entries: list[tuple[int, str, str | None]] = []
        for i, sd in enumerate(sheets):
            if sd.kind == "text":
                for s in secs:
                    if s.sheet != sd.name:
                        continue
                    if s.level == 0:
                        entries.append((0, s.title, sd.name))
                    elif s.level == 1 and s.title:
                        entries.append((1, s.title, None))
            elif sd.kind == "tables":
                pts = [self.plans.tables[tid] for tid in sd.tables if tid in self.plans.tables]
                if sd.heading:
                    entries.append((0, sd.heading.format(**self.subs), pts[0].t.sheet if pts else None))
                for pt in pts:
                    entries.append((1, f"{pt.t.desc.number} {pt.t.title}", pt.t.sheet))
            elif sd.kind == "performance":
                for t in perf[i]:
                    entries.append((1, self.perf_label(sd, t), t.sheet))
        for i, sd in enumerate(sheets):
            if sd.kind == "cover":
                self.cover(sd)
            elif sd.kind == "toc":
                self.toc(sd, entries)
            elif sd.kind == "text":
                self.text_sheet(sd.name, [s for s in secs if s.sheet == sd.name])
            elif sd.kind == "tables":
                for tid in sd.tables:
                    if tid in self.plans.tables:
                        self.table(self.plans.tables[tid])
            else:
                for t in perf[i]:
                    self.perf_sheet(sd, t)
        self.exact_sheet()


def _all_empty(values: dict[str, Any]) -> bool:
    return all(v in (None, "") for v in values.values())


def _text_value(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, list):
        return "\n".join(str(x) for x in v)
    if isinstance(v, dict):
        return "\n".join(f"{k}：{x}" for k, x in v.items())
    return str(v)


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


def prepare(tableset) -> None:
    """Load what writing a disclosure of ``tableset`` reads first (its disclosure plan, its narrative and
    compiled templates), so that a build can do it while its inputs are being read."""
    disclosure_plan(tableset)
    prepare_narrative(tableset)


def write_disclosure(budget: Budget, out_path: str | os.PathLike, *, unverified: bool = False,
                     narrative_options: dict[str, Any] | None = None,
                     sections: Iterable[Section] | None = None) -> Path:
    """Write the disclosure workbook of ``budget`` to ``out_path`` (atomically) and return its path.

    ``unverified`` stamps the cover (and every page header) "未经校验". ``narrative_options`` are passed to
    :func:`xlbudget.narrative.narrative` (e.g. ``{"zero_last_year": "na"}``).
    """
    out = Path(out_path)
    secs = list(sections) if sections is not None else narrative(budget, **(narrative_options or {}))
    with atomic_output(out) as tmp:
        # in_memory: a disclosure of many units has a sheet per project; one temporary file per sheet
        # (written, read back, removed) cost more than the writing itself
        wb = _Workbook(tmp, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
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
