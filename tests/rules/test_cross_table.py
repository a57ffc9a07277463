"""Cross-table rules (表间) X1–X13: each test breaks one relation of the clean seed."""

from __future__ import annotations

from decimal import Decimal as D

import msgspec.structs
import pytest

from rulecase import Case, assert_breaks, errors, of


def test_clean_budget_has_no_cross_table_finding(clean: Case):
    found = [f for f in clean.findings() if f.rule.startswith("X")]
    assert found == []


@pytest.mark.rule("X1")
def test_income_and_spending_totals_of_table_1(clean: Case):
    clean.add("T3", "2014101", "basic", "1")            # spending grows, income (表2) does not
    f = assert_breaks(clean, "X1", "error", [clean.pos("T1", "in_total", "amount"), clean.pos("T1", "out_total", "amount")])
    assert f.kind == "cross-mismatch" and f.actual == D("417.37") and f.expected == D("418.37")
    assert f.difference == D("-1.00") and f.tolerance == D("0.01")


@pytest.mark.rule("X2")
def test_table_2_total_against_table_1(clean: Case):
    clean.override("T2", "total", "total", "400.00")
    assert_breaks(clean, "X2", "error", [clean.pos("T2", "total", "total"), clean.pos("T1", "in_total", "amount")])


@pytest.mark.rule("X2.classes")
def test_table_2_class_against_table_1(clean: Case):
    clean.add("T3", "2014101", "basic", "1")
    assert_breaks(clean, "X2.classes", "error", [clean.pos("T2", "201", "total"), clean.pos("T1", "201", "amount")])


@pytest.mark.rule("X3")
def test_table_3_total_against_table_1(clean: Case):
    clean.override("T1", "out_total", "amount", "417.00")    # a constant typed over =表3!总计
    assert_breaks(clean, "X3", "error", [clean.pos("T3", "total", "total"), clean.pos("T1", "out_total", "amount")])


@pytest.mark.rule("X3.rows")
def test_table_3_line_against_table_2(clean: Case):
    clean.add("T3", "2014101", "basic", "1")
    assert_breaks(clean, "X3.rows", "error", [clean.pos("T3", "2014101", "total"), clean.pos("T2", "2014101", "total")])


@pytest.mark.rule("X4")
def test_table_4_income_against_table_1(clean: Case):
    clean.override("T4", "in_total", "amount", "400.00")
    assert_breaks(clean, "X4", "error",
                  [clean.pos("T4", "in_total", "amount")] + [clean.pos("T1", k, "amount") for k in ("in_gp", "in_fund", "in_soe")])


@pytest.mark.rule("X4.balance")
def test_table_4_income_against_spending(clean: Case):
    clean.add("T5", "2014101", "basic", "1")
    assert_breaks(clean, "X4.balance", "error", [clean.pos("T4", "in_total", "amount"), clean.pos("T4", "out_total", "total")])


@pytest.mark.rule("X4.sources")
def test_table_4_each_fund(clean: Case):
    clean.add("T5", "2014101", "basic", "1")
    f = assert_breaks(clean, "X4.sources", "error", [clean.pos("T4", "out_total", "gp"), clean.pos("T4", "in_gp", "amount")])
    assert f.difference == D("1.00")


@pytest.mark.rule("X5")
def test_table_4_class_against_table_5(clean: Case):
    clean.override("T4", "201", "gp", "300.00")
    assert_breaks(clean, "X5", "error", [clean.pos("T4", "201", "gp"), clean.pos("T5", "201", "total")])


@pytest.mark.rule("X6")
def test_table_5_line_against_table_2_general_budget(clean: Case):
    clean.add("T5", "2014101", "basic", "1")
    assert_breaks(clean, "X6", "error", [clean.pos("T5", "2014101", "total"), clean.pos("T2", "2014101", "gp")])


