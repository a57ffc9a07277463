"""Load the declarative table descriptions (``templates/<set>/*.toml``).

One description per official table: title, header tree, columns, row plan, which cells are inputs and
which are formulas. The template writer, the reader, the rules and the disclosure builder all interpret
these objects; nothing else in the code base knows where a figure sits.

Besides titles, headers, columns and rows, a description may say (examples in ``templates/sh-final``):

* on a fixed row, ``code = "201"``: the row stands for that classification code (a 类 line of a summary
  table); it takes the block's ``cells`` pattern (``{ amount = "T3.{code}.total" }``) and is expanded by the
  rule book's ``classes:T`` / ``rows:T`` forms like a coded row;
* on a tree block, ``prefixes = ["301", "303"]``: only the spec's codes under these (two blocks of one table
  side by side, 人员经费 and 公用经费);
* on a table, ``notes = ["注：本表反映…"]``: lines printed under the table whatever its figures, before the
  ``empty_note``; ``note_columns``: the total-row columns whose figures decide whether the empty note shows
  (a table of balances lists 年初, 本年收入, 本年支出, 年末; default its first numeric column);
  ``zeros = true``: zero figures print 0.00.
"""

from __future__ import annotations

import functools
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from msgspec import Struct, field

from . import tomlfile
from .errors import DescriptionError
from .expr import Expr, parse

COLUMN_KINDS = {"code", "name", "label", "project", "amount", "int", "text", "field"}
ROW_TYPES = {"amount", "int", "signed_int", "text", "longtext", "lines", "mapping"}
PLANS = {"fixed", "tree", "classes", "projects", "form", "records"}
NUMERIC_KINDS = {"amount", "int"}
# The size of each money unit in 元: a figure converts from unit A to unit B as value * A / B (exact Decimal).
UNITS = {"元": Decimal(1), "万元": Decimal(10000)}
PRECISION_KEYS = ("unit", "display_decimals", "entry_decimals")


class Precision(Struct, frozen=True, dict=True):
    """How a figure is kept and printed: its money unit, the decimals it is published with and the decimals
    an accountant may enter."""

    unit: str = "万元"
    display_decimals: int = 2
    entry_decimals: int = 6

    @property
    def factor(self) -> Decimal:
        """The unit's size in 元 (元 → 1, 万元 → 10000)."""
        return UNITS[self.unit]

    @functools.cached_property
    def quantum(self) -> Decimal:
        """The last printed digit: 0.01 at 2 decimals."""
        return Decimal(10) ** -self.display_decimals

    @functools.cached_property
    def half(self) -> Decimal:
        """Half a unit of the last printed digit: what one published figure may differ from its exact value."""
        return self.quantum / 2

    def convert(self, value: Decimal, to: "Precision") -> Decimal:
        """``value`` in this unit expressed in the unit of ``to`` (exact)."""
        if self.unit == to.unit:
            return value
        return value * self.factor / to.factor


def _precision(d: dict[str, Any], base: Precision, where: str) -> Precision | None:
    """The precision keys of a description level over ``base`` (None when the level sets none)."""
    given = {k: d[k] for k in PRECISION_KEYS if k in d}
    if not given:
        return None
    unit = str(given.get("unit", base.unit))
    if unit not in UNITS:
        raise DescriptionError(f"{where}：单位 {unit!r} 无效（应为 {'、'.join(UNITS)}）")
    out = {"unit": unit}
    for k in ("display_decimals", "entry_decimals"):
        v = given.get(k, getattr(base, k))
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 10:
            raise DescriptionError(f"{where}：{k} 应为 0 到 10 之间的整数，而不是 {v!r}")
        out[k] = v
    return Precision(**out)


class Column(Struct, frozen=True, dict=True):
    """A column of a block, as its table description gives it: key, kind, header, width, input or formula."""

    key: str
    kind: str
    header: tuple[str, ...] = ()
    split: tuple[str, ...] = ()
    width: float = 13.0
    input: bool = False
    formula: Expr | None = None
    span: int = 1
    precision: Precision | None = None     # the column's own unit and decimals (None: the table's)

    def __post_init__(self) -> None:
        # derived when the column is made, attributes rather than fields (no part of == or repr): ``numeric``,
        # an amount or a count (asked very often); ``ncols``, the sheet columns it takes (its split, else span)
        d = self.__dict__
        d["numeric"] = self.kind in NUMERIC_KINDS
        d["ncols"] = len(self.split) if self.split else self.span


