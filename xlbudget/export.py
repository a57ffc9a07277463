"""Exports of a read workbook: the canonical JSON model and a long CSV for pandas and BI tools."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from .model import Budget, canonical, to_jsonable
from .outputs import csv_text
from .reader import ReadResult

JSON_FORMAT = "xlbudget/read@1"
GRID_PLANS = ("fixed", "tree", "classes", "projects")   # tables of figures; forms and records are facts


def _grid(t) -> bool:
    return any(b.plan in GRID_PLANS for b in t.desc.blocks)


def _project_totals(b: Budget) -> dict[str, str]:
    """Each project's total, from the table that lists the projects (its first computed amount column)."""
    for t in b.layout.tables.values():
        for blk in t.desc.blocks:
            if blk.plan != "projects":
                continue
            cols = [c for c in blk.columns if c.numeric]
            col = next((c for c in cols if c.formula is not None), cols[0] if cols else None)
            if col is None:
                continue
            zero = format(Decimal(0).quantize(b.layout.precision(t.id, col.key).quantum), "f")
            return {p.key: format(b.published(t.id, p.key, col.key), "f") if b.published(t.id, p.key, col.key)
                    is not None else zero for p in b.spec.projects}
    return {}


def _table_json(b: Budget, tid: str) -> dict[str, Any]:
    t = b.layout.tables[tid]
    rows = []
    for row in t.rows.values():
        if row.record is not None:
            continue
        blk = t.desc.block(row.block)
        figures = {}
        for col in blk.columns:
            if col.numeric or (col.kind == "field" and row.type in ("amount", "int", "signed_int")):
                v = b.value(tid, row.key, col.key)
                if v is not None:
                    figures[col.key] = format(b.published(tid, row.key, col.key), "f") if col.kind == "amount" or \
                        row.type == "amount" else format(v, "f")
                    if col.kind == "amount" or row.type == "amount":
                        figures[col.key + "@exact"] = format(v, "f")
        entry: dict[str, Any] = {"key": row.key, "block": row.block, "label": row.label}
        code = b.code_of(t, row)
        if code:
            entry["code"] = code
        if row.project:
            entry["project"] = row.project
            entry["project_name"] = row.project_name
        entry["figures"] = figures
        rows.append(entry)
    return {"id": tid, "sheet": t.sheet, "title": t.title, "rows": rows}


def to_json(result: ReadResult, lang: str = "zh") -> dict[str, Any]:
    b = result.budget
    out: dict[str, Any] = {
        "format": JSON_FORMAT, "file": str(result.path), "sha256": result.sha256, "meta": to_jsonable(result.meta),
        "findings": [f.to_dict(lang) for f in result.findings],
    }
    if b is None:
        return out
    out["spec"] = b.spec.to_dict()
    out["unit"] = b.layout.tableset.unit
    out["inputs"] = canonical({k: b.doc.get(k) for k in ("tables", "performance", "facts")})
    out["tables"] = [_table_json(b, tid) for tid, t in b.layout.tables.items() if _grid(t)]
    totals = _project_totals(b)
    out["projects"] = [{"key": p.key, "name": p.name, "function": p.function, "sangong": list(p.sangong),
                        "total": totals.get(p.key, "0.00")} for p in b.spec.projects]
    out["performance"] = to_jsonable(b.doc.get("performance") or {})
    out["facts"] = to_jsonable(b.doc.get("facts") or {})
    return out


CSV_FIELDS = ["table", "sheet", "row", "code", "label", "project", "column", "value", "exact", "unit", "position"]


def to_csv(result: ReadResult) -> str:
    b = result.budget
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    if b is None:
        return buf.getvalue()
    for t, row, col, v in b.figures():
        if v is None:
            continue
        is_amount = col.kind == "amount" or (col.kind == "field" and row.type == "amount")
        pub = b.published(t.id, row.key, col.key) if is_amount else v
        unit = b.layout.precision(t.id, col.key).unit if is_amount else ""
        w.writerow([t.id, csv_text(t.sheet), csv_text(row.key), csv_text(b.code_of(t, row) or ""), csv_text(row.label),
                    csv_text(row.project_name), col.key, format(pub, "f"), format(v, "f"), unit,
                    csv_text(b.layout.position(t.id, row.key, col.key))])
    return buf.getvalue()
