"""Locked templates (blank, filled and generic): protection, validation, print setup, embedded identity,
cached formula values, and the filled workbook reproducing the seed's published tables.

The expected figures below are copied from the published 2025 budget disclosure of
克孜勒苏柯尔克孜自治州数字化发展局 (表1–表11 and the 绩效 tables), not computed by the library.
"""

from __future__ import annotations

import re
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from xlbudget.layout import layout_for
from xlbudget.model import budget_from_document, cell_type, load_example
from xlbudget.spec import generic_spec
from xlbudget.tableset import load_tableset
from xlbudget.template import fill, make_template

DEPARTMENT = "克孜勒苏柯尔克孜自治州数字化发展局"
CODE_SHEET = "代码表"
CENT = Decimal("0.01")


# ---------------------------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example():
    return load_example()


@pytest.fixture(scope="module")
def built(tmp_path_factory, example):
    spec, doc = example
    out = tmp_path_factory.mktemp("templates")
    return {
        "blank": make_template(spec, out / "blank.xlsx"),
        "filled": fill(doc, out / "filled.xlsx", spec),
        "generic": make_template(None, out / "generic.xlsx"),
    }


@pytest.fixture(scope="module")
def layouts(example):
    spec, _ = example
    return {"blank": layout_for(spec), "filled": layout_for(spec), "generic": layout_for(generic_spec())}


@pytest.fixture(scope="module")
def specs(example):
    spec, _ = example
    return {"blank": spec, "filled": spec, "generic": generic_spec()}


@pytest.fixture(scope="module")
def book(built):
    """book(kind, data_only=False) -> openpyxl workbook, loaded once per module."""
    cache: dict[tuple[str, bool], openpyxl.Workbook] = {}

    def get(kind: str, data_only: bool = False) -> openpyxl.Workbook:
        key = (kind, data_only)
        if key not in cache:
            cache[key] = openpyxl.load_workbook(built[kind], data_only=data_only)
        return cache[key]

    return get


@pytest.fixture(scope="module")
def seed_budget(example):
    spec, doc = example
    return budget_from_document(doc, spec)


KINDS = ["blank", "filled", "generic"]


def _cell(ws, t, row_key: str, col_key: str):
    r, c = t.pos(row_key, col_key)
    return ws.cell(row=r + 1, column=c + 1)


def _published(v) -> Decimal:
    """A cached cell value as printed: 2 decimals, half-up (blank prints as 0.00 here)."""
    if v is None or v == "":
        return Decimal("0.00")
    assert isinstance(v, (int, float)), f"not a number: {v!r}"
    return Decimal(repr(float(v))).quantize(CENT, rounding=ROUND_HALF_UP)


