"""Find the tables of a table set in any workbook, by their titles and header texts.

The locator reads no coordinate from our template: it looks for each table's title (or an alias from
``templates/<set>/locate.toml``) in any sheet, reads the 单位 and 编制部门 lines under it, maps the header
rows onto the table description's header tree (merged cells filled, line breaks, widths and stray spaces
ignored), and collects the body rows up to the next title: codes split 类/款/项 or joined, names indented
with spaces, numbers or text. Several tables may share a sheet; a table continued over several blocks
repeats its header (and maybe its title), and its rows are joined.

The result is a list of :class:`Found` tables, each a list of :class:`RawRow` with the sheet cell of every
figure; :mod:`xlbudget.official.read` turns them into the canonical model.
"""

from __future__ import annotations

import bisect
import functools
import re
from typing import Any, Iterable

from msgspec import Struct, field

from .. import tomlfile
from ..tableset import Block, Column, TableDesc, TableSet
from .text import (cached, department_in, digits, is_note, leading_code, norm, strip_enumerator,
                   unit_in, vocabulary, year_in)


HEADER_SCAN = 12        # rows under a title searched for the 单位 line and the header
TITLE_MAX = 120         # longer texts are sentences, not titles
_PAREN = re.compile(r"\([^)]*\)")
_REF = re.compile(r"^([A-Z]+)(\d+)$")

GRID_PLANS = ("fixed", "tree", "classes", "projects")
FORMULA = object()      # a formula cell without a cached value: recomputed from its parts, never read as 0


# --- the set's aliases ----------------------------------------------------------------------------------
class Aliases(Struct, frozen=True):
    official: tuple[str, ...]                         # tables a workbook in the official layout carries
    titles: dict[str, tuple[str, ...]]                # table id -> normalised titles (own title first)
    headers: dict[tuple[str, str], tuple[tuple[str, ...], ...]]   # (table, column) -> alternative paths
    rows: dict[tuple[str, str], tuple[str, ...]]      # (table, row) -> normalised alternative labels
    project_items: dict[str, tuple[str, ...]]         # 三公 item -> words of a project name that fund it
    labels: dict[str, tuple[str, ...]]                # normalised header label -> equivalent labels
    title_index: dict[str, str] = field(default_factory=dict)   # normalised title -> table id (first wins)
    title_lengths: tuple[int, ...] = ()               # lengths of the titles in the index, longest first
    title_ends: frozenset[str] = frozenset()          # last characters of the titles in the index
    header_labels: dict[str, frozenset[str]] = field(default_factory=dict)   # table id -> its header words
    # (table id, the header's column paths) -> the columns found and those missing (see _map_columns): the
    # sources of one kind print the same header, so the mapping is worked out once per header seen
    mappings: dict[tuple[str, tuple[tuple[str, ...], ...]], tuple[dict, list]] = field(default_factory=dict)
    # (table id, block) -> the rows of a fixed block with their printed labels (official.read._fixed_rows)
    fixed_rows: dict[tuple[str, str], list] = field(default_factory=dict)


_ALIASES: dict[tuple[str, str], Aliases] = {}


def aliases(ts: TableSet) -> Aliases:
    """The set's ``locate.toml`` (titles, header and row aliases), checked against its tables once."""
    key = (ts.id, str(ts.folder))
    if key not in _ALIASES:
        _ALIASES[key] = _load_aliases(ts)
    return _ALIASES[key]


