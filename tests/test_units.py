"""Units and precision per table: a set in 元 whose 三公 table is in 万元, rules across units, and the
interval tolerance of figures printed in different units."""

from __future__ import annotations

import shutil
from decimal import Decimal as D
from pathlib import Path

import msgspec.structs
import openpyxl
import pytest

from xlbudget.check import check_budget
from xlbudget.errors import DescriptionError
from xlbudget.layout import layout_for
from xlbudget.model import budget_from_document
from xlbudget.reader import read_workbook
from xlbudget.rules import Tolerance
from xlbudget.spec import spec_from_mapping
from xlbudget.tableset import Precision, load_tableset
from xlbudget import formulas
from xlbudget.writer.template import write_workbook

from setinstall import installed

XJ11 = Path(__file__).resolve().parents[1] / "templates" / "xj11"
YUAN = Precision("元", 2, 2)
WAN = Precision("万元", 2, 6)

RULES = '''
[[rule]]
id = "U1"
kind = "equal"
severity = "error"
left = "T10.reception.total"
right = "T6.30217.total"
zh = "表10 公务接待费（万元）等于表6 公务接待费（元）"
en = "Table 10 reception (万元) equals table 6 line 30217 (元)"

[[rule]]
id = "U2"
kind = "equal"
severity = "error"
left = "T6.30217.total"
right = "T10.reception.total"
zh = "表6 公务接待费（元）等于表10 公务接待费（万元）"
en = "Table 6 line 30217 (元) equals table 10 reception (万元)"

[[rule]]
id = "{table}.sum"
kind = "sums"
foreach = "tables"
severity = "error"
zh = "{table} 合计等于明细之和"
en = "{table}: totals add up"

[[rule]]
id = "{table}.formulas"
kind = "formulas"
foreach = "tables"
severity = "error"
zh = "{table} 公式单元格"
en = "{table}: formula cells"
'''


def units_set(tmp_path: Path, sangong_decimals: int = 2) -> Path:
    """表6 and 表10 of xj11: the set in 元 (entered to the 分), 表10 in 万元, plus a 表10 line taken from 表6."""
    folder = tmp_path / f"units{sangong_decimals}"
    folder.mkdir()
    shutil.copy(XJ11 / "T6.toml", folder / "T6.toml")
    (folder / "tableset.toml").write_text(
        'id = "units"\nversion = "1"\nunit = "元"\ndisplay_decimals = 2\nentry_decimals = 2\n'
        'tables = ["T6", "T10"]\nrules = "rules.toml"\n', encoding="utf-8")
    t10 = (XJ11 / "T10.toml").read_text(encoding="utf-8")
    t10 = t10.replace('title = "财政拨款“三公”经费支出情况表"\n',
                      f'title = "财政拨款“三公”经费支出情况表"\nunit = "万元"\ndisplay_decimals = {sangong_decimals}\n'
                      'entry_decimals = 6\n')
    t10 = t10.replace('  { key = "vehicle_operation", label = "公务用车运行费", indent = 2, input = true },\n',
                      '  { key = "vehicle_operation", label = "公务用车运行费", indent = 2, input = true },\n'
                      '  { key = "from_t6", label = "表6 公务接待费", formula = { gp = "T6.30217.operating" } },\n')
    (folder / "T10.toml").write_text(t10, encoding="utf-8")
    (folder / "rules.toml").write_text(RULES, encoding="utf-8")
    return folder


def budget(folder: Path, t6: str, t10: str, tid: str | None = None):
    """``tid``: the id under which the set is installed (a workbook of it is read back), else the folder."""
    spec = spec_from_mapping({"department": {"name": "测试部门", "year": 2025},
                              "codes": {"functions": ["2014101"], "economic": ["30217"]}})
    spec = msgspec.structs.replace(spec, tableset=tid or str(folder))
    doc = {"spec": spec.to_dict(), "tables": {"T6": {"30217": {"operating": D(t6)}},
                                             "T10": {"reception": {"gp": D(t10)}}}}
    return budget_from_document(doc, spec)


def rule(findings, rid):
    return [f for f in findings if f.rule == rid]


# --- description --------------------------------------------------------------------------------------
def test_each_table_and_column_has_its_precision(tmp_path):
    ts = load_tableset(str(units_set(tmp_path)))
    assert ts.precision == YUAN
    assert ts.table("T6").precision() == YUAN and ts.table("T6").precision("personnel") == YUAN
    assert ts.table("T10").precision("total") == WAN
    assert (WAN.factor, YUAN.factor, WAN.quantum, WAN.half) == (D(10000), D(1), D("0.01"), D("0.005"))
    assert YUAN.convert(D("12345.67"), WAN) == D("1.234567") and WAN.convert(D("1.234567"), YUAN) == D("12345.67")


def test_a_column_may_set_its_own_precision_and_bad_values_are_description_errors(tmp_path):
    folder = units_set(tmp_path)
    path = folder / "T10.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('{ key = "soe", kind = "amount",', '{ key = "soe", kind = "amount", unit = "元",'),
                    encoding="utf-8")
    t10 = load_tableset(str(folder)).table("T10")
    assert t10.precision("soe") == Precision("元", 2, 6) and t10.precision("gp") == WAN
    load_tableset.cache_clear()
    path.write_text(text.replace('unit = "万元"', 'unit = "千元"'), encoding="utf-8")
    with pytest.raises(DescriptionError, match="单位 '千元' 无效"):
        load_tableset(str(folder))
    load_tableset.cache_clear()
    path.write_text(text.replace("entry_decimals = 6", "entry_decimals = -1"), encoding="utf-8")
    with pytest.raises(DescriptionError, match="entry_decimals"):
        load_tableset(str(folder))
    load_tableset.cache_clear()


