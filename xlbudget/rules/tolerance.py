"""Tolerance of a reconciliation: interval arithmetic (default) or a fixed bound.

Every published figure is rounded half-up to ``decimals`` on its own, so it stands for an interval of
half a unit either side (±0.005 at 2 decimals). A relation between n published figures (a parent and its
n-1 children, or the two sides of a cross-table rule) can only be told false when the difference exceeds
n × 0.005: that is the interval mode (Arelle calc 1.1, EBA). The fixed mode compares against one bound
whatever the number of figures (``fixed:0.01``).

Blank cells are exact zeros (nothing was rounded), so they do not widen the interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

__all__ = ["Tolerance"]


@dataclass(frozen=True)
class Tolerance:
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
