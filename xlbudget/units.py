"""Money units of the table sets and exact conversion between them (Decimal, never float)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from .errors import DescriptionError

if TYPE_CHECKING:
    from .tableset import TableDesc, TableSet

__all__ = ["UNITS", "factor", "convert", "figure_unit", "figure_decimals"]

UNITS = {"元": Decimal(1), "万元": Decimal(10000)}


def factor(unit: str) -> Decimal:
    """The size of ``unit`` in 元."""
    try:
        return UNITS[unit]
    except KeyError:
        raise DescriptionError(f"未知的金额单位 {unit!r}，可选：{'、'.join(UNITS)}") from None


def convert(value: Decimal, from_unit: str, to_unit: str) -> Decimal:
    """``value`` in ``from_unit`` expressed exactly in ``to_unit``."""
    if from_unit == to_unit:
        return value
    return value * factor(from_unit) / factor(to_unit)


def figure_unit(desc: "TableDesc", column: str | None, ts: "TableSet") -> str:
    """The unit a column of a table is entered and printed in (the column's, else the table's, else the set's)."""
    precision = getattr(desc, "precision", None)
    if precision is not None:
        return precision(column).unit
    return ts.unit


def figure_decimals(desc: "TableDesc", column: str | None, ts: "TableSet") -> int:
    """The decimals a column of a table is printed with."""
    precision = getattr(desc, "precision", None)
    if precision is not None:
        return precision(column).display_decimals
    return ts.display_decimals
