"""The findings of the rule book and the rows of the 校验 sheet stay the same, byte for byte.

``test_findings_stable.py`` covers the submissions of one set through the whole ``check``. This file covers
the rule evaluation of every shipped set: the example department of each set, copies of it with changed
inputs (rounding residues, failures, tables emptied) and overwritten formula cells, and a generic template
whose spare rows hold codes (out of order, twice, of a wrong length) and figures. For each: every finding
(both languages, every parameter) under the interval, fixed and exact tolerances, and every row of the
校验 sheet (formulas, cached values, verdicts).

The golden files were written by the rule code before its speed work; regenerate them only for an intended
change of findings: ``XLBUDGET_REGEN_GOLDEN=1 python -m pytest tests/test_rules_stable.py``.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec.structs
import pytest

from golden import assert_golden
from xlbudget.check import check_budget
from xlbudget.layout import Layout, layout_for
from xlbudget.model import Budget, load_example, normalise_document
from xlbudget.rules.sheet import sheet_rows
from xlbudget.spec import generic_spec

DATA = Path(__file__).parent / "data" / "rules-stable"
SETS = ("xj11", "sh-budget", "sh-final")


def _inputs(doc: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The grid inputs holding a figure, in a fixed order."""
    return sorted((tid, rkey, ckey) for tid, rows in doc["tables"].items() if isinstance(rows, dict)
                  for rkey, cols in rows.items() if isinstance(cols, dict)
                  for ckey, v in cols.items() if isinstance(v, Decimal))


def _shifted(doc: dict[str, Any], every: int, deltas: tuple[str, ...]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    for i, (tid, rkey, ckey) in enumerate(_inputs(doc)):
        if i % every == 0:
            out["tables"][tid][rkey][ckey] += Decimal(deltas[(i // every) % len(deltas)])
    return out


def _emptied(doc: dict[str, Any], tables: int) -> dict[str, Any]:
    """The first ``tables`` tables with figures left blank (their empty-table notes then apply)."""
    out = copy.deepcopy(doc)
    for tid in sorted(out["tables"])[:tables]:
        out["tables"][tid] = {}
    return out


def _tiny(layout: Layout, doc: dict[str, Any]) -> dict[str, Any]:
    """Figures that round away in the first tables with an empty-table note, and 绩效 tables emptied or
    stripped of a level."""
    out = copy.deepcopy(doc)
    noted = [t for t in layout.tables.values() if t.note_row is not None]
    for n, t in enumerate(noted[:3]):
        cells = [(row.key, col.key) for row in t.rows.values() if row.record is None
                 for col in t.desc.block(row.block).columns
                 if col.numeric and layout.cell_role(t, row, col) == "input"]
        for rkey, ckey in cells[: None if n == 0 else 1]:
            out["tables"].setdefault(t.id, {}).setdefault(rkey, {})[ckey] = Decimal("0.001")
    projects = (out.get("performance") or {}).get("projects") or {}
    for n, key in enumerate(sorted(projects)):
        if n == 0:
            projects[key]["indicators"] = []
        elif n == 1:
            level = projects[key]["indicators"][0]["level1"]
            projects[key]["indicators"] = [i for i in projects[key]["indicators"] if i["level1"] != level]
    return out


def _formula_cells(layout: Layout) -> list[tuple[str, str, str]]:
    return [(t.id, row.key, col.key) for t, row, col in layout.cells()
            if col.numeric and layout.cell_role(t, row, col) in ("formula", "sum")]


def _generic(ts: str) -> Budget:
    """A generic template of the set: its spare rows hold the codes and figures of the example's rows
    (in reverse order for every other table), one code twice and one of a wrong length."""
    spec, doc = load_example(ts)
    example = layout_for(spec)
    gspec = generic_spec("测试部门", spec.year, spare_rows=8, tableset=ts)
    layout = Layout(gspec)
    tables: dict[str, Any] = {}
    for n, t in enumerate(layout.tables.values()):
        spares = [r for r in t.rows.values() if r.spare]
        if not spares or t.id not in example.tables:
            continue
        src = [r for r in example.tables[t.id].rows.values() if r.code and not r.children]
        if n % 2:
            src.reverse()
        rows: dict[str, Any] = {}
        for spare, r in zip(spares, src):
            rows[spare.key] = {"code": r.code, **{k: v for k, v in doc["tables"].get(t.id, {}).get(r.key, {}).items()
                                                  if k in spare.inputs}}
        free = spares[len(rows):]
        if free and src:
            rows[free[0].key] = {"code": src[0].code}
        if len(free) > 1:
            rows[free[1].key] = {"code": "2019", **{k: Decimal("1.25") for k in sorted(spares[0].inputs)[:1]}}
        tables[t.id] = rows
    gdoc = {"spec": gspec.to_dict(), "tables": tables}
    return Budget(layout, normalise_document(layout, gdoc))


def _budgets(ts: str) -> dict[str, Budget]:
    spec, doc = load_example(ts)
    layout = layout_for(spec)
    out = {
        "example": Budget(layout, copy.deepcopy(doc)),
        "residues": Budget(layout, _shifted(doc, 3, ("0.004", "-0.003", "0.001"))),
        "failures": Budget(layout, _shifted(doc, 4, ("1.5", "-3", "0.02", "250"))),
        "emptied": Budget(layout, _emptied(doc, 3)),
        "tiny": Budget(layout, _tiny(layout, doc)),
    }
    overwritten = Budget(layout, copy.deepcopy(doc))
    for i, key in enumerate(_formula_cells(layout)[::5]):
        v = overwritten.value(*key)
        overwritten.overrides[key] = None if i % 4 == 3 else (v or Decimal(0)) + Decimal(("0.01", "2", "-0.004")[i % 3])
    overwritten.invalidate()
    out["overwritten"] = overwritten
    out["generic"] = _generic(ts)
    return out


def _plain(v: Any) -> Any:
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if hasattr(v, "value") and not isinstance(v, (str, int)):  # an enum
        return v.value
    return v


def report(ts: str) -> str:
    out: dict[str, Any] = {}
    for name, budget in _budgets(ts).items():
        for tol in ("interval", "fixed:0.01", "exact"):
            budget.invalidate()
            found = check_budget(budget, tolerance=tol)
            out[f"{name} {tol}"] = [{"zh": f.to_dict("zh"), "en_message": f.message("en")} for f in found]
        budget.invalidate()
        out[f"{name} sheet"] = [_plain(msgspec.structs.asdict(r)) for r in sheet_rows(budget)]
    return json.dumps(out, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


@pytest.mark.parametrize("ts", SETS)
def test_rule_findings_and_sheet_identical_to_golden(ts):
    got = report(ts)
    assert_golden(got, DATA / f"{ts}.json.xz", f"the {ts} report")
