"""Library API of the template job: blank templates, filled workbooks and next year's template."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from msgspec.structs import replace

from .expr import Expr
from .layout import layout_for, with_classes
from .model import FORMAT, Budget, budget_from_document
from .setdata import next_year_plan
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


def _carried(last: Budget, source: Expr, unit, code: str) -> Any:
    """Last year's figure of a carry entry in the target's unit (None when every term is blank)."""
    total, seen = Decimal(0), False
    for term in source.terms:
        ref = term.ref
        row = ref.row.format(code=code)
        v = last.value(ref.table, row, ref.col)
        if v is None:
            continue
        seen = True
        total += term.sign * last.layout.precision(ref.table, ref.col).convert(v, unit)
    return total if seen else None


def next_year_document(last: Budget, year: int | None = None,
                       department: str | None = None) -> tuple[Spec, dict[str, Any]]:
    """Next year's spec (same rows) and a document carrying last year's figures as the set's
    ``next_year.toml`` says (the 上年预算数 table of the seed's set).

    ``year`` defaults to the year after ``last``'s and must be later than it; ``department`` renames the
    department (default: the same name)."""
    new_year = last.spec.year + 1 if year is None else year
    if new_year <= last.spec.year:
        raise ValueError(f"新模板的年度 {new_year} 应晚于上年工作簿的年度 {last.spec.year}")
    spec = replace(last.spec, year=new_year,
                               department=department.strip() if department else last.spec.department)
    layout = layout_for(spec)
    plan = next_year_plan(layout.tableset)
    tables: dict[str, dict[str, dict[str, Any]]] = {}
    for c in plan.carry:
        to = c.to.terms[0].ref
        for code in (spec.codes(c.for_each) if c.for_each else ("",)):
            row = to.row.format(code=code)
            if not layout.has(to.table, row):
                continue
            v = _carried(last, c.source, layout.precision(to.table, to.col), code)
            if v is not None:
                tables.setdefault(to.table, {}).setdefault(row, {})[to.col] = v
    facts = {k: v for k, v in (last.doc.get("facts") or {}).items() if k in plan.facts}
    doc = {"format": FORMAT, "spec": spec.to_dict(), "tables": tables, "facts": facts}
    return spec, doc


def make_next_year(last_year_file: str | Path, out: str | Path, *, year: int | None = None,
                   department: str | None = None) -> Path:
    """Next year's template from last year's filled workbook (see :func:`next_year_document`)."""
    from .reader import read_workbook

    res = read_workbook(last_year_file)
    if res.budget is None:
        raise ValueError("; ".join(f.message() for f in res.findings))
    spec, doc = next_year_document(res.budget, year, department)
    return fill(doc, out, spec)
