"""绩效 rule kinds: one filled project table per project, weights adding up to the regional convention,
and the indicator levels of each project table."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterator, Mapping

from ..errors import DescriptionError
from ..findings import Finding
from ..layout import LRow, LTable, a1, quote_sheet
from ..model import Budget, get_path
from ..expr import Ref
from ..tableset import TableSet
from .base import Context, Rule, RuleConfigError, Side, fill, register, table_names
from .book import check_block, check_reference
from .sheet import Operand, side_formula
from .tolerance import EXACT


def records(ctx: Context, t: LTable, block: str) -> list[LRow]:
    """The record rows of ``block`` that hold anything (computed once per check)."""
    return [row for row, _ in filled_records(ctx, t, block)]


def filled_records(ctx: Context, t: LTable, block: str) -> list[tuple[LRow, dict]]:
    """The record rows of ``block`` that hold anything, each with its record (computed once per check)."""
    key = ("records", t.id, block)
    if key not in ctx.memo:
        ctx.memo[key] = _records(ctx, t, block)
    return ctx.memo[key]


def record_rows(t: LTable, block: str) -> list[LRow]:
    return [r for r in t.rows.values() if r.block == block and r.record is not None and r.record >= 0]


def _records(ctx: Context, t: LTable, block: str) -> list[tuple[LRow, dict]]:
    rows = record_rows(t, block)
    if not rows:
        return []
    items = get_path(ctx.budget.doc, rows[0].path or ()) or []  # the block's list of records, read once
    if not isinstance(items, list):
        return []
    cols = [c.key for c in t.desc.block(block).columns]
    out = []
    for row in rows:
        item = items[row.record] if row.record < len(items) else None
        if isinstance(item, dict):
            for c in cols:
                if item.get(c) not in (None, ""):
                    out.append((row, item))
                    break
    return out


def records_range(ctx: Context, t: LTable, block: str) -> tuple[str | None, int]:
    """The sheet range of the record rows of ``block`` and how many of its cells hold anything (once per check)."""
    key = ("records_range", t.id, block)
    if key not in ctx.memo:
        ctx.memo[key] = _records_range(ctx, t, block)
    return ctx.memo[key]


def _records_range(ctx: Context, t: LTable, block: str) -> tuple[str | None, int]:
    rows = record_rows(t, block)
    if not rows:
        return None, 0
    cols = t.desc.block(block).columns
    first, last = t.pos(rows[0].key, cols[0].key), t.pos(rows[-1].key, cols[-1].key)
    span = t.colpos[(block, cols[-1].key)][1] - 1
    rng = f"{quote_sheet(t.sheet)}!{a1(*first)}:{a1(last[0], last[1] + span)}"
    items = get_path(ctx.budget.doc, rows[0].path or ()) or []  # the block's list of records, read once
    keys = [c.key for c in cols]
    count = sum(1 for item in (items if isinstance(items, list) else [])[:len(rows)] if isinstance(item, dict)
                for k in keys if item.get(k) not in (None, "") and not isinstance(item.get(k), (list, dict)))
    return rng, count


@register
class PerformanceTables(Rule):
    """Every project with money in the projects table has a filled 项目支出绩效目标表."""

    kind = "performance_tables"
    required = ("projects", "column", "table", "records")
    renders = True

    def check_one(self, budget: Budget, ctx: Context, subs: Mapping[str, str]) -> Iterator[Finding]:
        ptable = fill(str(self.entry["projects"]), subs)
        if ptable not in ctx.layout.tables:
            raise RuleConfigError(f"没有表 {ptable}")
        block, column = str(self.entry["records"]), str(self.entry["column"])
        absent = budget.absent_tables
        for p in ctx.layout.spec.projects:
            tid = fill(str(self.entry["table"]), {**subs, "project": p.key})
            if tid in absent and not ctx.rendering:  # a 绩效 table the workbook does not carry: its finding
                continue                              # would be of that table (as Rule.check skips one)
            amount = ctx.pub(ptable, p.key, column)
            t = ctx.layout.tables.get(tid)
            if ctx.rendering:
                self._render(ctx, {**subs, "project": p.key}, ptable, p.key, column, t, block)
                continue
            if not amount:
                continue
            if t is not None and records(ctx, t, block):
                continue
            first = next((r for r in t.rows.values() if r.block == block), None) if t is not None else None
            cells = [ctx.position(ptable, p.key, column)]
            if first is not None:
                cells.insert(0, ctx.position(tid, first.key, t.desc.block(block).columns[0].key))
            yield self.make("performance-missing", self.severity, {**subs, "project": p.key}, cells=cells, table=tid,
                            actual=amount, project_name=p.name, sheet=t.sheet if t is not None else tid)

    def validate(self, ts: TableSet) -> None:
        super().validate(ts)
        check_reference(ts, Ref(str(self.entry["projects"]), "{project}", str(self.entry["column"])))
        check_block(ts, str(self.entry["table"]), str(self.entry["records"]), f"规则 {self.id}")

    def _render(self, ctx: Context, subs: Mapping[str, str], ptable: str, project: str, column: str,
                t: LTable | None, block: str) -> None:
        """While the project has money: its 绩效 table holds a record (the count of filled record cells)."""
        amount = ctx.single(ptable, project, column)
        unit = amount.precision or ctx.layout.tableset.precision
        rng, count = records_range(ctx, t, block) if t is not None else (None, 0)
        left = Side()
        left.add(1, Decimal(count), None, "", t.id if t is not None else ptable, None,
                 Operand(1, f"COUNTA({rng})" if rng else "0", None, None, rounded=False))
        ctx.when = (f"ROUND({side_formula(amount, unit)},{unit.display_decimals})<>0", bool(amount.total))
        self.record(ctx, subs, "nonzero", left, amount,
                    title=f"{fill(self.zh, subs)}：{ctx.layout.spec.project(project).name}")
        ctx.when = None


class _OfTable(Rule):
    """A kind whose every finding is of its ``table`` (filled in for the instance)."""

    def over_absent(self, ctx: Context, subs: Mapping[str, str], absent: frozenset[str]) -> bool:
        return super().over_absent(ctx, subs, absent) or fill(str(self.entry["table"]), subs) in absent


@register
class Weights(_OfTable):
    """The weights of a 绩效 table add up to ``target`` (checked exactly: weights are whole numbers)."""

    kind = "weights"
    required = ("table", "row", "column", "records", "target")
    renders = True

    def check_one(self, budget: Budget, ctx: Context, subs: Mapping[str, str]) -> Iterator[Finding]:
        tid = fill(str(self.entry["table"]), subs)
        t = ctx.layout.tables.get(tid)
        if t is None:
            raise RuleConfigError(f"没有表 {tid}")
        rkey, ckey = str(self.entry["row"]), str(self.entry["column"])
        if rkey not in t.rows:
            raise RuleConfigError(f"表 {tid} 没有行 {rkey}")
        target = Decimal(str(self.entry["target"]))
        if ctx.rendering:
            self._render(ctx, subs, t, rkey, ckey, target)
            return
        if not records(ctx, t, str(self.entry["records"])):
            return  # an empty table is the concern of the performance_tables rule
        actual = budget.value(tid, rkey, ckey) or Decimal(0)
        if actual == target:
            return
        yield self.make("weights-total", self.severity, subs, cells=[ctx.position(tid, rkey, ckey)], table=tid,
                        expected=target, actual=actual, difference=actual - target, tol=EXACT,
                        **table_names(ctx, t))

    def validate(self, ts: TableSet) -> None:
        super().validate(ts)
        table = str(self.entry["table"])
        check_reference(ts, Ref(table, str(self.entry["row"]), str(self.entry["column"])))
        check_block(ts, table, str(self.entry["records"]), f"规则 {self.id}")

    def _render(self, ctx: Context, subs: Mapping[str, str], t: LTable, rkey: str, ckey: str, target: Decimal) -> None:
        """The weight total as entered against the target, while the table has any record."""
        block = str(self.entry["records"])
        precision = ctx.precision(t.id, ckey)
        left, right = Side(), Side()
        left.add(1, ctx.budget.value(t.id, rkey, ckey), ctx.position(t.id, rkey, ckey), ctx.label(t.id, rkey), t.id,
                 precision, ctx.operand(1, t.id, rkey, ckey, precision, rounded=False))
        right.add(1, target, None, str(target), t.id, None, Operand.constant(target))
        rng, count = records_range(ctx, t, block)
        ctx.when = (f"COUNTA({rng})>0", count > 0) if rng else ("FALSE", False)
        self.record(ctx, subs, "eq", left, right, tol=EXACT)
        ctx.when = None


@register
class IndicatorLevels(_OfTable):
    """A filled project 绩效 table has indicators of each level listed in ``levels`` ([zh, en] pairs)."""

    kind = "indicator_levels"
    required = ("table", "records", "column", "levels")
    renders = True

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
        if ctx.rendering:
            self._render(ctx, subs, t, block, ckey, rows)
            return
        if not rows:
            return
        found = [str(item.get(ckey) or "") for _, item in filled_records(ctx, t, block)]  # as Budget.raw reads them
        missing = [(zh, en) for zh, en in self.levels if not any(zh in f for f in found)]
        if not missing:
            return
        project = ctx.layout.spec.project(t.project).name if t.project else tid
        yield self.make("performance-levels", self.severity, subs, cells=[ctx.position(tid, rows[0].key, ckey)],
                        table=tid, project_name=project, missing_zh="、".join(zh for zh, _ in missing),
                        missing_en=", ".join(en for _, en in missing))

    def validate(self, ts: TableSet) -> None:
        super().validate(ts)
        check_block(ts, str(self.entry["table"]), str(self.entry["records"]), f"规则 {self.id}",
                    str(self.entry["column"]))

    def _render(self, ctx: Context, subs: Mapping[str, str], t: LTable, block: str, ckey: str,
                filled: list[LRow]) -> None:
        """The number of levels no indicator names, against 0, while the table has any record."""
        all_rows = record_rows(t, block)
        found = [str(ctx.budget.raw(t, r, t.column(r, ckey)) or "") for r in filled]
        missing = sum(1 for zh, _ in self.levels if not any(zh in f for f in found))
        left, right = Side(), Side()
        if all_rows:
            (r0, c), (r1, _) = t.pos(all_rows[0].key, ckey), t.pos(all_rows[-1].key, ckey)
            rng = f"{quote_sheet(t.sheet)}!{a1(r0, c)}:{a1(r1, c)}"
            expr = "+".join(f'(COUNTIF({rng},"*{zh}*")=0)' for zh, _ in self.levels)
        else:
            expr = str(len(self.levels))
        left.add(1, Decimal(missing), None, "", t.id, None, Operand(1, f"({expr})", None, None, rounded=False))
        right.add(1, Decimal(0), None, "0", t.id, None, Operand.constant(Decimal(0)))
        rng_all, count = records_range(ctx, t, block)
        ctx.when = (f"COUNTA({rng_all})>0", count > 0) if rng_all else ("FALSE", False)
        self.record(ctx, subs, "eq", left, right, tol=EXACT,
                    title=f"{fill(self.zh, subs)}（左：缺少的指标层级数）")
        ctx.when = None
