"""Rule machinery: the rule context, the base class of every rule kind, loading the rule book.

A rule book is ``templates/<set>/rules.toml`` (see the comments at its top for the kinds, the foreach forms
and the preconditions). Each entry becomes an instance of the class registered for its ``kind``; the
class's ``check(budget, ctx)`` yields :class:`~xlbudget.findings.Finding` objects. Severities, titles,
expressions and tolerances are data; the classes only know how to evaluate them.
"""

from __future__ import annotations

import functools
import itertools
import string
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Iterable, Iterator, Mapping

from ..errors import DescriptionError, XlbudgetError
from ..expr import Expr, Ref, parse
from ..findings import Finding, Severity
from ..layout import Layout, LRow, LTable, a1
from ..model import Budget
from ..tableset import TableSet, load_tableset
from .tolerance import Tolerance

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["KINDS", "Context", "Rule", "RuleConfigError", "Side", "load_rules", "register", "rules_for"]

ZERO = Decimal(0)
CODE_LENGTHS = {"classes": (3,), "kuan": (5,), "xiang": (7,), "codes": None, "rows": None}
FOREACH_FORMS = ("tables", "projects", "list") + tuple(CODE_LENGTHS)
# Dummy values used to validate expressions with placeholders when the rule book is loaded.
_PROBE = {"table": "T1", "code": "201", "project": "p1", "item": "gp"}


class RuleConfigError(XlbudgetError):
    """A rule refers to something the layout does not have; reported as a ``rule-config`` finding."""


class _Safe(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(text: str, subs: Mapping[str, str]) -> str:
    """Replace the foreach placeholders present in ``subs``; leave the others as they are."""
    if "{" not in text:
        return text
    try:
        return _fill(text, tuple(sorted(subs.items())))
    except TypeError:  # a value that cannot be a cache key
        return string.Formatter().vformat(text, (), _Safe(subs))


@functools.lru_cache(maxsize=8192)  # the same rule texts and codes come back in every submission
def _fill(text: str, subs: tuple[tuple[str, str], ...]) -> str:
    return string.Formatter().vformat(text, (), _Safe(dict(subs)))


parse_cached = functools.lru_cache(maxsize=8192)(parse)  # expressions are immutable: parse each text once


# ---------------------------------------------------------------------------------------------------------
# Evaluating expressions against a budget
# ---------------------------------------------------------------------------------------------------------
@dataclass
class Side:
    """One side of a comparison: the signed sum of published figures and where they sit."""

    total: Decimal = ZERO
    figures: int = 0                       # non-blank operands (each carries a rounding interval)
    cells: list[str] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)   # "表6!C12" or "表6 30231" (no such line), signed
    tables: list[str] = field(default_factory=list)

    def add(self, sign: int, value: Decimal | None, cell: str | None, label: str, table: str) -> None:
        if value is not None:
            self.total += sign * value
            self.figures += 1
        if cell is not None and cell not in self.cells:
            self.cells.append(cell)
        self.parts.append(("-" if sign < 0 else "+") + (cell or label))
        if table not in self.tables:
            self.tables.append(table)

    @property
    def blank(self) -> bool:
        return self.figures == 0

    @property
    def text(self) -> str:
        """The operands as ``表6!C13 + 表6!C14 + … + 表6!C20`` (long sums are shortened)."""
        parts = self.parts if len(self.parts) <= 4 else self.parts[:2] + ["+…"] + self.parts[-1:]
        out = ""
        for i, p in enumerate(parts):
            sign, body = p[0], p[1:]
            if i == 0:
                out = body if sign == "+" else "−" + body
            else:
                out += (" − " if sign == "-" else " + ") + body
        return out or "0"


