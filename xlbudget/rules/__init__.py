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

import os
from typing import Iterator

from ..findings import Finding, Severity
from .base import KINDS, Context, Rule, RuleConfigError, load_rules, rules_for
from .kinds import codes, compare, generic, performance, sangong  # noqa: F401  (register the kinds)
from .tolerance import Tolerance

__all__ = ["KINDS", "Context", "Rule", "RuleConfigError", "Tolerance", "load_rules", "rules_for", "run_rules"]


def run_rules(budget, ctx: Context, rules=None, *, parallel: bool = False):
    """Every finding of ``rules`` (default: the enabled rules of the budget's table set), in book order.
    A table set without any rule is a finding (RULES.none): a check that checks nothing never passes.

    With ``parallel``, for a large budget, where :mod:`~xlbudget.io.isolate` would fork a child (a check in a
    process of its own, not a pool worker) and a core is free (``_worth_sharing``), a forked child shares the
    rules with this process (:func:`_shared`): the findings are the same, in the same order, sooner. Should
    either fail (a rule raising, the child dying), every rule runs again here, one after the other, as
    without ``parallel``."""
    out = []
    if rules is None:
        rules = rules_for(budget.layout)
        if not load_rules(budget.layout.tableset):
            out.append(no_rules(budget.layout.tableset))
    rules = list(rules)
    if parallel and len(rules) > 1 and not ctx.rendering and _worth_sharing(budget):
        shared = _shared(budget, ctx, rules)
        if shared is not None:
            out.extend(shared)
            return out
    for rule in rules:
        out.extend(rule.check(budget, ctx))
    return out


# A budget of fewer rows is checked in a few tens of milliseconds: a child would cost about what it saves.
PARALLEL_ROWS = 2000
_LOADAVG = "/proc/loadavg"


def _worth_sharing(budget) -> bool:
    """True where a forked child would share the rules on a core of its own: a check in a process of its
    own (not a pool worker), a budget of at least ``PARALLEL_ROWS`` rows, and a core free now."""
    from ..io import isolate

    if not isolate.forks():
        return False
    if sum(len(t.rows) for t in budget.layout.tables.values()) < PARALLEL_ROWS:
        return False
    return _a_core_free()


def _a_core_free() -> bool:
    """True when fewer processes are running than this process may use cores (``/proc/loadavg``'s runnable
    count, this one included; elsewhere the load of the last minute): on a machine busy with a batch, or
    with a single core, a child would only wait for this process's core."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    if cores < 2:
        return False
    try:
        with open(_LOADAVG, encoding="ascii") as fh:
            running = int(fh.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        try:
            return os.getloadavg()[0] <= cores - 1
        except (AttributeError, OSError):
            return False
    return running < cores


def _shared(budget, ctx: Context, rules: list) -> "list[Finding] | None":
    """The findings of ``rules`` in book order, made by this process and a forked child, each taking the next
    rule not yet taken (numbers read from one pipe: whoever is free takes the next, so a costly rule does
    not leave the other waiting); None when either failed (the caller then runs them all here)."""
    from ..io import isolate

    n = len(rules)
    r, w = os.pipe()
    try:
        numbers = b"".join(i.to_bytes(4, "little") for i in range(n))
        os.set_blocking(w, False)
        try:   # all at once, before either reads: a rule book too long for the pipe runs here alone
            if os.write(w, numbers) != len(numbers):
                return None
        except BlockingIOError:
            return None
        os.close(w)
        w = -1

        def take() -> Iterator[int]:
            while True:
                got = os.read(r, 4)      # 4 bytes at once: a pipe's reads are whole for its writer's sizes
                if len(got) < 4:
                    return
                yield int.from_bytes(got, "little")

        def theirs() -> dict[int, list[Finding]]:
            return {i: list(rules[i].check(budget, ctx)) for i in take()}

        pending = isolate.start(theirs)
        try:
            mine = theirs()
        except Exception:
            del pending   # (the child is stopped)
            return None
        try:
            got = pending.result()
        except isolate.NativeFailure:
            return None
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)
    got.update(mine)
    if len(got) != n:
        return None
    out: list[Finding] = []
    for i in range(n):
        out.extend(got[i])
    return out


def no_rules(ts) -> Finding:
    return Finding(kind="rules-none", rule="RULES.none", severity=Severity.ERROR, params={"tableset": ts.id})
