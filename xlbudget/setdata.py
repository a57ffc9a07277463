"""The set-level data beyond the table descriptions, checked against the set's tables when it is loaded.

* ``disclosure.toml``: the sheets of the disclosure in print order (封面, 目录, text parts, the public
  tables, the 绩效 tables), the disclosure's subject (部门预算 / 部门决算) and its open-data tables;
* ``next_year.toml``: which of last year's figures fill next year's template (``template --like``), and
  which facts come along;
* ``narrative.toml`` (read by :mod:`xlbudget.narrative`): named figures and the 情况说明's sentences.

The format of each file is documented in the header comment of the file in ``templates/xj11/``. A
reference to a table, row or column the set lacks raises :class:`~xlbudget.errors.DescriptionError`
(message in Chinese) when the set is loaded; nothing is silently read as 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from msgspec import Struct

from . import tomlfile
from .errors import DescriptionError
from .expr import Expr, parse

if TYPE_CHECKING:
    from .tableset import TableDesc, TableSet

__all__ = ["DisclosurePlan", "SheetDef", "OpenData", "Consolidation", "NextYear", "Carry", "disclosure_plan",
           "next_year_plan", "validate_set", "check_ref", "check_document_path", "doc_path", "cached",
           "table_has_row", "table_has_column"]

T = TypeVar("T")
SHEET_KINDS = ("cover", "toc", "text", "tables", "performance")
_CACHE: dict[tuple[int, str], tuple[Any, Any]] = {}


def cached(ts: "TableSet", name: str, make: Callable[[], T]) -> T:
    """One parsed file per loaded table set (the set object is kept alive with its data)."""
    key = (id(ts), name)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is ts:
        return hit[1]
    if len(_CACHE) > 64:
        _CACHE.clear()
    value = make()
    _CACHE[key] = (ts, value)
    return value


# --------------------------------------------------------------------------------------------
# References
# --------------------------------------------------------------------------------------------


def table_has_column(desc: "TableDesc", col: str) -> bool:
    return any(c.key == col for b in desc.blocks for c in b.columns)


def table_has_row(desc: "TableDesc", row: str) -> bool:
    """A row declared by the description (fixed and form rows, block totals)."""
    for b in desc.blocks:
        if any(r.key == row for r in b.rows) or (b.total is not None and b.total.key == row):
            return True
    return False


def check_ref(ts: "TableSet", tid: str, row: str | None, col: str | None, where: str) -> None:
    """Raise DescriptionError unless the set has table ``tid`` (and the declared ``row`` and ``col``)."""
    if tid not in ts.table_ids:
        raise DescriptionError(f"{where}：引用了表套 {ts.id} 中没有的表 {tid}")
    desc = ts.table(tid)
    if col is not None and not table_has_column(desc, col):
        raise DescriptionError(f"{where}：表 {tid} 没有列 {col}")
    if row is not None and "{" not in row and not table_has_row(desc, row):
        raise DescriptionError(f"{where}：表 {tid} 没有固定行 {row}")


def _check_expr(ts: "TableSet", text: str, where: str) -> Expr:
    try:
        expr = parse(str(text))
    except DescriptionError as e:
        raise DescriptionError(f"{where}：{e}") from None
    for ref in expr.refs():
        if ref.table is None or ref.row is None:
            raise DescriptionError(f"{where}：{text!r} 应写成 表.行.列")
        check_ref(ts, ref.table, ref.row, ref.col, where)
    return expr


def read_set_file(ts: "TableSet", name: str) -> dict[str, Any] | None:
    """A TOML file of the set's folder (None when it has none); bad TOML is a DescriptionError."""
    path = Path(ts.folder) / name
    if not path.is_file():
        return None
    try:
        return tomlfile.load(path)
    except tomlfile.TOMLDecodeError as e:
        raise DescriptionError(f"{ts.id}/{name}：TOML 格式错误：{e}") from None


def doc_path(text: Any) -> tuple[str, ...]:
    return tuple(p for p in str(text or "").split(".") if p)


# --------------------------------------------------------------------------------------------
# disclosure.toml
# --------------------------------------------------------------------------------------------


class SheetDef(Struct, frozen=True):
    kind: str
    name: str = ""                    # cover, toc and text sheets: the sheet name
    title: str = ""                   # cover and toc: the printed title ({year}, {department})
    lines: tuple[str, ...] = ()       # cover: lines under the title
    date: tuple[str, ...] = ()        # cover: document path of the publication date
    heading: str = ""                 # tables: the part title above the first table and in the 目录
    tables: tuple[str, ...] = ()      # tables: table ids in print order
    table: str = ""                   # performance: the table id (one sheet per project for a per-project table)
    toc: str = ""                     # performance: its 目录 entry ({project_name})
    when: tuple[str, ...] = ()        # performance: document path that must hold data ({project})
    hide: tuple[str, ...] = ()        # performance: rows or blocks of the description not printed


