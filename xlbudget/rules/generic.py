"""Rule kinds derived from the table descriptions: in-table sums and formulas, empty-table notes,
and the per-function sums of 表7 projects."""

from __future__ import annotations

from decimal import Decimal
from typing import Iterator, Mapping

from ..findings import Finding
from .. import classification, formulas
from ..expr import Expr, Ref
from ..layout import Layout, LRow, LTable, Shared, note_columns
from ..tableset import Column, Precision, TableSet
from ..model import Budget
from .base import (ZERO, Context, Rule, RuleConfigError, Side, cell_name, fill, layout_plan, note_position, register,
                   table_names, table_plan)
from .book import check_reference
from .sheet import Operand, SheetRow, nonzero_count


def _table(ctx: Context, rule: Rule, subs: Mapping[str, str]) -> LTable:
    tid = subs.get("table") or fill(str(rule.entry.get("table", "")), subs)
    t = ctx.layout.tables.get(tid)
    if t is None:
        raise RuleConfigError(f"没有表 {tid}")
    return t


class _SumPlan:
    """The total rows of a table that add up their child rows, by their keys: ``rows``, each with its children
    and the columns where it adds them up, in row order; ``columns``: for each such column, the rows whose
    figures its sums read and its sums as (place, row, children), a place being (index in ``rows``, index
    among the row's columns). Once per layout, or once for every layout of a static table."""

    __slots__ = ("rows", "columns")

    def __init__(self, layout: Layout, t: LTable):
        self.rows: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
        by_column: dict[str, tuple[list[str], list[tuple[tuple[int, int], str, tuple[str, ...]]]]] = {}
        alike = layout_plan(layout, "sum_columns", dict)   # the columns of the rows alike (same roles, formulas)
        for row in t.rows.values():
            kids = row.children
            if not kids:
                continue
            roles = row.roles or layout.roles(t, row)
            key = (id(roles), tuple(row.formulas)) if row.formulas else id(roles)
            cols = alike.get(key)
            if cols is None:
                cols = alike[key] = _summed(row, roles)
            if not cols:
                continue
            i = len(self.rows)
            self.rows.append((row.key, kids, cols))
            for j, ckey in enumerate(cols):
                group = by_column.get(ckey)
                if group is None:
                    group = by_column[ckey] = ([], [])
                group[0].append(row.key)
                group[0].extend(kids)
                group[1].append(((i, j), row.key, kids))
        self.columns = [(ckey, rkeys, sums) for ckey, (rkeys, sums) in by_column.items()]

    def failing(self, budget: Budget, tid: str) -> list[tuple[str, str]]:
        """(row, column) of the sums whose published figures do not add up exactly (and are not all blank),
        in row order then column order."""
        out = []
        for ckey, rkeys, sums in self.columns:
            figures = budget.published_of(tid, ckey, rkeys)
            get = figures.__getitem__
            for place, rkey, kids in sums:
                here = figures[rkey]
                values = list(map(get, kids))
                if here is None and values.count(None) == len(values):
                    continue
                # (zeros left out of the sum: they add nothing)
                if (ZERO if here is None else ZERO + here) - sum(filter(None, values), ZERO) != ZERO:
                    out.append((place, rkey, ckey))
        out.sort(key=lambda f: f[0])
        return [(rkey, ckey) for _, rkey, ckey in out]


def _summed(row: LRow, roles) -> tuple[str, ...]:
    """The numeric columns where a row with children adds them up (``roles``: its columns and their roles)."""
    cols = []
    for col, role in roles:
        if not col.numeric:
            continue
        # a 合计 column is a formula in every row, but its parent rows still add up their children
        column_total = role == "formula" and col.formula is not None and col.key not in row.formulas
        # a total taken from another table (表1 支出总计 = 表3 合计) that also sums its own rows
        taken = role == "formula" and col.key in row.formulas
        if role == "sum" or ((column_total or taken) and row.record is None):
            cols.append(col.key)
    return tuple(cols)


