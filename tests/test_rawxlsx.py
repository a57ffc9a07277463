"""RawWorkbook against openpyxl on generated workbooks.

Every workbook is generated in tmp_path with xlsxwriter (and patched with
zipfile where a feature cannot be written directly); no binaries are kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from openpyxl.formula.translate import Translator

from xlbudget.io.errors import WorkbookError
from xlbudget.io.rawxlsx import RawSheet, RawWorkbook, parse_ref, shift_formula, to_ref
from xlbudget.io.safety import ContainerInfo, Limits, inspect_container, read_member

SHEETS = ["收支总表", "收入总表", "支出总表", "代码表", "内部参数", "说明"]


# --------------------------------------------------------------------------
# Builders.
# --------------------------------------------------------------------------


def build_budget(path: Path) -> Path:
    """A small budget workbook touching every feature the reader reports."""
    wb = xlsxwriter.Workbook(str(path))
    wb.set_custom_property("模板编号", "XJ-2026-01")
    wb.set_custom_property("版本", 3)
    wb.set_custom_property("已审核", True)
    money = wb.add_format({"num_format": "0.00", "locked": False})
    datef = wb.add_format({"num_format": "yyyy-mm-dd"})

    summary = wb.add_worksheet(SHEETS[0])
    income = wb.add_worksheet(SHEETS[1])
    spend = wb.add_worksheet(SHEETS[2])
    codes = wb.add_worksheet(SHEETS[3])
    params = wb.add_worksheet(SHEETS[4])
    notes = wb.add_worksheet(SHEETS[5])
    codes.hide()
    params.very_hidden()

    for ws, title in ((income, "收入总表"), (spend, "支出总表")):
        ws.merge_range("A1:F1", title)
        ws.merge_range("A2:F2", "单位：万元")
        ws.write_row(2, 0, ["科目编码", "科目名称", "合计", "财政拨款", "其他", "备注"])
        for i in range(10):
            r = 3 + i
            ws.write_string(r, 0, f"20101{i:02d}")
            ws.write_string(r, 1, f"行政运行{i}")
            a, b = round(100 + i * 12.34, 2), round(i * 0.5, 2)
            ws.write_number(r, 3, a, money)
            ws.write_number(r, 4, b, money)
            ws.write_formula(r, 2, f"=D{r + 1}+E{r + 1}", money, round(a + b, 2))
        ws.write(13, 1, "合计")
        for col in "CDE":
            ws.write_formula(f"{col}14", f"=SUM({col}4:{col}13)", money, 0)
        ws.write_boolean("F4", True)
        ws.write_boolean("F5", False)
        ws.write_datetime("F6", dt.datetime(2026, 1, 15), datef)
        ws.write_string("F7", 'A&B <c> "q" \'s\'')
        ws.write_formula("F8", '=IF(D8>0,"是&否","<无>")', None, "是&否")
        ws.write_formula("F9", "=1/0", None, "#DIV/0!")
        ws.write_formula("F10", "=D4>0", None, True)
        ws.write_number("F11", 0)
        ws.write_string("F12", "  前后空格  ")
        ws.protect()

    summary.write_row(0, 0, ["项目", "金额"])
    summary.write("A2", "收入合计")
    summary.write_formula("B2", "='收入总表'!C14", money, 0)
    summary.write("A3", "支出合计")
    summary.write_formula("B3", "=支出总表!C14", money, 0)
    summary.write("A4", "差额")
    summary.write_formula("B4", "=B2-B3", money, 0)
    summary.write_formula("B5", "=SUMPRODUCT(('收入总表'!D4:D13>0)*1)", None, 10)
    summary.protect("", {"format_cells": True})

    codes.write_column("A1", ["2010101", "2010102", "2080505"])
    params.write("A1", 2026)
    notes.write("D3", "说明文字")
    notes.write("F7", 42)
    notes.merge_range("B10:D12", "合并说明")

    wb.define_name("预算年度", "=2026")
    wb.define_name("'收入总表'!数据区", "='收入总表'!$D$4:$E$13")
    wb.define_name("科目代码", "=代码表!$A$1:$A$3")
    income.print_area("A1:F14")
    income.repeat_rows(0, 2)
    wb.close()

    # Workbook structure protection cannot be written by xlsxwriter.
    rewrite(path, {"xl/workbook.xml": lambda d: d.replace(
        b"<bookViews>", b'<workbookProtection lockStructure="1"/><bookViews>')})
    return path


def rewrite(path: Path, changes: dict, dest: Path | None = None) -> Path:
    """Copy a zip, changing members: value is bytes, a callable or None (drop)."""
    dest = dest or path
    src = zipfile.ZipFile(path)
    items = [(i, src.read(i.filename)) for i in src.infolist()]
    src.close()
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in items:
            if info.filename in changes:
                change = changes[info.filename]
                if change is None:
                    continue
                data = change(data) if callable(change) else change
            out.writestr(info.filename, data)
        for name, change in changes.items():
            if name not in {i.filename for i, _ in items} and isinstance(change, bytes):
                out.writestr(name, change)
    return dest


def sheet_part(path: Path, name: str) -> str:
    wb = RawWorkbook.open(path)
    return wb.sheet_info(name).part


def read_all(path: Path, limits: Limits | None = None) -> tuple[RawWorkbook, dict[str, RawSheet]]:
    wb = RawWorkbook.open(path, limits)
    return wb, {n: wb.sheet(n) for n in wb.sheet_names}


def _norm(v):
    # calamine returns date for midnight date cells where openpyxl has datetime.
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return dt.datetime.combine(v, dt.time())
    return v


def assert_matches_openpyxl(path: Path) -> tuple[int, int]:
    """Values, formula text, merges, protection and states equal openpyxl's."""
    _, sheets = read_all(path)
    ox_f = openpyxl.load_workbook(path)
    ox_v = openpyxl.load_workbook(path, data_only=True)
    n_values = n_formulas = 0
    for ws in ox_f.worksheets:
        raw = sheets[ws.title]
        wsv = ox_v[ws.title]
        seen_formulas = set()
        for row in ws.iter_rows():
            for cell in row:
                key = (cell.row - 1, cell.column - 1)
                v = cell.value
                if isinstance(v, str) and v.startswith("="):
                    n_formulas += 1
                    seen_formulas.add(key)
                    assert raw.formulas.get(key) == v, (ws.title, cell.coordinate)
                cached = wsv.cell(cell.row, cell.column).value
                if isinstance(cached, str) and cached.startswith("#") and key in raw.errors:
                    assert raw.errors[key] == cached
                    assert key not in raw.values
                elif cached is None or cached == "":
                    assert key not in raw.values, (ws.title, cell.coordinate, raw.values.get(key))
                else:
                    n_values += 1
                    assert _norm(raw.values.get(key)) == cached, (ws.title, cell.coordinate)
        assert set(raw.formulas) == seen_formulas, ws.title
        assert sorted(map(str, ws.merged_cells.ranges)) == sorted(raw.merged), ws.title
        assert bool(ws.protection.sheet) == raw.protected, ws.title
        assert ws.sheet_state == raw.state, ws.title
    return n_values, n_formulas


