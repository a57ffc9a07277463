"""Open data: the consolidated figures as a Fiscal Data Package (CSV + datapackage.json).

``write_datapackage(budget, out_dir)`` writes

* ``expenditure.csv`` and ``revenue.csv``: one line per published figure of the set's open-data tables
  (``[open_data]`` of ``disclosure.toml``; long format): table, table title, row key, classification code
  and type (functional / economic), row label, project and its unit, measure (the column key) and its
  header, the amount and the unit. Each amount is its table's published figure converted exactly into the
  open data's unit (a 2-decimal 元 figure is 6 decimals of 万元, never rounded again). A row's ``level``
  tells totals (0) from 类 (1), 款 (2) and 项 or project rows (3), so that sums can be taken over one level
  without counting a figure twice; ``is_total`` marks total and subtotal rows;
* ``datapackage.json``: the Fiscal Data Package descriptor (profile ``fiscal-data-package``) with the
  resources' schemas and the model: the ``amount`` measure with ``currency: CNY``, ``factor`` (10000 for
  万元, 1 for 元), ``direction`` (expenditure / revenue) and ``phase`` (approved / executed); the
  classification dimensions with ``classificationType`` (functional, economic, administrative) and the
  classification ``version`` (the budget year of 《政府收支分类科目》).

Every file is written atomically (temporary file in the same folder, then rename). Text fields that a
spreadsheet would take for a formula (starting with ``= + - @``) get a leading apostrophe; numbers never do.
"""

from __future__ import annotations

import csv
import io
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from . import __version__
from .model import Budget, q
from .outputs import atomic_write, csv_text, output_folder
from .setdata import disclosure_plan
from .tableset import Precision

__all__ = ["write_datapackage", "datapackage_rows", "FIELDS"]

FIELDS = ["table", "table_title", "row", "level", "is_total", "classification_type", "code", "label", "project",
          "unit_name", "measure", "measure_label", "amount", "unit", "year", "department"]


def datapackage_rows(budget: Budget) -> dict[str, list[dict[str, Any]]]:
    """The lines of ``expenditure.csv`` and ``revenue.csv`` (published figures, zero and blank cells left out)."""
    spec = budget.spec
    od = disclosure_plan(budget.layout.tableset).open_data
    unit = Precision(od.unit)
    out: dict[str, list[dict[str, Any]]] = {"expenditure": [], "revenue": []}
    for tid in od.tables:
        t = budget.layout.tables.get(tid)
        if t is None:
            continue
        for row in t.rows.values():
            block = t.desc.block(row.block)
            kind = "economic" if block.codes == "economic" else ("functional" if row.code else "")
            project = spec.project(row.project) if row.project else None
            for col in block.columns:
                if not col.numeric:
                    continue
                v = budget.published(tid, row.key, col.key)
                if v is None or v == 0:
                    continue
                prec = budget.layout.precision(tid, col.key)
                label = row.label
                out["revenue" if (tid, block.key) in od.revenue else "expenditure"].append({
                    "table": t.desc.number or tid,
                    "table_title": t.title,
                    "row": row.key,
                    "level": row.level if row.code or row.project else 0,
                    "is_total": "true" if (row.total or row.children) else "false",
                    "classification_type": kind,
                    "code": row.code or "",
                    "label": label,
                    "project": project.name if project else "",
                    "unit_name": (project.unit or spec.department) if project else spec.department,
                    "measure": col.key,
                    "measure_label": "/".join(h for h in col.header if h) or col.key,
                    "amount": _amount(prec.convert(v, unit), prec.convert(prec.quantum, unit)),
                    "unit": od.unit,
                    "year": spec.year,
                    "department": spec.department,
                })
    return out


def _amount(v: Decimal, quantum: Decimal) -> str:
    """The exact amount, with at least the decimals of its published figure (and 2)."""
    places = max(2, -quantum.normalize().as_tuple().exponent)
    return format(q(v, places), "f")


_TEXT_FIELDS = frozenset(f for f in FIELDS if f not in ("level", "is_total", "amount", "year"))


def _csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    w.writeheader()
    for r in rows:  # names that look like formulas stay text when the CSV is opened in a spreadsheet
        w.writerow({k: csv_text(v) if k in _TEXT_FIELDS else v for k, v in r.items()})
    return buf.getvalue()