class _FormulaPlan:
    """The formula cells of a table (a numeric cell of a grid row, not a record, for which the layout has an
    expression), by row keys. A cell's operands are (sign, table, row, column, precision), table and row None
    where they are the cell's own.

    ``columns``: the formulas of a column over the rows of a block (合计 = 基本 + 项目 in every row) whose
    operands are all of the row itself, as (column, precision, operands, rows, place of each row): judged
    column by column. ``rows``: the other rows with formula cells, as (row index, row, its cells: (column
    index, column, precision, operands)). A place is (row index, column index): findings come in row order,
    then column order. ``portable`` when the plan of a static table serves every layout (``table_plan``)."""

    __slots__ = ("columns", "rows", "portable")

    def __init__(self, layout: Layout, t: LTable):
        self.columns: list[tuple[str, Precision, tuple, list[str], list[tuple[int, int]]]] = []
        self.rows: list[tuple[int, str, list[tuple[int, str, Precision, tuple]]]] = []
        # block -> its numeric columns, its column formulas judged column by column (with the index of each
        # column), and the cells of its other column formulas
        blocks: dict[str, tuple[list, list, list]] = {}
        own = False
        for i, row in enumerate(t.rows.values()):
            if row.record is not None:
                continue
            got = blocks.get(row.block)
            if got is None:
                got = blocks[row.block] = self._block(layout, t, row.block)
            numeric, groups, others = got
            if row.formulas:
                own = True
                self.rows.append((i, row.key, _row_cells(layout, t, row, numeric)))
                continue
            for j, group in groups:
                group[3].append(row.key)
                group[4].append((i, j))
            if others:
                self.rows.append((i, row.key, others))
        # a row's own formulas may differ from layout to layout even in a static table (a form row's formula
        # names its project's tables): only the column formulas of a static table serve every layout
        self.portable = not own

    def _block(self, layout: Layout, t: LTable, block: str) -> tuple[list, list, list]:
        numeric = [(j, c) for j, c in enumerate(t.desc.block(block).columns) if c.numeric]
        groups, others = [], []
        for j, col in numeric:
            if col.formula is None:
                continue
            refs = _operands(layout, t, col.formula)
            precision = layout.precision(t.id, col.key)
            if all(rt is None and rr is None for _, rt, rr, _, _ in refs):
                group = (col.key, precision, refs, [], [])
                self.columns.append(group)
                groups.append((j, group))
            else:
                others.append((j, col.key, precision, refs))
        return numeric, groups, others

    def cells(self) -> list[tuple[tuple[int, int], str, str, Precision, tuple]]:
        """Every formula cell as (place, row, column, precision, operands), in row order then column order."""
        out = [((i, j), rkey, ckey, precision, refs) for i, rkey, cells in self.rows
               for j, ckey, precision, refs in cells]
        for ckey, precision, refs, rkeys, places in self.columns:
            out.extend((at, rkey, ckey, precision, refs) for rkey, at in zip(rkeys, places))
        out.sort(key=lambda c: c[0])
        return out


def _operands(layout: Layout, t: LTable, expr: Expr) -> tuple:
    """(sign, table, row, column, precision) of each term of ``expr``."""
    return tuple((term.sign, term.ref.table, term.ref.row, term.ref.col,
                  layout.precision(term.ref.table or t.id, term.ref.col)) for term in expr.terms)


# The formula cells of rows with formulas of their own, kept across layouts: the same rows (表1's lines, the
# 类 lines of 表4) come back in every department's layout, with the same expressions (parsed once per text).
_ROW_CELLS = Shared()  # (table, block, columns, ids of the expressions) -> (the expressions, the cells)


def _row_cells(layout: Layout, t: LTable, row: LRow, numeric: list[tuple[int, Column]]
               ) -> list[tuple[int, str, Precision, tuple]]:
    """(column index, column, precision, operands) of each formula cell of a row with formulas of its own
    (``numeric``: the numeric columns of its block, with their indices)."""
    own = row.formulas
    exprs = tuple(own.values())
    key = (id(t.desc), row.block, tuple(own), tuple(map(id, exprs)))
    got = _ROW_CELLS.find(key, t.desc)
    if got is not Shared.NOT_KEPT and all(a is b for a, b in zip(got[0], exprs)):
        return got[1]
    cells = []
    for j, col in numeric:
        # Layout.expr_of of a grid row: the column's formula, else the row's own for that column
        expr = col.formula if col.formula is not None else own.get(col.key)
        if expr is not None:
            cells.append((j, col.key, layout.precision(t.id, col.key), _operands(layout, t, expr)))
    # kept when no operand names a table that some layouts lack (a per-project table: its precision is the
    # set's where it is lacking)
    fixed = _fixed_tables(layout.tableset)
    if all(rt is None or rt in fixed for *_, refs in cells for _, rt, _, _, _ in refs):
        _ROW_CELLS.put(key, t.desc, (exprs, cells))
    return cells


def _fixed_tables(ts: TableSet) -> frozenset[str]:
    """The tables every layout of the set has (those not laid out per project)."""
    return _FIXED.get(id(ts), ts, lambda: frozenset(d.id for d in ts.tables if d.per != "project"))


