"""Rule machinery: the rule context, the base class of every rule kind, loading the rule book.

A rule book is ``templates/<set>/rules.toml`` (see the comments at its top for the kinds, the foreach forms
and the preconditions). Each entry becomes an instance of the class registered for its ``kind``; the
class's ``check(budget, ctx)`` yields :class:`~xlbudget.findings.Finding` objects. Severities, titles,
expressions and tolerances are data; the classes only know how to evaluate them.
"""

from __future__ import annotations

import functools
import itertools
import re
import string
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterable, Iterator, Mapping, Sequence

from .. import classification, formulas, tomlfile
from ..errors import DescriptionError, XlbudgetError
from ..expr import Expr, Ref, parse, pattern_for_text
from ..findings import Finding, Severity
from ..layout import Layout, LRow, LTable, Shared, a1, col_letter, is_static
from ..model import Budget
from ..tableset import Precision, TableSet, load_tableset
from .book import Condition, check_reference, coded_blocks, conditions_from
from .sheet import (LISTED, Operand, SheetRow, aggregate, listed, merge, places_for, side_formula,
                    tolerance_formula)
from .tolerance import Tolerance

__all__ = ["KINDS", "Condition", "Context", "Rule", "RuleConfigError", "Side", "load_rules", "register", "rules_for"]

ZERO = Decimal(0)
CODE_LEVELS = {"classes": 1, "kuan": 2, "xiang": 3, "codes": None, "rows": None}   # 类, 款, 项, every level
FOREACH_FORMS = ("tables", "projects", "list") + tuple(CODE_LEVELS)
VALUE_CONDITIONS = ("nonzero", "zero")          # when = "nonzero:EXPR" | "zero:EXPR"; other names: [conditions]
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
PLACEHOLDERS = {"table", "code", "project", "item"}
MAX_EXPRS = 4096          # parsed expression instances kept per rule (a batch's memory stays flat)


class RuleConfigError(XlbudgetError):
    """A rule refers to something the layout does not have; reported as a ``rule-config`` finding."""


