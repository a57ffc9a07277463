"""A second table set is a folder of data, not new code.

* ``yuan10``: a copy of xj11 in 元 with ten tables, written and read back;
* ``yuan8``: xj11 reduced to eight public tables, in 元, with its 三公 table in 万元 (4 decimals), its own
  disclosure plan and narrative (tests/data/yuan8). It goes through template, fill, read, check, build,
  PDF and data package with no code change; each table prints its own 单位; one mutation per table is
  caught by check; the narrative mentions no table the set lacks; a rule crossing 元 and 万元 (X11) passes
  on the exact figures and fails on a 1 元 error.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from decimal import Decimal
from pathlib import Path

import msgspec.structs
import openpyxl
import pytest

from xlbudget.build import build, write_pdf
from xlbudget.check import check_budget, check_file
from xlbudget.errors import DescriptionError
from xlbudget.layout import layout_for
from xlbudget.model import Budget, budget_from_document, load_example, q
from xlbudget.narrative import narrative
from xlbudget.reader import read_workbook
from xlbudget.tableset import load_tableset
from xlbudget.template import fill, make_template
from xlbudget.writer.template import write_workbook

from setinstall import installed

ROOT = Path(__file__).resolve().parents[1]
XJ11 = ROOT / "templates" / "xj11"
YUAN8 = ROOT / "tests" / "data" / "yuan8"
TABLES = ["T1", "T2", "T3", "T4", "T5", "T6", "T7", "T10"]
ABSENT = ["T8", "T9", "T11", "PD", "PP", "FA", "LY"]
TEN_THOUSAND = Decimal(10000)


# --------------------------------------------------------------------------------------------
# yuan10: a copy in 元 with ten tables
# --------------------------------------------------------------------------------------------


def _yuan_set(tmp_path: Path) -> Path:
    """Install the set where installed table sets live ($XLBUDGET_HOME/tablesets/<id>)."""
    folder = tmp_path / "tablesets" / "yuan10"
    shutil.copytree(XJ11, folder)
    meta = folder / "tableset.toml"
    text = meta.read_text(encoding="utf-8")
    text = text.replace('id = "xj11"', 'id = "yuan10"').replace('unit = "万元"', 'unit = "元"')
    text = text.replace('"T10", "T11", "PD", "PP", "FA", "LY"]', '"T10"]').replace('rules = "rules.toml"\n', "")
    meta.write_text(text, encoding="utf-8")
    for name in ("disclosure.toml", "narrative.toml", "next_year.toml", "vocabulary.toml"):  # they name absent tables
        (folder / name).unlink(missing_ok=True)
    return folder


def test_a_table_set_in_yuan_with_ten_tables_is_written_and_read_back(tmp_path, monkeypatch):
    monkeypatch.setenv("XLBUDGET_HOME", str(tmp_path))
    _yuan_set(tmp_path)
    ts = load_tableset("yuan10")
    assert ts.id == "yuan10" and ts.unit == "元" and ts.table_ids == [f"T{i}" for i in range(1, 11)]
    spec, doc = load_example()
    spec = msgspec.structs.replace(spec, tableset="yuan10")
    budget = budget_from_document({**doc, "spec": spec.to_dict()}, spec)
    layout = layout_for(spec)
    assert set(layout.tables) == {f"T{i}" for i in range(1, 11)}
    out = write_workbook(layout, tmp_path / "yuan.xlsx", budget)

    wb = openpyxl.load_workbook(out)
    visible = [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"]
    assert visible == [f"表{i}" for i in range(1, 11)] + ["校验"]
    assert any(c.value == "单位：元" for row in wb["表6"].iter_rows(max_row=3) for c in row)
    assert wb.custom_doc_props["xlbudget.tableset"].value == "yuan10"

    res = read_workbook(out)
    assert res.findings == []
    assert res.budget.layout.tableset.unit == "元"
    assert str(res.budget.published("T1", "in_total", "amount")) == "417.37"
    assert str(res.budget.published("T6", "301", "total")) == "180.43"
    assert "T11" not in res.budget.layout.tables


def test_the_copied_seed_files_that_name_absent_tables_are_refused(tmp_path):
    folder = _yuan_set(tmp_path)
    shutil.copy(XJ11 / "narrative.toml", folder / "narrative.toml")
    with pytest.raises(DescriptionError, match="没有的表 T11"):
        load_tableset(str(folder))


# --------------------------------------------------------------------------------------------
# yuan8: eight tables in 元, 三公 in 万元
# --------------------------------------------------------------------------------------------


def _rules_without(absent: list[str]) -> str:
    """xj11's rule book less the rules that name a table the set lacks."""
    text = (XJ11 / "rules.toml").read_text(encoding="utf-8")
    head, *blocks = text.split("\n[[rule]]\n")
    pattern = re.compile(r"\b(" + "|".join(absent) + r")(?![0-9A-Za-z])")
    kept = [b for b in blocks if not pattern.search(b)]
    return head + "".join("\n[[rule]]\n" + b for b in kept)


