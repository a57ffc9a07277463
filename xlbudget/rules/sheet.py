"""The rule book as live formulas: the rows of the template's 校验 sheet.

The sheet is not a second interpreter of the rule book. :func:`sheet_rows` runs the very rule objects that
``xlbudget check`` runs, on a :class:`~xlbudget.rules.base.Context` in *rendering* mode: every comparison a
rule makes (``Rule.compare`` and the few kinds that record their own) becomes a :class:`SheetRow` instead of
a finding. The figures on both sides are the published figures (``ROUND(cell, decimals)``), converted into
the unit of the left side, and the tolerance is the same interval (each non-blank figure's half-unit,
``COUNT`` telling blank from entered). The cached value of every formula is what ``check`` computes, so a
viewer that does not recalculate shows the same verdicts.

A rule kind that cannot be written as a formula (classification codes against the catalogue, texts …)
is still listed, by id and title, as checked by ``xlbudget check``.

Only SUM/SUMPRODUCT/ROUND/IF/ABS/AND/COUNT/COUNTIF-level functions are written (portable to Excel 2007+,
WPS and LibreOffice).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Iterable, Sequence

from msgspec import Struct

from ..findings import Severity
from ..formulas import conversion
from ..tableset import Precision

if TYPE_CHECKING:  # pragma: no cover
    from ..model import Budget
    from .base import Side
    from .tolerance import Tolerance

__all__ = ["LISTED", "STATUS", "Operand", "SheetRow", "sheet_rows"]

# What the result column says for each verdict of ``judge`` (plus a precondition that does not hold).
STATUS = {"ok": "一致", "residue": "尾差", "fail": "不一致", "na": "不适用"}
LISTED = "由 xlbudget check 校验"
MAX_ARGS = 255            # arguments of one Excel function call


class Operand(Struct, frozen=True):
    """One figure of a side as an Excel expression.

    ``ref`` is a cell (``'表6'!C12``), a range (``'表6'!C12:C20``) or an expression (an aggregate over
    spare rows, a constant). ``count`` is the Excel expression counting its non-blank figures (None for a
    constant, which carries no rounding interval); ``rounded`` says whether the figure is compared as
    published (``ROUND(ref, decimals)``) or as entered.
    """

    sign: int
    ref: str
    precision: Precision | None
    count: str | None
    rounded: bool = True
    at: tuple[str, int, int] | None = None     # a single cell: (table id, sheet row, sheet column)

    @classmethod
    def cell(cls, sign: int, ref: str, precision: Precision, rounded: bool = True,
             at: tuple[str, int, int] | None = None) -> "Operand":
        return cls(sign, ref, precision, ref, rounded, at)

    @classmethod
    def constant(cls, value: Decimal) -> "Operand":
        return cls(1, f"{value.normalize():f}", None, None, rounded=False)


class SheetRow(Struct):
    """One row of the 校验 sheet: a comparison written as formulas, or a rule listed by id."""

    rule: str
    title: str
    severity: Severity
    op: str | None = None                  # "eq", "ge", "le", "nonzero", "count"; None: listed only
    unit: str = ""
    left: str = "0"
    right: str = "0"
    tolerance: str = "0"
    places: int = 2
    display: int = 2                       # decimals the sides are shown with
    when: str | None = None                # Excel condition: the rule applies only while it holds
    values: tuple[Decimal, Decimal, Decimal, Decimal] | None = None   # left, right, difference, bound
    status: str = "ok"                     # "ok", "residue", "fail", "na" (what ``check`` finds)
    note: str = ""
    cell: tuple[str, int, int] | None = None   # the one cell of the left side (turns red where it stands)

    @property
    def formula(self) -> bool:
        return self.op is not None

    def result_formula(self, left: str, right: str, diff: str, bound: str) -> str:
        """The result cell's formula over the cells holding the two sides, the difference and the bound."""
        ok, residue, fail, na = (f'"{STATUS[k]}"' for k in ("ok", "residue", "fail", "na"))
        if self.op == "nonzero":
            verdict = f"IF(ROUND({left},{self.places})<>0,{ok},{fail})"
        elif self.op == "count":   # an aggregate: cells that fail, cells that differ at all
            verdict = f"IF({left}>0,{fail},IF({right}>0,{residue},{ok}))"
        else:
            verdict = f"IF({_holds(self.op, diff)},{ok},IF({_excess(self.op, diff)}<={bound},{residue},{fail}))"
        return f"IF({self.when},{verdict},{na})" if self.when else verdict

    def fail_condition(self, left: str, right: str) -> str | None:
        """An Excel condition true while the rule fails (for conditional formats), None for "nonzero"."""
        if self.op not in ("eq", "ge", "le"):
            return None
        diff = f"ROUND({left}-({right}),{self.places})"
        cond = f"{_excess(self.op, diff)}>ROUND({self.tolerance},{self.places})"
        return f"AND({self.when},{cond})" if self.when else cond