class _Safe(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(text: str, subs: Mapping[str, str]) -> str:
    """Replace the foreach placeholders present in ``subs``; leave the others as they are."""
    if "{" not in text:
        return text
    pieces = _pieces(text)
    if pieces is None:  # braces other than plain placeholders: the formatter's own rules
        return string.Formatter().vformat(text, (), _Safe(subs))
    out = pieces[0]
    for i in range(1, len(pieces), 2):
        name = pieces[i]
        out += (format(subs[name], "") if name in subs else "{" + name + "}") + pieces[i + 1]
    return out


_NAMED = re.compile(r"\{([^\W\d]\w*)\}")


@functools.lru_cache(maxsize=4096)  # the rule texts: ids, titles, expressions
def _pieces(text: str) -> tuple[str, ...] | None:
    """``text`` split at its placeholders (literal, name, literal, …, literal), as ``str.format`` reads
    them; None when the text has other braces (escaped, positional, with a format)."""
    pieces = tuple(_NAMED.split(text))
    if any("{" in p or "}" in p for p in pieces[0::2]):
        return None
    return pieces


# a value that fills a placeholder inside one part of a reference and leaves it one word (see Rule._cells)
_word = pattern_for_text(r"[A-Za-z0-9_:\u4e00-\u9fff]+\Z")


@functools.lru_cache(maxsize=MAX_EXPRS)  # the values seen (codes, tables, projects, items), each matched once
def _is_word(v: str) -> bool:
    return _word(v).match(v) is not None


def fills_in_place(subs: Mapping[str, str]) -> bool:
    """True when every value of ``subs`` is one word of a reference (a code, a table, a project, an item): an
    expression parsed with its placeholders then has its references filled part by part (``Rule._cells``),
    as the filled text would parse."""
    return all(v.__class__ is str and _is_word(v) for v in subs.values())


_UNKNOWN = object()


def cell_ref(t: LTable, row: LRow, ckey: str) -> str | None:
    """``表6!C12`` as ``LTable.ref`` writes it, None where the row's block has no such column."""
    at = t.colpos.get((row.block, ckey))
    return None if at is None else f"{t.sheet}!{col_letter(at[0])}{row.r + 1}"



def cells_of(expr: Expr) -> tuple[tuple[int, str, str, str], ...]:
    """The (sign, table, row, column) cells an expression adds up (table and row None where it leaves them
    to the context)."""
    return tuple((t.sign, t.ref.table, t.ref.row, t.ref.col) for t in expr.terms)  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------------------
# Evaluating expressions against a budget
# ---------------------------------------------------------------------------------------------------------
class Side:
    """One side of a comparison: the signed sum of published figures and where they sit.

    Each figure carries its precision (unit and decimals). ``total`` is kept in the unit of the first
    reference (``precision``); figures of another unit are converted into it exactly.

    Where the figures sit (``cells``, ``parts``, ``tables``, ``text``) is worked out only when asked for:
    most comparisons hold, and only a finding names its cells."""

    __slots__ = ("total", "figures", "precision", "precisions", "operands", "_chunks", "_named")

    def __init__(self) -> None:
        self.total: Decimal = ZERO
        self.figures = 0                                   # non-blank operands (each carries a rounding interval)
        self.precision: Precision | None = None            # of the first reference: the unit of ``total``
        self.precisions: list[Precision] = []              # of each non-blank figure
        self.operands: list[Operand] = []                  # the figures as Excel (rendering only)
        # where the figures sit, in order: (context, [(sign, table, row, column)]) for cells named through the
        # context (``Context.add_cells``), (None, [(sign, cell, label, table, precision)]) for figures added
        # with their names (``add``)
        self._chunks: list[tuple[Any, Sequence[tuple]]] = []
        self._named: tuple[list[str], list[str], list[str]] | None = None   # cells, parts, tables

    def add(self, sign: int, value: Decimal | None, cell: str | None, label: str, table: str,
            precision: Precision | None = None, operand: Operand | None = None) -> None:
        self._sum(((sign, value, precision),))
        self._chunks.append((None, ((sign, cell, label, table, precision),)))
        self._named = None
        if operand is not None:
            self.operands.append(operand)

    def _sum(self, figures: Iterable[tuple[int, Decimal | None, Precision | None]]) -> None:
        """Add (sign, value, precision) figures to the total (a blank value counts as no figure); the cells of a
        context are added the same way by ``Context._figures``."""
        unit, total, count, precisions = self.precision, self.total, self.figures, self.precisions
        for sign, value, precision in figures:
            if unit is None:
                unit = precision
            if value is not None:
                if precision is not None and unit is not None:
                    value = precision.convert(value, unit)
                total += sign * value
                count += 1
                if precision is not None:
                    precisions.append(precision)
        self.precision, self.total, self.figures = unit, total, count

    def _name(self) -> tuple[list[str], list[str], list[str]]:
        if self._named is None:
            cells: dict[str, None] = {}
            parts: list[str] = []
            tables: dict[str, None] = {}
            unit = self.precision.unit if self.precision is not None else None
            for ctx, chunk in self._chunks:
                if ctx is None:   # figures added with their names: (sign, cell, label, table, precision)
                    named: Iterable[tuple] = chunk
                else:             # cells of a context: named now
                    named = ctx.named(chunk, unit is not None)
                for sign, cell, label, table, precision in named:
                    if cell is not None:
                        cells[cell] = None
                    shown = cell or label
                    if precision is not None and unit is not None and precision.unit != unit:
                        shown += f"（{precision.unit}）"
                    parts.append(("-" if sign < 0 else "+") + shown)
                    tables[table] = None
            self._named = (list(cells), parts, list(tables))
        return self._named

    @property
    def cells(self) -> list[str]:
        """The cells of the figures, each once, in order."""
        return list(self._name()[0])

    @property
    def parts(self) -> list[str]:
        """Each figure signed: "+表6!C12", or "+表6 30231" for a line the layout lacks."""
        return list(self._name()[1])

    @property
    def tables(self) -> list[str]:
        """The tables of the figures, each once, in order."""
        return list(self._name()[2])

    def total_in(self, unit: Precision | None) -> Decimal:
        """``total`` expressed in the unit of ``unit`` (exact)."""
        if unit is None or self.precision is None:
            return self.total
        return self.precision.convert(self.total, unit)

    @property
    def blank(self) -> bool:
        return self.figures == 0

    @property
    def text(self) -> str:
        """The operands as ``表6!C13 + 表6!C14 + … + 表6!C20`` (long sums are shortened)."""
        parts = self._name()[1]
        if len(parts) > 4:
            parts = parts[:2] + ["+…"] + parts[-1:]
        out = ""
        for i, p in enumerate(parts):
            sign, body = p[0], p[1:]
            if i == 0:
                out = body if sign == "+" else "−" + body
            else:
                out += (" − " if sign == "-" else " + ") + body
        return out or "0"


class Context:
    """What every rule needs besides the budget: the layout, the tolerance, the catalogues, and a memo
    for what several rules derive from the same budget (``ctx.memo``)."""

    def __init__(self, budget: Budget, tolerance: "str | Tolerance | None" = "interval",
                 catalogue_dir: str | Path | None = None, *, rendering: bool = False):
        self.budget = budget
        # Rendering the 校验 sheet: comparisons become sheet rows (``rows``) and preconditions become
        # formulas (``when``) instead of findings; figures carry their Excel references.
        self.rendering = rendering
        self.rows: list[SheetRow] = []
        self.when: tuple[str, bool] | None = None
        self.layout: Layout = budget.layout
        self.decimals = budget.decimals
        self.tolerance = Tolerance.parse(tolerance, self.decimals)
        self.catalogue_dir = Path(catalogue_dir) if catalogue_dir else None
        self._catalogues: dict[str, Any] = {}
        self.memo: dict[Any, Any] = {}
        self._positions: dict[tuple[str, str, str], str | None] = {}

    # --- cells ---------------------------------------------------------------------------------------
    def pub(self, tid: str, rkey: str, ckey: str) -> Decimal | None:
        """The figure as published: rounded half-up to the display decimals, each on its own."""
        return self.budget.published(tid, rkey, ckey)

    def precision(self, tid: str, ckey: str | None = None) -> Precision:
        """Unit and decimals of a column of a table."""
        return self.layout.precision(tid, ckey)

    def single(self, tid: str, rkey: str, ckey: str, sign: int = 1, side: "Side | None" = None) -> Side:
        """Add one cell to ``side`` (a new one by default): its published figure, position and precision."""
        return self.add_cells(side if side is not None else Side(), ((sign, tid, rkey, ckey),))

    def add_cells(self, side: Side, cells: Sequence[tuple[int, str, str, str]], check: bool = False) -> Side:
        """Add (sign, table, row, column) cells to ``side``: their published figures, positions and precisions.
        With ``check`` each reference is checked first (``check_cell``)."""
        if self.rendering:  # a sheet row names no cell in words: only its Excel reference matters
            precision_of, pub, checked = self.layout.precision, self.budget.published, self.check_cell
            for sign, tid, rkey, ckey in cells:
                if check:
                    checked(tid, rkey, ckey)
                p = precision_of(tid, ckey)
                side.add(sign, pub(tid, rkey, ckey), None, "", tid, p, self.operand(sign, tid, rkey, ckey, p))
            return side
        side.precision, side.total, side.figures = self._figures(cells, check, side.precision, side.total,
                                                                 side.figures, side.precisions)
        side._chunks.append((self, cells))   # the cells and labels are looked up only when a finding names them
        side._named = None
        return side

    def _figures(self, cells: Sequence[tuple[int, str, str, str]], check: bool, unit: Precision | None = None,
                 total: Decimal = ZERO, count: int = 0, precisions: "list[Precision] | None" = None
                 ) -> tuple[Precision | None, Decimal, int]:
        """The published figures of ``cells`` added to ``total`` (in ``unit``, else the first cell's), as
        ``Side._sum`` adds them: (unit, total, count of figures), the precision of each figure appended to
        ``precisions``. With ``check`` each reference is checked first (``check_cell``)."""
        figure, tables = self.budget.figure, self.layout.tables
        for sign, tid, rkey, ckey in cells:
            if check:  # (a cell of a row the layout has: known at once)
                t = tables.get(tid)  # type: ignore[arg-type]
                row = t.rows.get(rkey) if t is not None else None  # type: ignore[arg-type]
                if row is None or (row.block, ckey) not in t.colpos:  # type: ignore[union-attr]
                    self.check_cell(tid, rkey, ckey)
            value, p = figure(tid, rkey, ckey)
            if unit is None:
                unit = p
            if value is not None:
                if p is not unit and p.unit != unit.unit:
                    value = p.convert(value, unit)
                total = total + value if sign > 0 else total - value
                count += 1
                if precisions is not None:
                    precisions.append(p)
        return unit, total, count

    def holds_exactly(self, op: str, left: Sequence[tuple[int, str, str, str]],
                      right: Sequence[tuple[int, str, str, str]]) -> bool:
        """True when the published figures of the cells satisfy ``left op right`` with no difference at all,
        or are all blank: ``Rule.compare`` of their sides reports nothing (its verdict in the unit of the left
        side), and a rule need not build them (the common case). References are checked (RuleConfigError)."""
        lu, lt, ln = self._figures(left, True)
        ru, rt, rn = self._figures(right, True)
        if ln == 0 and rn == 0:
            return True
        unit = lu or ru or self.layout.tableset.precision
        lv = lt if lu is None or lu is unit else lu.convert(lt, unit)
        rv = rt if ru is None or ru is unit else ru.convert(rt, unit)
        return judge(op, lv - rv, ZERO) == "ok"

    def operand(self, sign: int, tid: str, rkey: str, ckey: str, precision: Precision,
                rounded: bool = True) -> Operand | None:
        """The cell as an Excel operand (None where the layout has no such cell: a blank)."""
        ref = formulas.cell_addr(self.layout, None, tid, rkey, ckey)
        if ref is not None:
            return Operand.cell(sign, ref, precision, rounded, (tid, *self.layout.tables[tid].pos(rkey, ckey)))
        agg = formulas.spare_aggregate(self.layout, None, tid, rkey, ckey) if rkey.isdigit() else None
        if agg is not None:
            return Operand(sign, agg[0], precision, agg[1], rounded)
        return None

    def named(self, cells: Sequence[tuple[int, str, str, str]], precisions: bool = True
              ) -> list[tuple[int, str | None, str, str, Precision | None]]:
        """(sign, position, label where it has none, table, precision — None unless ``precisions``) of
        (sign, table, row, column) cells."""
        positions, position, label, precision = self._positions, self.position, self.label, self.layout.precision
        out = []
        for sign, tid, rkey, ckey in cells:
            cell = positions.get((tid, rkey, ckey), _UNKNOWN)
            if cell is _UNKNOWN:
                cell = position(tid, rkey, ckey)
            out.append((sign, cell, "" if cell is not None else label(tid, rkey), tid,
                        precision(tid, ckey) if precisions else None))
        return out

    def position(self, tid: str, rkey: str, ckey: str) -> str | None:
        """``表6!C12``, None where the layout has no such cell (each worked out once per check: a cell is
        named by the findings of its total and of its own children)."""
        k = (tid, rkey, ckey)
        if k in self._positions:
            return self._positions[k]
        t = self.layout.tables.get(tid)
        row = t.rows.get(rkey) if t is not None else None
        at = self._positions[k] = cell_ref(t, row, ckey) if row is not None else None  # type: ignore[arg-type]
        return at

    def text(self, tid: str, rkey: str, ckey: str) -> str | None:
        """Text entered in an input cell (None when blank or not an input)."""
        t = self.layout.tables.get(tid)
        if t is None or rkey not in t.rows:
            return None
        row = t.rows[rkey]
        try:
            col = t.column(row, ckey)
        except KeyError:
            return None
        if self.layout.cell_role(t, row, col) != "input":
            return None
        v = self.budget.raw(t, row, col)
        if v is None or isinstance(v, (list, dict)):
            return None
        return str(v).strip() or None

    def check_ref(self, ref: Ref) -> None:
        """Raise RuleConfigError unless ``ref`` names a known table and column, and a known or coded row."""
        self.check_cell(ref.table, ref.row, ref.col)

    def check_cell(self, tid: str | None, rkey: str | None, ckey: str) -> None:
        """``check_ref`` of the reference ``tid.rkey.ckey``."""
        if tid is None or rkey is None:
            raise RuleConfigError(f"引用 {Ref(tid, rkey, ckey)} 应写成 表.行.列")
        t = self.layout.tables.get(tid)
        if t is None:
            raise RuleConfigError(f"没有表 {tid}")
        row = t.rows.get(rkey)
        if row is not None:
            if (row.block, ckey) not in t.colpos:
                raise RuleConfigError(f"表 {tid} 的行 {rkey} 没有列 {ckey}")
            return
        if not rkey.isdigit():
            raise RuleConfigError(f"表 {tid} 没有行 {rkey}")
        if not any(col == ckey for (_, col) in t.colpos):
            raise RuleConfigError(f"表 {tid} 没有列 {ckey}")

    def label(self, tid: str, rkey: str) -> str:
        """How a row is named in a message when it has no cell: ``表6 30231``, ``表7 某某项目``, ``表3 合计``."""
        t = self.layout.tables.get(tid)
        row = t.rows.get(rkey) if t else None
        if t is None or row is None or row.code == rkey:
            return f"{t.sheet if t else tid} {rkey}"
        code = self.budget.code_of(t, row) if row.spare else None   # a spare row: the code typed in it
        return f"{t.sheet} {code or row_label(row) or a1(row.r, 0)}"  # never the internal row key

    def evaluate(self, expr: Expr) -> Side:
        return self.side_of(cells_of(expr))

    def side_of(self, cells: Sequence[tuple[int, str, str, str]]) -> Side:
        """The side of (sign, table, row, column) cells, each reference checked (RuleConfigError)."""
        return self.add_cells(Side(), cells, check=True)

    # --- foreach and when ----------------------------------------------------------------------------
    def expand(self, foreach: str | None) -> list[dict[str, str]]:
        if not foreach:
            return [{}]
        combos: list[dict[str, str]] = [{}]
        for form in foreach.split("&"):
            combos = [{**a, **b} for a, b in itertools.product(combos, self._expand_one(form.strip()))]
        return combos

    def _expand_one(self, form: str) -> list[dict[str, str]]:
        kind, _, arg = form.partition(":")
        if kind == "tables":  # "tables:元" keeps the tables in that unit
            return [{"table": tid} for tid, t in self.layout.tables.items()
                    if not arg or t.desc.table_precision.unit == arg]
        if kind == "projects":
            return [{"project": p.key, "code": p.key} for p in self.layout.spec.projects]
        if kind == "list":
            return [{"item": w.strip()} for w in arg.split(",") if w.strip()]
        if kind in CODE_LEVELS:
            t = self.layout.tables.get(arg)
            if t is None:
                raise RuleConfigError(f"foreach {form}：没有表 {arg}")
            level = CODE_LEVELS[kind]
            return [{"code": r.key} for r in t.rows.values()
                    if r.code and not r.project and (level is None or r.level == level)]
        raise RuleConfigError(f"未知的 foreach 形式 {form}")

    def coded_rows(self, kind: str) -> list[tuple[LTable, LRow]]:
        """The rows of the tree and project blocks whose codes are of ``kind`` (function or economic)."""
        def build() -> list[tuple[LTable, LRow]]:
            out = []
            for t in self.layout.tables.values():
                coded: dict[str, bool] = {}
                for b in t.desc.blocks:
                    coded.setdefault(b.key, b.plan in ("tree", "projects")
                                     and (b.codes == "economic") == (kind == "economic"))
                if any(coded.values()):
                    out.extend((t, row) for row in t.rows.values() if coded[row.block])
            return out
        return layout_plan(self.layout, ("coded_rows", kind), build)

    def codes_used(self, kind: str) -> set[str]:
        """Every finest-level code of ``kind`` the department uses (spec lists, projects, spare rows)."""
        key = ("codes_used", kind)
        if key not in self.memo:
            leaf = classification.leaf(kind)
            codes = {self.budget.code_of(t, row) for t, row in self.coded_rows(kind)}
            self.memo[key] = {c for c in codes if c and len(c) == leaf}
        return set(self.memo[key])

    def condition(self, when: str, subs: Mapping[str, str], named: "Condition | None" = None) -> tuple[str, bool]:
        """A precondition as an Excel condition, with its value on this budget (rendering)."""
        kind, _, arg = when.partition(":")
        if kind in VALUE_CONDITIONS:
            side = self.evaluate(parse(fill(arg, subs)))
            unit = side.precision or self.layout.tableset.precision
            places = unit.display_decimals + 6
            return (f"ROUND({side_formula(side, unit)},{places}){'<>' if kind == 'nonzero' else '='}0",
                    (side.total != 0) == (kind == "nonzero"))
        if named is None:
            raise RuleConfigError(f"未知的前提条件 {when}")
        return named.formula(self), named.holds(self)

    def holds(self, when: str, subs: Mapping[str, str], named: "Condition | None" = None) -> bool:
        kind, _, arg = when.partition(":")
        if kind in VALUE_CONDITIONS:
            side = self.evaluate(parse(fill(arg, subs)))
            return (side.total != 0) == (kind == "nonzero")
        if named is None:
            raise RuleConfigError(f"未知的前提条件 {when}")
        return named.holds(self)

    # --- catalogues ----------------------------------------------------------------------------------
    def catalogue(self, kind: str):
        """(Catalogue, None) or (None, reason) for the department's year."""
        if kind not in self._catalogues:
            self._catalogues[kind] = _load_catalogue(kind, self.layout.spec.year,
                                                     str(self.catalogue_dir) if self.catalogue_dir else None)
        return self._catalogues[kind]


@functools.lru_cache(maxsize=32)
def _load_catalogue(kind: str, year: int, directory: str | None):
    from ..catalogue import CatalogueError, load_active_catalogue, load_catalogue

    try:
        cat = load_catalogue(kind, year, directory) if directory else load_active_catalogue(kind, year)
    except CatalogueError as e:
        return None, str(e)
    return cat, None


# ---------------------------------------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------------------------------------
KINDS: dict[str, type["Rule"]] = {}


def register(cls: type["Rule"]) -> type["Rule"]:
    KINDS[cls.kind] = cls
    return cls


def judge(op: str, diff: Decimal, bound: Decimal) -> str:
    """"ok", "residue" (explained by rounding) or "fail" for ``left - right = diff``."""
    if op == "eq":
        if diff == 0:
            return "ok"
        return "residue" if abs(diff) <= bound else "fail"
    if op == "ge":
        if diff >= 0:
            return "ok"
        return "residue" if -diff <= bound else "fail"
    if op == "le":
        if diff <= 0:
            return "ok"
        return "residue" if diff <= bound else "fail"
    raise ValueError(op)


def printed_side(left: Side, right: Side) -> tuple[str, Precision, int] | None:
    """For rules with ``as_printed = true``, when one side is wholly in a finer unit than the other (元 against
    万元): ("left" or "right", the finer side, and the decimals — in the unit of comparison, the left side's —
    at which the coarser unit prints it (÷ 10000 then 2 decimals, formats §2.3: 2 in 万元, -2 in 元))."""
    lunits = {p.unit for p in left.precisions}
    runits = {p.unit for p in right.precisions}
    if len(lunits) != 1 or len(runits) != 1 or lunits == runits or left.precision is None:
        return None
    lp, rp = left.precisions[0], right.precisions[0]
    coarse, finer = (lp, "right") if lp.quantum * lp.factor >= rp.quantum * rp.factor else (rp, "left")
    unit = left.precision
    shift = (coarse.factor / unit.factor).adjusted()          # 万元 in 元: 4
    return finer, coarse, coarse.display_decimals - shift


def printed_values(left: Side, right: Side, unit: Precision, printed: tuple[str, Precision, int] | None
                   ) -> tuple[Decimal, Decimal]:
    """Both sides in ``unit``; the finer one (``printed_side``) rounded as the coarser unit prints it."""
    lv, rv = left.total_in(unit), right.total_in(unit)
    if printed is not None:
        quantum = Decimal(1).scaleb(-printed[2])
        if printed[0] == "right":
            rv = rv.quantize(quantum, rounding=ROUND_HALF_UP)
        else:
            lv = lv.quantize(quantum, rounding=ROUND_HALF_UP)
    return lv, rv


def weigh(ctx: "Context", op: str, left: "Side", right: "Side", tol: Tolerance, as_printed: bool = False):
    """(unit, left, right, bound, verdict) of ``left op right``: both sides in the unit of the left side
    (the right's when the left has no reference), the bound from the precision of every figure. With
    ``as_printed`` (a rule's ``as_printed = true``) a side wholly in a finer unit is taken as the coarser unit
    prints it (``printed_side``)."""
    unit = left.precision or right.precision or ctx.layout.tableset.precision
    lv, rv = printed_values(left, right, unit, printed_side(left, right) if as_printed else None)
    bound = tol.bound_for(left.precisions + right.precisions, unit)
    return unit, lv, rv, bound, judge(op, lv - rv, bound)


RELATIONS = {"ge": ("不少于", "at least"), "le": ("不超过", "at most")}


class Rule:
    """Base of every rule kind: one entry of the rule book."""

    kind: ClassVar[str] = ""
    required: ClassVar[tuple[str, ...]] = ()
    expressions: ClassVar[tuple[str, ...]] = ()     # fields holding expressions (validated on load)

    def __init__(self, entry: Mapping[str, Any], where: str = "rules.toml"):
        self.entry = dict(entry)
        missing = [k for k in ("id", "kind", "severity", "zh", "en") + self.required if k not in entry]
        rid = entry.get("id", "?")
        if missing:
            raise DescriptionError(f"{where}: rule {rid} lacks {', '.join(missing)}")
        self.id: str = str(entry["id"])
        try:
            self.severity = Severity(entry["severity"])
            self.severity_partial = Severity(entry.get("severity_partial", entry["severity"]))
        except ValueError:
            raise DescriptionError(f"{where}: rule {rid}: severity must be error, warning or info") from None
        self.zh: str = str(entry["zh"])
        self.en: str = str(entry["en"])
        self.source: str = str(entry.get("source", ""))
        self.foreach: str | None = entry.get("foreach")
        self.when: str | None = entry.get("when")
        self.enabled: bool = bool(entry.get("enabled", True))
        # across units, judge the finer side as the coarser unit prints it (see printed_side)
        self.as_printed: bool = bool(entry.get("as_printed", False))
        try:
            self.tolerance = Tolerance.parse(entry["tolerance"]) if "tolerance" in entry else None
        except ValueError as e:
            raise DescriptionError(f"{where}: rule {rid}: {e}") from None
        if self.foreach:
            for form in self.foreach.split("&"):
                if form.strip().partition(":")[0] not in FOREACH_FORMS:
                    raise DescriptionError(f"{where}: rule {rid}: unknown foreach form {form.strip()!r}")
        if self.when and ":" in self.when and self.when.partition(":")[0] not in VALUE_CONDITIONS:
            raise DescriptionError(f"{where}: rule {rid}: unknown precondition {self.when!r}")
        self.condition: Condition | None = None      # a named precondition of the book (set on loading)
        self._exprs: dict[tuple, dict[str, tuple]] = {}   # placeholders -> ``instance``
        # the cells of each expression field as parsed with its placeholders (where each is a plain ``{name}``)
        self._templates: dict[str, tuple[tuple[int, str, str, str], ...]] = {}
        for key, text in self.expression_texts():
            unknown = set(_PLACEHOLDER.findall(text)) - PLACEHOLDERS
            if unknown:
                raise DescriptionError(f"{where}: rule {rid}: {key}: unknown placeholder {{{sorted(unknown)[0]}}}")
            try:
                template = parse(text)
            except DescriptionError as e:
                raise DescriptionError(f"{where}: rule {rid}: {key}: {e}") from None
            if key in self.expressions and _pieces(text) is not None \
                    and all(_pieces(part) is not None for term in template.terms
                            for part in (term.ref.table or "", term.ref.row or "", term.ref.col)):
                self._templates[key] = cells_of(template)

    def expression_texts(self) -> Iterator[tuple[str, str]]:
        """(field, expression text with placeholders) of every expression of the entry."""
        for key in self.expressions:
            yield key, str(self.entry[key])
        if self.when and ":" in self.when:
            yield "when", self.when.partition(":")[2]

    def static_subs(self) -> list[dict[str, str]]:
        """The foreach placeholders known without a department: the words of the ``list:`` forms."""
        combos: list[dict[str, str]] = [{}]
        for form in (self.foreach or "").split("&"):
            kind, _, arg = form.strip().partition(":")
            if kind == "list":
                combos = [{**c, "item": w.strip()} for c in combos for w in arg.split(",") if w.strip()]
        return combos

    def validate(self, ts: TableSet) -> None:
        """Raise DescriptionError for a reference to a table, row or column the set lacks (a coded row a
        department does not use is not such a reference: it reads as blank)."""
        for form in (self.foreach or "").split("&"):
            kind, _, arg = form.strip().partition(":")
            if kind in CODE_LEVELS:
                coded_blocks(ts, arg, f"foreach {form.strip()}")
        for key, text in self.expression_texts():
            for subs in self.static_subs():
                for term in parse(fill(text, subs)).terms:
                    check_reference(ts, term.ref)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}>"

    # --- running -------------------------------------------------------------------------------------
    def check(self, budget: Budget, ctx: Context) -> Iterator[Finding]:
        """Every finding of this rule on ``budget`` (foreach expanded, preconditions applied)."""
        try:
            instances = ctx.expand(self.foreach)
        except RuleConfigError as e:
            yield self.config_finding({}, str(e))
            return
        absent = budget.absent_tables  # tables a workbook in an official layout does not carry
        for subs in instances:
            try:
                if absent and self.over_absent(ctx, subs, absent):
                    continue
                if ctx.rendering:
                    ctx.when = ctx.condition(self.when, subs, self.condition) if self.when else None
                elif self.when and not ctx.holds(self.when, subs, self.condition):
                    continue
                yield from self.check_one(budget, ctx, subs)
            except RuleConfigError as e:
                if ctx.rendering:
                    ctx.rows.append(listed(self, subs, f"规则配置有误：{e}"))
                yield self.config_finding(subs, str(e))
            finally:
                ctx.when = None

    def check_one(self, budget: Budget, ctx: Context, subs: Mapping[str, str]) -> Iterable[Finding]:
        raise NotImplementedError

    def over_absent(self, ctx: Context, subs: Mapping[str, str], absent: frozenset[str]) -> bool:
        """True when every finding the instance ``subs`` could make would be of a table in ``absent`` (the
        tables a workbook in an official layout does not carry, whose findings the check drops): the instance
        is then not evaluated. Here: the instance is of such a table; kinds that know more say more."""
        return subs.get("table") in absent

    # --- the 校验 sheet --------------------------------------------------------------------------------
    renders: ClassVar[bool] = False     # the kind records its comparisons as formulas (see rules/sheet.py)
    aggregates: ClassVar[bool] = False  # its many comparisons per instance share rows (counts of failures)

    def render(self, budget: Budget, ctx: Context) -> list[SheetRow]:
        """This rule's rows on the 校验 sheet: its comparisons as formulas (the same code path as ``check``,
        on a rendering context), or the rule listed by id and title when it cannot be a formula."""
        ctx.rows = []
        if self.renders:
            for _ in self.check(budget, ctx):
                pass
            rows = aggregate(ctx.rows) if self.aggregates else ctx.rows
        else:
            try:
                rows = [listed(self, subs) for subs in ctx.expand(self.foreach)]
            except RuleConfigError as e:
                rows = [listed(self, {}, f"规则配置有误：{e}")]
        ctx.rows = []
        return rows or [listed(self, {}, f"{LISTED}（本表样无适用项）")]

    def record(self, ctx: Context, subs: Mapping[str, str], op: str, left: Side, right: Side,
               tol: Tolerance | None = None, title: str | None = None) -> None:
        """Record the comparison ``left op right`` as a row of the 校验 sheet (rendering only), with the
        verdict ``compare`` reaches as its cached result. Op "nonzero": the left side must not be 0."""
        tol = tol or self.tol(ctx)
        unit, lv, rv, bound, status = weigh(ctx, op if op != "nonzero" else "eq", left, right, tol,
                                            self.as_printed and op != "nonzero")
        printed = printed_side(left, right) if self.as_printed and op != "nonzero" else None
        if op == "nonzero":
            status = "ok" if lv != 0 else "fail"
        when = ctx.when
        if when is not None and not when[1]:
            status = "na"
        lm, rm = merge(left.operands), merge(right.operands)
        single = left.operands[0].at if len(left.operands) == 1 else None
        lf, rf = side_formula(lm, unit), side_formula(rm, unit)
        if printed is not None:   # the finer side as the coarser unit prints it
            if printed[0] == "right":
                rf = f"ROUND({rf},{printed[2]})"
            else:
                lf = f"ROUND({lf},{printed[2]})"
        ctx.rows.append(SheetRow(
            rule=self.rule_id(subs), title=title or fill(self.zh, subs), severity=self.severity, op=op, unit=unit.unit,
            left=lf, right=rf,
            tolerance=tolerance_formula(tol, [lm, rm], unit), places=places_for(tol, [lm, rm], unit),
            display=unit.display_decimals, when=when[0] if when else None, values=(lv, rv, lv - rv, bound),
            status=status, cell=single))

    # --- helpers for the kinds -----------------------------------------------------------------------
    def rule_id(self, subs: Mapping[str, str]) -> str:
        return fill(self.id, subs)

    def expr(self, key: str, subs: Mapping[str, str]) -> Expr:
        """The expression of field ``key`` with the foreach placeholders of ``subs`` filled in."""
        return parse(fill(str(self.entry[key]), subs))

    def instance(self, subs: Mapping[str, str]) -> dict[str, tuple[tuple[int, str, str, str], ...]]:
        """The (sign, table, row, column) cells (``cells_of``) of each expression field of the rule
        (``expressions``) with the placeholders of ``subs`` filled in. Each instance is worked out once: the
        same codes come back in every submission."""
        k = tuple(subs.items())
        e = self._exprs.get(k)
        if e is None:
            in_place = fills_in_place(subs)
            e = {key: self._cells(key, subs, in_place) for key in self.expressions}
            if len(self._exprs) >= MAX_EXPRS:
                self._exprs.clear()
            self._exprs[k] = e
        return e

    def _cells(self, key: str, subs: Mapping[str, str], in_place: bool) -> tuple[tuple[int, str, str, str], ...]:
        """``cells_of(self.expr(key, subs))``: from the expression as parsed with its placeholders, each part of
        a reference filled in, where every value of ``subs`` is one word of a reference (a code, a table, a
        project, an item), and so cannot change how the filled text parses (``in_place``: whether they are,
        ``fills_in_place(subs)``)."""
        template = self._templates.get(key)
        if template is not None and in_place:
            return tuple((sign, t if t is None else fill(t, subs), r if r is None else fill(r, subs), fill(c, subs))
                         for sign, t, r, c in template)
        return cells_of(self.expr(key, subs))

    def tol(self, ctx: Context) -> Tolerance:
        return self.tolerance or ctx.tolerance

    def make(self, kind: str, severity: Severity, subs: Mapping[str, str], *, cells: Iterable[str | None] = (),
             table: str | None = None, expected: Decimal | None = None, actual: Decimal | None = None,
             difference: Decimal | None = None, tol: Tolerance | None = None, figures: int = 0,
             precisions: "list[Precision] | None" = None, unit: Precision | None = None,
             explained: tuple[Decimal, str, str] | None = None, **params: Any) -> Finding:
        """A finding of this rule. With ``precisions`` (of each figure compared) and ``unit`` (the unit of
        comparison) the tolerance is the interval of those figures (``explained``: ``tol.explain_for`` of them,
        where already known); else ``figures`` of the set's precision."""
        p: dict[str, Any] = {"rule_zh": fill(self.zh, subs), "rule_en": fill(self.en, subs)}
        bound = mode = None
        if tol is not None:
            mode = tol.mode
            if precisions is not None and unit is not None:
                bound, p["mode_zh"], p["mode_en"] = explained or tol.explain_for(precisions, unit)
                bound = bound.normalize()
            else:
                bound = tol.bound(figures).normalize()
                p["mode_zh"] = tol.describe(figures, "zh")
                p["mode_en"] = tol.describe(figures, "en")
        p.update(params)
        seen = tuple(dict.fromkeys(c for c in cells if c))   # each cell once, in order
        return Finding(kind=kind, rule=self.rule_id(subs), severity=severity, cells=seen, expected=expected,
                       actual=actual, difference=difference, tolerance=bound, tolerance_mode=mode, table=table,
                       params=p)

    def config_finding(self, subs: Mapping[str, str], detail: str) -> Finding:
        return Finding(kind="rule-config", rule=self.rule_id(subs), severity=Severity.WARNING,
                       params={"detail": detail})

    def compare(self, ctx: Context, subs: Mapping[str, str], op: str, left: Side, right: Side, *,
                fail_kind: str | None = None, table: str | None = None, **params: Any) -> tuple[Finding, ...]:
        """Compare two sides with the rule's tolerance: no finding, an info residue, or a failure (rendering:
        the comparison becomes a row of the 校验 sheet)."""
        if ctx.rendering:
            self.record(ctx, subs, op, left, right)
            return ()
        if left.figures == 0 and right.figures == 0:
            return ()
        # as ``weigh``, the bound only once the relation does not hold exactly (the common case holds)
        unit = left.precision or right.precision or ctx.layout.tableset.precision
        lv, rv = printed_values(left, right, unit, printed_side(left, right) if self.as_printed else None)
        diff = lv - rv
        if judge(op, diff, ZERO) == "ok":
            return ()
        tol = self.tol(ctx)
        figures = left.figures + right.figures
        precisions = left.precisions + right.precisions
        explained = tol.explain_for(precisions, unit)   # the bound, and how it was obtained (for the finding)
        status = judge(op, diff, explained[0])
        if fail_kind is None:
            fail_kind = "cross-mismatch" if op == "eq" else "bound-violation"
        rel = RELATIONS.get(op, ("等于", "equal to"))
        kind, severity = ("rounding-residue", Severity.INFO) if status == "residue" else (fail_kind, self.severity)
        params.setdefault("lhs", left.text)
        params.setdefault("rhs", right.text + (f"（{right.precision.unit}）" if right.precision is not None
                                               and right.precision.unit != unit.unit else ""))
        params.setdefault("n", figures)
        return (self.make(kind, severity, subs, cells=left.cells + right.cells,
                          table=table or (left.tables + right.tables + [None])[0], expected=rv,
                          actual=lv, difference=diff, tol=tol, figures=figures, precisions=precisions, unit=unit,
                          explained=explained, relation_zh=rel[0], relation_en=rel[1], **params),)


