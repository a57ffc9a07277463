"""Helpers of the rule tests: a spec and document to mutate, then check."""

from __future__ import annotations

import copy
import msgspec.structs
from decimal import Decimal
from typing import Any

from xlbudget.check import check_budget
from xlbudget.findings import Finding
from xlbudget.layout import layout_for
from xlbudget.model import Budget, budget_from_document, load_example, set_path
from xlbudget.spec import Spec

D = Decimal


def clean_document() -> tuple[Spec, dict[str, Any]]:
    """The seed with its real inconsistency repaired: 表10 shows the car of project p4 and the
    reason no longer says that no car is bought."""
    spec, doc = load_example()
    doc["tables"]["T10"]["vehicle_purchase"] = {"gp": D("18.00")}
    doc["facts"]["narrative"]["sangong_reasons"]["vehicle_purchase"] = "2025 年按编制购置一般公务用车 1 辆"
    return spec, doc


class Case:
    """A spec and a document to mutate, then a budget to check."""

    def __init__(self, spec: Spec, doc: dict[str, Any]):
        self.spec = spec
        self.doc = copy.deepcopy(doc)
        self.overrides: dict[tuple[str, str, str], Decimal | None] = {}

    # --- mutations -----------------------------------------------------------------------------------
    def set(self, path: str, value: Any) -> "Case":
        """Set a document value: ``tables.T6.30101.personnel`` (row keys stay text) or
        ``performance.projects.p1.indicators.0.weight`` (elsewhere, numbers index lists)."""
        parts = path.split(".")
        keys: list[Any] = parts if parts[0] == "tables" else [int(p) if p.isdigit() else p for p in parts]
        set_path(self.doc, keys, value)
        return self

    def add(self, table: str, row: str, col: str, delta: str) -> "Case":
        cur = self.doc["tables"].get(table, {}).get(row, {}).get(col)
        return self.set(f"tables.{table}.{row}.{col}", D(cur or 0) + D(delta))

    def override(self, table: str, row: str, col: str, value: str | None) -> "Case":
        """A formula cell overwritten by a constant (what the reader records)."""
        self.overrides[(table, row, col)] = None if value is None else D(value)
        return self

    def respec(self, **changes: Any) -> "Case":
        self.spec = msgspec.structs.replace(self.spec, **changes)
        self.doc["spec"] = self.spec.to_dict()
        return self

    # --- results -------------------------------------------------------------------------------------
    @property
    def budget(self) -> Budget:
        b = budget_from_document(self.doc, self.spec)
        b.overrides.update(self.overrides)
        return b

    def findings(self, **kw: Any):
        return check_budget(self.budget, **kw)

    def pos(self, table: str, row: str, col: str) -> str:
        return layout_for(self.spec).position(table, row, col)


def of(findings: list[Finding], rule: str, severity: str | None = None) -> list[Finding]:
    """The findings of one rule (optionally of one severity)."""
    return [f for f in findings if f.rule == rule and (severity is None or f.severity.value == severity)]


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity.value == "error"]


def assert_breaks(case: Case, rule: str, severity: str, cells: list[str], **kw: Any) -> Finding:
    """Check ``case``: rule ``rule`` reports ``severity`` on a finding whose cells are exactly ``cells``."""
    found = of(case.findings(**kw), rule, severity)
    assert found, f"{rule} reported nothing at {severity}"
    match = [f for f in found if list(f.cells) == cells]
    assert match, [f.cells for f in found]
    return match[0]