def _load_aliases(ts: TableSet) -> Aliases:
    path = ts.folder / "locate.toml"
    d: dict[str, Any] = tomlfile.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    grid_ids = [t.id for t in ts.tables if t.per is None and all(b.plan in GRID_PLANS for b in t.blocks)]
    official = tuple(d.get("official", grid_ids))
    titles: dict[str, tuple[str, ...]] = {}
    headers: dict[tuple[str, str], tuple[tuple[str, ...], ...]] = {}
    rows: dict[tuple[str, str], tuple[str, ...]] = {}
    known = {t.id: t for t in ts.tables}
    from ..errors import DescriptionError

    for tid in official:
        if tid not in known:
            raise DescriptionError(f"{path.name}：official 中的表 {tid} 不在表套 {ts.id} 中")
    for tid in official:
        t = known[tid]
        td = (d.get("tables") or {}).get(tid, {})
        titles[tid] = tuple(dict.fromkeys(_literal(x) for x in [t.title, *td.get("titles", ())]))
        cols = {c.key for b in t.blocks for c in b.columns}
        for ck, alts in (td.get("headers") or {}).items():
            if ck not in cols:
                raise DescriptionError(f"{path.name}：表 {tid} 没有列 {ck}")
            headers[(tid, ck)] = tuple(tuple(norm(x) for x in (a if isinstance(a, list) else [a])) for a in alts)
        rkeys = {r.key for b in t.blocks for r in b.rows} | {b.total.key for b in t.blocks if b.total}
        for rk, alts in (td.get("rows") or {}).items():
            if rk not in rkeys:
                raise DescriptionError(f"{path.name}：表 {tid} 没有行 {rk}")
            rows[(tid, rk)] = tuple(norm(x) for x in alts)
    items = {k: tuple(norm(w) for w in v) for k, v in (d.get("project_items") or {}).items()}
    labels: dict[str, tuple[str, ...]] = {}
    for group in d.get("labels", ()):
        g = tuple(norm(x) for x in group)
        for x in g:
            labels[x] = g
    index: dict[str, str] = {}
    for tid, alts in titles.items():
        for a in alts:
            if a:
                index.setdefault(a, tid)
    al = Aliases(official, titles, headers, rows, items, labels, index,
                 tuple(sorted({len(a) for a in index}, reverse=True)), frozenset(a[-1] for a in index))
    for tid in official:
        al.header_labels[tid] = frozenset(_header_labels(known[tid], al))
    return al


# --- the sheet -----------------------------------------------------------------------------------------
def _literal(title: str) -> str:
    """The fixed words of a title template: ``{year}年部门收入预算总表`` -> ``部门收入预算总表``."""
    s = norm(title)
    if "}" in s:
        s = s[s.rindex("}") + 1:]
        for w in ("年度", "年"):
            if s.startswith(w):
                s = s[len(w):]
                break
    return s