MAX_FORMULA = 8000        # characters of one formula (Excel's limit is 8192)


def aggregate(rows: Sequence[SheetRow]) -> list[SheetRow]:
    """Many comparisons of one rule instance (every total cell of a table) in few rows: per chunk, the
    number of cells that fail and the number that differ at all (a difference within the tolerance being
    a rounding residue). A comparison too long to share a row keeps its own."""
    out: list[SheetRow] = []
    groups: list[list[SheetRow]] = []
    for row in rows:
        if groups and groups[-1][0].rule == row.rule:
            groups[-1].append(row)
        else:
            groups.append([row])
    for group in groups:
        chunk: list[tuple[SheetRow, str, str]] = []
        size = 0
        for row in group:
            if row.op not in ("eq", "ge", "le"):
                out.append(row)
                continue
            diff = f"ROUND({row.left}-({row.right}),{row.places})"
            fails = f"({_excess(row.op, diff)}>ROUND({row.tolerance},{row.places}))"
            differs = f"({_excess(row.op, diff)}>0)"
            if row.when:
                fails, differs = f"AND({row.when},{fails})", f"AND({row.when},{differs})"
            if len(fails) + 1 > MAX_FORMULA:
                out.append(row)
                continue
            if chunk and size + len(fails) + 1 > MAX_FORMULA:
                out.append(_count_row(chunk))
                chunk, size = [], 0
            chunk.append((row, fails, differs))
            size += len(fails) + 1
        if chunk:
            out.append(_count_row(chunk))
    return out


def _count_row(chunk: list[tuple[SheetRow, str, str]]) -> SheetRow:
    first = chunk[0][0]
    fails = sum(1 for r, _, _ in chunk if r.status == "fail")
    differs = sum(1 for r, _, _ in chunk if r.status in ("fail", "residue"))
    units = {r.unit for r, _, _ in chunk}
    return SheetRow(rule=first.rule, title=f"{first.title}（{len(chunk)} 个单元格；左：不一致数，右：有差额数）",
                    severity=first.severity, op="count", unit=units.pop() if len(units) == 1 else "",
                    left="+".join(f for _, f, _ in chunk), right="+".join(d for _, _, d in chunk), places=0,
                    display=0, values=(Decimal(fails), Decimal(differs), Decimal(0), Decimal(0)),
                    status="fail" if fails else ("residue" if differs else "ok"))


def _holds(op: str, diff: str) -> str:
    return {"eq": f"{diff}=0", "ge": f"{diff}>=0", "le": f"{diff}<=0"}[op]


def _excess(op: str, diff: str) -> str:
    return {"eq": f"ABS({diff})", "ge": f"-{diff}", "le": diff}[op]


# ---------------------------------------------------------------------------------------------------------
# Sides as formulas
# ---------------------------------------------------------------------------------------------------------
def merge(ops: Sequence[Operand]) -> list[Operand]:
    """Consecutive cells of one column of one sheet (same sign and precision) become one range."""
    out: list[Operand] = []
    run: list[Operand] = []

    def flush() -> None:
        if len(run) == 1:
            out.append(run[0])
        elif run:
            rng = f"{run[0].ref}:{run[-1].ref.rsplit('!', 1)[1]}"
            out.append(Operand(run[0].sign, rng, run[0].precision, rng, run[0].rounded))
        run.clear()

    for op in ops:
        if op.at is None:
            flush()
            out.append(op)
            continue
        if run:
            prev = run[-1]
            assert prev.at is not None
            if not (prev.at[0] == op.at[0] and prev.at[2] == op.at[2] and prev.at[1] + 1 == op.at[1]
                    and prev.sign == op.sign and prev.precision == op.precision and prev.rounded == op.rounded):
                flush()
        run.append(op)
    flush()
    return out