# ---------------------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------------------
def rules_from_entries(entries: Iterable[Mapping[str, Any]], where: str = "rules.toml",
                       conditions: Mapping[str, Condition] | None = None) -> list[Rule]:
    """Rules from ``[[rule]]`` entries; ``conditions`` are the named preconditions of their book."""
    from . import kinds  # noqa: F401  (registers the kinds)

    out: list[Rule] = []
    seen: set[str] = set()
    for entry in entries:
        kind = entry.get("kind")
        if kind not in KINDS:
            raise DescriptionError(f"{where}: rule {entry.get('id', '?')}: unknown kind {kind!r}")
        rule = KINDS[kind](entry, where)
        if rule.id in seen:
            raise DescriptionError(f"{where}: duplicate rule id {rule.id}")
        if rule.when and ":" not in rule.when:
            rule.condition = (conditions or {}).get(rule.when)
            if rule.condition is None:
                raise DescriptionError(f"{where}：规则 {rule.id} 的前提条件 {rule.when!r} 未在 [conditions] 中定义")
        seen.add(rule.id)
        out.append(rule)
    return out


@functools.lru_cache(maxsize=8)
def _cached_book(path: str, mtime: float) -> tuple[dict[str, Any], dict[str, Condition]]:
    """A rule book parsed once: its entries and its named preconditions."""
    name = Path(path).name
    try:
        book = tomlfile.load(path)
    except tomlfile.TOMLDecodeError as e:
        raise DescriptionError(f"{name}: {e}") from None
    return book, conditions_from(book, name)


