"""XlsxWriter packaging with the worksheets' XML assembled by two processes.

XlsxWriter writes the XML of every worksheet when the workbook is closed, one sheet after another; in a
disclosure with a sheet per project that is the largest single part of the writing. :class:`Packager`
(installed by a workbook's ``_get_packager``, XlsxWriter's hook for it) forks a child that assembles a
share of the sheets while this process assembles the others. Each sheet's text is what XlsxWriter
writes for it and the parts keep their order, so the file is the same as a serial one, byte for byte.

It is used on Linux (``fork``) for an in-memory workbook of at least :data:`MIN_SHEETS` sheets. The child
takes only sheets whose assembly changes nothing the packager reads afterwards (no hyperlinks, drawings,
comments or tables: their relationships are collected while their XML is written). XlsxWriter numbers
each format (its XF index) when a sheet's XML first uses it; the formats are numbered before the fork, in
the order a serial assembly would number them, so that both processes only read the numbers. If the child
fails (or would have numbered a format itself), this process assembles its sheets as well.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import sys
import tempfile
from io import StringIO
from typing import Any, BinaryIO

import xlsxwriter.packager

__all__ = ["MIN_SHEETS", "Packager"]

MIN_SHEETS = 64          # below this, a fork costs more than it saves


def _can_fork() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def _portable(ws: Any) -> bool:
    """A sheet whose XML another process may assemble: nothing of it is collected while it is written."""
    return not (ws.hyperlinks or ws.drawing or ws.has_comments or ws.has_vml or ws.tables or ws.charts
                or ws.images)


def _weight(ws: Any) -> int:
    return sum(len(cells) for cells in ws.table.values()) + len(ws.merge) + 50


def _index_formats(sheets: list[Any]) -> None:
    """Give every format the sheets use its XF index, in the order a serial assembly does.

    XlsxWriter numbers a format the first time a sheet's XML uses it (columns, then each row's format and
    cells, sheet after sheet); numbered here first, the two processes only read the numbers."""
    for ws in sheets:
        for col in sorted(ws.col_info):
            if ws.col_info[col].column_format:
                ws.col_info[col].column_format._get_xf_index()
        table, row_info = ws.table, ws.row_info
        for row in sorted(set(r for r, cells in table.items() if cells) | set(row_info) | set(ws.comments)):
            info = row_info.get(row)
            row_format = info.row_format if info is not None else None
            if row_format:
                row_format._get_xf_index()
            cells = table.get(row)
            if not cells:
                continue
            for col in sorted(cells):
                fmt = cells[col].format
                if fmt:
                    if fmt.xf_index is None:   # (numbered already: most cells)
                        fmt._get_xf_index()
                elif row_format:
                    row_format._get_xf_index()
                elif col in ws.col_info and ws.col_info[col].column_format is not None:
                    ws.col_info[col].column_format._get_xf_index()


def _assemble(ws: Any, fh: StringIO) -> None:
    ws._set_xml_writer(fh)
    ws._assemble_xml_file()


def _share(sheets: list[Any]) -> set[int]:
    """Indexes of the sheets the child assembles: portable ones, from the last, up to half the work."""
    total = sum(_weight(ws) for ws in sheets)
    theirs: set[int] = set()
    got = 0
    for i in range(len(sheets) - 1, -1, -1):
        if got * 2 >= total:
            break
        if _portable(sheets[i]):
            theirs.add(i)
            got += _weight(sheets[i])
    return theirs


def _fork(sheets: list[Any], out: BinaryIO, numbers: dict) -> int:
    """Fork a child that writes the XML texts of ``sheets`` (pickled) into ``out``; its pid (0 if none).
    ``numbers``: the workbook's XF numbering, which the child must not extend (its sheets would then not
    be what a serial assembly writes)."""
    from ..workers import die_with_parent

    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:
        return 0
    if pid:
        return pid
    code = 1          # the child never returns into the caller's code
    try:
        gc.disable()  # short-lived: no collection touching (and so copying) the parent's pages
        die_with_parent(parent)
        known = len(numbers)
        texts = []
        for ws in sheets:
            fh = StringIO()
            _assemble(ws, fh)
            texts.append(fh.getvalue())
        if len(numbers) == known:
            pickle.dump(texts, out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()
            code = 0
    finally:
        os._exit(code)


def _abandon(pid: int) -> None:
    if pid:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except OSError:
            pass


def _collect(pid: int, out: BinaryIO, n: int) -> list[str] | None:
    """The child's texts, or None when it failed."""
    if not pid:
        return None
    _, status = os.waitpid(pid, 0)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        return None
    try:
        out.seek(0)
        texts = pickle.load(out)
    except Exception:  # noqa: BLE001 - a truncated or missing result: assembled here instead
        return None
    return texts if isinstance(texts, list) and len(texts) == n else None


class Packager(xlsxwriter.packager.Packager):
    """XlsxWriter's packager, the worksheets' XML assembled by this process and a forked child."""

    def _write_worksheet_files(self) -> None:
        sheets = [ws for ws in self.workbook.worksheets() if not ws.is_chartsheet]
        if not self.in_memory or len(sheets) < MIN_SHEETS or not _can_fork() or \
                any(ws.constant_memory for ws in sheets):
            super()._write_worksheet_files()
            return
        try:  # XlsxWriter's internals as this module knows them; any other version is assembled serially
            theirs = sorted(_share(sheets))
            if theirs:
                _index_formats(sheets)  # (numbered in serial order: the serial assembly numbers the rest alike)
        except (AttributeError, KeyError, TypeError):
            theirs = []
        if not theirs:
            super()._write_worksheet_files()
            return
        files = [self._filename(f"xl/worksheets/sheet{i}.xml") for i in range(1, len(sheets) + 1)]
        with tempfile.TemporaryFile() as out:
            pid = _fork([sheets[i] for i in theirs], out, self.workbook.xf_format_indices)
            taken = set(theirs)
            try:
                for i, ws in enumerate(sheets):
                    if i not in taken:
                        _assemble(ws, files[i])
            except BaseException:
                _abandon(pid)
                raise
            texts = _collect(pid, out, len(theirs))
        for k, i in enumerate(theirs):
            if texts is None:
                _assemble(sheets[i], files[i])
            else:
                files[i].write(texts[k])
