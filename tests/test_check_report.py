"""Check reports: the batch API, JSON (against the shipped schema), terminal text, xlsx, annotated copies."""

from __future__ import annotations

import hashlib
import json
import os
from decimal import Decimal as D
from pathlib import Path

import jsonschema
import openpyxl
import pytest

from xlbudget.check import check_budget, check_file, check_paths, collect_paths
from xlbudget.findings import Finding, Severity
from xlbudget.layout import layout_for
from xlbudget.model import budget_from_document, load_example
from xlbudget.report import FileReport, Report, schema
from xlbudget.writer.template import write_workbook


def _clean_doc():
    spec, doc = load_example()
    doc["tables"]["T10"]["vehicle_purchase"] = {"gp": D("18.00")}
    doc["facts"]["narrative"]["sangong_reasons"]["vehicle_purchase"] = "2025 年按编制购置一般公务用车 1 辆"
    return spec, doc


@pytest.fixture(scope="module")
def books(tmp_path_factory) -> dict[str, Path]:
    """seed.xlsx (the seed as published), clean.xlsx (its inconsistency repaired), broken.xlsx (not a workbook)."""
    folder = tmp_path_factory.mktemp("books")
    spec, doc = load_example()
    seed = budget_from_document(doc, spec)
    write_workbook(seed.layout, folder / "seed.xlsx", budget=seed)
    spec, doc = _clean_doc()
    clean = budget_from_document(doc, spec)
    write_workbook(clean.layout, folder / "clean.xlsx", budget=clean)
    (folder / "broken.xlsx").write_bytes(b"this is not a workbook")
    return {p.stem: p for p in folder.iterdir()}


@pytest.fixture(scope="module")
def report(books) -> Report:
    return check_paths([books["seed"], books["clean"], books["broken"]])


def _seed_pos(table: str, row: str, col: str) -> str:
    spec, _ = load_example()
    return layout_for(spec).position(table, row, col)


# --- the batch ------------------------------------------------------------------------------------------
def test_files_are_reported_in_order_and_isolated(report: Report):
    assert [fr.name for fr in report.files] == ["seed.xlsx", "clean.xlsx", "broken.xlsx"]
    seed, clean, broken = report.files
    assert (seed.status, clean.status, broken.status) == ("errors", "ok", "unreadable")
    assert not broken.readable and broken.findings and broken.findings[0].severity is Severity.ERROR
    assert broken.findings[0].rule.startswith("READ.")
    assert clean.valid and not seed.valid and not report.valid
    assert seed.meta["department"] == "克孜勒苏柯尔克孜自治州数字化发展局" and len(seed.sha256) == 64


def test_seed_workbook_reports_its_real_inconsistency(report: Report):
    rows = report.flatten(["file", "rule", "position", "severity"])
    assert ["seed.xlsx", "S1", _seed_pos("T10", "vehicle_purchase", "total"), "error"] in rows
    seed_errors = [r for r in rows if r[0] == "seed.xlsx" and r[3] == "error"]
    assert [r[1] for r in seed_errors] == ["S1"]
    residues = report.flatten(["file", "kind", "severity"])
    assert ["seed.xlsx", "rounding-residue", "info"] in residues
    assert not [r for r in residues if r[1] == "rounding-residue" and r[2] != "info"]


def test_counts_and_summary(report: Report):
    seed = report.files[0]
    assert seed.counts["error"] == 1 and seed.counts["warning"] == 2 and seed.counts["info"] > 0
    assert report.counts["error"] == 1 + report.files[2].counts["error"]
    s = report.summary
    assert (s["files"], s["valid"], s["with_errors"], s["unreadable"]) == (3, 1, 1, 1)


def test_parallel_gives_the_same_report(books, report: Report):
    progress = []
    again = check_paths([books["seed"], books["clean"], books["broken"]], jobs=2,
                        progress=lambda done, total, path: progress.append((done, total)))
    fields = ["file", "rule", "kind", "severity", "cells", "expected", "actual", "difference", "tolerance"]
    assert again.flatten(fields) == report.flatten(fields)
    assert sorted(progress) == [(1, 3), (2, 3), (3, 3)]


