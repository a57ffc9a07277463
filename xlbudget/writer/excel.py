"""Excel number formats, formula string literals and the worksheet class shared by the writers."""

from __future__ import annotations

import xlsxwriter.worksheet


def amount_format(decimals: int, blank_zero: bool = True) -> str:
    """Number format of an amount printed with ``decimals`` decimals (zero shown blank unless told otherwise)."""
    body = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return f'{body};-{body};"";@' if blank_zero else body


class PortableSheet(xlsxwriter.worksheet.Worksheet):
    """Our formulas use only SUM/ROUND/IF/ABS-level functions (portable to Excel 2007+, WPS and LibreOffice),
    never Excel's future functions, so XlsxWriter's per-formula expansion of ~100 future-function names
    (a regex each, most of the writing time of a large template) is skipped."""

    def _prepare_formula(self, formula, expand_future_functions=False):  # noqa: D401 - XlsxWriter hook
        if formula.startswith("{"):
            formula = formula[1:]
        if formula.startswith("="):
            formula = formula[1:]
        if formula.endswith("}"):
            formula = formula[:-1]
        return formula


# every string placed in a formula: one helper, in the module that writes formula text
from ..formulas import LITERAL_MAX, text  # noqa: E402,F401
