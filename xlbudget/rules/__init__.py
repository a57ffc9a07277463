"""Reconciliation rules of ``xlbudget check``.

The rule book of a table set (``templates/<set>/rules.toml``) is data: ids, kinds, severities, titles,
expressions. Each kind is one class with ``check(budget, ctx) -> Iterator[Finding]``:

* :mod:`.compare`      equal, equal_if, at_least, at_most (cross-table and other relations)
* :mod:`.generic`      sums, formulas (from the table descriptions), empty_note, projects_by_function
* :mod:`.sangong`      sangong_projects, sangong_reasons
* :mod:`.performance`  performance_tables, weights, indicator_levels
* :mod:`.codes`        codes (format, hierarchy, name, exists)

:class:`Tolerance` decides what a rounding residue is (interval arithmetic by default).
"""

from ..findings import Finding, Severity
from .base import KINDS, Context, Rule, RuleConfigError, load_rules, rules_for
from .kinds import codes, compare, generic, performance, sangong  # noqa: F401  (register the kinds)
from .tolerance import Tolerance

__all__ = ["KINDS", "Context", "Rule", "RuleConfigError", "Tolerance", "load_rules", "rules_for", "run_rules"]


def run_rules(budget, ctx: Context, rules=None):
    """Every finding of ``rules`` (default: the enabled rules of the budget's table set), in book order.
    A table set without any rule is a finding (RULES.none): a check that checks nothing never passes."""
    out = []
    if rules is None:
        rules = rules_for(budget.layout)
        if not load_rules(budget.layout.tableset):
            out.append(no_rules(budget.layout.tableset))
    for rule in rules:
        out.extend(rule.check(budget, ctx))
    return out


def no_rules(ts) -> Finding:
    return Finding(kind="rules-none", rule="RULES.none", severity=Severity.ERROR, params={"tableset": ts.id})
