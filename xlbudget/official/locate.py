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

import functools
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..tableset import Block, Column, TableDesc, TableSet
from .text import (department_in, digits, is_note, is_placeholder, leading_code, norm, strip_enumerator, unit_in,
                   vocabulary, year_in)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

HEADER_SCAN = 12        # rows under a title searched for the 单位 line and the header
TITLE_MAX = 120         # longer texts are sentences, not titles
_PAREN = re.compile(r"\([^)]*\)")
_REF = re.compile(r"^([A-Z]+)(\d+)$")

GRID_PLANS = ("fixed", "tree", "classes", "projects")
FORMULA = object()      # a formula cell without a cached value: recomputed from its parts, never read as 0


# --- the set's aliases ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Aliases:
    official: tuple[str, ...]                         # tables a workbook in the official layout carries
    titles: dict[str, tuple[str, ...]]                # table id -> normalised titles (own title first)
    headers: dict[tuple[str, str], tuple[tuple[str, ...], ...]]   # (table, column) -> alternative paths
    rows: dict[tuple[str, str], tuple[str, ...]]      # (table, row) -> normalised alternative labels
    project_items: dict[str, tuple[str, ...]]         # 三公 item -> words of a project name that fund it
    labels: dict[str, tuple[str, ...]]                # normalised header label -> equivalent labels


_ALIASES: dict[tuple[str, str], Aliases] = {}


def aliases(ts: TableSet) -> Aliases:
    """The set's ``locate.toml`` (titles, header and row aliases), checked against its tables once."""
    key = (ts.id, str(ts.folder))
    if key not in _ALIASES:
        _ALIASES[key] = _load_aliases(ts)
    return _ALIASES[key]


def _load_aliases(ts: TableSet) -> Aliases:
    path = ts.folder / "locate.toml"
    d: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
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
    return Aliases(official, titles, headers, rows, items, labels)


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


def _rc(ref: str) -> tuple[int, int] | None:
    m = _REF.match(ref.replace("$", ""))
    if not m:
        return None
    c = 0
    for ch in m.group(1):
        c = c * 26 + ord(ch) - 64
    return int(m.group(2)) - 1, c - 1


class Grid:
    """One sheet's values, rows indexed once, merged cells known."""

    def __init__(self, name: str, values: dict[tuple[int, int], Any], merged: Iterable[str] = (),
                 formulas: Iterable[tuple[int, int]] = ()):
        self.name = name
        self.values = values
        self.formulas = set(formulas)   # cells computed by a formula (no cached value: recomputed, not 0)
        self.rows: dict[int, dict[int, Any]] = {}
        for (r, c), v in values.items():
            if v is None or (isinstance(v, str) and not v.strip()):
                continue
            self.rows.setdefault(r, {})[c] = v
        self.order = sorted(self.rows)
        self.fill: dict[tuple[int, int], tuple[int, int]] = {}
        for ref in merged:
            a, _, b = ref.partition(":")
            p, q = _rc(a), _rc(b or a)
            if p is None or q is None:
                continue
            if (q[0] - p[0] + 1) * (q[1] - p[1] + 1) > 4096:
                continue
            for r in range(p[0], q[0] + 1):
                for c in range(p[1], q[1] + 1):
                    if (r, c) != p:
                        self.fill[(r, c)] = p

    def get(self, r: int, c: int, merged: bool = False) -> Any:
        v = self.rows.get(r, {}).get(c)
        if v is None and merged and (r, c) in self.fill:
            v = self.rows.get(self.fill[(r, c)][0], {}).get(self.fill[(r, c)][1])
        return v


# --- what was found ---------------------------------------------------------------------------------------
@dataclass
class RawRow:
    block: str
    r: int                                  # sheet row (0-based)
    sheet: str = ""
    code: str | None = None
    label: str = ""
    project: str | None = None
    values: dict[str, tuple[Any, int]] = field(default_factory=dict)   # column key -> (raw value, sheet column)
    label_col: int = 0


@dataclass
class Found:
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


@dataclass
class _Title:
    tid: str
    r: int
    c: int
    text: str
    continued: bool


