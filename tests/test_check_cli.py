"""``xlbudget check``: options, output formats, exit codes (0 valid, 1 errors, 2 usage)."""

from __future__ import annotations

import csv
import json
from decimal import Decimal as D
from importlib import resources
from pathlib import Path

import jsonschema
import openpyxl
import pytest
from click.testing import CliRunner

from xlbudget.catalogue import import_catalogue
from xlbudget.commands.check import check
from xlbudget.layout import layout_for
from xlbudget.model import budget_from_document, load_example
from xlbudget.report import schema
from xlbudget.writer.template import write_workbook


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A folder of submissions: the seed, a clean one, an unreadable one and a stray text file."""
    root = tmp_path_factory.mktemp("submissions")
    spec, doc = load_example()
    seed = budget_from_document(doc, spec)
    write_workbook(seed.layout, root / "seed.xlsx", budget=seed)
    doc["tables"]["T10"]["vehicle_purchase"] = {"gp": D("18.00")}
    doc["facts"]["narrative"]["sangong_reasons"]["vehicle_purchase"] = "2025 年按编制购置一般公务用车 1 辆"
    clean = budget_from_document(doc, spec)
    (root / "ok").mkdir()
    write_workbook(clean.layout, root / "ok" / "clean.xlsx", budget=clean)
    (root / "broken.xlsx").write_bytes(b"PK\x03\x04 truncated")
    (root / "readme.txt").write_text("not a submission", encoding="utf-8")
    return root


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _pos(table: str, row: str, col: str) -> str:
    return layout_for(load_example()[0]).position(table, row, col)


def test_clean_submission_exits_0(runner: CliRunner, folder: Path):
    result = runner.invoke(check, [str(folder / "ok" / "clean.xlsx")])
    assert result.exit_code == 0, result.output
    assert "通过" in result.output and "错误 0" in result.output


def test_seed_exits_1_and_names_the_inconsistency(runner: CliRunner, folder: Path):
    result = runner.invoke(check, [str(folder / "seed.xlsx")])
    assert result.exit_code == 1
    assert "[错误] S1 " + _pos("T10", "vehicle_purchase", "total") in result.output
    assert "克州数字化发展局公车购置项目" in result.output
    assert "[提示] T6.sum" in result.output                          # the residues, as info


def test_english(runner: CliRunner, folder: Path):
    result = runner.invoke(check, [str(folder / "seed.xlsx"), "--lang", "en", "--min-severity", "warning"])
    assert result.exit_code == 1
    assert "[error] S1" in result.output and "[warning] S2" in result.output and "[info]" not in result.output


def test_folder_in_parallel_with_an_unreadable_file(runner: CliRunner, folder: Path):
    result = runner.invoke(check, [str(folder), "--jobs", "2", "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    jsonschema.validate(data, schema(), cls=jsonschema.Draft202012Validator)
    by_name = {f["name"]: f for f in data["files"]}
    assert sorted(by_name) == ["broken.xlsx", "clean.xlsx", "seed.xlsx"]           # readme.txt skipped
    assert by_name["broken.xlsx"]["status"] == "unreadable"
    assert by_name["broken.xlsx"]["findings"][0]["rule"].startswith("READ.")
    assert by_name["clean.xlsx"]["status"] == "ok" and by_name["seed.xlsx"]["status"] == "errors"
    assert data["summary"]["files"] == 3 and data["summary"]["unreadable"] == 1


def test_json_to_a_file(runner: CliRunner, folder: Path, tmp_path: Path):
    out = tmp_path / "r" / "report.json"
    result = runner.invoke(check, [str(folder / "ok"), "--format", "json", "-o", str(out)])
    assert result.exit_code == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["valid"] is True and data["tolerance"] == "interval"


def test_fixed_tolerance(runner: CliRunner, folder: Path):
    result = runner.invoke(check, [str(folder / "seed.xlsx"), "--tolerance", "fixed:0.01", "--format", "json"])
    data = json.loads(result.output)
    assert data["tolerance"] == "fixed:0.01"
    residues = [f for f in data["files"][0]["findings"] if f["kind"] == "rounding-residue"]
    assert residues and all(f["tolerance_mode"] == "fixed" and f["tolerance"] == "0.01" for f in residues)


def test_xlsx_report_and_annotations(runner: CliRunner, folder: Path, tmp_path: Path):
    out = tmp_path / "report.xlsx"
    seed = folder / "seed.xlsx"
    before = seed.read_bytes()
    result = runner.invoke(check, [str(seed), "--format", "xlsx", "-o", str(out), "--annotate", str(tmp_path / "marked")])
    assert result.exit_code == 1
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["提交情况", "问题清单"] and wb["提交情况"]["B2"].value == "seed.xlsx"
    assert (tmp_path / "marked" / "seed.checked.xlsx").is_file()
    assert seed.read_bytes() == before
    assert "标注副本" in result.output


def test_annotate_folder_inside_the_batch_is_not_checked(runner: CliRunner, folder: Path, tmp_path: Path):
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "clean.xlsx").write_bytes((folder / "ok" / "clean.xlsx").read_bytes())
    marked = batch / "marked"
    marked.mkdir()
    (marked / "old.checked.xlsx").write_bytes(b"junk from an earlier run")
    result = runner.invoke(check, [str(batch), "--annotate", str(marked), "--format", "json"])
    assert result.exit_code == 0, result.output
    names = [f["name"] for f in json.loads(result.output.split("\n已写出")[0])["files"]]
    assert names == ["clean.xlsx"]


def test_complete_catalogue_turns_unknown_codes_into_errors(runner: CliRunner, tmp_path: Path):
    spec, doc = load_example()
    from msgspec.structs import replace

    spec = replace(spec, functions=tuple(sorted(spec.functions + ("2240199",))), names={"2240199": "其他灾害防治支出"})
    doc["spec"] = spec.to_dict()
    doc["tables"]["T10"]["vehicle_purchase"] = {"gp": D("18.00")}
    doc["facts"]["narrative"]["sangong_reasons"]["vehicle_purchase"] = "按编制购置"
    b = budget_from_document(doc, spec)
    book = tmp_path / "unknown.xlsx"
    write_workbook(b.layout, book, budget=b)
    partial = runner.invoke(check, [str(book), "--format", "json"])
    assert partial.exit_code == 0
    kinds = {f["kind"]: f["severity"] for f in json.loads(partial.output)["files"][0]["findings"]}
    assert kinds["unknown-code-partial"] == "warning"
    src = tmp_path / "official.csv"
    with open(src, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["科目编码", "科目名称"])
        for kind in ("function", "economic"):
            text = resources.files("xlbudget").joinpath(f"data/catalogue/2025/{kind}.csv").read_text(encoding="utf-8")
            w.writerows(r[:2] for r in list(csv.reader(text.splitlines()))[1:])
    import_catalogue(src, tmp_path / "cat", 2025, complete=True)
    full = runner.invoke(check, [str(book), "--catalogue", str(tmp_path / "cat"), "--format", "json"])
    assert full.exit_code == 1
    bad = [f for f in json.loads(full.output)["files"][0]["findings"] if f["severity"] == "error"]
    assert {(f["rule"], f["kind"]) for f in bad} == {("CODE.exists", "unknown-code")}
    assert {f["params"]["code"] for f in bad} == {"22401", "2240199"}       # the 款 and the 项 added


@pytest.mark.parametrize("args, words", [
    (["--tolerance", "loose"], "容差"),
    (["--format", "xlsx"], "-o"),
    (["--jobs", "0"], "jobs"),
    (["--format", "pdf"], "format"),
])
def test_usage_errors_exit_2(runner: CliRunner, folder: Path, args, words):
    result = runner.invoke(check, [str(folder / "seed.xlsx")] + args)
    assert result.exit_code == 2 and words in result.output


def test_missing_path_exits_2(runner: CliRunner, tmp_path: Path):
    result = runner.invoke(check, [str(tmp_path / "nope.xlsx")])
    assert result.exit_code == 2


def test_folder_without_workbooks_exits_2(runner: CliRunner, tmp_path: Path):
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    result = runner.invoke(check, [str(tmp_path)])
    assert result.exit_code == 2 and "xlsx" in result.output


def test_no_progress_bar_when_stderr_is_not_a_terminal(runner: CliRunner, folder: Path):
    result = runner.invoke(check, [str(folder / "ok"), "--format", "json"])
    assert "检查中" not in result.output
    json.loads(result.output)


def test_progress_bar_on_a_terminal(runner: CliRunner, folder: Path, monkeypatch):
    from xlbudget.commands import check as command

    monkeypatch.setattr(command, "_interactive", lambda: True)
    result = runner.invoke(check, [str(folder / "ok"), str(folder / "seed.xlsx")])
    assert result.exit_code == 1
    assert "检查中" in result.output
