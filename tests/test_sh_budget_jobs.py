"""Every job for the Shanghai district budget set: template, fill, read, check, build with --pdf and
--datapackage, through the command line; the set is named by id only."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from xlbudget.cli import cli
from xlbudget.model import load_example
from xlbudget.reader import read_workbook
from xlbudget.template import fill

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sh-budget-2026"


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> Path:
    spec, doc = load_example("sh-budget")
    return fill(doc, tmp_path_factory.mktemp("sh") / "filled.xlsx", spec)


def test_tablesets_lists_id_name_units_version():
    res = CliRunner().invoke(cli, ["tablesets"])
    assert res.exit_code == 0, res.output
    lines = dict((ln.split("\t")[0], ln.split("\t")[1:]) for ln in res.output.splitlines())
    assert lines["sh-budget"] == ["部门预算公开表（上海区级 9 表）", "元、万元", "2026.1"]
    assert lines["xj11"][1:] == ["万元", "2025.1"]


def test_template_of_the_set_from_its_spec_and_by_id(tmp_path):
    runner = CliRunner()
    out = tmp_path / "t.xlsx"
    res = runner.invoke(cli, ["template", str(EXAMPLE / "spec.toml"), "--table-set", "sh-budget", "-o", str(out)])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(out)
    assert [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"][:9] == [f"表{i}" for i in range(1, 10)]
    assert wb["表9"]["A2"].value == "2026年部门“三公”经费和机关运行经费预算表"
    generic = tmp_path / "g.xlsx"
    res = runner.invoke(cli, ["template", "--table-set", "sh-budget", "-o", str(generic)])
    assert res.exit_code == 0, res.output
    assert read_workbook(generic).budget.layout.tableset.id == "sh-budget"


@pytest.mark.parametrize("name", ["../templates/sh-budget", "/tmp", "nosuchset"])
def test_a_table_set_is_named_by_installed_id_only(tmp_path, name):
    res = CliRunner().invoke(cli, ["template", "--table-set", name, "-o", str(tmp_path / "x.xlsx")])
    assert res.exit_code == 2 and "未知的表套" in res.output
    assert not (tmp_path / "x.xlsx").exists()
    spec = tmp_path / "spec.toml"
    spec.write_text(f'tableset = "{name}"\n[department]\nname = "某局"\nyear = 2026\n', encoding="utf-8")
    res = CliRunner().invoke(cli, ["template", str(spec), "-o", str(tmp_path / "y.xlsx")])
    assert res.exit_code == 2 and "未安装" in res.output


def test_spec_and_option_must_agree(tmp_path):
    res = CliRunner().invoke(cli, ["template", str(EXAMPLE / "spec.toml"), "--table-set", "xj11",
                                   "-o", str(tmp_path / "x.xlsx")])
    assert res.exit_code == 2 and "不一致" in res.output


def test_read_gives_back_the_example(filled, tmp_path):
    res = CliRunner().invoke(cli, ["read", str(filled), "-o", str(tmp_path / "r.json")])
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    text = json.dumps(data, ensure_ascii=False)
    assert "47483458" in text and "507.25" in text and "sh-budget" in text


def test_check_reports_no_error(filled, tmp_path):
    out = tmp_path / "check.json"
    res = CliRunner().invoke(cli, ["check", str(filled), "--format", "json", "-o", str(out)])
    assert res.exit_code == 0, res.output
    report = json.loads(out.read_text(encoding="utf-8"))
    findings = [f for file in report["files"] for f in file["findings"]]
    assert {(f["rule"], f["severity"]) for f in findings} == {("CODE.exists", "warning")}


@pytest.mark.libreoffice
def test_build_with_pdf_and_datapackage(filled, tmp_path, soffice):
    from xlbudget.libreoffice import pdf_text

    out, pdf, dp = tmp_path / "disclosure.xlsx", tmp_path / "disclosure.pdf", tmp_path / "data"
    res = CliRunner().invoke(cli, ["build", str(filled), "-o", str(out), "--pdf", str(pdf), "--datapackage", str(dp)])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(out)
    visible = [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"]
    assert visible == ["封面", "目录", "编制说明"] + [f"表{i}" for i in range(1, 10)] + ["其他相关情况说明"]
    text = "".join(pdf_text(pdf).split())
    for words in ("2026年部门预算编制说明", "收入预算4748.35万元", "比2025年预算减少19.79万元",
                  "“城乡社区支出（类）城乡社区管理事务（款）城管执法（项）”3377.56万元",
                  "2026年“三公”经费预算数为114.22万元", "机关运行经费预算为507.25万元", "政府采购预算595.28万元",
                  "编报绩效目标的项目14个", "执法执勤用车63辆", "47,483,458", "114.22",
                  "注：本年度无政府性基金预算支出，故本表无数据"):
        assert words in text, words
    package = json.loads((dp / "datapackage.json").read_text(encoding="utf-8"))
    assert package["resources"]
    expenditure = (dp / "expenditure.csv").read_text(encoding="utf-8")
    assert "33775592" in expenditure.replace(",", "").replace(".00", "")


def test_next_years_template_carries_last_years_figures_into_wan(filled, tmp_path):
    out = tmp_path / "next.xlsx"
    res = CliRunner().invoke(cli, ["template", "--like", str(filled), "-o", str(out)])
    assert res.exit_code == 0, res.output
    b = read_workbook(out).budget
    assert b.spec.year == 2027 and b.layout.tableset.id == "sh-budget"
    assert str(b.value("LY", "gp", "value")) == "4748.3458"          # 47,483,458 元, exactly
    assert str(b.published("LY", "sangong", "value")) == "114.22"
    assert str(b.published("LY", "operating_costs", "value")) == "507.25"


def test_the_narrative_states_the_documents_figures_computed_from_the_tables():
    from xlbudget.model import budget_from_document
    from xlbudget.narrative import narrative

    spec, doc = load_example("sh-budget")
    text = "\n".join(p for s in narrative(budget_from_document(doc, spec)) for p in [s.title, *s.paragraphs])
    published = "".join((EXAMPLE / "disclosure-2026.txt").read_text(encoding="utf-8").split())
    # every 项 of the 编制说明, word for word as published
    items = [line for line in text.splitlines() if line[:2].rstrip(".").isdigit() and "（项）”" in line]
    assert len(items) == 9
    for line in items:
        assert "".join(line.split()) in published, line
    for words in ("收入预算4748.35万元，其中：财政拨款收入4748.35万元，比2025年预算减少19.79万元",
                  "一般公共预算拨款支出预算4748.35万元，比2025年预算减少19.79万元",
                  "公务用车运行费38.76万元，与2025年预算持平", "机关运行经费预算为507.25万元",
                  "政府采购服务预算518.18万元", "预留给小型和微型企业的政府采购项目预算为178.85万元",
                  "涉及项目预算资金1099.22万元", "执法执勤用车63辆", "单价100万元（含）以上设备（不含车辆）2套"):
        assert words in text and words in published, words


def test_build_of_two_units_adds_their_tables(filled, tmp_path):
    import msgspec.structs

    from xlbudget.build import build

    spec, doc = load_example("sh-budget")   # a second unit with the same figures (another unit, not a copy)
    spec2 = msgspec.structs.replace(spec, department=spec.department + "第二执法大队")
    other = fill({**doc, "spec": spec2.to_dict()}, tmp_path / "unit2.xlsx", spec2)
    result = build([filled, other], tmp_path / "dept.xlsx", name="汇总部门")
    assert result.verified
    wb = openpyxl.load_workbook(result.out, data_only=True)
    values = [c.value for row in wb["表1"].iter_rows() for c in row]
    assert 94966916 in values                       # 收入总计 2 × 47,483,458 元
    values9 = [c.value for row in wb["表9"].iter_rows() for c in row]
    assert any(abs((v or 0) - 228.44) < 1e-9 for v in values9 if isinstance(v, (int, float)))


@pytest.mark.libreoffice
def test_libreoffice_recalculates_every_formula_to_the_written_value(filled, tmp_path, soffice):
    from recalc import written_vs_recalculated

    count, bad = written_vs_recalculated(filled, tmp_path)
    assert count > 150
    assert bad == []