def make_yuan8(folder: Path) -> Path:
    """Build the test set from xj11's table files and tests/data/yuan8."""
    folder.mkdir(parents=True)
    for tid in TABLES:
        shutil.copy(XJ11 / f"{tid}.toml", folder / f"{tid}.toml")
    t4 = folder / "T4.toml"
    text = t4.read_text(encoding="utf-8")
    text = text.replace('cells = { gp = "T5.{code}.total", fund = "T8.{code}.total", soe = "T9.{code}.total" }',
                        'cells = { gp = "T5.{code}.total" }')
    text = text.replace('formula = { gp = "T5.total.total", fund = "T8.total.total", soe = "T9.total.total" }',
                        'formula = { gp = "T5.total.total" }')
    assert "T8" not in text and "T9" not in text
    t4.write_text(text, encoding="utf-8")
    t10 = folder / "T10.toml"
    text = t10.read_text(encoding="utf-8")
    text = text.replace('title = "财政拨款“三公”经费支出情况表"\n',
                        'title = "财政拨款“三公”经费支出情况表"\nunit = "万元"\ndisplay_decimals = 4\nentry_decimals = 6\n')
    assert 'unit = "万元"' in text
    t10.write_text(text, encoding="utf-8")
    for f in YUAN8.iterdir():
        shutil.copy(f, folder / f.name)
    (folder / "rules.toml").write_text(_rules_without(ABSENT), encoding="utf-8")
    return folder


def yuan8_document(folder: Path) -> tuple:
    """The example department in the test set: 表1–表7 in 元 (the 万元 inputs × 10000), 表10 in 万元; its
    one inconsistency (S1: a project tagged as buying a car that 表10 does not show) removed."""
    spec, doc = load_example()
    projects = tuple(msgspec.structs.replace(p, sangong=tuple(s for s in p.sangong if s != "vehicle_purchase"))
                     for p in spec.projects)
    spec = msgspec.structs.replace(spec, tableset="yuan8", projects=projects)  # by id: installed (see setinstall)
    tables = {}
    for tid in TABLES:
        rows = doc["tables"].get(tid) or {}
        scale = Decimal(1) if tid == "T10" else TEN_THOUSAND
        tables[tid] = {r: {c: (v * scale if isinstance(v, Decimal) else v) for c, v in cols.items()}
                       for r, cols in rows.items()}
    return spec, {**doc, "spec": spec.to_dict(), "tables": tables}


@pytest.fixture(scope="module")
def seed() -> Budget:
    spec, doc = load_example()
    return Budget(layout_for(spec), doc)


@pytest.fixture(scope="module")
def yuan8(tmp_path_factory) -> Path:
    folder = make_yuan8(tmp_path_factory.mktemp("sets") / "yuan8")
    with installed(folder):  # workbooks of the set are read back: it is installed for the module
        yield folder


@pytest.fixture(scope="module")
def doc8(yuan8):
    return yuan8_document(yuan8)


@pytest.fixture(scope="module")
def budget8(doc8) -> Budget:
    spec, doc = doc8
    return budget_from_document(doc, spec)


@pytest.fixture(scope="module")
def filled8(tmp_path_factory, doc8) -> Path:
    spec, doc = doc8
    return fill(doc, tmp_path_factory.mktemp("filled8") / "filled.xlsx", spec)


@pytest.fixture(scope="module")
def built8(tmp_path_factory, filled8):
    out = tmp_path_factory.mktemp("built8") / "disclosure.xlsx"
    return build([filled8], out, datapackage=out.parent / "open-data")


def _texts(ws) -> list[str]:
    return [c for row in ws.iter_rows(values_only=True) for c in row if isinstance(c, str)]