class OpenData(Struct, frozen=True):
    tables: tuple[str, ...]
    revenue: frozenset[tuple[str, str]]          # (table, block) of revenue; the rest is expenditure
    unit: str
    phase: str
    description: str


class Consolidation(Struct, frozen=True):
    """How the facts of several units combine (numeric facts of the form descriptions are always summed;
    any other fact comes from the first unit unless listed here)."""

    join: tuple[tuple[str, ...], ...] = ()       # texts: the units' distinct texts joined
    union: tuple[tuple[str, ...], ...] = ()      # lists: every distinct item, in the units' order
    merge: tuple[tuple[str, ...], ...] = ()      # mappings: each key's first entry
    units: tuple[str, ...] = ()                  # the text that opens with units_lead
    units_lead: str = ""                         # {department} {subject} {n} {units}


class DisclosurePlan(Struct, frozen=True):
    subject: str                                 # 部门预算 / 部门决算: titles of the workbook and the data
    sheets: tuple[SheetDef, ...]
    open_data: OpenData
    consolidate: Consolidation = Consolidation()


def _default_plan(ts: "TableSet") -> DisclosurePlan:
    tables = tuple(t.id for t in ts.tables if t.number and t.per is None)
    return DisclosurePlan(subject="部门预算", sheets=(SheetDef("cover", name="封面", title="{year} 年部门预算公开"),
                                                   SheetDef("toc", name="目录", title="目　　录"),
                                                   SheetDef("tables", tables=tables)),
                          open_data=OpenData(tables, frozenset(), ts.unit, "approved", ""))


def _load_plan(ts: "TableSet") -> DisclosurePlan:
    d = read_set_file(ts, "disclosure.toml")
    if d is None:
        return _default_plan(ts)
    where = f"{ts.id}/disclosure.toml"
    sheets: list[SheetDef] = []
    names: set[str] = set()
    for i, s in enumerate(d.get("sheet") or (), start=1):
        kind = str(s.get("kind", ""))
        w = f"{where}：第 {i} 个 [[sheet]]"
        if kind not in SHEET_KINDS:
            raise DescriptionError(f"{w} 的 kind {kind!r} 无效，可选：{'、'.join(SHEET_KINDS)}")
        sd = SheetDef(kind=kind, name=str(s.get("name", "")), title=str(s.get("title", "")),
                      lines=tuple(str(x) for x in s.get("lines", ())), date=doc_path(s.get("date")),
                      heading=str(s.get("heading", "")), tables=tuple(str(x) for x in s.get("tables", ())),
                      table=str(s.get("table", "")), toc=str(s.get("toc", "")), when=doc_path(s.get("when")),
                      hide=tuple(str(x) for x in s.get("hide", ())))
        if kind in ("cover", "toc", "text"):
            if not sd.name or sd.name in names:
                raise DescriptionError(f"{w} 缺少工作表名 name 或与其他工作表重名")
            names.add(sd.name)
        if kind == "performance" and not sd.table:
            raise DescriptionError(f"{w} 缺少绩效表 table")
        for tid in sd.tables + ((sd.table,) if kind == "performance" else ()):
            check_ref(ts, tid, None, None, w)
        for path in (sd.date, sd.when):
            if path:
                check_document_path(ts, path, w)
        for key in sd.hide:
            desc = ts.table(sd.table)
            if not table_has_row(desc, key) and key not in [b.key for b in desc.blocks]:
                raise DescriptionError(f"{w}：hide 中的 {key} 不是表 {sd.table} 的行或区块")
        sheets.append(sd)
    od = d.get("open_data") or {}
    w = f"{where}：[open_data]"
    od_tables = tuple(str(x) for x in od.get("tables", ()))
    for tid in od_tables:
        check_ref(ts, tid, None, None, w)
    revenue: set[tuple[str, str]] = set()
    for item in od.get("revenue", ()):
        tid, _, block = str(item).partition(".")
        check_ref(ts, tid, None, None, w)
        if block not in [b.key for b in ts.table(tid).blocks]:
            raise DescriptionError(f"{w}：表 {tid} 没有区块 {block}")
        revenue.add((tid, block))
    unit = str(od.get("unit", ts.unit))
    from .tableset import UNITS

    if unit not in UNITS:
        raise DescriptionError(f"{w}：单位 {unit!r} 无效（应为 {'、'.join(UNITS)}）")
    open_data = OpenData(od_tables, frozenset(revenue), unit, str(od.get("phase", "approved")),
                         str(od.get("description", "")))
    return DisclosurePlan(subject=str(d.get("subject", "部门预算")), sheets=tuple(sheets), open_data=open_data,
                          consolidate=_consolidation(ts, d.get("consolidate") or {}, f"{where}：[consolidate]"))