@pytest.mark.rule("X6.basic")
def test_table_5_basic_exceeds_table_3(clean: Case):
    clean.add("T5", "2014101", "basic", "1")
    f = assert_breaks(clean, "X6.basic", "error", [clean.pos("T5", "2014101", "basic"), clean.pos("T3", "2014101", "basic")])
    assert f.kind == "bound-violation"


@pytest.mark.rule("X6.project")
def test_table_5_project_exceeds_table_3(clean: Case):
    clean.add("T5", "2014199", "project", "1")
    assert_breaks(clean, "X6.project", "error",
                  [clean.pos("T5", "2014199", "project"), clean.pos("T3", "2014199", "project")])


def test_table_5_below_table_3_is_allowed(clean: Case):
    # 表3 may hold money from other sources than the 一般公共预算 (表5 is the filtered view)
    clean.add("T3", "2014101", "basic", "1")
    assert of(clean.findings(), "X6.basic") == []


@pytest.mark.rule("X7")
def test_table_6_total_against_table_5_basic(clean: Case):
    clean.add("T6", "30101", "personnel", "1")
    f = assert_breaks(clean, "X7", "error", [clean.pos("T6", "total", "total"), clean.pos("T5", "total", "basic")])
    assert f.actual == D("187.63") and f.expected == D("186.63")


def test_one_cent_on_table_6_is_a_residue_of_x7(clean: Case):
    clean.add("T6", "30101", "personnel", "0.01")
    found = of(clean.findings(), "X7")
    assert [f.severity.value for f in found] == ["info"] and found[0].kind == "rounding-residue"


@pytest.mark.rule("X8")
def test_table_7_total_against_table_5_projects(clean: Case):
    clean.add("T7", "p1", "e302", "1")
    assert_breaks(clean, "X8", "error", [clean.pos("T7", "total", "total"), clean.pos("T5", "total", "project")])


@pytest.mark.rule("X8.items")
def test_table_7_projects_per_functional_line(clean: Case):
    # project p1 moves to 2014101 行政运行 while 表5 keeps all project money on 2014199
    projects = tuple(p if p.key != "p1" else msgspec.structs.replace(p, function="2014101")
                     for p in clean.spec.projects)
    clean.respec(projects=projects)
    found = clean.findings()
    assert of(found, "X8") == []                                     # the totals still agree
    assert_breaks(clean, "X8.items", "error", [clean.pos("T7", "p1", "total"), clean.pos("T5", "2014101", "project")])
    others = [clean.pos("T7", k, "total") for k in ("p2", "p3", "p4", "p5", "p6")]
    assert_breaks(clean, "X8.items", "error", others + [clean.pos("T5", "2014199", "project")])


@pytest.mark.rule("X9")
def test_fund_income_without_table_8(clean: Case):
    clean.set("tables.T2.2014101.fund", D("5.00"))
    assert_breaks(clean, "X9", "error", [clean.pos("T8", "total", "total"), clean.pos("T1", "in_fund", "amount")])


@pytest.mark.rule("X9.soe")
def test_state_capital_income_without_table_9(clean: Case):
    clean.set("tables.T2.2014101.soe", D("5.00"))
    assert_breaks(clean, "X9.soe", "error", [clean.pos("T9", "total", "total"), clean.pos("T1", "in_soe", "amount")])


@pytest.mark.rule("X10")
def test_carry_over_without_table_11(clean: Case):
    clean.set("tables.T2.2014101.carry_fiscal", D("5.00"))
    assert_breaks(clean, "X10", "error", [clean.pos("T11", "total", "total"), clean.pos("T1", "in_carry", "amount")])


@pytest.mark.rule("X10.fiscal")
def test_fiscal_carry_over_without_table_11(clean: Case):
    clean.set("tables.T2.2014101.carry_fiscal", D("5.00"))
    assert_breaks(clean, "X10.fiscal", "error",
                  [clean.pos("T11", "total", "fiscal"), clean.pos("T1", "in_carry_fiscal", "amount")])


