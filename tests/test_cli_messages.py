"""Messages speak the user's language: click's own texts in Chinese by default, English with ``--lang en`` or
``XLBUDGET_LANG=en``; no wholly English message, no internal row key, duplicates named as such, long cell text
clipped."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from xlbudget.cli import cli
from xlbudget.commands.check import check
from xlbudget.findings import Finding, Severity
from xlbudget.layout import Layout
from xlbudget.model import Budget, normalise_document
from xlbudget.rules import Context
from xlbudget.rules.base import cell_name
from xlbudget.spec import generic_spec

ENGLISH = ("Usage:", "Error:", "Invalid value", "does not exist", "Show this message", "No such option",
           "Options", "Try '")


@pytest.fixture(autouse=True)
def _default_language(monkeypatch):
    monkeypatch.delenv("XLBUDGET_LANG", raising=False)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _no_english(text: str) -> None:
    for word in ENGLISH:
        assert word not in text, (word, text)


@pytest.mark.parametrize("args, words", [
    (["check", "没有这个文件.xlsx"], ["用法：", "不存在", "错误："]),
    (["check", "--bogus", "x"], ["没有选项", "--bogus"]),
    (["check", "--jobs", "x", "."], ["不是有效的整数"]),
    (["check", "--format", "pdf", "."], ["不是", "text"]),
    (["nosuch"], ["没有命令"]),
    (["template"], ["缺少选项", "-o"]),
])
def test_click_texts_are_chinese_by_default(runner, args, words):
    result = runner.invoke(cli, args)
    assert result.exit_code == 2
    for w in words:
        assert w in result.output, result.output
    _no_english(result.output)


@pytest.mark.parametrize("command", [[], ["check"], ["read"], ["template"], ["build"], ["catalogue"],
                                     ["catalogue", "import"]])
def test_help_is_chinese(runner, command):
    result = runner.invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "用法：" in result.output and "显示此帮助并退出" in result.output and "选项" in result.output
    _no_english(result.output)


def test_english_with_lang_or_environment(runner, monkeypatch):
    result = runner.invoke(check, ["nope.xlsx", "--lang", "en"])
    assert result.exit_code == 2
    assert "Usage:" in result.output and "does not exist" in result.output and "用法" not in result.output
    monkeypatch.setenv("XLBUDGET_LANG", "en")
    result = runner.invoke(cli, ["template", "--help"])
    assert "Show this message and exit." in result.output and "Usage:" in result.output
    result = runner.invoke(cli, ["template", "--year", "1999", "-o", "t.xlsx"])
    assert "is not in the range" in result.output
    monkeypatch.delenv("XLBUDGET_LANG")
    result = runner.invoke(check, ["nope.xlsx"])                     # and back to Chinese
    assert "用法：" in result.output and "Usage:" not in result.output


def test_python_dash_m_speaks_chinese():
    res = subprocess.run([sys.executable, "-m", "xlbudget", "check", "--bogus"], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 2 and "没有选项" in res.stderr and "No such option" not in res.stderr


def test_unknown_table_set_and_spec_syntax_in_chinese(runner, tmp_path: Path):
    spec = tmp_path / "s.toml"
    spec.write_text('tableset = "xj12"\n[department]\nname = "某局"\nyear = 2025\n', encoding="utf-8")
    result = runner.invoke(cli, ["template", str(spec), "-o", str(tmp_path / "t.xlsx")])
    assert result.exit_code == 2 and "表套" in result.output and "xj12" in result.output
    assert "not found" not in result.output
    spec.write_text('tableset = "xj11"\n[department\nname = "某局"\n', encoding="utf-8")
    result = runner.invoke(cli, ["template", str(spec), "-o", str(tmp_path / "t.xlsx")])
    assert result.exit_code == 2 and "第 2 行" in result.output and "TOML" in result.output
    assert "Expected" not in result.output and "at line" not in result.output


def _generic_budget(codes: dict[str, str], spare_rows: int = 6) -> tuple[Layout, Budget]:
    spec = generic_spec("测试部门", 2025, spare_rows=spare_rows)
    layout = Layout(spec)
    doc = {"spec": spec.to_dict(), "tables": {"T5": {k: {"code": c} for k, c in codes.items()}}}
    return layout, Budget(layout, normalise_document(layout, doc))


def test_no_internal_row_key_in_messages():
    layout, budget = _generic_budget({})
    t3 = layout.tables["T3"]
    spare = next(r for r in t3.rows.values() if r.spare)
    for lang in ("zh", "en"):
        name = cell_name(t3, spare, "total", lang)
        assert spare.key not in name.replace(t3.sheet, ""), name
        assert str(spare.r + 1) in name
    ctx = Context(budget)
    label = ctx.label("T3", spare.key)
    assert spare.key not in label.replace(t3.sheet, "") and label.startswith(t3.sheet)
    total = next(r for r in t3.rows.values() if r.total)
    assert total.key not in ctx.label("T3", total.key).replace(t3.sheet, "")


def test_a_repeated_code_is_a_duplicate_not_out_of_order():
    from xlbudget.rules import load_rules

    layout, budget = _generic_budget({"r1": "2014101", "r2": "2014150", "r3": "2014101"})
    rule = next(r for r in load_rules() if r.id == "CODE.hierarchy")
    found = list(rule.check(budget, Context(budget)))
    pos = {k: layout.position("T5", k, "code") for k in ("r1", "r3")}
    assert [f.cells for f in found] == [(pos["r3"], pos["r1"])]
    assert "重复" in found[0].message("zh") and "顺序" not in found[0].message("zh")
    assert "twice" in found[0].message("en")


def test_a_huge_cell_is_echoed_clipped():
    f = Finding("input-not-number", "READ.not-number", Severity.ERROR, cells=("表6!C12",), params={"text": "字" * 32767})
    for lang in ("zh", "en"):
        msg = f.message(lang)
        assert len(msg) < 200 and "字" * 60 + "…" in msg
    assert f.params["text"] == "字" * 32767                        # the report's params keep the whole text
