"""Rule kinds derived from the table descriptions: in-table sums and formulas, empty-table notes,
and the per-function sums of 表7 projects."""

from __future__ import annotations

from decimal import Decimal
from typing import Iterator, Mapping

from ..findings import Finding
from .. import classification, formulas
from ..expr import Ref
from ..layout import Layout, LRow, LTable, note_columns
from ..tableset import Precision, TableSet
from ..model import Budget
from .base import (ZERO, Context, Rule, RuleConfigError, Side, cell_name, fill, layout_plan, note_position, register,
                   table_names)
from .book import check_reference
from .sheet import Operand, SheetRow, nonzero_count


def _table(ctx: Context, rule: Rule, subs: Mapping[str, str]) -> LTable:
    tid = subs.get("table") or fill(str(rule.entry.get("table", "")), subs)
    t = ctx.layout.tables.get(tid)
    if t is None:
        raise RuleConfigError(f"没有表 {tid}")
    return t


def _sum_cells(layout: Layout, t: LTable) -> list[tuple[LRow, tuple[str, ...]]]:
    """The total rows of a table that add up their child rows, each with the columns where they do
    (once per layout)."""
    def build() -> list[tuple[LRow, tuple[str, ...]]]:
        out = []
        for row in t.rows.values():
            if not row.children:
                continue
            cols = []
            for col in t.desc.block(row.block).columns:
                if not col.numeric:
                    continue
                role = layout.cell_role(t, row, col)
                # a 合计 column is a formula in every row, but its parent rows still add up their children
                column_total = role == "formula" and col.formula is not None and col.key not in row.formulas
                # a total taken from another table (表1 支出总计 = 表3 合计) that also sums its own rows
                taken = role == "formula" and col.key in row.formulas
                if role == "sum" or ((column_total or taken) and row.record is None):
                    cols.append(col.key)
            if cols:
                out.append((row, tuple(cols)))
        return out
    return layout_plan(layout, ("sums", t.id), build)


def _formula_cells(layout: Layout, t: LTable) -> list[tuple[LRow, str, Precision, tuple]]:
    """The formula cells of a table: (row, column, its precision, its operands as (sign, table, row, column,
    precision) with table and row None where they are the cell's own) (once per layout). A formula cell
    is a numeric cell of a grid row (not a record) for which the layout has an expression."""
    def build() -> list[tuple[LRow, str, Precision, tuple]]:
        numeric: dict[str, tuple[list, bool]] = {}    # block -> its numeric columns, whether any has a formula
        operands: dict[int, tuple] = {}               # id(expression) -> its operands (a column's formula
        out = []                                      # serves every row)
        for row in t.rows.values():
            if row.record is not None:
                continue
            cols = numeric.get(row.block)
            if cols is None:
                nc = [c for c in t.desc.block(row.block).columns if c.numeric]
                cols = numeric[row.block] = (nc, any(c.formula is not None for c in nc))
            formulas = row.formulas
            if not formulas and not cols[1]:
                continue
            for col in cols[0]:
                # Layout.expr_of of a grid row: the column's formula, else the row's own for that column
                expr = col.formula if col.formula is not None else formulas.get(col.key)
                if expr is None:
                    continue
                refs = operands.get(id(expr))
                if refs is None:
                    refs = operands[id(expr)] = tuple(
                        (term.sign, term.ref.table, term.ref.row, term.ref.col,
                         layout.precision(term.ref.table or t.id, term.ref.col)) for term in expr.terms)
                out.append((row, col.key, layout.precision(t.id, col.key), refs))
        return out
    return layout_plan(layout, ("formulas", t.id), build)


@register
class Sums(Rule):
    """Every total row equals the sum of its child rows, column by column (合计 columns included)."""

    kind = "sums"
    renders = True
    aggregates = True

    def check_one(self, budget: Budget, ctx: Context, subs: Mapping[str, str]) -> Iterator[Finding]:
        t = _table(ctx, self, subs)
        tid, pub, rendering = t.id, budget.published, ctx.rendering
        for row, cols in _sum_cells(ctx.layout, t):
            kids = row.children
            for ckey in cols:
                if not rendering:  # the published figures add up exactly: nothing to report
                    here = pub(tid, row.key, ckey)
                    total, seen = ZERO, here is not None
                    for ch in kids:
                        v = pub(tid, ch, ckey)
                        if v is not None:
                            total += v
                            seen = True
                    if not seen or (ZERO if here is None else ZERO + here) - total == 0:
                        continue
                right = ctx.add_cells(Side(), [(1, tid, ch, ckey) for ch in kids])
                yield from self.compare(ctx, subs, "eq", ctx.single(tid, row.key, ckey), right,
                                        fail_kind="sum-mismatch", table=tid, n=len(kids),
                                        label_zh=cell_name(t, row, ckey, "zh"),
                                        label_en=cell_name(t, row, ckey, "en"))


@register
class Formulas(Rule):
    """Every formula cell of a table equals the signed sum of its operands (as published)."""

    kind = "formulas"
    renders = True
    aggregates = True

    def check_one(self, budget: Budget, ctx: Context, subs: Mapping[str, str]) -> Iterator[Finding]:
        t = _table(ctx, self, subs)
        tid, pub, rendering = t.id, budget.published, ctx.rendering
        for row, ckey, precision, refs in _formula_cells(ctx.layout, t):
            rkey = row.key
            if not rendering:  # the published figures add up exactly: nothing to report
                here = pub(tid, rkey, ckey)
                total, seen = ZERO, here is not None
                for sign, rt, rr, rc, p in refs:
                    v = pub(rt or tid, rr or rkey, rc)
                    if v is not None:
                        total += sign * (v if p is precision else p.convert(v, precision))
                        seen = True
                if not seen or (ZERO if here is None else ZERO + here) - total == 0:
                    continue
            right = ctx.add_cells(Side(), [(sign, rt or tid, rr or rkey, rc) for sign, rt, rr, rc, _ in refs])
            yield from self.compare(ctx, subs, "eq", ctx.single(tid, row.key, ckey), right,
                                    fail_kind="formula-mismatch", table=tid,
                                    label_zh=cell_name(t, row, ckey, "zh"), label_en=cell_name(t, row, ckey, "en"))


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
