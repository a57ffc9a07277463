"""The words a table set's narrative uses for its figures: ``templates/<set>/vocabulary.toml``.

The vocabulary is data (its format is described at the top of ``templates/xj11/vocabulary.toml``): names
of figures (``收入预算`` → ``T1.in_total.amount``) with the figures a sentence may compare them with
(``last`` year's, the ``whole`` of a share, the ``initial`` and ``adjusted`` budget of a completion rate), the
coded rows of tables whose labels are names (``一般公共服务支出（类）``), the things a "none" statement may
deny (``公务用车购置``), counts, the sheets of a workbook that hold the narrative, and how a project's
texts (资金分配, 成本指标) are found in the document. This module loads and validates it (a reference
to a table, row or column the set lacks is an error when the set is loaded) and evaluates figures.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msgspec import Struct

from ..errors import DescriptionError
from ..expr import parse
from ..model import ZERO, Budget, get_path, to_decimal
from ..setdata import cached, check_ref, doc_path, read_set_file
from ..tableset import UNITS, Precision

if TYPE_CHECKING:
    from ..tableset import TableSet

__all__ = ["Vocabulary", "Term", "Figure", "load_vocabulary", "ASPECTS"]

VOCABULARY_FILE = "vocabulary.toml"
# The figures a term may carry besides its own value
ASPECTS = ("value", "last", "whole", "initial", "adjusted", "count", "part_of")
LEVEL_WORDS = {"类": 1, "款": 2, "项": 3}


class Figure(Struct, frozen=True):
    """A figure in the narrative's unit: its value, the rounding half-width it carries and its cells."""

    value: Decimal
    half: Decimal
    cells: tuple[str, ...]
    known: bool = True            # False: the workbook has no such figure (e.g. no last year's figures)


class ListSpec(Struct, frozen=True):
    table: str
    col: str
    under: tuple[str, ...]        # codes whose child rows are the items (empty: every coded row)


class Term(Struct, frozen=True):
    """A named figure: the names a text uses for it and the expressions of its aspects."""

    key: str
    names: tuple[str, ...]
    exprs: dict[str, str]
    relation: str = "equal"              # "info": the text's figure is context, no rule requires equality
    list: ListSpec | None = None
    table: str | None = None             # row terms: the table and row
    row: str | None = None
    level: int | None = None
    ancestors: tuple[str, ...] = ()      # labels of the 类 and 款 rows above (row terms)
    project: str | None = None           # a project row: the project's key

    @property
    def label(self) -> str:
        return self.names[0]


class RowsSpec(Struct, frozen=True):
    table: str
    exprs: dict[str, str]                # with {code}
    plain_levels: tuple[int, ...]        # levels whose labels are names without （类）…
    list: ListSpec | None = None
    projects: bool = False               # the project rows, named by the project's name


class NoneTerm(Struct, frozen=True):
    names: tuple[str, ...]
    figures: tuple[str, ...]


class CountTerm(Struct, frozen=True):
    names: tuple[str, ...]
    source: str                          # "projects" or a document path


class ProjectTexts(Struct, frozen=True):
    allocation: tuple[str, ...]          # document path of a project's 资金分配 (records: item, amount)
    budget: str                          # expression of its 年度预算总额, with {project}
    indicators: tuple[str, ...]          # document path of its 绩效 indicators
    cost_words: tuple[str, ...]          # an indicator whose levels name one of these is a cost cap
    generic: tuple[str, ...]             # words too common to tie two descriptions together
    synonyms: dict[str, str]
    allocation_words: tuple[str, ...] = ("资金分配",)   # the words that open a project's 资金分配 in a text
    table: str = ""                      # the table (with {project}) whose rows show both, for positions


class Vocabulary(Struct, frozen=True):
    unit: Precision
    sheets: tuple[str, ...]
    tables: tuple[str, ...]              # titles of tables printed among the text (not prose)
    terms: tuple[Term, ...]
    rows: tuple[RowsSpec, ...]
    nones: tuple[NoneTerm, ...]
    counts: tuple[CountTerm, ...]
    aspects: dict[str, str]              # words → aspect ("年初预算" → "initial")
    completion_base: str                 # the aspect a completion rate names by default
    severity: dict[str, str]
    projects: ProjectTexts | None
    source: str
    sangong: tuple[NoneTerm, ...] = ()   # 三公 items a project text may fund, and their figures in the 三公 table
    administrative: str | None = None    # the rule book's condition "entirely 行政/参公" (part_of figures)


def load_vocabulary(ts: "TableSet") -> Vocabulary | None:
    path = Path(ts.folder) / VOCABULARY_FILE
    if not path.is_file():
        return None
    return cached(ts, "vocabulary", lambda: _load(read_set_file(ts, VOCABULARY_FILE) or {}, ts))


