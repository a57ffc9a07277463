"""Read a workbook in an official layout (not made from our template) into the canonical model.

1. :func:`detect` locates the tables of every installed table set and keeps the set whose titles were
   found most (``tableset=`` overrides);
2. the department spec is inferred from the rows: the codes used, the projects, the printed names, the
   department and year from the 编制部门 line and the titles;
3. the figures go into a :class:`~xlbudget.model.Budget` of the layout of that spec: figures of input
   cells as inputs, printed totals as the constants the department published (the rules compare them
   with the sums of their parts, exactly as for an overwritten total in our template);
4. ``budget.cell_map`` sends every template coordinate to the real cell of the real file, so that a
   finding points at ``部门收入总表!E9``; tables the workbook does not carry are listed in
   ``budget.absent_tables`` and no rule is evaluated over them.

Findings that only make sense for our template (identity, protection, formulas) are never raised here.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import XlbudgetError
from ..findings import Finding, Severity
from ..layout import LRow, LTable, a1, col_letter, layout_for
from ..model import FORMAT, Budget, set_path
from ..parse import clean_float, decimals_of, number_places, parse_amount, parse_number
from ..spec import spec_from_mapping
from ..tableset import TableSet, installed_tablesets, load_tableset
from .cells import CellMap
from .locate import FORMULA, Found, Grid, RawRow, aliases, locate, sheet_grids, strip_label
from .text import cached, norm, vocabulary

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO
ZERO = Decimal(0)
UNIT_FACTORS = {"元": Decimal(1), "万元": Decimal(10000)}


def detect(wb: Any, tableset: str | None = None,
           grids: list[Grid] | None = None) -> tuple[TableSet | None, list[Found]]:
    """The table set of a workbook and the tables found of it (most official titles found wins).
    ``grids`` are the workbook's sheets as :func:`~.locate.sheet_grids` reads them (read here if not given)."""
    ids = [tableset] if tableset else installed_tablesets()
    if grids is None:
        grids = sheet_grids(wb)
    best: tuple[float, int, TableSet | None, list[Found]] = (-1.0, 0, None, [])
    for tid in ids:
        try:
            ts = load_tableset(tid)
        except XlbudgetError:
            continue
        found = [f for f in locate(wb, ts, grids) if f.header_rows]
        official = aliases(ts).official
        n = sum(1 for f in found if f.id in official)
        score = (n / max(len(official), 1), n)
        if n and score > best[:2]:
            best = (score[0], score[1], ts, found)
    return best[2], best[3]


def _table_unit(ts: TableSet, found: Found) -> str:
    desc = found.desc
    prec = getattr(desc, "precision", None)
    if callable(prec):
        try:
            return prec().unit
        except Exception:  # pragma: no cover - description without units: the set's
            pass
    return ts.unit


def _entry_decimals(ts: TableSet, found: Found) -> int:
    prec = getattr(found.desc, "precision", None)
    if callable(prec):
        try:
            return prec().entry_decimals
        except Exception:  # pragma: no cover
            pass
    return ts.entry_decimals


