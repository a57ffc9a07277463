"""Where the narrative is: a sheet, .txt, .docx, PDF; positions; hostile and unreadable files."""

from __future__ import annotations

import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from xlbudget.narrative_check import check_narrative, companion, read_file
from xlbudget.narrative_check.sources import NarrativeError, lines_of_sheets, lines_of_text, sentences

from pdftext import write_pdf

TEXT = [
    "2026年，普陀区城市管理行政执法局收入预算4748.35万元，其中：财政拨款收入4748.35万元，比2025年预算减少19.79万元；",
    "二、机关运行经费预算",
    "机关运行经费预算为507.26万元。",
]


def _docx(path: Path, paragraphs: list[str], body: str | None = None) -> Path:
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    if body is None:
        body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/'
                   'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("word/document.xml", f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{w}"><w:body>'
                   f"{body}</w:body></w:document>")
    return path


def _errors(budgets, lines):
    return [f for f in check_narrative(budgets["sh-budget"], lines) if f.severity.value == "error"]


def _the_wrong_amount(fs):
    assert len(fs) == 1 and fs[0].rule == "N.amount"
    assert fs[0].actual == Decimal("507.26") and fs[0].expected == Decimal("507.25") and "表9!" in fs[0].cells[1]
    return fs[0].position


def test_plain_text_lines_and_pages(budgets, tmp_path):
    f = tmp_path / "说明.txt"
    f.write_text("# a comment line\n" + "\n".join(TEXT[:1]) + "\n=== page 3 ===\n" + "\n".join(TEXT[1:]), "utf-8")
    assert _the_wrong_amount(_errors(budgets, read_file(f))) == "第 3 页 第 5 行"


def test_plain_text_in_gb18030(budgets, tmp_path):
    f = tmp_path / "说明.txt"
    f.write_bytes("\n".join(TEXT).encode("gb18030"))
    assert _the_wrong_amount(_errors(budgets, read_file(f))) == "第 3 行"


def test_word_document_paragraphs(budgets, tmp_path):
    f = _docx(tmp_path / "说明.docx", TEXT)
    assert _the_wrong_amount(_errors(budgets, read_file(f))) == "第 3 段"


def test_pdf_text_layer_pages(budgets, tmp_path):
    f = write_pdf(tmp_path / "说明.pdf", [TEXT[:1], TEXT[1:]])
    assert _the_wrong_amount(_errors(budgets, read_file(f))) == "第 2 页 第 2 行"


def test_workbook_sheet_cells(budgets, tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "表1"
    ws = wb.create_sheet("其他相关情况说明")
    for i, t in enumerate(TEXT, start=2):
        ws.cell(row=i, column=1, value=t)
    wb.create_sheet("备注")["A1"] = "机关运行经费预算为999.99万元。"          # not a narrative sheet of the set
    f = tmp_path / "公开.xlsx"
    wb.save(f)
    lines = lines_of_sheets(f, ("编制说明", "其他相关情况说明"))
    assert _the_wrong_amount(_errors(budgets, lines)) == "其他相关情况说明!A4"


def test_a_sentence_over_two_lines_and_pages_keeps_the_position_of_its_number(budgets):
    text = "一、机关运行经费预算\n2026年本部门机关运行经费预算为\n=== page 9 ===\n507.26\n万元。"
    fs = _errors(budgets, lines_of_text(text))
    assert _the_wrong_amount(fs) == "第 9 页 第 4 行"
    assert fs[0].params["quote"] == "一、机关运行经费预算2026年本部门机关运行经费预算为507.26万元。"


def test_companion_file_beside_a_workbook(tmp_path):
    wb = tmp_path / "单位A.xlsx"
    wb.write_bytes(b"")
    assert companion(wb) is None
    (tmp_path / "单位A.docx").write_bytes(b"")
    assert companion(wb) == tmp_path / "单位A.docx"


@pytest.mark.parametrize("make, message", [
    (lambda p: (p / "x.docx").write_bytes(b"not a zip") and p / "x.docx", "Excel"),
    (lambda p: _docx(p / "x.docx", [], body='<w:p><w:r><w:t>&lol;</w:t></w:r></w:p>'), "Word"),
    (lambda p: (p / "x.pdf").write_bytes(b"%PDF-1.4 broken") and p / "x.pdf", "PDF"),
    (lambda p: write_pdf(p / "x.pdf", [[]]), "文字层"),
    (lambda p: (p / "x.rtf").write_text("x") and p / "x.rtf", ".rtf"),
    (lambda p: (p / "x.txt").write_bytes(b"\xff\xfe\x00\xd8" * 3) and p / "x.txt", "编码"),
])
def test_unreadable_narratives_are_one_clear_message(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(NarrativeError) as e:
        read_file(path)
    assert message in str(e.value)


def test_entity_declarations_in_a_word_document_are_refused(tmp_path):
    body = ('<w:p><w:r><w:t>x</w:t></w:r></w:p>')
    f = _docx(tmp_path / "x.docx", [], body=body)
    data = zipfile.ZipFile(f).read("word/document.xml").decode()
    bomb = data.replace('<?xml version="1.0" encoding="UTF-8"?>',
                        '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
                        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>').replace(">x<", ">&b;<")
    with zipfile.ZipFile(f, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", bomb)
    with pytest.raises(NarrativeError):
        read_file(f)


def test_sentences_start_a_paragraph_at_headings_and_skip_tables_printed_in_the_text():
    text = "（一）项目名称：甲\n预算安排规模：1万元\n项目支出绩效目标表\n项目资金 9 万元\n二、下一节\n乙 2万元。"
    ss = sentences(lines_of_text(text), ("项目支出绩效目标表",))
    assert [s.text for s in ss] == ["（一）项目名称：甲预算安排规模：1万元", "二、下一节乙2万元。"]
    assert [s.paragraph for s in ss] == [0, 1] and ss[1].heading


@pytest.mark.parametrize("text", ["一" * 200_000, "收入预算4748.35万元，" * 20_000, "无" + "三" * 100_000,
                                  "（类）" * 50_000, "1" * 100_000 + "万元"])
def test_long_runs_without_punctuation_are_read_in_one_pass(budgets, text):
    fs = check_narrative(budgets["sh-budget"], lines_of_text(text))
    assert all(f.rule == "N.unrecognised" for f in fs)