class Context:
    """What every rule needs besides the budget: the layout, the tolerance, the catalogues, and a memo
    for what several rules derive from the same budget (``ctx.memo``)."""

    def __init__(self, budget: Budget, tolerance: "str | Tolerance | None" = "interval",
                 catalogue_dir: str | Path | None = None):
        self.budget = budget
        self.layout: Layout = budget.layout
        self.decimals = budget.decimals
        self.tolerance = Tolerance.parse(tolerance, self.decimals)
        self.catalogue_dir = Path(catalogue_dir) if catalogue_dir else None
        self._catalogues: dict[str, Any] = {}
        self.memo: dict[Any, Any] = {}

    # --- cells ---------------------------------------------------------------------------------------
    def pub(self, tid: str, rkey: str, ckey: str) -> Decimal | None:
        """The figure as published: rounded half-up to the display decimals, each on its own."""
        return self.budget.published(tid, rkey, ckey)

    def position(self, tid: str, rkey: str, ckey: str) -> str | None:
        t = self.layout.tables.get(tid)
        if t is None or rkey not in t.rows or (t.rows[rkey].block, ckey) not in t.colpos:
            return None
        return t.ref(rkey, ckey)

    def text(self, tid: str, rkey: str, ckey: str) -> str | None:
        """Text entered in an input cell (None when blank or not an input)."""
        t = self.layout.tables.get(tid)
        if t is None or rkey not in t.rows:
            return None
        row = t.rows[rkey]
        try:
            col = t.column(row, ckey)
        except KeyError:
            return None
        if self.layout.cell_role(t, row, col) != "input":
            return None
        v = self.budget.raw(t, row, col)
        if v is None or isinstance(v, (list, dict)):
            return None
        return str(v).strip() or None

    def check_ref(self, ref: Ref) -> None:
        """Raise RuleConfigError unless ``ref`` names a known table and column, and a known or coded row."""
        if ref.table is None or ref.row is None:
            raise RuleConfigError(f"引用 {ref} 应写成 表.行.列")
        t = self.layout.tables.get(ref.table)
        if t is None:
            raise RuleConfigError(f"没有表 {ref.table}")
        if ref.row in t.rows:
            block = t.rows[ref.row].block
            if (block, ref.col) not in t.colpos:
                raise RuleConfigError(f"表 {ref.table} 的行 {ref.row} 没有列 {ref.col}")
            return
        if not ref.row.isdigit():
            raise RuleConfigError(f"表 {ref.table} 没有行 {ref.row}")
        if not any(col == ref.col for (_, col) in t.colpos):
            raise RuleConfigError(f"表 {ref.table} 没有列 {ref.col}")

    def label(self, tid: str, rkey: str) -> str:
        """How a row is named in a message when it has no cell: ``表6 30231``."""
        t = self.layout.tables.get(tid)
        return f"{t.sheet if t else tid} {rkey}"

    def evaluate(self, expr: Expr) -> Side:
        side = Side()
        for term in expr.terms:
            ref = term.ref
            self.check_ref(ref)
            assert ref.table is not None and ref.row is not None
            side.add(term.sign, self.pub(ref.table, ref.row, ref.col), self.position(ref.table, ref.row, ref.col),
                     self.label(ref.table, ref.row), ref.table)
        return side

    # --- foreach and when ----------------------------------------------------------------------------
    def expand(self, foreach: str | None) -> list[dict[str, str]]:
        if not foreach:
            return [{}]
        combos: list[dict[str, str]] = [{}]
        for form in foreach.split("&"):
            combos = [{**a, **b} for a, b in itertools.product(combos, self._expand_one(form.strip()))]
        return combos

    def _expand_one(self, form: str) -> list[dict[str, str]]:
        kind, _, arg = form.partition(":")
        if kind == "tables":
            return [{"table": tid} for tid in self.layout.tables]
        if kind == "projects":
            return [{"project": p.key, "code": p.key} for p in self.layout.spec.projects]
        if kind == "list":
            return [{"item": w.strip()} for w in arg.split(",") if w.strip()]
        if kind in CODE_LENGTHS:
            t = self.layout.tables.get(arg)
            if t is None:
                raise RuleConfigError(f"foreach {form}：没有表 {arg}")
            lens = CODE_LENGTHS[kind]
            return [{"code": r.key} for r in t.rows.values()
                    if r.code and not r.project and (lens is None or len(r.code) in lens)]
        raise RuleConfigError(f"未知的 foreach 形式 {form}")

    def function_codes(self) -> set[str]:
        """Every functional 项 code the department uses (spec lists, projects, codes entered in spare rows)."""
        codes: set[str] = set()
        for t in self.layout.tables.values():
            for row in t.rows.values():
                blk = t.desc.block(row.block)
                if blk.plan not in ("tree", "projects") or blk.codes == "economic":
                    continue
                code = self.budget.code_of(t, row)
                if code and len(code) == 7:
                    codes.add(code)
        return codes

    def holds(self, when: str, subs: Mapping[str, str]) -> bool:
        kind, _, arg = when.partition(":")
        if kind == "administrative":
            return not any(c.endswith("50") or c == "2101102" for c in self.function_codes())
        if kind in ("nonzero", "zero"):
            side = self.evaluate(parse_cached(fill(arg, subs)))
            return (side.total != 0) == (kind == "nonzero")
        raise RuleConfigError(f"未知的前提条件 {when}")

    # --- catalogues ----------------------------------------------------------------------------------
    def catalogue(self, kind: str):
        """(Catalogue, None) or (None, reason) for the department's year."""
        if kind not in self._catalogues:
            self._catalogues[kind] = _load_catalogue(kind, self.layout.spec.year,
                                                     str(self.catalogue_dir) if self.catalogue_dir else None)
        return self._catalogues[kind]


