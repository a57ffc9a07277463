"""三公 rules: projects that fund 三公 items, planned vehicle purchases, change reasons."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from rulecase import Case, assert_breaks, of


def test_clean_budget_has_no_sangong_finding(clean: Case):
    assert [f for f in clean.findings() if f.rule.startswith("S")] == []


@pytest.mark.rule("S1")
def test_seed_car_purchase_missing_from_table_10(seed: Case):
    """The seed's real inconsistency: project p4 buys a car (表7 18.00) while 表10 shows 0.00."""
    f = assert_breaks(seed, "S1", "error", [seed.pos("T10", "vehicle_purchase", "total"), seed.pos("T7", "p4", "e309")])
    assert f.kind == "sangong-project-amount"
    assert f.actual == D("0.00") and f.expected == D("18.00") and f.difference == D("-18.00")
    assert "克州数字化发展局公车购置项目" in f.message("zh") and "公务用车购置费" in f.message("zh")


@pytest.mark.rule("S1")
def test_project_funded_item_absent_from_table_10(clean: Case):
    clean.set("tables.T10.vehicle_operation.gp", None)      # p2 and p4 pay for running the car
    f = assert_breaks(clean, "S1", "error", [clean.pos("T10", "vehicle_operation", "total"),
                                            clean.pos("T7", "p2", "total"), clean.pos("T7", "p4", "total")])
    assert f.kind == "sangong-project-missing"


def test_purchase_covering_the_project_is_fine(clean: Case):
    clean.set("tables.T10.vehicle_purchase.gp", D("19.00"))  # with the purchase tax
    assert of(clean.findings(), "S1") == []


def test_untagged_project_is_not_a_sangong_item(clean: Case):
    # p1 has capital spending (53.90) but funds no 三公 item
    clean.set("tables.T10.vehicle_purchase.gp", D("18.00"))
    assert of(clean.findings(), "S1") == []


@pytest.mark.rule("S2")
def test_planned_vehicle_purchase_above_table_10(clean: Case):
    clean.set("facts.assets.planned_vehicle_purchase", D("25.00"))
    f = assert_breaks(clean, "S2", "warning",
                      [clean.pos("T10", "vehicle_purchase", "total"), clean.pos("FA", "planned_vehicle_purchase", "value")])
    assert f.expected == D("25.00") and f.actual == D("18.00")


def test_seed_planned_purchase_is_flagged(seed: Case):
    assert [f.severity.value for f in of(seed.findings(), "S2")] == ["warning"]


@pytest.mark.rule("S3")
def test_reason_says_no_car_while_a_project_buys_one(clean: Case):
    clean.set("facts.narrative.sangong_reasons.vehicle_purchase", "2024 年与 2025 年均未安排公务用车购置")
    f = assert_breaks(clean, "S3", "warning",
                      [clean.pos("FA", "reason_vehicle_purchase", "value"), clean.pos("T10", "vehicle_purchase", "total"),
                       clean.pos("T7", "p4", "total")])
    assert "均未安排" in f.message("zh") and f.actual == D("18.00")


def test_reason_no_abroad_travel_is_consistent(clean: Case):
    reason = clean.doc["facts"]["narrative"]["sangong_reasons"]["abroad"]
    assert "未安排" in reason
    assert of(clean.findings(), "S3") == []
