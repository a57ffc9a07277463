"""绩效 rules (X15): one table per project, budget totals, allocations, weights, indicator levels."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from rulecase import Case, assert_breaks, of


def test_seed_performance_tables_are_consistent(seed: Case):
    assert [f for f in seed.findings() if f.rule.startswith("X15")] == []


@pytest.mark.rule("X15.count")
def test_project_without_performance_table(clean: Case):
    clean.set("performance.projects.p1.indicators", [])
    f = assert_breaks(clean, "X15.count", "error",
                      [clean.pos("PP_p1", "indicators_0", "level1"), clean.pos("T7", "p1", "total")])
    assert f.actual == D("62.40") and "克州电子政务外网专项运维费项目" in f.message("zh")
    # an empty table is not also reported for its weights or levels
    found = clean.findings()
    assert [f.rule for f in found if f.table == "PP_p1" and f.rule != "X15.count" and f.severity.value != "info"] == []


@pytest.mark.rule("X15.budget")
def test_performance_budget_differs_from_table_7(clean: Case):
    clean.override("PP_p1", "budget_total", "value", "60.00")
    f = assert_breaks(clean, "X15.budget", "error",
                      [clean.pos("PP_p1", "budget_total", "value"), clean.pos("T7", "p1", "total"),
                       clean.pos("PP_p1", "other_funds", "value")])
    assert f.difference == D("-2.40")


def test_other_funds_add_to_the_budget(clean: Case):
    clean.set("performance.projects.p1.other_funds", D("5.00"))
    assert of(clean.findings(), "X15.budget") == []


@pytest.mark.rule("X15.allocation")
def test_allocation_differs_from_budget(clean: Case):
    clean.set("facts.projects.p1.allocation.0.amount", D("8.00"))
    assert_breaks(clean, "X15.allocation", "warning",
                  [clean.pos("PP_p1", "allocation_total", "amount"), clean.pos("PP_p1", "budget_total", "value")])


def test_no_allocation_is_not_checked(clean: Case):
    clean.set("facts.projects.p1.allocation", [])
    assert of(clean.findings(), "X15.allocation") == []


@pytest.mark.rule("X15.weights")
def test_project_weights_not_90(clean: Case):
    clean.set("performance.projects.p1.indicators.0.weight", 8)
    f = assert_breaks(clean, "X15.weights", "error", [clean.pos("PP_p1", "weights", "weight")])
    assert f.actual == 91 and f.expected == 90 and f.difference == 1


@pytest.mark.rule("X15.dept")
def test_department_performance_funds_differ_from_table_1(clean: Case):
    clean.set("performance.department.funds.fiscal_own", D("400.00"))
    assert_breaks(clean, "X15.dept", "error", [clean.pos("PD", "funds_total", "value"), clean.pos("T1", "in_total", "amount")])


@pytest.mark.rule("X15.dept_weights")
def test_department_weights_not_90(clean: Case):
    clean.set("performance.department.indicators.0.weight", 10)
    f = assert_breaks(clean, "X15.dept_weights", "error", [clean.pos("PD", "weights", "weight")])
    assert f.actual == 80


@pytest.mark.rule("X15.levels")
def test_project_without_satisfaction_indicator(clean: Case):
    indicators = clean.doc["performance"]["projects"]["p1"]["indicators"]
    kept = [i for i in indicators if "满意度" not in i["level1"]]
    kept[0]["weight"] += 90 - sum(i["weight"] for i in kept)
    clean.set("performance.projects.p1.indicators", kept)
    f = assert_breaks(clean, "X15.levels", "warning", [clean.pos("PP_p1", "indicators_0", "level1")])
    assert "满意度" in f.message("zh") and "satisfaction" in f.message("en")
    assert of(clean.findings(), "X15.weights") == []