class RowDef(Struct, frozen=True):
    """A row declared in a description (fixed, form and total rows)."""

    key: str
    label: str
    indent: int = 0
    input: bool = False
    sum: tuple[str, ...] = ()
    formula: dict[str, Expr] = field(default_factory=dict)
    total: bool = False
    bottom: bool = False
    type: str = "amount"
    path: str | None = None
    fixed: str | None = None
    section: str | None = None
    code: str | None = None            # fixed rows: the classification code the row stands for (e.g. a 类)


class Block(Struct, frozen=True, dict=True):
    """A block of rows of a table, laid out by one plan (fixed, form, tree, classes, projects, records)."""

    key: str
    plan: str
    columns: tuple[Column, ...]
    rows: tuple[RowDef, ...] = ()
    codes: str | None = None
    code_style: str = "split"
    total: RowDef | None = None
    cells: dict[str, str] = field(default_factory=dict)
    path: str | None = None
    spare: int = 0
    prefixes: tuple[str, ...] = ()     # tree plan: only the codes under these (e.g. 301, 303)
    ordinal: bool = False       # classes plan: labels numbered 一、二、… (Shanghai 表1/表4)

    def __post_init__(self) -> None:
        # derived from the columns when the block is made, attributes rather than fields: ``amount_columns``,
        # the numeric ones; ``leaf_inputs``, the keys of the numeric columns a leaf row takes as inputs (not
        # computed by a column formula)
        d = self.__dict__
        d["_by_key"] = {c.key: c for c in reversed(self.columns)}
        d["amount_columns"] = amount = tuple(c for c in self.columns if c.numeric)
        d["leaf_inputs"] = frozenset(c.key for c in amount if c.input and c.formula is None)

    def column(self, key: str) -> Column:
        return self._by_key[key]


class TableDesc(Struct, frozen=True, dict=True):
    """A table of a set, as its description file gives it: id, sheet, title, blocks, notes, precision."""

    id: str
    number: str
    sheet: str
    title: str
    blocks: tuple[Block, ...]
    subtitle: str | None = None
    arrange: str = "side"
    numbering: bool = True
    unit_line: bool = True
    landscape: bool = False
    empty_note: str | None = None
    per: str | None = None
    table_precision: Precision = Precision()   # the table's unit and decimals (the set's when it sets none)
    zeros: bool = False                        # amounts print 0 (e.g. 0.00) instead of a blank cell
    notes: tuple[str, ...] = ()                # lines printed under the table whatever its figures (注：本表反映…)
    note_columns: tuple[str, ...] = ()         # the empty note shows while these cells of the total row are 0
                                               # (default: its first numeric column)

    def __post_init__(self) -> None:  # (an attribute, not a field)
        self.__dict__["_by_key"] = {b.key: b for b in reversed(self.blocks)}

    def block(self, key: str) -> Block:
        return self._by_key[key]

    def precision(self, column_key: str | None = None) -> Precision:
        """The column's own precision, else the table's (itself the set's unless the table sets one)."""
        if column_key is not None:
            for b in self.blocks:
                for c in b.columns:
                    if c.key == column_key and c.precision is not None:
                        return c.precision
        return self.table_precision


class TableSet(Struct, frozen=True):
    """A table set (``templates/<set>/``): its tables, units, precision, rule book and narrative."""

    id: str
    version: str
    name: str
    unit: str
    display_decimals: int
    entry_decimals: int
    tables: tuple[TableDesc, ...]
    rules_file: Path | None
    folder: Path
    example: str | None = None      # the folder of examples/ holding this set's example document

    @property
    def precision(self) -> Precision:
        """The set's default unit and decimals."""
        return Precision(self.unit, self.display_decimals, self.entry_decimals)

    def table(self, tid: str) -> TableDesc:
        for t in self.tables:
            if t.id == tid:
                return t
        raise KeyError(tid)

    @property
    def table_ids(self) -> list[str]:
        return [t.id for t in self.tables]