class OfficialReader:
    """One workbook in an official layout -> (Budget | None, findings, meta)."""

    def __init__(self, path: Path, wb: Any, tableset: str | None = None):
        self.path = path
        self.wb = wb
        self.tableset = tableset
        self.findings: list[Finding] = []
        self._known: dict[tuple[str, str, str], Decimal] = {}  # the grid figures put in the document (Budget.know)

    def add(self, kind: str, rule: str, sev: Severity, cells=(), table=None, **kw) -> None:
        self.findings.append(Finding.of(kind, rule, sev, cells, table, **kw))

    # --- entry ---------------------------------------------------------------------------------------------
    def read(self) -> tuple[Budget | None, list[Finding], dict[str, Any]]:
        grids = sheet_grids(self.wb)
        ts, found = detect(self.wb, self.tableset, grids)
        if ts is None:
            self._unknown(grids)
            return None, self.findings, {}
        al = aliases(ts)
        by_id = {f.id: f for f in found}
        spec = self._spec(ts, found, al)
        if spec is None:
            return None, self.findings, {"tableset": ts.id}
        layout = layout_for(spec)
        budget = Budget(layout, {"format": FORMAT, "spec": spec.to_dict(), "tables": {}})
        cell_map = CellMap()
        for tid in al.official:
            f = by_id.get(tid)
            desc = ts.table(tid)
            if f is None:
                lt = layout.tables.get(tid)
                self.add("table-missing", "READ.table-missing", E, table=tid,
                         number=desc.number or tid, title=lt.title if lt is not None else desc.title)
        for f in found:
            t = layout.tables.get(f.id)
            if t is None:
                continue
            self._fill(ts, f, t, budget, cell_map)
        budget.invalidate()
        budget.know(self._known)
        located = {f.id for f in found}
        budget.absent_tables = frozenset(tid for tid in layout.tables if tid not in located)
        budget.cell_map = cell_map
        budget.source = "official"
        meta = {"tableset": ts.id, "version": ts.version, "department": spec.department, "year": spec.year,
                "source": "official", "tables_found": [f.id for f in found]}
        return budget, self.findings, meta

    def _unknown(self, grids: list[Grid]) -> None:
        looked: list[str] = []
        found_any: list[str] = []
        for tid in ([self.tableset] if self.tableset else installed_tablesets()):
            try:
                ts = load_tableset(tid)
            except XlbudgetError:
                continue
            al = aliases(ts)
            looked.extend(f"{ts.table(t).number or t} {ts.table(t).title}" for t in al.official)
            found_any.extend(f"{f.desc.number} {f.desc.title}（{f.sheet}）" for f in locate(self.wb, ts, grids))
        self.add("layout-unknown", "READ.layout-unknown", E,
                 found="、".join(found_any) or "无", looked="、".join(dict.fromkeys(looked)) or "无")

    # --- the spec ------------------------------------------------------------------------------------------
    def _spec(self, ts: TableSet, found: list[Found], al) -> Any:
        codes: dict[str, set[str]] = {}
        names: dict[str, str] = {}
        projects: list[dict[str, Any]] = []
        segs = list(vocabulary()["code_segments"])
        for f in found:
            for b in f.desc.blocks:
                rows = [r for r in f.rows if r.block == b.key]
                if b.plan == "tree":
                    code_col = next((c for c in b.columns if c.kind == "code"), None)
                    full = sum(segs[: len(code_col.split)]) if code_col is not None and code_col.split else \
                        max((len(r.code) for r in rows if r.code), default=0)
                    have = [r for r in rows if r.code]
                    parents = {c[:i] for c in {r.code for r in have} for i in range(1, len(c))}  # have a child
                    for r in have:
                        if r.label and r.code not in names:
                            names[r.code] = r.label
                        if len(r.code) == full:
                            codes.setdefault(b.codes or "functions", set()).add(r.code)
                        elif r.code not in parents and \
                                any(v is not None and v is not FORMULA for v, _ in r.values.values()):
                            self.add("row-unplaced", "READ.row-unplaced", W, cells=(_ref(r, r.label_col),),
                                     table=f.id, text=_clip(f"{r.code} {r.label}"))
                elif b.plan == "projects":
                    unit = ""
                    for r in rows:
                        if r.project:
                            if not r.code:
                                self.add("row-unplaced", "READ.row-unplaced", W, cells=(_ref(r, r.label_col),),
                                         table=f.id, text=_clip(r.project))
                                continue
                            items = [k for k, words in al.project_items.items() if any(w in norm[r.project] for w in words)]
                            projects.append({"key": f"p{len(projects) + 1}", "name": r.project, "function": r.code,
                                             "unit": unit, "sangong": items})
                            if r.label and r.code not in names:
                                names[r.code] = r.label
                        elif r.code:
                            if r.label and r.code not in names:
                                names[r.code] = r.label
                        elif r.label and not self._is_total(b, r):
                            unit = r.label
        department = next((f.department for f in found if f.department), "")
        year = next((f.year for f in found if f.year), None)
        if not department:
            department = self._department_from_titles(found)
        if year is None:
            year = self._year_anywhere()
        if year is None:
            self.add("year-unknown", "READ.year-unknown", W)
            year = 2000
        single = len({p["unit"] for p in projects}) <= 1
        for p in projects:
            if single or p["unit"] == department:
                p["unit"] = ""
        d = {"tableset": ts.id, "department": {"name": department or "（未注明部门）", "year": year},
             "codes": {k: sorted(v) for k, v in codes.items()}, "projects": projects, "names": names}
        try:
            return spec_from_mapping(d)
        except XlbudgetError as e:
            self.add("layout-unknown", "READ.rows-unreadable", E, found=str(e), looked="")
            return None

    def _year_anywhere(self) -> int | None:
        """The year most often named in the short texts of the workbook (notes, other sheets)."""
        import collections

        from .text import year_in

        seen: collections.Counter[int] = collections.Counter()
        for name in self.wb.sheet_names:
            try:
                values = self.wb.sheet(name).values
            except Exception:
                continue
            for v in values.values():
                if isinstance(v, str) and len(v) <= 200:
                    y = year_in(v)
                    if y:
                        seen[y] += 1
        return seen.most_common(1)[0][0] if seen else None

    @staticmethod
    def _department_from_titles(found: list[Found]) -> str:
        for f in found:
            s = f.title.strip()
            i = s.find(str(f.year)) if f.year else -1
            if i > 0:
                return s[:i].strip()
        return ""

    @staticmethod
    def _is_total(b, r: RawRow) -> bool:
        words = _total_words(b.total.label if b.total is not None else None)
        return norm[r.label] in words or strip_label[r.label] in words

    # --- figures -------------------------------------------------------------------------------------------
    def _fill(self, ts: TableSet, f: Found, t: LTable, budget: Budget, cell_map: CellMap) -> None:
        al = aliases(ts)
        unit = _table_unit(ts, f)
        factor = Decimal(1)
        if f.unit and f.unit != unit and f.unit in UNIT_FACTORS and unit in UNIT_FACTORS:
            factor = UNIT_FACTORS[f.unit] / UNIT_FACTORS[unit]
            self.add("unit-converted", "READ.unit-converted", I, cells=(f"{f.sheet}!{a1(f.title_row, f.title_col)}",),
                     table=t.id, found=f.unit, unit=unit)
        decimals = _entry_decimals(ts, f)
        layout = budget.layout
        doc = budget.doc
        overrides = budget.overrides
        cell_map.title(t.sheet, f"{f.sheet}!{a1(f.title_row, f.title_col)}")
        placed = cell_map.table(t.sheet)
        known = self._known
        tid = t.id
        tables = doc["tables"]
        pointers: dict[str, int] = {}
        rows = _Rows(t)
        letters = _template_columns(t)
        # per block: the sheet columns of the non-numeric columns the sheet has
        blocks = {}
        for b in t.desc.blocks:
            texts = {}
            for col in b.columns:
                if (b.key, col.key) in t.colpos and not col.numeric:
                    cols = f.columns.get((b.key, col.key))
                    if cols:
                        texts[col.key] = cols[0]
            blocks[b.key] = (b, texts)
        kinds: dict[int, dict[str, tuple[Any, str]]] = {}   # rows alike (Layout.roles): column -> (column, role)
        for r in f.rows:
            b, texts = blocks[r.block]
            key = self._row_key(t, b, r, al, pointers, rows)
            if key is None:
                if any(v is not None and v is not FORMULA for v, _ in r.values.values()):
                    self.add("row-unplaced", "READ.row-unplaced", W, cells=(_ref(r, r.label_col),), table=t.id,
                             text=_clip(" ".join(x for x in (r.code or "", r.label, r.project or "") if x)))
                continue
            lrow = t.rows[key]
            if r.code and r.label and lrow.code:
                budget.printed_labels[(t.id, key)] = r.label
            cell_map.place(placed, lrow.r + 1, r.r, r.sheet, r.values, texts, letters[lrow.block])
            roles = layout.roles(t, lrow)
            kind = kinds.get(id(roles))
            if kind is None:
                kind = kinds[id(roles)] = {col.key: (col, role) for col, role in roles}
            grid_row = lrow.record is None
            figures = None  # the row's mapping in the document, once a figure is put there
            for ck, (raw, c) in r.values.items():
                if raw is FORMULA:
                    continue
                col, role = kind[ck]
                if raw is None:  # an empty cell: a total the template computes is published as 0
                    if role == "formula" or role == "sum":
                        overrides[(tid, key, ck)] = ZERO
                    elif role == "input" and grid_row and col.kind == "amount":
                        known.setdefault((tid, key, ck), None)  # a blank figure: nothing to look up for the totals
                    continue
                d, how, places = _amount[raw] if raw.__class__ is float or raw.__class__ is str else _amount(raw)
                if how == "bad":
                    self.add("input-not-number", "READ.not-number", E, cells=(_ref(r, c),), table=t.id,
                             text=_clip(str(raw)))
                    continue
                if d is not None:
                    if how == "text":
                        self.add("input-text-number", "READ.text-number", I, cells=(_ref(r, c),), table=t.id,
                                 text=_clip(str(raw)), actual=d)
                    if places > decimals:
                        self.add("excess-digits", "READ.excess-digits", W, cells=(_ref(r, c),), table=t.id,
                                 actual=d, decimals=decimals)
                    d = d * factor
                if role == "input":
                    if d is not None:
                        if d < 0:
                            self.add("negative-amount", "READ.negative", E, cells=(_ref(r, c),), table=t.id, actual=d)
                        if grid_row and col.kind != "field":  # tables.<table>.<row>.<column>
                            if figures is None:
                                figures = tables.get(tid)
                                if figures is None:
                                    figures = tables[tid] = {}
                                figures = figures.get(key) or figures.setdefault(key, {})
                            figures[ck] = d
                            if col.kind == "amount":  # a grid figure: the Decimal itself
                                known[(tid, key, ck)] = d
                        else:
                            set_path(doc, budget.input_path(t, lrow, col), d)
                elif role == "formula" or role == "sum":
                    overrides[(tid, key, ck)] = d if d is not None else ZERO

    def _row_key(self, t: LTable, b, r: RawRow, al, pointers: dict[str, Any], rows: _Rows) -> str | None:
        if b.plan == "fixed":
            return self._fixed_key(t, b, r, al, pointers)
        if not r.code and b.total is not None and self._is_total(b, r):
            return b.total.key
        if b.plan in ("tree", "classes"):
            if r.code and r.code in t.rows and t.rows[r.code].block == b.key:
                return r.code
            if b.plan == "classes" and r.label:
                lab = norm(r.label)
                for row in t.rows.values():
                    if row.block == b.key and row.code and norm(row.label) == lab:
                        return row.key
            return None
        if b.plan == "projects":
            units = rows.units(b.key)
            n = pointers.get("unit", 0)
            if r.project:
                name = norm(r.project)
                cands = rows.projects(name, r.code)
                if not cands:
                    return None
                used = pointers.get(f"p:{name}:{r.code}", 0)
                pointers[f"p:{name}:{r.code}"] = used + 1
                return cands[min(used, len(cands) - 1)].key
            if r.code:
                k = r.code if len(units) == 1 else f"u{max(n, 1)}:{r.code}"
                return k if k in t.rows else None
            if r.label:  # a unit's row: the next unit
                pointers["unit"] = n + 1
                return units[n].key if n < len(units) else None
        return None

    def _fixed_key(self, t: LTable, b, r: RawRow, al, pointers: dict[str, int]) -> str | None:
        order = _fixed_rows(al, t.desc.id, b)
        if not any(c.kind in ("label", "name") for c in b.columns):  # rows without labels come in order
            i = pointers.get(b.key, 0)
            pointers[b.key] = i + 1
            return order[i][0] if i < len(order) and order[i][0] in t.rows else None
        if not r.label:
            return None
        lab, bare = norm[r.label], strip_label[r.label]
        start = pointers.get(b.key, 0)
        for i in list(range(start, len(order))) + list(range(0, start)):
            key, alts, bares = order[i]
            if key in t.rows and (lab in alts or bare in bares):
                if i >= start:
                    pointers[b.key] = i + 1
                return key
        return None