@functools.lru_cache(maxsize=32)
def _load_catalogue(kind: str, year: int, directory: str | None):
    from ..catalogue import CatalogueError, load_active_catalogue, load_catalogue

    try:
        cat = load_catalogue(kind, year, directory) if directory else load_active_catalogue(kind, year)
    except CatalogueError as e:
        return None, str(e)
    return cat, None


# ---------------------------------------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------------------------------------
KINDS: dict[str, type["Rule"]] = {}


def register(cls: type["Rule"]) -> type["Rule"]:
    KINDS[cls.kind] = cls
    return cls


def judge(op: str, diff: Decimal, bound: Decimal) -> str:
    """"ok", "residue" (explained by rounding) or "fail" for ``left - right = diff``."""
    if op == "eq":
        if diff == 0:
            return "ok"
        return "residue" if abs(diff) <= bound else "fail"
    if op == "ge":
        if diff >= 0:
            return "ok"
        return "residue" if -diff <= bound else "fail"
    if op == "le":
        if diff <= 0:
            return "ok"
        return "residue" if diff <= bound else "fail"
    raise ValueError(op)


def holds_exactly(op: str, left: Iterable[Decimal | None], right: Iterable[Decimal | None]) -> bool:
    """True when the published figures satisfy the relation without any residue (the common case):
    rules check this before they build the cell references of a finding."""
    lv = [v for v in left if v is not None]
    rv = [v for v in right if v is not None]
    if not lv and not rv:
        return True
    return judge(op, sum(lv, ZERO) - sum(rv, ZERO), ZERO) == "ok"


RELATIONS = {"ge": ("不少于", "at least"), "le": ("不超过", "at most")}