def _schema() -> dict[str, Any]:
    types = {"level": "integer", "amount": "number", "year": "integer", "is_total": "boolean"}
    titles = {
        "table": "公开表", "table_title": "表名", "row": "行键", "level": "层级（0 合计，1 类，2 款，3 项/项目）",
        "is_total": "是否合计行", "classification_type": "分类类型", "code": "科目编码", "label": "科目名称或项目",
        "project": "项目名称", "unit_name": "预算单位", "measure": "列键", "measure_label": "列名",
        "amount": "金额", "unit": "金额单位", "year": "预算年度", "department": "部门",
    }
    fields = []
    for name in FIELDS:
        f: dict[str, Any] = {"name": name, "type": types.get(name, "string"), "title": titles[name]}
        if name == "amount":
            f["decimalChar"] = "."
        if name == "is_total":
            f["trueValues"] = ["true"]
            f["falseValues"] = ["false"]
        fields.append(f)
    return {"fields": fields, "missingValues": [""]}


def _descriptor(budget: Budget, counts: dict[str, int]) -> dict[str, Any]:
    spec = budget.spec
    plan = disclosure_plan(budget.layout.tableset)
    od = plan.open_data
    subject = plan.subject
    version = str(spec.year)
    resources = []
    for name, direction in (("expenditure", "expenditure"), ("revenue", "revenue")):
        resources.append({
            "name": f"{name}",
            "title": f"{spec.department} {spec.year} 年{subject}（{'支出' if direction == 'expenditure' else '收入'}）",
            "path": f"{name}.csv",
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "schema": _schema(),
        })

    def measure(direction: str, resource: str) -> dict[str, Any]:
        return {"source": "amount", "resource": resource, "title": f"金额（{od.unit}）", "currency": "CNY",
                "factor": int(Precision(od.unit).factor), "direction": direction, "phase": od.phase}

    dimensions = {
        "functional-classification": {
            "dimensionType": "classification", "classificationType": "functional",
            "title": "支出功能分类", "version": version,
            "attributes": {"code": {"source": "code"}, "label": {"source": "label", "labelfor": "code"},
                           "level": {"source": "level"}},
            "primaryKey": ["code"],
        },
        "economic-classification": {
            "dimensionType": "classification", "classificationType": "economic",
            "title": "部门预算支出经济分类", "version": version,
            "attributes": {"code": {"source": "code"}, "label": {"source": "label", "labelfor": "code"}},
            "primaryKey": ["code"],
        },
        "administrative-classification": {
            "dimensionType": "classification", "classificationType": "administrative",
            "title": "预算单位", "attributes": {"unit": {"source": "unit_name"}}, "primaryKey": ["unit"],
        },
        "table": {
            "dimensionType": "other", "title": "公开表及列",
            "attributes": {"table": {"source": "table"}, "measure": {"source": "measure"},
                           "row": {"source": "row"}},
            "primaryKey": ["table", "row", "measure"],
        },
        "fiscal-year": {
            "dimensionType": "datetime", "title": "预算年度",
            "attributes": {"year": {"source": "year"}}, "primaryKey": ["year"],
        },
    }
    return {
        "profile": "fiscal-data-package",
        "name": f"budget-{spec.year}-{spec.hash}",
        "title": f"{spec.department} {spec.year} 年{subject}公开数据",
        "description": od.description or (
            f"{subject}公开表（{'、'.join(_numbers(budget, od.tables))}）的公开数长表，金额单位{od.unit}"
            "（各表公开数按精确换算，不再舍入）。金额 × factor 为元。"
            "同一数字在不同公开表中重复出现；按表（table）和层级（level）筛选后再求和。"),
        "countryCode": "CN",
        "fiscalPeriod": {"start": f"{spec.year}-01-01", "end": f"{spec.year}-12-31"},
        "keywords": [subject, f"{subject}公开", spec.department],
        "version": "1.0",
        "created_by": f"xlbudget {__version__}",
        "tableset": {"id": budget.layout.tableset.id, "version": budget.layout.tableset.version},
        "resources": resources,
        "model": {
            "measures": {
                "expenditure": measure("expenditure", "expenditure"),
                "revenue": measure("revenue", "revenue"),
            },
            "dimensions": dimensions,
        },
    }


def _numbers(budget: Budget, tables: tuple[str, ...]) -> list[str]:
    return [budget.layout.tables[t].desc.number or t for t in tables if t in budget.layout.tables]


def write_datapackage(budget: Budget, out_dir: str | os.PathLike) -> Path:
    """Write the Fiscal Data Package of ``budget`` into ``out_dir``; return the descriptor's path."""
    out = output_folder(out_dir, "--datapackage")
    rows = datapackage_rows(budget)
    for name, lines in rows.items():
        atomic_write(out / f"{name}.csv", _csv(lines))
    desc = _descriptor(budget, {k: len(v) for k, v in rows.items()})
    path = out / "datapackage.json"
    atomic_write(path, json.dumps(desc, ensure_ascii=False, indent=2, default=_json_default) + "\n")
    return path


def _json_default(o: Any) -> Any:
    if isinstance(o, Decimal):
        return format(o, "f")
    raise TypeError(type(o).__name__)