def _fixed_rows(al, tid: str, b) -> list[tuple[str, tuple[str, ...], frozenset[str]]]:
    """The rows of a fixed block in order, its total last, each with the labels it may be printed with
    (normalised, and without their enumerators): worked out once per table set."""
    key = (tid, b.key)
    got = al.fixed_rows.get(key)
    if got is None:
        got = []
        for rd in list(b.rows) + ([b.total] if b.total else []):
            alts = (norm(rd.label),) + al.rows.get((tid, rd.key), ())
            got.append((rd.key, alts, frozenset(strip_label(a) for a in alts)))
        al.fixed_rows[key] = got
    return got


class _Rows:
    """The rows of a laid-out table that a project table's lines are matched with, indexed on first use."""

    def __init__(self, t: LTable):
        self.t = t
        self._units: dict[str, list[LRow]] = {}
        self._projects: dict[tuple[str, str | None], list[LRow]] | None = None

    def units(self, block: str) -> list[LRow]:
        """The 单位 rows of a block, in order."""
        if block not in self._units:
            self._units[block] = [row for row in self.t.rows.values()
                                  if row.block == block and row.level == 0 and not row.total]
        return self._units[block]

    def projects(self, name: str, code: str | None) -> list[LRow]:
        """The rows of the project of that normalised name under that code, in order."""
        if self._projects is None:
            self._projects = {}
            for row in self.t.rows.values():
                if row.project:
                    self._projects.setdefault((norm(row.project_name), row.code), []).append(row)
        return self._projects.get((name, code), [])


