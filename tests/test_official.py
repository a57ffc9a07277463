"""Workbooks in an official layout (not made from our template) are read, checked and built like ours.

Each example document is written as an official-format workbook (tests/officialgen.py: plain numbers, no
formulas, no template identity) in four arrangements; ``check`` must report on it what the same document
reports when filled into our template: the same rule ids on the same figures, at the real cells.
"""

from __future__ import annotations

import collections
from decimal import Decimal
from pathlib import Path

import msgspec.structs
import openpyxl
import pytest
from click.testing import CliRunner

from officialgen import ARRANGEMENTS, official_tables, write_official
from xlbudget.build import build
from xlbudget.check import check_budget, check_file
from xlbudget.cli import cli as main
from xlbudget.model import Budget, budget_from_document, load_example
from xlbudget.reader import read_workbook

TEMPLATE_ONLY = ("READ.template", "READ.sheet", "READ.workbook", "READ.formula", "READ.cached", "READ.spec-hash",
                 "READ.layout-shifted")


SETS = ("xj11", "sh-budget", "sh-final")


@pytest.fixture(scope="module")
def seed() -> Budget:
    spec, doc = load_example()
    return budget_from_document(doc, spec)


@pytest.fixture(scope="module")
def examples() -> dict[str, Budget]:
    out = {}
    for ts in SETS:
        spec, doc = load_example(ts)
        out[ts] = budget_from_document(doc, spec)
    return out


def _key(f) -> tuple:
    return (f.rule, f.severity.value, f.expected, f.actual, f.difference)


def _over_official_tables(budget: Budget, findings) -> list:
    """The findings of our template's check that an official workbook can reproduce: those over the
    official tables only (not over the 绩效 and facts sheets our template adds)."""
    official = {t.id for t in official_tables(budget)}
    sheets = tuple(t.sheet + "!" for tid, t in budget.layout.tables.items() if tid not in official)
    return [f for f in findings if (f.table is None or f.table in official)
            and not any(c.startswith(sheets) for c in f.cells)]


@pytest.mark.parametrize("tableset", SETS)
@pytest.mark.parametrize("arrangement", ARRANGEMENTS)
def test_same_findings_as_our_template(examples, tmp_path: Path, tableset: str, arrangement: str) -> None:
    seed = examples[tableset]
    path = write_official(seed, tmp_path / f"{arrangement}.xlsx", arrangement)
    before = path.read_bytes()
    res = read_workbook(path)
    assert res.budget is not None, [f.message() for f in res.findings]
    assert res.meta["source"] == "official" and res.meta["tableset"] == tableset   # detected from the titles
    assert res.budget.spec.year == seed.spec.year
    assert res.budget.spec.department == seed.spec.department
    assert set(res.budget.spec.functions) == set(seed.spec.functions)
    assert set(res.budget.spec.economic) == set(seed.spec.economic)
    assert [p.name for p in res.budget.spec.projects] == [p.name for p in seed.spec.projects]
    assert not [f for f in res.findings if f.severity.value != "info"], [f.message() for f in res.findings]
    got = check_budget(res.budget)
    want = _over_official_tables(seed, check_budget(seed))
    assert collections.Counter(map(_key, got)) == collections.Counter(map(_key, want))
    if tableset == "xj11":
        assert any(f.rule == "S1" for f in got)  # the seed's real inconsistency is found in any layout
    assert not [f for f in got if f.severity.value == "error" and f.rule.endswith(".sum")]
    assert not [f for f in res.findings + got if f.rule.startswith(TEMPLATE_ONLY)]
    assert path.read_bytes() == before


def _sheet_with(path: Path, title_part: str) -> str:
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows(max_row=3, values_only=True):
            if any(isinstance(v, str) and title_part in v for v in row):
                return ws.title
    raise AssertionError(title_part)


def _find(ws, pred):
    for row in ws.iter_rows():
        for c in row:
            if pred(c):
                return c
    raise AssertionError("cell not found")


