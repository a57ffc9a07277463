"""Classification-code rules: format, hierarchy and order, names, existence (partial vs complete list)."""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import pytest

from rulecase import Case, assert_breaks, of
from xlbudget.catalogue import import_catalogue
from xlbudget.layout import Layout
from xlbudget.model import Budget, normalise_document
from xlbudget.rules import Context
from xlbudget.rules.base import load_rules
from xlbudget.spec import generic_spec


@pytest.fixture
def complete_catalogue(tmp_path: Path) -> Path:
    """A 'complete official list': here the shipped lists, imported as complete."""
    src = tmp_path / "official.csv"
    with open(src, "w", encoding="utf-8", newline="") as out:
        w = csv.writer(out)
        w.writerow(["科目编码", "科目名称"])
        for kind in ("function", "economic"):
            text = resources.files("xlbudget").joinpath(f"data/catalogue/2025/{kind}.csv").read_text(encoding="utf-8")
            for row in list(csv.reader(text.splitlines()))[1:]:
                w.writerow(row[:2])
    dest = tmp_path / "catalogue"
    import_catalogue(src, dest, 2025, complete=True)
    return dest


def test_seed_codes_are_all_known(seed: Case, complete_catalogue: Path):
    assert [f for f in seed.findings() if f.rule.startswith("CODE")] == []
    assert [f for f in seed.findings(catalogue_dir=complete_catalogue) if f.rule.startswith("CODE")] == []


@pytest.mark.rule("CODE.format")
def test_economic_code_of_the_wrong_kind(clean: Case):
    clean.respec(economic=tuple(sorted(clean.spec.economic + ("40101",))))
    assert_breaks(clean, "CODE.format", "error", [clean.pos("T6", "401", "code")])
    f = assert_breaks(clean, "CODE.format", "error", [clean.pos("T6", "40101", "code")])
    assert "40101" in f.message("zh") and f.params["first"] == "3"


@pytest.mark.rule("CODE.format")
def test_spare_row_code_of_the_wrong_length():
    spec = generic_spec("测试部门", 2025, spare_rows=6)
    layout = Layout(spec)
    doc = {"spec": spec.to_dict(), "tables": {"T5": {"r1": {"code": "20141", "basic": "1"}}}}
    budget = Budget(layout, normalise_document(layout, doc))
    rule = next(r for r in load_rules() if r.id == "CODE.format")
    found = list(rule.check(budget, Context(budget)))
    assert [f.cells for f in found] == [(layout.position("T5", "r1", "code"),)]


def _rule(rule_id: str):
    return next(r for r in load_rules() if r.id == rule_id)


@pytest.mark.rule("CODE.hierarchy")
def test_spare_rows_out_of_order_and_twice():
    spec = generic_spec("测试部门", 2025, spare_rows=6)
    layout = Layout(spec)
    doc = {"spec": spec.to_dict(), "tables": {"T5": {"r1": {"code": "2101101"}, "r2": {"code": "2014101"},
                                                     "r3": {"code": "2101101"}, "r4": {"code": "2101101"}}}}
    budget = Budget(layout, normalise_document(layout, doc))
    found = list(_rule("CODE.hierarchy").check(budget, Context(budget)))
    pos = {k: layout.position("T5", k, "code") for k in ("r1", "r2", "r3", "r4")}
    assert [f.cells for f in found] == [(pos["r2"], pos["r1"]), (pos["r4"], pos["r3"])]
    assert "顺序" in found[0].message("zh") and "twice" in found[1].message("en")


@pytest.mark.rule("CODE.hierarchy")
def test_item_printed_under_another_section(clean: Case):
    layout = Layout(clean.spec)        # a layout of our own: the shared one stays intact
    t6 = layout.tables["T6"]
    a, b = t6.rows["30309"], t6.rows["30299"]   # 奖励金 (303) printed in 302's block and vice versa
    a.r, b.r = b.r, a.r
    budget = Budget(layout, normalise_document(layout, clean.doc))
    found = list(_rule("CODE.hierarchy").check(budget, Context(budget)))
    cells = [f.cells[0] for f in found]
    assert layout.position("T6", "30309", "code") in cells
    assert any("303" in f.message("zh") and "上级" in f.message("zh") for f in found)


def test_seed_hierarchy_is_in_order(clean: Case):
    assert of(clean.findings(), "CODE.hierarchy") == []


@pytest.mark.rule("CODE.name")
def test_name_differs_from_the_catalogue(clean: Case, complete_catalogue: Path):
    clean.respec(names={"2014101": "行政运行费"})
    cells = [clean.pos(t, "2014101", "code") for t in ("T2", "T3", "T5", "LY")]
    partial = assert_breaks(clean, "CODE.name", "warning", cells)
    assert "行政运行费" in partial.message("zh") and "行政运行" in partial.message("zh")
    assert "不完整" in partial.message("zh")
    full = assert_breaks(clean, "CODE.name", "error", cells, catalogue_dir=complete_catalogue)
    assert "不完整" not in full.message("zh")


def test_name_with_other_width_and_spaces_matches(clean: Case):
    clean.respec(names={"2101101": " 行政单位 医疗 ", "20805": "行政事业单位养老支出"})
    assert of(clean.findings(), "CODE.name") == []


@pytest.mark.rule("CODE.exists")
def test_unknown_code_with_the_partial_list_is_a_warning(clean: Case):
    clean.respec(functions=tuple(sorted(clean.spec.functions + ("2240199",))), names={"2240199": "其他灾害防治支出"})
    cells = [clean.pos(t, "2240199", "code") for t in ("T2", "T3", "T5", "LY")]
    f = assert_breaks(clean, "CODE.exists", "warning", cells)
    assert f.kind == "unknown-code-partial"
    assert "不完整" in f.message("zh") and "xlbudget catalogue import" in f.message("zh")
    assert "partial" in f.message("en")


@pytest.mark.rule("CODE.exists")
def test_unknown_code_with_a_complete_list_is_an_error(clean: Case, complete_catalogue: Path):
    clean.respec(functions=tuple(sorted(clean.spec.functions + ("2240199",))), names={"2240199": "其他灾害防治支出"})
    cells = [clean.pos(t, "2240199", "code") for t in ("T2", "T3", "T5", "LY")]
    f = assert_breaks(clean, "CODE.exists", "error", cells, catalogue_dir=complete_catalogue)
    assert f.kind == "unknown-code" and "不完整" not in f.message("zh")


def test_missing_catalogue_year_is_reported_once_per_list(clean: Case):
    clean.respec(year=2031)
    found = [f for f in clean.findings() if f.rule == "CODE.exists"]
    assert sorted(f.kind for f in found) == ["catalogue-missing", "catalogue-missing"]
    assert all(f.severity.value == "warning" for f in found)
