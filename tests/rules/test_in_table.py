"""In-table rules (表内): sums and formulas derived from the descriptions, empty-table notes, 表1/表2/表6."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from rulecase import Case, assert_breaks, of


def test_clean_budget_has_no_in_table_error(clean: Case):
    found = clean.findings()
    bad = [f for f in found if f.rule.endswith((".sum", ".formula", ".empty")) and f.severity.value != "info"]
    assert bad == []


@pytest.mark.rule("{table}.sum")
def test_parent_row_differs_from_its_children(clean: Case):
    # a 类 total overwritten by a constant: 301 人员经费 no longer adds up its 款
    clean.override("T6", "301", "personnel", "181.00")
    f = assert_breaks(clean, "T6.sum", "error",
                      [clean.pos("T6", "301", "personnel")] + [clean.pos("T6", k, "personnel") for k in
                       ("30101", "30102", "30103", "30108", "30110", "30111", "30112", "30113")])
    assert f.kind == "sum-mismatch"
    assert f.actual == D("181.00") and f.expected == D("180.44") and f.difference == D("0.56")
    assert f.tolerance == D("0.045") and f.tolerance_mode == "interval"
    assert "表6" in f.message("zh") and "181.00" in f.message("en")


@pytest.mark.rule("{table}.sum")
def test_total_row_of_a_performance_table(clean: Case):
    clean.override("PP_p1", "weights", "weight", "95")
    f = assert_breaks(clean, "PP_p1.sum", "error",
                      [clean.pos("PP_p1", "weights", "weight")]
                      + [clean.pos("PP_p1", f"indicators_{i}", "weight") for i in range(30)])
    assert f.expected == 90 and f.actual == 95


def test_one_cent_edit_stays_a_residue(clean: Case):
    clean.override("T6", "301", "personnel", "180.45")   # children add up to 180.44
    found = of(clean.findings(), "T6.sum")
    cell = clean.pos("T6", "301", "personnel")
    mine = [f for f in found if f.position == cell]
    assert [f.severity.value for f in mine] == ["info"]
    assert mine[0].kind == "rounding-residue" and mine[0].difference == D("0.01")


@pytest.mark.rule("{table}.formula")
def test_total_column_differs_from_its_parts(clean: Case):
    clean.override("T3", "2014101", "total", "55.00")
    f = assert_breaks(clean, "T3.formula", "error",
                      [clean.pos("T3", "2014101", "total"), clean.pos("T3", "2014101", "basic"),
                       clean.pos("T3", "2014101", "project")])
    assert f.kind == "formula-mismatch" and f.expected == D("54.81") and f.difference == D("0.19")


@pytest.mark.rule("{table}.formula")
def test_row_taken_from_another_table(clean: Case):
    # 表1 一般公共预算拨款 is =表2 总计 一般公共预算
    clean.override("T1", "in_gp", "amount", "400.00")
    assert_breaks(clean, "T1.formula", "error",
                  [clean.pos("T1", "in_gp", "amount"), clean.pos("T2", "total", "gp")])


def _with_fund_lines(case: Case) -> Case:
    return case.respec(fund_functions=("2296002",))


@pytest.mark.rule("{table}.empty")
def test_figures_that_round_away_under_the_empty_note(clean: Case):
    _with_fund_lines(clean).set("tables.T8.2296002.project", D("0.004"))
    t8 = clean.budget.layout.tables["T8"]
    note = f"{t8.sheet}!A{t8.note_row + 1}"
    f = assert_breaks(clean, "T8.empty", "error", [note, clean.pos("T8", "2296002", "project")])
    assert f.kind == "empty-table-figures"


@pytest.mark.rule("{table}.empty")
def test_empty_table_without_its_note(clean: Case):
    clean.override("T9", "total", "total", "3.00")
    t9 = clean.budget.layout.tables["T9"]
    f = assert_breaks(clean, "T9.empty", "error", [clean.pos("T9", "total", "total"), f"{t9.sheet}!A{t9.note_row + 1}"])
    assert f.kind == "empty-table-unnoted"


def test_table_with_figures_and_no_note_is_fine(clean: Case):
    _with_fund_lines(clean).set("tables.T8.2296002.project", D("5.00"))
    assert of(clean.findings(), "T8.empty") == []


@pytest.mark.rule("T1.unit_detail")
def test_unit_funds_breakdown(clean: Case):
    clean.set("tables.T1.in_unit_business.amount", D("5.00"))
    assert_breaks(clean, "T1.unit_detail", "warning",
                  [clean.pos("T1", k, "amount") for k in
                   ("in_unit_business", "in_unit_superior", "in_unit_affiliate", "in_unit_operating", "in_unit_other",
                    "in_unit")])


@pytest.mark.rule("T1.carry_fiscal")
def test_fiscal_carry_over_by_fund(clean: Case):
    clean.set("tables.T1.in_carry_fiscal_gp.amount", D("3.00"))
    assert_breaks(clean, "T1.carry_fiscal", "error",
                  [clean.pos("T1", k, "amount") for k in
                   ("in_carry_fiscal_gp", "in_carry_fiscal_fund", "in_carry_fiscal_soe", "in_carry_fiscal")])


@pytest.mark.rule("T1.carry_nonfiscal")
def test_non_fiscal_carry_over(clean: Case):
    clean.set("tables.T2.2014101.carry_nonfiscal", D("2.00"))   # 表1 2.非财政拨款结转结余 = 2.00, no split
    assert_breaks(clean, "T1.carry_nonfiscal", "error",
                  [clean.pos("T1", k, "amount") for k in
                   ("in_carry_nonfiscal_special", "in_carry_nonfiscal_unit", "in_carry_nonfiscal")])


@pytest.mark.rule("T2.transfer")
def test_transfer_exceeds_its_fund(clean: Case):
    clean.set("tables.T2.2014101.gp_transfer", D("60.00"))
    f = assert_breaks(clean, "T2.transfer", "error",
                      [clean.pos("T2", "2014101", "gp_transfer"), clean.pos("T2", "2014101", "gp")])
    assert f.kind == "bound-violation" and f.difference == D("5.19")


@pytest.mark.rule("T6.split")
def test_personnel_costs_are_301_plus_303(clean: Case):
    # 基本工资 booked as 公用经费
    clean.set("tables.T6.30101.personnel", None).set("tables.T6.30101.operating", D("42.786"))
    assert_breaks(clean, "T6.split", "warning",
                  [clean.pos("T6", "total", "personnel"), clean.pos("T6", "301", "total"), clean.pos("T6", "303", "total")])
