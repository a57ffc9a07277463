"""Where each cell of the template is in a workbook in an official layout.

A finding names template cells (``表3!E9``); the check shows them as the real cells of the real file
(``部门支出总表!E12``). :class:`CellMap` answers that for the cells asked about, from the rows the reader
placed: what it keeps per row is what the reader has anyway, and a check asks for the cells of its findings
only, not for the thousands of cells a large workbook has.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ..layout import col_letter

_CELL = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")
_UNSEEN = object()


class CellMap(Mapping):
    """Template cell -> real cell. A figure's cell is where the last row placed there has it; a text's (a
    code or a name) where the first one has it; a table's ``A1`` its title cell."""

    def __init__(self) -> None:
        self._titles: dict[str, str] = {}                      # "表3!A1" -> the title cell
        # template sheet -> template row (1-based) -> the rows placed there, in order: (sheet row of the file,
        # its sheet, its figures: column key -> (value, sheet column), its texts: column key -> sheet column,
        # and the template's columns: letter -> column key)
        self._rows: dict[str, dict[int, list[tuple[int, str, dict[str, tuple[Any, int]], dict[str, int],
                                                   dict[str, str]]]]] = {}
        self._all: dict[str, str] | None = None
        self._seen: dict[str, str | None] = {}                 # the cells asked for (a finding's, mostly)

    # --- filled by the reader ----------------------------------------------------------------------------
    def title(self, sheet: str, real: str) -> None:
        self._titles[f"{sheet}!A1"] = real
        self._changed()

    def table(self, sheet: str) -> dict[int, list]:
        """The rows of a template sheet, for :meth:`place`."""
        return self._rows.setdefault(sheet, {})

    def place(self, rows: dict[int, list], trow: int, r: int, sheet: str, figures: dict[str, tuple[Any, int]],
              texts: dict[str, int], columns: dict[str, str]) -> None:
        """A row of the file (0-based ``r`` on ``sheet``) placed at template row ``trow`` (1-based) of the
        :meth:`table` ``rows``: its figures (column key -> (value, sheet column)), the sheet columns of its
        texts, and the template columns of its block (letter -> column key)."""
        if self._seen or self._all is not None:
            self._changed()
        got = rows.get(trow)
        if got is None:
            rows[trow] = [(r, sheet, figures, texts, columns)]
        else:
            got.append((r, sheet, figures, texts, columns))

    def _changed(self) -> None:
        self._all = None
        self._seen.clear()

    # --- the mapping -------------------------------------------------------------------------------------
    def _find(self, key: str) -> str | None:
        try:
            return self._seen[key]
        except KeyError:
            pass
        got = self._seen[key] = self._lookup(key)
        return got

    def _lookup(self, key: str) -> str | None:
        sheet, bang, ref = key.rpartition("!")
        m = _CELL.fullmatch(ref) if bang else None
        placed = self._rows.get(sheet, {}).get(int(m.group(2))) if m and m.group(2)[0] != "0" else None
        if not placed:
            return self._titles.get(key)
        letter = m.group(1)  # type: ignore[union-attr]
        for r, real, figures, _, columns in reversed(placed):  # a figure: the last row placed there
            got = figures.get(columns.get(letter))  # type: ignore[arg-type]
            if got is not None:
                return f"{real}!{col_letter(got[1])}{r + 1}"
        if key in self._titles:
            return self._titles[key]
        for r, real, _, texts, columns in placed:  # a text: the first
            c = texts.get(columns.get(letter))  # type: ignore[arg-type]
            if c is not None:
                return f"{real}!{col_letter(c)}{r + 1}"
        return None

    def __getitem__(self, key: str) -> str:
        got = self._find(key) if isinstance(key, str) else None
        if got is None:
            raise KeyError(key)
        return got

    def get(self, key: Any, default: Any = None) -> Any:  # what the check asks, once per cell of a finding
        if not isinstance(key, str):
            return default
        got = self._seen.get(key, _UNSEEN)
        if got is _UNSEEN:
            got = self._seen[key] = self._lookup(key)
        return default if got is None else got

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._find(key) is not None

    def __bool__(self) -> bool:
        return bool(self._titles) or any(self._rows.values())

    def _every(self) -> dict[str, str]:
        if self._all is None:
            out = dict(self._titles)
            for sheet, rows in self._rows.items():
                for trow, placed in rows.items():
                    for letter in {letter for *_, columns in placed for letter in columns}:
                        got = self._find(f"{sheet}!{letter}{trow}")
                        if got is not None:
                            out[f"{sheet}!{letter}{trow}"] = got
            self._all = out
        return self._all

    def __iter__(self) -> Iterator[str]:
        return iter(self._every())

    def __len__(self) -> int:
        return len(self._every())

    def __reduce__(self):
        return dict, (self._every(),)  # travels (to a build's parent process) as the plain mapping