# --------------------------------------------------------------------------
# Tests.
# --------------------------------------------------------------------------


@pytest.fixture()
def budget(tmp_path: Path) -> Path:
    return build_budget(tmp_path / "预算.xlsx")


def test_matches_openpyxl(budget: Path) -> None:
    n_values, n_formulas = assert_matches_openpyxl(budget)
    assert n_values > 100 and n_formulas > 30


def test_workbook_level(budget: Path) -> None:
    wb = RawWorkbook.open(budget)
    assert wb.sheet_names == SHEETS
    states = {s.name: s.state for s in wb.sheets}
    assert states["代码表"] == "hidden"
    assert states["内部参数"] == "veryHidden"
    assert states["收入总表"] == "visible"
    assert all(s.kind == "worksheet" for s in wb.sheets)
    assert wb.sheet_info("支出总表").part == "xl/worksheets/sheet3.xml"

    assert wb.workbook_protected and wb.lock_structure
    assert wb.workbook_protection == {"lockStructure": "1"}
    assert not wb.has_macros
    assert wb.custom_properties == {"模板编号": "XJ-2026-01", "版本": "3", "已审核": "true"}

    year = wb.defined_name("预算年度")
    assert year is not None and year.formula == "2026" and year.local_sheet_id is None
    local = wb.defined_name("数据区", local_sheet_id=1)
    assert local is not None and local.formula == "'收入总表'!$D$4:$E$13"
    assert wb.defined_name("数据区") is None  # not a workbook-scoped name
    assert wb.defined_name("科目代码").formula == "代码表!$A$1:$A$3"
    print_area = wb.defined_name("_xlnm.Print_Area", local_sheet_id=1)
    assert print_area is not None and "$A$1:$F$14" in print_area.formula

    ox = openpyxl.load_workbook(budget)
    assert ox.defined_names["预算年度"].attr_text == year.formula
    assert ox["收入总表"].defined_names["数据区"].attr_text == local.formula


