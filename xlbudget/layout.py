"""Lay a table set out for one department spec: which rows exist, where every cell sits, and what it is.

The layout is the single place that turns (table, row, column) keys into sheet positions and back.
The template writer asks it where to write, the reader where to look, the rules and the disclosure
builder how to name a cell (``表6!C12``). Nothing else computes coordinates.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Iterator

from msgspec import Struct, field
from msgspec.structs import replace

from . import classification
from .errors import DescriptionError
from .expr import Expr, parse
from .spec import Spec
from .tableset import Block, Column, Precision, RowDef, TableDesc, TableSet, load_tableset

TITLE_ROWS = 3  # 表N / title / 编制部门 + 单位
# The workbook's own sheets besides the tables: the embedded identity, the code lists, the live checks.
META_SHEET = "xlbudget"
CODE_SHEET = "代码表"
CHECK_SHEET = "校验"


# Row plans whose rows come from the description alone (not from the department's codes or projects): a table
# made only of these is laid out alike for every department, but for its texts.
STATIC_PLANS = frozenset({"fixed", "form", "records"})


def is_static(desc: TableDesc) -> bool:
    """True when every block of the table is of a static plan (see STATIC_PLANS): its rows, their positions,
    roles and sums are the same in every layout, only labels, paths and formulas naming other tables differ."""
    return all(b.plan in STATIC_PLANS for b in desc.blocks)


@functools.lru_cache(maxsize=1024)
def col_letter(c: int) -> str:
    s = ""
    c += 1
    while c:
        c, r = divmod(c - 1, 26)
        s = chr(65 + r) + s
    return s


def a1(r: int, c: int, absolute: bool = False) -> str:
    if absolute:
        return f"${col_letter(c)}${r + 1}"
    return f"{col_letter(c)}{r + 1}"


def quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


class LRow(Struct):
    """A laid-out row of one table."""

    key: str
    block: str
    label: str = ""
    code: str | None = None
    level: int = 0                     # 0 total/fixed, 1 类, 2 款, 3 项 or project
    total: bool = False
    bottom: bool = False
    children: tuple[str, ...] = ()     # rows summed for non-row-formula numeric columns
    formulas: dict[str, Expr] = field(default_factory=dict)
    inputs: frozenset[str] = frozenset()
    indent: int = 0
    project: str | None = None
    project_name: str = ""
    type: str = "amount"               # form rows: value type
    path: tuple[str, ...] | None = None   # form rows: where the value lives in the canonical document
    fixed: str | None = None           # form rows: fixed (locked) text
    section: str | None = None
    record: int | None = None          # records rows: index in the list
    sum_cols: frozenset[str] = frozenset()  # records total row: the columns it sums
    spare: bool = False                # generic rows whose code is an input
    r: int = -1                        # sheet row (0-based)
    # (column, cell role) of each column, once known: a cache Layout.roles fills (rows alike have the same)
    roles: "tuple[tuple[Column, str], ...] | None" = None


class LTable(Struct):
    """A table laid out for one spec: its rows by key and where each column and row sits on its sheet."""

    desc: TableDesc
    id: str
    sheet: str
    title: str
    rows: dict[str, LRow]
    colpos: dict[tuple[str, str], tuple[int, int]]   # (block, col) -> (first sheet col, ncols)
    header_top: int
    header_rows: list[tuple[int, str]]               # (sheet row, block) header rows of each block
    body_top: int
    last_row: int
    width: int
    note_row: int | None = None
    note_text: str | None = None
    section_rows: list[tuple[int, str]] = field(default_factory=list)
    block_headers: dict[str, tuple[int, int]] = field(default_factory=dict)  # block -> (first header row, depth)
    numbering_row: int | None = None
    project: str | None = None
    notes: list[tuple[int, str]] = field(default_factory=list)  # fixed lines under the table (sheet row, text)

    def block(self, key: str) -> Block:
        return self.desc.block(key)

    def column(self, row: LRow, col: str) -> Column:
        return self.desc.block(row.block).column(col)

    def rows_of(self, block: str) -> list[LRow]:
        return [r for r in self.rows.values() if r.block == block]

    def pos(self, row: str, col: str) -> tuple[int, int]:
        lr = self.rows[row]
        c0, _ = self.colpos[(lr.block, col)]
        return lr.r, c0

    def ref(self, row: str, col: str) -> str:
        r, c = self.pos(row, col)
        return f"{self.sheet}!{a1(r, c)}"


class Layout:
    """All tables of a table set laid out for one spec."""

    def __init__(self, spec: Spec, tableset: TableSet | None = None, namer=None):
        self.spec = spec
        self.tableset = tableset or load_tableset(spec.tableset)
        self.namer = namer or default_namer(spec)
        self.tables: dict[str, LTable] = {}
        self._precisions: dict[tuple[str, str], Precision] = {}
        self._roles: dict[tuple, tuple[tuple[Column, str], ...]] = {}
        self._trees: dict[tuple, tuple[list[tuple], tuple[str, ...]]] = {}
        for desc in self.tableset.tables:
            if desc.per == "project":
                for n, p in enumerate(spec.projects, start=1):
                    self._add(_TableBuilder(self, desc, project=p.key, n=n).build())
            else:
                self._add(_TableBuilder(self, desc).build())

    def tree(self, kind: str, codes: str, prefixes: tuple[str, ...] | None) -> tuple[list[tuple], tuple[str, ...]]:
        """The nodes of the tree of the spec's ``codes`` (those under ``prefixes`` when given): (code, level,
        label, child codes) in code order, and the top-level codes; once per layout (several tables share it)."""
        key = (kind, codes, prefixes)
        got = self._trees.get(key)
        if got is None:
            chosen = self.spec.codes(codes)
            if prefixes:
                chosen = tuple(c for c in chosen if c.startswith(prefixes))
            lens = classification.lengths(kind)
            found: dict[str, set[str]] = {}
            for code in chosen:
                for i, ln in enumerate(lens):
                    pre = code[:ln]
                    found.setdefault(pre, set())
                    if i:
                        found[code[: lens[i - 1]]].add(pre)
            order = sorted(found)
            nodes = [(code, lens.index(len(code)) + 1, self.namer(kind, code), tuple(sorted(found[code])))
                     for code in order]
            got = self._trees[key] = (nodes, tuple(c for c in order if len(c) == lens[0]))
        return got

    def _add(self, t: LTable) -> None:
        if t.id in self.tables:
            raise DescriptionError(f"duplicate table {t.id}")
        self.tables[t.id] = t

    # --- lookups -------------------------------------------------------------------------------------
    def table(self, tid: str) -> LTable:
        return self.tables[tid]

    def has(self, t: str, r: str) -> bool:
        return t in self.tables and r in self.tables[t].rows

    def position(self, t: str, r: str, c: str) -> str:
        """``表6!C12`` style position of a cell."""
        return self.tables[t].ref(r, c)

    def precision(self, t: str, c: str | None = None) -> Precision:
        """Unit and decimals of column ``c`` of table ``t`` (the table's without a column, the set's for a
        table the layout lacks)."""
        k = (t, c or "")
        p = self._precisions.get(k)
        if p is None:
            lt = self.tables.get(t)
            p = lt.desc.precision(c) if lt is not None else self.tableset.precision
            self._precisions[k] = p
        return p

    def cells(self) -> Iterator[tuple[LTable, LRow, Column]]:
        for t in self.tables.values():
            for row in t.rows.values():
                for col in t.desc.block(row.block).columns:
                    yield t, row, col

    def cell_role(self, t: LTable, row: LRow, col: Column) -> str:
        """One of: input, formula, sum, fixed, label, empty."""
        if row.record is not None:
            if row.total:
                return "sum" if col.key in row.sum_cols else "label"
            return "input"
        if col.kind == "field":
            if row.path:
                return "input"
            if row.formulas:
                return "formula"
            return "fixed"
        if not col.numeric:
            if row.spare and col.kind in ("code", "project"):
                return "input"
            return "label"
        if col.formula is not None:
            return "formula"
        if col.key in row.formulas:
            return "formula"
        if row.children:
            return "sum"
        if col.key in row.inputs:
            return "input"
        return "empty"

    def roles(self, t: LTable, row: LRow) -> tuple[tuple[Column, str], ...]:
        """(column, ``cell_role``) of every column of a row: worked out once for all the rows of a table's
        block alike in what decides the roles (most rows of a table are alike: its items, its records), kept
        with the row."""
        got = row.roles
        if got is None:
            key = (id(t.desc), row.block, row.record is not None, row.total, row.sum_cols, not row.path,
                   tuple(row.formulas) if row.formulas else (), not row.children, row.inputs, row.spare)
            got = self._roles.get(key)
            if got is None:
                got = self._roles[key] = tuple((col, self.cell_role(t, row, col))
                                               for col in t.desc.block(row.block).columns)
            row.roles = got
        return got

    def expr_of(self, t: LTable, row: LRow, col: Column) -> Expr | None:
        if col.formula is not None and row.record is None:
            return col.formula
        return row.formulas.get(col.key)


@functools.lru_cache(maxsize=16)
def catalogue_for(kind: str, year: int):
    """The active catalogue of a year: an imported official list if any, else the shipped (partial) one,
    falling back to the latest shipped year."""
    from .catalogue import CatalogueError, load_active_catalogue, load_catalogue

    try:
        return load_active_catalogue(kind, year)
    except (CatalogueError, FileNotFoundError, OSError):
        return load_catalogue(kind)


def shipped_catalogue(kind: str, year: int):
    """The list shipped with xlbudget for a year (else the latest shipped; each read once per process)."""
    from .catalogue import CatalogueError, load_catalogue

    try:
        return load_catalogue(kind, year)
    except (CatalogueError, FileNotFoundError, OSError):
        return load_catalogue(kind)


def class_codes(spec: Spec) -> tuple[str, ...]:
    """The 类 of the per-class table: recorded in the spec, else those of the shipped list (never the active)."""
    return spec.classes or tuple(c.code for c in shipped_catalogue("function", spec.year).classes())


def with_classes(spec: Spec) -> Spec:
    """The spec of a new template: its 类 fixed from the active catalogue (an imported list when there is
    one), recorded in the template so that reading it never depends on the catalogue of the day."""

    if spec.classes:
        return spec
    return replace(spec, classes=tuple(c.code for c in catalogue_for("function", spec.year).classes()))


_DIGITS = "零一二三四五六七八九"


def chinese_ordinal(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 35 → 三十五 (1..99)."""
    tens, ones = divmod(n, 10)
    head = ("" if tens == 1 else _DIGITS[tens]) + "十" if tens else ""
    return head + (_DIGITS[ones] if ones or not tens else "")