@pytest.mark.rule("X11")
def test_reception_below_table_6(clean: Case):
    clean.set("tables.T10.reception.gp", D("0.50"))
    f = assert_breaks(clean, "X11", "error", [clean.pos("T10", "reception", "total"), clean.pos("T6", "30217", "total")])
    assert f.kind == "bound-violation" and f.difference == D("-0.30")


def test_reception_above_table_6_is_allowed(clean: Case):
    clean.set("tables.T10.reception.gp", D("1.50"))     # part of it paid by projects
    assert of(clean.findings(), "X11") == []


def _with_line(case: Case, code: str, col: str, value: str) -> Case:
    case.respec(economic=tuple(sorted(case.spec.economic + (code,))))
    return case.set(f"tables.T6.{code}.{col}", D(value))


@pytest.mark.rule("X11.operation")
def test_vehicle_operation_below_table_6(clean: Case):
    _with_line(clean, "30231", "operating", "3.00")
    assert_breaks(clean, "X11.operation", "error",
                  [clean.pos("T10", "vehicle_operation", "total"), clean.pos("T6", "30231", "total")])


def test_vehicle_operation_without_a_30231_line_is_fine(clean: Case):
    # the seed: 表10 运行费 2.30 and no 30231 line in 表6 (the money comes from projects)
    assert of(clean.findings(), "X11.operation") == []


@pytest.mark.rule("X11.abroad")
def test_travel_abroad_below_table_6(clean: Case):
    _with_line(clean, "30212", "operating", "1.00")
    assert_breaks(clean, "X11.abroad", "error", [clean.pos("T10", "abroad", "total"), clean.pos("T6", "30212", "total")])


@pytest.mark.rule("X12")
def test_vehicle_purchase_below_table_6(clean: Case):
    _with_line(clean, "31013", "operating", "20.00")
    assert_breaks(clean, "X12", "error", [clean.pos("T10", "vehicle_purchase", "total"), clean.pos("T6", "31013", "total")])


@pytest.mark.rule("X13.pension")
def test_pension_contributions_against_functional_line(clean: Case):
    clean.set("tables.T6.30108.personnel", D("20.00"))
    f = assert_breaks(clean, "X13.pension", "warning",
                      [clean.pos("T6", "30108", "total"), clean.pos("T5", "2080505", "basic")])
    assert f.severity.value == "warning"


@pytest.mark.rule("X13.annuity")
def test_occupational_annuity_without_functional_line(clean: Case):
    _with_line(clean, "30109", "personnel", "5.00")
    assert_breaks(clean, "X13.annuity", "warning", [clean.pos("T6", "30109", "total")])


@pytest.mark.rule("X13.housing")
def test_housing_fund_against_functional_line(clean: Case):
    clean.set("tables.T6.30113.personnel", D("15.00"))
    assert_breaks(clean, "X13.housing", "warning", [clean.pos("T6", "30113", "total"), clean.pos("T5", "2210201", "basic")])


@pytest.mark.rule("X13.civil_medical")
def test_civil_servant_medical_against_functional_line(clean: Case):
    clean.set("tables.T6.30111.personnel", D("2.00"))
    assert_breaks(clean, "X13.civil_medical", "warning",
                  [clean.pos("T6", "30111", "total"), clean.pos("T5", "2101103", "basic")])


@pytest.mark.rule("X13.medical")
def test_medical_insurance_against_functional_line(clean: Case):
    clean.set("tables.T6.30110.personnel", D("10.00"))
    assert_breaks(clean, "X13.medical", "warning",
                  [clean.pos("T6", "30110", "total"), clean.pos("T6", "30111", "total"), clean.pos("T5", "21011", "basic")])


def test_x13_are_warnings_only(clean: Case):
    clean.set("tables.T6.30110.personnel", D("10.00"))
    assert [f.rule for f in errors(clean.findings()) if f.rule.startswith("X13")] == []