@cached()
def _range(ref: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """``A3:B5`` -> ((2, 0), (4, 1)), 0-based; a single cell is a range of one; None if unreadable."""
    a, _, b = ref.partition(":")
    p, q = _rc(a), _rc(b or a)
    return None if p is None or q is None else (p, q)


def _rc(ref: str) -> tuple[int, int] | None:
    m = _REF.match(ref.replace("$", ""))
    if not m:
        return None
    c = 0
    for ch in m.group(1):
        c = c * 26 + ord(ch) - 64
    return int(m.group(2)) - 1, c - 1


class Grid:
    """One sheet's values, rows indexed once, merged cells known. What the locator asks of a row (its texts
    normalised, a number in it, a title in it) is worked out once per sheet, whatever the number of table
    sets tried on the workbook."""

    def __init__(self, name: str, values: dict[tuple[int, int], Any], merged: Iterable[str] = (),
                 formulas: Iterable[tuple[int, int]] = ()):
        self.name = name
        self.values = values
        self.formulas = set(formulas)   # cells computed by a formula (no cached value: recomputed, not 0)
        rows: dict[int, dict[int, Any]] = {}
        # one pass over the cells: the rows, and the texts that may be a title, by their last normalised
        # character: (row, column, text, normalised words, continued)
        titles: dict[str, list[tuple[int, int, str, str, bool]]] = {}
        title_words = _title_words
        last, cells = None, None  # the row being filled (the cells come row by row, mostly)
        for (r, c), v in values.items():
            cls = v.__class__
            if cls is float or cls is int:
                pass
            elif v is None:
                continue
            elif isinstance(v, str):
                if len(v) <= TITLE_MAX:
                    words, cont = title_words[v]
                    if words:
                        got = titles.get(words[-1])
                        if got is None:
                            got = titles[words[-1]] = []
                        got.append((r, c, v.strip(), words, cont))
                    elif not v.strip():
                        continue
                elif not v.strip():
                    continue
            if r != last:
                cells = rows.get(r)
                if cells is None:
                    cells = rows[r] = {}
                last = r
            cells[c] = v  # type: ignore[index]
        self.rows = rows
        self.order = sorted(rows)
        self.fill: dict[tuple[int, int], tuple[int, int]] = {}
        self.reach: dict[int, int] = {}   # row -> the last column a merged cell covers in it, plus one
        fill, reach = self.fill, self.reach
        for ref in merged:
            pq = _range[ref]
            if pq is None:
                continue
            p, q = pq
            if (q[0] - p[0] + 1) * (q[1] - p[1] + 1) > 4096:
                continue
            for r in range(p[0], q[0] + 1):
                for c in range(p[1], q[1] + 1):
                    if (r, c) != p:
                        fill[(r, c)] = p
                if r != p[0] or q[1] > p[1]:
                    reach[r] = max(reach.get(r, 0), q[1] + 1)
        self.titles = titles
        self._info: dict[int, _Row] = {}

    def get(self, r: int, c: int, merged: bool = False) -> Any:
        v = self.rows.get(r, {}).get(c)
        if v is None and merged and (r, c) in self.fill:
            v = self.rows.get(self.fill[(r, c)][0], {}).get(self.fill[(r, c)][1])
        return v

    def between(self, start: int, end: int) -> list[int]:
        """The rows with a value from ``start`` up to (not including) ``end``."""
        return self.order[bisect.bisect_left(self.order, start):bisect.bisect_left(self.order, end)]

    def info(self, r: int) -> _Row:
        row = self._info.get(r)
        if row is None:
            row = self._info[r] = _Row(self.rows[r])
        return row


class _Row:
    """What the locator asks of a sheet row of the header or of a row without numbers, whatever the table."""

    __slots__ = ("numeric", "strings", "texts", "first", "numbering", "unit_line")

    def __init__(self, cells: dict[int, Any]):
        _, self.numeric, self.numbering = _scan(cells)
        self.strings = [v for v in cells.values() if isinstance(v, str)]
        self.texts = [norm[v] for v in self.strings]
        first = min((c for c, v in cells.items() if isinstance(v, str)), default=None)
        self.first = norm[cells[first]] if first is not None else ""
        self.unit_line = not self.numeric and any(unit_in[v] for v in self.strings)


def sheet_grids(wb: Any) -> list[Grid]:
    """The grid of every readable sheet, in order (an unreadable sheet is reported by the caller as a table
    not found)."""
    out = []
    for name in wb.sheet_names:
        try:
            sh = wb.sheet(name)
        except Exception:
            continue
        out.append(Grid(name, sh.values, getattr(sh, "merged", ()), getattr(sh, "formulas", {}) or {}))
    return out


# --- what was found ---------------------------------------------------------------------------------------
class RawRow(Struct):
    block: str
    r: int                                  # sheet row (0-based)
    sheet: str = ""
    code: str | None = None
    label: str = ""
    project: str | None = None
    values: dict[str, tuple[Any, int]] = field(default_factory=dict)   # column key -> (raw value, sheet column)
    label_col: int = 0


class Found(Struct):
    desc: TableDesc
    sheet: str
    title_row: int
    title_col: int
    title: str
    unit: str | None = None
    department: str | None = None
    year: int | None = None
    columns: dict[tuple[str, str], list[int]] = field(default_factory=dict)   # (block, column) -> sheet columns
    missing_columns: list[tuple[str, str]] = field(default_factory=list)
    rows: list[RawRow] = field(default_factory=list)
    header_rows: list[int] = field(default_factory=list)
    note: str | None = None
    blocks: int = 1                          # blocks the table was printed in (continued with a repeated header)

    @property
    def id(self) -> str:
        return self.desc.id


class _Title(Struct):
    tid: str
    r: int
    c: int
    text: str
    continued: bool


@functools.lru_cache(maxsize=1)
def _continued_words() -> tuple[str, ...]:
    return tuple(norm(w) for w in vocabulary()["continued"])


@cached()
def _title_words(v: str) -> tuple[str, bool]:
    """The normalised words of a text that may be a title, without a 续表 mark, and whether it had one."""
    s = norm(v)
    cont = False
    for w in _continued_words():
        if s.endswith(w) and len(s) > len(w) + 3:
            s, cont = s[: -len(w)], True
        elif s.startswith(w) and len(s) > len(w) + 3:
            s, cont = s[len(w):].lstrip(":"), True
    return s, cont


def _title_of(s: str, al: Aliases) -> str | None:
    """The table whose longest title ends the text (at most 60 characters before it), or None."""
    n = len(s)
    index = al.title_index
    for k in al.title_lengths:  # longest first
        if k > n:
            continue
        if n - k > 60:
            break
        tid = index.get(s[n - k:])
        if tid is not None:
            return tid
    return None


def _titles(grid: Grid, al: Aliases) -> list[_Title]:
    """The titles of the set's tables on the sheet, in order: the first one of a row (by column) counts."""
    cands = grid.titles
    hits = sorted((r, c, tid, text, cont) for end in al.title_ends for r, c, text, s, cont in cands.get(end, ())
                  if (tid := _title_of(s, al)) is not None)
    out: list[_Title] = []
    for r, c, tid, text, cont in hits:
        if not out or out[-1].r != r:  # one title per row
            out.append(_Title(tid, r, c, text, cont))
    return out


def _label_eq(a: str, b: str, al: Aliases) -> bool:
    if a == b or _PAREN.sub("", a) == _PAREN.sub("", b):
        return True
    return b in al.labels.get(a, ()) or _PAREN.sub("", b) in al.labels.get(_PAREN.sub("", a), ())


def _paths(desc: TableDesc, b: Block, col: Column, al: Aliases) -> list[list[tuple[str, ...]]]:
    """Alternative header paths of a column: one path per physical column (split columns have several)."""
    base = [norm(h) for h in col.header]
    alts = [tuple(base)] + list(al.headers.get((desc.id, col.key), ()))
    if col.split:
        return [[tuple(p) + (norm(s),) for p in alts] for s in col.split]
    return [[tuple(p) for p in alts]]


def _matches(want: tuple[str, ...], have: tuple[str, ...], al: Aliases, parents: bool) -> bool:
    if not want or not have or not _label_eq(want[-1], have[-1], al):
        return False
    if not parents:
        return True
    i = 0
    for lab in have[:-1]:
        if i < len(want) - 1 and _label_eq(want[i], lab, al):
            i += 1
    return i == len(want) - 1


def _header_labels(desc: TableDesc, al: Aliases) -> set[str]:
    out: set[str] = set()
    for b in desc.blocks:
        for col in b.columns:
            for alts in _paths(desc, b, col, al):
                for p in alts:
                    out.update(p)
                    out.update(_PAREN.sub("", x) for x in p)
    for g in al.labels.values():
        out.update(g)
    return {x for x in out if x}


def _scan(cells: dict[int, Any]) -> tuple[bool, bool, bool]:
    """One pass over a row: (only blanks and placeholders such as … or XX, a number in it, the 栏次 row
    1 2 3 … under some headers: at least two numbers, every cell a number from 1 to 199, typed or as text,
    or a mark such as ※)."""
    marks, placeholders = _marks()
    blank, numeric, only, n = True, False, True, 0
    for v in cells.values():
        cls = v.__class__
        if cls is float or cls is int:  # a number is never blank
            blank = False
            numeric = True
            if (cls is int or v.is_integer()) and 0 < v < 200:  # NaN and infinities are not numbering
                n += 1
            else:
                only = False
                break  # not blank, a number, not numbering: nothing more to learn
            continue
        x = norm[v] if cls is str else norm(v)
        if blank and x and x not in placeholders:
            blank = False
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            numeric = True
            if (isinstance(v, int) or v.is_integer()) and 0 < v < 200:
                n += 1
            else:
                only = False
        elif only:
            if x.isdigit():
                n += 1
            elif x not in marks:
                only = False
                if numeric and not blank:
                    break
    return blank, numeric, only and n >= 2


@functools.lru_cache(maxsize=1)
def _marks() -> tuple[frozenset[str], frozenset[str]]:
    """The marks of a 栏次 row, and the placeholders of a blank one."""
    voc = vocabulary()
    return frozenset(voc["numbering_marks"]), frozenset(voc["placeholders"])


@functools.lru_cache(maxsize=1)
def _totals() -> frozenset[str]:
    return frozenset(norm(w) for w in vocabulary()["total_labels"])


@cached()
def _bare(s: str) -> str:
    """A normalised label without its parenthesised parts."""
    return _PAREN.sub("", s)


def locate(wb: Any, ts: TableSet, grids: list[Grid] | None = None) -> list[Found]:
    """Every table of ``ts`` found in the workbook (sheets in order; a table found twice is continued).
    ``grids`` are the workbook's :func:`sheet_grids`, when the caller tries several sets on it."""
    al = aliases(ts)
    found: dict[str, Found] = {}
    for grid in sheet_grids(wb) if grids is None else grids:
        titles = _titles(grid, al)
        for i, t in enumerate(titles):
            end = titles[i + 1].r if i + 1 < len(titles) else (grid.order[-1] + 1 if grid.order else t.r + 1)
            prev = found.get(t.tid)
            if prev is None or not prev.header_rows:  # a title without a header (a 目录 line) is no table
                f = Found(ts.table(t.tid), grid.name, t.r, t.c, t.text, year=year_in(t.text))
                found[t.tid] = f
                _read_region(grid, f, t.r + 1, end, al, first=True)
            else:  # the same table again: continued over another block
                prev.blocks += 1
                _read_region(grid, prev, t.r + 1, end, al, first=False)
    return list(found.values())


def _read_region(grid: Grid, f: Found, start: int, end: int, al: Aliases, first: bool) -> None:
    labels = al.header_labels[f.id]
    rows = grid.between(start, end)
    header: list[int] = []
    body_start = end
    numbered = False
    totals = _totals()
    for r in rows[:HEADER_SCAN]:
        row = grid.info(r)
        for v in row.strings:
            if f.unit is None:
                u = unit_in[v]
                if u:
                    f.unit = u
            if f.department is None or f.year is None:
                dep = department_in[v]
                if dep is not None and f.department is None:
                    f.department = dep
                if f.year is None:
                    f.year = year_in[v] if dep is not None else None
        hit_texts = [s for s in row.texts if s in labels or _bare[s] in labels]
        if header and row.numbering:  # the 栏次 row closes the header
            numbered = True
            continue
        # a lone 合计/总计 is the first body row, not a header row
        lone_total = len(hit_texts) == 1 and len(grid.rows[r]) == 1 and hit_texts[0] in totals
        if hit_texts and not numbered and not lone_total and not row.numeric:
            header.append(r)
            continue
        if header:
            body_start = r
            break
    if not header:
        return
    if body_start == end:
        after = [r for r in rows if r > header[-1]]
        body_start = after[0] if after else end
    if first:
        f.header_rows = header
        _map_columns(grid, f, header, al)
    _read_body(grid, f, grid.between(body_start, end), labels, al)


def _map_columns(grid: Grid, f: Found, header: list[int], al: Aliases) -> None:
    width = max((c for r in header for c in grid.rows.get(r, {})), default=-1) + 1
    # merged header cells reach to the right of the last written cell
    width = max([width] + [grid.reach.get(r, 0) for r in header])
    paths: list[tuple[str, ...]] = []
    for c in range(width):
        p: list[str] = []
        for r in header:
            v = grid.get(r, c, merged=True)
            s = norm[v] if isinstance(v, str) else ""
            if s and (not p or p[-1] != s):
                p.append(s)
        paths.append(tuple(p))
    key = (f.id, tuple(paths))
    got = al.mappings.get(key)
    if got is None:
        if len(al.mappings) >= 512:
            al.mappings.clear()
        got = al.mappings[key] = _mapping(f.desc, paths, al)
    f.columns.update(got[0])
    f.missing_columns.extend(got[1])


def _mapping(desc: TableDesc, paths: list[tuple[str, ...]],
             al: Aliases) -> tuple[dict[tuple[str, str], list[int]], list[tuple[str, str]]]:
    """The sheet columns of each column of a table from the header's column paths (and the columns not
    found): ``(block, column) -> sheet columns`` in the description's order."""
    columns: dict[tuple[str, str], list[int]] = {}
    missing: list[tuple[str, str]] = []
    taken: set[int] = set()
    width = len(paths)
    voc = vocabulary()
    code_words = [norm(w) for w in voc["code_headers"]]
    name_words = [norm(w) for w in voc["name_headers"]]
    for b in desc.blocks:
        last = -1
        for col in b.columns:
            assigned: list[int] = []
            for alts in _paths(desc, b, col, al):
                hit = None
                for parents in (True, False):
                    for want in alts:
                        hit = next((c for c in range(last + 1, width) if c not in taken and
                                    _matches(want, paths[c], al, parents)), None)
                        if hit is not None:
                            break
                    if hit is not None:
                        break
                if hit is not None:
                    assigned.append(hit)
                    taken.add(hit)
            if col.split and len(assigned) < len(col.split):
                for c in assigned:
                    taken.discard(c)
                assigned = []
                # joined in one column: the code column's own header, or any 编码 header
                for want in [tuple(norm(h) for h in col.header)] + list(al.headers.get((desc.id, col.key), ())):
                    hit = next((c for c in range(last + 1, width) if c not in taken and paths[c] and
                                (_matches(tuple(want), paths[c], al, False) or
                                 any(w in paths[c][-1] for w in code_words))), None)
                    if hit is not None:
                        assigned = [hit]
                        taken.add(hit)
                        break
            if not assigned and col.kind in ("code", "name"):
                words = code_words if col.kind == "code" else name_words
                hit = next((c for c in range(last + 1, width) if c not in taken and paths[c] and
                            any(w in paths[c][-1] for w in words)), None)
                if hit is not None:
                    assigned = [hit]
                    taken.add(hit)
            if assigned:
                columns[(b.key, col.key)] = assigned
                last = max(last, min(assigned))
            else:
                missing.append((b.key, col.key))
    return columns, missing


def _is_repeat_header(row: _Row, labels: frozenset[str]) -> bool:
    if row.numeric:
        return False
    hits = sum(1 for s in row.texts if s in labels or _bare[s] in labels)
    return hits >= 2 and hits * 2 >= len(row.texts)


_CODE, _LABEL, _PROJECT = range(3)


class _Plan(Struct):
    """How the rows of one block are read from the sheet columns found for it."""
    block: str
    numbers: list[tuple[str, int, tuple[None, int]]]   # (column key, sheet column, its blank value)
    texts: list[tuple[int, str, list[int]]]            # (what, column key, sheet columns), in order
    cols: frozenset[int]                              # every sheet column read (a row with none is not here)
    label_col: int | None                             # where a row without a label of its own is named


def _plan(f: Found, b: Block) -> _Plan:
    """The columns of block ``b`` found in the sheet, in the description's order."""
    numbers, texts, label_cols = [], [], []
    for col in b.columns:
        cols = f.columns.get((b.key, col.key))
        if not cols:
            continue
        if col.kind == "code":
            texts.append((_CODE, col.key, cols))
            label_cols.extend(cols)
        elif col.kind in ("name", "label"):
            texts.append((_LABEL, col.key, cols))
            label_cols.append(cols[0])
        elif col.kind == "project":
            texts.append((_PROJECT, col.key, cols))
        elif col.numeric:
            numbers.append((col.key, cols[0], (None, cols[0])))
    read = {c for what, _, cols in texts for c in (cols if what == _CODE else cols[:1])} | {c for _, c, _ in numbers}
    return _Plan(b.key, numbers, texts, frozenset(read), min(label_cols) if label_cols else None)


def _read_body(grid: Grid, f: Found, rows: list[int], labels: frozenset[str], al: Aliases) -> None:
    segs = list(vocabulary()["code_segments"])
    context: dict[str, str] = {}
    plans = [_plan(f, b) for b in f.desc.blocks]
    out = f.rows
    for r in rows:
        cells = grid.rows[r]
        blank, numeric, numbering = _scan(cells)
        if blank:
            continue
        if numbering:
            continue  # the 栏次 row repeated
        if not numeric:
            row = grid.info(r)
            if row.first and is_note(row.first):
                f.note = " ".join(str(v).strip() for _, v in sorted(cells.items()))
                continue
            if _is_repeat_header(row, labels) or row.unit_line:
                continue  # the header repeated where the table goes on over another page; a 单位 line
        for plan in plans:
            if plan.cols.isdisjoint(cells):  # nothing in the block's columns
                continue
            line = _row_of(grid, cells, r, plan, segs, context.get(plan.block, ""))
            if line is None:
                continue
            if line.code:
                context[plan.block] = line.code
            out.append(line)


@cached()
def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():  # never int() of a NaN or an infinity
        v = int(v)
    return str(v).replace("\u3000", " ").strip()


def _row_of(grid: Grid, cells: dict[int, Any], r: int, plan: _Plan, segs: list[int], cls: str) -> RawRow | None:
    """The row of one block in a sheet row holding something in the block's columns (the grid's rows hold
    no blank cell), or None."""
    code: str | None = None
    label, label_col, project = "", 0, None
    values: dict[str, tuple[Any, int]] = {}
    formulas = grid.formulas
    figure = False
    for key, c0, empty in plan.numbers:
        v = cells.get(c0)
        if v is not None:
            values[key] = (v, c0)
            figure = True
        else:
            values[key] = (FORMULA, c0) if formulas and (r, c0) in formulas else empty
    for what, key, cols in plan.texts:
        c0 = cols[0]
        if what == _LABEL:
            v = cells.get(c0)
            if v is not None:
                label, label_col = _text[v] if v.__class__ is str else _text(v), c0
        elif what == _CODE:
            parts = [cells.get(c) for c in cols]
            code = _code(parts, segs, cls, len(cols) > 1)
            if code is None:  # a label written across the code columns (合计 in a merged cell)
                text = next((_text[p] for p in parts if isinstance(p, str) and p.strip() and digits[p] is None), "")
                if text and not label:
                    label, label_col = text, c0
        else:
            v = cells.get(c0)
            if v is not None:
                project = _text[v] if v.__class__ is str else _text(v)
    if code is None and label:  # code typed in front of the name, or in the name column alone
        lead, name = leading_code[label]
        if lead:
            code, label = lead, name
    if not label and code is None and not project and not figure:
        return None
    if plan.label_col is not None and not label_col:
        label_col = plan.label_col
    return RawRow(plan.block, r, grid.name, code, label, project, values, label_col)


def _code(parts: list[Any], segs: list[int], last: str, split: bool) -> str | None:
    """The code of a row from its code cells; blank leading parts (类 printed once) come from the row above."""
    ds = [None if p is None else digits[p] if p.__class__ is str or p.__class__ is float else digits(p)
          for p in parts]
    if not split:
        return ds[0] or None
    k = 0
    for d in ds:
        if d:
            break
        k += 1
    else:
        return None
    if k == 0 and len(ds[0]) > segs[0]:  # joined code typed into the 类 column
        return ds[0]
    width = sum(segs[:k])
    if len(last) < width:
        return None
    out = last[:width]
    for d, n in zip(ds[k:], segs[k:]):
        if not d:
            break
        if len(d) > n:
            return None
        out += d.zfill(n)
    return out


def sheet_ref(sheet: str, r: int, c: int) -> str:
    from ..layout import a1

    return f"{sheet}!{a1(r, c)}"


@cached()
def strip_label(s: str) -> str:
    return strip_enumerator(norm(s))
