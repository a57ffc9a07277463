"""The Shanghai district budget set (templates/sh-budget): filled from its example, the workbook reproduces the
published tables cell for cell, and the check reports what a correct checker reports on that document.

The published text (examples/sh-budget-2026/disclosure-2026.txt) is layout-flattened: each printed row is one
line, empty cells dropped. Each table row of the workbook, rendered as printed (codes, names, figures with
thousands separators at the table's decimals, blanks for zero where the table prints blanks), must be that line.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from xlbudget.check import check_paths
from xlbudget.layout import layout_for
from xlbudget.model import budget_from_document, load_example
from xlbudget.writer.template import write_workbook

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sh-budget-2026"
TABLES = [f"T{i}" for i in range(1, 10)]


def _pages() -> dict[str, list[str]]:
    """Published table text by title (lines from the title to the end of the table, page breaks removed)."""
    text = (EXAMPLE / "disclosure-2026.txt").read_text(encoding="utf-8")
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if line.startswith("=== page"):
            continue
        if line.startswith("2026年部门") and ("表" in line):
            current = out.setdefault(line.strip(), [])
            continue
        if current is not None:
            if line.startswith(("其他相关情况说明", "2026年部门预算编制说明", "项目经费情况说明", "财政项目")):
                current = None
                continue
            current.append(line.strip())
    return out


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s).replace(":", "：")


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> tuple[Path, object]:
    spec, doc = load_example("sh-budget")
    budget = budget_from_document(doc, spec)
    out = write_workbook(layout_for(spec), tmp_path_factory.mktemp("sh") / "filled.xlsx", budget)
    return out, budget


def _render(v, decimals: int, zeros: bool) -> str:
    if v is None or v == "":
        return ""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        d = Decimal(repr(v)).quantize(Decimal(10) ** -decimals)
        if d == 0 and not zeros:
            return ""
        return f"{d:,.{decimals}f}"
    return str(v)


def _sheet_lines(ws, t, layout) -> tuple[list[str], list[str], list[str]]:
    """(title area, header, body) lines of a laid-out table as printed."""
    prec = layout.precision(t.id)
    rows = []
    for r in range(t.last_row + 1):
        cells = [_render(ws.cell(row=r + 1, column=c + 1).value, prec.display_decimals, t.desc.zeros)
                 for c in range(t.width)]
        rows.append(" ".join(x for x in cells if x))
    header_end = (t.numbering_row if t.numbering_row is not None else t.body_top - 1) + 1
    return rows[1:t.header_top], rows[t.header_top:header_end], rows[header_end:]


@pytest.mark.parametrize("tid", TABLES)
def test_each_table_reproduces_the_published_one(filled, tid):
    out, budget = filled
    layout = budget.layout
    t = layout.tables[tid]
    pages = _pages()
    assert t.title in pages, sorted(pages)
    published = [line for line in pages[t.title] if line]
    wb = openpyxl.load_workbook(out, data_only=True)
    ws = wb[t.sheet]
    title, _, body = _sheet_lines(ws, t, layout)
    assert _squash(title[0]) == _squash(t.title)
    assert _squash(title[1]) == _squash(published[0])           # 编制部门 … 单位：元 / 万元
    body = [x for x in body if x]
    first = next(i for i, line in enumerate(published) if _squash(line) == _squash(body[0]))
    head_block, rest = published[1:first], published[first:]
    # the header: the same labels (the flattened text breaks them over lines: compare their characters)
    assert sorted(_squash("".join(head_block))) == sorted(_squash("".join(
        lab for line in _header_labels(ws, t) for lab in line)))
    # a table printed over two pages repeats its header: drop the repeat
    n = len(head_block)
    for i in range(len(rest) - n, 0, -1):
        if rest[i:i + n] == head_block:
            rest = rest[:i] + rest[i + n:]
    assert body
    assert [_squash(x) for x in body] == [_squash(x) for x in rest]


def _header_labels(ws, t) -> list[list[str]]:
    out = []
    for r in range(t.header_top, t.body_top):
        out.append([str(ws.cell(row=r + 1, column=c + 1).value) for c in range(t.width)
                    if ws.cell(row=r + 1, column=c + 1).value not in (None, "")])
    return out


def test_units_and_decimals_are_the_printed_ones(filled):
    _, budget = filled
    layout = budget.layout
    for tid in TABLES[:8]:
        p = layout.precision(tid)
        assert (p.unit, p.display_decimals) == ("元", 0), tid
    p = layout.precision("T9")
    assert (p.unit, p.display_decimals) == ("万元", 2)
    assert str(budget.published("T1", "in_total", "amount")) == "47483458"
    assert str(budget.published("T8", "total", "operating")) == "5072538"
    assert str(budget.published("T9", "budget", "total")) == "114.22"
    assert str(budget.published("T9", "budget", "vehicle")) == "113.76"


# What expected-verdicts.md lists for the tables of this document: 60 HOLDS, no ROUND, no ISSUE. Each relation
# it names, and the rule of this set's book that decides it.
HOLDS = {
    "表1 财政拨款收入 = 一般公共预算 + 政府性基金预算 + 国有资本经营预算": "T1.sum",
    "表1 收入总计 = 财政拨款收入 + 事业收入 + 事业单位经营收入 + 其他收入": "T1.sum",
    "表1 支出总计 = Σ 功能类": "T1.sum",
    "表1 收入总计 = 支出总计": "X1",
    "表2 parent-vs-children sums": "T2.sum",
    "表2 row 合计 = 财政拨款收入 + 事业收入 + 事业单位经营收入 + 其他收入": "T2.formula",
    "表3 parent-vs-children sums": "T3.sum",
    "表3 row 合计 = 基本支出 + 项目支出": "T3.formula",
    "表5 parent-vs-children sums": "T5.sum",
    "表5 row 合计 = 基本支出 + 项目支出": "T5.formula",
    "表8 parent-vs-children sums": "T8.sum",
    "表8 row 合计 = 人员经费 + 公用经费": "T8.formula",
    "表6 empty with 注": "T6.empty",
    "表7 empty with 注": "T7.empty",
    "表4 收入总计 = Σ 收入 lines": "T4.sum",
    "表4 spending row 合计 = 一般公共预算 + 政府性基金预算 + 国有资本经营预算": "T4.formula",
    "表4 支出总计 [each column] = Σ spending rows": "T4.sum",
    "表4 收入总计 = 支出总计": "X4.balance",
    "表4 fund income = fund spending total": "X4.sources",
    "表9 三公 合计 = 因公出国 + 公务接待 + 公务用车小计; 小计 = 购置费 + 运行费": "T9.formula_rounded",
    "表1 every 功能类 row = 表2 类 合计": "X2.classes",
    "表1 every 功能类 row = 表3 类 合计": "T1.formula",
    "表1 收入总计 = 表2 合计": "X2",
    "表1 支出总计 = 表3 合计": "X3",
    "表2 合计 = 表3 合计 for all coded rows": "X3.rows",
    "表4 功能类 合计 = 表1/表3": "X4.classes_fiscal",
    "表4 功能类 一般公共预算 = 表5 类, 政府性基金预算 = 表6 类": "T4.formula",
    "表4 一般公共预算 income = 表1 1.一般公共预算": "T4.formula",
    "表5 合计 = 表4 支出总计 一般公共预算": "T4.formula",
    "表6 empty ⇔ 表1/表4 政府性基金预算 0": "X9",
    "表7 empty ⇔ 表1 国有资本经营预算 0": "X9.soe",
    "表3 (合计, 基本支出, 项目支出) = 表5 + 表6 for every row": "X6.fiscal",
    "表8 合计 = 表5 基本支出 合计": "X7",
    "表8 合计 = 表3 基本支出 合计": "X7.all",
    "表8 人员经费 = 301 + 303": "T8.personnel",
    "表8 公用经费 = 302 + 310": "T8.operating",
    "表8 30108 = 表5 基本 2080505": "X13.pension",
    "表8 30109 = 表5 基本 2080506": "X13.annuity",
    "表8 30110 = 表5 基本 21011": "X13.medical",
    "表8 30113 = 表5 基本 2210201": "X13.housing",
    "表9 公务用车运行费 (万元) = 表8 30231 / 10000": "X11.operation_basic",
    "表9 公务接待费 (万元) = 表8 30217 / 10000": "X11.basic",
    "表9 机关运行经费 507.25 万元 = 表8 公用经费 5,072,538 元 / 10000": "X14.admin",
    "政府采购 595.28 = 货物 77.10 + 工程 0 + 服务 518.18": "PROC.total",
    "政府采购 中小企业预留 343.49 ≥ 其中小微 178.85": "PROC.micro",
    "政府采购 中小企业预留 343.49 ≤ 采购预算 595.28": "PROC.sme",
}


def test_every_relation_of_the_expected_verdicts_has_a_rule():
    from xlbudget.tableset import load_rule_entries, load_tableset

    ids = {e["id"] for e in load_rule_entries(load_tableset("sh-budget"))}
    tables = {f"T{i}" for i in range(1, 10)}
    known = ids | {i.replace("{table}", t) for i in ids if i.startswith("{table}") for t in tables}
    assert sorted(set(HOLDS.values()) - known) == []


def test_check_of_the_filled_example_reports_what_a_correct_checker_reports(filled):
    out, _ = filled
    report = check_paths([out])
    (fr,) = report.files
    found = [(f.rule, f.severity.value, f.kind) for f in fr.findings]
    # no ROUND and no ISSUE for this document: nothing but the catalogue the year lacks (2026 is not shipped)
    assert found == [("CODE.exists", "warning", "catalogue-missing")] * 2, found
    assert not [f for f in fr.findings if f.severity.value == "error"]
    assert not [f for f in fr.findings if f.kind == "rounding-residue"]


def test_the_check_sheet_compares_across_units_as_printed(filled):
    out, _ = filled
    values = openpyxl.load_workbook(out, data_only=True)["校验"]
    formulas = openpyxl.load_workbook(out)["校验"]
    rows = {r[0].value: (r, f) for r, f in zip(values.iter_rows(min_row=5), formulas.iter_rows(min_row=5))
            if r[0].value}
    results = {k: r[7].value for k, (r, _) in rows.items() if r[7].value is not None}
    assert results and set(results.values()) == {"一致"}, results
    r, f = rows["X11.basic"]
    assert (r[2].value, r[3].value, r[4].value) == ("万元", 0.46, 0.46)
    assert "/10000" in f[4].value
    r, f = rows["X14.admin"]          # 5,072,538 元 printed in 万元 is 507.25: no 尾差
    assert (r[3].value, r[4].value, r[7].value) == (507.25, 507.25, "一致")
    assert f[4].value.startswith("=ROUND(") and f[4].value.endswith("/10000,2)")


def test_whole_yuan_inputs_take_whole_numbers_and_the_sangong_table_wan(filled):
    import zipfile

    out, budget = filled
    layout = budget.layout
    sheets = {ws.title: i + 1 for i, ws in enumerate(openpyxl.load_workbook(out).worksheets)}
    with zipfile.ZipFile(out) as z:
        t2 = z.read(f"xl/worksheets/sheet{sheets['表2']}.xml").decode("utf-8")
        t9 = z.read(f"xl/worksheets/sheet{sheets['表9']}.xml").decode("utf-8")
    assert "请输入不小于 0 的整数，单位元。" in t2 and "ROUND(F9,0)=F9" in t2
    assert "单位万元，最多 6 位小数（可录入到元、分）" in t9
    assert layout.precision("T2", "fiscal").entry_decimals == 0
