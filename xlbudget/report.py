"""Check reports: Report → FileReport → findings (frictionless-style), and their renderings.

* ``Report.flatten(fields)``: rows of chosen fields, one per finding (for tests and spreadsheets);
* ``Report.to_dict()`` / ``to_json()``: the JSON report (schema: ``xlbudget/schemas/check-report.schema.json``);
* ``Report.render_text(lang)``: the terminal report, grouped by file and table, in Chinese or English;
* ``Report.write_xlsx(path)``: one row per submission, one sheet of all findings (xlsxwriter, atomic);
* ``Report.annotate(folder)`` / ``annotate_all(folder)``: a fresh copy of each submission with the offending
  cells highlighted and commented (openpyxl; an .xlsm becomes a macro-free .xlsx); the submitted file is never
  written, and ``annotate_all`` says which submissions got no copy and why.
"""

from __future__ import annotations

import json
import warnings
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator, Sequence

from msgspec import Struct, field

from .findings import RANK, Finding, Severity
from .jsontext import dumps, records
from .outputs import atomic_output, output_folder, same_file

__all__ = ["Annotated", "FileReport", "Report", "SCHEMA_ID", "STATUS", "TextSpool", "annotate_file", "finding_dict",
           "render_ahead", "schema", "schema_path"]

SCHEMA_ID = "xlbudget-check-report"
SEVERITIES = ("error", "warning", "info")
STATUS = {  # status -> (zh, en)
    "ok": ("通过", "passed"),
    "warnings": ("通过（有警告）", "passed with warnings"),
    "errors": ("有错误", "has errors"),
    "unreadable": ("无法读取", "unreadable"),
}
FILLS = {"error": "FFC7CE", "warning": "FFEB9C", "info": "DDEBF7"}


def schema_path() -> Path:
    return Path(__file__).resolve().parent / "schemas" / "check-report.schema.json"


def schema() -> dict[str, Any]:
    return json.loads(schema_path().read_text(encoding="utf-8"))


def _jsonable(v: Any) -> Any:
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, Severity):
        return v.value
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    return str(v)


_AS_IS = frozenset({str, int, float, bool, type(None)})  # the classes _jsonable returns unchanged
_STR = frozenset({str})


def _params(params: Any) -> dict[str, Any]:
    """What ``_jsonable(dict(params))`` is equal to: ``params`` itself when it is a dict of plain values by
    str keys (most are), else the plain values as they are and the others through :func:`_jsonable`."""
    if params.__class__ is dict and _AS_IS.issuperset(map(type, params.values())) and _STR.issuperset(
            map(type, params)):
        return params
    return {k if k.__class__ is str else str(k): v if v.__class__ in _AS_IS else _jsonable(v)
            for k, v in params.items()}


def _num(v: Any) -> str | None:
    """Amounts as decimal strings; anything else a reader put there (e.g. a text cell) as text."""
    if v is None:
        return None
    return format(v, "f") if isinstance(v, Decimal) else str(v)


def _split(position: str) -> tuple[str, str]:
    sheet, _, cell = position.rpartition("!")
    return sheet, cell


def _table_key(tid: str | None, order: dict[str, int]) -> tuple[int, int, str]:
    """The tables in their set's order (``order``: position of each table id), then tables the report does not
    know by id, findings without a table last."""
    if tid is None:
        return (3, 0, "")
    if tid in order:
        return (0, order[tid], "")
    return (1, 0, tid)


