"""Excel formula text for the cells of a layout (shared by the template writer and the reader's integrity checks)."""

from __future__ import annotations

from .. import layout as L
from ..layout import Layout, LRow, LTable
from ..tableset import Column

# The sheets every template carries besides its tables (the reader knows them without importing the writer).
META_SHEET = "xlbudget"
CODE_SHEET = "代码表"
CHECK_SHEET = "校验"


def cell_addr(layout: Layout, here: LTable, tid: str, rkey: str, ckey: str) -> str | None:
    """A1 reference of a cell as seen from sheet ``here`` (None when the row does not exist)."""
    t = layout.tables.get(tid)
    if t is None or rkey not in t.rows:
        return None
    r, c = t.pos(rkey, ckey)
    ref = L.a1(r, c)
    return ref if t is here else f"{L.quote_sheet(t.sheet)}!{ref}"


def _spare_aggregate(layout: Layout, here: LTable, tid: str, prefix: str, ckey: str) -> str | None:
    t = layout.tables.get(tid)
    if t is None:
        return None
    spares = [r for r in t.rows.values() if r.spare]
    if not spares:
        return None
    block = spares[0].block
    code_col, _ = t.colpos[(block, "code")]
    val_col, _ = t.colpos[(block, ckey)]
    r0, r1 = spares[0].r, spares[-1].r
    sheet = "" if t is here else L.quote_sheet(t.sheet) + "!"
    codes = f"{sheet}{L.a1(r0, code_col, True)}:{L.a1(r1, code_col, True)}"
    vals = f"{sheet}{L.a1(r0, val_col, True)}:{L.a1(r1, val_col, True)}"
    return f'SUMPRODUCT((LEFT({codes},{len(prefix)})="{prefix}")*{vals})'


def _join_refs(refs: list[str]) -> str:
    return "+".join(refs)


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
                a = _spare_aggregate(layout, t, ref.table, ref.row, ref.col)
            if a is None:
                continue
            if term.sign < 0:
                parts.append("-" + a)
            else:
                parts.append(("+" if parts else "") + a)
        return "".join(parts) if parts else None
    if role == "sum":
        kids = [t.rows[k] for k in row.children]
        if not kids:
            return "0"
        c0, _ = t.colpos[(row.block, col.key)]
        rs = sorted(k.r for k in kids)
        if rs == list(range(rs[0], rs[-1] + 1)) and len(rs) > 1:
            return f"SUM({L.a1(rs[0], c0)}:{L.a1(rs[-1], c0)})"
        if len(rs) == 1:
            return f"{L.a1(rs[0], c0)}"
        return "SUM(" + ",".join(L.a1(r, c0) for r in rs) + ")"
    return None
