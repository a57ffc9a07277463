"""LibreOffice recomputes a written workbook: every formula cell against the value written with it."""

from __future__ import annotations

import math
from pathlib import Path

import openpyxl


def written_vs_recalculated(path: Path, tmp_path: Path) -> tuple[int, list[tuple[str, str, object, object]]]:
    """(number of formula cells, the cells whose recalculated value differs from the written one)."""
    from xlbudget import libreoffice as lo

    formulas = openpyxl.load_workbook(path)
    values = openpyxl.load_workbook(path, data_only=True)
    written = {(ws.title, c.coordinate): values[ws.title][c.coordinate].value
               for ws in formulas.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"}
    again = openpyxl.load_workbook(lo.convert(path, tmp_path, "xlsx", recalc=True), data_only=True)
    bad = []
    for (sheet, coord), want in written.items():
        got = again[sheet][coord].value
        if isinstance(want, (int, float)) and isinstance(got, (int, float)):
            same = math.isclose(want, got, abs_tol=1e-9)
        else:
            same = (want if want is not None else "") == (got if got is not None else "")
        if not same:
            bad.append((sheet, coord, want, got))
    return len(written), bad