# ---------------------------------------------------------------------------------------------------------
class FileReport(Struct):
    """The findings of one submission."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    sha256: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    readable: bool = True
    tables: dict[str, str] = field(default_factory=dict)   # table id -> "表6 一般公共预算基本支出情况表", in set order
    seconds: float = 0.0
    # a part of the report rendered ahead of the one write that follows, or where a TextSpool keeps it:
    # ("json", lang, level) -> json_text (prepare_json); ("text", lang, min_severity, color) -> text_part;
    # ("xlsx", lang) -> xlsx_rows (prepare_xlsx: the rows, or their JSON text in a spool)
    _prepared: dict[tuple, Any] = field(default_factory=dict)
    # the counts of findings let go once the report's part was rendered (prepare_*, release=True)
    _released: dict[str, int] | None = None

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def counts(self) -> dict[str, int]:
        if self._released is not None:
            return dict(self._released)
        found = [f.severity._value_ for f in self.findings]
        return {s: found.count(s) for s in SEVERITIES}

    @property
    def valid(self) -> bool:
        return _valid(self.readable, self.counts)

    @property
    def status(self) -> str:
        return _status(self.readable, self.counts)

    def sorted_findings(self) -> list[Finding]:
        """By table (in the set's order: 表1…表11, 绩效, 其他 for the seed's set), then severity, keeping
        rule-book order otherwise."""
        order = {id(f): i for i, f in enumerate(self.findings)}
        tables = {tid: i for i, tid in enumerate(self.tables)}
        keys = {t: _table_key(t, tables) for t in {f.table for f in self.findings}}
        return sorted(self.findings, key=lambda f: (keys[f.table], RANK[f.severity._value_], order[id(f)]))

    def table_title(self, tid: str | None, lang: str = "zh") -> str:
        if tid is None:
            return "文件整体" if lang == "zh" else "Whole file"
        return self.tables.get(tid, tid)

    def _head(self) -> dict[str, Any]:
        """:meth:`to_dict` but its findings."""
        counts = self.counts
        return {
            "path": self.path,
            "name": self.name,
            "sha256": self.sha256,
            "meta": _jsonable(self.meta),
            "readable": self.readable,
            "valid": _valid(self.readable, counts),
            "status": _status(self.readable, counts),
            "counts": counts,
            "seconds": round(self.seconds, 3),
        }

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        return {**self._head(), "findings": [finding_dict(f, lang, self) for f in self.sorted_findings()]}

    def json_text(self, lang: str = "zh", level: int = 0) -> str:
        """``jsontext.dumps(self.to_dict(lang), level=level)``, the findings written from their values
        without a dict each."""
        head, tail = dumps({**self._head(), "findings": []}, level=level).rsplit("[]", 1)
        rows = [_finding_values(f, lang, self) for f in self.sorted_findings()]
        return head + records(FINDING_KEYS, rows, level=level + 1) + tail

    def prepare_json(self, lang: str = "zh", level: int = 2, spool: "TextSpool | None" = None,
                     release: bool = False) -> None:
        """Render :meth:`json_text` now, for the next :meth:`Report.iter_json` to write (and forget): a batch
        renders each file as its check comes in, beside the checks still running, not all at the end. With a
        ``spool`` the text waits there, not in memory. The report is not to change in between.

        With ``release`` the findings are let go once rendered, their counts kept (``counts``, ``valid`` and
        ``status`` are as before; ``findings`` is empty): a batch that writes the JSON report and nothing
        else of its findings holds none of a file whose part is written."""
        self._prepare(("json", lang, level), self.json_text(lang, level), spool, release)

    def prepare_text(self, lang: str = "zh", min_severity: str = "info", color: bool = False,
                     spool: "TextSpool | None" = None, release: bool = False) -> None:
        """:meth:`prepare_json` for the terminal report: this file's :meth:`text_part`, rendered now for the
        next :meth:`Report.iter_text` (or ``render_text``) with the same options."""
        self._prepare(("text", lang, min_severity, color), self.text_part(lang, min_severity, color), spool, release)

    def _prepare(self, key: tuple, text: str, spool: "TextSpool | None", release: bool) -> None:
        self._prepared[key] = text if spool is None else spool.put(text)
        if release:
            self._released = self.counts
            self.findings = []

    def spool_prepared(self, spool: "TextSpool") -> None:
        """Keep in ``spool`` the parts prepared in memory: those :func:`render_ahead` rendered where the file
        was checked (UTF-8 bytes), or rows of the spreadsheet report."""
        for key, got in self._prepared.items():
            if isinstance(got, bytes):
                self._prepared[key] = spool.put_bytes(got)
            elif isinstance(got, str):
                self._prepared[key] = spool.put(got)
            elif isinstance(got, list):
                self._prepared[key] = spool.put(json.dumps(got, ensure_ascii=False))

    def _take(self, key: tuple, render) -> Any:
        """The prepared part (forgotten once taken), else the part rendered now."""
        got = self._prepared.pop(key, None)
        if got is None:
            self._refuse_unprepared(key)
            return render()
        if isinstance(got, tuple):
            return got[0].get(got[1], got[2])
        return got.decode("utf-8") if isinstance(got, bytes) else got

    def _refuse_unprepared(self, key: tuple) -> None:
        """A report whose findings were let go has only what was prepared before: nothing else is rendered
        from it (it would be a report without its findings)."""
        if self._released is not None and key not in self._prepared:
            raise ValueError(f"{self.path}: the findings were let go once its report was rendered; "
                             f"nothing was rendered for {key}")

    def prepare_xlsx(self, lang: str = "zh", spool: "TextSpool | None" = None, release: bool = False) -> None:
        """:meth:`prepare_json` for the spreadsheet report: this file's rows of its findings sheet
        (:meth:`xlsx_rows`), worked out now for the next :meth:`Report.write_xlsx` in ``lang``."""
        rows = self.xlsx_rows(lang)
        self._prepare(("xlsx", lang), json.dumps(rows, ensure_ascii=False) if spool is not None else rows, spool,
                      release)

    def xlsx_rows(self, lang: str = "zh") -> list[list[Any]]:
        """The rows of the findings sheet of :meth:`Report.write_xlsx` for this file, in the sheet's column
        order, the severity's value last (its cell's colour): texts, and the figures as spreadsheet numbers
        (floats), None where blank."""
        zh = lang != "en"
        rows = []
        for f in self.sorted_findings():
            figures = [float(v) if isinstance(v, Decimal) else None if v is None else str(v)
                       for v in (f.actual, f.expected, f.difference, f.tolerance)]
            rows.append([self.name, self.table_title(f.table, lang) if f.table else "", f.position,
                         "、".join(f.cells) if zh else ", ".join(f.cells), f.rule, f.severity.label(lang),
                         f.title(lang), f.message(lang), *figures, f.tolerance_mode or "", f.severity.value])
        return rows

    def _take_rows(self, lang: str) -> list[list[Any]]:
        got = self._take(("xlsx", lang), lambda: self.xlsx_rows(lang))
        return json.loads(got) if isinstance(got, str) else got

    def _take_json(self, lang: str, level: int) -> str:
        return self._take(("json", lang, level), lambda: self.json_text(lang, level))

    def _take_json_bytes(self, lang: str, level: int) -> bytes:
        """:meth:`_take_json` in UTF-8: a part kept in UTF-8 (in a spool, or from a worker) comes back as the
        bytes it was kept as."""
        key = ("json", lang, level)
        got = self._prepared.get(key)
        if isinstance(got, (tuple, bytes)):
            del self._prepared[key]
            return got if isinstance(got, bytes) else got[0].get_bytes(got[1], got[2])
        return self._take_json(lang, level).encode("utf-8")

    def _take_text(self, lang: str, min_severity: str, color: bool) -> str:
        return self._take(("text", lang, min_severity, color), lambda: self.text_part(lang, min_severity, color))

    def text_part(self, lang: str = "zh", min_severity: str = "info", color: bool = False) -> str:
        """This file's part of :meth:`Report.render_text`: a blank line, then its name, status and findings
        (those of ``min_severity`` and worse) by table."""
        zh = lang != "en"
        limit = Severity(min_severity).rank
        who = ""
        if self.meta.get("department"):
            who = f"（{self.meta['department']} {self.meta.get('year', '')} 年）" if zh else \
                f" ({self.meta['department']} {self.meta.get('year', '')})"
        status = STATUS[self.status][0 if zh else 1]
        lines = ["", ("文件：" if zh else "File: ") + self.path + who,
                 ("  状态：" if zh else "  Status: ") + status + " · " + _counts_text(self.counts, zh)]
        shown = [f for f in self.sorted_findings() if f.severity.rank <= limit]
        current: object = object()
        for f in shown:
            if f.table != current:
                current = f.table
                lines.append("  " + self.table_title(f.table, lang))
            lines.append(f"    {_severity_text(f.severity, zh, color)} {f.rule} {f.message(lang)}")
        hidden = len(self.findings) - len(shown)
        if hidden:
            lines.append(f"  （另有 {hidden} 条较低级别的提示未列出）" if zh else
                         f"  ({hidden} lower-severity findings not shown)")
        return "\n" + "\n".join(lines)


_STYLES = {"error": "red", "warning": "yellow", "info": "cyan"}


def _severity_text(s: Severity, zh: bool, color: bool) -> str:
    text = "[" + s.label("zh" if zh else "en") + "]"
    if not color:
        return text
    import click

    return click.style(text, fg=_STYLES[s.value], bold=s is Severity.ERROR)


def _counts_text(c: dict[str, int], zh: bool) -> str:
    if zh:
        return f"错误 {c['error']} · 警告 {c['warning']} · 提示 {c['info']}"
    return f"errors {c['error']} · warnings {c['warning']} · info {c['info']}"


def render_ahead(report: FileReport, fmt: str, lang: str = "zh", min_severity: str = "info",
                 color: bool = False) -> None:
    """Render ``report``'s part of a batch's report in the format ``fmt`` (json, text or xlsx) where the file
    was checked, and let go of its findings (``prepare_json`` and the like, ``release=True``): a pool worker
    sends back the part, a text in UTF-8 (the rows of a spreadsheet report), and the counts, not the
    findings. See ``check_paths(prepare=...)``."""
    if fmt == "json":
        report.prepare_json(lang, release=True)
    elif fmt == "text":
        report.prepare_text(lang, min_severity, color, release=True)
    elif fmt == "xlsx":
        report.prepare_xlsx(lang, release=True)
    else:
        raise ValueError(f"unknown report format {fmt!r}")
    for key, got in report._prepared.items():
        if isinstance(got, str):
            report._prepared[key] = got.encode("utf-8")


class TextSpool:
    """Texts kept in an anonymous temporary file until they are written: the JSON parts of a batch of
    thousands of files, rendered as each check comes in, without holding them all in memory. Close it (or
    use it as a context manager) when the report is written."""

    def __init__(self) -> None:
        import tempfile

        self._file = tempfile.TemporaryFile()

    def put(self, text: str) -> tuple["TextSpool", int, int]:
        return self.put_bytes(text.encode("utf-8"))

    def put_bytes(self, data: bytes) -> tuple["TextSpool", int, int]:
        """Keep a text already in UTF-8."""
        at = self._file.seek(0, 2)
        self._file.write(data)
        return self, at, len(data)

    def get(self, at: int, size: int) -> str:
        return self.get_bytes(at, size).decode("utf-8")

    def get_bytes(self, at: int, size: int) -> bytes:
        self._file.seek(at)
        return self._file.read(size)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "TextSpool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _valid(readable: bool, counts: dict[str, int]) -> bool:
    return readable and counts["error"] == 0


def _status(readable: bool, counts: dict[str, int]) -> str:
    if not readable:
        return "unreadable"
    return "errors" if counts["error"] else ("warnings" if counts["warning"] else "ok")


FINDING_KEYS = ("rule", "kind", "severity", "title", "message", "table", "table_title", "sheet", "position",
                "cells", "expected", "actual", "difference", "tolerance", "tolerance_mode", "params")


def _finding_values(f: Finding, lang: str, fr: FileReport | None) -> list[Any]:
    """The values of :func:`finding_dict`, in the order of ``FINDING_KEYS``."""
    cells = f.cells
    position = cells[0] if cells else ""
    table = f.table
    return [f.rule, f.kind, f.severity._value_, f.title(lang), f.message(lang), table,
            fr.table_title(table, lang) if fr and table else None,
            _split(position)[0] if position else None, position or None, list(cells),
            _num(f.expected), _num(f.actual), _num(f.difference), _num(f.tolerance),
            f.tolerance_mode, _params(f.params)]


def finding_dict(f: Finding, lang: str = "zh", fr: FileReport | None = None) -> dict[str, Any]:
    d = dict(zip(FINDING_KEYS, _finding_values(f, lang, fr)))
    if d["params"] is f.params:  # a dict of its own, never the finding's
        d["params"] = dict(f.params)
    return d


# ---------------------------------------------------------------------------------------------------------
class Report(Struct):
    """The findings of a batch of submissions."""

    files: list[FileReport] = field(default_factory=list)
    tolerance: str = "interval"
    catalogue: str | None = None
    seconds: float = 0.0
    cached: int = 0          # submissions whose result came from the content-hash cache (xlbudget.cache)

    @property
    def valid(self) -> bool:
        """True when no submission has an error (and every one could be read)."""
        return all(f.valid for f in self.files)

    @property
    def counts(self) -> dict[str, int]:
        return self._overview()[1]

    @property
    def summary(self) -> dict[str, Any]:
        return self._overview()[2]

    def _overview(self) -> tuple[bool, dict[str, int], dict[str, Any]]:
        """:attr:`valid`, :attr:`counts` and :attr:`summary`, from the counts of each submission once."""
        each = [(fr.readable, fr.counts) for fr in self.files]
        out = {s: 0 for s in SEVERITIES}
        for _, c in each:
            for k, v in c.items():
                out[k] += v
        valid = [_valid(readable, c) for readable, c in each]
        status = [_status(readable, c) for readable, c in each]
        return all(valid), out, {
            "files": len(self.files),
            "valid": sum(valid),
            "with_errors": status.count("errors"),
            "with_warnings": status.count("warnings"),
            "unreadable": status.count("unreadable"),
            "seconds": round(self.seconds, 3),
        }

    # --- projections ---------------------------------------------------------------------------------
    def flatten(self, fields: Sequence[str], lang: str = "zh") -> list[list[Any]]:
        """One row per finding with the values of ``fields``.

        Fields: file, path, rule, kind, severity, title, message, table, sheet, position, cells, expected,
        actual, difference, tolerance, tolerance_mode (numbers as Decimal), or any message param name.
        """
        rows = []
        for fr in self.files:
            for f in fr.findings:
                d = finding_dict(f, lang, fr)
                values = {**d, "file": fr.name, "path": fr.path, "cells": tuple(f.cells), "expected": f.expected,
                          "actual": f.actual, "difference": f.difference, "tolerance": f.tolerance}
                rows.append([values[k] if k in values else f.params.get(k) for k in fields])
        return rows

    def to_dict(self, lang: str = "zh", files: bool = True) -> dict[str, Any]:
        valid, counts, summary = self._overview()
        d = {
            "format": SCHEMA_ID,
            "version": 1,
            "lang": lang,
            "valid": valid,
            "tolerance": self.tolerance,
            "catalogue": self.catalogue,
            "counts": counts,
            "summary": summary,
        }
        if files:
            d["files"] = [fr.to_dict(lang) for fr in self.files]
        return d

    def iter_json(self, lang: str = "zh") -> Iterator[str]:
        """The JSON report in pieces, one submission at a time, so that a batch of thousands of files is
        written without building the whole document in memory. Joined, it parses to :meth:`to_dict`."""
        opening, closing = self._json_ends(lang)
        yield opening
        for i, fr in enumerate(self.files):
            yield ("," if i else "") + "\n    " + fr._take_json(lang, 2)
        yield closing

    def _json_ends(self, lang: str) -> tuple[str, str]:
        """The JSON report's text before its first file and after its last."""
        opening, closing = dumps({**self.to_dict(lang, files=False), "files": []}).rsplit("[]", 1)
        return opening + "[", ("\n  ]" if self.files else "]") + closing

    def to_json(self, lang: str = "zh") -> str:
        return "".join(self.iter_json(lang))

    def write_json(self, path: str | Path, lang: str = "zh") -> Path:
        """Write the JSON report atomically, streaming it submission by submission (UTF-8, lines ending in
        "\\n" on every system: the text of :meth:`to_json`). A part a batch kept in a spool is copied as the
        bytes it was kept as, never decoded and encoded again (tens of megabytes for a thousand files)."""
        opening, closing = self._json_ends(lang)
        with atomic_output(path) as tmp:
            with open(tmp, "wb") as fh:
                fh.write(opening.encode("utf-8"))
                for i, fr in enumerate(self.files):
                    fh.write(b",\n    " if i else b"\n    ")
                    fh.write(fr._take_json_bytes(lang, 2))
                fh.write((closing + "\n").encode("utf-8"))
        return Path(path)

    # --- terminal ------------------------------------------------------------------------------------
    def render_text(self, lang: str = "zh", min_severity: str = "info", color: bool = False) -> str:
        """The terminal report: per file, per table, the findings (most severe first)."""
        return "".join(self.iter_text(lang, min_severity, color))

    def iter_text(self, lang: str = "zh", min_severity: str = "info", color: bool = False) -> Iterator[str]:
        """:meth:`render_text` in pieces, one submission at a time (each prepared ahead where
        :meth:`FileReport.prepare_text` rendered it), as :meth:`iter_json` writes the JSON report."""
        Severity(min_severity)  # (an unknown level: its error before anything is written)
        zh = lang != "en"
        tol = self.tolerance
        if tol == "interval":
            tol_text = "区间法（n 个数相比，容差 n × 0.005）" if zh else "interval (n figures compared: n × 0.005)"
        else:
            tol_text = ("固定 " if zh else "fixed ") + tol.partition(":")[2]
        yield ("xlbudget 校验报告 · 容差：" if zh else "xlbudget check report · tolerance: ") + tol_text
        for fr in self.files:
            yield fr._take_text(lang, min_severity, color)
        s = self.summary
        c = self.counts
        if zh:
            total = (f"合计：{s['files']} 个文件，{s['valid']} 个通过，{s['with_errors']} 个有错误，"
                     f"{s['unreadable']} 个无法读取；" + _counts_text(c, zh))
        else:
            total = (f"Total: {s['files']} files, {s['valid']} passed, {s['with_errors']} with errors, "
                     f"{s['unreadable']} unreadable; " + _counts_text(c, zh))
        yield "\n\n" + total + "\n"

    def write_text(self, path: str | Path, lang: str = "zh", min_severity: str = "info") -> Path:
        """Write the terminal report (without colours) atomically, streaming it submission by submission."""
        with atomic_output(path) as tmp:
            with open(tmp, "w", encoding="utf-8") as fh:
                for piece in self.iter_text(lang, min_severity):
                    fh.write(piece)
        return Path(path)

    # --- xlsx ----------------------------------------------------------------------------------------
    def write_xlsx(self, path: str | Path, lang: str = "zh") -> Path:
        """Write the spreadsheet report atomically (a temporary file in the same folder, then renamed)."""
        import tempfile

        import xlsxwriter

        out = Path(path)
        zh = lang != "en"
        for fr in self.files:  # (before anything is written)
            fr._refuse_unprepared(("xlsx", lang))
        with atomic_output(out) as tmp, tempfile.TemporaryDirectory(prefix=".xlbudget-rows-") as rows_dir:
            # (written row by row to temporary files, not held: a batch of thousands of files has millions
            # of cells; its texts are then written in the cells rather than in a shared table)
            wb = xlsxwriter.Workbook(tmp, {"strings_to_numbers": False, "strings_to_formulas": False,
                                           "strings_to_urls": False, "constant_memory": True,
                                           "tmpdir": rows_dir})
            wb.set_properties({"title": "xlbudget 校验报告" if zh else "xlbudget check report"})
            head = wb.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1, "text_wrap": True,
                                  "valign": "vcenter"})
            text = wb.add_format({"border": 1, "valign": "top", "text_wrap": True})
            num = wb.add_format({"border": 1, "valign": "top", "num_format": "0.00####"})
            sev_fmt = {s: wb.add_format({"border": 1, "valign": "top", "bg_color": "#" + FILLS[s]}) for s in FILLS}
            ok_fmt = wb.add_format({"border": 1, "valign": "top", "bg_color": "#C6EFCE"})

            ws = wb.add_worksheet("提交情况" if zh else "Submissions")
            cols = (["序号", "文件", "路径", "部门", "年度", "表套", "状态", "错误", "警告", "提示", "用时（秒）", "SHA-256"]
                    if zh else ["No.", "File", "Path", "Department", "Year", "Table set", "Status", "Errors",
                                "Warnings", "Info", "Seconds", "SHA-256"])
            widths = [6, 28, 40, 30, 8, 8, 14, 8, 8, 8, 10, 66]
            for c, (h, w) in enumerate(zip(cols, widths)):
                ws.write_string(0, c, h, head)
                ws.set_column(c, c, w)
            for i, fr in enumerate(self.files, start=1):
                c = fr.counts
                status_fmt = {"errors": sev_fmt["error"], "unreadable": sev_fmt["error"],
                              "warnings": sev_fmt["warning"]}.get(fr.status, ok_fmt)
                ws.write_number(i, 0, i, text)
                ws.write_string(i, 1, fr.name, text)
                ws.write_string(i, 2, fr.path, text)
                ws.write_string(i, 3, str(fr.meta.get("department", "")), text)
                ws.write_string(i, 4, str(fr.meta.get("year", "")), text)
                ws.write_string(i, 5, str(fr.meta.get("tableset", "")), text)
                ws.write_string(i, 6, STATUS[fr.status][0 if zh else 1], status_fmt)
                for k, sv in enumerate(SEVERITIES):
                    ws.write_number(i, 7 + k, c[sv], text)
                ws.write_number(i, 10, round(fr.seconds, 3), text)
                ws.write_string(i, 11, fr.sha256, text)
            ws.freeze_panes(1, 0)
            ws.autofilter(0, 0, max(len(self.files), 1), len(cols) - 1)

            ws2 = wb.add_worksheet("问题清单" if zh else "Findings")
            cols2 = (["文件", "表", "位置", "涉及单元格", "规则", "严重程度", "类别", "说明", "实为", "应为", "差额",
                      "容差", "容差方式"] if zh else
                     ["File", "Table", "Position", "Cells", "Rule", "Severity", "Kind", "Message", "Actual",
                      "Expected", "Difference", "Tolerance", "Tolerance mode"])
            widths2 = [24, 28, 16, 30, 16, 10, 22, 80, 12, 12, 12, 10, 12]
            for c, (h, w) in enumerate(zip(cols2, widths2)):
                ws2.write_string(0, c, h, head)
                ws2.set_column(c, c, w)
            r = 1
            for fr in self.files:
                for row in fr._take_rows(lang):
                    *cells, severity = row
                    for c in range(8):
                        ws2.write_string(r, c, cells[c], sev_fmt[severity] if c == 5 else text)
                    for c in range(8, 12):
                        v = cells[c]
                        if v is None:
                            ws2.write_blank(r, c, None, num)
                        elif isinstance(v, float):
                            ws2.write_number(r, c, v, num)  # a spreadsheet number is a double
                        else:
                            ws2.write_string(r, c, v, text)
                    ws2.write_string(r, 12, cells[12], text)
                    r += 1
            ws2.freeze_panes(1, 0)
            ws2.autofilter(0, 0, max(r - 1, 1), len(cols2) - 1)
            wb.close()
        return out

    # --- annotated copies ----------------------------------------------------------------------------
    def annotate(self, folder: str | Path, lang: str = "zh", jobs: int = 1) -> list[Path]:
        """Write ``<name>.checked.xlsx`` in ``folder`` for every readable submission; return the files written.

        See :meth:`annotate_all` (which also says which submissions got no copy, and why)."""
        return self.annotate_all(folder, lang, jobs).written

    def annotate_all(self, folder: str | Path, lang: str = "zh", jobs: int = 1) -> "Annotated":
        """Write ``<name>.checked.xlsx`` in ``folder`` for every readable submission.

        Offending cells are filled by severity and carry a comment with the messages; a first sheet lists
        every finding. The submitted files are only read; a macro workbook (.xlsm) gets a plain .xlsx copy
        without its macros. ``jobs > 1`` spreads the copies over processes (openpyxl needs seconds for a
        workbook with many merged cells). Submissions without a copy are listed with the reason.
        """
        outdir = output_folder(folder, "--annotate")
        zh = lang != "en"
        result = Annotated()
        tasks: list[tuple[Path, Path, FileReport]] = []
        used: set[str] = set()
        for fr in self.files:
            src = Path(fr.path)
            if not fr.readable:
                result.skipped.append((src, "文件无法读取" if zh else "the file cannot be read"))
                continue
            name = f"{src.stem}.checked.xlsx"
            n = 2
            while name in used or same_file(outdir / name, src):
                name = f"{src.stem}.checked-{n}.xlsx"
                n += 1
            used.add(name)
            tasks.append((src, outdir / name, fr))
        if jobs <= 1 or len(tasks) <= 1:
            done = [_annotate(src, dest, fr, lang) for src, dest, fr in tasks]
        else:
            from .workers import process_pool

            with process_pool(min(jobs, len(tasks))) as pool:
                done = list(pool.map(_annotate, *zip(*tasks), [lang] * len(tasks)))
        for (src, dest, _), reason in zip(tasks, done):
            if reason:
                result.skipped.append((src, reason))
            else:
                result.written.append(dest)
        return result


