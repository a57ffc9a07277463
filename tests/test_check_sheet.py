"""The template's live 校验 sheet is the rule book rendered by the rule objects that ``check`` runs.

* Every rule id of the rule book appears on the sheet (as formulas, or listed as checked by xlbudget check).
* The demo's filled workbook recalculated by LibreOffice shows S1 failing, as ``check`` reports it.
* On mutated workbooks, LibreOffice's verdict of every formula-rendered rule is ``check``'s verdict, and the
  cached verdicts (what a viewer that does not recalculate shows) are LibreOffice's.
"""

from __future__ import annotations

import copy
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest

from xlbudget import libreoffice as lo
from xlbudget.check import check_file
from xlbudget.layout import CHECK_SHEET, layout_for
from xlbudget.model import budget_from_document, load_example
from xlbudget.rules import Context, load_rules
from xlbudget.rules.sheet import LISTED, STATUS, sheet_rows
from xlbudget.writer.template import write_workbook

from setinstall import installed
from test_units import budget as units_budget, units_set

FIRST = 5        # first rule row of the sheet (1-based)
FAIL, RESIDUE = STATUS["fail"], STATUS["residue"]


def sheet(path: Path) -> list[tuple[str, str, str]]:
    """(rule id, what the 结果 column shows, the note of a listed rule) of every row of the 校验 sheet."""
    wb = openpyxl.load_workbook(path, data_only=True)
    ws = wb[CHECK_SHEET]
    out = []
    for row in ws.iter_rows(min_row=FIRST, values_only=True):
        if row[0] is None:
            continue
        out.append((row[0], row[7] or "", row[2] if row[7] is None else ""))
    return out


def write(tmp_path: Path, name: str, spec, doc) -> Path:
    """The filled workbook of a document, written as ``xlbudget demo`` writes filled.xlsx."""
    budget = budget_from_document(doc, spec)
    return write_workbook(layout_for(spec), tmp_path / f"{name}.xlsx", budget)


def verdicts(findings) -> dict[str, set[str]]:
    """Per rule id: "fail" for an error or warning, "residue" for a rounding residue."""
    out: dict[str, set[str]] = {}
    for f in findings:
        if f.kind == "rounding-residue":
            out.setdefault(f.rule, set()).add("residue")
        elif f.severity.value in ("error", "warning") and f.kind != "rule-config":
            out.setdefault(f.rule, set()).add("fail")
    return out


def shown(rows) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for rid, result, _ in rows:
        if result == FAIL:
            out.setdefault(rid, set()).add("fail")
        elif result == RESIDUE:
            out.setdefault(rid, set()).add("residue")
    return out


# --- the sheet lists the whole rule book ------------------------------------------------------------------
def test_every_rule_id_of_the_rule_book_appears_on_the_sheet(tmp_path):
    spec, doc = load_example()
    path = write(tmp_path, "filled", spec, doc)
    ids = {rid for rid, _, _ in sheet(path)}
    budget = budget_from_document(doc, spec)
    ctx = Context(budget)
    rules = [r for r in load_rules("xj11") if r.enabled]
    assert len(rules) > 50
    missing = [r.id for r in rules if not {r.rule_id(subs) for subs in ctx.expand(r.foreach)} & ids]
    assert missing == []
    # a rule expanded per instance shows each instance that applies
    assert {"T2.sum", "T6.sum", "T7.sum", "PD.sum", "PP_p1.sum", "T8.empty", "T11.empty"} <= ids
    # the kinds that used to be missing: 三公, X4.sources, the code rules
    assert {"S1", "S2", "S3", "X4.sources", "CODE.format", "CODE.exists", "X15.weights", "T6.sum"} <= ids


def test_only_the_catalogue_rules_are_listed_without_formulas(tmp_path):
    spec, doc = load_example()
    rows = sheet(write(tmp_path, "filled", spec, doc))
    listed = {rid for rid, _, note in rows if note}
    assert listed == {"CODE.format", "CODE.hierarchy", "CODE.name", "CODE.exists"}
    assert all(note == LISTED for _, _, note in rows if note)


def test_the_cached_sheet_already_shows_what_check_finds(tmp_path):
    # a viewer that does not recalculate shows the verdicts xlbudget computed: S1 fails on the seed
    spec, doc = load_example()
    path = write(tmp_path, "filled", spec, doc)
    rows = sheet(path)
    report = check_file(path)
    assert "fail" in verdicts(report.findings)["S1"]
    assert shown(rows) == verdicts(report.findings)
    assert [r for r in rows if r[0] == "S1" and r[1] == FAIL]