def test_sheet_details(budget: Path) -> None:
    wb = RawWorkbook.open(budget)
    income = wb.sheet("收入总表")
    assert income.value("A4") == "2010100"          # text codes stay text
    assert income.value("D4") == 100.0
    assert income.value("F4") is True and income.value("F5") is False
    assert income.value("F6") in (dt.date(2026, 1, 15), dt.datetime(2026, 1, 15))
    assert income.value("F7") == 'A&B <c> "q" \'s\''
    assert income.value("F11") == 0.0                # zero is a value, not empty
    assert income.value("F12") == "  前后空格  "
    assert income.value("Z99") is None

    assert income.formula("C4") == "=D4+E4"
    assert income.formula("F8") == '=IF(D8>0,"是&否","<无>")'
    assert income.formula("A4") is None
    assert income.cached_types[parse_ref("C4")] == "number"
    assert income.cached_types[parse_ref("F8")] == "str"
    assert income.cached_types[parse_ref("F9")] == "error"
    assert income.cached_types[parse_ref("F10")] == "bool"
    assert income.errors == {parse_ref("F9"): "#DIV/0!"}
    assert income.value("F8") == "是&否"             # cached value: evidence only
    assert income.value("C14") == 0.0                # xlsxwriter's placeholder

    assert income.protected and income.protection["sheet"] == "1"
    assert income.dimension == "A1:F14"
    assert income.merged == ["A1:F1", "A2:F2"]
    assert income.max_row == 13 and income.max_col == 5

    summary = wb.sheet("收支总表")
    assert summary.formula("B2") == "='收入总表'!C14"
    assert summary.formula("B3") == "=支出总表!C14"
    assert summary.protected and summary.protection.get("formatCells") == "0"

    notes = wb.sheet("说明")
    assert not notes.protected and notes.protection == {}
    # Absolute, 0-based positions although the data starts at D3.
    assert notes.values[(2, 3)] == "说明文字"
    assert notes.values[(6, 5)] == 42
    assert notes.values[(9, 1)] == "合并说明"
    assert notes.merged == ["B10:D12"]
    assert wb.sheet("说明") is notes                   # cached


def test_positions_against_openpyxl_when_data_is_offset(tmp_path: Path) -> None:
    path = tmp_path / "offset.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("偏移")
    for r in range(5, 40, 3):
        for c in range(7, 30, 4):
            ws.write_number(r, c, r * 100 + c)
    ws.write_string(200, 60, "远处")
    wb.close()
    raw = RawWorkbook.open(path).sheet("偏移")
    ox = openpyxl.load_workbook(path)["偏移"]
    expected = {(c.row - 1, c.column - 1): c.value for row in ox.iter_rows() for c in row
                if c.value is not None}
    assert raw.values == expected
    assert raw.values[(200, 60)] == "远处"


def test_shared_formulas_expanded(budget: Path, tmp_path: Path) -> None:
    """Excel writes t="shared"; children carry only si and must be expanded."""
    part = sheet_part(budget, "收入总表")

    def share(data: bytes) -> bytes:
        s = data.decode()
        for r in range(4, 14):
            m = re.search(r'<c r="C%d"([^>]*)><f>D%d\+E%d</f>' % (r, r, r), s)
            assert m, r
            if r == 4:
                new = '<c r="C4"%s><f t="shared" ref="C4:C13" si="0">D4+E4</f>' % m.group(1)
            else:
                new = '<c r="C%d"%s><f t="shared" si="0"/>' % (r, m.group(1))
            s = s.replace(m.group(0), new)
        for i, col in enumerate("CDE"):
            m = re.search(r'<c r="%s14"([^>]*)><f>SUM\(%s4:%s13\)</f>' % (col, col, col), s)
            assert m, col
            if i == 0:
                new = '<c r="C14"%s><f t="shared" ref="C14:E14" si="1">SUM(C4:C13)</f>' % m.group(1)
            else:
                new = '<c r="%s14"%s><f t="shared" si="1"/>' % (col, m.group(1))
            s = s.replace(m.group(0), new)
        assert s.count('t="shared"') == 13
        return s.encode()

    shared = rewrite(budget, {part: share}, tmp_path / "shared.xlsx")
    assert_matches_openpyxl(shared)
    income = RawWorkbook.open(shared).sheet("收入总表")
    assert income.formula("C9") == "=D9+E9"
    assert income.formula("E14") == "=SUM(E4:E13)"


