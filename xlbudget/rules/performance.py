"""绩效 rule kinds: one filled project table per project, weights adding up to the regional convention,
and the indicator levels of each project table."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterator, Mapping

from ..errors import DescriptionError
from ..findings import Finding
from ..layout import LRow, LTable
from ..model import Budget, get_path
from .base import Context, Rule, RuleConfigError, fill, register, table_names
from .tolerance import Tolerance

EXACT = Tolerance("fixed", Decimal(0))


def records(ctx: Context, t: LTable, block: str) -> list[LRow]:
    """The record rows of ``block`` that hold anything (computed once per check)."""
    key = ("records", t.id, block)
    if key not in ctx.memo:
        ctx.memo[key] = _records(ctx, t, block)
    return ctx.memo[key]


def _records(ctx: Context, t: LTable, block: str) -> list[LRow]:
    rows = [r for r in t.rows.values() if r.block == block and r.record is not None and r.record >= 0]
    if not rows:
        return []
    items = get_path(ctx.budget.doc, rows[0].path or ()) or []  # the block's list of records, read once
    cols = [c.key for c in t.desc.block(block).columns]
    out = []
    for row in rows:
        item = items[row.record] if isinstance(items, list) and row.record < len(items) else None
        if isinstance(item, dict) and any(item.get(c) not in (None, "") for c in cols):
            out.append(row)
    return out


@register
class PerformanceTables(Rule):
    """Every project with money in the projects table has a filled 项目支出绩效目标表."""

    kind = "performance_tables"
    required = ("projects", "table", "records")

    def check_one(self, budget: Budget, ctx: Context, subs: Mapping[str, str]) -> Iterator[Finding]:
        ptable = fill(str(self.entry["projects"]), subs)
        if ptable not in ctx.layout.tables:
            raise RuleConfigError(f"没有表 {ptable}")
        block = str(self.entry["records"])
        for p in ctx.layout.spec.projects:
            amount = ctx.pub(ptable, p.key, "total")
            if not amount:
                continue
            tid = fill(str(self.entry["table"]), {**subs, "project": p.key})
            t = ctx.layout.tables.get(tid)
            if t is not None and records(ctx, t, block):
                continue
            first = next((r for r in t.rows.values() if r.block == block), None) if t is not None else None
            cells = [ctx.position(ptable, p.key, "total")]
            if first is not None:
                cells.insert(0, ctx.position(tid, first.key, t.desc.block(block).columns[0].key))
            yield self.make("performance-missing", self.severity, {**subs, "project": p.key}, cells=cells, table=tid,
                            actual=amount, project_name=p.name, sheet=t.sheet if t is not None else tid)


@register
class Weights(Rule):
    """The weights of a 绩效 table add up to ``target`` (checked exactly: weights are whole numbers)."""

    kind = "weights"
    required = ("table", "row", "column", "records", "target")

    def check_one(self, budget: Budget, ctx: Context, subs: Mapping[str, str]) -> Iterator[Finding]:
        tid = fill(str(self.entry["table"]), subs)
        t = ctx.layout.tables.get(tid)
        if t is None:
            raise RuleConfigError(f"没有表 {tid}")
        rkey, ckey = str(self.entry["row"]), str(self.entry["column"])
        if rkey not in t.rows:
            raise RuleConfigError(f"表 {tid} 没有行 {rkey}")
        if not records(ctx, t, str(self.entry["records"])):
            return  # an empty table is the concern of the performance_tables rule
        actual = budget.value(tid, rkey, ckey) or Decimal(0)
        target = Decimal(str(self.entry["target"]))
        if actual == target:
            return
        yield self.make("weights-total", self.severity, subs, cells=[ctx.position(tid, rkey, ckey)], table=tid,
                        expected=target, actual=actual, difference=actual - target, tol=EXACT,
                        **table_names(ctx, t))


@register
class IndicatorLevels(Rule):
    """A filled project 绩效 table has indicators of each level listed in ``levels`` ([zh, en] pairs)."""

    kind = "indicator_levels"
    required = ("table", "records", "column", "levels")

    def __init__(self, entry: Mapping[str, Any], where: str = "rules.toml"):
        super().__init__(entry, where)
        levels = self.entry["levels"]
        if not isinstance(levels, list) or not all(isinstance(v, list) and len(v) == 2 for v in levels):
            raise DescriptionError(f"{where}: rule {self.id}: levels is a list of [zh, en] pairs")
        self.levels = [(str(zh), str(en)) for zh, en in levels]

    def check_one(self, budget: Budget, ctx: Context, subs: Mapping[str, str]) -> Iterator[Finding]:
        tid = fill(str(self.entry["table"]), subs)
        t = ctx.layout.tables.get(tid)
        if t is None:
            raise RuleConfigError(f"没有表 {tid}")
        block, ckey = str(self.entry["records"]), str(self.entry["column"])
        rows = records(ctx, t, block)
        if not rows:
            return
        found = [str(budget.raw(t, r, t.column(r, ckey)) or "") for r in rows]
        missing = [(zh, en) for zh, en in self.levels if not any(zh in f for f in found)]
        if not missing:
            return
        project = ctx.layout.spec.project(t.project).name if t.project else tid
        yield self.make("performance-levels", self.severity, subs, cells=[ctx.position(tid, rows[0].key, ckey)],
                        table=tid, project_name=project, missing_zh="、".join(zh for zh, _ in missing),
                        missing_en=", ".join(en for _, en in missing))