_FIXED = Shared(16)


def _formula_plan(layout: Layout, t: LTable) -> _FormulaPlan:
    return table_plan(layout, t, "formulas", lambda: _FormulaPlan(layout, t))


def _sum_plan(layout: Layout, t: LTable) -> _SumPlan:
    return table_plan(layout, t, "sums", lambda: _SumPlan(layout, t))


@register
class Sums(Rule):
    """Every total row equals the sum of its child rows, column by column (合计 columns included)."""

    kind = "sums"
    renders = True
    aggregates = True

    def check_one(self, budget: Budget, ctx: Context, subs: Mapping[str, str]) -> Iterator[Finding]:
        t = _table(ctx, self, subs)
        tid, plan = t.id, _sum_plan(ctx.layout, t)
        # rendering: every sum becomes a row of the 校验 sheet; checking: only those that do not add up
        sums = [(rkey, ckey) for rkey, _, cols in plan.rows for ckey in cols] if ctx.rendering \
            else plan.failing(budget, tid)
        for rkey, ckey in sums:
            row = t.rows[rkey]
            kids = row.children
            right = ctx.add_cells(Side(), [(1, tid, ch, ckey) for ch in kids])
            yield from self.compare(ctx, subs, "eq", ctx.single(tid, rkey, ckey), right,
                                    fail_kind="sum-mismatch", table=tid, n=len(kids),
                                    label_zh=cell_name(t, row, ckey, "zh"), label_en=cell_name(t, row, ckey, "en"))


@register
class Formulas(Rule):
    """Every formula cell of a table equals the signed sum of its operands (as published)."""

    kind = "formulas"
    renders = True
    aggregates = True

    def check_one(self, budget: Budget, ctx: Context, subs: Mapping[str, str]) -> Iterator[Finding]:
        t = _table(ctx, self, subs)
        plan = _formula_plan(ctx.layout, t)
        cells = plan.cells() if ctx.rendering else _failing(budget, t.id, plan)
        for _, rkey, ckey, precision, refs in cells:
            row, tid = t.rows[rkey], t.id
            right = ctx.add_cells(Side(), [(sign, rt or tid, rr or rkey, rc) for sign, rt, rr, rc, _ in refs])
            yield from self.compare(ctx, subs, "eq", ctx.single(tid, row.key, ckey), right,
                                    fail_kind="formula-mismatch", table=tid,
                                    label_zh=cell_name(t, row, ckey, "zh"), label_en=cell_name(t, row, ckey, "en"))


def _failing(budget: Budget, tid: str, plan: _FormulaPlan) -> list[tuple]:
    """The formula cells of ``plan`` whose published figures do not add up exactly, in row then column order."""
    out = []
    figures_of = budget.published_of
    for ckey, precision, refs, rkeys, places in plan.columns:
        operands = [(sign, list(map(figures_of(tid, rc, rkeys).__getitem__, rkeys)), None if p is precision else p)
                    for sign, _, _, rc, p in refs]
        for i, here in enumerate(map(figures_of(tid, ckey, rkeys).__getitem__, rkeys)):
            total, seen = ZERO, here is not None
            for sign, values, p in operands:
                v = values[i]
                if v is not None:
                    if p is not None:
                        v = p.convert(v, precision)
                    total = total + v if sign > 0 else total - v
                    seen = True
            if seen and (ZERO if here is None else ZERO + here) - total != ZERO:
                out.append((places[i], rkeys[i], ckey, precision, refs))
    pub = budget.published
    for i, rkey, cells in plan.rows:
        for j, ckey, precision, refs in cells:
            here = pub(tid, rkey, ckey)
            total, seen = ZERO, here is not None
            for sign, rt, rr, rc, p in refs:
                v = pub(rt or tid, rr or rkey, rc)
                if v is not None:
                    if p is not precision:
                        v = p.convert(v, precision)
                    total = total + v if sign > 0 else total - v
                    seen = True
            if seen and (ZERO if here is None else ZERO + here) - total != ZERO:
                out.append(((i, j), rkey, ckey, precision, refs))
    out.sort(key=lambda c: c[0])
    return out