def _exploding_reader(path):
    raise RuntimeError("boom")


def test_a_reader_that_raises_is_a_finding_of_that_file(books):
    rep = check_paths([books["seed"], books["clean"]], jobs=2, reader=_exploding_reader)
    assert [fr.status for fr in rep.files] == ["unreadable", "unreadable"]
    assert all("boom" in fr.findings[0].message("zh") for fr in rep.files)


def _logging_reader(path):
    """Notes (in a log beside the files) which file a worker starts on, then takes a while over it."""
    import time

    fd = os.open(os.path.join(os.path.dirname(path), "started.log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.write(fd, os.path.basename(path).encode() + b"\n")
    os.close(fd)
    time.sleep(1.0)  # (longer than two fresh workers' start-up may differ: the log is in the order taken)
    raise RuntimeError("not a workbook")


def test_a_batch_gives_its_largest_files_out_first_and_reports_in_order(tmp_path: Path):
    sizes = {"a.xlsx": 10, "b.xlsx": 40_000, "c.xlsx": 200, "d.xlsx": 900_000, "e.xlsx": 5, "f.xlsx": 7_000}
    for name, size in sizes.items():
        (tmp_path / name).write_bytes(b"x" * size)
    rep = check_paths([tmp_path / n for n in sizes], jobs=2, reader=_logging_reader)
    assert [Path(fr.path).name for fr in rep.files] == list(sizes)   # the report: in the order given
    started = (tmp_path / "started.log").read_text().split()
    # two at a time, largest first (two workers may note the two they took in either order)
    assert [set(started[i:i + 2]) for i in (0, 2, 4)] == [{"d.xlsx", "b.xlsx"}, {"f.xlsx", "c.xlsx"},
                                                          {"a.xlsx", "e.xlsx"}]


def test_collect_paths(tmp_path: Path):
    (tmp_path / "a").mkdir()
    for name in ("a/x.xlsx", "a/y.XLSM", "a/~$x.xlsx", "a/notes.txt", "z.xlsx"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x.checked.xlsx").write_bytes(b"")
    found = collect_paths([tmp_path, tmp_path / "z.xlsx"], exclude=[tmp_path / "out"])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a/x.xlsx", "a/y.XLSM", "z.xlsx"]


def test_check_budget_and_check_file_agree(books):
    spec, doc = load_example()
    direct = check_budget(budget_from_document(doc, spec))
    via_file = check_file(books["seed"])
    key = lambda f: (f.rule, f.cells, f.severity, f.expected, f.actual)  # noqa: E731
    assert sorted(map(key, via_file.findings)) == sorted(map(key, direct))


# --- JSON -----------------------------------------------------------------------------------------------
def test_json_report_validates_against_the_shipped_schema(report: Report):
    data = json.loads(report.to_json())
    jsonschema.Draft202012Validator.check_schema(schema())
    jsonschema.validate(data, schema(), cls=jsonschema.Draft202012Validator)
    seed = data["files"][0]
    s1 = [f for f in seed["findings"] if f["rule"] == "S1"][0]
    assert s1 == {**s1, "severity": "error", "expected": "18.00", "actual": "0.00", "difference": "-18.00",
                  "tolerance": "0.01", "tolerance_mode": "interval", "table": "T10"}
    assert s1["position"] == s1["cells"][0] == _seed_pos("T10", "vehicle_purchase", "total")
    assert data["counts"] == report.counts and data["valid"] is False
    en = json.loads(report.to_json("en"))
    jsonschema.validate(en, schema(), cls=jsonschema.Draft202012Validator)
    assert en["files"][0]["findings"][0]["message"] != seed["findings"][0]["message"]


def test_schema_rejects_a_malformed_report(report: Report):
    data = json.loads(report.to_json())
    data["files"][0]["findings"][0]["severity"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema(), cls=jsonschema.Draft202012Validator)


def test_reader_findings_with_text_values_stay_valid_json():
    odd = Finding("formula-overwritten", "READ.formula-overwritten", Severity.ERROR, cells=("表6!C12",),
                  actual="空", expected=D("1.00"), table="T6", params={"formula": "C13+C14"})
    rep = Report(files=[FileReport(path="x.xlsx", findings=[odd], tables={"T6": "表6 一般公共预算基本支出情况表"})])
    data = json.loads(rep.to_json())
    jsonschema.validate(data, schema(), cls=jsonschema.Draft202012Validator)
    assert data["files"][0]["findings"][0]["actual"] == "空"


# --- terminal -------------------------------------------------------------------------------------------
def test_terminal_report_is_grouped_by_file_and_table(report: Report):
    text = report.render_text("zh")
    assert "文件：" in text and "有错误" in text and "无法读取" in text
    seed_part = text.split("文件：")[1]
    assert seed_part.index("表2 部门收入总体情况表") < seed_part.index("表6 一般公共预算基本支出情况表") \
        < seed_part.index("表10 财政拨款“三公”经费支出情况表")
    assert "[错误] S1 " + _seed_pos("T10", "vehicle_purchase", "total") in text
    assert "[提示] T6.sum" in text and "尾差" in text
    en = report.render_text("en")
    assert "[error] S1" in en and "rounding residue" in en and "Total: 3 files" in en
    short = report.render_text("zh", min_severity="warning")
    assert "[提示]" not in short and "较低级别" in short


# --- xlsx -----------------------------------------------------------------------------------------------
def test_xlsx_report(report: Report, tmp_path: Path):
    out = report.write_xlsx(tmp_path / "out" / "报告.xlsx")
    assert sorted(p.name for p in out.parent.iterdir()) == ["报告.xlsx"]      # no temporary file left
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["提交情况", "问题清单"]
    subs = [[c.value for c in row] for row in wb["提交情况"].iter_rows(min_row=2)]
    assert [(r[1], r[6], r[7]) for r in subs] == [("seed.xlsx", "有错误", 1), ("clean.xlsx", "通过", 0),
                                                 ("broken.xlsx", "无法读取", 1)]
    findings = [[c.value for c in row] for row in wb["问题清单"].iter_rows(min_row=2)]
    assert len(findings) == sum(len(fr.findings) for fr in report.files)
    s1 = [r for r in findings if r[4] == "S1"][0]
    assert s1[2] == _seed_pos("T10", "vehicle_purchase", "total") and s1[5] == "错误"
    assert (s1[8], s1[9], s1[10]) == (0, 18, -18)
    wb.close()
    en = openpyxl.load_workbook(report.write_xlsx(tmp_path / "en.xlsx", lang="en"))
    assert en.sheetnames == ["Submissions", "Findings"]


@pytest.mark.libreoffice
def test_xlsx_report_opens_in_libreoffice(report: Report, tmp_path: Path, soffice, poppler):
    from xlbudget import libreoffice

    out = report.write_xlsx(tmp_path / "report.xlsx")
    pdf = libreoffice.convert(out, tmp_path / "pdf", "pdf", recalc=True)
    assert libreoffice.pdf_pages(pdf)
    text = libreoffice.pdf_text(pdf)
    assert "seed.xlsx" in text and "S1" in text


# --- annotated copies -----------------------------------------------------------------------------------
def _fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), os.stat(path).st_mtime_ns


def test_annotate_writes_fresh_copies_and_leaves_the_originals(report: Report, books, tmp_path: Path):
    before = {k: _fingerprint(p) for k, p in books.items()}
    written = report.annotate(tmp_path / "checked")
    assert [p.name for p in written] == ["seed.checked.xlsx", "clean.checked.xlsx"]      # broken: nothing to copy
    assert {k: _fingerprint(p) for k, p in books.items()} == before
    wb = openpyxl.load_workbook(written[0])
    assert wb.sheetnames[0] == "校验结果"
    sheet, cell = _seed_pos("T10", "vehicle_purchase", "total").split("!")
    c = wb[sheet][cell]
    assert c.fill.fgColor.rgb.endswith("FFC7CE")
    assert "S1" in c.comment.text and "公务用车购置费" in c.comment.text
    p4 = _seed_pos("T7", "p4", "e309").split("!")
    assert "S1" in wb[p4[0]][p4[1]].comment.text
    listed = [[c.value for c in row] for row in wb["校验结果"].iter_rows(min_row=2)]
    assert len(listed) == len(report.files[0].findings)
    assert any(r[1] == "S1" and r[0] == "错误" for r in listed)
    residue = _seed_pos("T6", "301", "personnel").split("!")
    assert wb[residue[0]][residue[1]].fill.fgColor.rgb.endswith("DDEBF7")
    # the input data came through untouched
    orig = openpyxl.load_workbook(books["seed"], read_only=True)
    assert orig[p4[0]][p4[1]].value == wb[p4[0]][p4[1]].value == 18
    orig.close()
    assert [p.name for p in (tmp_path / "checked").iterdir() if p.name.startswith(".")] == []


def _small_book(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "表6"
    ws["C12"] = 180.43
    ws.merge_cells("A1:D1")
    ws["A1"] = "一般公共预算基本支出情况表"
    wb.create_sheet("表5")["D5"] = 186.63
    wb.save(path)
    return path


def _small_report(src: Path) -> Report:
    sum_error = Finding("sum-mismatch", "T6.sum", Severity.ERROR, cells=("表6!C12", "表6!C13"), expected=D("180.44"),
                        actual=D("181.00"), difference=D("0.56"), tolerance=D("0.045"), tolerance_mode="interval",
                        table="T6", params={"label_zh": "表6 301", "label_en": "table 6 301", "rhs": "表6!C13",
                                            "n": 2, "mode_zh": "区间法", "mode_en": "interval"})
    title = Finding("rule-config", "Z", Severity.WARNING, cells=("表6!B1", "表5!D5", "表9!A1"), params={"detail": "x"})
    return Report(files=[FileReport(path=str(src), findings=[sum_error, title])])


def test_annotate_into_the_submission_folder_never_overwrites(tmp_path: Path):
    src = _small_book(tmp_path / "seed.xlsx")
    before = _fingerprint(src)
    rep = _small_report(src)
    written = rep.annotate(tmp_path)
    assert written == [tmp_path / "seed.checked.xlsx"] and _fingerprint(src) == before
    again = rep.annotate(tmp_path)                   # a second run replaces its own copy
    assert again == written and _fingerprint(src) == before
    wb = openpyxl.load_workbook(written[0])
    assert wb.sheetnames == ["校验结果", "表6", "表5"]
    assert wb["表6"]["C12"].comment.text.count("T6.sum") == 1
    # B1 lies inside the merged title A1:D1: the note goes to its top-left cell
    assert "Z" in wb["表6"]["A1"].comment.text and wb["表6"]["A1"].value == "一般公共预算基本支出情况表"
    assert wb["表5"]["D5"].fill.fgColor.rgb.endswith("FFEB9C")    # a warning


def test_annotate_in_parallel_and_in_english(tmp_path: Path):
    books = [_small_book(tmp_path / f"b{i}.xlsx") for i in range(3)]
    rep = Report(files=[fr for b in books for fr in _small_report(b).files])
    written = rep.annotate(tmp_path / "out", lang="en", jobs=2)
    assert [p.name for p in written] == ["b0.checked.xlsx", "b1.checked.xlsx", "b2.checked.xlsx"]
    wb = openpyxl.load_workbook(written[1])
    assert wb.sheetnames[0] == "Check results" and "[error] T6.sum" in wb["表6"]["C12"].comment.text


def test_annotate_skips_a_file_openpyxl_cannot_open(tmp_path: Path):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a zip")
    rep = Report(files=[FileReport(path=str(bad), findings=[])])
    assert rep.annotate(tmp_path / "out") == []


def test_a_checker_crash_is_a_finding_of_that_file(books, monkeypatch):
    import xlbudget.check as check_module

    def broken(*args, **kwargs):
        raise ZeroDivisionError("rule exploded")

    monkeypatch.setattr(check_module, "check_budget", broken)
    fr = check_file(books["clean"])
    assert fr.readable and fr.status == "errors"
    crash = [f for f in fr.findings if f.rule == "CHECK.failed"]
    assert crash and "rule exploded" in crash[0].message("zh") and "rule exploded" in crash[0].message("en")
