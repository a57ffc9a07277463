"""A finding crosses from a pool worker to the main process pickled: every field comes back as it was."""

from __future__ import annotations

import pickle
from decimal import Decimal

import msgspec.structs
import pytest

from xlbudget.findings import Finding, Severity
from xlbudget.spec import Project, Spec


def _full() -> Finding:
    """A finding whose every field differs from its default."""
    values = {"kind": "sum-mismatch", "rule": "T2.sum", "severity": Severity.WARNING,
              "cells": ("表2!C7", "表2!C8"), "expected": Decimal("12.30"), "actual": Decimal("12.31"),
              "difference": Decimal("0.01"), "tolerance": Decimal("0.005"), "tolerance_mode": "interval",
              "table": "T2", "params": {"lhs": "表2!C7", "n": 3, "text": "一、"}}
    assert set(values) == set(Finding.__struct_fields__), "a new field: add it here"
    return Finding(**values)


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_pickle_round_trip_keeps_every_field(protocol):
    f = _full()
    back = pickle.loads(pickle.dumps(f, protocol))
    assert back == f
    assert back.severity is Severity.WARNING
    assert msgspec.structs.asdict(back) == msgspec.structs.asdict(f)
    assert back.message("zh") == f.message("zh") and back.message("en") == f.message("en")
    with pytest.raises(AttributeError):
        back.rule = "X1"  # type: ignore[misc]


@pytest.mark.parametrize("severity", list(Severity))
def test_pickle_keeps_each_severity(severity):
    f = Finding("file-unreadable", "READ.x", severity)
    assert pickle.loads(pickle.dumps(f)).severity is severity


def test_moved_is_replace_of_cells_and_params():
    f = _full()
    moved = f.moved(("一般公共预算支出表!D9",), {"lhs": "一般公共预算支出表!D9"})
    assert moved == msgspec.structs.replace(f, cells=("一般公共预算支出表!D9",), params={"lhs": "一般公共预算支出表!D9"})
    assert f.cells == ("表2!C7", "表2!C8") and f.params["lhs"] == "表2!C7"  # the original unchanged


def test_spec_project_by_key():
    a, b, a2 = Project("p1", "甲", "2010101"), Project("p2", "乙", "2010102"), Project("p1", "丙", "2010103")
    spec = Spec(department="某局", year=2025, projects=(a, b, a2))
    assert spec.project("p2") is b
    assert spec.project("p1") is a  # the first of a key, as a search in order finds
    with pytest.raises(KeyError):
        spec.project("p3")
    assert spec == Spec(department="某局", year=2025, projects=(a, b, a2))  # the lookup is no field
    assert "_projects" not in spec.to_dict()
