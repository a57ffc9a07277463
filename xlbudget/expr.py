"""Tiny expression language of the table descriptions.

A formula in a description is a signed sum of references::

    basic + project            columns of the same row
    total.gp                   row ``total``, column ``gp`` of the same table
    T2.total.gp - T2.total.gp_transfer   cells of another table

Row and column keys never contain dots, plus or minus signs, so the grammar is unambiguous.
The same parsed expression is evaluated in Python (``Decimal``) and translated to an Excel
formula by the layout, so the arithmetic is declared once.
"""

from __future__ import annotations

import functools
import re
from typing import Callable

from msgspec import Struct

from .errors import DescriptionError

_CJK = "\\u4e00-\\u9fff"  # the range of CJK characters in a class of the patterns below, as written there


def pattern_for_text(pattern: str) -> Callable[[str], re.Pattern[str]]:
    """``pattern`` (whose classes admit the CJK characters ``_CJK``) compiled for a text: without them for a
    text of ASCII only (every description shipped), compiled at once; whole for a text with other characters,
    compiled when the first such text comes. The regex compiler spends about 1.5 ms on each class of CJK
    characters, at every start of a process."""
    if _CJK not in pattern:
        raise ValueError(f"no CJK class in {pattern!r}")
    ascii_only = re.compile(pattern.replace(_CJK, ""))
    whole = functools.lru_cache(maxsize=1)(lambda: re.compile(pattern))
    return lambda text: ascii_only if text.isascii() else whole()


_token = pattern_for_text(
    r"\s*([+-])?\s*([A-Za-z0-9_:{}\u4e00-\u9fff]+(?:\.[A-Za-z0-9_:{}\u4e00-\u9fff*]+){0,2})\s*")


class Ref(Struct, frozen=True):
    """A reference to one cell: table and row may be None (meaning: the current one)."""

    table: str | None
    row: str | None
    col: str

    def resolve(self, table: str, row: str) -> "Ref":
        if self.table and self.row:  # names its cell in full: itself
            return self
        return Ref(self.table or table, self.row or row, self.col)

    def __str__(self) -> str:
        return ".".join(p for p in (self.table, self.row, self.col) if p)


class Term(Struct, frozen=True):
    """One signed operand of an expression: ``+表6.合计.合计`` is (1, that reference)."""

    sign: int
    ref: Ref


class Expr(Struct, frozen=True):
    """A parsed expression: the signed sum of its terms, and the text it was parsed from."""

    terms: tuple[Term, ...]
    text: str

    def refs(self) -> list[Ref]:
        return [t.ref for t in self.terms]

    def substitute(self, **values: str) -> "Expr":
        return parse(self.text.format(**values))


def parse(text: str) -> Expr:
    """Parse ``text`` into an :class:`Expr`; raise DescriptionError on anything else."""
    expr = _PARSED.get(text)
    if expr is None:
        expr = _parse(text)
        if len(_PARSED) >= 4096:
            _PARSED.clear()
        _PARSED[text] = expr
    return expr


_PARSED: dict[str, Expr] = {}  # expressions are immutable: every layout of a set parses the same texts


def _parse(text: str) -> Expr:
    pos = 0
    terms: list[Term] = []
    text = text.strip()
    if not text:
        raise DescriptionError("empty formula")
    token = _token(text)
    while pos < len(text):
        m = token.match(text, pos)
        if not m or m.end() == pos:
            raise DescriptionError(f"cannot parse formula {text!r} at {pos}")
        sign_s, ref_s = m.group(1), m.group(2)
        if terms and not sign_s:
            raise DescriptionError(f"missing operator in formula {text!r}")
        parts = ref_s.split(".")
        if len(parts) == 1:
            ref = Ref(None, None, parts[0])
        elif len(parts) == 2:
            ref = Ref(None, parts[0], parts[1])
        else:
            ref = Ref(parts[0], parts[1], parts[2])
        terms.append(Term(-1 if sign_s == "-" else 1, ref))
        pos = m.end()
    return Expr(tuple(terms), text)