def _term(op: Operand, unit: Precision) -> str:
    ranged = ":" in op.ref and op.count == op.ref
    if op.rounded and op.precision is not None:
        d = op.precision.display_decimals
        body = f"SUMPRODUCT(ROUND({op.ref},{d}))" if ranged else f"ROUND({op.ref},{d})"
    else:
        body = f"SUM({op.ref})" if ranged else op.ref
    return body + conversion(op.precision, unit)


def side_formula(side: "Side | Sequence[Operand]", unit: Precision) -> str:
    """The published total of a side (or of its merged operands) in the unit of ``unit`` (an Excel
    expression, "0" when empty)."""
    out = ""
    for op in merge(side.operands) if not isinstance(side, (list, tuple)) else side:
        t = _term(op, unit)
        out += ("-" if op.sign < 0 else ("+" if out else "")) + t
    return out or "0"


def nonzero_count(ops: Sequence[Operand]) -> str:
    """How many of the cells hold a figure other than 0 (an Excel expression)."""
    terms = [f"SUMPRODUCT(({op.ref}<>0)*1)" if ":" in op.ref else f"({op.ref}<>0)*1" for op in merge(ops)]
    return "+".join(terms) or "0"


def _counted(sides: Iterable[Sequence[Operand]]) -> dict[Precision, list[Operand]]:
    groups: dict[Precision, list[Operand]] = {}
    for ops in sides:
        for op in ops:
            if op.count is not None and op.precision is not None:
                groups.setdefault(op.precision, []).append(op)
    return groups


def tolerance_formula(tol: "Tolerance", sides: Sequence[Sequence[Operand]], unit: Precision) -> str:
    """The bound of ``Tolerance.bound_for`` as an Excel expression: each non-blank figure's half-unit
    (``sides``: the merged operands of each side)."""
    if tol.mode != "interval":
        return f"{tol.amount.normalize():f}"
    parts = []
    for p, ops in _counted(sides).items():
        half = p.convert(p.half, unit).normalize()
        direct = [op.ref for op in ops if op.count == op.ref]      # cells and ranges: COUNT tells the blanks
        exprs = [op.count for op in ops if op.count != op.ref]     # aggregates count themselves
        chunks = [f"COUNT({','.join(direct[i:i + MAX_ARGS])})" for i in range(0, len(direct), MAX_ARGS)] + exprs
        parts.append(f"{half:f}*({'+'.join(chunks)})" if len(chunks) > 1 else f"{half:f}*{chunks[0]}")
    return "+".join(parts) or "0"


def places_for(tol: "Tolerance", sides: Sequence[Sequence[Operand]], unit: Precision) -> int:
    """Decimals that hold every figure and half-unit of a comparison exactly (differences are rounded to
    them, which removes the noise of binary floating point)."""
    places = unit.display_decimals + 1
    for p in {op.precision for ops in sides for op in ops if op.precision is not None}:
        places = max(places, -p.convert(p.half, unit).normalize().as_tuple().exponent)
    if tol.mode != "interval":
        places = max(places, -tol.amount.normalize().as_tuple().exponent)
    return min(max(places, 0), 12)


# ---------------------------------------------------------------------------------------------------------
# The rows of a workbook
# ---------------------------------------------------------------------------------------------------------
_PLACEHOLDER = re.compile(r"\{\w+\}")


def listed(rule, subs=None, note: str = LISTED) -> SheetRow:
    """A rule (instance) that is checked by ``xlbudget check`` only."""
    from .base import fill

    subs = subs or {}
    return SheetRow(rule=_PLACEHOLDER.sub("…", fill(rule.id, subs)), title=_PLACEHOLDER.sub("…", fill(rule.zh, subs)),
                    severity=rule.severity, note=note)


def sheet_rows(budget: "Budget", rules=None) -> list[SheetRow]:
    """Every row of the 校验 sheet of ``budget``'s workbook, in rule-book order: the enabled rules of its
    table set (or ``rules``) rendered by the same objects that ``check`` runs."""
    from .base import Context, rules_for

    from .base import load_rules

    ctx = Context(budget, rendering=True)
    out: list[SheetRow] = []
    if rules is None:
        rules = rules_for(budget.layout)
        if not load_rules(budget.layout.tableset):
            out.append(SheetRow(rule="RULES.none", title=f"表样 {budget.layout.tableset.id} 没有规则簿，未做任何勾稽校验",
                                severity=Severity.ERROR, note=LISTED))
    for rule in rules:
        out.extend(rule.render(budget, ctx))
    return out
