"""Mutation tests of the rule book of the Shanghai district budget set (templates/sh-budget/rules.toml).

Each test takes the example (普陀区城市管理行政执法局 2026, which reconciles), breaks one relation and asserts the
rule reports it at its severity on the cells involved. Tables 1–8 are entered in whole 元 and their rules are exact, so
a difference of 1 元 is an inconsistency; 表9 is in 万元 and is compared with 表8 across units.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from rulecase import Case, of
from xlbudget.layout import Layout
from xlbudget.model import Budget, load_example, normalise_document
from xlbudget.rules import Context
from xlbudget.rules.base import load_rules
from xlbudget.spec import generic_spec

SET = "sh-budget"


@pytest.fixture
def sh() -> Case:
    return Case(*load_example(SET))


def _breaks(case: Case, rule: str, severity: str, *cells: tuple[str, str, str]) -> None:
    found = of(case.findings(), rule, severity)
    assert found, f"{rule} reported nothing at {severity}: {[(f.rule, f.severity.value) for f in case.findings()]}"
    want = [case.pos(*c) for c in cells]
    assert any(all(w in f.cells for w in want) for f in found), [f.cells for f in found]


def test_the_example_breaks_nothing(sh: Case):
    found = sh.findings()
    assert [(f.rule, f.kind) for f in found] == [("CODE.exists", "catalogue-missing")] * 2


def test_a_residue_in_a_wan_table_is_an_info(sh: Case):
    sh.override("T9", "budget", "total", "114.23")
    found = of(sh.findings(), "T9.formula_rounded")
    assert [f.severity.value for f in found] == ["info"] and found[0].kind == "rounding-residue"


def test_one_yuan_is_an_inconsistency_not_a_residue(sh: Case):
    sh.add("T5", "2080501", "basic", "1")
    found = of(sh.findings(), "X6", "error")
    assert found and found[0].difference == Decimal(-1) and found[0].tolerance == 0


def test_across_units_the_yuan_side_is_compared_as_printed_in_wan(sh: Case):
    # 507.25 万元 against 公用经费 5,072,538 元 (507.2538 万元): holds as printed, no 尾差
    assert of(sh.findings(), "X14.admin") == []
    sh.set("tables.T9.budget.operating_costs", Decimal("507.26"))
    f = of(sh.findings(), "X14.admin", "warning")[0]
    assert (f.actual, f.expected, f.difference) == (Decimal("507.26"), Decimal("507.25"), Decimal("0.01"))


MUTATIONS = [
    pytest.param("T1.sum", "error", [("override", "T1", "in_fiscal", "amount", "47483000")],
                 [("T1", "in_fiscal", "amount"), ("T1", "in_gp", "amount")],
                 marks=pytest.mark.rule("{table}.sum", tableset="sh-budget"), id="T1.sum"),
    pytest.param("T1.sum", "error", [("override", "T1", "out_total", "amount", "47483459")],
                 [("T1", "out_total", "amount"), ("T1", "208", "amount")], id="T1.sum-classes"),
    pytest.param("T2.sum", "error", [("override", "T2", "208", "fiscal", "6397000")],
                 [("T2", "208", "fiscal"), ("T2", "20805", "fiscal")], id="T2.sum"),
    pytest.param("T8.sum", "error", [("override", "T8", "301", "personnel", "29045728")],
                 [("T8", "301", "personnel"), ("T8", "30101", "personnel")], id="T8.sum"),
    pytest.param("T4.sum", "error", [("override", "T4", "out_total", "gp", "47483459")],
                 [("T4", "out_total", "gp"), ("T4", "212", "gp")], id="T4.sum"),
    pytest.param("T3.formula", "error", [("override", "T3", "2120104", "total", "33775593")],
                 [("T3", "2120104", "total"), ("T3", "2120104", "basic")],
                 marks=pytest.mark.rule("{table}.formula", tableset="sh-budget"), id="T3.formula"),
    pytest.param("T9.formula_rounded", "error", [("override", "T9", "budget", "vehicle", "113.00")],
                 [("T9", "budget", "vehicle"), ("T9", "budget", "vehicle_purchase")],
                 marks=pytest.mark.rule("{table}.formula_rounded", tableset="sh-budget"), id="T9.formula_rounded"),
    pytest.param("LY.sum_rounded", "error", [("override", "LY", "sangong", "value", "80")],
                 [("LY", "sangong", "value"), ("LY", "abroad", "value")],
                 marks=pytest.mark.rule("{table}.sum_rounded", tableset="sh-budget"), id="LY.sum_rounded"),
    pytest.param("T8.personnel", "warning", [("set", "tables.T8.30302.personnel", None),
                                             ("set", "tables.T8.30302.operating", "2079000")],
                 [("T8", "total", "personnel")], marks=pytest.mark.rule("T8.personnel", tableset="sh-budget"),
                 id="T8.personnel"),
    pytest.param("T8.operating", "warning", [("set", "tables.T8.31002.operating", None),
                                             ("set", "tables.T8.31002.personnel", "210000")],
                 [("T8", "total", "operating")], marks=pytest.mark.rule("T8.operating", tableset="sh-budget"),
                 id="T8.operating"),
    pytest.param("X1", "error", [("override", "T1", "in_total", "amount", "47483459")],
                 [("T1", "in_total", "amount"), ("T1", "out_total", "amount")],
                 marks=pytest.mark.rule("X1", tableset="sh-budget"), id="X1"),
    pytest.param("X2", "error", [("override", "T2", "total", "total", "47483459")],
                 [("T2", "total", "total"), ("T1", "in_total", "amount")],
                 marks=pytest.mark.rule("X2", tableset="sh-budget"), id="X2"),
    pytest.param("X2.fiscal", "error", [("add", "T1", "in_gp", "amount", "1")],
                 [("T2", "total", "fiscal"), ("T1", "in_fiscal", "amount")],
                 marks=pytest.mark.rule("X2.fiscal", tableset="sh-budget"), id="X2.fiscal"),
    pytest.param("X2.classes", "error", [("override", "T1", "210", "amount", "1439041")],
                 [("T2", "210", "total"), ("T1", "210", "amount")],
                 marks=pytest.mark.rule("X2.classes", tableset="sh-budget"), id="X2.classes"),
    pytest.param("X3", "error", [("override", "T1", "out_total", "amount", "47483459")],
                 [("T3", "total", "total"), ("T1", "out_total", "amount")],
                 marks=pytest.mark.rule("X3", tableset="sh-budget"), id="X3"),
    pytest.param("X3.rows", "error", [("add", "T2", "2080501", "fiscal", "1")],
                 [("T3", "2080501", "total"), ("T2", "2080501", "total")],
                 marks=pytest.mark.rule("X3.rows", tableset="sh-budget"), id="X3.rows"),
    pytest.param("X4.balance", "error", [("override", "T4", "in_total", "amount", "47483459")],
                 [("T4", "in_total", "amount"), ("T4", "out_total", "total")],
                 marks=pytest.mark.rule("X4.balance", tableset="sh-budget"), id="X4.balance"),
    pytest.param("X4.sources", "error", [("override", "T4", "in_gp", "amount", "47483459")],
                 [("T4", "out_total", "gp"), ("T4", "in_gp", "amount")],
                 marks=pytest.mark.rule("X4.sources", tableset="sh-budget"), id="X4.sources"),
    pytest.param("X4.classes", "error", [("override", "T4", "208", "total", "6397097")],
                 [("T4", "208", "total"), ("T3", "208", "total")],
                 marks=pytest.mark.rule("X4.classes", tableset="sh-budget"), id="X4.classes"),
    pytest.param("X4.classes_fiscal", "error", [("override", "T4", "208", "total", "6397095")],
                 [("T4", "208", "total"), ("T3", "208", "total")],
                 marks=pytest.mark.rule("X4.classes_fiscal", tableset="sh-budget"), id="X4.classes_fiscal"),
    pytest.param("X6", "error", [("add", "T5", "2080501", "basic", "1")],
                 [("T3", "2080501", "total"), ("T5", "2080501", "total")],
                 marks=pytest.mark.rule("X6", tableset="sh-budget"), id="X6"),
    pytest.param("X6.fiscal", "error", [("add", "T3", "2120104", "project", "1")],
                 [("T3", "2120104", "project"), ("T5", "2120104", "project")],
                 marks=pytest.mark.rule("X6.fiscal", tableset="sh-budget"), id="X6.fiscal"),
    pytest.param("X7", "error", [("add", "T8", "30101", "personnel", "1")],
                 [("T8", "total", "total"), ("T5", "total", "basic")],
                 marks=pytest.mark.rule("X7", tableset="sh-budget"), id="X7"),
    pytest.param("X7.all", "error", [("add", "T8", "30101", "personnel", "1")],
                 [("T8", "total", "total"), ("T3", "total", "basic")],
                 marks=pytest.mark.rule("X7.all", tableset="sh-budget"), id="X7.all"),
    pytest.param("X9", "error", [("set", "tables.T1.in_fund.amount", "100")],
                 [("T6", "total", "total"), ("T1", "in_fund", "amount")],
                 marks=pytest.mark.rule("X9", tableset="sh-budget"), id="X9"),
    pytest.param("X9.soe", "error", [("set", "tables.T1.in_soe.amount", "100")],
                 [("T7", "total", "total"), ("T1", "in_soe", "amount")],
                 marks=pytest.mark.rule("X9.soe", tableset="sh-budget"), id="X9.soe"),
    pytest.param("X13.pension", "warning", [("add", "T8", "30108", "personnel", "1")],
                 [("T8", "30108", "total"), ("T5", "2080505", "basic")],
                 marks=pytest.mark.rule("X13.pension", tableset="sh-budget"), id="X13.pension"),
    pytest.param("X13.annuity", "warning", [("add", "T8", "30109", "personnel", "1")],
                 [("T8", "30109", "total"), ("T5", "2080506", "basic")],
                 marks=pytest.mark.rule("X13.annuity", tableset="sh-budget"), id="X13.annuity"),
    pytest.param("X13.medical", "warning", [("add", "T8", "30110", "personnel", "1")],
                 [("T8", "30110", "total"), ("T5", "21011", "basic")],
                 marks=pytest.mark.rule("X13.medical", tableset="sh-budget"), id="X13.medical"),
    pytest.param("X13.housing", "warning", [("add", "T8", "30113", "personnel", "1")],
                 [("T8", "30113", "total"), ("T5", "2210201", "basic")],
                 marks=pytest.mark.rule("X13.housing", tableset="sh-budget"), id="X13.housing"),
    pytest.param("X11", "error", [("set", "tables.T9.budget.reception", "0.40")],
                 [("T9", "budget", "reception"), ("T8", "30217", "total")],
                 marks=pytest.mark.rule("X11", tableset="sh-budget"), id="X11"),
    pytest.param("X11.basic", "warning", [("set", "tables.T9.budget.reception", "0.50")],
                 [("T9", "budget", "reception"), ("T8", "30217", "total")],
                 marks=pytest.mark.rule("X11.basic", tableset="sh-budget"), id="X11.basic"),
    pytest.param("X11.operation", "error", [("set", "tables.T9.budget.vehicle_operation", "38.00")],
                 [("T9", "budget", "vehicle_operation"), ("T8", "30231", "total")],
                 marks=pytest.mark.rule("X11.operation", tableset="sh-budget"), id="X11.operation"),
    pytest.param("X11.operation_basic", "warning", [("set", "tables.T9.budget.vehicle_operation", "39.00")],
                 [("T9", "budget", "vehicle_operation"), ("T8", "30231", "total")],
                 marks=pytest.mark.rule("X11.operation_basic", tableset="sh-budget"), id="X11.operation_basic"),
    pytest.param("X14", "error", [("set", "tables.T9.budget.operating_costs", "600")],
                 [("T9", "budget", "operating_costs"), ("T8", "total", "operating")],
                 marks=pytest.mark.rule("X14", tableset="sh-budget"), id="X14"),
    pytest.param("X14.admin", "warning", [("set", "tables.T9.budget.operating_costs", "500")],
                 [("T9", "budget", "operating_costs"), ("T8", "total", "operating")],
                 marks=pytest.mark.rule("X14.admin", tableset="sh-budget"), id="X14.admin"),
    pytest.param("PROC.total", "error", [("override", "FA", "proc_total", "value", "600")],
                 [("FA", "proc_total", "value"), ("FA", "proc_goods", "value")],
                 marks=pytest.mark.rule("PROC.total", tableset="sh-budget"), id="PROC.total"),
    pytest.param("PROC.sme", "error", [("set", "facts.procurement.sme_reserved", "600")],
                 [("FA", "sme_reserved", "value"), ("FA", "proc_total", "value")],
                 marks=pytest.mark.rule("PROC.sme", tableset="sh-budget"), id="PROC.sme"),
    pytest.param("PROC.micro", "error", [("set", "facts.procurement.sme_micro", "400")],
                 [("FA", "sme_micro", "value"), ("FA", "sme_reserved", "value")],
                 marks=pytest.mark.rule("PROC.micro", tableset="sh-budget"), id="PROC.micro"),
    pytest.param("PROC.cap", "warning", [("set", "facts.procurement.services", "5000")],
                 [("FA", "proc_total", "value"), ("T1", "out_total", "amount")],
                 marks=pytest.mark.rule("PROC.cap", tableset="sh-budget"), id="PROC.cap"),
    pytest.param("PERF.cover", "warning", [("set", "facts.performance.amount", "1200")],
                 [("FA", "perf_amount", "value"), ("T3", "total", "project")],
                 marks=pytest.mark.rule("PERF.cover", tableset="sh-budget"), id="PERF.cover"),
]


@pytest.mark.parametrize("rule, severity, changes, cells", MUTATIONS)
def test_mutation_is_caught(sh: Case, rule, severity, changes, cells):
    for change in changes:
        if change[0] == "override":
            sh.override(*change[1:])
        elif change[0] == "add":
            sh.add(*change[1:])
        else:
            sh.set(change[1], None if change[2] is None else Decimal(change[2]))
    _breaks(sh, rule, severity, *cells)


@pytest.mark.rule("{table}.empty", tableset="sh-budget")
def test_fund_table_with_figures_hidden_behind_a_zero_total(sh: Case):
    sh.respec(fund_functions=("2120104",))
    sh.set("tables.T6.2120104.basic", Decimal(100)).override("T6", "total", "total", "0")
    found = of(sh.findings(), "T6.empty", "error")
    assert found and found[0].kind == "empty-table-figures"


@pytest.mark.rule("X11.abroad", tableset="sh-budget")
def test_travel_abroad_in_basic_spending_but_not_in_the_sangong_table(sh: Case):
    sh.respec(economic=tuple(sorted(sh.spec.economic + ("30212",))))
    sh.set("tables.T8.30212.operating", Decimal(10000))
    _breaks(sh, "X11.abroad", "error", ("T9", "budget", "abroad"), ("T8", "30212", "total"))


@pytest.mark.rule("X12", tableset="sh-budget")
def test_car_bought_from_basic_spending_above_the_sangong_purchase(sh: Case):
    sh.respec(economic=tuple(sorted(sh.spec.economic + ("31013",))))
    sh.set("tables.T8.31013.operating", Decimal(800000))
    _breaks(sh, "X12", "error", ("T9", "budget", "vehicle_purchase"), ("T8", "31013", "total"))


@pytest.mark.rule("CODE.format", tableset="sh-budget")
def test_economic_code_of_the_wrong_kind(sh: Case):
    sh.respec(economic=tuple(sorted(sh.spec.economic + ("40101",))))
    _breaks(sh, "CODE.format", "error", ("T8", "40101", "code"))


@pytest.mark.rule("CODE.hierarchy", tableset="sh-budget")
def test_spare_rows_out_of_order():
    spec = generic_spec("测试部门", 2025, spare_rows=6, tableset="sh-budget")
    layout = Layout(spec)
    doc = {"spec": spec.to_dict(), "tables": {"T5": {"r1": {"code": "2101101"}, "r2": {"code": "2080505"}}}}
    budget = Budget(layout, normalise_document(layout, doc))
    rule = next(r for r in load_rules(SET) if r.id == "CODE.hierarchy")
    found = list(rule.check(budget, Context(budget)))
    assert [f.cells for f in found] == [(layout.position("T5", "r2", "code"), layout.position("T5", "r1", "code"))]


@pytest.mark.rule("CODE.name", tableset="sh-budget")
def test_name_that_is_not_the_catalogue_name(sh: Case):
    sh.respec(year=2025, names={**sh.spec.names, "2120104": "城市管理执法"})
    _breaks(sh, "CODE.name", "warning", ("T2", "2120104", "code"))


@pytest.mark.rule("CODE.exists", tableset="sh-budget")
def test_code_missing_from_the_catalogue(sh: Case):
    sh.respec(year=2025, functions=tuple(sorted(sh.spec.functions + ("2129999",))), names={**sh.spec.names,
                                                                                         "2129999": "其他"})
    _breaks(sh, "CODE.exists", "warning", ("T2", "2129999", "code"))


def test_rule_book_entries_are_complete():
    rules = load_rules(SET)
    assert len({r.id for r in rules}) == len(rules) == 44
    for r in rules:
        assert r.zh and r.en and r.source, r.id


def test_messages_render_in_both_languages_with_both_units(sh: Case):
    sh.override("T2", "208", "fiscal", "6397000").set("tables.T9.budget.operating_costs", Decimal("600"))
    sh.set("tables.T9.budget.reception", Decimal("0.50")).override("T9", "budget", "total", "114.23")
    found = sh.findings()
    assert {"T2.sum", "X14", "X11.basic", "T9.formula_rounded"} <= {f.rule for f in found}
    for f in found:
        for lang in ("zh", "en"):
            text = f.message(lang)
            assert "{" not in text and text.startswith(f.position or ""), text
    x14 = of(found, "X14", "error")[0]
    assert "表8!F40（元）" in x14.message("zh") and "万元" in x14.message("zh")
