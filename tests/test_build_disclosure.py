"""The disclosure built from the demo's filled workbook reproduces the seed disclosure.

The expected tables below are typed from the seed text (examples/kezhou-2025 is the same department); the
amounts and percentages of the seed's 第三部分 are extracted from the seed text by a regular expression.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from xlbudget.build import BuildError, build, build_from_budgets
from xlbudget.layout import layout_for
from xlbudget.model import Budget, budget_from_document, load_example
from xlbudget.narrative import change_text, narrative, share

ROOT = Path(__file__).resolve().parents[1]
# the published disclosure of the example department, as text extracted from its PDF
SEED_CANDIDATES = [ROOT / "examples" / "kezhou-2025" / "disclosure-2025.txt"]
DEPT = "克孜勒苏柯尔克孜自治州数字化发展局"


def _seed_text() -> str:
    for p in SEED_CANDIDATES:
        if p.is_file():
            return p.read_text(encoding="utf-8")
    pytest.fail("the published disclosure text examples/kezhou-2025/disclosure-2025.txt is missing")


# --------------------------------------------------------------------------------------------
# Expected tables (from the seed)
# --------------------------------------------------------------------------------------------

FUNCTIONS = [  # code, name, total, basic, project (表3 / 表5; 表2 has total = 财政拨款小计 = 一般公共预算)
    ("201", "一般公共服务支出", "373.03", "142.29", "230.74"),
    ("20141", "数据事务", "373.03", "142.29", "230.74"),
    ("2014101", "行政运行", "54.81", "54.81", ""),
    ("2014150", "事业运行", "87.48", "87.48", ""),
    ("2014199", "其他数据事务支出", "230.74", "", "230.74"),
    ("208", "社会保障和就业支出", "18.38", "18.38", ""),
    ("20805", "行政事业单位养老支出", "18.38", "18.38", ""),
    ("2080505", "机关事业单位基本养老保险缴费支出", "18.38", "18.38", ""),
    ("210", "卫生健康支出", "11.04", "11.04", ""),
    ("21011", "行政事业单位医疗", "11.04", "11.04", ""),
    ("2101101", "行政单位医疗", "3.62", "3.62", ""),
    ("2101102", "事业单位医疗", "6.15", "6.15", ""),
    ("2101103", "公务员医疗补助", "1.28", "1.28", ""),
    ("221", "住房保障支出", "14.92", "14.92", ""),
    ("22102", "住房改革支出", "14.92", "14.92", ""),
    ("2210201", "住房公积金", "14.92", "14.92", ""),
]

CLASSES = ["201 一般公共服务支出", "202 外交支出", "203 国防支出", "204 公共安全支出", "205 教育支出", "206 科学技术支出",
           "207 文化旅游体育与传媒支出", "208 社会保障和就业支出", "209 社会保险基金支出", "210 卫生健康支出",
           "211 节能环保支出", "212 城乡社区支出", "213 农林水支出", "214 交通运输支出", "215 资源勘探工业信息等支出",
           "216 商业服务业等支出", "217 金融支出", "219 援助其他地区支出", "220 自然资源海洋气象等支出",
           "221 住房保障支出", "222 粮油物资储备支出", "223 国有资本经营预算支出", "224 灾害防治及应急管理支出",
           "227 预备费", "229 其他支出", "230 转移性支出", "231 债务还本支出", "232 债务付息支出", "233 债务发行费用支出"]
CLASS_AMOUNTS = {"201": "373.03", "208": "18.38", "210": "11.04", "221": "14.92"}

T1_INCOME = [("一、本年收入", "417.37"), ("1.一般公共预算拨款", "417.37"), ("其中：一般财力", "417.37"),
             ("上级一般公共预算安排转移支付", ""), ("2.政府性基金预算拨款", ""), ("其中：政府性基金收入", ""),
             ("上级政府性基金安排转移支付", ""), ("3.国有资本经营预算拨款", ""), ("其中：国有资本经营收入", ""),
             ("上级国有资本经营预算安排转移支付", ""), ("4.财政专户核拨", ""), ("5.单位资金", ""),
             ("其中：事业收入", ""), ("上级补助收入", ""), ("附属单位上缴收入", ""), ("事业单位经营收入", ""),
             ("其他收入", ""), ("二、上年结转结余", ""), ("1.财政拨款结转", ""), ("其中：一般公共预算拨款", ""),
             ("政府性基金预算拨款", ""), ("国有资本经营预算拨款", ""), ("2.非财政拨款结转结余", ""),
             ("其中：财政专户核拨", ""), ("单位资金", "")]

T4_INCOME = [("一、财政拨款（补助）", "417.37"), ("一般公共预算", "417.37"), ("政府性基金预算", ""),
             ("国有资本经营预算", "")]

T6 = [  # code, name, total, personnel, operating
    ("总计", "", "186.63", "180.45", "6.18"),
    ("301", "工资福利支出", "180.43", "180.43", ""),
    ("30101", "基本工资", "42.79", "42.79", ""),
    ("30102", "津贴补贴", "61.42", "61.42", ""),
    ("30103", "奖金", "31.15", "31.15", ""),
    ("30108", "机关事业单位基本养老保险缴费", "18.38", "18.38", ""),
    ("30110", "职工基本医疗保险缴费", "9.76", "9.76", ""),
    ("30111", "公务员医疗补助缴费", "1.28", "1.28", ""),
    ("30112", "其他社会保障缴费", "0.74", "0.74", ""),
    ("30113", "住房公积金", "14.92", "14.92", ""),
    ("302", "商品和服务支出", "6.18", "", "6.18"),
    ("30201", "办公费", "2.10", "", "2.10"),
    ("30202", "印刷费", "0.10", "", "0.10"),
    ("30206", "电费", "0.50", "", "0.50"),
    ("30211", "差旅费", "0.50", "", "0.50"),
    ("30217", "公务接待费", "0.80", "", "0.80"),
    ("30228", "工会经费", "0.62", "", "0.62"),
    ("30229", "福利费", "1.12", "", "1.12"),
    ("30299", "其他商品和服务支出", "0.43", "", "0.43"),
    ("303", "对个人和家庭的补助", "0.02", "0.02", ""),
    ("30309", "奖励金", "0.02", "0.02", ""),
]

# 表7: the seed prints 18.00 and 54.96 in the two capital columns (资本性支出（基本建设） / 资本性支出).
T7_ECON = ["e301", "e302", "e303", "e307", "e309", "e310", "e311", "e312", "e313", "e399"]
T7_PROJECTS = [
    ("克州电子政务外网专项运维费项目", "62.40", {"e302": "8.50", "e310": "53.90"}),
    ("克州数字政府工作业务经费项目", "10.00", {"e302": "10.00"}),
    ("克州政务服务大厅维保经费项目", "30.00", {"e302": "30.00"}),
    ("克州数字化发展局公车购置项目", "20.00", {"e302": "2.00", "e309": "18.00"}),
    ("克州政务服务和数字化发展中心业务经费项目", "7.00", {"e302": "5.94", "e310": "1.06"}),
    ("克州 12345 政务服务便民热线经费项目", "101.34", {"e302": "101.34"}),
]
T7_TOTAL = {"e302": "157.78", "e309": "18.00", "e310": "54.96"}

T10 = [("合计", "3.10", "3.10"), ("因公出国（境）费", "", ""), ("公务接待费", "0.80", "0.80"),
       ("公务用车购置及运行费（小计）", "2.30", "2.30"), ("其中：公务用车购置费", "", ""),
       ("公务用车运行费", "2.30", "2.30")]

EMPTY_NOTES = {
    "表8": f"{DEPT} 2025 年没有使用政府性基金预算拨款安排的支出，政府性基金预算支出情况表为空表。",
    "表9": f"{DEPT} 2025 年没有使用国有资本经营预算拨款安排的支出，国有资本经营预算支出情况表为空表。",
    "表11": f"{DEPT} 2025 年没有上年结转结余预算安排的支出，上年结转结余情况明细表为空表。",
}


def _split(code: str, parts: int) -> list[str]:
    pieces = [code[:3], code[3:5], code[5:7]][:parts]
    return [p for p in pieces] + [""] * (parts - len(pieces))


def expected_tables() -> dict[str, list[list[str]]]:
    t1 = []
    for i, cls in enumerate(CLASSES):
        code, name = cls.split(" ", 1)
        item, amount = T1_INCOME[i] if i < len(T1_INCOME) else ("", "")
        t1.append([item, amount, code, name, CLASS_AMOUNTS.get(code, "")])
    t1.append(["收 入 总 计", "417.37", "支 出 总 计", "", "417.37"])
    t2 = [["总计", "", "", "", "417.37", "417.37", "417.37"] + [""] * 9]
    for code, name, total, _b, _p in FUNCTIONS:
        t2.append(_split(code, 3) + [name, total, total, total] + [""] * 9)
    t35 = [["总计", "", "", "", "417.37", "186.63", "230.74"]]
    for code, name, total, basic, project in FUNCTIONS:
        t35.append(_split(code, 3) + [name, total, basic, project])
    t4 = []
    for i, cls in enumerate(CLASSES):
        code, name = cls.split(" ", 1)
        item, amount = T4_INCOME[i] if i < len(T4_INCOME) else ("", "")
        v = CLASS_AMOUNTS.get(code, "")
        t4.append([item, amount, code, name, v, v, "", ""])
    t4.append(["收入总计", "417.37", "支出总计", "", "417.37", "417.37", "", ""])
    t6 = []
    for code, name, total, pers, oper in T6:
        if code == "总计":
            t6.append(["总计", "", "", total, pers, oper])
        else:
            t6.append(_split(code, 2) + [name, total, pers, oper])
    t7 = [["总计", "", "", "", "", "230.74"] + [T7_TOTAL.get(k, "") for k in T7_ECON],
          [DEPT, "", "", "", "", "230.74"] + [T7_TOTAL.get(k, "") for k in T7_ECON],
          ["201", "", "", "一般公共服务支出", "", "230.74"] + [T7_TOTAL.get(k, "") for k in T7_ECON],
          ["201", "41", "", "数据事务", "", "230.74"] + [T7_TOTAL.get(k, "") for k in T7_ECON]]
    for name, total, econ in T7_PROJECTS:
        t7.append(["201", "41", "99", "其他数据事务支出", name, total] + [econ.get(k, "") for k in T7_ECON])
    t10 = [[item, total, gp, "", ""] for item, total, gp in T10]
    return {"表1": t1, "表2": t2, "表3": t35, "表4": t4, "表5": t35, "表6": t6, "表7": t7, "表10": t10}


# --------------------------------------------------------------------------------------------
# Reading the disclosure back
# --------------------------------------------------------------------------------------------


def _cell_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (int, float)):
        d = Decimal(repr(v)).quantize(Decimal("0.01"))
        return "" if d == 0 else format(d, "f")
    return str(v).strip()


def sheet_rows(ws, width: int) -> list[list[str]]:
    return [[_cell_text(c) for c in row] for row in ws.iter_rows(min_row=1, max_col=width, values_only=True)]


def find_block(rows: list[list[str]], expected: list[list[str]]) -> list[list[str]]:
    first = expected[0]
    for i, row in enumerate(rows):
        if row[: len(first)] == first:
            return rows[i: i + len(expected)]
    raise AssertionError(f"first row {first} not found")


@pytest.fixture(scope="module")
def example_budget() -> Budget:
    spec, doc = load_example()
    return Budget(layout_for(spec), doc)


@pytest.fixture(scope="module")
def filled(tmp_path_factory, example_budget) -> Path:
    from xlbudget.writer.template import write_workbook

    path = tmp_path_factory.mktemp("filled") / "filled.xlsx"
    write_workbook(example_budget.layout, path, example_budget)
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory, filled):
    out = tmp_path_factory.mktemp("built") / "disclosure.xlsx"
    dp = out.parent / "open-data"
    result = build([filled], out, force=True, datapackage=dp)
    return result


@pytest.fixture(scope="module")
def values_book(built):
    wb = openpyxl.load_workbook(built.out, data_only=True)
    yield wb
    wb.close()


@pytest.fixture(scope="module")
def formula_book(built):
    wb = openpyxl.load_workbook(built.out, data_only=False)
    yield wb
    wb.close()


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sheet", ["表1", "表2", "表3", "表4", "表5", "表6", "表7", "表10"])
def test_seed_tables_cell_for_cell(values_book, sheet):
    expected = expected_tables()[sheet]
    width = len(expected[0])
    rows = sheet_rows(values_book[sheet], width + 2)
    block = find_block([r[:width] for r in rows], expected)
    assert block == expected
    # nothing to the right of the table, and nothing printed below it
    start = [r[:width] for r in rows].index(expected[0])
    for r in rows[start: start + len(expected)]:
        assert r[width:] == ["", ""]
    for r in rows[start + len(expected):]:
        assert all(c == "" for c in r)


@pytest.mark.parametrize("sheet", sorted(EMPTY_NOTES))
def test_empty_tables_carry_the_official_note(values_book, sheet):
    ws = values_book[sheet]
    texts = [c for row in ws.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert EMPTY_NOTES[sheet] in texts
    numbers = [c for row in ws.iter_rows(values_only=True) for c in row if isinstance(c, (int, float))]
    # only the column numbers of the ※ row
    assert numbers == list(range(1, len(numbers) + 1))
    assert "※" in texts


def test_headers_follow_the_description(values_book):
    ws = values_book["表2"]
    texts = {c for row in ws.iter_rows(max_row=10, values_only=True) for c in row if isinstance(c, str)}
    for label in ("功能分类科目编码", "功能分类科目名称", "总计", "财政拨款（补助）", "一般公共预算",
                  "上级一般公共预算安排的转移支付", "财政专户（教育收费）", "单位资金", "非财政拨款结转结余", "类", "款", "项",
                  "表 2", "部门收入总体情况表", f"编制部门：{DEPT}", "单位：万元"):
        assert label in texts, label
    t1 = {c for row in values_book["表1"].iter_rows(max_row=3, values_only=True) for c in row if isinstance(c, str)}
    assert "第二部分 2025 年部门预算公开表" in t1


def test_totals_are_formulas_rounding_exact_figures(formula_book, values_book):
    ws = formula_book["表6"]
    vs = values_book["表6"]
    found = {}
    for row in ws.iter_rows():
        for c in row:
            if c.value == "301" and c.column == 1 and (ws.cell(c.row, 2).value in (None, "")):
                found["301"] = c.row
            if c.value == "总计" and c.column == 1:
                found["total"] = c.row
    f301 = ws.cell(found["301"], 4).value
    assert isinstance(f301, str) and f301.startswith("=ROUND(") and "精确数" in f301
    assert vs.cell(found["301"], 4).value == pytest.approx(180.43)        # published, not 180.44
    ftot = ws.cell(found["total"], 5).value
    assert ftot.startswith("=ROUND(")
    assert vs.cell(found["total"], 5).value == pytest.approx(180.45)
    # inputs are written as published numbers, and the exact sheet is hidden
    assert formula_book["精确数"].sheet_state == "hidden"
    exact = [c for row in formula_book["精确数"].iter_rows(values_only=True) for c in row if c == 42.786]
    assert exact, "the exact input 42.786 is on the hidden sheet"


def test_every_formula_has_its_cached_value(formula_book, values_book):
    n = 0
    for name in formula_book.sheetnames:
        fs, vs = formula_book[name], values_book[name]
        for row in fs.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith("="):
                    n += 1
                    assert vs[c.coordinate].value is not None, f"{name}!{c.coordinate} has no cached value"
    assert n > 200


def test_sheets_and_print_setup(built):
    from openpyxl import load_workbook

    wb = load_workbook(built.out)
    names = wb.sheetnames
    assert names[:3] == ["封面", "目录", "第一部分"]
    assert names[3:14] == [f"表{i}" for i in range(1, 12)]
    assert names[14] == "第三部分"
    assert "部门整体绩效" in names and "第四部分" in names
    assert sum(1 for n in names if n.startswith("项目绩效")) == 6
    assert names.index("部门整体绩效") < names.index("项目绩效1") < names.index("第四部分")
    for name in names:
        ws = wb[name]
        if ws.sheet_state == "hidden":
            continue
        assert ws.page_setup.paperSize == 9, name
        assert ws.sheet_properties.pageSetUpPr.fitToPage, name
        assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0, name
        assert "第 &P 页 共 &N 页" in (ws.oddFooter.center.text or ""), name
    for i in range(1, 12):
        ws = wb[f"表{i}"]
        assert ws.print_title_rows, f"表{i} repeats its header rows"
    assert wb["表2"].page_setup.orientation == "landscape"
    assert wb["表7"].page_setup.orientation == "landscape"
    wb.close()


def test_cover_is_stamped_when_forced(values_book, built):
    cover = [c for row in values_book["封面"].iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert DEPT in cover and "2025 年部门预算公开" in cover
    # the seed's own data has an error (S1: the project buys a car that 表10 does not show): forced → stamped
    assert not built.verified and built.forced
    assert "未经校验" in cover


def test_errors_block_the_build_without_force(filled, tmp_path):
    out = tmp_path / "d.xlsx"
    with pytest.raises(BuildError) as e:
        build([filled], out)
    assert "--force" in str(e.value) and "S1" in str(e.value)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_verified_build_has_no_stamp(example_budget, tmp_path):
    spec, doc = load_example()
    ok = _consistent(spec, doc)
    result = build_from_budgets([ok], tmp_path / "ok.xlsx")
    assert result.verified
    wb = openpyxl.load_workbook(result.out, data_only=True)
    cover = [c for row in wb["封面"].iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert "未经校验" not in cover
    assert wb["第四部分"].oddHeader.right.text in (None, "")
    wb.close()


def _consistent(spec, doc) -> Budget:
    """The example with its one inconsistency removed (p4 is not tagged as funding a 三公 car purchase)."""
    from msgspec.structs import replace

    projects = tuple(replace(p, sangong=tuple(s for s in p.sangong if s != "vehicle_purchase")) for p in spec.projects)
    spec2 = replace(spec, projects=projects)
    doc2 = dict(doc, spec=spec2.to_dict())
    return budget_from_document(doc2, spec2)


# --------------------------------------------------------------------------------------------
# Narrative
# --------------------------------------------------------------------------------------------

_MEASURE = re.compile(r"(\d+(?:\.\d+)?)\s*(万元|%|个|辆|台|平方米)")


def _part3(seed: str) -> str:
    start = seed.index("第三部分 2025 年部门预算情况说明")
    tables = seed.index("部门整体绩效目标表", start)
    rest = seed.index("(五) 其他需说明的事项")
    end = seed.index("第四部分 名词解释")
    return seed[start:tables] + seed[rest:end]


def _measures(text: str) -> set[tuple[Decimal, str]]:
    flat = re.sub(r"\s+", "", text)   # the seed's lines break anywhere, even inside 万元
    return {(Decimal(n), unit) for n, unit in _MEASURE.findall(flat)}


def _generated_text(sections) -> str:
    return "\n".join(s.text() for s in sections)


def test_every_amount_and_percentage_of_part3(example_budget):
    seed = _measures(_part3(_seed_text()))
    assert (Decimal("44.72"), "%") in seed and (Decimal("184.74"), "万元") in seed  # the regex works
    assert len(seed) > 40
    mine = _measures(_generated_text([s for s in narrative(example_budget) if s.part == 3]))
    missing = sorted(seed - mine)
    assert not missing, f"not in the generated 情况说明: {missing}"


@pytest.mark.parametrize("amount", ["44.72%", "55.28%", "89.38%", "4.40%", "2.65%", "3.57%", "186.63", "180.45",
                                    "6.18", "3.10", "184.74", "21.44"])
def test_named_figures_present(example_budget, amount):
    assert amount in _generated_text(narrative(example_budget))


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


def test_seed_wording(example_budget):
    text = _squash(_generated_text(narrative(example_budget)))
    for sentence in [
        "一般公共预算 417.37 万元，占 100.00%，比上年预算增加 417.37 万元，增长 100.00%，主要原因是克州数字化发展局为 2024 年新成立预算单位。",
        "基本支出 186.63 万元，占 44.72%，比上年预算增加 186.63 万元，增长 100.00%",
        "1、一般公共服务支出（类）373.03 万元，占 89.38%。",
        "1、一般公共服务支出（类）数据事务（款）行政运行（项）：2025 年预算数为 54.81 万元，比上年预算增加 54.81 万元，增长 100.00%",
        "人员经费 180.45 万元，主要包括：基本工资、津贴补贴、奖金、机关事业单位基本养老保险缴费、职工基本医疗保险缴费、公务员医疗补助缴费、其他社会保障缴费、住房公积金、奖励金。",
        "公用经费 6.18 万元，主要包括：办公费、印刷费、电费、差旅费、公务接待费、工会经费、福利费、其他商品和服务支出。",
        "（一）项目名称：克州电子政务外网专项运维费项目", "预算安排规模：62.40 万元",
        "克孜勒苏柯尔克孜自治州数字化发展局 2025 年没有使用政府性基金预算拨款安排的支出，政府性基金预算支出情况表为空表。",
        "财政拨款“三公”经费数为 3.10 万元，其中：因公出国（境）费 0.00 万元，公务用车购置费 0.00 万元，公务用车运行费 2.30 万元，公务接待费 0.80 万元。",
        "公务用车运行费增加 2.30 万元，增长 100.00%，主要原因是克州数字化发展局为 2024 年新成立预算单位",
        "政府采购预算 184.74 万元，其中：政府采购货物预算 21.44 万元，政府采购工程预算 1.06 万元，政府采购服务预算 162.24 万元。",
        "整体预算绩效目标 1 个，涉及预算金额 417.37 万元；当年预算安排项目共 6 个",
        "一、财政拨款:指由一般公共预算、政府性基金预算、国有资本经营预算安排的财政拨款数。",
        "编制数 33，实有人数 14 人",
    ]:
        assert _squash(sentence) in text, sentence


def test_sections_cover_one_to_twelve(example_budget):
    secs = narrative(example_budget)
    titles = [s.title for s in secs if s.part == 3 and s.level == 1]
    assert [t.split("、")[0] for t in titles] == ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"]
    subs = [s.title for s in secs if s.key.startswith("12.") and s.title]
    assert [t[:3] for t in subs] == ["（一）", "（二）", "（三）", "（四）", "（五）"]
    assert any(s.kind == "performance_tables" for s in secs)
    assert [s.part for s in secs if s.level == 0] == [1, 3, 4]


def test_figures_are_computed_not_copied(example_budget):
    """Change the figures: the text follows (shares, changes, wording of the sign)."""
    spec, doc = load_example()
    doc["tables"]["LY"] = {"gp": {"value": Decimal("500.00")}, "basic": {"value": Decimal("186.63")},
                           "project": {"value": Decimal("200")}, "abroad": {"value": Decimal("1.00")},
                           "operating_costs": {"value": Decimal("6.18")}}
    doc["tables"]["T6"]["30201"]["operating"] = Decimal("3.104")
    b = budget_from_document(doc, spec)
    text = _generated_text(narrative(b))
    assert "比上年预算减少 82.63 万元，下降 16.53%" in text           # 417.37 vs 500
    assert "基本支出 186.63 万元" in text and "与上年预算持平" in text
    assert "项目支出 230.74 万元，占 55.28%，比上年预算增加 30.74 万元，增长 15.37%" in text
    assert "因公出国（境）费减少 1.00 万元，下降 100.00%" in text
    assert "公用经费 7.18 万元" in text
    assert "机关运行经费财政拨款预算 6.18 万元，与上年预算持平" in text


def test_zero_last_year_convention(example_budget):
    na = _generated_text(narrative(example_budget, zero_last_year="na"))
    assert "增长 100.00%" not in na
    assert "比上年预算增加 417.37 万元（上年无预算，不计算增长率）" in na
    with pytest.raises(ValueError):
        narrative(example_budget, zero_last_year="zero")


def test_change_and_share_helpers():
    assert share(Decimal("186.63"), Decimal("417.37")) == Decimal("44.72")
    assert share(Decimal("1"), Decimal("0")) is None
    assert change_text(Decimal("10"), Decimal("8")) == "比上年预算增加 2.00 万元，增长 25.00%"
    assert change_text(Decimal("6"), Decimal("8")) == "比上年预算减少 2.00 万元，下降 25.00%"
    assert change_text(Decimal("5"), Decimal("0")) == "比上年预算增加 5.00 万元，增长 100.00%"
    assert "持平" in change_text(Decimal("0"), Decimal("0"))
    assert share(Decimal("0.045"), Decimal("1")) == Decimal("4.50")
    assert share(Decimal("1"), Decimal("3")) == Decimal("33.33")
    assert share(Decimal("2"), Decimal("3")) == Decimal("66.67")


def test_narrative_sheets_in_workbook(values_book):
    part3 = " ".join(c for row in values_book["第三部分"].iter_rows(values_only=True) for c in row if isinstance(c, str))
    assert "占 44.72%" in part3 and "十二、其他重要事项的情况说明" in part3
    assert "（五）其他需说明的事项" not in part3
    part4 = [c for row in values_book["第四部分"].iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert part4[0] == "（五）其他需说明的事项"
    assert "第四部分 名词解释" in part4 and part4[-1] == "2025 年 2月 20 日"
    part1 = " ".join(c for row in values_book["第一部分"].iter_rows(values_only=True) for c in row if isinstance(c, str))
    assert "第一部分 2025 年部门概况" in part1 and "实有人数 14 人" in part1


def test_performance_tables(values_book, formula_book):
    pd = [c for row in values_book["部门整体绩效"].iter_rows(values_only=True) for c in row if c is not None]
    assert "部门整体绩效目标表" in pd and "田雪君" in pd and 417.37 in pd
    ws = formula_book["项目绩效6"]
    texts = [c for row in values_book["项目绩效6"].iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert "克州 12345 政务服务便民热线经费项目" in texts and "吴永波" in texts
    formulas = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    assert any("表7" in f for f in formulas), "财政拨款 comes from 表7"
    nums = [c for row in values_book["项目绩效6"].iter_rows(values_only=True) for c in row if isinstance(c, float)]
    assert 101.34 in nums


# --------------------------------------------------------------------------------------------
# Open data
# --------------------------------------------------------------------------------------------


def test_datapackage(built):
    import csv

    dp = json.loads(built.datapackage.read_text(encoding="utf-8"))
    assert dp["profile"] == "fiscal-data-package"
    for m in dp["model"]["measures"].values():
        assert m["currency"] == "CNY" and m["factor"] == 10000 and m["phase"] == "approved"
    assert {m["direction"] for m in dp["model"]["measures"].values()} == {"expenditure", "revenue"}
    dims = dp["model"]["dimensions"]
    assert dims["functional-classification"]["classificationType"] == "functional"
    assert dims["functional-classification"]["version"] == "2025"
    assert dims["economic-classification"]["classificationType"] == "economic"
    folder = built.datapackage.parent
    for res in dp["resources"]:
        path = folder / res["path"]
        with open(path, encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        assert [f["name"] for f in res["schema"]["fields"]] == list(rows[0].keys())
    with open(folder / "expenditure.csv", encoding="utf-8") as fh:
        exp = list(csv.DictReader(fh))
    t6 = {(r["code"], r["measure"]): r["amount"] for r in exp if r["table"] == "表6"}
    assert t6[("301", "total")] == "180.43" and t6[("30101", "personnel")] == "42.79"
    assert all(r["classification_type"] == "economic" for r in exp if r["table"] == "表6" and r["code"])
    t7 = [r for r in exp if r["table"] == "表7" and r["project"] and r["measure"] == "total"]
    assert len(t7) == 6 and all(r["unit_name"] == DEPT for r in t7)
    t3 = [r for r in exp if r["table"] == "表3" and r["measure"] == "total"]
    assert [r["amount"] for r in t3 if r["level"] == "0"] == ["417.37"]
    leaves = sum(Decimal(r["amount"]) for r in t3 if r["level"] == "3")
    assert abs(leaves - Decimal("417.37")) <= Decimal("0.02")     # published figures, each rounded on its own
    with open(folder / "revenue.csv", encoding="utf-8") as fh:
        rev = list(csv.DictReader(fh))
    assert any(r["table"] == "表2" and r["measure"] == "gp" and r["amount"] == "417.37" for r in rev)


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def test_cli_build(filled, tmp_path):
    from xlbudget.commands.build import build as build_cmd

    runner = CliRunner()
    out = tmp_path / "cli.xlsx"
    res = runner.invoke(build_cmd, [str(filled), "-o", str(out)])
    assert res.exit_code == 1 and "--force" in res.output and not out.exists()
    res = runner.invoke(build_cmd, [str(filled), "-o", str(out), "--force", "--zero-last-year", "na",
                                    "--datapackage", str(tmp_path / "dp")])
    assert res.exit_code == 0, res.output
    assert out.exists() and (tmp_path / "dp" / "datapackage.json").exists()
    assert "已生成公开文件" in res.output


def test_cli_pdf_without_libreoffice(filled, tmp_path, monkeypatch):
    from xlbudget.commands.build import build as build_cmd

    monkeypatch.setenv("XLBUDGET_SOFFICE", str(tmp_path / "no-such-soffice"))
    res = CliRunner().invoke(build_cmd, [str(filled), "-o", str(tmp_path / "d.xlsx"), "--force", "--pdf",
                                         str(tmp_path / "d.pdf")])
    assert res.exit_code == 1
    assert "LibreOffice" in res.output and "未能生成 PDF" in res.output
    assert (tmp_path / "d.xlsx").exists() and not (tmp_path / "d.pdf").exists()


# --------------------------------------------------------------------------------------------
# PDF (LibreOffice headless)
# --------------------------------------------------------------------------------------------

A4 = (595.28, 841.89)


def _png_ink(path: Path) -> tuple[int, int, float]:
    """(width, height, share of non-white pixels) of a PNG written by pdftoppm (8-bit gray/RGB/RGBA)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, []
    width = height = ctype = None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    prev = bytearray(stride)
    dark = 0
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        prev = line
        for x in range(0, stride, channels):
            if min(line[x:x + min(channels, 3)]) < 200:
                dark += 1
    return width, height, dark / (width * height)