def _sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name -> worksheet XML text."""
    with zipfile.ZipFile(path) as z:
        wb_xml = z.read("xl/workbook.xml").decode("utf-8")
        rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8")
        targets = dict(re.findall(r'<Relationship[^>]*Id="([^"]+)"[^>]*Target="([^"]+)"', rels))
        targets.update({k: v for v, k in re.findall(r'<Relationship[^>]*Target="([^"]+)"[^>]*Id="([^"]+)"', rels)})
        out = {}
        for name, rid in re.findall(r'<sheet [^>]*name="([^"]+)"[^>]*r:id="([^"]+)"', wb_xml):
            target = targets[rid].lstrip("/")
            part = target if target.startswith("xl/") else "xl/" + target
            out[name] = z.read(part).decode("utf-8")
        return out


# ---------------------------------------------------------------------------------------------
# protection
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_every_table_sheet_is_protected(kind, book, layouts):
    wb = book(kind)
    layout = layouts[kind]
    assert layout.tables, "layout without tables"
    for t in layout.tables.values():
        assert t.sheet in wb.sheetnames, f"{kind}: sheet {t.sheet} missing"
        assert wb[t.sheet].protection.sheet is True, f"{kind}: sheet {t.sheet} is not protected"
    # the hidden code list sheet is protected and hidden too
    assert wb[CODE_SHEET].protection.sheet is True
    assert wb[CODE_SHEET].sheet_state in ("hidden", "veryHidden")


@pytest.mark.parametrize("kind", KINDS)
def test_workbook_structure_is_locked(kind, book, built):
    wb = book(kind)
    assert wb.security is not None and wb.security.lockStructure, f"{kind}: structure not locked"
    with zipfile.ZipFile(built[kind]) as z:
        xml = z.read("xl/workbook.xml").decode("utf-8")
    m = re.search(r"<workbookProtection\b[^>]*>", xml)
    assert m and re.search(r'lockStructure="(1|true)"', m.group(0)), xml[:400]


@pytest.mark.parametrize("kind", KINDS)
def test_only_input_cells_are_unlocked(kind, book, layouts):
    wb = book(kind)
    layout = layouts[kind]
    n_input = n_blank_input = n_other = 0
    for t, row, col in layout.cells():
        ws = wb[t.sheet]
        cell = _cell(ws, t, row.key, col.key)
        role = layout.cell_role(t, row, col)
        where = f"{kind} {layout.position(t.id, row.key, col.key)} ({t.id}/{row.key}/{col.key}, {role})"
        if role == "input":
            n_input += 1
            if cell.value is None or cell.value == "":
                n_blank_input += 1
            assert cell.protection.locked is False, f"input cell locked: {where}"
        elif type(cell).__name__ != "MergedCell":
            n_other += 1
            assert cell.protection.locked is not False, f"non-input cell unlocked: {where}"
    assert n_input > 100 and n_other > 100
    assert n_blank_input > 100, "blank input cells must be unlocked too"


@pytest.mark.parametrize("kind", KINDS)
def test_every_formula_cell_is_locked(kind, book, layouts):
    wb = book(kind)
    n = 0
    for t in layouts[kind].tables.values():
        ws = wb[t.sheet]
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    n += 1
                    assert cell.protection.locked is not False, f"{kind}: formula cell {t.sheet}!{cell.coordinate} unlocked"
    assert n > 200


def test_formula_roles_hold_formulas(book, layouts):
    """Every total of the filled workbook is a live formula (not a constant)."""
    wb = book("filled")
    layout = layouts["filled"]
    n = 0
    for t, row, col in layout.cells():
        role = layout.cell_role(t, row, col)
        if role not in ("formula", "sum"):
            continue
        cell = _cell(wb[t.sheet], t, row.key, col.key)
        # formula cells without operands (a class the department does not use) stay blank
        if cell.value is None:
            continue
        n += 1
        assert cell.data_type == "f", f"{layout.position(t.id, row.key, col.key)} holds {cell.value!r}, not a formula"
    assert n > 350


# ---------------------------------------------------------------------------------------------
# cached values
# ---------------------------------------------------------------------------------------------

_C_ELEM = re.compile(r"<c\b([^>]*?)(/>|>(.*?)</c>)", re.S)


@pytest.mark.parametrize("kind", KINDS)
def test_no_formula_without_cached_value(kind, built):
    n = 0
    for name, xml in _sheet_parts(built[kind]).items():
        for m in _C_ELEM.finditer(xml):
            inner = m.group(3) or ""
            if "<f" not in inner:
                continue
            n += 1
            ref = re.search(r'r="([A-Z]+[0-9]+)"', m.group(1))
            assert "<v>" in inner or "<v/>" in inner, f"{kind}: {name}!{ref.group(1) if ref else '?'} has no cached value"
    assert n > 300


def test_cached_values_equal_the_model(book, layouts, seed_budget):
    wb = book("filled", data_only=True)
    layout = layouts["filled"]
    n = 0
    for t, row, col in layout.cells():
        if layout.cell_role(t, row, col) not in ("formula", "sum"):
            continue
        if not (col.numeric or col.kind == "field"):
            continue
        cell = _cell(wb[t.sheet], t, row.key, col.key)
        want = seed_budget.value(t.id, row.key, col.key)
        got = cell.value
        if want is None:
            assert got in (None, 0, ""), f"{layout.position(t.id, row.key, col.key)}: {got!r}"
            continue
        n += 1
        assert isinstance(got, (int, float)), f"{layout.position(t.id, row.key, col.key)}: cached {got!r}"
        assert abs(got - float(want)) <= 1e-9, f"{layout.position(t.id, row.key, col.key)}: cached {got} != {want}"
    assert n > 300


# ---------------------------------------------------------------------------------------------
# print setup
# ---------------------------------------------------------------------------------------------


def _page_setup_xml(xml: str) -> dict[str, str]:
    m = re.search(r"<pageSetup\b([^>]*)/?>", xml)
    assert m, "no <pageSetup>"
    return dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))


@pytest.mark.parametrize("kind", KINDS)
def test_print_setup(kind, book, layouts, built):
    wb = book(kind)
    layout = layouts[kind]
    parts = _sheet_parts(built[kind])
    for t in layout.tables.values():
        ws = wb[t.sheet]
        where = f"{kind} {t.sheet}"
        assert int(ws.page_setup.paperSize) == 9, f"{where}: paper {ws.page_setup.paperSize}"
        ps = _page_setup_xml(parts[t.sheet])
        assert ps.get("paperSize") == "9", where
        # fit to one page wide (fitToWidth defaults to 1 in OOXML), any number of pages tall
        assert ps.get("fitToWidth", "1") == "1", f"{where}: fitToWidth {ps.get('fitToWidth')}"
        assert ps.get("fitToHeight") == "0", f"{where}: fitToHeight {ps.get('fitToHeight')}"
        assert ws.sheet_properties.pageSetUpPr is not None and ws.sheet_properties.pageSetUpPr.fitToPage, where
        if t.desc.landscape:
            assert ws.page_setup.orientation == "landscape", where
        footer = ws.oddFooter
        text = "".join(p.text or "" for p in (footer.left, footer.center, footer.right))
        assert "&P" in text, f"{where}: footer {text!r} has no page number"
        # the official tables and last year's figures are one header band over the body: it repeats on
        # every printed page (stacked forms with several header bands need not repeat one of them)
        if t.header_rows and t.desc.arrange == "side":
            titles = ws.print_title_rows
            assert titles, f"{where}: header rows are not repeated on every page"
            m = re.fullmatch(r"\$?(\d+):\$?(\d+)", titles)
            assert m, titles
            first, last = int(m.group(1)) - 1, int(m.group(2)) - 1
            header = {r for r, _ in t.header_rows}
            # the first block's header is repeated
            assert first == min(header), f"{where}: repeat rows {titles}"
            assert first <= min(header) <= last, f"{where}: repeat rows {titles}"


def test_official_tables_repeat_their_headers(layouts):
    layout = layouts["filled"]
    side = [t.id for t in layout.tables.values() if t.desc.arrange == "side"]
    assert set(side) >= {f"T{i}" for i in range(1, 12)} | {"LY"}
    assert all(layout.table(tid).header_rows for tid in side)


@pytest.mark.parametrize("kind", ["blank", "generic"])
def test_print_titles_repeat_only_header_rows(kind, book, layouts):
    """The rows repeated at the top of every printed page are header (or numbering) rows, never data rows."""
    wb = book(kind)
    bad = []
    for t in layouts[kind].tables.values():
        titles = wb[t.sheet].print_title_rows
        if not titles:
            continue
        first, last = (int(x) - 1 for x in re.fullmatch(r"\$?(\d+):\$?(\d+)", titles).groups())
        allowed = {r for r, _ in t.header_rows}
        if t.numbering_row is not None:
            allowed.add(t.numbering_row)
        data = sorted(set(range(first, last + 1)) - allowed)
        if data:
            bad.append(f"{t.sheet}!{titles} repeats non-header rows {[r + 1 for r in data]}")
    assert not bad, "; ".join(bad)


# ---------------------------------------------------------------------------------------------
# generic template: dropdown codes and names that fill themselves
# ---------------------------------------------------------------------------------------------


def _dv_at(ws, coord: str):
    return [dv for dv in ws.data_validations.dataValidation if coord in dv.sqref]


def test_generic_code_cells_pick_from_defined_lists(book, layouts):
    wb = book("generic")
    layout = layouts["generic"]
    names = wb.defined_names
    n_rows = 0
    for t in layout.tables.values():
        spares = [r for r in t.rows.values() if r.spare]
        if not spares:
            continue
        ws = wb[t.sheet]
        block = t.desc.block(spares[0].block)
        name_col = next(c for c in block.columns if c.kind == "name")
        digits = 5 if block.codes == "economic" else 7
        for row in spares:
            n_rows += 1
            code_cell = _cell(ws, t, row.key, "code")
            assert layout.cell_role(t, row, block.column("code")) == "input"
            assert code_cell.protection.locked is False
            dvs = _dv_at(ws, code_cell.coordinate)
            assert len(dvs) == 1, f"{t.sheet}!{code_cell.coordinate}: {len(dvs)} validations"
            dv = dvs[0]
            assert dv.type == "list"
            list_name = (dv.formula1 or "").lstrip("=")
            assert list_name in names, f"{t.sheet}!{code_cell.coordinate}: list {dv.formula1!r} is not a defined name"
            dests = list(names[list_name].destinations)
            assert len(dests) == 1 and dests[0][0] == CODE_SHEET, dests
            assert wb[CODE_SHEET].sheet_state in ("hidden", "veryHidden")
            codes = [c.value for row_ in wb[CODE_SHEET][dests[0][1]] for c in row_]
            assert codes and all(isinstance(c, str) and re.fullmatch(r"\d{%d}" % digits, c) for c in codes), \
                f"{list_name}: {codes[:5]}"
            # the name next to the code fills itself from the same code list
            name_cell = _cell(ws, t, row.key, name_col.key)
            assert name_cell.data_type == "f", f"{t.sheet}!{name_cell.coordinate}: {name_cell.value!r}"
            f = name_cell.value
            assert "VLOOKUP(" in f and code_cell.coordinate in f, f
            table_name = re.search(r"VLOOKUP\([A-Z]+\d+,([^,]+),", f).group(1)
            assert table_name in names, f"{f}: {table_name} is not a defined name"
            tdests = list(names[table_name].destinations)
            assert tdests and tdests[0][0] == CODE_SHEET
            assert name_cell.protection.locked is not False
    assert n_rows >= 30 * 6


# ---------------------------------------------------------------------------------------------
# identity and validation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_identity_custom_properties(kind, book, specs):
    wb = book(kind)
    props = {p.name: p.value for p in wb.custom_doc_props.props}
    ts = load_tableset("xj11")
    assert props.get("xlbudget.tableset") == ts.id == "xj11"
    assert props.get("xlbudget.version") == ts.version
    assert props.get("xlbudget.spec_hash") == specs[kind].hash


@pytest.mark.parametrize("kind", KINDS)
def test_every_numeric_input_has_validation(kind, book, layouts):
    wb = book(kind)
    layout = layouts[kind]
    n = 0
    for t, row, col in layout.cells():
        if layout.cell_role(t, row, col) != "input":
            continue
        typ = cell_type(row, col)
        if typ not in ("amount", "int", "signed_int"):
            continue
        n += 1
        ws = wb[t.sheet]
        cell = _cell(ws, t, row.key, col.key)
        dvs = _dv_at(ws, cell.coordinate)
        where = f"{kind} {t.sheet}!{cell.coordinate} ({t.id}/{row.key}/{col.key})"
        assert dvs, f"no data validation: {where}"
        dv = dvs[0]
        if typ == "amount":
            f = (dv.formula1 or "").upper()
            assert dv.type == "custom" and "ISNUMBER(" in f and "ROUND(" in f, f"{where}: {dv.type} {dv.formula1}"
            assert f">=0" in f.replace(" ", ""), f"{where}: negative amounts allowed: {dv.formula1}"
            assert f",{load_tableset('xj11').entry_decimals})" in f.replace(" ", ""), f"{where}: {dv.formula1}"
        else:
            assert dv.type == "whole", f"{where}: {dv.type}"
            if typ == "int":
                assert float(dv.formula1) >= 0, f"{where}: negative counts allowed"
    assert n > 500


# ---------------------------------------------------------------------------------------------
# the filled workbook reproduces the seed's published tables
# ---------------------------------------------------------------------------------------------

# 功能分类 rows of 表2/表3/表5 (code -> name), as printed.
FUNCTION_NAMES = {
    "201": "一般公共服务支出", "20141": "数据事务", "2014101": "行政运行", "2014150": "事业运行",
    "2014199": "其他数据事务支出", "208": "社会保障和就业支出", "20805": "行政事业单位养老支出",
    "2080505": "机关事业单位基本养老保险缴费支出", "210": "卫生健康支出", "21011": "行政事业单位医疗",
    "2101101": "行政单位医疗", "2101102": "事业单位医疗", "2101103": "公务员医疗补助", "221": "住房保障支出",
    "22102": "住房改革支出", "2210201": "住房公积金",
}

# 经济分类 rows of 表6 (code -> name), as printed.
ECONOMIC_NAMES = {
    "301": "工资福利支出", "30101": "基本工资", "30102": "津贴补贴", "30103": "奖金",
    "30108": "机关事业单位基本养老保险缴费", "30110": "职工基本医疗保险缴费", "30111": "公务员医疗补助缴费",
    "30112": "其他社会保障缴费", "30113": "住房公积金", "302": "商品和服务支出", "30201": "办公费",
    "30202": "印刷费", "30206": "电费", "30211": "差旅费", "30217": "公务接待费", "30228": "工会经费",
    "30229": "福利费", "30299": "其他商品和服务支出", "303": "对个人和家庭的补助", "30309": "奖励金",
}


def _t2_row(v: str) -> dict[str, str]:
    return {"total": v, "fiscal": v, "gp": v}


def _t3(total: str, basic: str | None, project: str | None) -> dict[str, str]:
    d = {"total": total}
    if basic:
        d["basic"] = basic
    if project:
        d["project"] = project
    return d


T3_ROWS = {
    "total": _t3("417.37", "186.63", "230.74"),
    "201": _t3("373.03", "142.29", "230.74"),
    "20141": _t3("373.03", "142.29", "230.74"),
    "2014101": _t3("54.81", "54.81", None),
    "2014150": _t3("87.48", "87.48", None),
    "2014199": _t3("230.74", None, "230.74"),
    "208": _t3("18.38", "18.38", None),
    "20805": _t3("18.38", "18.38", None),
    "2080505": _t3("18.38", "18.38", None),
    "210": _t3("11.04", "11.04", None),
    "21011": _t3("11.04", "11.04", None),
    "2101101": _t3("3.62", "3.62", None),
    "2101102": _t3("6.15", "6.15", None),
    "2101103": _t3("1.28", "1.28", None),
    "221": _t3("14.92", "14.92", None),
    "22102": _t3("14.92", "14.92", None),
    "2210201": _t3("14.92", "14.92", None),
}


def _t6(total: str, personnel: str | None, operating: str | None) -> dict[str, str]:
    d = {"total": total}
    if personnel:
        d["personnel"] = personnel
    if operating:
        d["operating"] = operating
    return d


def _p(v: str) -> dict[str, str]:
    return _t6(v, v, None)


def _o(v: str) -> dict[str, str]:
    return _t6(v, None, v)


SEED = {
    "T1": {
        "in_current": {"amount": "417.37"},
        "in_gp": {"amount": "417.37"},
        "in_gp_own": {"amount": "417.37"},
        "in_total": {"amount": "417.37"},
        "201": {"amount": "373.03"},
        "208": {"amount": "18.38"},
        "210": {"amount": "11.04"},
        "221": {"amount": "14.92"},
        "out_total": {"amount": "417.37"},
    },
    "T2": {
        "total": _t2_row("417.37"),
        "201": _t2_row("373.03"), "20141": _t2_row("373.03"), "2014101": _t2_row("54.81"),
        "2014150": _t2_row("87.48"), "2014199": _t2_row("230.74"),
        "208": _t2_row("18.38"), "20805": _t2_row("18.38"), "2080505": _t2_row("18.38"),
        "210": _t2_row("11.04"), "21011": _t2_row("11.04"), "2101101": _t2_row("3.62"),
        "2101102": _t2_row("6.15"), "2101103": _t2_row("1.28"),
        "221": _t2_row("14.92"), "22102": _t2_row("14.92"), "2210201": _t2_row("14.92"),
    },
    "T3": T3_ROWS,
    "T4": {
        "in_fiscal": {"amount": "417.37"},
        "in_gp": {"amount": "417.37"},
        "in_total": {"amount": "417.37"},
        "201": {"total": "373.03", "gp": "373.03"},
        "208": {"total": "18.38", "gp": "18.38"},
        "210": {"total": "11.04", "gp": "11.04"},
        "221": {"total": "14.92", "gp": "14.92"},
        "out_total": {"total": "417.37", "gp": "417.37"},
    },
    "T5": T3_ROWS,
    "T6": {
        "total": _t6("186.63", "180.45", "6.18"),
        "301": _p("180.43"), "30101": _p("42.79"), "30102": _p("61.42"), "30103": _p("31.15"),
        "30108": _p("18.38"), "30110": _p("9.76"), "30111": _p("1.28"), "30112": _p("0.74"), "30113": _p("14.92"),
        "302": _o("6.18"), "30201": _o("2.10"), "30202": _o("0.10"), "30206": _o("0.50"), "30211": _o("0.50"),
        "30217": _o("0.80"), "30228": _o("0.62"), "30229": _o("1.12"), "30299": _o("0.43"),
        "303": _p("0.02"), "30309": _p("0.02"),
    },
    # 表7: 18.00 (公车购置) under 资本性支出（基本建设）, 53.90 and 1.06 under 资本性支出, as the example places them
    "T7": {
        "total": {"total": "230.74", "e302": "157.78", "e309": "18.00", "e310": "54.96"},
        "unit": {"total": "230.74", "e302": "157.78", "e309": "18.00", "e310": "54.96"},
        "201": {"total": "230.74", "e302": "157.78", "e309": "18.00", "e310": "54.96"},
        "20141": {"total": "230.74", "e302": "157.78", "e309": "18.00", "e310": "54.96"},
        "p1": {"total": "62.40", "e302": "8.50", "e310": "53.90"},
        "p2": {"total": "10.00", "e302": "10.00"},
        "p3": {"total": "30.00", "e302": "30.00"},
        "p4": {"total": "20.00", "e302": "2.00", "e309": "18.00"},
        "p5": {"total": "7.00", "e302": "5.94", "e310": "1.06"},
        "p6": {"total": "101.34", "e302": "101.34"},
    },
    "T8": {},
    "T9": {},
    "T10": {
        "total": {"total": "3.10", "gp": "3.10"},
        "reception": {"total": "0.80", "gp": "0.80"},
        "vehicle": {"total": "2.30", "gp": "2.30"},
        "vehicle_operation": {"total": "2.30", "gp": "2.30"},
    },
    "T11": {},
}

PROJECT_NAMES = {
    "p1": "克州电子政务外网专项运维费项目",
    "p2": "克州数字政府工作业务经费项目",
    "p3": "克州政务服务大厅维保经费项目",
    "p4": "克州数字化发展局公车购置项目",
    "p5": "克州政务服务和数字化发展中心业务经费项目",
    "p6": "克州 12345 政务服务便民热线经费项目",
}

EMPTY_NOTES = {
    "T8": f"{DEPARTMENT} 2025 年没有使用政府性基金预算拨款安排的支出，政府性基金预算支出情况表为空表。",
    "T9": f"{DEPARTMENT} 2025 年没有使用国有资本经营预算拨款安排的支出，国有资本经营预算支出情况表为空表。",
    "T11": f"{DEPARTMENT} 2025 年没有上年结转结余预算安排的支出，上年结转结余情况明细表为空表。",
}


@pytest.mark.parametrize("tid", sorted(SEED, key=lambda s: int(s[1:])))
def test_filled_reproduces_the_seed_table(tid, book, layouts):
    wb = book("filled", data_only=True)
    layout = layouts["filled"]
    t = layout.table(tid)
    ws = wb[t.sheet]
    expected = SEED[tid]
    for key in expected:
        assert key in t.rows, f"{tid}: the seed prints row {key}, the workbook has no such row"
    mismatches = []
    n = 0
    for row in t.rows.values():
        for col in t.desc.block(row.block).columns:
            if not col.numeric:
                continue
            n += 1
            want = Decimal(expected.get(row.key, {}).get(col.key, "0.00"))
            got = _published(_cell(ws, t, row.key, col.key).value)
            if got != want:
                mismatches.append(f"{layout.position(tid, row.key, col.key)} ({row.key}/{col.key}): {got} != {want}")
    assert n > 0
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("tid", ["T2", "T3", "T5"])
def test_function_rows_match_the_seed(tid, book, layouts):
    wb = book("filled", data_only=True)
    t = layouts["filled"].table(tid)
    ws = wb[t.sheet]
    coded = {k: r for k, r in t.rows.items() if r.code}
    assert set(coded) == set(FUNCTION_NAMES)
    for code, name in FUNCTION_NAMES.items():
        row = coded[code]
        assert _cell(ws, t, code, "name").value == name
        r, c0 = t.pos(code, "code")
        parts = [ws.cell(row=r + 1, column=c0 + 1 + i).value or "" for i in range(3)]
        assert "".join(parts) == code, parts
        assert parts[0] == code[:3]


def test_economic_rows_match_the_seed(book, layouts):
    wb = book("filled", data_only=True)
    t = layouts["filled"].table("T6")
    ws = wb[t.sheet]
    coded = {k: r for k, r in t.rows.items() if r.code}
    assert set(coded) == set(ECONOMIC_NAMES)
    for code, name in ECONOMIC_NAMES.items():
        assert _cell(ws, t, code, "name").value == name
        r, c0 = t.pos(code, "code")
        parts = [ws.cell(row=r + 1, column=c0 + 1 + i).value or "" for i in range(2)]
        assert "".join(parts) == code, parts


def test_project_rows_match_the_seed(book, layouts):
    wb = book("filled", data_only=True)
    t = layouts["filled"].table("T7")
    ws = wb[t.sheet]
    projects = [r for r in t.rows.values() if r.project]
    assert [r.project for r in projects] == list(PROJECT_NAMES)
    for row in projects:
        assert _cell(ws, t, row.key, "project").value == PROJECT_NAMES[row.project]
        assert _cell(ws, t, row.key, "name").value == "其他数据事务支出"
        r, c0 = t.pos(row.key, "code")
        assert [ws.cell(row=r + 1, column=c0 + 1 + i).value for i in range(3)] == ["201", "41", "99"]
    assert _cell(ws, t, "unit", "code").value == DEPARTMENT


@pytest.mark.parametrize("tid", sorted(EMPTY_NOTES))
def test_empty_tables_carry_the_note(tid, book, layouts):
    layout = layouts["filled"]
    t = layout.table(tid)
    assert t.note_row is not None
    f_ws = book("filled")[t.sheet]
    v_ws = book("filled", data_only=True)[t.sheet]
    note = f_ws.cell(row=t.note_row + 1, column=1)
    assert note.data_type == "f", f"{t.sheet}: the note is not a formula: {note.value!r}"
    assert v_ws.cell(row=t.note_row + 1, column=1).value == EMPTY_NOTES[tid]


def test_note_disappears_when_the_table_has_figures(tmp_path, example):
    """The empty-table note is live: a 表8 with a figure shows no note (cached value empty)."""
    spec, doc = example
    spec2 = spec.__class__.from_dict({**spec.to_dict(), "fund_functions": ["2014101"]})
    doc2 = {**doc, "spec": spec2.to_dict(), "tables": {**doc["tables"], "T8": {"2014101": {"project": "1.5"}}}}
    out = fill(doc2, tmp_path / "t8.xlsx", spec2)
    t = layout_for(spec2).table("T8")
    ws = openpyxl.load_workbook(out, data_only=True)[t.sheet]
    assert ws.cell(row=t.note_row + 1, column=1).value in (None, "")
    assert _published(_cell(ws, t, "total", "total").value) == Decimal("1.50")


# 绩效 sheets: indicator rows per project and the department's, and the weight total.
INDICATOR_COUNTS = {"p1": 11, "p2": 14, "p3": 16, "p4": 8, "p5": 11, "p6": 17}
FIRST_INDICATORS = {
    "p1": "涉及单位数（个）",
    "p2": "购置法律顾问服务",
    "p3": "软件系统维护个数（套）",
    "p4": "购置公务用车（辆）",
    "p5": "购置办公及清洁用品批次（批）",
    "p6": "维护服务器数（台）",
}


def _indicator_rows(ws, t):
    rows = [r for r in t.rows.values() if r.block == "indicators" and r.record is not None and not r.total]
    return [r for r in rows if _cell(ws, t, r.key, "name").value not in (None, "")]


@pytest.mark.parametrize("project", sorted(INDICATOR_COUNTS))
def test_project_performance_sheet(project, book, layouts):
    layout = layouts["filled"]
    t = layout.table(f"PP_{project}")
    ws = book("filled", data_only=True)[t.sheet]
    filled = _indicator_rows(ws, t)
    assert len(filled) == INDICATOR_COUNTS[project], t.sheet
    assert _cell(ws, t, filled[0].key, "name").value == FIRST_INDICATORS[project]
    assert _cell(ws, t, "project_name", "value").value == PROJECT_NAMES[project]
    assert _cell(ws, t, "unit_name", "value").value == DEPARTMENT
    assert _cell(ws, t, "weights", "weight").value == 90
    assert book("filled")[t.sheet].cell(*[x + 1 for x in t.pos("weights", "weight")]).data_type == "f"
    # 其中：财政拨款 comes from 表7
    assert _published(_cell(ws, t, "fiscal", "value").value) == Decimal(SEED["T7"][project]["total"])


def test_department_performance_sheet(book, layouts):
    t = layouts["filled"].table("PD")
    ws = book("filled", data_only=True)[t.sheet]
    filled = _indicator_rows(ws, t)
    assert len(filled) == 5
    assert [_cell(ws, t, r.key, "weight").value for r in filled] == [20, 20, 15, 15, 20]
    assert _cell(ws, t, filled[0].key, "name").value == "参加自治区“数据要素 X”大赛（次）"
    assert _cell(ws, t, "weights", "weight").value == 90
    assert _cell(ws, t, "contact", "value").value == "田雪君"
    assert _published(_cell(ws, t, "funds_total", "value").value) == Decimal("417.37")
