"""Tolerant parsing of what accountants type into cells."""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

EMPTY_MARKS = {"", "-", "—", "－", "--", "——", "/", "无", "nan"}
_NUM = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
# Every number read from a cell is bounded here, before any arithmetic: an amount is smaller than 10^15 in its
# table's unit (all of a country's budget, in 元, is about 10^13), carries at most MAX_DIGITS significant
# digits and nothing below 10^-MIN_EXPONENT. Anything else is "range": a clear finding, never an exception.
MAX_ABS = Decimal("1e15")
MAX_DIGITS = 30
MIN_EXPONENT = 20
MAX_TEXT = 64  # longer text cannot be a number an accountant typed
_ZERO = Decimal(0)


def _nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s)


def parse_amount(value: object) -> tuple[Decimal | None, str]:
    """Parse a cell value into a Decimal.

    Returns (value, how) where how is "number" (a real number cell), "text" (a number typed as text and
    recovered), "empty" (blank or a dash), "bad" (text that is not a number; value None) or "range" (a number
    outside what a budget figure can be, see ``MAX_ABS``; value None).
    """
    d, how = _parse_amount(value)
    if d is not None and not in_range(d):
        return None, "range"
    return d, how


def in_range(d: Decimal) -> bool:
    """A finite number smaller than MAX_ABS, with at most MAX_DIGITS digits and none below 10^-MIN_EXPONENT."""
    if not d.is_finite():
        return False
    if d.is_zero():
        return True
    digits = "".join(map(str, d.as_tuple().digits)).rstrip("0")
    return abs(d) < MAX_ABS and d.adjusted() >= -MIN_EXPONENT and len(digits) <= MAX_DIGITS


def _parse_amount(value: object) -> tuple[Decimal | None, str]:
    if value is None:
        return None, "empty"
    if isinstance(value, bool):
        return None, "bad"
    if isinstance(value, int):
        return (Decimal(value), "number") if abs(value) < MAX_ABS else (None, "range")
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None, "bad"
        return Decimal(repr(value)), "number"
    if isinstance(value, Decimal):
        return value, "number"
    s = str(value)
    if len(s) > MAX_TEXT * 4:
        return None, "bad"
    s = _nfkc(s).strip()
    s = "".join(ch for ch in s if not ch.isspace())
    if s.lower() in EMPTY_MARKS:
        return None, "empty"
    s = s.replace(",", "").replace("，", "").replace("万元", "").replace("元", "")
    neg = False
    if s.startswith("(") and s.endswith(")"):
        s, neg = s[1:-1], True
    if len(s) <= MAX_TEXT and _NUM.match(s):
        try:
            d = Decimal(s)
        except InvalidOperation:
            return None, "bad"
        if not in_range(d):
            return None, "range"
        return (Decimal(0) if d.is_zero() else -d if neg else d), "text"
    if _NUM.match(s):
        return None, "range"
    return None, "bad"


def clean_float(d: Decimal, places: int = 10) -> Decimal:
    """Drop binary floating-point noise (0.30000000000000004 -> 0.3) without touching real digits."""
    if d == d.to_integral_value():
        return d.quantize(Decimal(1)) if d.as_tuple().exponent < 0 else d
    r = d.quantize(Decimal(1).scaleb(-places))
    return r.normalize() if r != 0 else Decimal(0)


def decimals_of(d: Decimal) -> int:
    exp = d.normalize().as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 0


# Number cells (a float or an int as the cell readers give them) by a quick path for the usual figures
QUICK_SMALLEST, QUICK_LARGEST = 1e-12, 1e14  # floats inside these are exact in 17 digits and in every bound
_NEGATIVE_ZERO = Decimal("-0")  # what clean_float makes of -0.0


def parse_number(v: float | int) -> Decimal | None:
    """``clean_float(parse_amount(v))`` of a number cell, quick for the usual figures; None where
    ``parse_amount`` would not call it a number."""
    if v.__class__ is int:
        return Decimal(v) if abs(v) < MAX_ABS else None
    if v == 0:
        return _ZERO if math.copysign(1.0, v) > 0 else _NEGATIVE_ZERO
    if QUICK_SMALLEST <= abs(v) < QUICK_LARGEST:  # finite, inside every bound, at most 17 digits
        if v.is_integer():
            return Decimal(int(v))
        text = repr(v)
        if "e" not in text and len(text) - text.index(".") <= 11:  # at most 10 decimals: nothing to clean
            return Decimal(text)
    d, how = parse_amount(v)
    return clean_float(d) if how == "number" and d is not None else None


def number_places(raw: Any, d: Decimal) -> int:
    """``decimals_of(d)`` of the Decimal ``parse_number`` read from ``raw``, quick for a number cell."""
    if raw.__class__ is float:
        if raw.is_integer():
            return 0
        text = repr(raw)
        if "e" not in text:
            places = len(text) - text.index(".") - 1
            if places <= 10:  # then d is the float's shortest text (see parse_number)
                return places
    elif raw.__class__ is int:
        return 0
    return decimals_of(d)


def parse_int(value: object) -> tuple[int | None, str]:
    d, how = parse_amount(value)
    if d is None:
        return None, how
    if d != d.to_integral_value():
        return None, "bad"
    return int(d), how


def parse_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():  # never int() of a NaN or an infinity
        value = int(value)
    s = str(value).strip()
    return s or None


def parse_lines(value: object) -> list[str] | None:
    s = parse_text(value)
    if s is None:
        return None
    return [ln.strip() for ln in s.replace("\r\n", "\n").split("\n") if ln.strip()]


def parse_mapping(value: object) -> dict[str, str] | None:
    lines = parse_lines(value)
    if lines is None:
        return None
    out: dict[str, str] = {}
    for ln in lines:
        k, sep, v = ln.replace(":", "：").partition("：")
        if sep:
            out[k.strip()] = v.strip()
    return out


def normalize_formula(f: str) -> str:
    """Compare formulas across Excel, WPS and LibreOffice spellings."""
    f = f.strip()
    if f.startswith("="):
        f = f[1:]
    f = f.replace("$", "").replace("'", "").replace(" ", "")
    return f.upper()