def default_namer(spec: Spec):
    def namer(kind: str, code: str) -> str:
        if code in spec.names:
            return spec.names[code]
        return catalogue_for(kind, spec.year).name(code) or ""

    return namer


_NOT_KEPT = object()


class Shared:
    """What is worked out once and shared by many layouts (the rows and geometry of static tables, the plans
    of rules over them), each kept with the part of the description it comes from (its ``owner``), whose id
    starts its key: so an id never stands for another object. Bounded: a batch of many departments must not
    grow a worker's memory."""

    NOT_KEPT = _NOT_KEPT  # what :meth:`find` gives for what it does not keep

    def __init__(self, limit: int = 4096) -> None:
        self.limit = limit
        self._items: dict[Any, tuple[object, Any]] = {}

    def get(self, key: Any, owner: object, make: Callable[[], Any]) -> Any:
        """The value kept for ``key`` and ``owner``, made (``make()``) and kept the first time."""
        got = self.find(key, owner)
        if got is _NOT_KEPT:
            got = self.put(key, owner, make())
        return got

    def find(self, key: Any, owner: object) -> Any:
        """The value kept for ``key`` and ``owner``, else ``NOT_KEPT``."""
        got = self._items.get(key)
        return got[1] if got is not None and got[0] is owner else _NOT_KEPT

    def put(self, key: Any, owner: object, value: Any) -> Any:
        if len(self._items) >= self.limit:
            self._items.clear()
        self._items[key] = (owner, value)
        return value


