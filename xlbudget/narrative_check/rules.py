"""The narrative rules: each statement compared with the figures it names.

Rule ids, severities and message kinds are data (``xlbudget/data/narrative_rules.toml``; a set may change a
severity in its vocabulary's ``[severity]``); messages are templates in ``xlbudget/data/messages.toml``.

* ``N.amount``      an amount equals its figure after unit conversion, at the text's own precision; a
                    whole-万元 figure that truncates the table's (328,661 for 328,661.81) is a 尾差
* ``N.share``       a share recomputed from the tables; within one unit of its last digit a 尾差
* ``N.breakdown``   the shares of a complete breakdown add up to 100 within rounding
* ``N.change``      a change recomputed from last year's figures, where the workbook has them
* ``N.direction``   增加/增长 for a rise, 减少/下降 for a fall, 持平 for no change
* ``N.zero-base``   a growth rate on a base of 0 (undefined; the 100% convention is a warning)
* ``N.completion``  a completion rate computed on the base the sentence names (年初预算, 全年预算)
* ``N.count``       a count (项目 6 个) equals the document's
* ``N.none``        a "none" statement contradicted by a figure
* ``N.list``        a listed item with no figure (a warning); figures not listed (info)
* ``N.purpose``     the use stated for one item names another item of the same table
* ``N.context``     a figure no rule requires to be equal (info, with the ratio)
* ``N.part-of``     a figure of the 行政/参公 part only (机关运行经费) equal to the whole (表6 公用经费) of a
                    department that includes a 事业单位 (a warning)
* ``N.sangong``     a project text funds a 三公 item (公务用车购置) the 三公 table shows as 0
* ``N.unrecognised`` an amount or percentage the vocabulary does not tie to a figure (info)
"""

from __future__ import annotations

import functools
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext
from importlib import resources
from typing import Any, Sequence

from .. import tomlfile
from ..findings import Finding, Severity
from ..tableset import Precision
from .statements import DOWN, UP, Statement
from .vocabulary import Figure, Figures, Term, Vocabulary

__all__ = ["check_statements", "RULES"]

ZERO = Decimal(0)
HUNDRED = Decimal(100)


@functools.lru_cache(maxsize=1)
def _rules() -> dict[str, dict[str, Any]]:
    text = resources.files("xlbudget").joinpath("data/narrative_rules.toml").read_text(encoding="utf-8")
    return tomlfile.loads(text)["rule"]


RULES = _rules


def _q(v: Decimal, decimals: int, rounding: str = ROUND_HALF_UP) -> Decimal:
    return v.quantize(Decimal(10) ** -decimals, rounding=rounding)