def _titles(grid: Grid, al: Aliases) -> list[_Title]:
    out: list[_Title] = []
    cont_words = [norm(w) for w in vocabulary()["continued"]]
    for r in grid.order:
        for c, v in sorted(grid.rows[r].items()):
            if not isinstance(v, str) or len(v) > TITLE_MAX:
                continue
            s = norm(v)
            cont = False
            for w in cont_words:
                if s.endswith(w) and len(s) > len(w) + 3:
                    s, cont = s[: -len(w)], True
                elif s.startswith(w) and len(s) > len(w) + 3:
                    s, cont = s[len(w):].lstrip(":"), True
            best: tuple[int, str] | None = None
            for tid, alts in al.titles.items():
                for a in alts:
                    if a and s.endswith(a) and len(s) - len(a) <= 60 and (best is None or len(a) > best[0]):
                        best = (len(a), tid)
            if best is not None:
                out.append(_Title(best[1], r, c, str(v).strip(), cont))
                break  # one title per row
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


def _numeric(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _numbering_row(cells: dict[int, Any]) -> bool:
    """The 栏次 row (1 2 3 …) under some headers."""
    marks = vocabulary()["numbering_marks"]
    vals = [norm(v) for v in cells.values() if not _numeric(v)]
    nums = [x for x in vals if x.isdigit()]
    return len(nums) >= 2 and all(x.isdigit() or x in marks for x in vals)


def locate(wb: Any, ts: TableSet) -> list[Found]:
    """Every table of ``ts`` found in the workbook (sheets in order; a table found twice is continued)."""
    al = aliases(ts)
    descs = {t.id: t for t in ts.tables}
    found: dict[str, Found] = {}
    for name in wb.sheet_names:
        try:
            sh = wb.sheet(name)
        except Exception:  # an unreadable sheet is reported by the caller as a table not found
            continue
        grid = Grid(name, sh.values, getattr(sh, "merged", ()), getattr(sh, "formulas", {}) or {})
        titles = _titles(grid, al)
        for i, t in enumerate(titles):
            end = titles[i + 1].r if i + 1 < len(titles) else (grid.order[-1] + 1 if grid.order else t.r + 1)
            desc = descs[t.tid]
            prev = found.get(t.tid)
            if prev is None:
                f = Found(desc, name, t.r, t.c, t.text, year=year_in(t.text))
                found[t.tid] = f
                _read_region(grid, f, t.r + 1, end, al, first=True)
            else:  # the same table again: continued over another block
                prev.blocks += 1
                _read_region(grid, prev, t.r + 1, end, al, first=False)
    return list(found.values())


def _read_region(grid: Grid, f: Found, start: int, end: int, al: Aliases, first: bool) -> None:
    labels = _header_labels(f.desc, al)
    rows = [r for r in grid.order if start <= r < end]
    header: list[int] = []
    body_start = end
    numbered = False
    totals = {norm(w) for w in vocabulary()["total_labels"]}
    for r in rows[:HEADER_SCAN]:
        cells = grid.rows[r]
        texts = [v for v in cells.values() if isinstance(v, str)]
        for v in texts:
            u = unit_in(v)
            if u and f.unit is None:
                f.unit = u
            dep = department_in(v)
            if dep is not None and f.department is None:
                f.department = dep
            if f.year is None:
                f.year = year_in(v) if dep is not None else None
        hit_texts = [norm(v) for v in cells.values() if isinstance(v, str) and
                     (norm(v) in labels or _PAREN.sub("", norm(v)) in labels)]
        if header and _numbering_row(cells):  # the 栏次 row closes the header
            numbered = True
            continue
        # a lone 合计/总计 is the first body row, not a header row
        lone_total = len(hit_texts) == 1 and len(cells) == 1 and hit_texts[0] in totals
        if hit_texts and not numbered and not lone_total and not any(_numeric(v) for v in cells.values()):
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
    _read_body(grid, f, [r for r in rows if r >= body_start], labels, al)


def _map_columns(grid: Grid, f: Found, header: list[int], al: Aliases) -> None:
    width = max((c for r in header for c in grid.rows.get(r, {})), default=-1) + 1
    for r in header:  # merged header cells reach to the right of the last written cell
        for (rr, cc), p in grid.fill.items():
            if rr == r:
                width = max(width, cc + 1)
    paths: list[tuple[str, ...]] = []
    for c in range(width):
        p: list[str] = []
        for r in header:
            v = grid.get(r, c, merged=True)
            s = norm(v) if isinstance(v, str) else ""
            if s and (not p or p[-1] != s):
                p.append(s)
        paths.append(tuple(p))
    taken: set[int] = set()
    voc = vocabulary()
    code_words = [norm(w) for w in voc["code_headers"]]
    name_words = [norm(w) for w in voc["name_headers"]]
    for b in f.desc.blocks:
        last = -1
        for col in b.columns:
            assigned: list[int] = []
            for alts in _paths(f.desc, b, col, al):
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
                for want in [tuple(norm(h) for h in col.header)] + list(al.headers.get((f.desc.id, col.key), ())):
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
                f.columns[(b.key, col.key)] = assigned
                last = max(last, min(assigned))
            else:
                f.missing_columns.append((b.key, col.key))


def _is_repeat_header(cells: dict[int, Any], labels: set[str]) -> bool:
    texts = [norm(v) for v in cells.values() if isinstance(v, str)]
    if any(_numeric(v) for v in cells.values()):
        return False
    hits = sum(1 for s in texts if s in labels or _PAREN.sub("", s) in labels)
    return hits >= 2 and hits * 2 >= len(texts)


def _read_body(grid: Grid, f: Found, rows: list[int], labels: set[str], al: Aliases) -> None:
    segs = list(vocabulary()["code_segments"])
    context: dict[str, str] = {}
    for r in rows:
        cells = grid.rows[r]
        texts = [norm(v) for v in cells.values()]
        if all(not s or is_placeholder(s) for s in texts):
            continue
        first_text = next((norm(v) for c, v in sorted(cells.items()) if isinstance(v, str) and v.strip()), "")
        if first_text and is_note(first_text) and not any(_numeric(v) for v in cells.values()):
            f.note = " ".join(str(v).strip() for _, v in sorted(cells.items()))
            continue
        if _is_repeat_header(cells, labels) or _numbering_row(cells):
            continue  # the header repeated where the table goes on over another page
        if any(unit_in(v) for v in cells.values() if isinstance(v, str)) and not any(_numeric(v) for v in cells.values()):
            continue
        for b in f.desc.blocks:
            row = _row_of(grid, f, b, r, segs, context.get(b.key, ""))
            if row is None:
                continue
            if row.code:
                context[b.key] = row.code
            f.rows.append(row)


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v == int(v):
        v = int(v)
    return str(v).replace("\u3000", " ").strip()


def _row_of(grid: Grid, f: Found, b: Block, r: int, segs: list[int], cls: str) -> RawRow | None:
    row = RawRow(block=b.key, r=r, sheet=grid.name)
    label_cols: list[int] = []
    has = False
    for col in b.columns:
        cols = f.columns.get((b.key, col.key))
        if not cols:
            continue
        if col.kind == "code":
            parts = [grid.get(r, c) for c in cols]
            row.code = _code(parts, segs, cls, len(cols) > 1)
            label_cols.extend(cols)
            has = has or any(p not in (None, "") for p in parts)
        elif col.kind in ("name", "label"):
            v = grid.get(r, cols[0])
            if v not in (None, ""):
                row.label = _text(v)
                row.label_col = cols[0]
                has = True
            label_cols.append(cols[0])
        elif col.kind == "project":
            v = grid.get(r, cols[0])
            if v not in (None, ""):
                row.project = _text(v)
                has = True
        elif col.numeric:
            v = grid.get(r, cols[0])
            if v not in (None, ""):
                row.values[col.key] = (v, cols[0])
                has = True
            else:
                row.values[col.key] = (FORMULA if (r, cols[0]) in grid.formulas else None, cols[0])
    if not has:
        return None
    if row.code is None and row.label:  # code typed in front of the name, or in the name column alone
        code, name = leading_code(row.label)
        if code:
            row.code, row.label = code, name
    if not row.label and row.code is None and not row.project and not any(v is not None and v is not FORMULA for v, _ in row.values.values()):
        return None
    if label_cols and not row.label_col:
        row.label_col = min(label_cols)
    return row


def _code(parts: list[Any], segs: list[int], last: str, split: bool) -> str | None:
    """The code of a row from its code cells; blank leading parts (类 printed once) come from the row above."""
    ds = [digits(p) for p in parts]
    if not any(ds):
        return None
    if not split:
        return ds[0]
    if ds[0] and len(ds[0]) > segs[0]:  # joined code typed into the 类 column
        return ds[0]
    k = next(i for i, d in enumerate(ds) if d)
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


def strip_label(s: str) -> str:
    return strip_enumerator(norm(s))