def _names(d: dict, where: str) -> tuple[str, ...]:
    names = d.get("names")
    if isinstance(names, str):
        names = [names]
    if not names or not all(isinstance(n, str) and n.strip() for n in names):
        raise DescriptionError(f"{where}：names 应为非空的名称列表")
    return tuple(_norm(n) for n in names)


def _norm(text: str) -> str:
    from .sources import normalise

    return normalise(text)


def _check_expr(ts: "TableSet", text: str, where: str) -> None:
    try:
        expr = parse(str(text).replace("{code}", "0").replace("{project}", "p"))
    except DescriptionError as e:
        raise DescriptionError(f"{where}：{e}") from None
    for ref in expr.refs():
        if ref.table is None or ref.row is None:
            raise DescriptionError(f"{where}：{text!r} 应写成 表.行.列")
        templated = "{" in str(text)
        check_ref(ts, ref.table, None if templated else ref.row, ref.col, where)


def _exprs(ts: "TableSet", d: dict, where: str) -> dict[str, str]:
    out = {}
    for aspect in ASPECTS:
        if d.get(aspect):
            _check_expr(ts, d[aspect], f"{where} {aspect}")
            out[aspect] = str(d[aspect])
    return out


def _list(ts: "TableSet", d: Any, where: str) -> ListSpec | None:
    if not d:
        return None
    check_ref(ts, str(d["table"]), None, str(d["col"]), f"{where} list")
    return ListSpec(str(d["table"]), str(d["col"]), tuple(str(c) for c in d.get("under") or ()))


def _figure_terms(ts: "TableSet", d: dict[str, Any], key: str, where: str) -> list[NoneTerm]:
    """The ``[[key]]`` entries of a vocabulary: names and the figures they stand for, each figure checked."""
    out = []
    for i, n in enumerate(d.get(key) or ()):
        w = f"{where}：[[{key}]] {i + 1}"
        figs = tuple(str(x) for x in n.get("figures") or ())
        for f in figs:
            _check_expr(ts, f, w)
        out.append(NoneTerm(_names(n, w), figs))
    return out


def _load(d: dict[str, Any], ts: "TableSet") -> Vocabulary:
    where = f"{ts.id}/{VOCABULARY_FILE}"
    unit = str(d.get("unit", ts.unit))
    if unit not in UNITS:
        raise DescriptionError(f"{where}：单位 {unit!r} 无效（应为 {'、'.join(UNITS)}）")
    terms = []
    for i, t in enumerate(d.get("term") or ()):
        w = f"{where}：[[term]] {i + 1}"
        names = _names(t, w)
        exprs = _exprs(ts, t, w)
        if "value" not in exprs:
            raise DescriptionError(f"{w}：缺少 value")
        relation = str(t.get("relation", "equal"))
        if relation not in ("equal", "info"):
            raise DescriptionError(f"{w}：relation 应为 equal 或 info")
        terms.append(Term(key=names[0], names=names, exprs=exprs, relation=relation, list=_list(ts, t.get("list"), w)))
    rows = []
    for i, r in enumerate(d.get("rows") or ()):
        w = f"{where}：[[rows]] {i + 1}"
        tid = str(r.get("table", ""))
        check_ref(ts, tid, None, None, w)
        exprs = _exprs(ts, r, w)
        if "value" not in exprs:
            raise DescriptionError(f"{w}：缺少 value")
        rows.append(RowsSpec(tid, exprs, tuple(int(x) for x in r.get("plain_levels") or ()), _list(ts, r.get("list"), w),
                             bool(r.get("projects", False))))
    nones = _figure_terms(ts, d, "none", where)
    counts = []
    for i, c in enumerate(d.get("count") or ()):
        w = f"{where}：[[count]] {i + 1}"
        counts.append(CountTerm(_names(c, w), str(c.get("source") or "projects")))
    sangong = _figure_terms(ts, d, "sangong", where)
    projects = None
    if d.get("projects"):
        p = d["projects"]
        _check_expr(ts, p["budget"], f"{where}：[projects] budget")
        projects = ProjectTexts(doc_path(p["allocation"]), str(p["budget"]), doc_path(p["indicators"]),
                                tuple(p.get("cost_words") or ("成本指标",)), tuple(_norm(g) for g in p.get("generic") or ()),
                                {_norm(k): _norm(v) for k, v in (p.get("synonyms") or {}).items()},
                                tuple(_norm(w) for w in p.get("allocation_words") or ("资金分配",)),
                                str(p.get("table") or ""))
    aspects = {_norm(k): str(v) for k, v in (d.get("aspects") or {}).items()}
    bad = sorted(set(aspects.values()) - set(ASPECTS))
    if bad:
        raise DescriptionError(f"{where}：[aspects] 的取值 {'、'.join(bad)} 无效（应为 {'、'.join(ASPECTS)}）")
    admin = str(d["administrative"]) if d.get("administrative") else None  # a condition of the rule book
    return Vocabulary(unit=Precision(unit, int(d.get("decimals", 2))), sheets=tuple(d.get("sheets") or ()),
                      tables=tuple(str(t) for t in d.get("tables") or ()),
                      terms=tuple(terms), rows=tuple(rows), nones=tuple(nones), counts=tuple(counts),
                      aspects=aspects, completion_base=str(d.get("completion_base", "adjusted")),
                      severity={str(k): str(v) for k, v in (d.get("severity") or {}).items()},
                      projects=projects, source=where, sangong=tuple(sangong),
                      administrative=admin)