def _ratio(part: Decimal, whole: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 34
        return part * HUNDRED / whole


class Checker:
    def __init__(self, figures: Figures, vocab: Vocabulary):
        self.f = figures
        self.v = vocab
        self.unit = vocab.unit
        self.findings: list[Finding] = []

    # --- findings ------------------------------------------------------------------------------------
    def severity(self, rule: str, level: str = "severity") -> Severity:
        if level == "severity" and rule in self.v.severity:
            return Severity(self.v.severity[rule])
        return Severity(_rules()[rule][level])

    def emit(self, rule: str, kind: str, st: Statement | None, *, level: str = "severity",
             cells: Sequence[str] = (), expected: Decimal | None = None, actual: Decimal | None = None,
             tolerance: Decimal | None = None, where: str | None = None, **params: Any) -> None:
        diff = None if expected is None or actual is None else actual - expected
        pos = where if where is not None else (st.where if st else "")
        p = {"quote": st.quote if st else "", "name": _name(st.term) if st and st.term else ""}
        p.update(params)
        p.setdefault("rhs", "、".join(cells) if cells else "—")
        self.findings.append(Finding(kind, rule, self.severity(rule, level), cells=(pos, *cells),
                                     expected=expected, actual=actual, difference=diff, tolerance=tolerance,
                                     tolerance_mode="narrative", params=p))

    # --- conversions ---------------------------------------------------------------------------------
    def printed(self, st: Statement) -> Decimal:
        """The statement's number in the vocabulary's unit (元 → 万元 exactly)."""
        assert st.value is not None
        if st.unit == "元" and self.unit.unit != "元":
            return Precision("元").convert(st.value, self.unit)
        if st.unit == "万元" and self.unit.unit == "元":
            return Precision("万元").convert(st.value, self.unit)
        return st.value

    def decimals(self, st: Statement) -> int:
        d = st.decimals
        if st.unit == "元" and self.unit.unit == "万元":
            return d + 4            # a figure to the 元 is one to 4 decimals of 万元
        if st.unit == "万元" and self.unit.unit == "元":
            return max(0, d - 4)
        return d

    def fig(self, term: Term | None, aspect: str = "value") -> Figure | None:
        if term is None:
            return None
        got = self.f.term(term, aspect)
        if got is None or not got.known:
            return None
        return got

    # --- statements ----------------------------------------------------------------------------------
    def run(self, statements: Sequence[Statement]) -> list[Finding]:
        previous_change: Statement | None = None
        inferred: dict[int, Decimal | None] = {}
        for st in statements:
            k = st.kind
            if k == "amount":
                self.amount(st, st.term, "value")
            elif k == "aspect":
                self.amount(st, st.term, st.aspect or "value")
            elif k == "change":
                inferred[id(st)] = self.change(st)
                previous_change = st
            elif k == "rate":
                base = None
                if previous_change is not None and previous_change.sentence is st.sentence:
                    base = (previous_change, inferred.get(id(previous_change)))
                self.rate(st, base)
            elif k == "same":
                self.same(st)
            elif k == "share":
                self.share(st)
            elif k == "completion":
                self.completion(st)
            elif k == "count":
                self.count(st)
            elif k == "none":
                self.none(st)
            elif k == "list":
                self.list(st)
            elif k == "purpose":
                self.purpose(st, statements)
            elif k == "allocation":
                self.allocation(st)
            elif k == "unknown":
                self.emit("N.unrecognised", "narrative-unrecognised", st, printed=st.printed, words=st.words)
        self.breakdowns(statements)
        return self.findings

    def amount(self, st: Statement, term: Term | None, aspect: str) -> None:
        fig = self.fig(term, aspect)
        if fig is None:
            return
        text = self.printed(st)
        d = self.decimals(st)
        if term is not None and term.relation == "info":
            if _q(fig.value, d) != text:
                ratio = _q(_ratio(text, fig.value), 2) if fig.value else None
                self.emit("N.context", "narrative-context", st, cells=fig.cells, expected=_q(fig.value, 2), actual=text,
                          printed=st.printed, ratio=ratio if ratio is not None else "—")
            return
        if _q(fig.value, d) == text:
            if aspect == "value":
                self.part_of(st, term, fig)
            return
        tol = Decimal(5) * Decimal(10) ** -(d + 1)
        if d < self.unit.display_decimals and _q(fig.value, d, ROUND_DOWN) == text:
            self.emit("N.amount", "narrative-amount-residue", st, level="residue", cells=fig.cells,
                      expected=fig.value, actual=text, tolerance=tol, printed=st.printed, aspect=_aspect(aspect))
            return
        self.emit("N.amount", "narrative-amount", st, cells=fig.cells, expected=_q(fig.value, max(d, 2)),
                  actual=text, tolerance=tol, printed=st.printed, aspect=_aspect(aspect))

    def allocation(self, st: Statement) -> None:
        """An amount in a project's text: one of its 资金分配 items in the document, by name."""
        assert st.term is not None and st.term.project is not None
        records = self.f.allocation(st.term.project)
        words = st.words
        hit = [r for r in records if r[0] == words] or [r for r in records if words and (r[0] in words or words in r[0])]
        if not hit:
            self.emit("N.unrecognised", "narrative-unrecognised", st, printed=st.printed, words=words)
            return
        item, value = hit[0]
        text = self.printed(st)
        self.sangong(st, words, text)
        d = self.decimals(st)
        if _q(value, d) != text:
            tol = Decimal(5) * Decimal(10) ** -(d + 1)
            self.emit("N.amount", "narrative-amount", st, expected=value, actual=text, tolerance=tol,
                      printed=st.printed, aspect="资金分配 " + item, rhs="资金分配")

    def part_of(self, st: Statement, term: Term | None, fig: Figure) -> None:
        """A figure that covers the 行政/参公 part of a whole only (机关运行经费 of 公用经费): equal to the whole
        although the department includes a 事业单位 is a warning."""
        whole = self.fig(term, "part_of")
        if whole is None or fig.value != whole.value or not fig.value:
            return
        from ..rules import Context
        from ..rules.base import book_conditions

        name = self.v.administrative
        cond = book_conditions(self.f.b.layout.tableset).get(name) if name else None
        if cond is None or Context(self.f.b).holds(name, {}, named=cond):
            return
        self.emit("N.part-of", "narrative-part-of", st, cells=(*fig.cells, *whole.cells), expected=whole.value,
                  actual=fig.value, whole_cells="、".join(whole.cells))

    def sangong(self, st: Statement, words: str, amount: Decimal) -> None:
        """A project text that funds a 三公 item (公务用车购置 18 万元) while the 三公 table shows none."""
        if not amount:
            return
        for item in self.v.sangong:
            if not any(n in words for n in item.names):
                continue
            figs = [self.f.expr(e) for e in item.figures]
            if any(f.known for f in figs) and not any(f.value for f in figs if f.known):
                self.emit("N.sangong", "narrative-sangong", st, cells=tuple(c for f in figs for c in f.cells),
                          expected=amount, actual=ZERO, item=item.names[0], printed=st.printed,
                          project_name=st.term.label if st.term else "")
            return

    def _sign(self, verb: str | None) -> int:
        if verb in UP:
            return 1
        if verb in DOWN:
            return -1
        return 0

    def change(self, st: Statement) -> Decimal | None:
        """Check a change; return last year's figure (from the workbook, else inferred from the text)."""
        cur = self.fig(st.term)
        if cur is None:
            return None
        text = self.printed(st)
        sign = self._sign(st.verb)
        last = self.fig(st.term, "last")
        if last is None:
            return cur.value - sign * text if sign or not text else None
        delta = cur.value - last.value
        d = self.decimals(st)
        tol = Decimal(5) * Decimal(10) ** -(d + 1)
        cells = (*cur.cells, *last.cells)
        if sign and delta != 0 and text != 0 and (delta > 0) != (sign > 0):
            self.emit("N.direction", "narrative-direction", st, cells=cells, expected=delta, actual=sign * text,
                      verb=st.verb, current=cur.value, last=last.value)
        elif _q(abs(delta), d) != text:
            self.emit("N.change", "narrative-change", st, cells=cells, expected=_q(abs(delta), max(d, 2)), actual=text,
                      tolerance=tol, printed=st.printed, current=_q(cur.value, max(d, 2)), last=last.value)
        return last.value

    def rate(self, st: Statement, base: tuple[Statement, Decimal | None] | None) -> None:
        cur = self.fig(st.term)
        if cur is None:
            return
        lastfig = self.fig(st.term, "last")
        last = lastfig.value if lastfig is not None else (base[1] if base else None)
        if last is None:
            return
        text = self.printed(st)
        if last == 0 and cur.value == 0 and text == 0:
            return                  # 0 then and now: no change, and a rate of 0 says so
        if last == 0:
            self.emit("N.zero-base", "narrative-zero-base", st, cells=cur.cells, actual=text, printed=st.printed,
                      current=cur.value)
            return
        delta = cur.value - last
        sign = self._sign(st.verb)
        if sign and delta != 0 and text != 0 and (delta > 0) != (sign > 0):
            self.emit("N.direction", "narrative-direction", st, cells=cur.cells, expected=delta, actual=sign * text,
                      verb=st.verb, current=cur.value, last=last)
            return
        self._rate_compare("N.change", st, abs(delta), abs(last), cur.half * 2, (lastfig.half if lastfig else ZERO),
                           cur.cells, text)

    def _rate_compare(self, rule: str, st: Statement, part: Decimal, whole: Decimal, hp: Decimal, hw: Decimal,
                      cells: Sequence[str], text: Decimal, kind: str = "narrative-rate", **params: Any) -> None:
        d = st.decimals
        computed = _q(_ratio(part, whole), d)
        if computed == text:
            return
        lo = _ratio(max(part - hp, ZERO), whole + hw) if whole + hw else computed
        hi = _ratio(part + hp, whole - hw) if whole - hw > 0 else computed
        half = Decimal(5) * Decimal(10) ** -(d + 1)
        unit = Decimal(10) ** -d
        tol = half
        if lo - half <= text <= hi + half or abs(text - computed) <= unit:
            self.emit(rule, kind + "-residue", st, level="residue", cells=cells, expected=computed, actual=text,
                      tolerance=unit, part=part, whole=whole, **params)
            return
        self.emit(rule, kind, st, cells=cells, expected=computed, actual=text, tolerance=tol, part=part,
                  whole=whole, **params)

    def same(self, st: Statement) -> None:
        cur = self.fig(st.term)
        other = self.fig(st.term, st.aspect or "last")
        if cur is None or other is None:
            return
        if _q(cur.value, self.unit.display_decimals) != _q(other.value, self.unit.display_decimals):
            self.emit("N.direction", "narrative-same", st, cells=(*cur.cells, *other.cells), expected=other.value,
                      actual=cur.value, aspect=_aspect(st.aspect or "last"))

    def share(self, st: Statement) -> None:
        part = self.fig(st.term)
        whole = self.fig(st.whole) if st.whole is not None else self.fig(st.term, "whole")
        if part is None or whole is None or not whole.value:
            return
        self._rate_compare("N.share", st, part.value, whole.value, part.half, whole.half, (*part.cells, *whole.cells),
                           self.printed(st), kind="narrative-share")

    def completion(self, st: Statement) -> None:
        cur = self.fig(st.term)
        base = self.fig(st.term, st.aspect or self.v.completion_base)
        if cur is None or base is None:
            return
        text = self.printed(st)
        if base.value == 0:
            alt = []
            for a in ("initial", "adjusted"):
                other = self.fig(st.term, a)
                if a != st.aspect and other is not None and other.value and \
                        _q(_ratio(cur.value, other.value), st.decimals) == text:
                    alt.append(f"{_aspect(a)} {other.value}")
            self.emit("N.completion", "narrative-completion-zero", st, cells=(*cur.cells, *base.cells),
                      actual=text, aspect=_aspect(st.aspect), current=cur.value,
                      matches="、".join(alt) if alt else "—")
            return
        self._rate_compare("N.completion", st, cur.value, base.value, cur.half, base.half, (*cur.cells, *base.cells),
                           text, kind="narrative-completion", aspect=_aspect(st.aspect))

    def count(self, st: Statement) -> None:
        if st.term is not None:
            fig = self.fig(st.term, "count")
            got = fig.value if fig is not None else None
        else:
            assert st.count is not None
            got = self.f.count(st.count)
        if got is None or st.value is None or got == st.value:
            return
        self.emit("N.count", "narrative-count", st, expected=got, actual=st.value, words=st.words)

    def none(self, st: Statement) -> None:
        figs: list[Figure] = []
        if st.none is not None:
            figs = [self.f.expr(e) for e in st.none.figures]
        elif st.term is not None and st.term.relation == "equal":
            got = self.fig(st.term)
            figs = [got] if got is not None else []
        for fig in figs:
            if fig.known and fig.value:
                self.emit("N.none", "narrative-none", st, cells=fig.cells, actual=fig.value, expected=ZERO,
                          words=st.words)
                return

    def list(self, st: Statement) -> None:
        assert st.term is not None and st.term.list is not None
        rows = self.f.list_items(st.term.list)
        named: set[str] = set()
        for item in st.items:
            hit = [(label, fig) for label, fig in rows if label == item] or \
                  [(label, fig) for label, fig in rows if item in label or label in item]
            if hit:
                named.add(hit[0][0])
            if not hit or not any(fig.value for _, fig in hit):
                cells = hit[0][1].cells if hit else ()
                self.emit("N.list", "narrative-list-item", st, cells=cells, item=item,
                          actual=hit[0][1].value if hit else None)
        missing = [label for label, fig in rows if fig.value and label not in named]
        if missing:
            self.emit("N.list", "narrative-list-missing", st, level="residue", items=missing)

    def purpose(self, st: Statement, statements: Sequence[Statement]) -> None:
        term = st.term
        assert term is not None
        if term.label in st.words:
            return
        others = [t.label for t in self.f.row_terms() if t.table == term.table and t.level == term.level
                  and t.label != term.label and len(t.label) >= 4]
        for label in others:
            if label in st.words:
                self.emit("N.purpose", "narrative-purpose", st, purpose=st.words, other=label)
                return

    def breakdowns(self, statements: Sequence[Statement]) -> None:
        groups: dict[tuple[int, str], list[Statement]] = {}
        for st in statements:
            if st.kind != "share" or st.term is None:
                continue
            whole = st.whole.exprs["value"] if st.whole is not None else st.term.exprs.get("whole")
            if whole is None:
                continue
            groups.setdefault((st.sentence.paragraph, whole), []).append(st)
        for (_, whole), sts in groups.items():
            terms = {id(s.term): s for s in sts}
            if len(terms) < 2:
                continue
            wfig = self.f.expr(whole)
            parts = [self.fig(s.term) for s in terms.values()]
            if any(p is None for p in parts) or not wfig.value:
                continue
            total = sum((p.value for p in parts if p is not None), ZERO)
            halves = sum((p.half for p in parts if p is not None), ZERO) + wfig.half
            if abs(total - wfig.value) > halves:
                continue            # not a complete breakdown
            printed = sum((self.printed(s) for s in terms.values()), ZERO)
            n = len(terms)
            d = max(s.decimals for s in sts)
            tol = n * Decimal(5) * Decimal(10) ** -(d + 1)
            if abs(printed - HUNDRED) > tol:
                self.emit("N.breakdown", "narrative-breakdown", sts[0], cells=wfig.cells, expected=HUNDRED,
                          actual=printed, tolerance=tol, n=n)


def _name(term: Term) -> str:
    return term.label


_ASPECT_ZH = {"value": "本数", "last": "上年数", "whole": "总数", "initial": "年初预算", "adjusted": "全年预算"}


def _aspect(a: str | None) -> str:
    return _ASPECT_ZH.get(a or "value", a or "")


def check_statements(figures: Figures, vocab: Vocabulary, statements: Sequence[Statement]) -> list[Finding]:
    return Checker(figures, vocab).run(statements)
