"""The terminal and spreadsheet check reports stay the same, whatever is done to make rendering fast.

The companion of ``test_findings_stable.py`` (the JSON report) for the other renderings of the same
findings: the text report in both languages (all findings, and warnings and worse only), the cells of the
xlsx report and ``Report.flatten``, over the same submissions. The goldens were written by the renderer
without the speed work; regenerate them only for an intended change of output:
``XLBUDGET_REGEN_GOLDEN=1 python -m pytest tests/test_report_stable.py``.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from golden import assert_golden
from test_findings_stable import BASES, DATA, MUTATIONS, golden_submissions
from xlbudget.check import check_paths
from xlbudget.report import Report

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
