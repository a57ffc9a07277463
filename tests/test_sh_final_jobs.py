"""Every job for the Shanghai 决算 set (sh-final): template, fill, read, check, build with --pdf and
--datapackage, and the demo, through the command line; the 情况说明 figures are computed from the tables."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from xlbudget.build import build_from_budgets
from xlbudget.cli import cli
from xlbudget.model import budget_from_document, load_example
from xlbudget.narrative import narrative
from xlbudget.reader import read_workbook
from xlbudget.template import fill

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "putuo-social-work-2024"
TABLES = [f"表{i}" for i in range(1, 10)]


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> Path:
    spec, doc = load_example("sh-final")
    return fill(doc, tmp_path_factory.mktemp("shf") / "filled.xlsx", spec)


def _text(sections) -> str:
    return "".join("".join(s.text().split()) for s in sections)


def test_tablesets_lists_the_final_accounts_set():
    res = CliRunner().invoke(cli, ["tablesets"])
    assert res.exit_code == 0, res.output
    lines = dict((ln.split("\t")[0], ln.split("\t")[1:]) for ln in res.output.splitlines())
    assert lines["sh-final"] == ["部门决算公开表（上海 9 表）", "万元", "2024.1"]


def test_template_from_the_spec_and_by_id(tmp_path):
    runner = CliRunner()
    out = tmp_path / "t.xlsx"
    res = runner.invoke(cli, ["template", str(EXAMPLE / "spec.toml"), "--table-set", "sh-final", "-o", str(out)])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(out)
    visible = [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"]
    assert visible == TABLES + ["其他公开事项", "预算数及上年决算数", "校验"]
    assert [wb[s]["A2"].value for s in TABLES] == [
        "收入支出决算总表", "收入决算表", "支出决算表", "财政拨款收入支出决算总表", "一般公共预算财政拨款支出决算表",
        "一般公共预算财政拨款基本支出决算表", "财政拨款“三公”经费支出决算表", "政府性基金预算财政拨款收入支出决算表",
        "国有资本经营预算财政拨款收入支出决算表"]
    generic = tmp_path / "g.xlsx"
    res = runner.invoke(cli, ["template", "--table-set", "sh-final", "-o", str(generic)])
    assert res.exit_code == 0, res.output
    assert read_workbook(generic).budget.layout.tableset.id == "sh-final"


def test_read_gives_back_the_example(filled, tmp_path):
    res = CliRunner().invoke(cli, ["read", str(filled), "-o", str(tmp_path / "r.json")])
    assert res.exit_code == 0, res.output
    back = read_workbook(filled)
    assert back.findings == []
    spec, doc = load_example("sh-final")
    want = budget_from_document(doc, spec)
    for t, row, col, v in want.figures():
        assert back.budget.value(t.id, row.key, col.key) == v, (t.id, row.key, col.key)
    assert "sh-final" in (tmp_path / "r.json").read_text(encoding="utf-8")


def test_check_reports_what_the_reference_lists(filled, tmp_path):
    out = tmp_path / "check.json"
    res = CliRunner().invoke(cli, ["check", str(filled), "--format", "json", "-o", str(out)])
    assert res.exit_code == 1, res.output          # the 政府采购 ISSUE of the reference is an error
    report = json.loads(out.read_text(encoding="utf-8"))
    findings = [f for file in report["files"] for f in file["findings"]]
    assert sorted({(f["rule"], f["severity"]) for f in findings}) == [
        ("CODE.exists", "warning"), ("PROC.sme_awards", "error"), ("T6.sum", "info"), ("X7", "info")]
    residues = {f["rule"]: f for f in findings if f["severity"] == "info"}
    assert residues["T6.sum"]["cells"][0] == "表6!F5" and residues["X7"]["cells"][-1] == "表5!D23"


def test_narrative_is_computed_from_the_tables():
    spec, doc = load_example("sh-final")
    text = _text(narrative(budget_from_document(doc, spec)))
    for words in ("2024年度收入支出总计307.82万元。与2023年度相比，收入支出总计增加307.82万元，增长100.00%。主要原因：单位于2024年成立。",
                  "本年收入合计307.82万元，其中：财政拨款收入307.82万元，占100.00%。",
                  "基本支出105.58万元，占34.30%；项目支出202.24万元，占65.70%。",
                  "住房保障支出（类）29.42万元，占9.56%。",       # computed: 29.42 / 307.82 = 9.5575 %
                  "年初预算为0.00万元，全年预算为321.02万元，支出决算为307.82万元，完成全年预算数的95.89%。",
                  "全年预算为52.00万元，支出决算为51.32万元，完成全年预算数的98.69%。决算数小于全年预算数的主要原因：人员变动引起实际支出低于预算。",
                  "全年预算为202.24万元，支出决算为202.24万元，完成全年预算数的100.00%。决算数与全年预算数持平。",
                  "人员经费95.36万元", "公用经费10.23万元，主要包括：办公费、差旅费、",
                  "2024年度无“三公”经费财政拨款支出。", "2024年度无政府性基金预算财政拨款收入和支出。",
                  "机关运行经费支出10.23万元，比2023年度增加10.23万元，增长100.00%。",
                  "政府采购金额（以合同签订为准）为21.07万元，其中：货物采购金额21.07万元",
                  "共有车辆0辆", "十一、机关运行经费："):
        assert words in text, words
    assert "邮电费" not in text.split("公用经费")[1].split("。")[0]    # 0.00 in 表6: not listed


def test_sangong_section_states_budget_final_and_completion_per_item():
    spec, doc = load_example("sh-final")
    doc["tables"]["T7"] = {"sangong": {"abroad_budget": D("2"), "abroad_final": D("1.5"), "purchase_budget": D("20"),
                                       "purchase_final": D("19.8"), "operation_budget": D("3"),
                                       "operation_final": D("2.6"), "reception_budget": D("1"),
                                       "reception_final": D("0.4")}}
    doc["tables"]["LY"]["abroad"] = {"value": D("1")}
    doc["facts"]["narrative"]["sangong"] = {"budget_reason": "厉行节约", "reasons": {"abroad": "出访任务增加"}}
    text = _text(narrative(budget_from_document(doc, spec)))
    for words in ("“三公”经费财政拨款支出年初预算为26.00万元，支出决算为24.30万元，完成预算的93.46%",
                  "因公出国（境）费预算为2.00万元，决算为1.50万元，完成预算的75.00%",
                  "公务用车购置及运行维护费预算为23.00万元，支出决算为22.40万元，完成预算的97.39%",
                  "公务接待费预算为1.00万元，支出决算为0.40万元，完成预算的40.00%",
                  "决算数小于预算数的主要原因：厉行节约。",
                  "因公出国（境）费支出决算增加0.50万元，增长50.00%", "因公出国（境）费支出增加的主要原因是出访任务增加。",
                  "公务用车购置支出为19.80万元。", "公务用车运行维护支出2.60万元。"):
        assert words in text, words


def test_build_refuses_the_example_with_its_error_and_forces_it(filled, tmp_path):
    res = CliRunner().invoke(cli, ["build", str(filled), "-o", str(tmp_path / "d.xlsx")])
    assert res.exit_code != 0 and "PROC.sme_awards" in res.output
    assert not (tmp_path / "d.xlsx").exists()


@pytest.mark.libreoffice
def test_build_with_pdf_and_datapackage(filled, tmp_path, soffice):
    from xlbudget.libreoffice import pdf_text

    out, pdf, dp = tmp_path / "disclosure.xlsx", tmp_path / "disclosure.pdf", tmp_path / "data"
    res = CliRunner().invoke(cli, ["build", str(filled), "-o", str(out), "--pdf", str(pdf), "--datapackage", str(dp),
                                   "--force"])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(out)
    visible = [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"]
    assert visible == ["封面", "目录", "第一部分"] + TABLES + ["第三部分", "第四部分"]
    text = "".join(pdf_text(pdf).split())
    for words in ("2024年度部门决算", "第二部分中共上海市普陀区委社会工作部2024年度部门决算表", "收入支出决算总表",
                  "注：本表反映部门本年度的总收支和年末结转结余情况。", "使用非财政拨款结余", "年末结转和结余",
                  "30202印刷费0.00", "人员经费合计95.36", "公用经费合计10.23",
                  "说明：中共上海市普陀区委社会工作部本年度没有财政拨款“三公”经费支出，故本表无数据。",
                  "完成全年预算数的95.89%", "收入支出总计307.82万元"):
        assert words in text, words
    package = json.loads((dp / "datapackage.json").read_text(encoding="utf-8"))
    assert package["title"] == "中共上海市普陀区委社会工作部 2024 年部门决算公开数据"
    assert {m["phase"] for m in package["model"]["measures"].values()} == {"executed"}
    revenue = (dp / "revenue.csv").read_text(encoding="utf-8")
    assert "T1,收入支出决算总表,in_gp,0,false,,,一、一般公共预算财政拨款收入" in revenue and ",307.82," in revenue


@pytest.mark.libreoffice
def test_demo_of_the_set(tmp_path, soffice):
    res = CliRunner().invoke(cli, ["demo", "--table-set", "sh-final", str(tmp_path / "demo")])
    assert res.exit_code == 0, res.output
    for name in ("template.xlsx", "filled.xlsx", "check.json", "disclosure.xlsx", "disclosure.pdf"):
        assert (tmp_path / "demo" / name).is_file(), name
    assert "未经校验" in res.output


def test_build_of_a_clean_final_accounts_is_verified(tmp_path):
    spec, doc = load_example("sh-final")
    doc["facts"]["procurement"]["sme_awarded_other"] = D("0")
    result = build_from_budgets([budget_from_document(doc, spec)], tmp_path / "d.xlsx")
    assert result.verified and result.errors == []
    assert (tmp_path / "d.xlsx").is_file()


def test_next_years_template_carries_this_years_final_accounts(filled, tmp_path):
    res = CliRunner().invoke(cli, ["template", "--like", str(filled), "-o", str(tmp_path / "next.xlsx")])
    assert res.exit_code == 0, res.output
    b = read_workbook(tmp_path / "next.xlsx").budget
    assert b.spec.year == 2025 and b.spec.tableset == "sh-final"
    assert [b.published("LY", k, "value") for k in ("total", "fiscal", "gp", "operating_costs")] == \
        [D("307.82"), D("307.82"), D("307.82"), D("10.23")]
    assert b.doc["facts"]["overview"]["units"][1] == "上海市普陀区社会工作发展服务中心"


@pytest.mark.libreoffice
def test_libreoffice_recomputes_every_formula_to_the_written_value(filled, tmp_path, soffice):
    from recalc import written_vs_recalculated

    count, bad = written_vs_recalculated(filled, tmp_path)
    assert count > 300
    assert bad == []
