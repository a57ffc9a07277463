"""The canonical data model: one document per submission, and the figures computed from it.

The document holds what an accountant enters, once (inputs only):

    {"format": "xlbudget/1", "spec": {...department spec...},
     "tables": {"T2": {"2014101": {"gp": Decimal("54.812")}}, "T7": {"p1": {"e302": ...}}, ...},
     "performance": {...}, "facts": {...}}

Every total is computed here from the inputs by the formulas of the table descriptions, exactly as the
workbook computes it. ``published(t, r, c)`` is the figure as printed (rounded half-up to the display
decimals, each figure on its own).
"""

from __future__ import annotations

import copy
import json
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from . import tomlfile
from .errors import DataError
from .layout import Layout, LRow, LTable, layout_for
from .spec import Spec
from .tableset import Column, Precision

FORMAT = "xlbudget/1"
ZERO = Decimal(0)
_UNSET = object()
_INPUT = "input"    # the operation of a grid input cell (``Budget._row_operations``): its figure in the document
# Rounding never fails for lack of precision, whatever the size of a sum (inputs are bounded when read).
_ROUNDING = Context(prec=80, rounding=ROUND_HALF_UP)


def q(value: Decimal | None, decimals: int = 2) -> Decimal | None:
    if value is None:
        return None
    return value.quantize(quantum(decimals), ROUND_HALF_UP, _ROUNDING)  # (positional: keywords cost as much)


def quantum(decimals: int) -> Decimal:
    """10^-decimals: the last digit printed at ``decimals`` decimals."""
    got = _QUANTA.get(decimals)
    if got is None:
        got = _QUANTA[decimals] = Decimal(1).scaleb(-decimals)
    return got


_QUANTA: dict[int, Decimal] = {}  # decimals -> 10^-decimals


def to_decimal(v: Any) -> Decimal | None:
    if v is None or v == "":
        return None
    if isinstance(v, Decimal):
        return v
    if isinstance(v, float):
        v = repr(round(v, 10))
    try:
        return Decimal(str(v))
    except InvalidOperation:
        raise DataError(f"not a number: {v!r}") from None


def _figure(raw: Any) -> Decimal | None:
    """The figure an input cell of the document holds: its Decimal, a number read from its text, None for
    nothing (or a list or mapping, which is no figure)."""
    if raw is None or raw.__class__ is Decimal:
        return raw
    return to_decimal(raw) if not isinstance(raw, (list, dict)) else None


def get_path(doc: dict, path: tuple[str, ...] | list) -> Any:
    cur: Any = doc
    for p in path:
        if isinstance(cur, dict):
            cur = cur.get(p)
        elif isinstance(cur, list) and isinstance(p, int):
            cur = cur[p] if p < len(cur) else None
        else:
            return None
        if cur is None:
            return None
    return cur


def set_path(doc: dict, path: tuple | list, value: Any) -> None:
    cur = holder(doc, path)
    last = path[-1]
    if isinstance(cur, list):
        while len(cur) <= last:
            cur.append(None)
        cur[last] = value
    else:
        cur[last] = value


def holder(doc: dict, path: tuple | list) -> Any:
    """The mapping or list that holds (or is to hold) the value at ``path``, made where missing."""
    cur: Any = doc
    for i in range(len(path) - 1):
        cur = step(cur, path[i], path[i + 1])
    return cur


def step(cur: dict | list, p: Any, nxt: Any) -> Any:
    """``cur[p]``, made where missing: a list when ``nxt``, the key below it, is an index, else a mapping."""
    if isinstance(cur, list):
        while len(cur) <= p:
            cur.append({} if not isinstance(nxt, int) else [])
        return cur[p]
    if p not in cur or cur[p] is None:
        cur[p] = [] if isinstance(nxt, int) else {}
    return cur[p]