def test_the_set_has_its_own_tables_and_units(yuan8):
    ts = load_tableset(str(yuan8))
    assert ts.id == "yuan8" and ts.table_ids == TABLES
    for tid in TABLES[:-1]:
        p = ts.table(tid).precision("total" if tid != "T1" else "amount")
        assert (p.unit, p.display_decimals) == ("元", 2), tid
    p10 = ts.table("T10").precision("total")
    assert (p10.unit, p10.display_decimals) == ("万元", 4)


def test_template_prints_each_tables_unit(yuan8, doc8, tmp_path):
    spec, _doc = doc8
    out = make_template(spec, tmp_path / "template.xlsx")
    wb = openpyxl.load_workbook(out)
    assert [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"] == \
        [f"表{t[1:]}" for t in TABLES] + ["校验"]
    for tid in TABLES:
        head = _texts(wb[f"表{tid[1:]}"])[:6]
        assert ("单位：万元" if tid == "T10" else "单位：元") in head, (tid, head)
    wb.close()


def test_fill_and_read_back_in_the_tables_own_units(filled8, seed):
    res = read_workbook(filled8)
    assert [f.message() for f in res.findings] == []
    b = res.budget
    for tid, row, col in (("T1", "in_total", "amount"), ("T6", "301", "total"), ("T6", "30101", "personnel"),
                          ("T7", "p6", "total"), ("T3", "2014101", "total")):
        want = q(seed.value(tid, row, col) * TEN_THOUSAND, 2)     # the same figure, in 元 to the 分
        assert b.published(tid, row, col) == want, (tid, row, col)
    assert b.published("T6", "301", "total") == Decimal("1804320.00")    # the seed publishes 180.43 万元
    assert b.published("T10", "vehicle_operation", "total") == Decimal("2.3000")
    assert b.published("T10", "total", "total") == seed.value("T10", "total", "total")


def test_check_passes_on_the_exact_figures(filled8):
    report = check_file(filled8)
    errors = [(f.rule, f.message()) for f in report.findings if f.severity.value == "error"]
    assert errors == []
    assert not [f for f in report.findings if f.kind == "rule-config"]


def _first_total(layout, tid: str):
    t = layout.tables[tid]
    for row in t.rows.values():
        for col in t.desc.block(row.block).columns:
            if col.numeric and layout.cell_role(t, row, col) in ("sum", "formula"):
                return row.key, col.key
    raise AssertionError(f"{tid} has no total")


@pytest.fixture(scope="module")
def resaved(filled8, tmp_path_factory):
    """The filled workbook saved again by openpyxl without any change: the baseline of the mutations."""
    out = tmp_path_factory.mktemp("resaved") / "resaved.xlsx"
    wb = openpyxl.load_workbook(filled8)
    wb.save(out)
    return out


def test_resaved_workbook_still_checks_clean(resaved):
    assert [f.rule for f in check_file(resaved).findings if f.severity.value == "error"] == []


@pytest.mark.parametrize("tid", TABLES)
def test_one_mutation_per_table_is_caught_by_check(tid, resaved, budget8, tmp_path):
    """Overwrite one total of the table with its figure plus one unit of its last digit."""
    layout = budget8.layout
    row, col = _first_total(layout, tid)
    sheet, _, cell = layout.position(tid, row, col).rpartition("!")
    unit = layout.precision(tid, col).quantum
    wb = openpyxl.load_workbook(resaved)
    wb[sheet][cell] = float((budget8.published(tid, row, col) or 0) + unit)
    out = tmp_path / f"mutated-{tid}.xlsx"
    wb.save(out)
    report = check_file(out)
    caught = [f for f in report.findings if f.severity.value == "error" and f.table == tid]
    assert caught, (tid, [(f.rule, f.table, f.message()) for f in report.findings])


def test_a_rule_across_yuan_and_wan_yuan_is_exact(doc8, yuan8):
    """X11: 表10 公务接待费 (万元, 4 decimals) ≥ 表6 30217 公务接待费 (元): 0.8000 万元 against 8000.00 元."""
    spec, doc = doc8

    def x11(t6_delta: Decimal = Decimal(0), t10_delta: Decimal = Decimal(0)):
        d = json.loads(json.dumps(doc, default=str))
        d["tables"]["T6"]["30217"]["operating"] = str(Decimal(d["tables"]["T6"]["30217"]["operating"]) + t6_delta)
        d["tables"]["T10"]["reception"]["gp"] = str(Decimal(d["tables"]["T10"]["reception"]["gp"]) + t10_delta)
        b = budget_from_document(d, spec)
        assert b.published("T6", "30217", "total") == Decimal("8000.00") + t6_delta
        return [f for f in check_budget(b) if f.rule == "X11"]

    assert [f.severity.value for f in x11()] == []
    within = x11(t6_delta=Decimal("0.40"))              # 0.40 元 is within the tolerance of 0.505 元
    assert all(f.severity.value == "info" for f in within)
    one = x11(t6_delta=Decimal(1))                       # one 元 more spent on reception than 表10 shows
    assert [f.severity.value for f in one] == ["error"]
    f = one[0]
    assert Decimal(f.actual) == Decimal("0.8000") and Decimal(f.expected) == Decimal("0.8001")
    assert Decimal(f.tolerance) == Decimal("0.0000505")
    assert [f.severity.value for f in x11(t10_delta=Decimal("-0.0001"))] == ["error"]   # 1 元 less in 表10


def test_build_prints_each_tables_unit_and_format(built8, seed):
    assert built8.verified
    wb = openpyxl.load_workbook(built8.out)
    names = [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"]
    assert names == ["封面", "目录"] + [f"表{t[1:]}" for t in TABLES] + ["情况说明"]
    for tid in TABLES:
        ws = wb[f"表{tid[1:]}"]
        head = _texts(ws)[:6]
        assert ("单位：万元" if tid == "T10" else "单位：元") in head, (tid, head)
        formats = {c.number_format for row in ws.iter_rows(min_row=6) for c in row
                   if (isinstance(c.value, (int, float)) and not isinstance(c.value, bool))
                   or (isinstance(c.value, str) and c.value.startswith("="))}
        decimals = "0000" if tid == "T10" else "00"
        assert any(fmt.startswith(f"#,##0.{decimals};") for fmt in formats), (tid, formats)
        assert not any(fmt.startswith(f"#,##0.{decimals}0") for fmt in formats if tid != "T10"), (tid, formats)
    # the visible totals round the exact figures to each table's own decimals
    t10 = [c.value for row in wb["表10"].iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=ROUND(")]
    assert t10 and all(v.endswith(",4)") for v in t10)
    t6 = [c.value for row in wb["表6"].iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=ROUND(")]
    assert t6 and all(v.endswith(",2)") for v in t6)
    assert "第一部分" not in wb.sheetnames and "部门整体绩效" not in wb.sheetnames
    wb.close()
    values = openpyxl.load_workbook(built8.out, data_only=True)
    nums = [c for row in values["表6"].iter_rows(values_only=True) for c in row if isinstance(c, float)]
    assert 1804320.0 in nums
    values.close()


def test_narrative_speaks_in_its_own_unit_and_names_no_absent_table(built8, budget8, seed):
    secs = narrative(budget8)
    text = "\n".join(s.text() for s in secs)
    assert "收支总预算 417.37 万元" in text                                    # 4173740.00 元, converted exactly
    assert "占 100.00%" in text and "没有单位资金" in text
    assert "基本支出 186.63 万元，占 44.72%；项目支出 230.74 万元，占 55.28%" in text
    assert "人员经费 180.45 万元" in text
    assert "公务接待费 0.80 万元，公务用车运行费 2.30 万元" in text
    assert "一般公共服务支出、社会保障和就业支出、卫生健康支出、住房保障支出" in text
    assert [s.title for s in secs if s.level == 1] == ["（一）收支总体情况", "（二）支出情况", "（三）“三公”经费"]
    wb = openpyxl.load_workbook(built8.out, data_only=True)
    everything = " ".join(t for ws in wb.worksheets for t in _texts(ws))
    wb.close()
    assert "收支总预算 417.37 万元" in everything
    xj11 = load_tableset("xj11")
    for tid in ABSENT:
        desc = xj11.table(tid)
        for word in filter(None, (desc.number, desc.title if desc.number else None)):
            assert word not in everything, (tid, word)
    assert not re.search(r"表\s?(8|9|11)\b", everything)
    assert not re.search(r"(?<![0-9.])0\.00 万元", everything)      # nothing narrated as a zero


def test_a_narrative_reference_to_an_absent_table_row_or_column_is_an_error(tmp_path):
    cases = {
        "table": ('[figures]\nx = "T11.total.total"\n', "没有的表 T11"),
        "row": ('[figures]\nx = "T1.no_such_row.amount"\n', "没有固定行 no_such_row"),
        "column": ('[figures]\nx = "T1.in_total.no_such_col"\n', "没有列 no_such_col"),
        "template": ('[[part]]\nnumber = 3\nsheet = "情况说明"\n[[part.section]]\nkey = "a"\n'
                     "text = \"{{ empty_note('T8') }}\"\n", "没有的表 T8"),
        "name": ('[[part]]\nnumber = 3\nsheet = "情况说明"\n[[part.section]]\nkey = "a"\n'
                 'text = "{{ no_such_figure|amount }}"\n', "未声明的名称 no_such_figure"),
        "facts": ('[context]\nov = "facts.overview"\n', "facts.overview 不是表套中任何表单行的数据路径"),  # no FA table
    }
    for name, (body, message) in cases.items():
        folder = make_yuan8(tmp_path / name)
        (folder / "narrative.toml").write_text('unit = "万元"\n' + body, encoding="utf-8")
        with pytest.raises(DescriptionError, match=message):
            load_tableset(str(folder))


def test_a_disclosure_or_next_year_reference_to_an_absent_table_is_an_error(tmp_path):
    folder = make_yuan8(tmp_path / "disclosure")
    text = (folder / "disclosure.toml").read_text(encoding="utf-8")
    (folder / "disclosure.toml").write_text(text.replace('"T7", "T10"]\n\n[[sheet]]', '"T7", "T9", "T10"]\n\n[[sheet]]'),
                                            encoding="utf-8")
    with pytest.raises(DescriptionError, match="disclosure.toml.*没有的表 T9"):
        load_tableset(str(folder))
    folder = make_yuan8(tmp_path / "consolidate")
    with open(folder / "disclosure.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[consolidate]\njoin = ["facts.narrative.change_reason"]\n')     # yuan8 has no facts form
    with pytest.raises(DescriptionError, match="consolidate.*facts.narrative.change_reason 不是表套中任何表单行的数据路径"):
        load_tableset(str(folder))
    folder = make_yuan8(tmp_path / "next")
    (folder / "next_year.toml").write_text('[[carry]]\nto = "LY.gp.value"\nfrom = "T2.total.gp"\n', encoding="utf-8")
    with pytest.raises(DescriptionError, match="next_year.toml.*没有的表 LY"):
        load_tableset(str(folder))


def test_open_data_in_the_sets_unit(built8):
    dp = json.loads(built8.datapackage.read_text(encoding="utf-8"))
    for m in dp["model"]["measures"].values():
        assert m["factor"] == 1 and m["currency"] == "CNY"
    folder = built8.datapackage.parent
    with open(folder / "expenditure.csv", encoding="utf-8") as fh:
        exp = list(csv.DictReader(fh))
    assert {r["unit"] for r in exp} == {"元"}
    assert {r["table"] for r in exp} == {"表1", "表3", "表4", "表5", "表6", "表7", "表10"}   # 表2 is revenue
    t6 = {(r["code"], r["measure"]): r["amount"] for r in exp if r["table"] == "表6"}
    assert t6[("301", "total")] == "1804320.00"
    t10 = {(r["row"], r["measure"]): r["amount"] for r in exp if r["table"] == "表10"}
    assert t10[("reception", "total")] == "8000.00"          # 0.8000 万元, converted exactly


@pytest.mark.libreoffice
def test_pdf_of_the_second_set(built8, tmp_path, soffice, poppler):
    from xlbudget.libreoffice import pdf_text

    pdf = write_pdf(built8.out, tmp_path / "yuan8.pdf")
    text = pdf_text(pdf)
    pages = text.split("\f")
    assert any("单位：元" in p and "部门支出总体情况表" in p for p in pages)
    assert any("单位：万元" in p and "“三公”经费" in p for p in pages)
    assert "1,804,320.00" in text and "0.8000" in text
    assert "收支总预算 417.37 万元" in re.sub(r"\s+", " ", text).replace(" 万元", " 万元")


@pytest.mark.libreoffice
def test_a_total_over_another_units_table_converts_in_the_formula(tmp_path, doc8, soffice):
    """表1 in 万元 over 表2 and 表3 in 元: the disclosure's formulas divide by 10000 and keep the published figure
    when LibreOffice recalculates them."""
    from xlbudget.libreoffice import recalculated_copy

    folder = make_yuan8(tmp_path / "mixed")
    t1 = folder / "T1.toml"
    t1.write_text(t1.read_text(encoding="utf-8").replace('numbering = false\n', 'numbering = false\nunit = "万元"\n'
                                                          'entry_decimals = 6\n', 1), encoding="utf-8")
    with installed(folder):
        spec, doc = yuan8_document(folder)
        doc = {**doc, "tables": {**doc["tables"], "T1": {}}}        # 表1's inputs (单位资金 detail) are blank
        b = budget_from_document(doc, spec)
        assert b.published("T1", "in_total", "amount") == Decimal("417.37")
        assert b.published("T2", "total", "gp") == Decimal("4173740.00")
        out = tmp_path / "mixed.xlsx"
        build([fill(doc, tmp_path / "filled.xlsx", spec)], out)
    wb = openpyxl.load_workbook(out)
    t1_cells = [c for row in wb["表1"].iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=ROUND(")]
    converted = [c.value for c in t1_cells if "/10000" in c.value]          # terms taken from 表2 / 表3 (元)
    assert len(converted) >= 10 and "=ROUND('精确数'!" in converted[0]
    own = [c.value for c in t1_cells if "/10000" not in c.value]             # sums of 表1's own rows (万元)
    assert own and all("*" not in v and "/" not in v for v in own)
    assert "单位：万元" in _texts(wb["表1"]) and "单位：元" in _texts(wb["表2"])
    wb.close()
    recalc = openpyxl.load_workbook(recalculated_copy(out, tmp_path / "recalc.xlsx"), data_only=True)
    cached = openpyxl.load_workbook(out, data_only=True)
    nums = [v for row in recalc["表1"].iter_rows(values_only=True) for v in row if isinstance(v, float)]
    assert 417.37 in nums
    for ra, rb in zip(cached["表1"].iter_rows(values_only=True), recalc["表1"].iter_rows(values_only=True)):
        for va, vb in zip(ra, rb):
            if isinstance(va, (int, float)) and not isinstance(va, bool):
                assert vb == pytest.approx(va, abs=1e-9)


def test_a_figure_from_a_table_not_printed_is_written_as_its_value(tmp_path):
    folder = make_yuan8(tmp_path / "only-t1")
    text = (folder / "disclosure.toml").read_text(encoding="utf-8")
    (folder / "disclosure.toml").write_text(
        text.replace('tables = ["T1", "T2", "T3", "T4", "T5", "T6", "T7", "T10"]\n\n[[sheet]]', 'tables = ["T1"]\n\n[[sheet]]'),
        encoding="utf-8")
    with installed(folder):
        spec, doc = yuan8_document(folder)
        b = budget_from_document(doc, spec)
        out = build([fill(doc, tmp_path / "filled.xlsx", spec)], tmp_path / "only-t1.xlsx").out
    wb = openpyxl.load_workbook(out)
    assert [n for n in wb.sheetnames if n.startswith("表")] == ["表1"]
    layout = b.layout
    ws = wb["表1"]
    t1 = layout.tables["T1"]
    r, c = t1.pos("in_gp", "amount")
    cell = ws.cell(row=r + 3, column=c + 1)                       # two heading rows above the first table
    assert cell.value == float(b.published("T1", "in_gp", "amount")) == 4173740.0
    r, c = t1.pos("in_current", "amount")
    total = ws.cell(row=r + 3, column=c + 1).value
    assert isinstance(total, str) and total.startswith("=ROUND(") and "精确数" in total
    wb.close()


def test_next_years_template_of_a_set_without_carry_over(filled8, tmp_path):
    """yuan8 has no next_year.toml: next year's template keeps the rows and starts empty."""
    from xlbudget.template import make_next_year

    out = make_next_year(filled8, tmp_path / "next.xlsx")
    res = read_workbook(out)
    assert [f.message() for f in res.findings if f.severity.value == "error"] == []
    assert res.budget.spec.year == 2026 and res.budget.layout.tableset.id == "yuan8"
    assert (res.budget.value("T1", "in_total", "amount") or 0) == 0
    assert list(res.budget.layout.tables["T6"].rows) == list(read_workbook(filled8).budget.layout.tables["T6"].rows)
