"""Tolerance: interval arithmetic by default, fixed on request; residues are info, never errors."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal as D
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from rulecase import Case, errors, of
from xlbudget.check import check_budget
from xlbudget.model import budget_from_document
from xlbudget.rules import Tolerance
from xlbudget.rules.base import load_rules
from xlbudget.spec import spec_from_mapping


@pytest.mark.parametrize("text, mode, amount", [
    ("interval", "interval", D("0.005")),
    (None, "interval", D("0.005")),
    ("fixed:0.01", "fixed", D("0.01")),
    ("FIXED: 0.05", "fixed", D("0.05")),
    ("exact", "fixed", D("0")),
])
def test_parse(text, mode, amount):
    t = Tolerance.parse(text)
    assert (t.mode, t.amount) == (mode, amount)


@pytest.mark.parametrize("text", ["fixed", "fixed:", "fixed:-1", "fixed:abc", "loose", "fixed:nan"])
def test_parse_rejects(text):
    with pytest.raises(ValueError):
        Tolerance.parse(text)


def test_bounds():
    interval = Tolerance.parse("interval")
    assert interval.bound(2) == D("0.010")          # parent + 1 child
    assert interval.bound(3) == D("0.015")
    assert interval.bound(21) == D("0.105")         # parent + 20 children
    assert Tolerance.parse("fixed:0.01").bound(21) == D("0.01")
    assert "0.005" in interval.describe(4) and "interval" in interval.describe(4, "en")
    assert str(Tolerance.parse("fixed:0.01")) == "fixed:0.01" and str(interval) == "interval"


# --- a department whose 301 has 20 款 ------------------------------------------------------------------
KUAN = [f"301{n:02d}" for n in (1, 2, 3, 6, 7, 12, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 99)]


def twenty_kuan(values: list[D]) -> Any:
    """Basic spending of one functional line, split over 20 款 of 301 given to the 元 and beyond."""
    total = sum(values, D(0))
    spec = spec_from_mapping({"department": {"name": "测试部门", "year": 2025},
                              "codes": {"functions": ["2014101"], "economic": KUAN}})
    doc = {"spec": spec.to_dict(), "tables": {
        "T2": {"2014101": {"gp": total}}, "T3": {"2014101": {"basic": total}}, "T5": {"2014101": {"basic": total}},
        "T6": {code: {"personnel": v} for code, v in zip(KUAN, values)}},
        "performance": {"department": {"funds": {"fiscal_own": total}}}}
    return budget_from_document(doc, spec)


def test_twenty_kuan_rounded_on_their_own():
    values = [D("1.004")] * 20                      # each publishes 1.00, the 类 publishes 20.08
    budget = twenty_kuan(values)
    assert budget.published("T6", "301", "personnel") == D("20.08")
    interval = check_budget(budget)
    assert errors(interval) == []
    residue = [f for f in of(interval, "T6.sum") if f.position == budget.layout.position("T6", "301", "personnel")]
    assert [(f.severity.value, f.difference, f.tolerance) for f in residue] == [("info", D("0.08"), D("0.105"))]
    fixed = check_budget(budget, tolerance="fixed:0.01")
    bad = {f.position: f for f in errors(fixed) if f.rule == "T6.sum"}
    cell = budget.layout.position("T6", "301", "personnel")
    assert cell in bad and budget.layout.position("T6", "301", "total") in bad
    assert bad[cell].tolerance == D("0.01") and bad[cell].tolerance_mode == "fixed"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=9_999_999), min_size=20, max_size=20))
def test_true_values_that_sum_exactly_never_fail_in_interval_mode(milli_yuan):
    values = [D(v).scaleb(-4) for v in milli_yuan]   # 万元 to 4 decimals (0.01 元)
    budget = twenty_kuan(values)
    sums = [r for r in load_rules() if r.kind in ("sums", "formulas")]
    found = check_budget(budget, rules=sums)
    assert errors(found) == []
    # and each published figure is the true value rounded on its own
    parent = sum(values, D(0)).quantize(D("0.01"), rounding=ROUND_HALF_UP)
    assert budget.published("T6", "301", "personnel") == parent


def test_seed_residues_are_info_in_interval_mode(seed: Case):
    found = seed.findings()
    residues = [f for f in found if f.kind == "rounding-residue"]
    assert residues and all(f.severity.value == "info" for f in residues)
    where = {(f.rule, f.position) for f in residues}
    assert ("T6.sum", seed.pos("T6", "301", "personnel")) in where     # 180.43 against 180.44
    assert ("T6.sum", seed.pos("T6", "302", "operating")) in where     # 6.18 against 6.17
    assert ("T5.sum", seed.pos("T5", "21011", "basic")) in where       # 11.04 against 11.05
    assert not [f for f in errors(found) if f.kind == "rounding-residue" or f.rule.endswith(".sum")]


def test_rule_tolerance_overrides_the_run(clean: Case):
    from xlbudget.rules.base import rules_from_entries

    rule = rules_from_entries([{"id": "Z", "kind": "equal", "severity": "error", "zh": "z", "en": "z",
                                "left": "T6.301.personnel", "right": "T6.30101.personnel", "tolerance": "fixed:200"}])
    budget = clean.budget
    assert [f.severity.value for f in check_budget(budget, rules=rule)] == ["info"]
    strict = rules_from_entries([{"id": "Z", "kind": "equal", "severity": "error", "zh": "z", "en": "z",
                                  "left": "T6.301.personnel", "right": "T6.30101.personnel"}])
    assert [f.severity.value for f in check_budget(budget, rules=strict)] == ["error"]