class Budget:
    """A document bound to its layout, with every figure computable."""

    def __init__(self, layout: Layout, doc: dict[str, Any]):
        self.layout = layout
        self.doc = doc
        # how each kind of row computes its totals (see _row_operations), once per layout: rows alike by their
        # roles (Layout.roles), rows with operations of their own by (table, row)
        self._alike, self._own = layout.__dict__.setdefault("_operations", ({}, {}))
        self._memo: dict[tuple[str, str, str], Decimal | None] = {}
        # the published figures, by column: (table, column) -> (quantum of its display decimals, row -> figure,
        # its precision)
        self._published: dict[tuple[str, str], tuple[Decimal, dict[str, Decimal | None], Precision]] = {}
        # Formula cells overwritten by constants in a submitted workbook: the constant is what the
        # department sees and publishes, so the rules see it too (the reader reports the overwrite).
        self.overrides: dict[tuple[str, str, str], Decimal | None] = {}
        # Workbooks in an official layout (xlbudget.official): the real cell of each template coordinate,
        # and the tables the workbook does not carry (no rule is evaluated over them).
        self.cell_map: dict[str, str] = {}
        self.printed_labels: dict[tuple[str, str], str] = {}   # (table, row) -> the name as the file prints it
        self.absent_tables: frozenset[str] = frozenset()
        self.source = "template"

    @property
    def spec(self) -> Spec:
        return self.layout.spec

    @property
    def decimals(self) -> int:
        """The set's default display decimals (each table or column may set its own: ``precision``)."""
        return self.layout.tableset.display_decimals

    def precision(self, tid: str, ckey: str | None = None):
        """Unit and decimals of a column of a table (see ``TableDesc.precision``)."""
        return self.layout.precision(tid, ckey)

    # --- addresses -----------------------------------------------------------------------------------
    @staticmethod
    def input_path(t: LTable, row: LRow, col: Column) -> tuple:
        if row.record is not None:
            return tuple(row.path or ()) + (row.record, col.key)
        if col.kind == "field":
            return tuple(row.path or ())
        return ("tables", t.id, row.key, col.key)

    def raw(self, t: LTable, row: LRow, col: Column) -> Any:
        if row.record is None and col.kind != "field":  # grid inputs, the hot path
            return self._grid_input(t.id, row.key, col.key)
        return get_path(self.doc, self.input_path(t, row, col))

    def _grid_input(self, tid: str, rkey: str, ckey: str) -> Any:
        """What the document holds for an input of a grid row: tables.<t>.<row>.<col>, None if nothing."""
        v = self.doc.get("tables")
        for k in (tid, rkey, ckey):
            if not isinstance(v, dict):
                return None
            v = v.get(k)
            if v is None:
                return None
        return v

    # --- values --------------------------------------------------------------------------------------
    def value(self, tid: str, rkey: str, ckey: str) -> Decimal | None:
        k = (tid, rkey, ckey)
        v = self._memo.get(k, _UNSET)
        if v is _UNSET:
            v = self.overrides[k] if k in self.overrides else self._compute(tid, rkey, ckey)
            self._memo[k] = v
        return v

    def know(self, figures: dict[tuple[str, str, str], Decimal]) -> None:
        """Take the values of input cells as just read (each the Decimal the document holds there), so that
        computing the totals does not look each one up again."""
        self._memo.update(figures)

    def recomputed(self, tid: str, rkey: str, ckey: str) -> Decimal | None:
        """The value the layout's formula gives, ignoring any overwrite of this cell."""
        if (tid, rkey, ckey) not in self.overrides:  # then it is the value: memoised for the rules
            return self.value(tid, rkey, ckey)
        return self._compute(tid, rkey, ckey)

    def published(self, tid: str, rkey: str, ckey: str) -> Decimal | None:
        """The figure as printed: rounded half-up to the display decimals of its column, on its own."""
        column = self._published.get((tid, ckey))
        if column is None:
            column = self._column(tid, ckey)
        v = column[1].get(rkey, _UNSET)
        if v is _UNSET:
            v = self._publish(tid, rkey, ckey, column)
        return v

    def figure(self, tid: str, rkey: str, ckey: str) -> tuple[Decimal | None, Precision]:
        """(``published``, ``precision``) of a cell: the figure as printed and the unit it is printed in."""
        column = self._published.get((tid, ckey))  # (as ``published``, the column looked up once for both)
        if column is None:
            column = self._column(tid, ckey)
        v = column[1].get(rkey, _UNSET)
        if v is _UNSET:
            v = self._publish(tid, rkey, ckey, column)
        return v, column[2]

    def published_of(self, tid: str, ckey: str, rkeys: Iterable[str]) -> Mapping[str, Decimal | None]:
        """The published figures of column ``ckey`` of table ``tid`` as a mapping row -> figure that holds (at
        least) the rows ``rkeys``: ``published`` of many cells of a column, its decimals looked up once."""
        column = self._published.get((tid, ckey))
        if column is None:
            column = self._column(tid, ckey)
        quantum, known, _ = column
        memo = self._memo
        for rkey in rkeys:
            if rkey not in known:  # as _publish does
                v = memo.get((tid, rkey, ckey), _UNSET)
                if v is _UNSET:
                    v = self.value(tid, rkey, ckey)
                known[rkey] = v if v is None else v.quantize(quantum, ROUND_HALF_UP, _ROUNDING)
        return known

    def _column(self, tid: str, ckey: str) -> tuple[Decimal, dict[str, Decimal | None], Precision]:
        precision = self.layout.precision(tid, ckey)
        column = self._published[(tid, ckey)] = (quantum(precision.display_decimals), {}, precision)
        return column

    def _publish(self, tid: str, rkey: str, ckey: str, column: tuple) -> Decimal | None:
        """The published figure of a cell not yet published, kept in its ``column``."""
        v = self._memo.get((tid, rkey, ckey), _UNSET)
        if v is _UNSET:
            v = self.value(tid, rkey, ckey)
        if v is not None:
            v = v.quantize(column[0], ROUND_HALF_UP, _ROUNDING)
        column[1][rkey] = v
        return v

    def invalidate(self) -> None:
        """Forget computed figures (after inputs or overrides changed)."""
        self._memo.clear()
        self._published.clear()

    def _aggregate(self, t: LTable, prefix: str, ckey: str) -> Decimal | None:
        """Value of a code in a table whose leaf rows carry their codes as data (generic templates)."""
        total = None
        for row in t.rows.values():
            if not row.spare:
                continue
            code = self.code_of(t, row)
            if code and code.startswith(prefix):
                v = self.value(t.id, row.key, ckey)
                if v is not None:
                    total = (total or ZERO) + v
        return total

    def code_of(self, t: LTable, row: LRow) -> str | None:
        if not row.spare:
            return row.code
        v = get_path(self.doc, ("tables", t.id, row.key, "code"))
        return str(v) if v not in (None, "") else None

    def _compute(self, tid: str, rkey: str, ckey: str) -> Decimal | None:
        t = self.layout.tables.get(tid)
        row = t.rows.get(rkey) if t is not None else None
        if row is None:  # a cell the layout lacks, a code aggregated over spare rows
            return self._compute_cell(tid, rkey, ckey)
        roles = row.roles or self.layout.roles(t, row)
        ops = self._alike.get(id(roles)) if not row.formulas else None
        if ops is None:
            ops = self._own.get((tid, rkey))
            if ops is None:
                ops = self._row_operations(t, row, roles)
        op = ops.get(ckey, _UNSET)
        if op is _INPUT:  # a grid input (most of them blank)
            return _figure(self._grid_input(tid, rkey, ckey))
        if op is _UNSET:  # a cell the row's block lacks, an input of a record or form row
            return self._compute_cell(tid, rkey, ckey)
        memo, value = self._memo, self.value
        total = ZERO
        if op is None:  # a sum of the child rows
            for ch in row.children:
                v = memo.get((tid, ch, ckey), _UNSET)
                if v is _UNSET:
                    v = value(tid, ch, ckey)
                if v:
                    total += v
            return total
        seen = False
        for sign, rt, rr, rc, convert, blank in op:
            v = value(rt or tid, rr or rkey, rc)
            if v is None:
                seen = seen or blank
                continue
            seen = True
            if convert is not None:  # a figure kept in another unit converts exactly
                v = convert[0].convert(v, convert[1])
            if v:
                total += v if sign > 0 else -v
        return total if seen else None

    def _row_operations(self, t: LTable, row: LRow, roles) -> dict[str, list | None]:
        """How the figures of a row are computed: column -> _INPUT for an input of a grid row, None for a sum
        of the child rows, or the operands of a formula as a list of (sign, table, row, column, conversion,
        blank): table and row None where they are the cell's own, conversion the (from, to) precisions of an
        operand kept in another unit, blank whether a blank operand still makes the formula a figure. Shared
        by the rows alike unless the row has formulas of its own. ``_compute_cell`` computes the same, cell by
        cell."""
        layout = self.layout
        ops: dict[str, list | str | None] = {}
        alike = not row.formulas
        grid = row.record is None
        for col, role in roles:
            if role == "input":
                if grid and col.kind != "field":
                    ops[col.key] = _INPUT
            elif role == "sum":
                ops[col.key] = None
            elif role == "formula":
                expr = layout.expr_of(t, row, col)
                if expr is not None:
                    ops[col.key] = _operands(layout, t, row.key, col.key, expr)
                    # alike when every operand is a cell of the row itself or names its table and row in full
                    # (any other may be lacking in this row, or in this table, only)
                    alike = alike and all((term.ref.table is None) == (term.ref.row is None) for term in expr.terms)
        if alike:
            self._alike[id(roles)] = ops  # (the roles are kept by the layout's rows: the id is never reused)
        else:
            self._own[(t.id, row.key)] = ops
        return ops

    def _compute_cell(self, tid: str, rkey: str, ckey: str) -> Decimal | None:
        """The value of a cell from the layout, one lookup after another (what ``_row_operations`` compiles)."""
        layout = self.layout
        t = layout.tables.get(tid)
        if t is None:
            return None
        row = t.rows.get(rkey)
        if row is None:
            if rkey.isdigit() and has_spares(layout, tid):
                return self._aggregate(t, rkey, ckey)
            return None
        try:
            col = t.desc.block(row.block).column(ckey)
        except KeyError:
            return None
        role = layout.cell_role(t, row, col)
        if role == "input":
            raw = self.raw(t, row, col)
            if col.kind == "field" and row.type not in ("amount", "int", "signed_int"):
                return None
            return _figure(raw)
        value = self.value
        if role == "sum":
            total = ZERO
            for ch in row.children:
                total += value(tid, ch, ckey) or ZERO
            return total
        if role == "formula":
            expr = layout.expr_of(t, row, col)
            total, seen = ZERO, False
            here = layout.precision(tid, ckey)
            for term in expr.terms:
                ref = term.ref
                rt, rr, rc = ref.table or tid, ref.row or rkey, ref.col  # resolved in place (no Ref made)
                v = value(rt, rr, rc)
                if v is None:
                    if not layout.has(rt, rr) and not has_spares(layout, rt):
                        continue
                    seen = True
                    total += ZERO
                    continue
                seen = True
                there = layout.precision(rt, rc)  # a figure kept in another unit converts exactly
                if there is not here and there.unit != here.unit:
                    v = there.convert(v, here)
                if v:
                    total += v if term.sign > 0 else -v
                else:
                    total += ZERO
            return total if seen else None
        return None

    def text(self, t: LTable, row: LRow, col: Column) -> Any:
        """Text content of a non-numeric cell (labels, codes, names, form text)."""
        role = self.layout.cell_role(t, row, col)
        if role == "input":
            return self.raw(t, row, col)
        if role == "fixed":
            return row.fixed
        return None

    # --- iteration -----------------------------------------------------------------------------------
    def figures(self) -> Iterator[tuple[LTable, LRow, Column, Decimal | None]]:
        for t, row, col in self.layout.cells():
            if col.numeric or (col.kind == "field" and row.type in ("amount", "int", "signed_int")):
                yield t, row, col, self.value(t.id, row.key, col.key)

    def table_is_empty(self, tid: str) -> bool:
        t = self.layout.tables[tid]
        for row in t.rows.values():
            for col in t.desc.block(row.block).columns:
                if col.numeric:
                    v = self.value(tid, row.key, col.key)
                    if v not in (None, ZERO):
                        return False
        return True