def test_shared_formula_child_without_master_is_still_a_formula(budget: Path, tmp_path: Path) -> None:
    part = sheet_part(budget, "收入总表")
    broken = rewrite(budget, {part: lambda d: d.replace(b"<f>D5+E5</f>", b'<f t="shared" si="7"/>')},
                     tmp_path / "orphan.xlsx")
    income = RawWorkbook.open(broken).sheet("收入总表")
    assert parse_ref("C5") in income.formulas
    assert income.formulas[parse_ref("C5")] == ""


def test_array_formula(tmp_path: Path) -> None:
    path = tmp_path / "array.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("数组")
    ws.write_column("A1", [1, 2, 3])
    ws.write_column("B1", [4, 5, 6])
    ws.write_array_formula("C1:C3", "{=A1:A3*B1:B3}")
    wb.close()
    raw = RawWorkbook.open(path).sheet("数组")
    assert raw.formula("C1") == "=A1:A3*B1:B3"
    assert raw.array_formulas == {(0, 2): "C1:C3"}


@pytest.mark.parametrize(
    "change",
    [
        # attributes in another order: s before r
        lambda s: re.sub(r'<c r="([A-Z]+[0-9]+)" s="([0-9]+)"', r'<c s="\2" r="\1"', s),
        # single-quoted attributes
        lambda s: re.sub(r'<c r="([A-Z]+[0-9]+)"', r"<c r='\1'", s),
        # a namespace prefix on every element
        lambda s: re.sub(r"<(/?)([A-Za-z]+)([ >/])", r"<\1x:\2\3", s).replace(
            'xmlns="http://schemas', 'xmlns:x="http://schemas'),
        # newlines between attributes
        lambda s: s.replace('<c r="', '<c\n r="'),
    ],
    ids=["attribute-order", "single-quotes", "namespace-prefix", "newlines"],
)
def test_unusual_but_valid_sheet_xml(budget: Path, tmp_path: Path, change) -> None:
    part = sheet_part(budget, "收入总表")
    odd = rewrite(budget, {part: lambda d: change(d.decode()).encode()}, tmp_path / "odd.xlsx")
    assert_matches_openpyxl(odd)


def test_cells_without_r_attribute(budget: Path, tmp_path: Path) -> None:
    """Excel allows implicit positions: the next column, in the row's row."""
    part = sheet_part(budget, "说明")
    implicit = rewrite(budget, {part: lambda d: re.sub(rb'<c r="F7"', b"<c", d)}, tmp_path / "imp.xlsx")
    notes = RawWorkbook.open(implicit).sheet("说明")
    # F7 was the only cell of row 7, so without r it lands in column A.
    assert notes.values.get((6, 0)) == 42
    ox = openpyxl.load_workbook(implicit)["说明"]
    assert ox.cell(7, 1).value == 42


def test_wrong_dimension_is_only_a_hint(budget: Path, tmp_path: Path) -> None:
    part = sheet_part(budget, "收入总表")
    lying = rewrite(budget, {part: lambda d: d.replace(b'<dimension ref="A1:F14"/>',
                                                      b'<dimension ref="A1"/>')},
                    tmp_path / "lying.xlsx")
    assert_matches_openpyxl(lying)
    missing = rewrite(budget, {part: lambda d: d.replace(b'<dimension ref="A1:F14"/>', b"")},
                      tmp_path / "nodim.xlsx")
    assert_matches_openpyxl(missing)


def test_other_encodings_are_transcoded(budget: Path, tmp_path: Path) -> None:
    part = sheet_part(budget, "说明")

    def utf16(data: bytes) -> bytes:
        text = data.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
        return b"\xff\xfe" + text.encode("utf-16-le")

    def gbk(data: bytes) -> bytes:
        return data.decode("utf-8").replace('encoding="UTF-8"', 'encoding="GBK"').encode("gbk")

    out = rewrite(budget, {part: utf16, "xl/sharedStrings.xml": gbk}, tmp_path / "enc.xlsx")
    notes = RawWorkbook.open(out).sheet("说明")
    assert notes.values[(2, 3)] == "说明文字"
    assert RawWorkbook.open(out).sheet("收入总表").value("B4") == "行政运行0"


