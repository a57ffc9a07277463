"""A check in a process of its own shares its rules with a forked child (``run_rules(parallel=True)``).

The findings must be those of the rules run one after the other, in the same order; a rule that raises or a
child that dies makes every rule run again in this process, so that the outcome is the sequential one.
"""

from __future__ import annotations

import os
import time

import pytest

from rulecase import Case
from xlbudget import rules as rules_mod
from xlbudget.check import check_budget
from xlbudget.findings import Finding, Severity
from xlbudget.io import isolate
from xlbudget.rules import Context, run_rules

pytestmark = pytest.mark.skipif(not isolate.available(), reason="needs fork")


@pytest.fixture(autouse=True)
def sharing(monkeypatch):
    """Every budget shared, whatever its size and the machine's load (each test says otherwise)."""
    monkeypatch.setattr(rules_mod, "PARALLEL_ROWS", 0)
    monkeypatch.setattr(rules_mod, "_a_core_free", lambda: True)


class _Slow:
    """A rule of the test's own: waits, then reports which process made its finding."""

    def __init__(self, i: int, delay: float = 0.02, fail_in_child: str | None = None, parent: int = 0):
        self.i, self.delay, self.fail_in_child, self.parent = i, delay, fail_in_child, parent

    def check(self, budget, ctx):
        time.sleep(self.delay)
        if self.fail_in_child and os.getpid() != self.parent:
            if self.fail_in_child == "die":
                os._exit(3)
            raise ValueError(f"rule {self.i} failed")
        yield Finding(kind="test", rule=f"T.{self.i}", severity=Severity.INFO, params={"pid": os.getpid()})


def _run(case: Case, rules, parallel: bool):
    budget = case.budget
    return run_rules(budget, Context(budget), rules, parallel=parallel)


def test_rule_book_findings_same_in_parallel(seed: Case, clean: Case) -> None:
    for case in (seed, clean.add("T3", "2014101", "basic", "1")):
        budget = case.budget
        one = check_budget(budget)
        both = check_budget(case.budget, parallel=True)
        assert [f.to_dict() for f in both] == [f.to_dict() for f in one]
        assert len(one) > 0


def test_rules_shared_by_two_processes_in_book_order(seed: Case) -> None:
    found = _run(seed, [_Slow(i) for i in range(12)], parallel=True)
    assert [f.rule for f in found] == [f"T.{i}" for i in range(12)]
    pids = {f.params["pid"] for f in found}
    assert os.getpid() in pids and len(pids) == 2   # each process made some of them


def test_no_child_for_a_small_budget_or_on_a_busy_machine(seed: Case, monkeypatch) -> None:
    monkeypatch.setattr(rules_mod, "PARALLEL_ROWS", 2000)   # the seed department has fewer rows
    assert sum(len(t.rows) for t in seed.budget.layout.tables.values()) < 2000
    found = _run(seed, [_Slow(i, 0.005) for i in range(6)], parallel=True)
    assert {f.params["pid"] for f in found} == {os.getpid()}
    monkeypatch.setattr(rules_mod, "PARALLEL_ROWS", 0)
    monkeypatch.setattr(rules_mod, "_a_core_free", lambda: False)
    found = _run(seed, [_Slow(i, 0.005) for i in range(6)], parallel=True)
    assert {f.params["pid"] for f in found} == {os.getpid()}


@pytest.mark.parametrize("loadavg, cores, free", [
    ("0.52 0.41 0.30 1/80 4242\n", 2, True),     # this process alone running: the other core is free
    ("1.98 1.71 1.20 2/81 4242\n", 2, False),    # another process running beside it
    ("3.10 2.00 1.00 3/95 4242\n", 4, True),
    ("0.00 0.00 0.00 1/12 4242\n", 1, False),    # one core: nothing to share it with
])
def test_a_core_is_free_when_fewer_processes_run_than_there_are_cores(tmp_path, monkeypatch, loadavg, cores,
                                                                     free) -> None:
    monkeypatch.undo()   # the real check, not the fixture's
    f = tmp_path / "loadavg"
    f.write_text(loadavg, encoding="ascii")
    monkeypatch.setattr(rules_mod, "_LOADAVG", str(f))
    monkeypatch.setattr(rules_mod.os, "sched_getaffinity", lambda pid: set(range(cores)), raising=False)
    assert rules_mod._a_core_free() is free


def test_no_child_without_parallel_or_in_a_worker(seed: Case, monkeypatch) -> None:
    found = _run(seed, [_Slow(i, 0.005) for i in range(6)], parallel=False)
    assert {f.params["pid"] for f in found} == {os.getpid()}
    monkeypatch.setattr(isolate, "_in_worker", True)   # a pool worker is its own isolation: no fork
    found = _run(seed, [_Slow(i, 0.005) for i in range(6)], parallel=True)
    assert {f.params["pid"] for f in found} == {os.getpid()}


@pytest.mark.parametrize("how", ["raise", "die"])
def test_a_failing_child_means_every_rule_runs_here(seed: Case, how: str) -> None:
    me = os.getpid()
    rules = [_Slow(i, 0.02, fail_in_child=how, parent=me) for i in range(8)]
    found = _run(seed, rules, parallel=True)
    assert [f.rule for f in found] == [f"T.{i}" for i in range(8)]
    assert {f.params["pid"] for f in found} == {me}


def test_a_rule_raising_here_raises_as_without_parallel(seed: Case) -> None:
    class Broken(_Slow):
        def check(self, budget, ctx):
            raise RuntimeError("broken rule")
            yield  # pragma: no cover

    rules = [_Slow(0), Broken(1), _Slow(2), Broken(3)]
    for parallel in (False, True):
        with pytest.raises(RuntimeError, match="broken rule"):
            _run(seed, rules, parallel=parallel)


def test_a_rule_book_too_long_for_the_pipe_runs_here(seed: Case, monkeypatch) -> None:
    monkeypatch.setattr(rules_mod.os, "write", lambda fd, data: len(data) - 1)   # a short write
    found = _run(seed, [_Slow(i, 0.001) for i in range(4)], parallel=True)
    assert [f.rule for f in found] == [f"T.{i}" for i in range(4)]
    assert {f.params["pid"] for f in found} == {os.getpid()}
