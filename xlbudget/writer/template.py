"""Write a locked template (blank or filled) for a layout with XlsxWriter.

Every sheet is protected; only input cells are unlocked and tinted. Every total is a formula written with
its computed value, so viewers that do not recalculate never show 0. Amount inputs validate numbers at the
entry precision; code cells of spare rows pick from hidden code lists through defined names and their names
fill themselves. The live 校验 sheet is the rule book rendered by the rules ``check`` runs (xlbudget.rules.sheet). The template's identity (table
set, version, spec and its hash) is embedded for the reader.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter

from .. import __version__
from .. import classification, formulas
from ..layout import (CHECK_SHEET, CODE_SHEET, META_SHEET, Layout, LRow, LTable, a1, catalogue_for, header_grid,
                      merge_regions, note_columns, quote_sheet)
from ..model import Budget, cell_type
from ..tableset import Column, Precision
from ..utility import atomic_write
from . import excel

FUNCTION_LIST = "功能分类项"
ECONOMIC_LIST = "经济分类款"
FUNCTION_TABLE = "功能分类表"
ECONOMIC_TABLE = "经济分类表"
FONT = "宋体"
CREATED = datetime(2025, 1, 1)
CHUNK = 30000


_Sheet = excel.PortableSheet


def _f(v: Any) -> Any:
    if isinstance(v, Decimal):
        return float(v)
    return v


class _Formats:
    def __init__(self, wb: xlsxwriter.Workbook, entry_decimals: int):
        base = {"font_name": FONT, "font_size": 10, "valign": "vcenter"}
        border = {**base, "border": 1}
        self.number = wb.add_format({**base, "align": "left"})
        self.title = wb.add_format({**base, "bold": True, "font_size": 16, "align": "center"})
        self.subtitle = wb.add_format({**base, "align": "center"})
        self.left = wb.add_format({**base, "align": "left"})
        self.right = wb.add_format({**base, "align": "right"})
        self.header = wb.add_format({**border, "bold": True, "align": "center", "text_wrap": True, "bg_color": "#F2F2F2"})
        self.numbering = wb.add_format({**border, "align": "center"})
        self.section = wb.add_format({**border, "bold": True, "bg_color": "#F2F2F2"})
        self.note = wb.add_format({**base, "text_wrap": True, "align": "left"})
        self._cache: dict[tuple, Any] = {}
        self.wb = wb
        self.border = border

    def get(self, kind: str, *, unlocked: bool = False, bold: bool = False, indent: int = 0, wrap: bool = False,
            center: bool = False, decimals: int = 2, zeros: bool = False) -> Any:
        key = (kind, unlocked, bold, indent, wrap, center, (decimals, zeros) if kind == "amount" else None)
        if key not in self._cache:
            props: dict[str, Any] = dict(self.border)
            if kind == "amount":
                props["num_format"] = excel.amount_format(decimals, blank_zero=not zeros)
            elif kind == "int":
                props["num_format"] = "0"
                props["align"] = "center"
            else:
                props["num_format"] = "@"
                props["text_wrap"] = True
            if unlocked:
                props["locked"] = False
                props["bg_color"] = "#FFF2CC"
            if bold:
                props["bold"] = True
            if indent:
                props["indent"] = indent
            if wrap:
                props["text_wrap"] = True
            if center:
                props["align"] = "center"
            self._cache[key] = self.wb.add_format(props)
        return self._cache[key]


def _validation_amount(r: int, c: int, precision: Precision, signed: bool = False) -> dict[str, Any]:
    ref = a1(r, c)
    entry, unit = precision.entry_decimals, precision.unit
    cond = f"AND(ISNUMBER({ref}),ROUND({ref},{entry})={ref})" if signed else \
        f"AND(ISNUMBER({ref}),{ref}>=0,ROUND({ref},{entry})={ref})"
    fen = Precision("元").convert(Decimal("0.01"), precision)   # one 分 in this unit
    fine = "（可录入到元、分）" if unit != "元" and Decimal(10) ** -entry <= fen else ""
    what = "整数" if entry == 0 else "数字"            # whole 元 tables take whole numbers
    places = "" if entry == 0 else f"，最多 {entry} 位小数"
    return {
        "validate": "custom", "value": "=" + cond, "ignore_blank": True,
        "input_title": f"金额（{unit}）",
        "input_message": f"请输入{'' if signed else '不小于 0 的'}{what}，单位{unit}{places}{fine}。合计等公式单元格已锁定，会自动计算。",
        "error_title": "金额格式不正确",
        "error_message": f"请输入{'' if signed else '不小于 0 的'}{what}{places}。",
    }


def _validation_int(signed: bool) -> dict[str, Any]:
    v = {"validate": "integer", "criteria": "between", "minimum": -100000 if signed else 0, "maximum": 10000000,
         "input_title": "整数", "input_message": "请输入整数" + ("（减少填负数）" if signed else "（不小于 0）"),
         "error_title": "格式不正确", "error_message": "请输入整数。"}
    return v


def embed_meta(layout: Layout) -> dict[str, str]:
    ts = layout.tableset
    return {
        "format": "xlbudget-template", "tableset": ts.id, "version": ts.version, "xlbudget": __version__,
        "spec_hash": layout.spec.hash, "department": layout.spec.department, "year": str(layout.spec.year),
        "unit": ts.unit,
    }


def write_workbook(layout: Layout, out_path: str | os.PathLike[str], budget: Budget | None = None,
                   *, checks: bool = True) -> Path:
    """Write the template of ``layout`` to ``out_path`` atomically; filled with ``budget`` when given."""
    return atomic_write(out_path, _render(layout, budget, checks=checks))


def _render(layout: Layout, budget: Budget | None, *, checks: bool) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                                    "strings_to_urls": False})
    ts = layout.tableset
    wb.set_properties({"title": f"{layout.spec.department} {layout.spec.year} 年部门预算公开表", "author": "xlbudget",
                       "created": CREATED, "comments": "xlbudget template"})
    for k, v in embed_meta(layout).items():
        wb.set_custom_property(f"xlbudget.{k}", v)
    fm = _Formats(wb, ts.entry_decimals)
    b = budget or Budget(layout, {"tables": {}})
    sheets = {}
    for t in layout.tables.values():
        sheets[t.id] = wb.add_worksheet(t.sheet, worksheet_class=_Sheet)
    if checks:
        check_ws = wb.add_worksheet(CHECK_SHEET, worksheet_class=_Sheet)
    code_ws = wb.add_worksheet(CODE_SHEET, worksheet_class=_Sheet)
    meta_ws = wb.add_worksheet(META_SHEET, worksheet_class=_Sheet)
    _write_codes(wb, code_ws, layout)
    for t in layout.tables.values():
        _write_table(wb, sheets[t.id], layout, t, b, fm)
    if checks:
        _write_checks(wb, check_ws, sheets, layout, b, fm)
    _write_meta(meta_ws, layout)
    wb.close()
    return _protect_structure(buf.getvalue())


# --- sheets ------------------------------------------------------------------------------------------------
def _write_codes(wb, ws, layout: Layout) -> None:
    spec = layout.spec
    fn = catalogue_for("function", spec.year)
    ec = catalogue_for("economic", spec.year)
    fl, el = classification.leaf("function"), classification.leaf("economic")
    fcodes = [c for c in fn.codes() if len(c.code) == fl]
    ecodes = [c for c in ec.codes() if len(c.code) == el]
    extra_f = [(k, v) for k, v in spec.names.items() if len(k) == fl and k not in fn]
    extra_e = [(k, v) for k, v in spec.names.items() if len(k) == el and k not in ec]
    frows = [(c.code, c.name) for c in fcodes] + extra_f
    erows = [(c.code, c.name) for c in ecodes] + extra_e
    ws.write_row(0, 0, ["功能分类项级编码", "名称", "", "经济分类款级编码", "名称"])
    for i, (code, name) in enumerate(frows, start=1):
        ws.write_string(i, 0, code)
        ws.write_string(i, 1, name)
    for i, (code, name) in enumerate(erows, start=1):
        ws.write_string(i, 3, code)
        ws.write_string(i, 4, name)
    q = quote_sheet(CODE_SHEET)
    nf, ne = max(len(frows), 1), max(len(erows), 1)
    wb.define_name(FUNCTION_LIST, f"={q}!$A$2:$A${nf + 1}")
    wb.define_name(FUNCTION_TABLE, f"={q}!$A$2:$B${nf + 1}")
    wb.define_name(ECONOMIC_LIST, f"={q}!$D$2:$D${ne + 1}")
    wb.define_name(ECONOMIC_TABLE, f"={q}!$D$2:$E${ne + 1}")
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})
    ws.hide()


def _write_meta(ws, layout: Layout) -> None:
    rows = list(embed_meta(layout).items())
    spec_json = layout.spec.to_json()
    chunks = [spec_json[i:i + CHUNK] for i in range(0, len(spec_json), CHUNK)] or [""]
    for i, (k, v) in enumerate(rows):
        ws.write_string(i, 0, k)
        ws.write_string(i, 1, v)
    base = len(rows)
    for j, ch in enumerate(chunks):
        ws.write_string(base + j, 0, "spec")
        ws.write_string(base + j, 1, ch)
    ws.protect("", {})
    ws.very_hidden()


def _write_table(wb, ws, layout: Layout, t: LTable, b: Budget, fm: _Formats) -> None:
    d = t.desc
    widths = [10.0] * t.width
    for blk in d.blocks:
        for col in blk.columns:
            c0, n = t.colpos[(blk.key, col.key)]
            per = col.width / n if col.span > 1 else col.width
            for i in range(n):
                widths[c0 + i] = max(widths[c0 + i], per if n > 1 else col.width) if col.span > 1 else col.width
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    last_col = t.width - 1
    # title area
    if d.number:
        ws.write_string(0, 0, d.number, fm.number)
    ws.merge_range(1, 0, 1, last_col, t.title, fm.title)
    ws.set_row(1, 28)
    if d.unit_line:
        half = max(0, t.width // 2 - 1)
        left = f"编制部门：{layout.spec.department}"
        if half > 0:
            ws.merge_range(2, 0, 2, half, left, fm.left)
        else:
            ws.write_string(2, 0, left, fm.left)
        unit = f"单位：{d.table_precision.unit}"
        if last_col > half + 1:
            ws.merge_range(2, half + 1, 2, last_col, unit, fm.right)
        else:
            ws.write_string(2, last_col, unit, fm.right)
    elif d.subtitle:
        sub = d.subtitle.format(year=layout.spec.year)
        ws.merge_range(2, 0, 2, last_col, sub, fm.subtitle)
    # headers
    if d.arrange == "side":
        grid = header_grid(t)
        _write_header(ws, grid, t.header_top, fm)
        if t.numbering_row is not None:
            _write_numbering(ws, t, fm)
    else:
        for blk in d.blocks:
            if blk.key in t.block_headers:
                r0, _ = t.block_headers[blk.key]
                grid = header_grid(t, blk.key)
                _write_header(ws, grid, r0, fm)
    for r, text in t.section_rows:
        ws.merge_range(r, 0, r, last_col, text, fm.section)
    # body
    dv_amount: list[tuple[int, int, bool, Precision]] = []
    heights: dict[int, float] = {}
    for row in t.rows.values():
        blk = d.block(row.block)
        _write_row(ws, layout, t, row, blk, b, fm, dv_amount, heights, widths)
        if row.type in ("longtext", "lines", "mapping"):
            heights[row.r] = max(heights.get(row.r, 0), 45.0)
    for r, h in heights.items():
        ws.set_row(r, h)
    for (r0, c, r1, signed, precision) in _runs(dv_amount):
        ws.data_validation(r0, c, r1, c, _validation_amount(r0, c, precision, signed))
    for r, text in t.notes:
        ws.merge_range(r, 0, r, last_col, text, fm.note)
        ws.set_row(r, text_height(text, sum(widths)))
    # empty-table note: a live formula, shown only while the table has no figures
    if t.note_row is not None:
        first_total = next(r for r in t.rows.values() if r.total)
        tcols = note_columns(t)
        rounded = [f"ROUND({a1(*t.pos(first_total.key, c.key))},{layout.precision(t.id, c.key).display_decimals})"
                   for c in tcols]
        rounded = rounded[0] if len(rounded) == 1 else "+".join(f"ABS({r})" for r in rounded)
        empty = b.table_is_empty(t.id)
        text = t.note_text or ""
        ws.merge_range(t.note_row, 0, t.note_row, last_col, "", fm.note)
        ws.write_formula(t.note_row, 0, f'=IF({rounded}=0,{excel.text(text)},"")', fm.note, text if empty else "")
        ws.set_row(t.note_row, 36)
    _finish_sheet(ws, t, layout)


def _runs(cells: list[tuple[int, int, bool, Precision]]) -> list[tuple[int, int, int, bool, Precision]]:
    """Group single input cells into vertical runs (one validation per run keeps files small and fast)."""
    out: list[tuple[int, int, int, bool, Precision]] = []
    for r, c, signed, p in sorted(cells, key=lambda x: (x[1], x[2], x[0])):
        if out and out[-1][1] == c and out[-1][3] == signed and out[-1][4] == p and out[-1][2] == r - 1:
            out[-1] = (out[-1][0], c, r, signed, p)
        else:
            out.append((r, c, r, signed, p))
    return out


def _write_header(ws, grid, r0: int, fm: _Formats) -> None:
    for (l0, c0, l1, c1, lab) in merge_regions(grid):
        if l0 == l1 and c0 == c1:
            ws.write_string(r0 + l0, c0, lab, fm.header)
        else:
            ws.merge_range(r0 + l0, c0, r0 + l1, c1, lab, fm.header)
    for i in range(len(grid)):
        ws.set_row(r0 + i, 30)


def _write_numbering(ws, t: LTable, fm: _Formats) -> None:
    n = 0
    r = t.numbering_row
    prev_header = None
    for blk in t.desc.blocks:
        for col in blk.columns:
            c0, k = t.colpos[(blk.key, col.key)]
            if col.numeric:
                n += 1
                ws.write_string(r, c0, str(n), fm.numbering)
                prev_header = None
                continue
            for i in range(k):
                if prev_header == col.header and i == 0 and not col.split:
                    # same header as the column before (e.g. 项目 over code and name): one merged ※
                    ws.merge_range(r, c0 - 1, r, c0, "※", fm.numbering)
                else:
                    ws.write_string(r, c0 + i, "※", fm.numbering)
            prev_header = col.header


def _code_parts(code: str, split: tuple[str, ...]) -> list[str]:
    cuts = classification.cuts("function")[: len(split)]
    return [code[a:b] for a, b in cuts]


def text_height(text: str, width: float, line: float = 13.5) -> float:
    """Row height (points) that shows ``text`` wrapped in a cell ``width`` characters wide (CJK counts double)."""
    cap = max(1.0, width * 0.95)
    lines = 0
    for para in str(text).split("\n"):
        units = sum(2.0 if ord(ch) > 0x2E80 else 1.0 for ch in para)
        lines += max(1, -int(-units // cap))
    return max(15.0, lines * line + 3)


def _write_row(ws, layout: Layout, t: LTable, row: LRow, blk, b: Budget, fm: _Formats, dv_amount,
               heights: dict[int, float], widths: list[float]) -> None:
    label_cols = [c for c in blk.columns if not c.numeric and c.kind in ("code", "name", "label", "project")]
    bold = row.total or (row.level in (0, 1) and row.record is None and blk.plan in ("tree", "projects"))
    # total and unit rows: one merged label over the text columns
    if (row.total or row.key == "unit") and blk.plan in ("tree", "projects", "classes", "records") and label_cols:
        c0, _ = t.colpos[(blk.key, label_cols[0].key)]
        cl, nl = t.colpos[(blk.key, label_cols[-1].key)]
        fmt = fm.get("text", bold=True, center=row.total)
        if cl + nl - 1 > c0:
            ws.merge_range(row.r, c0, row.r, cl + nl - 1, row.label, fmt)
        else:
            ws.write_string(row.r, c0, row.label, fmt)
        text_done = True
    else:
        text_done = False
    for col in blk.columns:
        c0, n = t.colpos[(blk.key, col.key)]
        role = layout.cell_role(t, row, col)
        if text_done and col in label_cols:
            continue
        if role == "label":
            _write_label(ws, layout, t, row, col, c0, n, fm, bold, b)
            continue
        typ = cell_type(row, col)
        if role == "input":
            text = _write_input(ws, layout, t, row, col, c0, n, typ, b, fm, dv_amount)
            if text:
                heights[row.r] = max(heights.get(row.r, 0), text_height(text, sum(widths[c0:c0 + n])))
        elif role in ("formula", "sum"):
            f = formulas.formula(layout, t, row, col)
            v = b.value(t.id, row.key, col.key)
            kind = "int" if typ in ("int", "signed_int") or col.kind == "int" else "amount"
            fmt = fm.get(kind, bold=bold or row.total, decimals=layout.precision(t.id, col.key).display_decimals,
                         zeros=t.desc.zeros)
            if n > 1:
                ws.merge_range(row.r, c0, row.r, c0 + n - 1, "", fmt)
            if f is None:
                ws.write_blank(row.r, c0, None, fmt)
            else:
                ws.write_formula(row.r, c0, "=" + f, fmt, _f(v if v is not None else 0))
        elif role == "fixed":
            fmt = fm.get("text", wrap=True)
            if n > 1:
                ws.merge_range(row.r, c0, row.r, c0 + n - 1, row.fixed or "", fmt)
            else:
                ws.write_string(row.r, c0, row.fixed or "", fmt)
        else:  # empty
            fmt = fm.get("amount", bold=bold, decimals=layout.precision(t.id, col.key).display_decimals,
                         zeros=t.desc.zeros)
            for i in range(n):
                ws.write_blank(row.r, c0 + i, None, fmt)


def _write_label(ws, layout: Layout, t: LTable, row: LRow, col: Column, c0: int, n: int, fm: _Formats, bold: bool,
                 b: Budget) -> None:
    fmt = fm.get("text", bold=bold, indent=row.indent if col.kind in ("label", "name") else 0,
                 center=col.kind == "code")
    if col.kind == "code":
        code = row.code or ""
        if row.spare:
            return
        if col.split:
            for i, part in enumerate(_code_parts(code, col.split) if code else [""] * n):
                ws.write_string(row.r, c0 + i, part, fmt)
        else:
            ws.write_string(row.r, c0, code, fmt)
        return
    if col.kind == "name" and row.spare:
        code_col = next(c for c in t.desc.block(row.block).columns if c.kind == "code")
        cc, _ = t.colpos[(row.block, code_col.key)]
        table = ECONOMIC_TABLE if t.desc.block(row.block).codes == "economic" else FUNCTION_TABLE
        ref = a1(row.r, cc)
        code = b.code_of(t, row)
        name = ""
        if code:
            name = layout.namer("economic" if table == ECONOMIC_TABLE else "function", code)
        ws.write_formula(row.r, c0, f'=IF({ref}="","",IFERROR(VLOOKUP({ref},{table},2,FALSE),"（编码不在代码表中）"))', fmt, name)
        return
    text = row.project_name if col.kind == "project" else row.label
    if col.kind == "label" and row.record is not None and not row.total:
        text = ""
    if col.kind == "project" and text:
        heights_hint = text_height(text, col.width * n)
        if heights_hint > 15:
            ws.set_row(row.r, heights_hint)
    if n > 1:
        ws.merge_range(row.r, c0, row.r, c0 + n - 1, text, fmt)
    else:
        ws.write_string(row.r, c0, text, fmt)


def _text_value(v: Any, typ: str) -> str:
    if v is None:
        return ""
    if typ == "lines" and isinstance(v, list):
        return "\n".join(str(x) for x in v)
    if typ == "mapping" and isinstance(v, dict):
        return "\n".join(f"{k}：{x}" for k, x in v.items())
    return str(v)


def _write_input(ws, layout: Layout, t: LTable, row: LRow, col: Column, c0: int, n: int, typ: str, b: Budget,
                 fm: _Formats, dv_amount) -> str:
    """Write one input cell; return its text (for the row height) when it is a text cell."""
    raw = b.raw(t, row, col) if not (row.spare and col.kind in ("code", "project")) else \
        b.doc.get("tables", {}).get(t.id, {}).get(row.key, {}).get(col.key)
    if col.kind in ("code", "project"):  # spare rows: code picked from a list, project name typed
        fmt = fm.get("text", unlocked=True, center=col.kind == "code")
        if n > 1:
            ws.merge_range(row.r, c0, row.r, c0 + n - 1, "", fmt)
        ws.write_string(row.r, c0, "" if raw is None else str(raw), fmt)
        if col.kind == "code":
            src = ECONOMIC_LIST if t.desc.block(row.block).codes == "economic" else FUNCTION_LIST
            ws.data_validation(row.r, c0, row.r, c0, {
                "validate": "list", "source": "=" + src, "input_title": "科目编码",
                "input_message": "请从下拉列表选择科目编码，名称自动填写。", "error_title": "编码无效",
                "error_message": "请从下拉列表选择代码表中的编码。"})
        return ""
    if typ in ("amount", "int", "signed_int"):
        amount = typ == "amount"
        precision = layout.precision(t.id, col.key)
        fmt = fm.get("amount" if amount else "int", unlocked=True, decimals=precision.display_decimals,
                     zeros=t.desc.zeros)
        if n > 1:
            ws.merge_range(row.r, c0, row.r, c0 + n - 1, "", fmt)
        if raw is None:
            ws.write_blank(row.r, c0, None, fmt)
        else:
            ws.write_number(row.r, c0, float(raw) if amount else int(raw), fmt)
        if amount:  # validated per run of cells, after the table is written
            dv_amount.append((row.r, c0, False, precision))
        else:
            ws.data_validation(row.r, c0, row.r, c0, _validation_int(typ == "signed_int"))
    else:
        fmt = fm.get("text", unlocked=True, wrap=True)
        text = _text_value(raw, typ)
        if n > 1:
            ws.merge_range(row.r, c0, row.r, c0 + n - 1, "", fmt)
        ws.write_string(row.r, c0, text, fmt)
        return text
    return ""


def _finish_sheet(ws, t: LTable, layout: Layout) -> None:
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True, "format_columns": True,
                    "format_rows": True})
    ws.set_paper(9)
    if t.desc.landscape or t.width > 8:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.fit_to_pages(1, 0)
    ws.center_horizontally()
    ws.set_margins(left=0.5, right=0.5, top=0.7, bottom=0.7)
    if t.header_rows and t.desc.arrange == "side":  # stacked forms have several headers: none repeats
        first = min(r for r, _ in t.header_rows)
        last = max(r for r, _ in t.header_rows)
        if t.numbering_row is not None:
            last = t.numbering_row
        ws.repeat_rows(first, last)
    ws.set_footer("&C第 &P 页 共 &N 页")
    ws.print_area(0, 0, t.last_row, t.width - 1)
    ws.hide_gridlines(2)
    ws.ignore_errors({"number_stored_as_text": f"A1:{a1(t.last_row, t.width - 1)}"})


# --- in-workbook checks ------------------------------------------------------------------------------------
CHECK_HEADER = ["规则", "校验内容", "单位", "左侧", "右侧", "差额", "容差", "结果", "级别"]
SEVERITY_ZH = {"error": "错误", "warning": "警告", "info": "提示"}


def _write_checks(wb, ws, sheets, layout: Layout, b: Budget, fm: _Formats) -> None:
    """The live 校验 sheet: the rule book rendered by the rules themselves (xlbudget.rules.sheet)."""
    from ..rules.sheet import LISTED, STATUS, sheet_rows

    rows = sheet_rows(b)
    last = len(CHECK_HEADER) - 1
    for c, w in enumerate([12, 44, 6, 14, 14, 12, 12, 8, 6]):
        ws.set_column(c, c, w)
    ws.merge_range(0, 0, 0, last, "校验（实时）", fm.title)
    ws.merge_range(1, 0, 1, last, "与 xlbudget check 使用同一规则簿：各数按公开数（四舍五入到各表的小数位）换算到左侧的单位后比较，"
                                  "容差为区间法（每个非空数各 ± 半个末位单位）。“不一致”为错误或警告，“尾差”为舍入所致；"
                                  f"不能写成公式的规则标为“{LISTED}”。", fm.note)
    ws.set_row(1, 30)
    top = 4
    end = top + len(rows) - 1
    res = f"{a1(top, 7, True)}:{a1(max(end, top), 7, True)}"
    fails = sum(1 for r in rows if r.formula and r.status == "fail")
    residues = sum(1 for r in rows if r.formula and r.status == "residue")
    ws.merge_range(2, 0, 2, last, "", fm.left)
    ws.write_formula(2, 0, f'="不一致 "&COUNTIF({res},"{STATUS["fail"]}")&" 项，尾差 "&COUNTIF({res},"{STATUS["residue"]}")&" 项"',
                     fm.left, f"不一致 {fails} 项，尾差 {residues} 项")
    ws.write_row(3, 0, CHECK_HEADER, fm.header)
    good = wb.add_format({"bg_color": "#C6EFCE", "font_color": "#006100"})
    bad = wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
    red_fill = wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
    text = fm.get("text")
    center = fm.get("text", center=True)
    for r, row in enumerate(rows, start=top):
        ws.write_string(r, 0, row.rule, text)
        ws.write_string(r, 1, row.title, text)
        ws.write_string(r, 8, SEVERITY_ZH.get(row.severity.value, ""), center)
        if not row.formula:
            ws.merge_range(r, 2, r, 7, row.note, text)
            continue
        amt = fm.get("amount", decimals=row.display)
        fine = fm.get("amount", decimals=row.places)
        lv, rv, diff, bound = row.values or (Decimal(0),) * 4
        ws.write_string(r, 2, row.unit, center)
        ws.write_formula(r, 3, "=" + row.left, amt, _f(lv))
        ws.write_formula(r, 4, "=" + row.right, amt, _f(rv))
        if row.op in ("nonzero", "count"):
            ws.write_blank(r, 5, None, fine)
            ws.write_blank(r, 6, None, fine)
        else:
            ws.write_formula(r, 5, f"=ROUND({a1(r, 3)}-{a1(r, 4)},{row.places})", fine, _f(diff))
            ws.write_formula(r, 6, f"=ROUND({row.tolerance},{row.places})", fine, _f(bound))
        ws.write_formula(r, 7, "=" + row.result_formula(a1(r, 3), a1(r, 4), a1(r, 5), a1(r, 6)), center,
                         STATUS[row.status])
        # the cell of a one-cell left side turns red where it stands while the rule fails
        cond = row.fail_condition(row.left, row.right) if row.cell else None
        if cond is not None:
            tid, rr, cc = row.cell
            local = _localise(cond, layout.tables[tid].sheet)
            sheets[tid].conditional_format(rr, cc, rr, cc, {"type": "formula", "criteria": "=" + local,
                                                            "format": red_fill})
    if rows:
        ws.conditional_format(top, 7, end, 7, {"type": "cell", "criteria": "==", "value": f'"{STATUS["ok"]}"',
                                               "format": good})
        ws.conditional_format(top, 7, end, 7, {"type": "cell", "criteria": "==", "value": f'"{STATUS["fail"]}"',
                                               "format": bad})
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(3, 3)
    ws.set_footer("&C第 &P 页 共 &N 页")


def _localise(formula: str, sheet: str) -> str:
    return formula.replace(quote_sheet(sheet) + "!", "")


# --- workbook structure protection (XlsxWriter does not write it) ------------------------------------------
def _protect_structure(data: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "xl/workbook.xml":
                text = content.decode("utf-8")
                text = re.sub(r"(<workbookPr[^>]*/>)", r'\1<workbookProtection lockStructure="1"/>', text, count=1)
                content = text.encode("utf-8")
            zi = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            zi.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(zi, content)
    return out.getvalue()