def test_from_bytes_and_container(budget: Path) -> None:
    data = budget.read_bytes()
    wb = RawWorkbook.from_bytes(data, name="upload.xlsx")
    assert wb.path == "upload.xlsx"
    assert wb.sheet("收入总表").value("B4") == "行政运行0"

    assert wb.sha256 == hashlib.sha256(data).hexdigest()

    info = inspect_container(budget)
    assert "xl/workbook.xml" in info and "XL/WORKBOOK.XML" in info
    assert info.size == len(data) and not info.has_macros
    assert read_member(info, "xl/workbook.xml").startswith(b"<?xml")
    assert read_member(info.zipfile, "xl/workbook.xml") == info.read("xl/workbook.xml")


def test_empty_sheet_and_chartsheet(tmp_path: Path) -> None:
    path = tmp_path / "chart.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("数据")
    ws.write_column("A1", [1, 2, 3])
    wb.add_worksheet("空表")
    cs = wb.add_chartsheet("图表")
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"values": "=数据!$A$1:$A$3"})
    cs.set_chart(chart)
    wb.close()
    raw = RawWorkbook.open(path)
    assert [s.kind for s in raw.sheets] == ["worksheet", "worksheet", "chartsheet"]
    empty = raw.sheet("空表")
    assert empty.values == {} and empty.formulas == {} and empty.max_row == -1
    chart_sheet = raw.sheet("图表")
    assert chart_sheet.kind == "chartsheet" and chart_sheet.values == {}
    assert raw.sheet("数据").values == {(0, 0): 1.0, (1, 0): 2.0, (2, 0): 3.0}
    with pytest.raises(KeyError):
        raw.sheet("不存在")


def test_macro_workbook_is_read_and_flagged(tmp_path: Path) -> None:
    vba = tmp_path / "vbaProject.bin"
    vba.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)
    path = tmp_path / "宏.xlsm"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("数据").write("A1", "有宏")
    wb.add_vba_project(str(vba))
    wb.close()
    raw = RawWorkbook.open(path)
    assert raw.has_macros and raw.container.macro_parts == ["xl/vbaProject.bin"]
    assert raw.sheet("数据").value("A1") == "有宏"
    with pytest.raises(WorkbookError) as err:
        RawWorkbook.open(path, Limits(allow_macros=False))
    assert err.value.code == "macro-enabled"


def test_library_prints_nothing(budget: Path, capsys) -> None:
    read_all(budget)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.parametrize(
    "formula, origin, dest",
    [
        ("SUM(D5:P5)", "C5", "C9"),
        ("SUM(C5:C14)", "C15", "K15"),
        ("'收入总表'!C5+$A$1+A$1+$A1", "B2", "D7"),
        ("收入总表!C5*2", "B2", "B3"),
        ('IF(B2>0,"A1",C2)', "D2", "D3"),
        ("SUM(A:A)+SUM($B:B)", "C1", "E1"),
        ("SUM(1:1)+SUM($2:3)", "A5", "A8"),
        ("LOG10(A1)+ATAN2(B1,C1)", "D1", "D2"),
        ("_xlfn.XLOOKUP(A1,B:B,C:C)", "D1", "D4"),
        ("ROUND(A1*1.5E+3,2)", "B1", "B2"),
        ("预算年度*A1", "B1", "C2"),
        ("Sheet1:Sheet3!A1", "B1", "B2"),
    ],
)
def test_shift_formula_agrees_with_openpyxl(formula: str, origin: str, dest: str) -> None:
    expected = Translator("=" + formula, origin=origin).translate_formula(dest)
    r0, c0 = parse_ref(origin)
    r1, c1 = parse_ref(dest)
    assert "=" + shift_formula(formula, r1 - r0, c1 - c0) == expected


def test_shift_formula_off_the_grid() -> None:
    assert shift_formula("A1+$B$2", -1, 0) == "#REF!+$B$2"
    assert shift_formula("SUM(A2:A3)", 0, 0) == "SUM(A2:A3)"


@pytest.mark.parametrize(
    "ref, rowcol",
    [("A1", (0, 0)), ("$C$5", (4, 2)), ("Z1", (0, 25)), ("AA10", (9, 26)), ("XFD1048576", (1048575, 16383))],
)
def test_refs(ref: str, rowcol: tuple[int, int]) -> None:
    assert parse_ref(ref) == rowcol
    assert to_ref(*rowcol) == ref.replace("$", "")


def test_bad_ref() -> None:
    with pytest.raises(ValueError):
        parse_ref("收入")


def test_libreoffice_style_formula_attributes(budget: Path, tmp_path: Path) -> None:
    """LibreOffice writes <f aca="false">; the text must still be read."""
    part = sheet_part(budget, "收入总表")
    lo = rewrite(budget, {part: lambda d: d.replace(b"<f>", b'<f aca="false">')}, tmp_path / "lo.xlsx")
    assert_matches_openpyxl(lo)