@functools.lru_cache(maxsize=8)
def _cached_rules(path: str, mtime: float) -> tuple[Rule, ...]:
    book, conditions = _cached_book(path, mtime)
    return tuple(rules_from_entries(book.get("rule", []), Path(path).name, conditions))


_VALIDATED: set[tuple[str, str, float]] = set()


def book_conditions(tableset: "TableSet") -> dict[str, Condition]:
    """The named preconditions (``[conditions.NAME]``) of a table set's rule book."""
    if tableset.rules_file is None or not tableset.rules_file.is_file():
        return {}
    return _cached_book(str(tableset.rules_file), tableset.rules_file.stat().st_mtime)[1]


def load_rules(tableset: "TableSet | str" = "xj11") -> list[Rule]:
    """The rules of a table set's rule book, in book order (enabled or not), checked against the set: a
    reference to a table, row or column the set lacks is a DescriptionError. A set without a rule book
    has no rules (``check`` then reports that nothing was checked); a rule book the set names but that
    does not exist is an error."""
    ts = load_tableset(tableset) if isinstance(tableset, str) else tableset
    if ts.rules_file is None:
        return []
    if not ts.rules_file.is_file():
        raise DescriptionError(f"表样 {ts.id} 的规则簿 {ts.rules_file.name} 不存在")
    mtime = ts.rules_file.stat().st_mtime
    rules = list(_cached_rules(str(ts.rules_file), mtime))
    key = (str(ts.folder), str(ts.rules_file), mtime)
    if key not in _VALIDATED:
        for rule in rules:
            try:
                rule.validate(ts)
            except DescriptionError as e:
                raise DescriptionError(f"{ts.rules_file.name}：规则 {rule.id}：{e}") from None
        _VALIDATED.add(key)
    return rules