@register
class EmptyNote(Rule):
    """A table with an empty-table note shows it if and only if the table has no figures.

    The template prints the note while the total row rounds to 0 (a live formula), so a table whose
    figures round away, or whose total was overwritten, contradicts its note.
    """

    kind = "empty_note"
    renders = True

    def check_one(self, budget: Budget, ctx: Context, subs: Mapping[str, str]) -> Iterator[Finding]:
        t = _table(ctx, self, subs)
        if t.note_row is None:
            return
        total_row = next((r for r in t.rows.values() if r.total), None)
        if total_row is None:
            return
        # the note shows while the total row's note columns round to 0 (a table of balances lists them all:
        # it may have figures in 本年收入 with none in 年初结转和结余)
        tcols = note_columns(t)
        tcol = next((c for c in tcols if ctx.pub(t.id, total_row.key, c.key)), tcols[0])
        total = ctx.pub(t.id, total_row.key, tcol.key)
        shown = (total or 0) == 0
        figures = Side()
        inputs: list[Operand] = []
        for row in t.rows.values():
            for col in t.desc.block(row.block).columns:
                if col.numeric and ctx.layout.cell_role(t, row, col) == "input":
                    v = budget.value(t.id, row.key, col.key)
                    if ctx.rendering:
                        inputs.append(Operand.cell(1, formulas.cell_addr(ctx.layout, None, t.id, row.key, col.key),
                                                   ctx.precision(t.id, col.key)))
                    if v not in (None, Decimal(0)):
                        figures.add(1, v, t.ref(row.key, col.key), ctx.label(t.id, row.key), t.id,
                                    ctx.precision(t.id, col.key))
        if ctx.rendering:
            # 1 while the note shows (the total rounds to 0) against 1 while no input holds a figure
            places = ctx.precision(t.id, tcol.key).display_decimals
            total_ref = formulas.cell_addr(ctx.layout, None, t.id, total_row.key, tcol.key)
            lv, rv = Decimal(int(shown)), Decimal(int(not figures.figures))
            ctx.rows.append(SheetRow(
                rule=self.rule_id(subs), title=f"{fill(self.zh, subs)}（左：显示空表说明，右：无数据）",
                severity=self.severity, op="eq", unit="", left=f"IF(ROUND({total_ref},{places})=0,1,0)",
                right=f"IF({nonzero_count(inputs)}=0,1,0)", tolerance="0", places=0, display=0,
                values=(lv, rv, lv - rv, Decimal(0)), status="ok" if lv == rv else "fail"))
            return
        common = table_names(ctx, t)
        if figures.figures and shown:
            yield self.make("empty-table-figures", self.severity, subs, cells=[note_position(t)] + figures.cells,
                            table=t.id, actual=total, rhs=figures.text, **common)
        elif not figures.figures and not shown:
            yield self.make("empty-table-unnoted", self.severity, subs,
                            cells=[t.ref(total_row.key, tcol.key), note_position(t)], table=t.id, actual=total,
                            **common)


@register
class ProjectsByFunction(Rule):
    """Per functional 项: the projects of that 项 (表7 rows) add up to ``right`` (e.g. 表5 项目支出)."""

    kind = "projects_by_function"
    renders = True
    required = ("projects", "column", "right")
    expressions = ("right",)

    def validate(self, ts: TableSet) -> None:
        super().validate(ts)
        check_reference(ts, Ref(str(self.entry["projects"]), "{project}", str(self.entry["column"])))

    def check_one(self, budget: Budget, ctx: Context, subs: Mapping[str, str]) -> Iterator[Finding]:
        tid = fill(str(self.entry["projects"]), subs)
        t = ctx.layout.tables.get(tid)
        if t is None:
            raise RuleConfigError(f"没有表 {tid}")
        column = str(self.entry["column"])
        by_code: dict[str, list[str]] = {}
        for row in t.rows.values():
            if row.project or (row.spare and t.desc.block(row.block).plan == "projects"):
                code = budget.code_of(t, row)
                if code:
                    by_code.setdefault(code, []).append(row.key)
        # the 项 lines of the tables on the right (a 项 with project spending but no project counts too)
        for term in self.expr("right", subs).terms:  # {code} left as it is: only the tables matter
            other = ctx.layout.tables.get(term.ref.table or "")
            if other is None:
                raise RuleConfigError(f"没有表 {term.ref.table}")
            for row in other.rows.values():
                if row.code and len(row.code) == classification.leaf("function") and not row.project:
                    by_code.setdefault(row.code, [])
        for code in sorted(by_code):
            left = ctx.add_cells(Side(), [(1, t.id, rkey, column) for rkey in by_code[code]])
            right = ctx.evaluate(self.expr("right", {**subs, "code": code}))
            yield from self.compare(ctx, {**subs, "code": code}, "eq", left, right, table=t.id)