def test_error_values_in_plain_cells(budget: Path, tmp_path: Path) -> None:
    part = sheet_part(budget, "说明")
    out = rewrite(budget, {part: lambda d: d.replace(
        b'<c r="F7"><v>42</v></c>', b'<c r="F7" t="e"><v>#N/A</v></c>')}, tmp_path / "err.xlsx")
    notes = RawWorkbook.open(out).sheet("说明")
    assert notes.errors == {(6, 5): "#N/A"}
    assert (6, 5) not in notes.values and (6, 5) not in notes.formulas


def test_unread_sheets_stay_compressed_until_asked_for(budget: Path, monkeypatch) -> None:
    full = RawWorkbook.open(budget)
    wb = RawWorkbook.open(budget, unread=("代码表", "说明"))
    inflated: list[str] = []
    read, mine = ContainerInfo.read, wb.container

    def watched(self, part, max_bytes=None):
        if self is mine:
            inflated.append(part)
        return read(self, part, max_bytes)

    monkeypatch.setattr(ContainerInfo, "read", watched)
    for name in ("收支总表", "收入总表"):
        assert wb.sheet(name).values == full.sheet(name).values
    codes_part = wb.sheet_info("代码表").part
    assert codes_part not in inflated and wb.sheet_info("说明").part not in inflated
    # asked for after all: read in full, and the sheets read before are still right
    for name in SHEETS:
        got, want = wb.sheet(name), full.sheet(name)
        assert (got.values, got.formulas, got.merged, got.protected) == \
            (want.values, want.formulas, want.merged, want.protected), name
    assert codes_part in inflated


# --- merged ranges: one pattern bounds them all, or each is checked --------------------------------------
def _sheet_with_merges(merges: str, prefix: str = "") -> bytes:
    p = prefix + ":" if prefix else ""
    ns = f' xmlns:{prefix}="http://schemas.openxmlformats.org/spreadsheetml/2006/main"' if prefix else ""
    merges = merges.replace("<mergeCell", f"<{p}mergeCell")
    return (f'<{p}worksheet{ns}><{p}sheetData/><{p}mergeCells>{merges}</{p}mergeCells></{p}worksheet>').encode()


def _merged(xml: bytes, limits: Limits):
    from xlbudget.io import rawxlsx

    prefix = re.match(rb"<(?:(\w+):)?worksheet", xml).group(1) or b""
    pats = rawxlsx._patterns(prefix)
    start = xml.find(pats["data"])
    try:
        return rawxlsx._merged_ranges(xml, start, pats, "表1", None, limits)
    except WorkbookError as exc:
        return exc.code, str(exc)


@pytest.mark.parametrize("refs, within", [
    (["A1:Q1", "B2", "Y10:Z12"], True),
    (["A1:C1", "A100:C100", "Z1:Z2"], True),                  # the last row and the last column allowed
    (["A1:C1", "A01:C1"], True),                               # leading zeros: checked one by one, allowed
    (["A1:C1", "A101:C101", "B2:C2"], False),                  # a row past the limit, in the middle
    (["A1:C1", "AA1:AA1"], False),                             # a column past the limit
    (["A1:C1", "B2:AAAA9"], False),
])
def test_merged_ranges_bounded_in_one_pass_as_one_by_one(refs, within):
    limits = Limits(max_rows=100, max_cols=26)
    usual = "".join(f'<mergeCell ref="{r}"/>' for r in refs)
    odd = "".join(f"<mergeCell ref='{r}' />" for r in refs)  # the attribute-by-attribute path
    fast, slow = _merged(_sheet_with_merges(usual), limits), _merged(_sheet_with_merges(odd), limits)
    assert fast == slow
    assert fast == refs if within else fast[0] == "absurd-dimensions"
    assert _merged(_sheet_with_merges(usual, "x"), limits) == fast  # a namespace prefix: the same, the slow way


def test_merged_ranges_an_unusual_tag_among_usual_ones_is_still_checked():
    limits = Limits(max_rows=100, max_cols=26)
    merges = '<mergeCell ref="A1:C1"/><mergeCell  ref="A1:C500"/><mergeCell ref="B2:C3"/>'
    assert _merged(_sheet_with_merges(merges), limits)[0] == "absurd-dimensions"
    fine = '<mergeCell ref="A1:C1"/><mergeCell  ref="A1:C50"/><mergeCell ref="B2:C3"/>'
    assert _merged(_sheet_with_merges(fine), limits) == ["A1:C1", "A1:C50", "B2:C3"]


