"""The terminal and spreadsheet check reports stay the same, whatever is done to make rendering fast.

The companion of ``test_findings_stable.py`` (the JSON report) for the other renderings of the same
findings: the text report in both languages (all findings, and warnings and worse only), the cells of the
xlsx report and ``Report.flatten``, over the same submissions. The goldens were written by the renderer
without the speed work; regenerate them only for an intended change of output:
``XLBUDGET_REGEN_GOLDEN=1 python -m pytest tests/test_report_stable.py``.
Also: the JSON text of a submission, written from its findings' values, is the text of its dict, for
params that the stable submissions do not hold.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

import openpyxl
import pytest

from golden import assert_golden
from test_findings_stable import BASES, DATA, MUTATIONS, golden_submissions
from xlbudget.check import check_paths
from xlbudget.findings import Finding, Severity
from xlbudget.jsontext import dumps
from xlbudget.report import FileReport, Report, TextSpool, _jsonable

FIELDS = ("file", "path", "rule", "kind", "severity", "title", "message", "table", "sheet", "position", "cells",
          "expected", "actual", "difference", "tolerance", "tolerance_mode", "code", "name", "n")


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Report:
    for paths in golden_submissions(tmp_path_factory.mktemp("stable"), DATA, BASES, MUTATIONS):
        report = check_paths(paths)
    report.seconds = 0.0
    for fr in report.files:
        fr.seconds = 0.0
        fr.path = Path(fr.path).name
    return report


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_text_report_identical_to_golden(report, lang):
    got = report.render_text(lang) + "\f\n" + report.render_text(lang, min_severity="warning")
    assert_golden(got, DATA / f"report-{lang}.txt.xz", f"the {lang} text report")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_xlsx_report_cells_identical_to_golden(report, lang, tmp_path):
    wb = openpyxl.load_workbook(report.write_xlsx(tmp_path / "report.xlsx", lang))
    lines = []
    for ws in wb.worksheets:
        lines.append(f"== {ws.title}")
        lines.extend(repr(row) for row in ws.iter_rows(values_only=True))
    assert_golden("\n".join(lines) + "\n", DATA / f"report-{lang}.xlsx.txt.xz", f"the {lang} xlsx report")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_flattened_findings_identical_to_golden(report, lang):
    got = "\n".join(repr(row) for row in report.flatten(FIELDS, lang)) + "\n"
    assert_golden(got, DATA / f"flatten-{lang}.txt.xz", f"the {lang} flattened findings")


def _odd_findings() -> list[Finding]:
    """Findings with params the JSON report converts: Decimals, nested lists and dicts, keys that are not
    text, a severity, a read-only mapping; figures that are text; no cells; an unknown kind."""
    return [
        Finding.of("sum-mismatch", "X7", Severity.ERROR, ("表6!C12", "表6!C13"), table="T6", expected=Decimal("1.50"),
                   actual=Decimal("2"), difference=Decimal("-0.5"), n=3, ratio=1.5, ok=True, none=None),
        Finding("cell-text", "READ.text", Severity.WARNING, ("表2!B9",), expected="12,5", table="T2",
                params={"amount": Decimal("1E+3"), "items": [Decimal("0.10"), "甲", (1, 2)], "nested": {"k": [{}]},
                        1: "int key", True: "bool key", "sev": Severity.INFO}),
        Finding("no-such-kind", "R", Severity.INFO, params=MappingProxyType({"text": "x" * 80})),
        Finding("rules-none", "RULES.none", Severity.ERROR, tolerance_mode="interval", params={}),
    ]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_json_text_of_a_submission_is_the_text_of_its_dict(lang):
    fr = FileReport(path="a/b.xlsx", findings=_odd_findings(), sha256="0" * 64, meta={"year": 2025},
                    tables={"T2": "表2 收入", "T6": "表6 支出"}, seconds=0.1234)
    for level in (0, 2):
        assert fr.json_text(lang, level) == dumps(fr.to_dict(lang), level=level)
    d = fr.to_dict(lang)
    assert json.loads(dumps(d)) == json.loads(json.dumps(d, ensure_ascii=False))
    for f, fd in zip(fr.sorted_findings(), d["findings"]):
        assert fd["params"] == _jsonable(dict(f.params))
        fd["params"]["changed"] = 1  # the report's dict is its own
        assert "changed" not in f.params
    empty = FileReport(path="c.xlsx", readable=False)
    assert empty.json_text(lang, 2) == dumps(empty.to_dict(lang), level=2)


def test_a_report_whose_findings_are_let_go_once_rendered_is_the_same(tmp_path_factory):
    """``prepare_json(release=True)`` (what the command line does for a batch's JSON report): the report
    written is the same, character for character, and so are each file's counts, validity and status, with
    none of its findings held."""
    d = tmp_path_factory.mktemp("released")
    for paths in golden_submissions(d, DATA, BASES, MUTATIONS):
        want = check_paths(paths)
        with TextSpool() as spool:
            got = check_paths(paths, arrived=lambda fr: fr.prepare_json("zh", spool=spool, release=True))
            assert all(not fr.findings for fr in got.files) and any(w.findings for w in want.files)
            assert [(fr.counts, fr.valid, fr.status) for fr in got.files] == \
                [(fr.counts, fr.valid, fr.status) for fr in want.files]
            assert (got.valid, got.counts, {**got.summary, "seconds": 0}) == \
                (want.valid, want.counts, {**want.summary, "seconds": 0})
            timing = re.compile(r'"seconds": [0-9.]+')
            wanted = timing.sub("", want.to_json("zh"))
            # the file: each part copied from the spool as the bytes it was kept as, the same UTF-8 text
            got.write_json(d / "report.json", "zh")
            assert timing.sub("", (d / "report.json").read_bytes().decode("utf-8")) == wanted + "\n"
            with pytest.raises(ValueError, match="let go"):
                got.to_json("zh")  # (each prepared part is written once)
            got = check_paths(paths, arrived=lambda fr: fr.prepare_json("zh", spool=spool, release=True))
            assert timing.sub("", got.to_json("zh")) == wanted
    for report in (Report(), Report(files=[FileReport(path="a.xlsx", readable=False)])):  # nothing prepared
        report.write_json(d / "plain.json", "en")
        assert (d / "plain.json").read_bytes() == (report.to_json("en") + "\n").encode("utf-8")


@pytest.mark.parametrize("lang,level", [("zh", "info"), ("en", "warning")])
def test_a_text_report_whose_findings_are_let_go_once_rendered_is_the_same(tmp_path_factory, lang, level):
    """``prepare_text(release=True)`` (what the command line does for a batch's terminal report): the text is
    the same, character for character, with none of the findings held; asked for a rendering that was not
    prepared, such a report says so instead of writing a file without its findings."""
    d = tmp_path_factory.mktemp("released-text")
    for paths in golden_submissions(d, DATA, BASES, MUTATIONS):
        want = check_paths(paths)
        with TextSpool() as spool:
            got = check_paths(paths, arrived=lambda fr: fr.prepare_text(lang, level, spool=spool, release=True))
            assert all(not fr.findings for fr in got.files) and any(w.findings for w in want.files)
            assert [(fr.counts, fr.valid, fr.status) for fr in got.files] == \
                [(fr.counts, fr.valid, fr.status) for fr in want.files]
            pieces = list(got.iter_text(lang, level))
            assert "".join(pieces) == want.render_text(lang, level)
            assert len(pieces) == len(paths) + 2  # the heading, a piece per file, the total
            with pytest.raises(ValueError, match="let go"):
                got.render_text(lang, level)  # (each prepared part is written once)
            with pytest.raises(ValueError, match="let go"):
                got.to_json(lang)


def _releases(monkeypatch, method: str) -> list:
    """The ``release`` argument of every call of ``FileReport.<method>`` from now on, in a list."""
    seen: list = []
    real = getattr(FileReport, method)

    def spied(self, *args, **kwargs):
        seen.append(kwargs.get("release"))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(FileReport, method, spied)
    return seen


def test_the_command_line_writes_a_batch_text_report_file_by_file(tmp_path_factory, monkeypatch):
    """``xlbudget check A B …`` (text, to a file or to the terminal) renders each file's part when its check
    comes in and lets its findings go: the report is the one rendered at the end from the same findings."""
    from click.testing import CliRunner

    from xlbudget.commands.check import check

    prepared = _releases(monkeypatch, "prepare_text")
    d = tmp_path_factory.mktemp("cli-text")
    for paths in golden_submissions(d, DATA, BASES, MUTATIONS):
        want = check_paths(paths)
        for lang, level in (("zh", "info"), ("en", "warning")):
            out = d / f"report-{lang}.txt"
            args = [*map(str, paths), "--lang", lang, "--min-severity", level]
            result = CliRunner().invoke(check, [*args, "-o", str(out)])
            assert result.exit_code == 1, result.output  # the mutated copies have errors
            assert out.read_text(encoding="utf-8") == want.render_text(lang, level)
            shown = CliRunner().invoke(check, args)
            assert shown.exit_code == 1 and shown.stdout == want.render_text(lang, level)
        assert prepared == [True] * (4 * len(paths))


def _cells(path: Path) -> list:
    wb = openpyxl.load_workbook(path)
    return [(ws.title, list(ws.iter_rows(values_only=True))) for ws in wb.worksheets]


@pytest.mark.parametrize("lang,spooled", [("zh", True), ("en", False)])
def test_an_xlsx_report_whose_findings_are_let_go_once_rendered_is_the_same(tmp_path_factory, lang, spooled):
    """``prepare_xlsx(release=True)`` (what the command line does for a batch's spreadsheet report): every cell
    of every sheet is the same as in the report written from the findings, with none of them held."""
    d = tmp_path_factory.mktemp("released-xlsx")
    for paths in golden_submissions(d, DATA, BASES, MUTATIONS):
        want = check_paths(paths)
        with TextSpool() as spool:
            got = check_paths(paths, arrived=lambda fr: fr.prepare_xlsx(lang, spool=spool if spooled else None,
                                                                        release=True))
            assert all(not fr.findings for fr in got.files) and any(w.findings for w in want.files)
            for fr in got.files + want.files:
                fr.seconds = 0.0
            cells = _cells(got.write_xlsx(d / "got.xlsx", lang))
            assert cells == _cells(want.write_xlsx(d / "want.xlsx", lang))
            assert sum(len(rows) - 1 for title, rows in cells[1:]) == sum(len(fr.findings) for fr in want.files) > 0
            import tempfile

            rows_dirs = lambda: set(Path(tempfile.gettempdir()).glob(".xlbudget-rows-*"))  # noqa: E731
            before = rows_dirs()
            with pytest.raises(ValueError, match="let go"):
                got.write_xlsx(d / "again.xlsx", lang)  # (each prepared part is written once)
            assert not (d / "again.xlsx").exists() and rows_dirs() == before


def test_the_command_line_writes_a_batch_xlsx_report_file_by_file(tmp_path_factory, monkeypatch):
    """``xlbudget check A B … --format xlsx -o R.xlsx`` keeps each file's rows in the spool as its check comes
    in and lets its findings go: the cells are those of the report written at the end from the findings."""
    from click.testing import CliRunner

    from xlbudget.commands.check import check

    prepared = _releases(monkeypatch, "prepare_xlsx")
    d = tmp_path_factory.mktemp("cli-xlsx")
    for paths in golden_submissions(d, DATA, BASES, MUTATIONS):
        want = check_paths(paths)
        out = d / "report.xlsx"
        result = CliRunner().invoke(check, [*map(str, paths), "--format", "xlsx", "-o", str(out)])
        assert result.exit_code == 1, result.output  # the mutated copies have errors
        got = _cells(out)
        expected = _cells(want.write_xlsx(d / "want.xlsx"))
        seconds = expected[0][1][0].index("用时（秒）")
        strip = lambda sheets: [(t, [r[:seconds] + r[seconds + 1:] for r in rows]) for t, rows in sheets]  # noqa: E731
        assert strip(got) == strip(expected)
        assert prepared == [True] * len(paths)


@pytest.mark.parametrize("jobs", [1, 2])
def test_json_report_rendered_as_each_file_arrives_is_the_report(tmp_path_factory, jobs):
    """``xlbudget check --format json`` renders each file's part of the report when its check comes in; the
    report it writes is the one rendered at the end from the same findings, character for character."""
    import re

    from click.testing import CliRunner

    from xlbudget.commands.check import check

    d = tmp_path_factory.mktemp("arrived")
    for paths in golden_submissions(d, DATA, BASES, MUTATIONS):
        out = d / "report.json"
        prepared: list[FileReport] = []
        with TextSpool() as spool:  # the texts kept in memory (the first files) or in a spool file (the others)
            report = check_paths(paths, jobs=jobs, arrived=lambda fr: (
                fr.prepare_json("en", spool=spool if prepared else None), prepared.append(fr)))
            assert len(prepared) == len(paths) and all(fr._prepared for fr in prepared)
            assert isinstance(next(iter(prepared[0]._prepared.values())), str)
            assert not isinstance(next(iter(prepared[1]._prepared.values())), str)
            written = report.to_json("en")
        assert not any(fr._prepared for fr in prepared)  # each prepared text written once, then forgotten
        assert written == report.to_json("en")           # and the same when rendered again
        result = CliRunner().invoke(check, [*map(str, paths), "--jobs", str(jobs), "--format", "json",
                                            "--lang", "en", "-o", str(out)])
        assert result.exit_code == 1, result.output      # the mutated copies have errors
        timing = re.compile(r'"seconds": [0-9.]+')
        assert timing.sub("", out.read_text(encoding="utf-8")) == timing.sub("", written + "\n")


def _rendered_where_checked(report, **options) -> None:
    """``render_ahead``, noting the process that ran it."""
    import os

    from xlbudget.report import render_ahead

    render_ahead(report, **options)
    report.meta["rendered_in"] = os.getpid()


@pytest.mark.parametrize("fmt", ["json", "text", "xlsx"])
def test_a_report_rendered_in_the_workers_is_the_same(tmp_path_factory, fmt):
    """``check_paths(prepare=render_ahead)`` with workers (what the command line does for a batch): each file's
    part is rendered in the worker that checked it, and what reaches this process is that part in UTF-8 (the
    rows of a spreadsheet report) and the counts, none of the findings; the report written from the parts is
    the one rendered from every finding here, and so are the counts, validity and status of each file."""
    import functools
    import os

    d = tmp_path_factory.mktemp("ahead")
    timing = re.compile(r'"seconds": [0-9.]+')
    for paths in golden_submissions(d, DATA, BASES, MUTATIONS):
        want = check_paths(paths)
        arrivals: list[tuple[int, bool]] = []
        with TextSpool() as spool:
            def arrived(fr, spool=spool):
                arrivals.append((len(fr.findings), all(isinstance(v, (bytes, list)) for v in fr._prepared.values())
                                 and bool(fr._prepared), fr.meta.pop("rendered_in") != os.getpid()))
                fr.spool_prepared(spool)
            got = check_paths(paths, jobs=2, arrived=arrived, prepare=functools.partial(
                _rendered_where_checked, fmt=fmt, lang="en", min_severity="warning"))
            assert arrivals == [(0, True, True)] * len(paths) and any(w.findings for w in want.files)
            assert [(fr.counts, fr.valid, fr.status) for fr in got.files] == \
                [(fr.counts, fr.valid, fr.status) for fr in want.files]
            if fmt == "json":
                got.write_json(d / "got.json", "en")
                assert timing.sub("", (d / "got.json").read_text(encoding="utf-8")) == \
                    timing.sub("", want.to_json("en") + "\n")
            elif fmt == "text":
                assert "".join(got.iter_text("en", "warning")) == want.render_text("en", "warning")
            else:
                assert [fr._take_rows("en") for fr in got.files] == [fr.xlsx_rows("en") for fr in want.files]