# ---------------------------------------------------------------------------------------------------------
# Figures of a budget
# ---------------------------------------------------------------------------------------------------------
class Figures:
    """Evaluates vocabulary expressions over one budget, in the narrative's unit (exact conversion)."""

    def __init__(self, budget: Budget, vocab: Vocabulary):
        self.b = budget
        self.v = vocab
        self.layout = budget.layout
        self._memo: dict[str, Figure] = {}

    def expr(self, text: str, **subs: str) -> Figure:
        text = text.format(**subs) if subs else text
        if text in self._memo:
            return self._memo[text]
        total, half, cells, known = ZERO, ZERO, [], True
        for term in parse(text).terms:
            ref = term.ref
            t = self.layout.tables.get(ref.table)
            if t is None:
                known = False
                continue
            if ref.table in self.b.absent_tables:
                known = False
            if not self.layout.has(ref.table, ref.row) or (t.rows[ref.row].block, ref.col) not in t.colpos:
                continue
            prec = self.layout.precision(ref.table, ref.col)
            v = self.b.published(ref.table, ref.row, ref.col)
            cells.append(t.ref(ref.row, ref.col))
            if v is None:
                continue
            total += term.sign * prec.convert(v, self.v.unit)
            half += prec.convert(prec.half, self.v.unit)
        fig = Figure(total, half, tuple(cells), known)
        self._memo[text] = fig
        return fig

    def term(self, term: Term, aspect: str = "value") -> Figure | None:
        e = term.exprs.get(aspect)
        if e is None:
            return None
        return self.expr(e, code=term.row or "")

    def row_terms(self) -> list[Term]:
        out = []
        for spec in self.v.rows:
            t = self.layout.tables.get(spec.table)
            if t is None:
                continue
            parent: dict[str, str] = {}
            for r in t.rows.values():
                for ch in r.children:
                    parent.setdefault(ch, r.key)
            for r in t.rows.values():
                if spec.projects:
                    if r.project and r.project_name:
                        name = _norm(r.project_name)
                        out.append(Term(key=name, names=(name,), exprs=dict(spec.exprs), table=spec.table,
                                        row=r.key, project=r.project))
                    continue
                code = r.code
                if not code or r.project:
                    continue
                label = _norm(self.label(t, r))
                chain = []
                k = parent.get(r.key)
                while k is not None and t.rows[k].code:
                    chain.insert(0, _norm(self.label(t, t.rows[k])))
                    k = parent.get(k)
                out.append(Term(key=label, names=(label,), exprs={a: e for a, e in spec.exprs.items()},
                                list=spec.list, table=spec.table, row=r.key, level=r.level,
                                ancestors=tuple(chain)))
        return out

    def label(self, t: Any, r: Any) -> str:
        kind = "economic" if t.desc.block(r.block).codes == "economic" else "function"
        return r.label or (self.layout.namer(kind, r.code) if r.code else "") or r.code or ""

    def list_items(self, spec: ListSpec) -> list[tuple[str, Figure]]:
        """(label, figure) of the item rows of a list: children of the ``under`` codes (or all coded rows)."""
        t = self.layout.tables.get(spec.table)
        if t is None:
            return []
        out = []
        for r in t.rows.values():
            if not r.code or r.project:
                continue
            if spec.under and not any(r.code.startswith(u) and r.code != u for u in spec.under):
                continue
            fig = self.expr(f"{spec.table}.{r.key}.{spec.col}")
            out.append((_norm(self.label(t, r)), fig))
        return out

    def count(self, c: CountTerm) -> Decimal | None:
        if c.source == "projects":
            return Decimal(len([p for p in self.b.spec.projects]))
        if c.source.split(".")[0] in self.layout.tables:
            fig = self.expr(c.source)
            return fig.value if fig.known else None
        got = get_path(self.b.doc, doc_path(c.source))
        return to_decimal(got) if got not in (None, "") else None

    def allocation(self, project: str) -> list[tuple[str, Decimal]]:
        """(item, amount) of a project's 资金分配 in the document (empty when the set declares none)."""
        p = self.v.projects
        if p is None:
            return []
        out = []
        for rec in self.doc(p.allocation, project=project) or ():
            if not isinstance(rec, dict):
                continue
            amount = to_decimal(rec.get("amount"))
            item = _norm(str(rec.get("item") or ""))
            if item and amount is not None:
                out.append((item, amount))
        return out

    def doc(self, path: tuple[str, ...], **subs: str) -> Any:
        return get_path(self.b.doc, tuple(p.format(**subs) for p in path))