@functools.lru_cache(maxsize=256)
def _total_words(label: str | None) -> frozenset[str]:
    """What a total row is called: the vocabulary's words and the block's own total label."""
    words = {norm(w) for w in vocabulary()["total_labels"]}
    if label is not None:
        words.add(norm(label))
    return frozenset(words)


def _template_columns(t: LTable) -> dict[str, dict[str, str]]:
    """``block -> column letter -> column key``: the template cell of a row is its sheet, that letter and the
    row's number, as ``LTable.ref`` writes it."""
    out: dict[str, dict[str, str]] = {}
    for (block, ck), (c, _) in t.colpos.items():
        out.setdefault(block, {})[col_letter(c)] = ck
    return out


@cached()
def _amount(raw: Any) -> tuple[Decimal | None, str, int]:
    """A figure as read (binary float noise dropped from number cells), how it was written, and its decimals;
    once per distinct cell value."""
    if raw.__class__ is float or raw.__class__ is int:  # a number cell: the quick path, where it applies
        d = parse_number(raw)
        if d is not None:
            return d, "number", number_places(raw, d)
    d, how = parse_amount(raw)
    if d is not None and how == "number":
        d = clean_float(d)
    return d, how, decimals_of(d) if d is not None else 0


def _ref(r: RawRow, c: int) -> str:
    return f"{r.sheet}!{a1(r.r, c)}"


def _clip(s: str, n: int = 60) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[:n] + "…"


def read_official(path: Path, wb: Any, tableset: str | None = None):
    """``ReadResult`` of a workbook in an official layout (see the module docstring)."""
    from ..reader import ReadResult

    budget, findings, meta = OfficialReader(path, wb, tableset).read()
    names = getattr(wb, "sheet_names", None)
    return ReadResult(path, budget, findings, getattr(wb, "sha256", "") or "", meta,
                      tuple(names) if names is not None else None)