# --- rules across units -------------------------------------------------------------------------------
def test_a_rule_across_units_passes_on_exact_figures(tmp_path):
    folder = units_set(tmp_path, sangong_decimals=4)
    b = budget(folder, "15000.00", "1.5")
    assert b.published("T6", "30217", "total") == D("15000.00") and b.published("T10", "reception", "total") == D("1.5000")
    assert check_budget(b) == []


def test_a_rule_across_units_fails_on_a_one_yuan_error(tmp_path):
    # 表10 printed to 4 decimals of 万元 (one 元): a 1 元 error is beyond ±0.00005 万元 + ±0.005 元
    folder = units_set(tmp_path, sangong_decimals=4)
    findings = check_budget(budget(folder, "15001.00", "1.5"))
    (u1,) = rule(findings, "U1")
    assert u1.severity.value == "error" and u1.kind == "cross-mismatch"
    # judged in the unit of the left side (万元): the 元 figure converted exactly
    assert (u1.actual, u1.expected, u1.difference, u1.tolerance) == (D("1.5000"), D("1.5001"), D("-0.0001"),
                                                                    D("0.0000505"))
    assert "（元）" in u1.params["rhs"] and "万元" in u1.params["mode_zh"]
    (u2,) = rule(findings, "U2")
    assert (u2.actual, u2.expected, u2.difference, u2.tolerance) == (D("15001.00"), D("15000.0000"), D("1.00"),
                                                                    D("0.505"))
    assert u2.severity.value == "error"


def test_a_two_decimal_wan_figure_stands_for_fifty_yuan(tmp_path):
    # printed to 2 decimals of 万元 a figure stands for ±0.005 万元 = ±50 元: a 1 元 gap is a residue (info),
    # a 51 元 gap is an error
    folder = units_set(tmp_path, sangong_decimals=2)
    residue = rule(check_budget(budget(folder, "15001.00", "1.5")), "U1")
    assert [(f.severity.value, f.kind, f.tolerance) for f in residue] == [("info", "rounding-residue", D("0.0050005"))]
    (fail,) = rule(check_budget(budget(folder, "15051.00", "1.5")), "U1")
    assert fail.severity.value == "error" and fail.difference == D("-0.0051")


def test_a_description_formula_across_units_converts_in_the_model_and_the_workbook(tmp_path):
    folder = units_set(tmp_path, sangong_decimals=4)
    b = budget(folder, "12345.67", "1.234567")
    assert b.value("T10", "from_t6", "gp") == D("1.234567")
    t = b.layout.tables["T10"]
    row = t.rows["from_t6"]
    assert formulas.formula(b.layout, t, row, t.column(row, "gp")).endswith("/10000")
    # the cell prints 1.2346 万元 of 12345.67 元: a rounding residue within ±0.00005 万元 + ±0.005 元, not an error
    assert {(f.rule, f.severity.value) for f in check_budget(b)} == {("T10.formulas", "info"), ("U1", "info"),
                                                                ("U2", "info")}

    out = write_workbook(b.layout, tmp_path / "units.xlsx", b)
    wb = openpyxl.load_workbook(out)
    units = {name: [c.value for r in wb[name].iter_rows(max_row=3) for c in r if c.value and "单位" in str(c.value)]
             for name in ("表6", "表10")}
    assert units == {"表6": ["单位：元"], "表10": ["单位：万元"]}
    r6, c6 = layout_for(b.spec).tables["T6"].pos("30217", "operating")
    r10, c10 = t.pos("reception", "gp")
    assert wb["表6"].cell(r6 + 1, c6 + 1).number_format.startswith("#,##0.00;")
    assert wb["表10"].cell(r10 + 1, c10 + 1).number_format.startswith("#,##0.0000;")
    rules = {str(dv.sqref): dv.formula1 for name in ("表6", "表10") for dv in wb[name].data_validations.dataValidation
             if dv.type == "custom"}
    assert any(",2)=" in f for f in rules.values()) and any(",6)=" in f for f in rules.values())
    with installed(folder) as tid:  # a workbook names its set by id: read back, the set must be installed
        b = budget(folder, "12345.67", "1.234567", tid)
        res = read_workbook(write_workbook(b.layout, tmp_path / "units-installed.xlsx", b))
    assert res.findings == []
    assert res.budget.published("T10", "from_t6", "gp") == D("1.2346")


# --- interval tolerance across units -------------------------------------------------------------------
def test_interval_tolerance_sums_each_figures_half_unit_in_the_unit_of_comparison():
    interval = Tolerance.parse("interval")
    assert interval.bound_for([WAN, WAN], WAN) == D("0.010") == interval.bound(2)
    assert interval.bound_for([WAN, YUAN], WAN) == D("0.0050005")
    assert interval.bound_for([WAN, YUAN], YUAN) == D("50.005")
    assert interval.bound_for([YUAN] * 3, YUAN) == D("0.015")
    assert interval.bound_for([Precision("元", 0, 0), WAN], YUAN) == D("50.5")
    assert interval.bound_for([], WAN) == 0
    assert Tolerance.parse("fixed:0.01").bound_for([WAN, YUAN], WAN) == D("0.01")
    assert interval.describe_for([WAN, WAN], WAN) == interval.describe(2) == "区间法：2 个数各 ±0.005"
    assert interval.describe_for([WAN, YUAN], WAN) == "区间法：2 个数，1 个各 ±0.005 万元、1 个各 ±0.005 元，合计 ±0.0050005 万元"
    assert interval.describe_for([WAN, YUAN], YUAN, "en") == \
        "interval: 2 figures, 1 × ±0.005 万元 + 1 × ±0.005 元 = ±50.005 元"