def test_findings_point_at_the_real_cell(seed: Budget, tmp_path: Path) -> None:
    path = write_official(seed, tmp_path / "h.xlsx", "handmade")
    wb = openpyxl.load_workbook(path)
    name = _sheet_with(path, "部门支出总体情况表")
    ws = wb[name]
    cell = _find(ws, lambda c: c.value == "\u3000\u3000行政运行")
    target = ws.cell(cell.row, cell.column + 2)   # 基本支出 of 2014101
    target.value = 60.00
    wb.save(path)
    rep = check_file(path)
    errors = [f for f in rep.findings if f.severity.value == "error" and f.rule == "T3.sum"]
    assert errors, [f.message() for f in rep.findings]
    want = f"{name}!{target.coordinate}"
    assert any(want in f.cells for f in errors)
    assert all(c.split("!")[0] in wb.sheetnames for f in rep.findings for c in f.cells)
    assert any(want in f.message() for f in errors)


def test_text_numbers_and_bad_text(seed: Budget, tmp_path: Path) -> None:
    path = write_official(seed, tmp_path / "s.xlsx", "sheets")
    wb = openpyxl.load_workbook(path)
    ws = wb["表3"]
    cell = _find(ws, lambda c: c.value == "行政运行")
    ws.cell(cell.row, cell.column + 2).value = " 54.81 "
    bad = ws.cell(cell.row + 1, cell.column + 2)
    bad.value = "八十七"
    wb.save(path)
    res = read_workbook(path)
    rules = {(f.rule, f.severity.value) for f in res.findings}
    assert ("READ.text-number", "info") in rules
    nb = [f for f in res.findings if f.rule == "READ.not-number"]
    assert nb and nb[0].cells == (f"表3!{bad.coordinate}",)


def test_table_missing_is_a_finding(seed: Budget, tmp_path: Path) -> None:
    path = write_official(seed, tmp_path / "m.xlsx", "sheets")
    wb = openpyxl.load_workbook(path)
    del wb["表11"]
    wb.save(path)
    res = read_workbook(path)
    missing = [f for f in res.findings if f.rule == "READ.table-missing"]
    assert [f.table for f in missing] == ["T11"]
    assert missing[0].severity.value == "error" and "上年结转结余情况明细表" in missing[0].message()


def test_unplaced_row_and_placeholders(seed: Budget, tmp_path: Path) -> None:
    path = write_official(seed, tmp_path / "u.xlsx", "sheets")
    wb = openpyxl.load_workbook(path)
    ws = wb["表10"]
    last = _find(ws, lambda c: c.value == "公务用车运行费")
    ws.cell(last.row + 1, 1).value = "会议费"
    ws.cell(last.row + 1, 2).value = 3.0
    wb.save(path)
    res = read_workbook(path)
    un = [f for f in res.findings if f.rule == "READ.row-unplaced"]
    assert len(un) == 1 and un[0].cells == (f"表10!A{last.row + 1}",) and "会议费" in un[0].message()


def test_code_and_name_that_disagree(seed: Budget, tmp_path: Path) -> None:
    path = write_official(seed, tmp_path / "n.xlsx", "sheets")
    wb = openpyxl.load_workbook(path)
    ws = wb["表3"]
    cell = _find(ws, lambda c: c.value == "住房公积金")
    cell.value = "提租补贴"
    wb.save(path)
    rep = check_file(path)
    names = [f for f in rep.findings if f.kind == "code-name-mismatch"]
    assert names and any(c.startswith("表3!") and c.endswith(str(cell.row)) for f in names for c in f.cells)
    assert any("提租补贴" in f.message() for f in names)