def _row(d: dict[str, Any], where: str) -> RowDef:
    try:
        formula = {k: parse(v) for k, v in d.get("formula", {}).items()}
        rd = RowDef(
            key=d["key"], label=d.get("label", ""), indent=int(d.get("indent", 0)), input=bool(d.get("input", False)),
            sum=tuple(d.get("sum", ())), formula=formula, total=bool(d.get("total", False)),
            bottom=bool(d.get("bottom", False)), type=d.get("type", "amount"), path=d.get("path"),
            fixed=d.get("fixed"), section=d.get("section"), code=str(d["code"]) if "code" in d else None,
        )
    except KeyError as e:
        raise DescriptionError(f"{where}: row without {e}") from None
    if rd.type not in ROW_TYPES:
        raise DescriptionError(f"{where}: row {rd.key}: unknown type {rd.type!r}")
    return rd


def _column(d: dict[str, Any], where: str, base: Precision) -> Column:
    kind = d.get("kind")
    if kind not in COLUMN_KINDS:
        raise DescriptionError(f"{where}: column {d.get('key')!r}: unknown kind {kind!r}")
    precision = _precision(d, base, f"{where}: column {d.get('key')!r}")
    if precision is not None and kind not in NUMERIC_KINDS:
        raise DescriptionError(f"{where}：列 {d.get('key')!r} 不是金额列，不能设单位或小数位")
    return Column(
        key=d["key"], kind=kind, header=tuple(d.get("header", ())), split=tuple(d.get("split", ())),
        width=float(d.get("width", 13.0)), input=bool(d.get("input", False)),
        formula=parse(d["formula"]) if "formula" in d else None, span=int(d.get("span", 1)), precision=precision,
    )


def _block(d: dict[str, Any], where: str, base: Precision) -> Block:
    plan = d.get("plan")
    if plan not in PLANS:
        raise DescriptionError(f"{where}: unknown plan {plan!r}")
    w = f"{where}/{d.get('key')}"
    cols = tuple(_column(c, w, base) for c in d.get("columns", ()))
    keys = [c.key for c in cols]
    if len(set(keys)) != len(keys):
        raise DescriptionError(f"{w}: duplicate column keys")
    rows = tuple(_row(r, w) for r in d.get("rows", ()))
    rkeys = [r.key for r in rows]
    if len(set(rkeys)) != len(rkeys):
        raise DescriptionError(f"{w}: duplicate row keys")
    for r in rows:
        for s in r.sum:
            if s not in rkeys:
                raise DescriptionError(f"{w}: row {r.key} sums unknown row {s}")
    return Block(
        key=d["key"], plan=plan, columns=cols, rows=rows, codes=d.get("codes"),
        code_style=d.get("code_style", "split"),
        total=_row(d["total"], w) if "total" in d else None, cells=dict(d.get("cells", {})),
        path=d.get("path"), spare=int(d.get("spare", 0)), prefixes=tuple(str(p) for p in d.get("prefixes", ())),
        ordinal=bool(d.get("ordinal", False)),
    )


def _table(path: Path, default: Precision) -> TableDesc:
    d = tomlfile.load(path)
    where = path.name
    base = _precision(d, default, where) or default
    try:
        t = TableDesc(
            id=d["id"], number=d.get("number", ""), sheet=d["sheet"], title=d["title"],
            blocks=tuple(_block(b, where, base) for b in d["blocks"]), subtitle=d.get("subtitle"),
            arrange=d.get("arrange", "side"), numbering=bool(d.get("numbering", True)),
            unit_line=bool(d.get("unit_line", True)), landscape=bool(d.get("landscape", False)),
            empty_note=d.get("empty_note"), per=d.get("per"), table_precision=base, notes=tuple(d.get("notes", ())),
            note_columns=tuple(d.get("note_columns", ())),
            zeros=bool(d.get("zeros", False)),
        )
    except KeyError as e:
        raise DescriptionError(f"{where}: missing {e}") from None
    seen: dict[str, Precision] = {}
    for b in t.blocks:
        for c in b.columns:
            if c.numeric:
                p = c.precision or base
                if seen.setdefault(c.key, p) != p:
                    raise DescriptionError(f"{where}：各部分的同名列 {c.key!r} 单位或小数位不一致")
    sheet_probe = t.sheet.replace("{n}", "99")
    if len(sheet_probe) > 31 or any(ch in sheet_probe for ch in "[]:*?/\\"):
        raise DescriptionError(f"{where}: sheet name {t.sheet!r} is not a valid Excel sheet name")
    return t