def has_spares(layout: Layout, tid: str | None) -> bool:
    """True when table ``tid`` has spare rows (their codes are inputs), once per layout."""
    spares = layout.__dict__.setdefault("_has_spares", {})
    got = spares.get(tid)
    if got is None:
        t = layout.tables.get(tid or "")
        got = spares[tid] = bool(t and any(r.spare for r in t.rows.values()))
    return got


def _operands(layout: Layout, t: LTable, rkey: str, ckey: str, expr) -> list[tuple]:
    """The operands of formula ``expr`` in cell (``rkey``, ``ckey``) of ``t`` (see ``Budget._row_operations``)."""
    here = layout.precision(t.id, ckey)
    terms = []
    for term in expr.terms:
        ref = term.ref
        rt = ref.table or t.id
        there = layout.precision(rt, ref.col)
        blank = layout.has(rt, ref.row or rkey) or has_spares(layout, rt)
        terms.append((term.sign, ref.table, ref.row, ref.col,
                      (there, here) if there is not here and there.unit != here.unit else None, blank))
    return terms


# --- documents -----------------------------------------------------------------------------------------
def _decimals_in(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _decimals_in(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decimals_in(v) for v in obj]
    return obj


def normalise_document(layout: Layout, doc: dict[str, Any], *, in_place: bool = False) -> dict[str, Any]:
    """Coerce the input values of a document to their types (amounts to Decimal, counts to int); a copy,
    unless ``in_place`` (for a document that its maker owns whole)."""
    out = doc if in_place else copy.deepcopy(doc)
    b = Budget(layout, out)
    prefix: tuple | None = None   # the cells of a row share the mapping that holds them: looked up once
    holder: Any = None
    for t, row, col in _cells_held(layout, out):
        if layout.cell_role(t, row, col) != "input":
            continue
        path = b.input_path(t, row, col)
        if path[:-1] != prefix:
            prefix = path[:-1]
            holder = get_path(out, prefix)
        v = get_path(holder, path[-1:]) if holder is not None else None
        if v is None:
            continue
        typ = _cell_type(row, col)
        if typ == "amount":
            set_path(out, path, to_decimal(v))
        elif typ in ("int", "signed_int"):
            set_path(out, path, int(Decimal(str(v))))
    return out


def _cells_held(layout: Layout, doc: dict[str, Any]) -> Iterator[tuple[LTable, LRow, Column]]:
    """``layout.cells()`` less the cells of the record rows that ``doc`` has no record for (a per-project
    block has many spare record rows, most of them unused)."""
    for t in layout.tables.values():
        for row in t.rows.values():
            if row.record is not None and not row.total \
                    and get_path(doc, tuple(row.path or ()) + (row.record,)) is None:
                continue
            for col in t.desc.block(row.block).columns:
                yield t, row, col


def _cell_type(row: LRow, col: Column) -> str:
    if col.kind == "field":
        return row.type
    if col.kind == "amount":
        return "amount"
    if col.kind == "int":
        return "int"
    return "text"


cell_type = _cell_type


def to_jsonable(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return format(obj, "f")
    if isinstance(obj, dict):
        return {k: to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    return obj


def canonical(obj: Any) -> Any:
    """Comparable form of a document: numbers normalised, empty values dropped."""
    if isinstance(obj, dict):
        out = {k: canonical(v) for k, v in obj.items()}
        return {k: v for k, v in out.items() if v not in (None, "", [], {})}
    if isinstance(obj, list):
        items = [canonical(v) for v in obj]
        while items and items[-1] in (None, "", [], {}):
            items.pop()
        return items
    if isinstance(obj, bool):
        return obj
    if isinstance(obj, (int, Decimal)):
        d = Decimal(obj).normalize()
        return "0" if d == 0 else format(d, "f")
    if isinstance(obj, float):
        return canonical(Decimal(repr(obj)))
    return obj


def load_document(path: str | Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def example_dir(tableset: str = "xj11") -> Path:
    """The folder of the example document of an installed table set (``example`` in its tableset.toml)."""
    from importlib import resources

    from .tableset import load_tableset

    slug = load_tableset(tableset).example
    if not slug:
        raise FileNotFoundError(f"table set {tableset} has no example")
    here = Path(__file__).resolve().parent
    shipped = Path(str(resources.files("xlbudget.examples").joinpath(slug)))
    for cand in (shipped, here.parent / "examples" / slug):
        if (cand / "spec.toml").is_file():
            return cand
    raise FileNotFoundError(f"example {slug} not found")


def load_example(tableset: str = "xj11") -> tuple[Spec, dict[str, Any]]:
    """The example department of a table set (default: the seed, 克州数字化发展局 2025): spec and canonical
    document. The example folder holds ``spec.toml``, ``figures.json`` (the inputs of the tables) and
    optionally ``facts.json`` and ``performance.json``."""
    from .spec import load_spec

    d = example_dir(tableset)
    spec = load_spec(d / "spec.toml")
    figures = load_document(d / "figures.json")
    doc: dict[str, Any] = {"format": FORMAT, "spec": spec.to_dict(), "tables": figures["tables"]}
    for part in ("performance", "facts"):
        if (d / f"{part}.json").is_file():
            doc[part] = load_document(d / f"{part}.json")
    recipe = d / "document.toml"
    if recipe.is_file():
        _apply_recipe(doc, tomlfile.parse(recipe.read_text(encoding="utf-8")))
    layout = layout_for(spec)
    return spec, normalise_document(layout, doc)


def _paths(doc: Any, parts: list[str], prefix: tuple = ()) -> Iterator[tuple]:
    """The existing paths of ``doc`` matching ``parts`` ("*" matches every key of a mapping)."""
    if not parts:
        yield prefix
        return
    head, rest = parts[0], parts[1:]
    if not isinstance(doc, dict):
        return
    for k in (list(doc) if head == "*" else [head]):
        if k in doc:
            yield from _paths(doc[k], rest, prefix + (k,))


def _apply_recipe(doc: dict[str, Any], recipe: dict[str, Any]) -> None:
    """Turn the published files of an example into a document: drop what the workbook derives, move what
    is printed in one place and entered in another (``document.toml`` of the example)."""
    for pattern in recipe.get("derived", ()):
        for path in list(_paths(doc, pattern.split("."))):
            get_path(doc, path[:-1]).pop(path[-1], None)
    for move in recipe.get("move", ()):
        src = tuple(move["from"].split("."))
        value = get_path(doc, src)
        if value is None:
            continue
        get_path(doc, src[:-1]).pop(src[-1])
        set_path(doc, tuple(move["to"].split(".")), value)


def budget_from_document(doc: dict[str, Any], spec: Spec | None = None) -> Budget:
    spec = spec or Spec.from_dict(doc["spec"])
    layout = layout_for(spec)
    return Budget(layout, normalise_document(layout, doc))