class Annotated(Struct):
    """The annotated copies written, and the submissions that got none with the reason."""

    written: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def annotate_file(src: Path, dest: Path, fr: FileReport, lang: str = "zh") -> bool:
    """Write an annotated copy of ``src`` to ``dest`` (atomically); False when openpyxl cannot open it."""
    return not _annotate(src, dest, fr, lang)


def _annotate(src: Path, dest: Path, fr: FileReport, lang: str = "zh") -> str:
    """Write the annotated copy; "" when done, else why not (in ``lang``)."""
    import openpyxl
    from openpyxl.cell.cell import MergedCell
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    zh = lang != "en"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            wb = openpyxl.load_workbook(src)  # macros are not kept (keep_vba is off): the copy is a plain .xlsx
        except Exception as exc:  # a file our reader accepts but openpyxl cannot open
            detail = f"{type(exc).__name__}: {str(exc)[:120]}"
            return f"无法打开以写标注（{detail}）" if zh else f"cannot be opened for annotation ({detail})"
    notes: dict[tuple[str, str], list[Finding]] = {}
    for f in fr.findings:
        for pos in f.cells:
            sheet, cell = _split(pos)
            if sheet in wb.sheetnames and cell:
                notes.setdefault((sheet, cell), []).append(f)
    for (sheet, addr), found in notes.items():
        ws = wb[sheet]
        try:
            cell = ws[addr]
        except (ValueError, KeyError):
            continue
        if isinstance(cell, MergedCell):
            for rng in ws.merged_cells.ranges:
                if addr in rng:
                    cell = ws.cell(rng.min_row, rng.min_col)
                    break
            else:
                continue
        worst = min(found, key=lambda f: f.severity.rank).severity.value
        cell.fill = PatternFill("solid", start_color=FILLS[worst], end_color=FILLS[worst])
        body = "\n".join(f"[{f.severity.label(lang)}] {f.rule} {f.message(lang)}" for f in found)
        if cell.comment is not None:
            body = cell.comment.text + "\n" + body
        comment = Comment(body, "xlbudget")
        comment.width, comment.height = 420, min(60 + 60 * len(found), 600)
        cell.comment = comment
    title = "校验结果" if zh else "Check results"
    while title in wb.sheetnames:
        title += "_"
    ws = wb.create_sheet(title, 0)
    head = ["严重程度", "规则", "位置", "说明"] if zh else ["Severity", "Rule", "Position", "Message"]
    ws.append(head)
    for c in ws[1]:
        c.font = Font(bold=True)
    for f in fr.sorted_findings():
        ws.append([f.severity.label(lang), f.rule, f.position, f.message(lang)])
        row = ws.max_row
        ws.cell(row, 1).fill = PatternFill("solid", start_color=FILLS[f.severity.value],
                                           end_color=FILLS[f.severity.value])
        if f.position:
            sheet, cell = _split(f.position)
            ws.cell(row, 3).hyperlink = f"#'{sheet}'!{cell}"
    for col, width in zip("ABCD", (10, 16, 16, 100)):
        ws.column_dimensions[col].width = width
    wb.active = 0
    for other in wb.worksheets[1:]:
        other.sheet_view.tabSelected = False
    with atomic_output(dest) as tmp:
        wb.save(tmp)
    return ""

