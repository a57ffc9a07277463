"""Library API of the template job: blank templates, filled workbooks and next year's template."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from .layout import layout_for, with_classes
from .model import FORMAT, Budget, budget_from_document
from .spec import Spec, generic_spec, load_spec
from .writer.template import write_workbook


def make_template(spec: Spec | str | Path | None, out: str | Path) -> Path:
    """Write a blank locked template for ``spec`` (a Spec, a spec file, or None for the generic template)."""
    if spec is None:
        spec = generic_spec()
    elif not isinstance(spec, Spec):
        spec = load_spec(spec)
    return write_workbook(layout_for(with_classes(spec)), out)


def fill(doc: dict[str, Any], out: str | Path, spec: Spec | None = None) -> Path:
    """Write the template of the document's spec filled with the document's inputs (formulas stay formulas,
    their cached values computed)."""
    budget = budget_from_document(doc, spec)
    return write_workbook(budget.layout, out, budget)


def fill_template(template: str | Path, doc: dict[str, Any], out: str | Path) -> Path:
    """Fill an existing template file: its embedded spec decides the layout."""
    from .reader import read_workbook

    res = read_workbook(template)
    if res.budget is None:
        raise ValueError("; ".join(f.message() for f in res.findings))
    return fill({**doc, "spec": res.budget.spec.to_dict()}, out, res.budget.spec)


def _v(b: Budget, t: str, r: str, c: str) -> Any:
    return b.value(t, r, c)


def next_year_document(last: Budget) -> tuple[Spec, dict[str, Any]]:
    """Next year's spec (same rows) and a document carrying last year's figures as 上年预算数."""
    spec = dataclasses.replace(last.spec, year=last.spec.year + 1)
    layout = layout_for(spec)
    ly: dict[str, dict[str, Any]] = {}

    def put(row: str, v: Any) -> None:
        if v is not None and layout.has("LY", row):
            ly.setdefault(row, {})["value"] = v

    for row, (t, r, c) in {
        "gp": ("T2", "total", "gp"), "fund": ("T2", "total", "fund"), "soe": ("T2", "total", "soe"),
        "special": ("T2", "total", "special"), "unit": ("T2", "total", "unit"),
        "basic": ("T3", "total", "basic"), "project": ("T3", "total", "project"),
        "gp_basic": ("T5", "total", "basic"), "gp_project": ("T5", "total", "project"),
        "personnel": ("T6", "total", "personnel"), "operating": ("T6", "total", "operating"),
        "abroad": ("T10", "abroad", "total"), "reception": ("T10", "reception", "total"),
        "vehicle_purchase": ("T10", "vehicle_purchase", "total"),
        "vehicle_operation": ("T10", "vehicle_operation", "total"),
        "operating_costs": ("FA", "operating_costs", "value"),
    }.items():
        put(row, _v(last, t, r, c))
    carry = (_v(last, "T2", "total", "carry_fiscal") or 0) + (_v(last, "T2", "total", "carry_nonfiscal") or 0)
    put("carry", carry)
    for code in spec.functions:
        v = _v(last, "T5", code, "total")
        if v is not None:
            ly.setdefault(code, {})["last_year"] = v
    facts = {k: v for k, v in (last.doc.get("facts") or {}).items() if k in ("overview", "glossary")}
    doc = {"format": FORMAT, "spec": spec.to_dict(), "tables": {"LY": ly}, "facts": facts}
    return spec, doc


def make_next_year(last_year_file: str | Path, out: str | Path) -> Path:
    from .reader import read_workbook

    res = read_workbook(last_year_file)
    if res.budget is None:
        raise ValueError("; ".join(f.message() for f in res.findings))
    spec, doc = next_year_document(res.budget)
    return fill(doc, out, spec)