def installed_dirs() -> list[Path]:
    """Where table sets are installed, one folder per id: the shipped ones (templates/), then
    ``$XLBUDGET_HOME/tablesets`` (``~/.xlbudget/tablesets``), then the folders listed in ``$XLBUDGET_TABLESETS``
    (separated by the system's path separator, e.g. a folder shared by a finance bureau)."""
    return list(_dirs(os.environ.get("XLBUDGET_HOME"), os.environ.get("XLBUDGET_TABLESETS", ""),
                      os.environ.get("HOME")))


@functools.lru_cache(maxsize=8)
def _dirs(home: str | None, extra: str, _user_home: str | None) -> tuple[Path, ...]:
    """:func:`installed_dirs` for these values of the environment (looked up for every workbook checked)."""
    base = Path(home).expanduser() if home else Path.home() / ".xlbudget"
    more = [Path(p).expanduser() for p in extra.split(os.pathsep) if p]
    return (_shipped_dir(), base / "tablesets", *more)


@functools.lru_cache(maxsize=1)
def _shipped_dir() -> Path:
    """The folder of the package xlbudget.templates (found from the package itself, not through
    importlib.resources: importing that costs 5 ms of every start)."""
    from . import templates

    return Path(templates.__file__).resolve().parent


def installed_tablesets() -> list[str]:
    """The ids of the installed table sets (one folder each with a tableset.toml)."""
    ids: set[str] = set()
    for base in installed_dirs():
        try:
            with os.scandir(base) as entries:
                for entry in entries:
                    if _is_dir(entry) and os.path.isfile(os.path.join(entry.path, "tableset.toml")):
                        ids.add(entry.name)
        except OSError:  # no such folder (or not one)
            continue
    return sorted(ids)


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()  # (a link to a folder too, as Path.is_dir)
    except OSError:
        return False


def resolved_dir(folder: Path) -> Path:
    """``folder.resolve()`` of a table set's folder, quick for one in the shipped folder (itself resolved) that is
    no link."""
    if folder.parent == _shipped_dir() and not os.path.islink(folder):
        return folder
    return folder.resolve()


def tableset_dir(name: str = "xj11") -> Path:
    """The folder of an installed table set, by id; or a folder the calling code names (a set being written or
    tested). A spec from outside (a spec file, the spec a submission embeds) can only name an id: the spec
    schema refuses anything else before a table set is looked up (see :mod:`xlbudget.specschema`)."""
    from .specschema import TABLESET_ID

    if isinstance(name, Path):
        name = str(name)
    if not isinstance(name, str):
        raise DescriptionError(f"表套标识 {str(name)[:40]!r} 无效")
    if not TABLESET_ID.match(name):
        folder = Path(name)
        if (folder / "tableset.toml").is_file():
            return folder
        raise DescriptionError(f"没有名为“{name[:60]}”的表套；已安装的表套：{'、'.join(installed_tablesets()) or '无'}")
    for base in installed_dirs():
        if os.path.isfile(os.path.join(base, name, "tableset.toml")):
            return base / name
    raise DescriptionError(f"没有名为“{name}”的表套；已安装的表套：{'、'.join(installed_tablesets()) or '无'}"
                           "（在 templates/ 或 $XLBUDGET_HOME/tablesets/ 下）")


def load_tableset(name: "str | Path" = "xj11") -> TableSet:
    """Load a table set by id (installed) or by folder (see :func:`tableset_dir`)."""
    folder = tableset_dir(name)
    ts = _load_folder(resolved_dir(folder))
    if isinstance(name, str) and folder.name == name and ts.id != name:
        raise DescriptionError(f"表套文件夹 {name} 中的标识为 {ts.id}，两者应一致")
    return ts


load_tableset.cache_clear = lambda: _load_folder.cache_clear()  # type: ignore[attr-defined]


def installed_tableset(tid: str) -> TableSet:
    """The installed table set ``tid``; a path or an unknown id is refused (sets are named by id only)."""
    from .specschema import TABLESET_ID

    if not isinstance(tid, str) or not TABLESET_ID.match(tid) or tid not in installed_tablesets():
        raise DescriptionError(f"未知的表套 {str(tid)[:40]!r}，已安装的表套：{'、'.join(installed_tablesets())}"
                               "（xlbudget tablesets 列出；表套只按编号选用，不接受路径）")
    return load_tableset(tid)


