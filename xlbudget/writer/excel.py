"""Excel number formats and formula string literals shared by the writers."""

from __future__ import annotations


def amount_format(decimals: int, blank_zero: bool = True) -> str:
    """Number format of an amount printed with ``decimals`` decimals (zero shown blank unless told otherwise)."""
    body = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return f'{body};-{body};"";@' if blank_zero else body


LITERAL_MAX = 255  # Excel's limit on one string literal in a formula


def text(value: str) -> str:
    """A string as an Excel formula literal: in quotes, every quote doubled, so that text from a spec or an
    option (a department named ``X"&HYPERLINK(…)&"``) stays text and never becomes part of the formula;
    longer than Excel's 255 characters, it is joined from pieces with ``&``. Every string placed in a
    formula goes through here."""
    s = str(value)
    pieces = [s[i:i + LITERAL_MAX] for i in range(0, len(s), LITERAL_MAX)] or [""]
    return "&".join('"' + p.replace('"', '""') + '"' for p in pieces)
