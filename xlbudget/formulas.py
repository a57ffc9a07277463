"""Excel formula text for the cells of a layout: what the template writes, what the reader expects to find
and what the rules' live 校验 sheet refers to. A sibling of :mod:`xlbudget.layout` (positions come from it)."""

from __future__ import annotations

from . import layout as L
from .layout import Layout, LRow, LTable
from .tableset import Column, Precision

LITERAL_MAX = 255  # Excel's limit on one string literal in a formula


def text(value: str) -> str:
    """A string as an Excel formula literal: in quotes, every quote doubled, so that text from a spec or an
    option (a department named ``X"&HYPERLINK(…)&"``) stays text and never becomes part of the formula;
    longer than Excel's 255 characters, it is joined from pieces with ``&``. Every string placed in a
    formula goes through here."""
    s = str(value)
    pieces = [s[i:i + LITERAL_MAX] for i in range(0, len(s), LITERAL_MAX)] or [""]
    return "&".join('"' + p.replace('"', '""') + '"' for p in pieces)


def cell_addr(layout: Layout, here: LTable, tid: str, rkey: str, ckey: str) -> str | None:
    """A1 reference of a cell as seen from sheet ``here`` (None when the row does not exist)."""
    t = layout.tables.get(tid)
    if t is None or rkey not in t.rows:
        return None
    r, c = t.pos(rkey, ckey)
    ref = L.a1(r, c)
    return ref if t is here else f"{L.quote_sheet(t.sheet)}!{ref}"


def _spare_range(t: LTable, here: LTable | None, key: str | None) -> str | None:
    """The range of column ``key`` (the code column when None) over the spare rows of a table."""
    spares = [r for r in t.rows.values() if r.spare]
    if not spares:
        return None
    block = spares[0].block
    if key is None:
        key = next(c.key for c in t.desc.block(block).columns if c.kind == "code")
    col, _ = t.colpos[(block, key)]
    sheet = "" if t is here else L.quote_sheet(t.sheet) + "!"
    return f"{sheet}{L.a1(spares[0].r, col, True)}:{L.a1(spares[-1].r, col, True)}"


def spare_codes(layout: Layout, t: LTable) -> str | None:
    """The range of the code cells of a table's spare rows (generic templates), seen from another sheet."""
    return _spare_range(t, None, None)


def spare_aggregate(layout: Layout, here: LTable | None, tid: str, prefix: str, ckey: str) -> tuple[str, str] | None:
    """A coded row of a table whose leaf rows carry their codes as inputs (generic templates): the sum of
    the spare rows whose code starts with ``prefix``, and the count of those that hold a number."""
    t = layout.tables.get(tid)
    if t is None:
        return None
    codes, vals = _spare_range(t, here, None), _spare_range(t, here, ckey)
    if codes is None or vals is None:
        return None
    match = f"(LEFT({codes},{len(prefix)})={text(prefix)})"
    return f"SUMPRODUCT({match}*{vals})", f"(SUMPRODUCT({match}*ISNUMBER({vals}))>0)"


def conversion(src: Precision | None, dst: Precision) -> str:
    """``*10000`` or ``/10000`` to append to a figure kept in ``src``'s unit to express it in ``dst``'s."""
    if src is None or src.unit == dst.unit:
        return ""
    ratio = src.factor / dst.factor
    return f"*{ratio.normalize():f}" if ratio > 1 else f"/{(1 / ratio).normalize():f}"


def unit_factor(layout: Layout, src_table: str, src_col: str, dst_table: str, dst_col: str) -> str:
    """The conversion of a reference whose unit differs from the cell's (``""`` in the same unit)."""
    return conversion(layout.precision(src_table, src_col), layout.precision(dst_table, dst_col))


