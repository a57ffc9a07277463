"""The rule book as a whole: every rule has a mutation test, loads cleanly, renders in both languages;
the clean seed gives nothing but rounding residues; the seed gives its real inconsistencies."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from rulecase import Case, errors, of
from xlbudget.errors import DescriptionError
from xlbudget.findings import messages
from xlbudget.rules import KINDS, load_rules
from xlbudget.rules.base import rules_from_entries
from xlbudget.tableset import installed_tablesets, load_rule_entries, load_tableset

HERE = Path(__file__).parent


def _marked_rules(tableset: str = "xj11") -> set[str]:
    """Rule ids named by @pytest.mark.rule("...") in the test modules of this folder; a mark of another set's
    rule says so: @pytest.mark.rule("X1", tableset="sh-budget") (a string or a module-level constant)."""
    found: set[str] = set()
    for path in HERE.glob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign)
                 and isinstance(n.value, ast.Constant) for t in n.targets if isinstance(t, ast.Name)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "rule"
                    and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "mark"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                marked = {k.arg: k.value.value if isinstance(k.value, ast.Constant) else names.get(k.value.id)
                          for k in node.keywords if isinstance(k.value, (ast.Constant, ast.Name))}
                if marked.get("tableset", "xj11") == tableset:
                    found.add(node.args[0].value)
    return found


@pytest.mark.parametrize("tableset", installed_tablesets())
def test_every_rule_has_a_mutation_test(tableset):
    ids = {e["id"] for e in load_rule_entries(load_tableset(tableset))}
    missing = sorted(ids - _marked_rules(tableset))
    assert missing == [], f"rules of {tableset} without a mutation test: {missing}"
    assert sorted(_marked_rules(tableset) - ids) == []


def test_rule_book_entries_are_complete():
    rules = load_rules()
    assert len({r.id for r in rules}) == len(rules)
    for r in rules:
        assert r.zh and r.en and r.source, r.id
        assert r.kind in KINDS
    kinds = {r.kind for r in rules}
    assert kinds == set(KINDS), "every kind is used by the rule book"
    ids = {r.id for r in rules}
    assert {f"X{n}" for n in range(1, 16)} <= {i.split(".")[0] for i in ids}


def test_every_finding_kind_has_both_languages():
    msgs = messages()
    emitted = {"cross-mismatch", "bound-violation", "sum-mismatch", "formula-mismatch", "rounding-residue",
               "sangong-project-amount", "sangong-project-missing", "sangong-reason", "weights-total",
               "performance-missing", "performance-levels", "empty-table-figures", "empty-table-unnoted",
               "code-format", "code-hierarchy", "code-name-mismatch", "unknown-code", "unknown-code-partial",
               "catalogue-missing", "rule-config", "check-failed"}
    for kind in emitted:
        m = msgs[kind]
        assert m["title"]["zh"] and m["title"]["en"] and m["template"]["zh"] and m["template"]["en"], kind
        zh_fields = set(re.findall(r"{(\w+)}", m["template"]["zh"]))
        en_fields = set(re.findall(r"{(\w+)}", m["template"]["en"]))
        assert {f.replace("_zh", "") for f in zh_fields} == {f.replace("_en", "") for f in en_fields}, kind


def test_messages_render_without_placeholders(seed: Case):
    found = seed.findings()
    seed.override("T6", "301", "personnel", "181.00").set("tables.T2.2014101.gp_transfer", 60)
    found += seed.findings()
    assert found
    for f in found:
        for lang in ("zh", "en"):
            text = f.message(lang)
            assert "{" not in text and text.startswith(f.position or ""), text


def test_clean_seed_has_only_rounding_residues(clean: Case):
    found = clean.findings()
    assert {f.severity.value for f in found} == {"info"}
    assert {f.kind for f in found} == {"rounding-residue"}


def test_seed_reports_its_real_inconsistencies(seed: Case):
    found = seed.findings()
    assert [f.rule for f in errors(found)] == ["S1"]
    assert sorted(f.rule for f in found if f.severity.value == "warning") == ["S2", "S3"]
    assert of(found, "S1")[0].cells == (seed.pos("T10", "vehicle_purchase", "total"), seed.pos("T7", "p4", "e309"))


def test_rule_pointing_at_a_missing_table_is_a_finding(clean: Case):
    rules = rules_from_entries([
        {"id": "Y1", "kind": "equal", "severity": "error", "zh": "y", "en": "y", "left": "T12.total.total",
         "right": "T5.total.basic"},
        {"id": "Y2", "kind": "equal", "severity": "error", "zh": "y", "en": "y", "left": "T6.nosuchrow.total",
         "right": "T5.total.basic"},
        {"id": "Y3", "kind": "equal", "severity": "error", "zh": "y", "en": "y", "left": "T6.total.nosuchcol",
         "right": "T5.total.basic"},
        {"id": "Y4", "kind": "equal", "severity": "error", "zh": "y", "en": "y", "left": "T6.total.total",
         "right": "T5.total.basic"},
    ])
    from xlbudget.check import check_budget

    found = check_budget(clean.budget, rules=rules)
    assert [(f.rule, f.kind, f.severity.value) for f in found] == [
        ("Y1", "rule-config", "warning"), ("Y2", "rule-config", "warning"), ("Y3", "rule-config", "warning")]
    assert "T12" in found[0].message("zh")


def test_a_code_row_the_department_does_not_use_is_blank(clean: Case):
    rules = rules_from_entries([{"id": "Y", "kind": "at_least", "severity": "error", "zh": "y", "en": "y",
                                 "left": "T10.vehicle_operation.total", "right": "T6.30231.total"}])
    from xlbudget.check import check_budget

    assert check_budget(clean.budget, rules=rules) == []


@pytest.mark.parametrize("entry, words", [
    ({"id": "A", "kind": "nope", "severity": "error", "zh": "a", "en": "a"}, "unknown kind"),
    ({"id": "A", "kind": "equal", "severity": "fatal", "zh": "a", "en": "a", "left": "T1.a.b", "right": "T1.a.b"},
     "severity"),
    ({"id": "A", "kind": "equal", "severity": "error", "zh": "a", "en": "a", "left": "T1.a.b"}, "right"),
    ({"id": "A", "kind": "equal", "severity": "error", "zh": "a", "en": "a", "left": "T1.a.b +", "right": "T1.a.b"},
     "left"),
    ({"id": "A", "kind": "equal", "severity": "error", "zh": "a", "en": "a", "left": "T1.a.b", "right": "T1.a.b",
      "foreach": "everything"}, "foreach"),
    ({"id": "A", "kind": "equal", "severity": "error", "zh": "a", "en": "a", "left": "T1.a.b", "right": "T1.a.b",
      "tolerance": "loose"}, "容差"),
    ({"id": "A", "kind": "codes", "severity": "error", "zh": "a", "en": "a", "check": "spelling"}, "check"),
])
def test_broken_rule_book_entries_are_refused(entry, words):
    with pytest.raises(DescriptionError, match=words):
        rules_from_entries([entry])


def test_duplicate_ids_are_refused():
    entry = {"id": "A", "kind": "equal", "severity": "error", "zh": "a", "en": "a", "left": "T1.a.b", "right": "T1.a.b"}
    with pytest.raises(DescriptionError, match="duplicate"):
        rules_from_entries([entry, entry])


def test_disabled_rule_is_skipped(clean: Case):
    from xlbudget.check import check_budget
    from xlbudget.rules import Context, run_rules

    rules = rules_from_entries([{"id": "Z", "kind": "equal", "severity": "error", "zh": "z", "en": "z",
                                 "left": "T6.total.total", "right": "T5.total.project", "enabled": False}])
    assert not rules[0].enabled
    budget = clean.budget
    assert check_budget(budget, rules=[r for r in rules if r.enabled]) == []
    assert run_rules(budget, Context(budget), rules)  # the rule itself still works when asked
