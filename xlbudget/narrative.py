"""The words of the disclosure (部门概况, 情况说明, 名词解释), rendered from the set's ``narrative.toml``.

A table set describes its narrative as data (``templates/<set>/narrative.toml``, format in the header
comment of ``templates/xj11/narrative.toml``): named figures (``name = "<table>.<row>.<column>"``,
signed sums allowed) and an ordered list of sections whose titles and texts are Jinja2 templates. This
module is the one generic evaluator: it checks every reference against the set when the set is loaded
(:class:`~xlbudget.errors.DescriptionError`, never a silent 0), evaluates the figures from the budget and
renders the sections in a sandbox.

Amounts are the published figures of their tables (``Budget.published``), converted exactly (Decimal) from
each table's unit into the unit the narrative names (``unit = "万元"``) and printed to its decimals;
shares are ``part / denominator × 100`` rounded half-up to 2 decimals; changes compare with last year's
figures named by the template.

When last year's figure is 0 the growth rate is undefined. ``zero_last_year`` picks the convention:

* ``"100"`` (default, the seed's): "比上年预算增加 417.37 万元，增长 100.00%";
* ``"na"``: "比上年预算增加 417.37 万元（上年无预算，不计算增长率）".
"""

from __future__ import annotations

import functools
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta, nodes, pass_context
from jinja2.sandbox import SandboxedEnvironment
from msgspec import Struct, field

from .errors import DescriptionError
from .expr import Expr, parse
from .model import ZERO, Budget, get_path, q, to_decimal
from .setdata import cached, check_document_path, check_ref as _check_ref, doc_path as _path, read_set_file
from .tableset import UNITS, Precision

if TYPE_CHECKING:
    from .tableset import TableSet

__all__ = ["Section", "narrative", "fmt_amount", "fmt_pct", "share", "change_text", "ZERO_LAST_YEAR",
           "empty_note", "load_narrative", "NarrativeDef"]

ZERO_LAST_YEAR = ("100", "na")
CN_NUM = "一二三四五六七八九十"
NARRATIVE_FILE = "narrative.toml"
SUBSECTION = "\x1e"         # marks a subsection title in rendered text (XML 1.0 forbids it in cell text)
SECTION_KINDS = ("text", "performance_tables", "signature")
# template functions whose first argument is a table id (checked against the set when it is loaded)
_TABLE_FUNCS = {"value", "rows", "empty_note", "is_empty"}


class Section(Struct):
    """One heading with its paragraphs.

    ``part`` is the part's number (第一/第三/第四部分); ``level`` 0 is the part's title, 1 a section (一、),
    2 a subsection (（一）). ``kind`` is "text", "performance_tables" (where the 绩效目标表 go) or
    "signature" (the closing lines: department and date). ``sheet`` is the disclosure sheet it prints on.
    """

    part: int
    key: str
    title: str
    level: int = 1
    paragraphs: list[str] = field(default_factory=list)
    kind: str = "text"
    sheet: str = ""

    def text(self) -> str:
        return "\n".join(([self.title] if self.title else []) + self.paragraphs)


# --------------------------------------------------------------------------------------------
# Number words
# --------------------------------------------------------------------------------------------


def cn_number(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 21 -> 二十一 (enough for headings)."""
    n = int(n)
    if n <= 0:
        return str(n)
    if n <= 10:
        return CN_NUM[n - 1]
    if n < 20:
        return "十" + CN_NUM[n - 11]
    if n < 100:
        tens, ones = divmod(n, 10)
        return CN_NUM[tens - 1] + "十" + (CN_NUM[ones - 1] if ones else "")
    return str(n)


def _dec(v: Any) -> Decimal:
    if v is None or v == "":
        return ZERO
    return to_decimal(v) or ZERO


def fmt_amount(v: Any, decimals: int = 2) -> str:
    """A published amount: ``decimals`` decimals, no thousands separator (as in the seed's text)."""
    return format(q(_dec(v), decimals), "f")


def fmt_pct(v: Decimal | None) -> str:
    return format(q(v or ZERO, 2), "f") + "%"


def fmt_count(v: Any) -> str:
    d = _dec(v)
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), "f")