def test_no_known_layout(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "随便"
    wb.active["A1"] = "2026年部门收入预算总表（某市）"
    wb.active["A3"] = "项目"
    wb.active["B3"] = "金额"
    wb.active["A4"] = "合计"
    wb.active["B4"] = 12
    p = tmp_path / "x.xlsx"
    wb.save(p)
    res = read_workbook(p)
    assert res.budget is None
    [f] = res.findings
    assert f.rule == "READ.layout-unknown"
    msg = f.message()
    assert "部门收支总体情况表" in msg and "查找的表" in msg and "找到的表：无" in msg
    r = CliRunner().invoke(main, ["check", str(p)])
    assert r.exit_code == 1, r.output
    assert "无法识别的版式" in r.output or "找到的表" in r.output
    assert "Traceback" not in r.output


def test_table_set_option_overrides(seed: Budget, tmp_path: Path) -> None:
    path = write_official(seed, tmp_path / "o.xlsx", "onesheet")
    assert read_workbook(path, tableset="xj11").budget is not None
    r = CliRunner().invoke(main, ["check", "--table-set", "xj11", str(path)])
    assert r.exit_code == 1, r.output          # the seed's S1
    assert "S1" in r.output


def _unit(seed: Budget, name: str, scale: int) -> Budget:
    """A unit of the seed department: its figures × scale, a project name without the 三公 word."""
    spec = msgspec.structs.replace(seed.spec, department=name, projects=tuple(
        msgspec.structs.replace(p, name=p.name.replace("公车购置", "业务保障"), sangong=()) for p in seed.spec.projects))
    doc = {**seed.doc, "spec": spec.to_dict()}

    def scaled(o):
        if isinstance(o, dict):
            return {k: scaled(v) for k, v in o.items()}
        if isinstance(o, Decimal):
            return (o * scale).quantize(Decimal("0.01"))
        return o

    doc["tables"] = scaled({k: v for k, v in seed.doc["tables"].items()})
    return budget_from_document(doc, spec)


def test_build_over_three_official_units(seed: Budget, tmp_path: Path) -> None:
    units = [_unit(seed, f"克州数字化发展局第{i}单位", i) for i in (1, 2, 3)]
    paths = [write_official(u, tmp_path / f"u{i}.xlsx", a) for i, (u, a) in
             enumerate(zip(units, ("sheets", "split", "handmade")), start=1)]
    for p in paths:
        rep = check_file(p)
        assert not [f for f in rep.findings if f.severity.value == "error"], [f.message() for f in rep.findings]
    res = build(paths, tmp_path / "d.xlsx", name="克州数字化发展局")
    assert not res.errors, [f.message() for _, f in res.errors]
    b = res.budget
    for tid, row, col in (("T2", "total", "gp"), ("T3", "total", "basic"), ("T6", "total", "personnel"),
                          ("T7", "total", "total")):
        assert b.published(tid, row, col) == sum(u.published(tid, row, col) for u in units), (tid, row, col)
    assert not [f for f in check_budget(b) if f.severity.value == "error"]
    assert (tmp_path / "d.xlsx").is_file()


def test_our_template_without_its_identity_is_read_as_an_official_layout(tmp_path: Path) -> None:
    """A copy of our template whose identity was removed (a hand-made copy of last year's file, saved by a
    program that drops cached values): read by its titles and headers, totals recomputed, same findings."""
    from openpyxl.packaging.custom import CustomPropertyList

    from xlbudget.template import fill

    spec, doc = load_example()
    filled = tmp_path / "filled.xlsx"
    fill(doc, filled, spec)
    wb = openpyxl.load_workbook(filled)
    del wb["xlbudget"]
    wb.custom_doc_props = CustomPropertyList()
    stripped = tmp_path / "stripped.xlsx"
    wb.save(stripped)
    res = read_workbook(stripped)
    assert res.budget is not None and res.meta["source"] == "official", [f.message() for f in res.findings]
    assert res.budget.spec.year == 2025
    seed = budget_from_document(doc, spec)
    want = _over_official_tables(seed, check_budget(seed))
    got = check_budget(res.budget)
    assert collections.Counter(map(_key, got)) == collections.Counter(map(_key, want))


@pytest.mark.parametrize("tableset", ["sh-budget", "sh-final"])
def test_one_unit_off_is_an_error_at_the_real_cell(examples, tmp_path: Path, tableset: str) -> None:
    """One leaf figure changed: by 1 元 in the Shanghai budget's 元 tables (exact), by 0.05 万元 in the 决算
    (beyond the interval of the printed 2 decimals)."""
    b = examples[tableset]
    path = write_official(b, tmp_path / "o.xlsx", "onesheet")
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    # the first 项 row of the sheet (类 款 项 split, or a 7-digit joined code): its first non-zero figure
    row = next(r for r in ws.iter_rows() if (isinstance(r[0].value, int) and r[1].value and r[2].value) or
               (isinstance(r[0].value, str) and r[0].value.isdigit() and len(r[0].value) == 7))
    fig = next(c for c in row[1:] if isinstance(c.value, (int, float)) and c.value)
    before = fig.value
    fig.value = before + 1 if tableset == "sh-budget" else round(before + 0.05, 2)
    wb.save(path)
    rep = check_file(path)
    errors = [f for f in rep.findings if f.severity.value == "error"]
    assert errors, [f.message() for f in rep.findings]
    assert any(f"{ws.title}!{fig.coordinate}" in f.cells for f in errors), [(f.rule, f.cells) for f in errors]


def test_our_own_disclosure_reads_as_an_official_layout(seed: Budget, tmp_path: Path) -> None:
    """The disclosure ``build`` writes is itself in the official layout: its 目录 lists every title (a
    title without a header is no table), its tables carry a 栏次 row; read back, it reports what the filled
    template reports over the same tables."""
    from xlbudget.build import build_from_budgets

    out = tmp_path / "disclosure.xlsx"
    build_from_budgets([seed], out, force=True)
    res = read_workbook(out)
    assert res.budget is not None and res.meta["source"] == "official", [f.message() for f in res.findings]
    assert not [f for f in res.findings if f.rule == "READ.row-unplaced"], [f.message() for f in res.findings]
    got = check_budget(res.budget)
    want = _over_official_tables(seed, check_budget(seed))
    assert collections.Counter(map(_key, got)) == collections.Counter(map(_key, want))
    assert any(f.rule == "S1" for f in got)


def test_text_caches_keep_short_texts_only() -> None:
    """What the locator works out of a cell text is kept for the next sheet, but a long text is not: a sheet
    of long distinct texts (or a batch of thousands of workbooks) must not grow a worker's memory."""
    from xlbudget.official.text import SHORT, norm

    long_texts = [f"编制部门：{i}" + "　说明" * SHORT for i in range(40)]
    before = len(norm)  # the texts kept (the memo is a mapping: text -> normalised text)
    assert [norm(t) for t in long_texts] == [t.replace("　", "").replace("：", ":") for t in long_texts]
    assert len(norm) == before and not any(t in norm for t in long_texts)
    assert norm(" 缓存测试表甲 ") == "缓存测试表甲"
    assert len(norm) == before + 1 and norm.get(" 缓存测试表甲 ") == "缓存测试表甲"  # the next one is a look-up
    assert norm(" 缓存测试表甲 ") == "缓存测试表甲" and norm[" 缓存测试表甲 "] == "缓存测试表甲"
    assert len(norm) == before + 1


@pytest.mark.parametrize("number", [b"NaN", b"inf", b"-inf"])
def test_a_nan_or_infinite_number_cell_costs_that_cell_only(tmp_path, number):
    """A number cell holding NaN or an infinity is a finding at that cell; the workbook is still read (it was
    refused whole: int() of the value in the 栏次 test)."""
    import re
    import zipfile

    from xlbudget.reader import read_workbook

    src = Path(__file__).parent / "data" / "stable" / "official" / "small-1.xlsx"
    dst = tmp_path / "odd-number.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        done = False
        for info in zin.infolist():
            data = zin.read(info.filename)
            if not done and info.filename.startswith("xl/worksheets/sheet"):
                data, n = re.subn(rb'(<c r="[A-Z]+[0-9]+"[^>]* t="n"><v>)[0-9.]+(</v>)', rb"\g<1>" + number + rb"\2",
                                  data, count=1)
                done = bool(n)
            zout.writestr(info, data)
    assert done
    result = read_workbook(dst)
    assert result.budget is not None, [f.rule for f in result.findings]
    assert "READ.not-number" in {f.rule for f in result.findings}
    assert "READ.bad-template" not in {f.rule for f in result.findings}


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), 3.0, 2.5])
def test_text_of_a_float_cell_never_fails(value):
    from xlbudget.parse import parse_text

    assert parse_text(value) == (str(int(value)) if value == 3.0 else str(value))