@functools.lru_cache(maxsize=8)
def _load_folder(folder: Path) -> TableSet:
    name = folder.name
    meta = tomlfile.load(folder / "tableset.toml")
    default = _precision(meta, Precision(), "tableset.toml") or Precision()
    tables = tuple(_table(folder / f"{tid}.toml", default) for tid in meta["tables"])
    ids = [t.id for t in tables]
    if len(set(ids)) != len(ids):
        raise DescriptionError(f"{name}: duplicate table ids")
    rules = folder / meta["rules"] if meta.get("rules") else None
    ts = TableSet(
        id=meta["id"], version=str(meta["version"]), name=meta.get("name", meta["id"]), unit=default.unit,
        display_decimals=default.display_decimals, entry_decimals=default.entry_decimals,
        tables=tables, rules_file=rules, folder=folder, example=meta.get("example"),
    )
    _validate(ts)
    return ts


# The code that checks a set as it loads: a change to any of these files checks every set again.
_CHECKERS = ("tableset.py", "setdata.py", "narrative.py", "expr.py", "rules/base.py", "rules/book.py",
             "narrative_check/vocabulary.py", "narrative_check/__init__.py")
# What checking a set found out that a process may need without loading the data it comes from (kept in
# the stamp): the sheets of a workbook that hold its narrative, looked for in every workbook checked.
_FACTS: dict[Path, dict[str, Any]] = {}


def set_facts(ts: TableSet) -> dict[str, Any]:
    """What was found out about ``ts`` when it was checked (see :data:`_FACTS`); empty when not known."""
    return _FACTS.get(ts.folder, {})


def _stamp(ts: TableSet) -> Path | None:
    """Where the proof lives that this exact set (its files, sizes and times, and the checking code) was
    checked: ``$XLBUDGET_HOME/cache/sets/<digest>`` (else ``~/.xlbudget/…``); None without a home."""
    import hashlib
    import os

    from . import __version__

    h = hashlib.sha256(f"{__version__}\0{ts.folder.resolve()}".encode())
    try:
        here = Path(__file__).resolve().parent
        for p in sorted(ts.folder.iterdir()) + [here / c for c in _CHECKERS]:
            st = p.stat()
            h.update(f"\0{p.name}\0{st.st_size}\0{st.st_mtime_ns}".encode())
        home = os.environ.get("XLBUDGET_HOME")
        base = Path(home).expanduser() if home else Path.home() / ".xlbudget"
    except (OSError, RuntimeError):
        return None
    return base / "cache" / "sets" / h.hexdigest()


def _validate(ts: TableSet) -> None:
    """Check the rule book, the disclosure, narrative, roll-over and vocabulary data against the set (a
    DescriptionError on the first problem). Checking the 情况说明 templates costs a few hundred ms, so a
    set checked once with the same files and the same code is not checked again in every process."""
    import json

    stamp = _stamp(ts)
    if stamp is not None:
        try:
            facts = json.loads(stamp.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            facts = None
        if isinstance(facts, dict) and facts.get("id") == ts.id:
            _FACTS[ts.folder] = facts
            return
    from .narrative_check import set_narrative_sheets
    from .rules.base import load_rules  # the rule book is checked against the set as the set loads
    from .setdata import validate_set  # so are its disclosure, narrative and roll-over data

    load_rules(ts)
    validate_set(ts)
    facts = {"id": ts.id, "version": ts.version, "narrative_sheets": list(set_narrative_sheets(ts))}
    _FACTS[ts.folder] = facts
    if stamp is not None:
        from .errors import XlbudgetError
        from .outputs import atomic_write

        try:  # whole or not at all: another process may be reading it
            atomic_write(stamp, json.dumps(facts, ensure_ascii=False) + "\n")
        except (OSError, XlbudgetError):  # a read-only home: checked again next time
            pass


def load_rule_entries(ts: TableSet) -> list[dict[str, Any]]:
    """The raw ``[[rule]]`` entries of a table set's rule book (empty when it has none)."""
    if ts.rules_file is None or not ts.rules_file.is_file():
        return []
    return list(tomlfile.load(ts.rules_file).get("rule", []))