def share(part: Decimal | None, denominator: Decimal | None) -> Decimal | None:
    """part / denominator × 100, rounded half-up to 2 decimals (None when the denominator is 0)."""
    if not denominator:
        return None
    with localcontext() as ctx:
        ctx.prec = 34
        return ((part or ZERO) * 100 / denominator).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class ChangeWords(Struct, frozen=True):
    """The words of a year-on-year change (a 决算 set says 比上年决算 …)."""

    prefix: str = "比上年预算"
    same: str = "与上年预算持平，增减 {zero} {unit}，增减幅度 {zero_pct}"
    no_rate: str = "（上年无预算，不计算增长率）"
    up: tuple[str, str] = ("增加", "增长")
    down: tuple[str, str] = ("减少", "下降")


def change_text(current: Decimal | None, last: Decimal | None, *, zero_last_year: str = "100",
                prefix: str | None = None, unit: str = "万元", decimals: int = 2,
                words: ChangeWords = ChangeWords()) -> str:
    """"比上年预算增加 X 万元，增长 Y%" and its variants; the verbs agree with the sign of the change."""
    cur = current or ZERO
    ly = last or ZERO
    delta = cur - ly
    prefix = words.prefix if prefix is None else prefix
    if delta == 0:
        return words.same.format(zero=fmt_amount(ZERO, decimals), unit=unit, zero_pct=fmt_pct(ZERO))
    verb, rate_verb = words.up if delta > 0 else words.down
    amount = f"{prefix}{verb} {fmt_amount(abs(delta), decimals)} {unit}"
    if ly == 0:
        if zero_last_year == "na":
            return f"{amount}{words.no_rate}"
        return f"{amount}，{rate_verb} {fmt_pct(Decimal(100))}"
    rate = share(abs(delta), abs(ly))
    return f"{amount}，{rate_verb} {fmt_pct(rate)}"


def _reason(text: Any) -> str:
    text = str(text or "").strip().rstrip("。")
    if not text:
        return ""
    return f"，主要原因是{' ' if text[0].isascii() and text[0].isalnum() else ''}{text}"


def empty_note(budget: Budget, tid: str) -> str | None:
    """The official note of an empty table (e.g. 表8), from the table description; None if not empty."""
    t = budget.layout.tables.get(tid)
    if t is None or not t.note_text or not budget.table_is_empty(tid):
        return None
    return t.note_text


# --------------------------------------------------------------------------------------------
# The description: narrative.toml
# --------------------------------------------------------------------------------------------


class SectionDef(Struct, frozen=True):
    part: int
    key: str
    level: int
    title: str
    text: str
    kind: str
    when: str | None
    sheet: str


class NarrativeDef(Struct, frozen=True):
    unit: str
    decimals: int
    figures: dict[str, Expr]
    context: dict[str, tuple[str, ...]]
    reason: tuple[str, ...] | None
    words: ChangeWords
    prelude: str
    sections: tuple[SectionDef, ...]
    source: str


def _env() -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, autoescape=False,
                              extensions=["jinja2.ext.do"])
    env.filters.update(amount=_amount_filter, pct=fmt_pct, count=fmt_count, cn=cn_number, reason=_reason, dec=_dec)
    return env


@pass_context
def _amount_filter(context: Any, v: Any) -> str:
    return fmt_amount(v, context.get("decimals", 2))


_ENV = _env()
_GLOBALS = {"value", "rows", "empty_note", "is_empty", "name", "share", "change", "change_reason", "dec", "total",
            "subsection", "projects", "dept", "year", "number", "zero_last_year", "unit", "decimals"}