def test_cell_map_names_the_last_figure_and_the_first_text_placed_at_a_cell() -> None:
    """Two rows of the file placed at one template row (a row printed twice): a figure's cell is the one
    read last (its value is the one kept), a code's or a name's the first; a table's A1 is its title."""
    import pickle

    from xlbudget.official.cells import CellMap

    m = CellMap()
    m.title("表3", "支出表!A2")
    rows = m.table("表3")
    columns = {"A": "code", "D": "name", "E": "total"}
    m.place(rows, 9, 11, "支出表", {"total": (1.5, 6)}, {"code": 0, "name": 3}, columns)
    m.place(rows, 9, 30, "支出表续", {"total": (None, 5)}, {"name": 2}, columns)
    assert m["表3!E9"] == "支出表续!F31" and m["表3!A9"] == "支出表!A12" and m["表3!D9"] == "支出表!D12"
    assert m["表3!A1"] == "支出表!A2" and m.get("表3!B9") is None and "表3!E10" not in m
    assert dict(m) == {"表3!A1": "支出表!A2", "表3!A9": "支出表!A12", "表3!D9": "支出表!D12", "表3!E9": "支出表续!F31"}
    assert pickle.loads(pickle.dumps(m)) == dict(m) and len(m) == 4 and m and not CellMap()
    m.place(rows, 9, 40, "支出表续", {"total": (2.5, 4)}, {}, columns)  # what was asked before is asked again
    assert m["表3!E9"] == "支出表续!E41" and len(m) == 4