def formula(layout: Layout, t: LTable, row: LRow, col: Column) -> str | None:
    """Excel formula (without '=') of a formula or sum cell, or None when it has no operands."""
    role = layout.cell_role(t, row, col)
    if role == "formula":
        expr = layout.expr_of(t, row, col)
        parts: list[str] = []
        for term in expr.terms:
            ref = term.ref.resolve(t.id, row.key)
            a = cell_addr(layout, t, ref.table, ref.row, ref.col)
            if a is None and ref.row.isdigit():
                agg = spare_aggregate(layout, t, ref.table, ref.row, ref.col)
                a = agg[0] if agg else None
            if a is None:
                continue
            a += unit_factor(layout, ref.table, ref.col, t.id, col.key)
            if term.sign < 0:
                parts.append("-" + a)
            else:
                parts.append(("+" if parts else "") + a)
        return "".join(parts) if parts else None
    if role == "sum":
        return sum_formula(t, row, col)
    return None


def sum_formula(t: LTable, row: LRow, col: Column) -> str:
    """The formula of a sum cell: its child rows in column ``col`` (a range where they are contiguous)."""
    return _sum_pattern(t, row).replace("{c}", L.col_letter(t.colpos[(row.block, col.key)][0]))


def _sum_pattern(t: LTable, row: LRow) -> str:
    """``sum_formula`` of a row, ``{c}`` for the column's letter."""
    if not row.children:
        return "0"
    rs = sorted(t.rows[k].r + 1 for k in row.children)
    if len(rs) == 1:
        return f"{{c}}{rs[0]}"
    if rs == list(range(rs[0], rs[-1] + 1)):
        return f"SUM({{c}}{rs[0]}:{{c}}{rs[-1]})"
    return "SUM(" + ",".join(f"{{c}}{r}" for r in rs) + ")"


_UNKNOWN, _ELSEWHERE = object(), object()  # a column formula not yet seen; one not over its own row only


class TableFormulas:
    """``formula()`` for every cell of one table, a column formula over the same row written once per column
    with the row number left open. What it gives is what ``formula()`` gives, cell by cell (a test holds them
    equal on every shipped set)."""

    def __init__(self, layout: Layout, t: LTable):
        self.layout = layout
        self.t = t
        self._columns: dict[tuple[str, str], object] = {}  # (block, column) -> its pattern, None or _ELSEWHERE
        self._sums: dict[str, str] = {}  # row key -> its sum_formula, {c} for the column

    def text(self, row: LRow, col: Column, role: str | None = None) -> str | None:
        """``formula(layout, t, row, col)``; ``role`` is the cell's role when the caller knows it."""
        layout, t = self.layout, self.t
        role = role or layout.cell_role(t, row, col)
        if role == "formula":
            expr = col.formula
            if expr is None or row.record is not None:
                return formula(layout, t, row, col)
            key = (row.block, col.key)
            pattern = self._columns.get(key, _UNKNOWN)
            if pattern is _UNKNOWN:
                local = all(term.ref.table is None and term.ref.row is None for term in expr.terms)
                pattern = self._columns[key] = self._column(row, col) if local else _ELSEWHERE
            if pattern is _ELSEWHERE:  # names cells of other rows or tables: written cell by cell
                return formula(layout, t, row, col)
            return pattern.replace("{r}", str(row.r + 1)) if pattern is not None else None
        if role == "sum":
            pattern = self._sums.get(row.key)
            if pattern is None:
                pattern = self._sums[row.key] = _sum_pattern(t, row)
            return pattern.replace("{c}", L.col_letter(t.colpos[(row.block, col.key)][0]))
        return None

    def _column(self, row: LRow, col: Column) -> str | None:
        """The text of a column formula whose operands are cells of the same row, ``{r}`` for the row."""
        t = self.t
        parts: list[str] = []
        assert col.formula is not None
        for term in col.formula.terms:
            c, _ = t.colpos[(row.block, term.ref.col)]
            a = L.col_letter(c) + "{r}" + unit_factor(self.layout, t.id, term.ref.col, t.id, col.key)
            parts.append("-" + a if term.sign < 0 else ("+" if parts else "") + a)
        return "".join(parts) if parts else None