@pytest.fixture(scope="module")
def pdf(built, tmp_path_factory, soffice, poppler):
    from xlbudget.build import write_pdf

    target = tmp_path_factory.mktemp("pdf") / "disclosure.pdf"
    return write_pdf(built.out, target)


@pytest.mark.libreoffice
def test_pdf_pages_are_a4(pdf, built):
    from xlbudget.libreoffice import pdf_pages, pdf_text

    pages = pdf_pages(pdf)
    wb = openpyxl.load_workbook(built.out, read_only=True)
    visible = [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"]
    wb.close()
    assert len(visible) == 23
    # every sheet starts a page; only the long 情况说明 and some 绩效 tables take more than one
    assert len(visible) <= len(pages) <= 45, len(pages)
    assert f"共 {len(pages)} 页" in pdf_text(pdf)
    for w, h in pages:
        size = sorted((round(w), round(h)))
        assert size == [595, 842], (w, h)


@pytest.mark.libreoffice
def test_pdf_text_and_tables_not_cut(pdf):
    from xlbudget.libreoffice import pdf_text

    text = pdf_text(pdf)
    pages = text.split("\f")
    assert "部门收支总体情况表" in text and "第三部分 2025 年部门预算情况说明" in text
    assert "第 1 页 共" in text
    # each table is one page wide: "编制部门" (first column) and "单位：万元" (last column) share a row, so a
    # table cut across its width would print them on different pages
    left = [i for i, p in enumerate(pages) if "编制部门：" in p]
    right = [i for i, p in enumerate(pages) if "单位：万元" in p]
    assert len(left) >= 11 and left == right
    for title in ("部门收入总体情况表", "一般公共预算项目支出情况表", "上年结转结余情况明细表"):
        assert any(title in pages[i] for i in left), title
    assert "180.43" in text and "417.37" in text
    # 表4 fits on one page
    t4 = [i for i in left if "财政拨款收支预算总体情况表" in pages[i]]
    assert len(t4) == 1 and "支出总计" in pages[t4[0]]
    assert "###" not in text


@pytest.mark.libreoffice
def test_pdf_renders_ink(pdf, tmp_path):
    from xlbudget.libreoffice import pdf_pages, render_pages

    pngs = render_pages(pdf, tmp_path / "png", dpi=20)
    assert len(pngs) == len(pdf_pages(pdf))
    for png in pngs:
        w, h, ink = _png_ink(png)
        assert sorted((w, h)) in ([165, 234], [166, 234], [165, 233]), (png.name, w, h)   # A4 at 20 dpi
        assert ink > 0.002, f"{png.name}: nothing drawn"


@pytest.mark.libreoffice
def test_recalculation_keeps_the_published_figures(built, tmp_path, soffice):
    """LibreOffice recalculates every formula: the values stay the published ones."""
    from xlbudget.libreoffice import recalculated_copy

    copy = recalculated_copy(built.out, tmp_path / "recalc.xlsx")
    a = openpyxl.load_workbook(built.out, data_only=True)
    b = openpyxl.load_workbook(copy, data_only=True)
    try:
        for name in [f"表{i}" for i in range(1, 12)] + ["精确数", "部门整体绩效", "项目绩效1"]:
            for ra, rb in zip(a[name].iter_rows(values_only=True), b[name].iter_rows(values_only=True)):
                for va, vb in zip(ra, rb):
                    if isinstance(va, (int, float)) and not isinstance(va, bool):
                        assert vb == pytest.approx(va, abs=1e-9), (name, va, vb)
    finally:
        a.close()
        b.close()