def test_a_row_with_only_the_lower_code_parts_is_read() -> None:
    """Codes split 类/款/项 over three columns: a row whose 类 cell is blank (printed once, above) and that
    holds nothing else of the table but its 款 and 项 (a remark beside it) is still a row of the table, its
    code completed from the row above."""
    from xlbudget.official.locate import Found, Grid, _read_body, aliases
    from xlbudget.tableset import load_tableset

    ts = load_tableset("xj11")
    desc, block, code = next((t, b, col) for t in ts.tables for b in t.blocks for col in b.columns
                             if col.kind == "code" and col.split and b.plan == "tree")
    f = Found(desc, "表", 0, 0, desc.title)
    f.columns[(block.key, code.key)] = [0, 1, 2]
    grid = Grid("表", {(5, 0): "208", (5, 3): "社会保障和就业支出", (6, 1): "05", (6, 2): "01", (6, 9): "见说明"})
    _read_body(grid, f, [5, 6], frozenset(), aliases(ts))
    assert [(r.r, r.code) for r in f.rows] == [(5, "208"), (6, "2080501")]


def test_an_official_workbook_tells_its_sheets() -> None:
    """The reading says which sheets the workbook has, so that the narrative check does not open the file
    again to look for sheets it does not have."""
    import openpyxl as xl

    from xlbudget.reader import read_workbook

    path = Path(__file__).parent / "data" / "stable" / "official" / "small-4-split.xlsx"
    assert read_workbook(path).sheets == tuple(xl.load_workbook(path, read_only=True).sheetnames)
