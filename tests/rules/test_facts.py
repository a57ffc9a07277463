"""Rules on the other disclosed facts: 机关运行经费 against 公用经费, 政府采购."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from rulecase import Case, assert_breaks, of


@pytest.mark.rule("X14")
def test_running_costs_above_operating_costs(clean: Case):
    clean.set("facts.operating_costs.amount", D("7.00"))
    f = assert_breaks(clean, "X14", "error",
                      [clean.pos("FA", "operating_costs", "value"), clean.pos("T6", "total", "operating")])
    assert f.difference == D("0.82")


def test_running_costs_below_operating_costs_when_units_exist(clean: Case):
    # the seed has 事业运行 (2014150): 事业单位 公用经费 is not 机关运行经费
    clean.set("facts.operating_costs.amount", D("5.00"))
    found = clean.findings()
    assert of(found, "X14") == [] and of(found, "X14.admin") == []


def _administrative(case: Case) -> Case:
    functions = tuple(c for c in case.spec.functions if c not in ("2014150", "2101102"))
    return case.respec(functions=functions)


@pytest.mark.rule("X14.admin")
def test_administrative_department_running_costs_equal_operating_costs(clean: Case):
    _administrative(clean).set("facts.operating_costs.amount", D("5.00"))
    assert_breaks(clean, "X14.admin", "warning",
                  [clean.pos("FA", "operating_costs", "value"), clean.pos("T6", "total", "operating")])


def test_administrative_department_in_balance(clean: Case):
    _administrative(clean)
    assert of(clean.findings(), "X14.admin") == []


@pytest.mark.rule("PROC.total")
def test_procurement_total_overwritten(clean: Case):
    clean.override("FA", "proc_total", "value", "180.00")
    f = assert_breaks(clean, "PROC.total", "error",
                      [clean.pos("FA", k, "value") for k in ("proc_total", "proc_goods", "proc_works", "proc_services")])
    assert f.expected == D("184.74")


@pytest.mark.rule("PROC.sme")
def test_sme_reservation_above_procurement(clean: Case):
    clean.set("facts.procurement.sme_reserved", D("200.00"))
    assert_breaks(clean, "PROC.sme", "error", [clean.pos("FA", "sme_reserved", "value"), clean.pos("FA", "proc_total", "value")])


@pytest.mark.rule("PROC.micro")
def test_micro_reservation_above_sme(clean: Case):
    clean.set("facts.procurement.sme_micro", D("0.50"))
    assert_breaks(clean, "PROC.micro", "error", [clean.pos("FA", "sme_micro", "value"), clean.pos("FA", "sme_reserved", "value")])


@pytest.mark.rule("PROC.cap")
def test_procurement_above_total_spending(clean: Case):
    clean.set("facts.procurement.goods", D("500.00"))
    f = assert_breaks(clean, "PROC.cap", "warning",
                      [clean.pos("FA", "proc_total", "value"), clean.pos("T1", "out_total", "amount")])
    assert of(clean.findings(), "PROC.total") == [] and f.severity.value == "warning"