def rules_for(layout: Layout) -> list[Rule]:
    return [r for r in load_rules(layout.tableset) if r.enabled]


# ---------------------------------------------------------------------------------------------------------
# Small shared helpers for the kinds
# ---------------------------------------------------------------------------------------------------------
def layout_plan(layout: Layout, key: Any, build: "Callable[[], Any]") -> Any:
    """What a rule derives from the layout alone (which cells a kind compares, their operands), built once
    per layout and kept with it."""
    plans = layout.__dict__.setdefault("_rule_plans", {})
    plan = plans.get(key)
    if plan is None:
        plan = plans[key] = build()
    return plan


def table_plan(layout: Layout, t: LTable, key: str, build: "Callable[[], Any]") -> Any:
    """``layout_plan`` of what a rule derives from one table and names by row keys only (never the rows
    themselves, whose labels may differ): for a static table (whose rows, roles and sums are the same in every
    layout, ``is_static``) built once for every layout, unless the plan says it is not ``portable``."""
    static = is_static(t.desc)
    if static:
        got = _STATIC_PLANS.find((key, id(t.desc)), t.desc)
        if got is not Shared.NOT_KEPT:
            return got
    plans = layout.__dict__.setdefault("_rule_plans", {})
    plan = plans.get((key, t.id))
    if plan is None:
        plan = build()
        if static and getattr(plan, "portable", True):
            _STATIC_PLANS.put((key, id(t.desc)), t.desc, plan)
        else:
            plans[(key, t.id)] = plan
    return plan


