"""Our own output passes: the 情况说明 that ``build`` writes, checked against the tables it was written from."""

from __future__ import annotations

import copy

import pytest

from xlbudget.model import budget_from_document, load_example
from xlbudget.narrative import narrative
from xlbudget.narrative_check import check_narrative, load_vocabulary, narrative_sheets, statements_of
from xlbudget.narrative_check.sources import lines_of_sections, lines_of_sheets
from xlbudget.tableset import installed_tableset, installed_tablesets

# The examples transcribe published documents with their real text problems in free-text facts (a reason, a
# purpose); our text repeats them. With them corrected, nothing the renderer computes may be reported.
# 机关运行经费 too: both departments include a 事业单位, whose 公用经费 are not 机关运行经费.
CORRECTED = {
    "xj11": [(("facts", "narrative", "sangong_reasons", "vehicle_purchase"), "2025 年按编制购置一般公务用车 1 辆"),
             (("tables", "T10", "vehicle_purchase"), {"gp": "18.00"}),
             (("facts", "operating_costs", "amount"), "5.00")],
    "sh-final": [(("facts", "narrative", "item_uses", "2210201"), "住房公积金支出"),
                 (("facts", "operating_costs", "amount"), "9.80")],
}
SETS = [ts for ts in installed_tablesets() if installed_tableset(ts).example]


def _set(doc, path, value):
    for k in path[:-1]:
        doc = doc[k]                  # the place exists (a KeyError names a wrong path)
    doc[path[-1]] = value


@pytest.fixture(scope="module")
def corrected():
    out = {}
    for ts in SETS:
        spec, doc = load_example(ts)
        doc = copy.deepcopy(doc)
        for path, value in CORRECTED.get(ts, ()):
            _set(doc, path, value)
        out[ts] = budget_from_document(doc, spec)
    return out


def test_every_installed_set_with_an_example_has_a_vocabulary():
    assert {"xj11", "sh-budget", "sh-final"} <= set(SETS)
    assert all(load_vocabulary(installed_tableset(ts)) is not None for ts in SETS)


@pytest.mark.parametrize("ts", SETS)
def test_our_narrative_passes_its_check(corrected, ts):
    budget = corrected[ts]
    lines = lines_of_sections(narrative(budget, zero_last_year="na"))
    fs = check_narrative(budget, lines, projects=False)
    assert not [f.message() for f in fs if f.severity.value != "info"]
    sts = statements_of(budget, lines)
    assert len([s for s in sts if s.kind in ("amount", "share", "change", "aspect", "none")]) >= 15
    assert not [s.printed for s in sts if s.kind == "unknown"]


@pytest.mark.parametrize("ts", SETS)
def test_with_the_100_percent_convention_only_zero_bases_are_warned(corrected, ts):
    budget = corrected[ts]
    fs = check_narrative(budget, lines_of_sections(narrative(budget, zero_last_year="100")), projects=False)
    assert not [f for f in fs if f.severity.value == "error"]
    assert {f.rule for f in fs if f.severity.value == "warning"} <= {"N.zero-base"}


def test_a_changed_figure_in_our_text_is_caught(corrected):
    budget = corrected["sh-budget"]
    lines = lines_of_sections(narrative(budget, zero_last_year="na"))
    bad = [type(l)(l.text.replace("507.25", "507.52"), l.where) for l in lines]
    fs = [f for f in check_narrative(budget, bad, projects=False) if f.severity.value == "error"]
    assert fs and all(f.rule == "N.amount" and f.actual.to_eng_string() == "507.52" for f in fs)
    assert fs[0].position.startswith("其他相关情况说明 第 ")


def test_the_narrative_sheets_of_our_disclosure_workbook(corrected, tmp_path):
    """The disclosure's text sheets, read back as a narrative of the workbook (the sheet input form)."""
    from xlbudget.build import build_from_budgets

    budget = corrected["sh-final"]
    out = tmp_path / "公开.xlsx"
    build_from_budgets([budget], out, force=True, zero_last_year="na", checker=None)
    sheets = narrative_sheets(budget)
    assert sheets == ("第一部分", "第三部分", "第四部分")
    lines = lines_of_sheets(out, sheets)
    assert lines and all(l.where.split("!")[0] in sheets for l in lines)
    fs = check_narrative(budget, lines, projects=False)
    assert not [f.message() for f in fs if f.severity.value != "info"]
    assert len(statements_of(budget, lines)) >= 30


def test_checking_the_disclosure_workbook_reads_its_narrative_sheets(corrected, tmp_path):
    """``check`` of a workbook with the set's text sheets checks them: a changed amount in one is an error
    there (the sheets the reader found decide which sheets are read)."""
    import re

    import openpyxl

    from xlbudget.build import build_from_budgets
    from xlbudget.check import check_file
    from xlbudget.reader import read_workbook

    budget = corrected["sh-final"]
    out = tmp_path / "公开.xlsx"
    build_from_budgets([budget], out, force=True, zero_last_year="na", checker=None)
    assert set(narrative_sheets(budget)) <= set(read_workbook(out).sheets)
    assert not [f.message() for f in check_file(out).findings if f.rule.startswith("N.") and f.severity.value == "error"]

    wb = openpyxl.load_workbook(out)
    amount = r"(\d+)(\.\d\d ?万元)"
    cell = next(c for row in wb["第三部分"].iter_rows() for c in row
                if isinstance(c.value, str) and re.search(amount, c.value))
    cell.value = re.sub(amount, lambda m: str(int(m.group(1)) + 7) + m.group(2), cell.value, count=1)
    wb.save(out)
    bad = [f for f in check_file(out).findings if f.rule == "N.amount" and f.severity.value == "error"]
    assert bad and bad[0].position == "第三部分!" + cell.coordinate