_CF = ('<conditionalFormatting sqref="C7"><cfRule type="expression" dxfId="0" priority="1">'
       '<formula>ABS(C7-\'表7\'!F18)&gt;0.005</formula></cfRule></conditionalFormatting>')
_DV = '<dataValidations count="1"><dataValidation type="list" sqref="B2:B9"><formula1>"甲,乙"</formula1></dataValidation></dataValidations>'


@pytest.mark.parametrize("tail", [
    '<mergeCells count="2"><mergeCell ref="A1:C1"/><mergeCell ref="B2:C3"/></mergeCells>' + _CF * 20 + _DV,
    '<sheetProtection sheet="1"/>' + _CF + '<mergeCells><mergeCell ref="A1:C1"/></mergeCells>' + _DV * 5,
    '<mergeCells><mergeCell ref="A1:C1"/></mergeCells>' + _CF + '<mergeCells><mergeCell ref="D4:E5"/></mergeCells>',
    '<mergeCells><mergeCell ref="A1:C1"/></mergeCells>' + _DV + '<mergeCell ref="A1:C500"/>',   # past the limit
    '<mergeCells><mergeCell ref="A1:C1"/><mergeCell ref="B2:C3" /></mergeCells>' + _CF,        # an unusual tag
    '<mergeCells><mergeCell ref="A1:C1"/></mergeCells><mergeCellsX/>' + _CF,
    _CF + _DV,                                                                                  # none
])
def test_merged_ranges_looked_for_where_the_tags_are(tail):
    """The merged ranges of a sheet, whatever comes around its <mergeCells> (conditional formats and data
    validations, often most of the XML after the cells, are not searched): the same as the
    attribute-by-attribute reading of every tag after the cells finds, the limits applied alike."""
    limits = Limits(max_rows=100, max_cols=26)
    xml = f"<worksheet><sheetData/>{tail}</worksheet>".encode()
    want = []
    for m in re.finditer(r"<mergeCell\s([^>]*)>", tail):
        ref = re.search(r"""ref=["']([^"']+)["']""", m.group(1)).group(1)
        want.append(ref)
    got = _merged(xml, limits)
    if any(int(re.sub(r"[A-Z]", "", r.split(":")[-1])) > 100 for r in want):
        assert got[0] == "absurd-dimensions"
    else:
        assert got == want


@pytest.mark.parametrize("data", [
    b"", b"!", b"<!", b"<!DOCTYPE x>", b"<a>!</a>", b"<a b='!'/><!-- c -->", b"x!<! ", b"<" * 10 + b"!",
    b"<c><f>'\xe8\xa1\xa87'!F18</f></c>" * 64 + b"<![CDATA[x]]>",          # more "!" than are looked at one by one
    b"<c><f>'\xe8\xa1\xa87'!F18</f></c>" * 80,
    b"<c><f>'\xe8\xa1\xa87'!F18</f></c>" * 10 + b"<!ENTITY x 'y'>",
])
def test_markup_declarations_found_as_a_plain_search_finds_them(data):
    from xlbudget.io import rawxlsx

    assert rawxlsx._has_markup_declaration(data) == (b"<!" in data)


def test_a_dtd_after_many_cross_sheet_formulas_is_still_refused():
    from xlbudget.io import rawxlsx

    cells = b"".join(b"<c r=\"A%d\"><f>'S'!A1</f><v>1</v></c>" % i for i in range(1, 200))
    xml = b'<?xml version="1.0"?><worksheet><sheetData><row r="1">' + cells + b"</row></sheetData></worksheet>"
    assert rawxlsx._normalize_xml(xml, "xl/worksheets/sheet1.xml", None) == xml
    for tail in (b"<!DOCTYPE w [<!ENTITY e 'x'>]>", b"<! ENTITY e 'x'>"):
        with pytest.raises(WorkbookError) as got:
            rawxlsx._normalize_xml(tail + xml, "xl/worksheets/sheet1.xml", None)
        assert got.value.code == "xml-entities"
    # an entity the XML does not define is refused, unless a CDATA section may hold the "&"
    with pytest.raises(WorkbookError):
        rawxlsx._normalize_xml(xml.replace(b"<v>1</v>", b"<v>&x;</v>", 1), "p", None)
    ok = xml.replace(b"<v>1</v>", b"<v><![CDATA[&x;]]></v>", 1)
    assert rawxlsx._normalize_xml(ok, "p", None) == ok