def _check_template(ts: "TableSet", source: str, where: str, names: set[str]) -> None:
    try:
        ast = _ENV.parse(source)
    except TemplateSyntaxError as e:
        raise DescriptionError(f"{where}：模板语法错误（第 {e.lineno} 行）：{e.message}") from None
    stored = {n.name for n in ast.find_all(nodes.Name) if n.ctx in ("store", "param")}
    unknown = sorted(meta.find_undeclared_variables(ast) - names - stored)
    if unknown:
        raise DescriptionError(f"{where}：模板使用了未声明的名称 {'、'.join(unknown)}")
    for call in ast.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name in _TABLE_FUNCS and call.args:
            first = call.args[0]
            if isinstance(first, nodes.Const) and isinstance(first.value, str):
                col = None
                if call.node.name in ("value", "rows"):   # value(table, row, col), rows(table, level, col)
                    arg = call.args[2] if len(call.args) > 2 else None
                    for kw in call.kwargs:
                        if kw.key == "col":
                            arg = kw.value
                    if isinstance(arg, nodes.Const) and isinstance(arg.value, str):
                        col = arg.value
                _check_ref(ts, first.value, None, col, where)


def load_narrative(ts: "TableSet") -> NarrativeDef | None:
    """The set's narrative description (None when the set has no ``narrative.toml``); validated."""
    path = Path(ts.folder) / NARRATIVE_FILE
    if not path.is_file():
        return None
    return cached(ts, "narrative", lambda: _load(read_set_file(ts, NARRATIVE_FILE) or {}, ts))


def _load(d: dict[str, Any], ts: "TableSet") -> NarrativeDef:
    where = f"{ts.id}/{NARRATIVE_FILE}"
    figures: dict[str, Expr] = {}
    for name, text in (d.get("figures") or {}).items():
        expr = parse(str(text))
        for ref in expr.refs():
            if ref.table is None or ref.row is None:
                raise DescriptionError(f"{where}：数字 {name} = {text!r} 应写成 表.行.列")
            _check_ref(ts, ref.table, ref.row, ref.col, f"{where}：数字 {name}")
        figures[name] = expr
    context = {str(k): _path(v) for k, v in (d.get("context") or {}).items()}
    reason = _path(d["reason"]) if d.get("reason") else None
    for name, path in list(context.items()) + ([("reason", reason)] if reason else []):
        check_document_path(ts, path, f"{where}：{name}")
    w = d.get("change") or {}
    base = ChangeWords()
    words = ChangeWords(prefix=w.get("prefix", base.prefix), same=w.get("same", base.same),
                        no_rate=w.get("no_rate", base.no_rate), up=tuple(w.get("up", base.up)),
                        down=tuple(w.get("down", base.down)))
    prelude = str(d.get("prelude") or "")
    names = set(figures) | set(context) | _GLOBALS
    clash = set(figures) & (set(context) | _GLOBALS)
    if clash:
        raise DescriptionError(f"{where}：数字名称 {'、'.join(sorted(clash))} 与内置名称重复")
    sections: list[SectionDef] = []
    for p in d.get("part") or ():
        keys: set[str] = set()
        try:
            number = int(p["number"])
        except (KeyError, TypeError, ValueError):
            raise DescriptionError(f"{where}：[[part]] 缺少整数 number") from None
        sheet = str(p.get("sheet") or "")
        for s in p.get("section") or ():
            key = str(s.get("key") or "")
            if not key or key in keys:
                raise DescriptionError(f"{where}：第 {number} 部分的段落 key {key!r} 为空或重复")
            keys.add(key)
            kind = str(s.get("kind", "text"))
            if kind not in SECTION_KINDS:
                raise DescriptionError(f"{where}：段落 {key} 的 kind {kind!r} 无效，可选：{'、'.join(SECTION_KINDS)}")
            sd = SectionDef(part=number, key=key, level=int(s.get("level", 1)), title=str(s.get("title", "")),
                            text=str(s.get("text", "")), kind=kind, when=s.get("when"),
                            sheet=str(s.get("sheet") or sheet))
            for label, src in (("标题", prelude + sd.title), ("正文", prelude + sd.text)):
                _check_template(ts, src, f"{where}：段落 {key} 的{label}", names)
            if sd.when:
                _check_template(ts, "{{ " + sd.when + " }}", f"{where}：段落 {key} 的 when", names)
            sections.append(sd)
    unit = str(d.get("unit", ts.unit))
    if unit not in UNITS:
        raise DescriptionError(f"{where}：单位 {unit!r} 无效（应为 {'、'.join(UNITS)}）")
    return NarrativeDef(unit=unit, decimals=int(d.get("decimals", 2)), figures=figures,
                        context=context, reason=reason, words=words, prelude=prelude, sections=tuple(sections),
                        source=where)


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


