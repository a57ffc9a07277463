"""The garbage collector's pace while workbooks are read, checked and written (xlbudget.collector)."""

from __future__ import annotations

import gc
import weakref
from decimal import Decimal

import pytest

from xlbudget import build as build_module
from xlbudget.collector import YOUNG_THRESHOLD, few_collections

from test_build_consolidate import DEPT, UNITS, unit_budget


@pytest.fixture(autouse=True)
def _default_pace():
    """Each test starts at Python's default pace, nothing frozen, and leaves it so."""
    before = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def _pace() -> tuple[int, int]:
    return gc.get_threshold()[0], gc.get_freeze_count()


class _Node:
    def __init__(self):
        self.me = self  # a reference cycle: only the collector frees it


def test_the_block_collects_rarely_and_keeps_what_was_alive_out_of_its_passes():
    alive = [_Node() for _ in range(10)]
    with few_collections():
        threshold, frozen = _pace()
        assert threshold == YOUNG_THRESHOLD
        assert frozen >= len(alive)
        assert gc.get_threshold()[1:] == (10, 10)
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0
    assert gc.is_tracked(alive[0])


def test_a_higher_pace_is_kept_and_restored():
    gc.set_threshold(80_000, 5, 5)
    with few_collections():
        assert gc.get_threshold() == (80_000, 5, 5)
    assert gc.get_threshold() == (80_000, 5, 5)


def test_an_inner_block_leaves_more_out_and_the_outer_one_restores():
    with few_collections():
        outer = _pace()
        more = [_Node() for _ in range(100)]
        with few_collections():
            inner = _pace()
            assert inner[0] == YOUNG_THRESHOLD
            assert inner[1] >= outer[1] + len(more)  # what became alive in the outer block: left out too
        after = _pace()  # the outer block still open: the pace holds, nothing is let in again
        assert after[0] == YOUNG_THRESHOLD and after[1] >= outer[1] + len(more)
    assert _pace() == (700, 0)


def test_blocks_overlapping_in_threads_restore_the_pace_once_all_end():
    """A block opened first and closed first (a desk's threads): the pace returns to Python's only when
    the last one closes, not to what the second found when it opened."""
    import threading

    entered, leave = threading.Event(), threading.Event()

    def other():
        with few_collections():
            entered.set()
            leave.wait(10)

    t = threading.Thread(target=other)
    with few_collections():
        t.start()
        assert entered.wait(10)
    assert _pace()[0] == YOUNG_THRESHOLD  # the other thread's block is still open
    leave.set()
    t.join(10)
    assert _pace() == (700, 0)


def test_cyclic_garbage_is_still_collected_inside_the_block():
    with few_collections():
        gone = [weakref.ref(_Node()) for _ in range(1000)]
        junk = [[] for _ in range(3 * YOUNG_THRESHOLD)]  # allocations enough for collections of the young
        del junk
        assert not any(r() is not None for r in gone)


def test_an_error_inside_restores_the_pace():
    with pytest.raises(ZeroDivisionError):
        with few_collections():
            1 / 0
    assert _pace() == (700, 0)


def _spy(monkeypatch, module, name: str, seen: list):
    real = getattr(module, name)

    def spied(*args, **kwargs):
        seen.append((name, _pace()))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, spied)


def test_a_build_reads_consolidates_and_writes_at_the_slow_pace(tmp_path, monkeypatch):
    """Writing a large disclosure spent about 40 % of its time in the collector at the default pace."""
    import xlbudget.reader as reader
    import xlbudget.writer.disclosure as disclosure
    from xlbudget.writer.template import write_workbook

    paths = []
    for i, (n, k) in enumerate(UNITS[:2], start=1):
        u = unit_budget(n, k)
        write_workbook(u.layout, tmp_path / f"unit{i}.xlsx", u)
        paths.append(tmp_path / f"unit{i}.xlsx")
    seen: list = []
    _spy(monkeypatch, reader, "read_workbook", seen)
    _spy(monkeypatch, disclosure, "write_disclosure", seen)
    _spy(monkeypatch, build_module, "consolidate", seen)
    result = build_module.build(paths, tmp_path / "out.xlsx", name=DEPT)
    assert result.out is not None and result.out.exists()
    assert {name for name, _ in seen} == {"read_workbook", "write_disclosure", "consolidate"}
    for name, (threshold, frozen) in seen:
        assert threshold == YOUNG_THRESHOLD and frozen > 0, name
    assert _pace() == (700, 0)

    seen.clear()
    build_module.build_from_budgets([unit_budget(n, Decimal(1)) for n, _ in UNITS[:2]], tmp_path / "again.xlsx",
                                    name=DEPT)
    assert [name for name, _ in seen] == ["consolidate", "write_disclosure"]
    assert all(pace[0] == YOUNG_THRESHOLD for _, pace in seen)
    assert _pace() == (700, 0)


def test_a_build_worker_reads_and_checks_at_the_slow_pace(tmp_path, monkeypatch):
    """What a worker of ``build --jobs`` runs: reading and checking one unit, and checking the result."""
    import xlbudget.check as check
    import xlbudget.reader as reader
    from xlbudget.writer.template import write_workbook

    u = unit_budget(*UNITS[0])
    write_workbook(u.layout, tmp_path / "unit.xlsx", u)
    seen: list = []
    _spy(monkeypatch, reader, "read_workbook", seen)
    _spy(monkeypatch, check, "check_budget", seen)
    findings, state, found, _ = build_module._read_one(tmp_path / "unit.xlsx", True)
    assert state is not None and found is not None
    assert build_module._check_one(build_module._state(u)) is not None
    assert [name for name, _ in seen] == ["read_workbook", "check_budget", "check_budget"]
    assert all(pace[0] == YOUNG_THRESHOLD and pace[1] > 0 for _, pace in seen)
    assert _pace() == (700, 0)


def test_a_command_is_imported_at_the_slow_pace(monkeypatch):
    """``xlbudget check FILE`` imports the checker's modules when the command is named: tens of thousands of
    objects that live as long as the process, collected for nothing at the default pace."""
    import sys

    import click

    import xlbudget.collector as collector
    from xlbudget.cli import _LazyGroup

    seen = []
    real_import = __import__

    def spied_import(name, *args, **kwargs):
        if name == "xlbudget.commands.catalogue":
            seen.append(_pace())
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "xlbudget.commands.catalogue", raising=False)
    monkeypatch.setattr("builtins.__import__", spied_import)
    group = _LazyGroup(name="xlbudget")
    command = group.get_command(click.Context(group), "catalogue")
    assert command is not None and command.name == "catalogue"
    assert seen and all(threshold == collector.YOUNG_THRESHOLD and frozen > 0 for threshold, frozen in seen)
    assert _pace() == (700, 0)