_STATIC_PLANS = Shared(MAX_EXPRS)


def row_label(row: LRow) -> str:
    """The row as the user sees it (its code and name, its project, its label); "" for a blank spare row,
    whose internal key never reaches a message."""
    if row.project:
        return row.project_name or row.project
    if row.code:
        return f"{row.code} {row.label}".strip()
    return row.label or ""


def column_label(t: LTable, row: LRow, ckey: str) -> str:
    col = t.column(row, ckey)
    return col.header[-1] if col.header else ckey


def cell_name(t: LTable, row: LRow, ckey: str, lang: str) -> str:
    """``表6“301 工资福利支出”行“人员经费”列`` / ``表6 row “…” column “…”``."""
    label = row_label(row)
    if lang == "en":
        which = f"row “{label}”" if label else f"row {row.r + 1}"
        return f"{t.sheet} {which} column “{column_label(t, row, ckey)}”"
    which = f"“{label}”行" if label else f"第 {row.r + 1} 行"
    return f"{t.sheet}{which}“{column_label(t, row, ckey)}”列"


def table_names(ctx: "Context", t: LTable) -> dict[str, str]:
    """``table_zh``/``table_en`` params: ``表8 政府性基金预算支出情况表``; a project's 绩效 table by its project."""
    if t.project:
        name = ctx.layout.spec.project(t.project).name
        return {"table_zh": f"项目“{name}”的{t.title}（{t.sheet}）",
                "table_en": f"the {t.title} of project “{name}” ({t.sheet})"}
    text = t.title if t.title.startswith(t.sheet) else f"{t.sheet} {t.title}"
    return {"table_zh": text, "table_en": text}


def note_position(t: LTable) -> str | None:
    return f"{t.sheet}!{a1(t.note_row, 0)}" if t.note_row is not None else None