class NRow:
    """A row of a table as the templates see it: key, code, label, level and its figures."""

    def __init__(self, ctx: "_Context", tid: str, row: Any, kind: str, parents: list["NRow"]):
        self._ctx = ctx
        self._tid = tid
        self.key = row.key
        self.code = row.code or ""
        self.level = row.level
        self.label = row.label or (ctx.namer(kind, row.code) if row.code else "") or self.code
        self.project = row.project or ""
        self.project_name = row.project_name or ""
        self.ancestors = parents

    def v(self, col: str) -> Decimal:
        return self._ctx.value(self._tid, self.key, col)


class _Context:
    def __init__(self, budget: Budget, nd: NarrativeDef, zero_last_year: str):
        self.b = budget
        self.nd = nd
        self.zly = zero_last_year
        self.namer = budget.layout.namer
        self.doc = budget.doc
        self._figures: dict[str, Decimal] = {}
        self.unit = Precision(nd.unit, nd.decimals)

    def value(self, tid: str, rkey: str, ckey: str) -> Decimal:
        """The published figure of a cell in the narrative's unit; 0 for a row the department lacks."""
        layout = self.b.layout
        if tid not in layout.tables:
            raise DescriptionError(f"{self.nd.source}：表套中没有表 {tid}")
        if not layout.has(tid, rkey):
            return ZERO
        v = self.b.published(tid, rkey, ckey) or ZERO
        t = layout.tables[tid]
        row = t.rows[rkey]
        try:
            col = t.column(row, ckey)
        except KeyError:
            raise DescriptionError(f"{self.nd.source}：表 {tid} 没有列 {ckey}") from None
        if col.kind == "amount" or (col.kind == "field" and row.type == "amount"):   # money converts; counts do not
            return layout.precision(tid, ckey).convert(v, self.unit)
        return v

    def figure(self, name: str) -> Decimal:
        if name not in self._figures:
            total = ZERO
            for term in self.nd.figures[name].terms:
                ref = term.ref
                total += term.sign * self.value(ref.table, ref.row, ref.col)  # type: ignore[arg-type]
            self._figures[name] = total
        return self._figures[name]

    def rows(self, tid: str, level: int | None = None, col: str | None = None) -> list[NRow]:
        t = self.b.layout.tables.get(tid)
        if t is None:
            raise DescriptionError(f"{self.nd.source}：表套中没有表 {tid}")
        parent_of: dict[str, str] = {}
        for r in t.rows.values():
            for ch in r.children:
                parent_of.setdefault(ch, r.key)
        out = []
        for r in t.rows.values():
            if not r.code or (level is not None and r.level != level):
                continue
            if col is not None and not self.value(tid, r.key, col):
                continue
            kind = "economic" if t.desc.block(r.block).codes == "economic" else "function"
            chain: list[NRow] = []
            k = parent_of.get(r.key)
            while k is not None and t.rows[k].code:
                chain.insert(0, NRow(self, tid, t.rows[k], kind, []))
                k = parent_of.get(k)
            out.append(NRow(self, tid, r, kind, chain))
        return out

    def change(self, cur: Any, last: Any, prefix: str | None = None) -> str:
        return change_text(_dec(cur), _dec(last), zero_last_year=self.zly, prefix=prefix, unit=self.nd.unit,
                           decimals=self.nd.decimals, words=self.nd.words)

    def change_reason(self, cur: Any, last: Any, reason: Any = None) -> str:
        text = self.change(cur, last)
        if _dec(cur) - _dec(last) == 0:
            return text
        if reason is None and self.nd.reason:
            reason = get_path(self.doc, self.nd.reason)
        return text + _reason(reason)

    def variables(self, number: int) -> dict[str, Any]:
        spec = self.b.spec
        projects = list(spec.projects)
        v: dict[str, Any] = {
            "dept": spec.department, "year": spec.year, "number": cn_number(number) if number else "",
            "zero_last_year": self.zly, "unit": self.nd.unit, "decimals": self.nd.decimals, "projects": projects,
            "value": self.value, "rows": self.rows, "name": lambda kind, code: self.namer(kind, code) or code,
            "empty_note": lambda tid: empty_note(self.b, tid),
            "is_empty": lambda tid: tid in self.b.layout.tables and self.b.table_is_empty(tid),
            "share": share, "change": self.change, "change_reason": self.change_reason, "dec": _dec,
            "total": lambda values: sum((_dec(x) for x in values), ZERO),
            "subsection": lambda title: SUBSECTION + str(title) + "\n",
        }
        for name, path in self.nd.context.items():
            got = get_path(self.doc, path)
            v[name] = got if got is not None else {}
        for name in self.nd.figures:
            v[name] = self.figure(name)
        return v


