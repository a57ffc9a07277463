"""Tolerance of a reconciliation: interval arithmetic (default) or a fixed bound.

Every published figure is rounded half-up to ``decimals`` on its own, so it stands for an interval of
half a unit either side (±0.005 at 2 decimals). A relation between n published figures (a parent and its
n-1 children, or the two sides of a cross-table rule) can only be told false when the difference exceeds
n × 0.005: that is the interval mode (Arelle calc 1.1, EBA). The fixed mode compares against one bound
whatever the number of figures (``fixed:0.01``).

Each figure carries the precision of its table or column (:class:`~xlbudget.tableset.Precision`): a 万元
figure printed to 2 decimals stands for ±0.005 万元, an 元 figure to 2 decimals for ±0.005 元. A relation
across units is judged in one unit (the left side's): each figure's half-unit is converted into it exactly
and the bound is their sum (``bound_for``).

Blank cells are exact zeros (nothing was rounded), so they do not widen the interval.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Sequence

from msgspec import Struct

from ..tableset import Precision

__all__ = ["EXACT", "Tolerance"]


class Tolerance(Struct, frozen=True):
    """``mode`` is "interval" or "fixed"; ``amount`` is the half unit per figure or the fixed bound."""

    mode: str
    amount: Decimal

    @classmethod
    def parse(cls, text: "str | Tolerance | None", decimals: int = 2) -> "Tolerance":
        """``"interval"`` (the default), ``"fixed:0.01"`` or ``"exact"`` (fixed 0). Raises ValueError."""
        if isinstance(text, Tolerance):
            return text
        raw = (text or "interval").strip().lower()
        if raw == "interval":
            return cls("interval", Decimal(5).scaleb(-(decimals + 1)))
        if raw == "exact":
            return cls("fixed", Decimal(0))
        kind, sep, value = raw.partition(":")
        if kind == "fixed" and sep:
            try:
                amount = Decimal(value.strip())
            except InvalidOperation:
                amount = Decimal(-1)
            from ..parse import in_range

            if in_range(amount) and amount >= 0:  # bounded like every figure: no absurd exponent
                return cls("fixed", amount)
        raise ValueError(f"容差应为 interval、exact 或 fixed:数值（例如 fixed:0.01），而不是 {text!r}")

    def bound(self, figures: int) -> Decimal:
        """The largest difference that rounding can explain between ``figures`` published figures."""
        if self.mode == "interval":
            return self.amount * max(figures, 0)
        return self.amount

    def bound_for(self, figures: Sequence[Precision], unit: Precision) -> Decimal:
        """The largest difference rounding can explain between published figures of the given precisions,
        in the unit of ``unit``: the sum of their half-units converted (interval), or the fixed bound."""
        if self.mode != "interval":
            return self.amount
        if figures and len(set(map(id, figures))) == 1:  # the common case: one precision object for them all
            return Decimal(0) + figures[0].convert(figures[0].half, unit) * len(figures)
        total, last, half = Decimal(0), None, Decimal(0)
        for p in figures:  # the figures of a comparison mostly share one precision object
            if p is not last:
                last, half = p, p.convert(p.half, unit)
            total += half
        return total

    def describe_for(self, figures: Sequence[Precision], unit: Precision, lang: str = "zh") -> str:
        """How ``bound_for`` was obtained, for messages (as ``describe`` when every figure is in ``unit``)."""
        return self.explain_for(figures, unit)[1 if lang != "en" else 2]

    def explain_for(self, figures: Sequence[Precision], unit: Precision) -> tuple[Decimal, str, str]:
        """``bound_for`` with ``describe_for`` in Chinese and in English (the figures counted once)."""
        if self.mode == "interval" and figures and len(set(map(id, figures))) == 1:
            # the common case, once per kind of comparison: n figures of one precision (a sum of n-1 rows)
            p = figures[0]
            key = (p.unit, p.display_decimals, len(figures), unit.unit)
            got = _EXPLAINED.get(key)
            if got is None:
                if len(_EXPLAINED) >= 4096:
                    _EXPLAINED.clear()
                got = _EXPLAINED[key] = self._explain(figures, unit)
            return got
        return self._explain(figures, unit)

    def _explain(self, figures: Sequence[Precision], unit: Precision) -> tuple[Decimal, str, str]:
        bound = self.bound_for(figures, unit)
        halves: dict[tuple[str, Decimal], int] = {}
        if figures and len(set(map(id, figures))) == 1:
            halves[(figures[0].unit, figures[0].half)] = len(figures)
        else:
            last, key = None, None
            for p in figures:
                if p is not last:
                    last, key = p, (p.unit, p.half)
                halves[key] = halves.get(key, 0) + 1  # type: ignore[index]
        n = len(figures)
        if self.mode != "interval" or not halves:
            return bound, self.describe(n, "zh"), self.describe(n, "en")
        if len(halves) == 1 and next(iter(halves))[0] == unit.unit:
            half = next(iter(halves))[1]
            return bound, f"区间法：{n} 个数各 ±{half}", f"interval: {n} figures, ±{half} each"
        total = bound.normalize()
        zh = "、".join(f"{k} 个各 ±{h} {u}" for (u, h), k in halves.items())
        en = " + ".join(f"{k} × ±{h} {u}" for (u, h), k in halves.items())
        return (bound, f"区间法：{n} 个数，{zh}，合计 ±{total} {unit.unit}",
                f"interval: {n} figures, {en} = ±{total} {unit.unit}")

    def describe(self, figures: int, lang: str = "zh") -> str:
        """How the bound was obtained, for messages."""
        if self.mode == "interval":
            if lang == "en":
                return f"interval: {figures} figures, ±{self.amount} each"
            return f"区间法：{figures} 个数各 ±{self.amount}"
        if lang == "en":
            return f"fixed tolerance {self.amount}"
        return f"固定容差 {self.amount}"

    def __str__(self) -> str:
        return "interval" if self.mode == "interval" else f"fixed:{self.amount}"


EXACT = Tolerance("fixed", Decimal(0))
# explain_for of n figures of one precision in the interval mode, by (their unit, their decimals, n, the unit
# of comparison): all that its bound and texts depend on
_EXPLAINED: dict[tuple[str, int, int, str], tuple[Decimal, str, str]] = {}
