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
from dataclasses import dataclass

from .errors import DescriptionError

_TOKEN_TEXT = r"\s*([+-])?\s*([A-Za-z0-9_:{}\u4e00-\u9fff]+(?:\.[A-Za-z0-9_:{}\u4e00-\u9fff*]+){0,2})\s*"
# The same pattern for a text of ASCII only (every description shipped), compiled at once; the whole one is
# compiled when a text with other characters comes: the regex compiler spends about 3 ms on its two classes of
# CJK characters, a tenth of what a process spends importing the checker.
_TOKEN_ASCII = re.compile(_TOKEN_TEXT.replace("\\u4e00-\\u9fff", ""))


@functools.lru_cache(maxsize=1)
def _token_any() -> re.Pattern[str]:
    return re.compile(_TOKEN_TEXT)


@dataclass(frozen=True)
class Ref:
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


@dataclass(frozen=True)
class Term:
    sign: int
    ref: Ref


@dataclass(frozen=True)
class Expr:
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
    token = _TOKEN_ASCII if text.isascii() else _token_any()
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
