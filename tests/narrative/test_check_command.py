"""``xlbudget check --narrative FILE`` and the narrative picked up beside each workbook of a batch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from xlbudget.check import check_file
from xlbudget.commands.check import check
from xlbudget.model import example_dir
from xlbudget.writer.template import write_workbook


@pytest.fixture(autouse=True)
def _no_user_catalogue(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XLBUDGET_HOME", str(tmp_path_factory.mktemp("xlbudget-home")))


@pytest.fixture(scope="module")
def filled(tmp_path_factory, budgets) -> Path:
    """The Shanghai budget example's filled workbook (our template)."""
    root = tmp_path_factory.mktemp("narrative")
    b = budgets["sh-budget"]
    return write_workbook(b.layout, root / "单位A.xlsx", budget=b)


BAD = "2026年本部门机关运行经费预算为507.52万元。"


def _json(result):
    return json.loads(result.output)


def test_narrative_option_puts_text_findings_in_the_report(filled, tmp_path):
    text = tmp_path / "说明.txt"
    text.write_text(BAD, "utf-8")
    result = CliRunner().invoke(check, [str(filled), "--narrative", str(text), "--format", "json"])
    assert result.exit_code == 1, result.output
    found = [f for f in _json(result)["files"][0]["findings"] if f["rule"].startswith("N.")]
    assert [(f["rule"], f["severity"]) for f in found] == [("N.amount", "error")]
    assert found[0]["cells"][0] == "第 1 行" and found[0]["actual"] == "507.52" and found[0]["expected"] == "507.25"
    assert "507.52万元" in found[0]["message"]


def test_the_published_text_of_the_example_holds_against_its_workbook(filled):
    text = example_dir("sh-budget") / "disclosure-2026.txt"
    result = CliRunner().invoke(check, [str(filled), "--narrative", str(text), "--format", "json"])
    findings = _json(result)["files"][0]["findings"]
    assert not [f for f in findings if f["rule"].startswith("N.") and f["severity"] != "info"]
    assert [f for f in findings if f["rule"] == "N.context"]


def test_a_narrative_beside_each_workbook_is_picked_up(filled, tmp_path):
    batch = tmp_path / "batch"
    batch.mkdir()
    for name in ("单位A", "单位B"):
        shutil.copy(filled, batch / f"{name}.xlsx")
    (batch / "单位A.txt").write_text(BAD, "utf-8")
    report = json.loads(CliRunner().invoke(check, [str(batch), "--format", "json"]).output)
    rules = {Path(f["path"]).stem: [x["rule"] for x in f["findings"] if x["rule"].startswith("N.")]
             for f in report["files"]}
    assert rules == {"单位A": ["N.amount"], "单位B": []}


def test_narrative_with_several_workbooks_is_a_usage_error(filled, tmp_path):
    text = tmp_path / "说明.txt"
    text.write_text(BAD, "utf-8")
    other = tmp_path / "x.xlsx"
    shutil.copy(filled, other)
    result = CliRunner().invoke(check, [str(filled), str(other), "--narrative", str(text)])
    assert result.exit_code == 2 and "--narrative" in result.output


def test_an_unreadable_narrative_costs_the_text_check_only(filled, tmp_path):
    bad = tmp_path / "说明.docx"
    bad.write_bytes(b"PK\x03\x04 not really")
    report = check_file(filled, narrative=bad)
    assert report.readable
    src = [f for f in report.findings if f.rule == "N.source"]
    assert len(src) == 1 and src[0].severity.value == "error" and "说明.docx" in src[0].message()
    assert [f.rule for f in report.findings if f.rule != "N.source"] == [f.rule for f in check_file(filled).findings]


def test_a_workbook_in_the_official_layout_with_its_published_text(budgets, tmp_path):
    """Official workbooks carry the published tables only: the text is checked against those, and a finding
    names the real cell of the file."""
    from officialgen import write_official

    path = write_official(budgets["sh-budget"], tmp_path / "普陀城管.xlsx", "sheets")
    text = (example_dir("sh-budget") / "disclosure-2026.txt").read_text(encoding="utf-8")
    (tmp_path / "普陀城管.txt").write_text(text, "utf-8")
    report = check_file(path)
    assert report.readable
    assert not [f.message() for f in report.findings if f.rule.startswith("N.") and f.severity.value != "info"]
    (tmp_path / "普陀城管.txt").write_text(text.replace("收入预算4748.35万元", "收入预算4748.36万元"), "utf-8")
    bad = [f for f in check_file(path).findings if f.rule == "N.amount"]
    assert len(bad) == 1 and bad[0].severity.value == "error"
    from xlbudget.reader import read_workbook
    real = read_workbook(path).budget.cell_map["表1!B13"]        # 收入总计 of our template, in this file
    assert bad[0].cells[1] == real != "表1!B13"