class Rule:
    """Base of every rule kind: one entry of the rule book."""

    kind: ClassVar[str] = ""
    required: ClassVar[tuple[str, ...]] = ()
    expressions: ClassVar[tuple[str, ...]] = ()     # fields holding expressions (validated on load)

    def __init__(self, entry: Mapping[str, Any], where: str = "rules.toml"):
        self.entry = dict(entry)
        missing = [k for k in ("id", "kind", "severity", "zh", "en") + self.required if k not in entry]
        rid = entry.get("id", "?")
        if missing:
            raise DescriptionError(f"{where}: rule {rid} lacks {', '.join(missing)}")
        self.id: str = str(entry["id"])
        try:
            self.severity = Severity(entry["severity"])
            self.severity_partial = Severity(entry.get("severity_partial", entry["severity"]))
        except ValueError:
            raise DescriptionError(f"{where}: rule {rid}: severity must be error, warning or info") from None
        self.zh: str = str(entry["zh"])
        self.en: str = str(entry["en"])
        self.source: str = str(entry.get("source", ""))
        self.foreach: str | None = entry.get("foreach")
        self.when: str | None = entry.get("when")
        self.enabled: bool = bool(entry.get("enabled", True))
        try:
            self.tolerance = Tolerance.parse(entry["tolerance"]) if "tolerance" in entry else None
        except ValueError as e:
            raise DescriptionError(f"{where}: rule {rid}: {e}") from None
        if self.foreach:
            for form in self.foreach.split("&"):
                if form.strip().partition(":")[0] not in FOREACH_FORMS:
                    raise DescriptionError(f"{where}: rule {rid}: unknown foreach form {form.strip()!r}")
        if self.when and self.when.partition(":")[0] not in ("administrative", "nonzero", "zero"):
            raise DescriptionError(f"{where}: rule {rid}: unknown precondition {self.when!r}")
        for key in self.expressions + (("when",) if self.when and ":" in self.when else ()):
            text = str(entry[key]) if key != "when" else self.when.partition(":")[2]
            try:
                parse(text.format(**_PROBE))
            except (DescriptionError, KeyError, IndexError, ValueError) as e:
                raise DescriptionError(f"{where}: rule {rid}: {key}: {e}") from None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}>"

    # --- running -------------------------------------------------------------------------------------
    def check(self, budget: Budget, ctx: Context) -> Iterator[Finding]:
        """Every finding of this rule on ``budget`` (foreach expanded, preconditions applied)."""
        try:
            instances = ctx.expand(self.foreach)
        except RuleConfigError as e:
            yield self.config_finding({}, str(e))
            return
        for subs in instances:
            try:
                if self.when and not ctx.holds(self.when, subs):
                    continue
                yield from self.check_one(budget, ctx, subs)
            except RuleConfigError as e:
                yield self.config_finding(subs, str(e))

    def check_one(self, budget: Budget, ctx: Context, subs: Mapping[str, str]) -> Iterator[Finding]:
        raise NotImplementedError

    # --- helpers for the kinds -----------------------------------------------------------------------
    def rule_id(self, subs: Mapping[str, str]) -> str:
        return fill(self.id, subs)

    def expr(self, key: str, subs: Mapping[str, str]) -> Expr:
        return parse_cached(fill(str(self.entry[key]), subs))

    def tol(self, ctx: Context) -> Tolerance:
        return self.tolerance or ctx.tolerance

    def make(self, kind: str, severity: Severity, subs: Mapping[str, str], *, cells: Iterable[str | None] = (),
             table: str | None = None, expected: Decimal | None = None, actual: Decimal | None = None,
             difference: Decimal | None = None, tol: Tolerance | None = None, figures: int = 0,
             **params: Any) -> Finding:
        p: dict[str, Any] = {"rule_zh": fill(self.zh, subs), "rule_en": fill(self.en, subs)}
        bound = mode = None
        if tol is not None:
            bound = tol.bound(figures).normalize()
            mode = tol.mode
            p["mode_zh"] = tol.describe(figures, "zh")
            p["mode_en"] = tol.describe(figures, "en")
        p.update(params)
        seen: list[str] = []
        for c in cells:
            if c and c not in seen:
                seen.append(c)
        return Finding(kind=kind, rule=self.rule_id(subs), severity=severity, cells=tuple(seen), expected=expected,
                       actual=actual, difference=difference, tolerance=bound, tolerance_mode=mode, table=table,
                       params=p)

    def config_finding(self, subs: Mapping[str, str], detail: str) -> Finding:
        return Finding(kind="rule-config", rule=self.rule_id(subs), severity=Severity.WARNING,
                       params={"detail": detail})

    def compare(self, ctx: Context, subs: Mapping[str, str], op: str, left: Side, right: Side, *,
                fail_kind: str | None = None, table: str | None = None, **params: Any) -> Iterator[Finding]:
        """Compare two sides with the rule's tolerance: nothing, an info residue, or a failure."""
        if left.blank and right.blank:
            return
        tol = self.tol(ctx)
        figures = left.figures + right.figures
        diff = left.total - right.total
        status = judge(op, diff, tol.bound(figures))
        if status == "ok":
            return
        if fail_kind is None:
            fail_kind = "cross-mismatch" if op == "eq" else "bound-violation"
        rel = RELATIONS.get(op, ("等于", "equal to"))
        kind, severity = ("rounding-residue", Severity.INFO) if status == "residue" else (fail_kind, self.severity)
        params.setdefault("lhs", left.text)
        params.setdefault("rhs", right.text)
        params.setdefault("n", figures)
        yield self.make(kind, severity, subs, cells=left.cells + right.cells,
                        table=table or (left.tables + right.tables + [None])[0], expected=right.total,
                        actual=left.total, difference=diff, tol=tol, figures=figures,
                        relation_zh=rel[0], relation_en=rel[1], **params)