@functools.lru_cache(maxsize=256)
def _template(source: str):
    return _ENV.from_string(source)


@functools.lru_cache(maxsize=64)
def _expression(source: str):
    return _ENV.compile_expression(source)


def _render(source: str, variables: dict[str, Any], where: str) -> str:
    try:
        return _template(source).render(variables)
    except UndefinedError as e:
        raise DescriptionError(f"{where}：{e.message}") from None


def _test(expression: str, variables: dict[str, Any], where: str) -> bool:
    try:
        return bool(_expression(expression)(**variables))
    except UndefinedError as e:
        raise DescriptionError(f"{where}：{e.message}") from None


def _paragraphs(text: str) -> list[tuple[str | None, list[str]]]:
    """Split rendered text into (subsection title or None, paragraphs): one non-empty line, one paragraph."""
    out: list[tuple[str | None, list[str]]] = [(None, [])]
    for line in text.split("\n"):
        if line.startswith(SUBSECTION):
            out.append((line[1:].strip(), []))
            continue
        line = line.strip()
        if line:
            out[-1][1].append(line)
    return out


def prepare(ts: "TableSet") -> None:
    """Load the set's narrative and compile its templates ahead of a first :func:`narrative` (a build does
    it while its inputs are being read)."""
    nd = load_narrative(ts)
    if nd is None:
        return
    for sd in nd.sections:
        if sd.when:
            _expression(sd.when)
        _template(nd.prelude + sd.title)
        if sd.text:
            _template(nd.prelude + sd.text)


def narrative(budget: Budget, *, zero_last_year: str = "100") -> list[Section]:
    """Sections of the set's narrative, in print order (empty when the set has none)."""
    if zero_last_year not in ZERO_LAST_YEAR:
        raise ValueError(f"zero_last_year 应为 {' 或 '.join(ZERO_LAST_YEAR)}，而不是 {zero_last_year!r}")
    nd = load_narrative(budget.layout.tableset)
    if nd is None:
        return []
    ctx = _Context(budget, nd, zero_last_year)
    out: list[Section] = []
    numbers: dict[int, int] = {}
    for sd in nd.sections:
        where = f"{nd.source}：段落 {sd.key}"
        if sd.when and not _test(sd.when, ctx.variables(0), where):
            continue
        n = 0
        if sd.level == 1:
            n = numbers[sd.part] = numbers.get(sd.part, 0) + 1
        variables = ctx.variables(n)
        title = _render(nd.prelude + sd.title, variables, where).strip()
        pieces = _paragraphs(_render(nd.prelude + sd.text, variables, where)) if sd.text else [(None, [])]
        out.append(Section(part=sd.part, key=sd.key, title=title, level=sd.level, paragraphs=pieces[0][1],
                           kind=sd.kind, sheet=sd.sheet))
        for i, (sub, paras) in enumerate(pieces[1:], start=1):
            out.append(Section(part=sd.part, key=f"{sd.key}.{i}", title=sub or "", level=sd.level + 1,
                               paragraphs=paras, sheet=sd.sheet))
    return out