def _form_paths(ts: "TableSet", per_project: bool = False) -> set[tuple[str, ...]]:
    """Document paths of the form rows (and records blocks) of the set's descriptions (``per_project``: also
    those of per-project tables, with their ``{project}`` placeholder)."""
    out = set()
    for t in ts.tables:
        if t.per is not None and not per_project:
            continue
        for b in t.blocks:
            out.update(doc_path(r.path) for r in b.rows if r.path)
            if b.plan == "records" and b.path:
                out.add(doc_path(b.path))
    return out


def check_document_path(ts: "TableSet", path: tuple[str, ...], where: str) -> None:
    """Raise DescriptionError unless ``path`` is (a part of) where some form row of the set keeps its data."""
    if not any(known[:len(path)] == path for known in _form_paths(ts, per_project=True)):
        raise DescriptionError(f"{where}：{'.'.join(path)} 不是表套中任何表单行的数据路径")


def _consolidation(ts: "TableSet", d: dict[str, Any], where: str) -> Consolidation:
    known = _form_paths(ts)

    def paths(key: str) -> tuple[tuple[str, ...], ...]:
        out = tuple(doc_path(x) for x in d.get(key, ()))
        for p in out:
            if p not in known:
                raise DescriptionError(f"{where}：{key} 中的 {'.'.join(p)} 不是表套中任何表单行的数据路径")
        return out

    units = doc_path(d.get("units"))
    if units and units not in known:
        raise DescriptionError(f"{where}：units 中的 {'.'.join(units)} 不是表套中任何表单行的数据路径")
    return Consolidation(join=paths("join"), union=paths("union"), merge=paths("merge"), units=units,
                         units_lead=str(d.get("units_lead", "")))


def disclosure_plan(ts: "TableSet") -> DisclosurePlan:
    """The set's disclosure plan (a default of cover, 目录 and the numbered tables when it has none)."""
    return cached(ts, "disclosure", lambda: _load_plan(ts))


# --------------------------------------------------------------------------------------------
# next_year.toml
# --------------------------------------------------------------------------------------------


class Carry(Struct, frozen=True):
    to: Expr                        # one cell: table.row.column ({code} for each code of ``for_each``)
    source: Expr                    # signed sum of last year's cells
    for_each: str | None = None     # a code list of the spec (functions, economic, …)


class NextYear(Struct, frozen=True):
    carry: tuple[Carry, ...]
    facts: tuple[str, ...]          # facts sections that come along (部门概况 …)


def _load_next_year(ts: "TableSet") -> NextYear:
    d = read_set_file(ts, "next_year.toml")
    if d is None:
        return NextYear((), ())
    where = f"{ts.id}/next_year.toml"
    from .spec import CODE_LISTS

    carry = []
    for i, c in enumerate(d.get("carry") or (), start=1):
        w = f"{where}：第 {i} 个 [[carry]]"
        for_each = c.get("for_each")
        if for_each is not None and for_each not in CODE_LISTS:
            raise DescriptionError(f"{w} 的 for_each {for_each!r} 无效，可选：{'、'.join(CODE_LISTS)}")
        to = _check_expr(ts, str(c.get("to", "")), w)
        if len(to.terms) != 1:
            raise DescriptionError(f"{w}：to 应为一个单元格")
        carry.append(Carry(to=to, source=_check_expr(ts, str(c.get("from", "")), w), for_each=for_each))
    return NextYear(tuple(carry), tuple(str(x) for x in d.get("facts", ())))


def next_year_plan(ts: "TableSet") -> NextYear:
    return cached(ts, "next_year", lambda: _load_next_year(ts))


def validate_set(ts: "TableSet") -> None:
    """Load (and so check) every set-level file of ``ts``; raise DescriptionError on the first problem."""
    from .narrative import load_narrative
    from .narrative_check import load_vocabulary

    disclosure_plan(ts)
    next_year_plan(ts)
    load_narrative(ts)
    load_vocabulary(ts)