# ---------------------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------------------
def rules_from_entries(entries: Iterable[Mapping[str, Any]], where: str = "rules.toml") -> list[Rule]:
    from . import kinds  # noqa: F401  (registers the kinds)

    out: list[Rule] = []
    seen: set[str] = set()
    for entry in entries:
        kind = entry.get("kind")
        if kind not in KINDS:
            raise DescriptionError(f"{where}: rule {entry.get('id', '?')}: unknown kind {kind!r}")
        rule = KINDS[kind](entry, where)
        if rule.id in seen:
            raise DescriptionError(f"{where}: duplicate rule id {rule.id}")
        seen.add(rule.id)
        out.append(rule)
    return out


@functools.lru_cache(maxsize=8)
def _cached_rules(path: str, mtime: float) -> tuple[Rule, ...]:
    try:
        entries = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("rule", [])
    except tomllib.TOMLDecodeError as e:
        raise DescriptionError(f"{Path(path).name}: {e}") from None
    return tuple(rules_from_entries(entries, Path(path).name))


def load_rules(tableset: "TableSet | str" = "xj11") -> list[Rule]:
    """The rules of a table set's rule book, in book order (enabled or not)."""
    ts = load_tableset(tableset) if isinstance(tableset, str) else tableset
    if ts.rules_file is None or not ts.rules_file.is_file():
        return []
    return list(_cached_rules(str(ts.rules_file), ts.rules_file.stat().st_mtime))


def rules_for(layout: Layout) -> list[Rule]:
    return [r for r in load_rules(layout.tableset) if r.enabled]


# ---------------------------------------------------------------------------------------------------------
# Small shared helpers for the kinds
# ---------------------------------------------------------------------------------------------------------
def row_label(row: LRow) -> str:
    if row.project:
        return row.project_name or row.project
    if row.code:
        return f"{row.code} {row.label}".strip()
    return row.label or row.key


def column_label(t: LTable, row: LRow, ckey: str) -> str:
    col = t.column(row, ckey)
    return col.header[-1] if col.header else ckey


def cell_name(t: LTable, row: LRow, ckey: str, lang: str) -> str:
    """``表6“301 工资福利支出”行“人员经费”列`` / ``表6 row “…” column “…”``."""
    if lang == "en":
        return f"{t.sheet} row “{row_label(row)}” column “{column_label(t, row, ckey)}”"
    return f"{t.sheet}“{row_label(row)}”行“{column_label(t, row, ckey)}”列"


def table_names(ctx: "Context", t: LTable) -> dict[str, str]:
    """``table_zh``/``table_en`` params: ``表8 政府性基金预算支出情况表``; a project's 绩效 table by its project."""
    if t.project:
        name = ctx.layout.spec.project(t.project).name
        return {"table_zh": f"项目“{name}”的{t.title}（{t.sheet}）",
                "table_en": f"the {t.title} of project “{name}” ({t.sheet})"}
    text = t.title if t.title.startswith(t.sheet) else f"{t.sheet} {t.title}"
    return {"table_zh": text, "table_en": text}


def note_position(t: LTable) -> str | None:
    return f"{t.sheet}!{a1(t.note_row, 0)}" if t.note_row is not None else None