def test_a_set_whose_rules_cross_units_renders_them_converted(tmp_path):
    folder = units_set(tmp_path, sangong_decimals=4)
    b = units_budget(folder, "15001.00", "1.5")
    (u1,) = [r for r in sheet_rows(b) if r.rule == "U1"]
    assert u1.left == "ROUND('表10'!B9,4)" and u1.right == "ROUND('表6'!D10,2)/10000"
    assert u1.tolerance == "0.00005*COUNT('表10'!B9)+0.0000005*COUNT('表6'!D10)"
    assert u1.status == "fail" and u1.unit == "万元"


# --- in LibreOffice -----------------------------------------------------------------------------------------
def _mutations():
    spec, seed = load_example()

    def change(fn):
        doc = copy.deepcopy(seed)
        fn(doc)
        return doc

    def clean(doc):
        doc["tables"]["T10"]["vehicle_purchase"] = {"gp": D("18.00")}
        doc["facts"]["narrative"]["sangong_reasons"]["vehicle_purchase"] = "2025 年按编制购置一般公务用车 1 辆"

    def reception(doc):       # 表6 30217 prints 0.81 against 表10 0.80: a residue of X11, totals move
        clean(doc)
        doc["tables"]["T6"]["30217"]["operating"] = D("0.805")

    def reception_more(doc):  # beyond the interval: X11 fails, 表6 no longer equals 表5
        clean(doc)
        doc["tables"]["T6"]["30217"]["operating"] = D("0.90")

    def performance(doc):     # a weight off by one, a project without outcome indicators
        clean(doc)
        doc["performance"]["projects"]["p1"]["indicators"][0]["weight"] = 8
        for ind in doc["performance"]["projects"]["p2"]["indicators"]:
            ind["level1"] = ind["level1"].replace("效益", "其他")

    return spec, {"seed": seed, "clean": change(clean), "reception": change(reception),
                  "reception_more": change(reception_more), "performance": change(performance)}


@pytest.mark.libreoffice
def test_the_demo_workbook_recalculated_shows_s1_failing_as_check_does(soffice, tmp_path):
    spec, doc = load_example()
    path = write(tmp_path, "filled", spec, doc)
    recalculated = lo.convert(path, tmp_path / "lo", "xlsx", recalc=True)
    rows = sheet(recalculated)
    assert any(rid == "S1" and result == FAIL for rid, result, _ in rows)
    s1 = [f for f in check_file(path).findings if f.rule == "S1"]
    assert [f.severity.value for f in s1] == ["error"]


@pytest.mark.libreoffice
def test_libreoffice_verdicts_are_checks_verdicts_on_mutated_workbooks(soffice, tmp_path):
    spec, docs = _mutations()
    expected_failures = {"seed": {"S1", "S2", "S3"}, "clean": set(), "reception": set(),
                         "reception_more": {"X11", "X7"}, "performance": {"X15.weights", "X15.levels"}}
    for name, doc in docs.items():
        path = write(tmp_path, name, spec, doc)
        cached = sheet(path)
        recalculated = sheet(lo.convert(path, tmp_path / f"lo-{name}", "xlsx", recalc=True))
        assert recalculated == cached, name
        want = verdicts(check_file(path).findings)
        got = shown(recalculated)
        assert got == want, name
        assert expected_failures[name] <= {rid for rid, v in got.items() if "fail" in v}, name
        if name == "reception":
            assert got["X11"] == {"residue"}


@pytest.mark.libreoffice
def test_libreoffice_converts_units_as_check_does(soffice, tmp_path):
    folder = units_set(tmp_path, sangong_decimals=4)
    for t6, status in (("15000.00", STATUS["ok"]), ("15001.00", FAIL)):
        with installed(folder) as tid:  # the workbook is checked: its set is installed, named by id
            b = units_budget(folder, t6, "1.5", tid)
            path = write_workbook(b.layout, tmp_path / f"units-{t6}.xlsx", b)
            rows = dict((rid, result) for rid, result, _ in sheet(lo.convert(path, tmp_path / f"lo-{t6}", "xlsx",
                                                                              recalc=True)))
            assert rows["U1"] == rows["U2"] == status
            assert ("fail" in verdicts(check_file(path).findings).get("U1", set())) == (status == FAIL)