def _scanned(xml: bytes, limits: Limits):
    from xlbudget.io import rawxlsx

    out = RawSheet(name="表1", part="xl/worksheets/sheet1.xml")
    try:
        scan = rawxlsx._scan_sheet(xml, "表1", out.part, None, limits, out)
    except WorkbookError as exc:
        return exc.code
    return scan.fast, scan.max_row, scan.max_col, dict(scan.formulas), dict(scan.errors)


def test_cells_are_looked_for_in_the_sheet_data_only_as_calamine_reads_them():
    limits = Limits(max_rows=100, max_cols=26)
    cells = b'<row r="1"><c r="A1"><f>B1+1</f><v>2</v></c><c r="B1" t="e"><v>#REF!</v></c></row>'
    head = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:B1"/>'
    outside = b'<c r="ZZ999"><f>A1*2</f><v>4</v></c><c r="C1" t="e"><v>#N/A</v></c>'
    inside = (True, 0, 1, {(0, 0): "=B1+1"}, {(0, 1): "#REF!"})
    xml = head + b"<sheetData>" + cells + b"</sheetData>"
    assert _scanned(xml + b"</worksheet>", limits) == inside
    # after the sheet data (in an extension, say) a cell is no cell: not read, not counted in the extent
    assert _scanned(xml + b'<extLst><ext uri="x">' + outside + b"</ext></extLst></worksheet>", limits) == inside
    # inside it the same cell is one, and over the limits
    assert _scanned(head + b"<sheetData>" + cells + b'<row r="2">' + outside + b"</row></sheetData></worksheet>",
                    limits) == "absurd-dimensions"
    # without an end tag for the sheet data the rest of the XML is looked at
    assert _scanned(head + b"<sheetData>" + cells + outside + b"</worksheet>", limits) == "absurd-dimensions"


def test_calamine_gets_the_cells_of_each_sheet_and_reads_them_as_from_the_file(budget: Path) -> None:
    """The copy calamine reads holds each sheet the fast scan read cut to its cells, behind an empty
    <mergeCells> (so that its search for merged ranges stops at once instead of parsing every cell a
    second time), and calamine reads the same cells from it as from the file itself."""
    import io

    from python_calamine import CalamineWorkbook

    wb = RawWorkbook.open(budget)
    for name in wb.sheet_names:
        wb.sheet(name)
    parts = {info.part for info in wb.sheets if info.name in wb._fast}
    assert parts, "the fast scan read no sheet"
    copy = zipfile.ZipFile(io.BytesIO(wb._calamine_zip(parts)))
    for part in parts:
        xml = copy.read(part)
        original = wb._inflate_sheets()[part]
        assert xml.startswith(original[: original.find(b"<sheetData")] + b"<mergeCells></mergeCells><sheetData")
        assert xml.endswith(b"</sheetData></worksheet>")
        assert b"<mergeCell " not in xml and b"<sheetProtection" not in xml
    ours = CalamineWorkbook.from_filelike(io.BytesIO(wb._calamine_zip(parts)))
    theirs = CalamineWorkbook.from_path(str(budget))
    for info in wb.sheets:
        if info.name in wb._fast:
            a, b = ours.get_sheet_by_name(info.name), theirs.get_sheet_by_name(info.name)
            assert (a.start, a.to_python()) == (b.start, b.to_python()), info.name


@pytest.mark.parametrize("rows, cols", [(55, 9), (0, 0), (1, 1), (1200, 30), (1048576, 16384)])
def test_the_quick_look_for_odd_cells_finds_one_where_the_full_pass_does(rows, cols):
    """``_any_odd_cell`` (run first: most sheets have no odd cell) finds a cell exactly where ``_odd_cells``
    finds one, over texts made of the pieces that decide it."""
    import random

    from xlbudget.io import rawxlsx

    pieces = [b"<c", b" ", b'r="', b"A", b"I", b"J", b"Z", b"AA", b"XFD", b"XFE", b"1", b"5", b"55", b"56", b"0",
              b"1048576", b"1048577", b'"', b">", b"/", b"\t", b"\r", b"\n", b"x", b"<v>", b"</c>", b"9", b"<col"]
    rnd = random.Random(rows * 31 + cols)
    full, quick = rawxlsx._odd_cells(rows, cols), rawxlsx._any_odd_cell(rows, cols)
    for _ in range(20000):
        text = b"".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 12)))
        assert bool(full.findall(text)) == (quick.search(text) is not None), text
