"""Excel number formats shared by the writers."""

from __future__ import annotations


def amount_format(decimals: int, blank_zero: bool = True) -> str:
    """Number format of an amount printed with ``decimals`` decimals (zero shown blank unless told otherwise)."""
    body = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return f'{body};-{body};"";@' if blank_zero else body
