"""Project texts: what a project's 资金分配 and its 绩效目标 say about the same money.

* ``N.allocation``  the amounts of a project's 资金分配 add up to its 年度预算总额 (within rounding)
* ``N.cost-cap``    each cost indicator (成本指标 ≤ X 万元) is not below the amount allocated to the same use
* ``N.cost-items``  an allocation that the cost indicators split or describe otherwise (“购买保险、车辆购置税
                    2 万元” against “车辆上牌及保险费用 ≤ 0.80 万元” and “车辆贴膜、坐垫等其他费用 ≤ 1.20 万元”)

An indicator is tied to an allocation item by its words: first one with the same amount that shares a
word, then the one sharing the most words (two-character pieces, leaving out the set's generic words, with
its synonyms applied), then the item whose money the indicators so far leave uncovered. Where the document
keeps them is declared in the set's ``vocabulary.toml`` ([projects]).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from msgspec import Struct, field

from ..findings import Finding
from ..model import to_decimal
from .rules import Checker
from .sources import normalise
from .vocabulary import Figures, ProjectTexts, Vocabulary

__all__ = ["check_projects"]

CAP = re.compile(r"(＜=|<=|≤|≦|＜|<|=|＝)?\s*(\d+(?:\.\d+)?)\s*万元")
ZERO = Decimal(0)


class Item(Struct):
    name: str
    amount: Decimal
    cell: str
    caps: list["Cap"] = field(default_factory=list)


class Cap(Struct):
    name: str
    value: str
    limit: Decimal
    cell: str
    item: Item | None = None


def _pieces(text: str, p: ProjectTexts) -> set[str]:
    t = normalise(text)
    for a, b in p.synonyms.items():
        t = t.replace(a, b)
    for g in p.generic:
        t = t.replace(g, "|")
    t = re.sub(r"[（(][^）)]*[）)]", "|", t)         # units in brackets: （万元）
    t = re.sub(r"[\W\d_]+", "|", t)
    return {t[i:i + 2] for i in range(len(t) - 1) if "|" not in t[i:i + 2]}


def _cell(figures: Figures, table: str, row: str, col: str) -> str:
    t = figures.layout.tables.get(table)
    if t is None or row not in t.rows or (t.rows[row].block, col) not in t.colpos:
        return t.sheet if t is not None else table
    return t.ref(row, col)


def _records(figures: Figures, path: tuple[str, ...], key: str) -> list[dict[str, Any]]:
    got = figures.doc(path, project=key)
    return [r for r in got or () if isinstance(r, dict)]


def check_projects(figures: Figures, vocab: Vocabulary) -> list[Finding]:
    p = vocab.projects
    if p is None:
        return []
    checker = Checker(figures, vocab)
    for proj in figures.b.spec.projects:
        table = p.table.format(project=proj.key)
        block = p.allocation[-1]
        items = []
        for i, rec in enumerate(_records(figures, p.allocation, proj.key)):
            amount = to_decimal(rec.get("amount"))
            if amount is not None and str(rec.get("item") or "").strip():
                items.append(Item(str(rec["item"]).strip(), amount.quantize(checker.unit.quantum),
                                  _cell(figures, table, f"{block}_{i}", "amount")))
        if not items:
            continue
        _allocation(checker, figures, p, proj, items, table)
        caps = []
        iblock = p.indicators[-1]
        for i, rec in enumerate(_records(figures, p.indicators, proj.key)):
            levels = f"{rec.get('level1') or ''}{rec.get('level2') or ''}"
            if not any(w in levels for w in p.cost_words):
                continue
            m = CAP.search(str(rec.get("value") or ""))
            if m is None or m.group(1) not in ("＜=", "<=", "≤", "≦", "＜", "<"):
                continue
            caps.append(Cap(str(rec.get("name") or "").strip(), str(rec.get("value")).strip(), Decimal(m.group(2)),
                            _cell(figures, table, f"{iblock}_{i}", "value")))
        if caps:
            _assign(items, caps, p)
            _compare(checker, proj, items, p)
    return checker.findings


def _allocation(checker: Checker, figures: Figures, p: ProjectTexts, proj: Any, items: list[Item], table: str) -> None:
    budget = figures.expr(p.budget, project=proj.key)
    if not budget.known:
        return
    total = sum((i.amount for i in items), ZERO)
    tol = (len(items) + 1) * checker.unit.half
    if abs(total - budget.value) > tol:
        checker.emit("N.allocation", "narrative-allocation", None, where=items[0].cell,
                     cells=(*budget.cells, *(i.cell for i in items)), expected=budget.value, actual=total,
                     tolerance=tol, project_name=proj.name, items="、".join(f"{i.name} {i.amount}" for i in items))


def _assign(items: list[Item], caps: list[Cap], p: ProjectTexts) -> None:
    words = {id(i): _pieces(i.name, p) for i in items}
    for c in caps:                              # the same amount and a shared word
        cw = _pieces(c.name, p)
        same = [i for i in items if i.amount == c.limit and words[id(i)] & cw]
        if len(same) == 1:
            c.item = same[0]
    for c in caps:                              # the most shared words
        if c.item is not None:
            continue
        cw = _pieces(c.name, p)
        scored = sorted(((len(words[id(i)] & cw), n, i) for n, i in enumerate(items)), key=lambda x: (-x[0], x[1]))
        if scored and scored[0][0] > 0 and (len(scored) == 1 or scored[1][0] < scored[0][0]):
            c.item = scored[0][2]
    for c in caps:                              # the money the caps so far leave uncovered
        if c.item is not None:
            continue
        tied = [i for i in items if any(x.item is i for x in caps)]
        fits = [i for i in tied if i.amount - sum((x.limit for x in caps if x.item is i), ZERO) == c.limit]
        if len(fits) == 1:
            c.item = fits[0]
    for c in caps:
        if c.item is not None:
            c.item.caps.append(c)


def _compare(checker: Checker, proj: Any, items: list[Item], p: ProjectTexts) -> None:
    for item in items:
        if not item.caps:
            continue
        limit = sum((c.limit for c in item.caps), ZERO)
        if item.amount > limit:
            checker.emit("N.cost-cap", "narrative-cost-cap", None, where=item.cell,
                         cells=tuple(c.cell for c in item.caps), expected=limit, actual=item.amount,
                         project_name=proj.name, item=item.name,
                         indicator="、".join(c.name for c in item.caps),
                         cap="＋".join(c.value for c in item.caps))
            continue
        if len(item.caps) < 2:
            continue
        # one allocation that the indicators split: do their words say what the allocation says?
        mine = [w for w in re.split(r"[、，,及和与]", normalise(item.name)) if w]
        theirs = set().union(*(_pieces(c.name, p) for c in item.caps))
        unsaid = [w for w in mine if not (_pieces(w, p) & theirs)]
        extra = [c.name for c in item.caps if not (_pieces(c.name, p) & _pieces(item.name, p))]
        if unsaid or extra:
            detail = "；".join(x for x in (
                ("资金分配中的“" + "、".join(unsaid) + "”在成本指标中没有") if unsaid else "",
                ("成本指标中的“" + "、".join(extra) + "”在资金分配中没有") if extra else "") if x)
            checker.emit("N.cost-items", "narrative-cost-items", None, where=item.cell,
                         cells=tuple(c.cell for c in item.caps), expected=limit, actual=item.amount,
                         project_name=proj.name, item=item.name, detail=detail,
                         indicators=" ＋ ".join(f"“{c.name} {c.value}”" for c in item.caps))