_SHARED_RECORDS = Shared()  # the rows of a block of records, by (block, path)
_SHARED_ROWS = Shared()     # the form rows of static tables, by (row definition, its texts)
_STATIC_GEOMETRY = Shared()  # the geometry of a static table, by its description


class _TableBuilder:
    def __init__(self, layout: Layout, desc: TableDesc, project: str | None = None, n: int = 0):
        self.L = layout
        self.spec = layout.spec
        self.desc = desc
        self.project = project
        self.n = n
        self.id = f"{desc.id}_{project}" if project else desc.id
        self.static = is_static(desc)
        self.subs = {"department": self.spec.department, "year": str(self.spec.year), "title": desc.title,
                     "project": project or "", "n": str(n),
                     "project_name": self.spec.project(project).name if project else ""}

    def fmt(self, s: str) -> str:
        return s.format_map(self.subs)  # (``format(**subs)`` copies the mapping for every text)

    # --- rows ----------------------------------------------------------------------------------------
    def rows_for(self, b: Block) -> list[LRow]:
        plan = b.plan
        if plan == "fixed":
            return [self._fixed_row(b, rd) for rd in b.rows]
        if plan == "form":
            return [self._form_row(b, rd) for rd in b.rows]
        if plan == "tree":
            return self._tree(b)
        if plan == "classes":
            return self._classes(b)
        if plan == "projects":
            return self._projects(b)
        if plan == "records":
            return self._records(b)
        raise DescriptionError(plan)

    def _fixed_row(self, b: Block, rd: RowDef) -> LRow:
        if self.static:  # nothing of a fixed row depends on the spec: one row for every layout
            return _SHARED_ROWS.get((id(rd), id(b)), rd, lambda: self._new_fixed_row(b, rd))
        return self._new_fixed_row(b, rd)

    def _new_fixed_row(self, b: Block, rd: RowDef) -> LRow:
        formulas = dict(rd.formula)
        if rd.code:  # a coded fixed row (e.g. a 类 line of a summary table) takes the block's cell pattern
            formulas = {**{k: parse(v.format(code=rd.code)) for k, v in b.cells.items()}, **formulas}
        inputs = frozenset(c.key for c in b.amount_columns if rd.input and c.formula is None and c.key not in formulas)
        ends = classification.lengths("function")
        level = ends.index(len(rd.code)) + 1 if rd.code and len(rd.code) in ends else 0
        return LRow(key=rd.key, block=b.key, label=rd.label, code=rd.code, level=level, total=rd.total,
                    bottom=rd.bottom, children=rd.sum, formulas=formulas, inputs=inputs, indent=rd.indent)

    def _form_row(self, b: Block, rd: RowDef) -> LRow:
        fmt = self.fmt
        texts = tuple([fmt(v.text) for v in rd.formula.values()])
        path = fmt(rd.path) if rd.path else None
        fixed = fmt(rd.fixed) if rd.fixed else None

        def make() -> LRow:
            formulas = {k: parse(text) for k, text in zip(rd.formula, texts)}
            return LRow(key=rd.key, block=b.key, label=rd.label, formulas=formulas, type=rd.type,
                        path=tuple(path.split(".")) if path is not None else None, fixed=fixed, section=rd.section,
                        indent=rd.indent)

        if self.static:  # laid out alike everywhere: one row for every table where its texts are the same
            return _SHARED_ROWS.get((id(rd), texts, path, fixed), rd, make)
        return make()

    def _total_row(self, b: Block, children: tuple[str, ...]) -> LRow:
        t = b.total
        assert t is not None
        return LRow(key=t.key, block=b.key, label=t.label, total=True, bottom=t.bottom, children=children,
                    formulas={k: v for k, v in t.formula.items()})

    def _tree(self, b: Block) -> list[LRow]:
        kind = "economic" if b.codes == "economic" else "function"
        if self.spec.generic:
            n = self.spec.spare_rows if b.codes in ("functions", "economic") else max(5, self.spec.spare_rows // 6)
            # spare rows r1, r2 …; a second tree block of the same table (表6 人员/公用 side by side) names its own
            first = next(blk for blk in self.desc.blocks if blk.plan == "tree") is b
            pre = "r" if first else f"{b.key}_r"
            leaves = [LRow(key=f"{pre}{i}", block=b.key, level=3, inputs=b.leaf_inputs, spare=True)
                      for i in range(1, n + 1)]
            return [self._total_row(b, tuple(r.key for r in leaves))] + leaves
        nodes, classes = self.L.tree(kind, b.codes or "functions", b.prefixes)
        key, leaf, none = b.key, b.leaf_inputs, frozenset()
        rows = [LRow(code, key, label, code, level, children=kids, inputs=none if kids else leaf)
                for code, level, label, kids in nodes]
        return [self._total_row(b, classes)] + rows

    def _classes(self, b: Block) -> list[LRow]:
        """One row per 功能分类 类: every class of the table's list (those the spec recorded when its template
        was written, else the shipped list's, so that importing a catalogue never changes the rows of a workbook
        that exists), or (``codes`` given) the classes of the spec's codes, labelled 一、二、… when the block is
        ``ordinal``."""
        if b.codes and not self.spec.generic:
            used = sorted({code[:3] for code in self.spec.codes(b.codes)})
        else:
            used = list(class_codes(self.spec))
        classes = [(code, self.L.namer("function", code)) for code in used]
        rows = []
        for i, (code, name) in enumerate(classes, start=1):
            formulas = {k: parse(v.format(code=code)) for k, v in b.cells.items()}
            label = f"{chinese_ordinal(i)}、{name}" if b.ordinal else name
            rows.append(LRow(key=code, block=b.key, code=code, level=1, label=label, formulas=formulas))
        # ``sum = ["*"]`` on the total: it also equals the sum of the class rows (checked by the sums rules)
        summed = b.total is not None and b.total.sum == ("*",)
        rows.append(self._total_row(b, tuple(r.key for r in rows) if summed else ()))
        return rows

    def _projects(self, b: Block) -> list[LRow]:
        """表7: 总计, then per unit a 单位 row, its 类 and 款 subtotals and its project rows.

        A department is one unit (keys ``unit``, ``201``, ``20141``); a consolidated disclosure has one
        block per unit (keys ``u1``, ``u1:201``, ``u1:20141``)."""
        inputs = b.leaf_inputs
        if self.spec.generic:
            leaves = [LRow(key=f"r{i}", block=b.key, level=3, inputs=inputs, spare=True)
                      for i in range(1, self.spec.spare_rows + 1)]
            return [self._total_row(b, tuple(r.key for r in leaves))] + leaves
        by_unit: dict[str, list] = {}  # unit -> its projects, in spec order (one pass: hundreds of units)
        for p in self.spec.projects:
            by_unit.setdefault(p.unit or self.spec.department, []).append(p)
        units = list(by_unit) or [self.spec.department]
        single = len(units) == 1
        rows: list[LRow] = []
        unit_keys: list[str] = []
        for i, u in enumerate(units, start=1):
            projects = by_unit.get(u, [])
            ukey = "unit" if single else f"u{i}"
            pre = "" if single else f"{ukey}:"
            cl, kl = classification.level_length("function", 1), classification.level_length("function", 2)
            classes = sorted({p.function[:cl] for p in projects})
            unit_keys.append(ukey)
            rows.append(LRow(key=ukey, block=b.key, label=u, level=0, children=tuple(pre + c for c in classes)))
            for cls in classes:
                kuans = sorted({p.function[:kl] for p in projects if p.function.startswith(cls)})
                rows.append(LRow(key=pre + cls, block=b.key, code=cls, level=1, label=self.L.namer("function", cls),
                                 children=tuple(pre + k for k in kuans)))
                for k in kuans:
                    kids = [p for p in projects if p.function[:kl] == k]
                    rows.append(LRow(key=pre + k, block=b.key, code=k, level=2, label=self.L.namer("function", k),
                                     children=tuple(p.key for p in kids)))
                    for p in kids:
                        rows.append(LRow(key=p.key, block=b.key, code=p.function, level=3,
                                         label=self.L.namer("function", p.function), project=p.key,
                                         project_name=p.name, inputs=inputs))
        return [self._total_row(b, tuple(unit_keys))] + rows

    def _records(self, b: Block) -> list[LRow]:
        base = tuple(self.fmt(b.path or b.key).split("."))
        if not self.static:
            return self._record_rows(b, base)
        # In a table laid out alike for every department, the rows of a block of records depend on nothing
        # but their path (a per-project block: on the project's key): built once, shared by every layout
        return _SHARED_RECORDS.get((id(b), base), b, lambda: self._record_rows(b, base))

    def _record_rows(self, b: Block, base: tuple[str, ...]) -> list[LRow]:
        key = b.key
        rows = [LRow(f"{key}_{i}", key, record=i, path=base, type="record") for i in range(b.spare)]
        if b.total:
            rows.append(LRow(key=b.total.key, block=b.key, label=b.total.label, total=True, record=-1,
                             children=tuple(r.key for r in rows), sum_cols=frozenset(b.total.sum)))
        return rows

    # --- geometry ------------------------------------------------------------------------------------
    def build(self) -> LTable:
        d = self.desc
        if self.static:
            # a static table's rows (shared rows, placed by the geometry of its description) depend on nothing
            # but the values of the placeholders its row texts name (a per-project table: its project's key):
            # worked out once for each, for every layout (a department's has dozens of such tables); a form
            # row whose fixed text names one (the project's name) is this layout's own
            names, varying = _row_placeholders(d)
            key = (id(d), tuple([self.subs.get(name) for name in names]))
            kept = _STATIC_TABLES.find(key, d)
            if kept is Shared.NOT_KEPT:
                kept = _STATIC_TABLES.put(key, d, self._rows_and_geometry())
            rows, geo = kept
            if varying:
                rows = dict(rows)
                for b, rd in varying:
                    row = self._form_row(b, rd)
                    row.r = rows[rd.key].r
                    rows[rd.key] = row
        else:
            rows, geo = self._rows_and_geometry()
        last = geo.last
        notes = [(last + 1 + i, self.fmt(text)) for i, text in enumerate(d.notes)]
        last += len(notes)
        note_row = note_text = None
        if d.empty_note:
            note_row = last + 1
            note_text = self.fmt(d.empty_note)
        sheet = self.fmt(d.sheet)
        return LTable(desc=d, id=self.id, sheet=sheet, title=self.fmt(d.title), rows=rows, colpos=geo.colpos,
                      header_top=geo.top, header_rows=geo.header_rows, body_top=geo.body, last_row=note_row or last,
                      width=geo.width, note_row=note_row, note_text=note_text, section_rows=geo.section_rows,
                      block_headers=geo.block_headers, numbering_row=geo.numbering_row, project=self.project,
                      notes=notes)

    def _rows_and_geometry(self) -> "tuple[dict[str, LRow], _Geometry]":
        d = self.desc
        rows_by_block = {b.key: self.rows_for(b) for b in d.blocks}
        if self.static:  # the same geometry in every layout: worked out once per description
            geo = _STATIC_GEOMETRY.get(id(d), d, lambda: _geometry(d, rows_by_block))
            for b in d.blocks:
                for r, at in zip(rows_by_block[b.key], geo.positions[b.key]):
                    r.r = at
        else:
            geo = _geometry(d, rows_by_block)
        rows: dict[str, LRow] = {}
        for b in d.blocks:
            for r in rows_by_block[b.key]:
                if r.key in rows:
                    raise DescriptionError(f"{self.id}: duplicate row key {r.key}")
                rows[r.key] = r
        return rows, geo


_STATIC_TABLES = Shared()  # the rows and geometry of a static table, by its description and its placeholders
_PLACEHOLDERS = Shared()   # the placeholders the row texts of a static table name, by its description


def _row_placeholders(d: TableDesc) -> tuple[tuple[str, ...], list[tuple[Block, RowDef]]]:
    """The placeholders named by the texts a static table's rows are laid out from (its form rows' formulas
    and paths, its records' paths), in order; and the form rows whose fixed text names one."""
    def find() -> tuple[tuple[str, ...], list[tuple[Block, RowDef]]]:
        texts: list[str] = []
        varying = []
        for b in d.blocks:
            if b.plan == "records":
                texts.append(b.path or b.key)
            for rd in b.rows:
                texts.extend(v.text for v in rd.formula.values())
                if rd.path:
                    texts.append(rd.path)
                if b.plan == "form" and rd.fixed and _names(rd.fixed):
                    varying.append((b, rd))
        names: dict[str, None] = {}
        for text in texts:
            names.update(dict.fromkeys(_names(text)))
        return tuple(names), varying
    return _PLACEHOLDERS.get(id(d), d, find)


def _names(text: str) -> list[str]:
    """The placeholders of a text ``str.format`` fills (``{project}``, ``{n:02d}``: project, n)."""
    import string

    return [name.split(".", 1)[0].split("[", 1)[0] for _, name, _, _ in string.Formatter().parse(text) if name]


class _Geometry(Struct):
    """Where the blocks, headers and rows of a table sit (``positions``: block -> sheet row of each of its rows)."""

    colpos: dict[tuple[str, str], tuple[int, int]]
    top: int
    header_rows: list[tuple[int, str]]
    block_headers: dict[str, tuple[int, int]]
    section_rows: list[tuple[int, str]]
    body: int
    last: int
    width: int
    numbering_row: int | None
    positions: dict[str, list[int]]


def _geometry(d: TableDesc, rows_by_block: dict[str, list[LRow]]) -> _Geometry:
    """Lay the rows of each block out (setting their ``r``) and place headers and columns."""
    blocks = d.blocks
    colpos: dict[tuple[str, str], tuple[int, int]] = {}
    header_depth = {b.key: _header_depth(b) for b in blocks}
    top = TITLE_ROWS if (d.unit_line or d.subtitle) else 2
    header_rows: list[tuple[int, str]] = []
    block_headers: dict[str, tuple[int, int]] = {}
    section_rows: list[tuple[int, str]] = []
    numbering_row = None
    if d.arrange == "side":
        c = 0
        for b in blocks:
            for col in b.columns:
                colpos[(b.key, col.key)] = (c, col.ncols)
                c += col.ncols
        width = c
        depth = max(header_depth.values())
        for b in blocks:
            block_headers[b.key] = (top, depth)
        header_rows = [(top + i, "*") for i in range(depth)]
        body = top + depth
        if d.numbering:
            numbering_row = body
            body += 1
        height = max(len(v) for v in rows_by_block.values())
        for b in blocks:
            normal = [r for r in rows_by_block[b.key] if not r.bottom]
            bottoms = [r for r in rows_by_block[b.key] if r.bottom]
            if bottoms:
                height = max(height, len(normal) + len(bottoms))
        for b in blocks:
            normal = [r for r in rows_by_block[b.key] if not r.bottom]
            bottoms = [r for r in rows_by_block[b.key] if r.bottom]
            for i, r in enumerate(normal):
                r.r = body + i
            for i, r in enumerate(bottoms):
                r.r = body + height - len(bottoms) + i
        last = body + height - 1
    else:  # stack: blocks one below the other, each with its own columns
        width = max(sum(col.ncols for col in b.columns) for b in blocks)
        r0 = top
        for b in blocks:
            c = 0
            for col in b.columns:
                colpos[(b.key, col.key)] = (c, col.ncols)
                c += col.ncols
            if any(col.header for col in b.columns):
                block_headers[b.key] = (r0, header_depth[b.key])
                for i in range(header_depth[b.key]):
                    header_rows.append((r0 + i, b.key))
                r0 += header_depth[b.key]
            for r in rows_by_block[b.key]:
                if r.section:
                    section_rows.append((r0, r.section))
                    r0 += 1
                r.r = r0
                r0 += 1
        last = r0 - 1
        body = top
    positions = {b.key: [r.r for r in rows_by_block[b.key]] for b in blocks}
    return _Geometry(colpos, top, header_rows, block_headers, section_rows, body, last, width, numbering_row,
                     positions)


def note_columns(t: LTable) -> list[Column]:
    """The numeric columns of the total row that decide whether the table's empty note shows (the table's
    ``note_columns``, else the first numeric column)."""
    total_row = next(r for r in t.rows.values() if r.total)
    cols = [c for c in t.desc.block(total_row.block).columns if c.numeric]
    if t.desc.note_columns:
        return [c for c in cols if c.key in t.desc.note_columns]
    return cols[:1]


def _header_depth(b: Block) -> int:
    depth = 0
    for c in b.columns:
        depth = max(depth, len(c.header) + (1 if c.split else 0))
    return depth


def header_grid(t: LTable, block: str | None = None) -> list[list[str | None]]:
    """Header labels per level and physical column (None where a block has no column)."""
    blocks = [t.desc.block(block)] if block else list(t.desc.blocks)
    depth = max(_header_depth(b) for b in blocks)
    grid: list[list[str | None]] = [[None] * t.width for _ in range(depth)]
    for b in blocks:
        for col in b.columns:
            c0, n = t.colpos[(b.key, col.key)]
            h = list(col.header) or [""]
            body_depth = depth - (1 if col.split else 0)
            h = h + [h[-1]] * (body_depth - len(h))
            for i in range(n):
                labels = h + ([col.split[i]] if col.split else [])
                for lvl in range(depth):
                    grid[lvl][c0 + i] = labels[lvl]
    return grid


def merge_regions(grid: list[list[str | None]]) -> list[tuple[int, int, int, int, str]]:
    """Maximal rectangles of equal labels: (level0, col0, level1, col1, label)."""
    depth = len(grid)
    width = len(grid[0]) if grid else 0
    seen = [[False] * width for _ in range(depth)]
    out = []
    for l in range(depth):
        for c in range(width):
            if seen[l][c] or grid[l][c] is None:
                continue
            lab = grid[l][c]
            c2 = c
            while (c2 + 1 < width and not seen[l][c2 + 1] and grid[l][c2 + 1] == lab
                   and all(grid[k][c2 + 1] == grid[k][c] for k in range(l))):
                c2 += 1
            l2 = l
            while l2 + 1 < depth and all(grid[l2 + 1][x] == lab for x in range(c, c2 + 1)) and \
                    (c == 0 or grid[l2 + 1][c - 1] != lab or seen[l2 + 1][c - 1]) and \
                    (c2 + 1 >= width or grid[l2 + 1][c2 + 1] != lab):
                l2 += 1
            for ll in range(l, l2 + 1):
                for cc in range(c, c2 + 1):
                    seen[ll][cc] = True
            out.append((l, c, l2, c2, lab))
    return out


_LAYOUTS: "dict[str, Layout]" = {}
_MAX_LAYOUTS = 8  # small: a batch of distinct departments must not grow a worker's memory


def layout_for(spec: Spec) -> Layout:
    """Layouts are immutable in practice and costly to build: share one per spec (the spec itself is used,
    never rebuilt from its text: a spec is validated once, where it comes from outside)."""
    from .tableset import resolved_dir, tableset_dir

    key = f"{resolved_dir(tableset_dir(spec.tableset))}\n{spec.to_json()}"  # one id may name another folder later
    layout = _LAYOUTS.pop(key, None)
    if layout is None:
        layout = Layout(spec)
        while len(_LAYOUTS) >= _MAX_LAYOUTS:
            _LAYOUTS.pop(next(iter(_LAYOUTS)))
    _LAYOUTS[key] = layout  # most recently used last
    return layout


layout_for.cache_clear = _LAYOUTS.clear  # type: ignore[attr-defined]
