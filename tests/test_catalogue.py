"""Tests for xlbudget.catalogue and the ``xlbudget catalogue`` command."""

from __future__ import annotations

import json
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from xlbudget.catalogue import (
    Catalogue,
    CatalogueError,
    Code,
    default_catalogue_dir,
    import_catalogue,
    kind_of,
    level_of,
    load_active_catalogue,
    load_catalogue,
    normalize_code,
    normalize_name,
)
from xlbudget.commands.catalogue import catalogue as catalogue_cli
from xlbudget.errors import XlbudgetError

SEED_SOURCE = "seed: 克州数字化发展局 2025 部门预算公开"

# 表1 of the seed: all 29 支出功能分类 类 of 2025.
SEED_CLASSES = {
    "201": "一般公共服务支出",
    "202": "外交支出",
    "203": "国防支出",
    "204": "公共安全支出",
    "205": "教育支出",
    "206": "科学技术支出",
    "207": "文化旅游体育与传媒支出",
    "208": "社会保障和就业支出",
    "209": "社会保险基金支出",
    "210": "卫生健康支出",
    "211": "节能环保支出",
    "212": "城乡社区支出",
    "213": "农林水支出",
    "214": "交通运输支出",
    "215": "资源勘探工业信息等支出",
    "216": "商业服务业等支出",
    "217": "金融支出",
    "219": "援助其他地区支出",
    "220": "自然资源海洋气象等支出",
    "221": "住房保障支出",
    "222": "粮油物资储备支出",
    "223": "国有资本经营预算支出",
    "224": "灾害防治及应急管理支出",
    "227": "预备费",
    "229": "其他支出",
    "230": "转移性支出",
    "231": "债务还本支出",
    "232": "债务付息支出",
    "233": "债务发行费用支出",
}

SEED_ECONOMIC_CLASSES = {
    "301": "工资福利支出",
    "302": "商品和服务支出",
    "303": "对个人和家庭的补助",
    "307": "债务利息及费用支出",
    "309": "资本性支出（基本建设）",
    "310": "资本性支出",
    "311": "对企业补助（基本建设）",
    "312": "对企业补助",
    "313": "对社会保障基金补助",
    "399": "其他支出",
}


# ---------------------------------------------------------------------------
# normalize_code
# ---------------------------------------------------------------------------

NORMALIZE_CASES = [
    # (input, expected)
    (2014101, "2014101"),
    (201, "201"),
    (30101, "30101"),
    (2014101.0, "2014101"),
    (Decimal("2014101"), "2014101"),
    (Decimal("2014101.00"), "2014101"),
    ("2014101", "2014101"),
    (" 2014101 ", "2014101"),
    ("2014101.0", "2014101"),
    ("2014101.00", "2014101"),
    ("201 41 01", "2014101"),
    ("201\u300041\u300001", "2014101"),  # ideographic spaces
    ("201\u00a041", "20141"),  # no-break space
    ("２０１４１０１", "2014101"),  # full-width digits
    ("２０１　４１　５０", "2014150"),
    ("201-41-01", "2014101"),
    ("201－41－01", "2014101"),  # full-width hyphen
    ("201—41—01", "2014101"),  # em dash
    ("201.41.01", "2014101"),
    ("201/41/01", "2014101"),
    ("'2014101", "2014101"),  # Excel text prefix
    ("301 01", "30101"),
    ("20141\t", "20141"),
    # not codes
    (None, None),
    (True, None),
    (False, None),
    ("", None),
    ("   ", None),
    ("类", None),
    ("※", None),
    ("总计", None),
    ("2014101 行政运行", None),
    ("201a", None),
    ("20", None),
    ("2014", None),
    ("201410", None),
    ("20141011", None),
    ("0201", None),
    ("000", None),
    ("01", None),
    (-201, None),
    (2014101.5, None),
    (201.41, None),
    (float("nan"), None),
    (float("inf"), None),
    (Decimal("2014101.5"), None),
    ("2014101.5", None),
    ("٢٠١", None),  # Arabic-Indic digits are not accepted
    (["201"], None),
]


@pytest.mark.parametrize(("value", "expected"), NORMALIZE_CASES)
def test_normalize_code(value, expected):
    assert normalize_code(value) == expected


@pytest.mark.parametrize(
    ("code", "kind", "level"),
    [
        ("201", "function", "类"),
        ("20141", "function", "款"),
        ("2014101", "function", "项"),
        ("301", "economic", "类"),
        ("30101", "economic", "款"),
        ("3010101", None, None),  # the economic list stops at 款
        ("501", None, None),  # 政府预算支出经济分类
        ("1020301", None, None),  # revenue
    ],
)
def test_kind_and_level_of(code, kind, level):
    assert kind_of(code) == kind
    assert level_of(code) == level


def test_normalize_name():
    assert normalize_name(" 政府办公厅（室）及相关机构事务\u3000") == "政府办公厅(室)及相关机构事务"
    assert normalize_name("“三公”经费") == normalize_name('"三公"经费')
    assert normalize_name(None) == ""


# ---------------------------------------------------------------------------
# Shipped lists
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def functions() -> Catalogue:
    return load_catalogue("function", 2025)


@pytest.fixture(scope="module")
def economic() -> Catalogue:
    return load_catalogue("economic", 2025)


def test_shipped_lists_are_partial(functions, economic):
    for catalogue in (functions, economic):
        assert catalogue.complete is False
        assert catalogue.year == 2025
        assert "部分" in catalogue.origin
    assert functions.kind == "function"
    assert economic.kind == "economic"


def test_shipped_function_has_all_seed_classes(functions):
    classes = functions.classes()
    assert [c.code for c in classes] == sorted(SEED_CLASSES)
    for entry in classes:
        assert entry.name == SEED_CLASSES[entry.code]
        assert entry.level == "类"
        assert entry.source.startswith(f"{SEED_SOURCE} 表1")


def test_shipped_function_seed_rows(functions):
    entry = functions.get("2014150")
    assert entry == Code("2014150", "事业运行", "项", f"{SEED_SOURCE} 表2")
    assert functions.name("20141") == "数据事务"
    assert functions.name(2080505) == "机关事业单位基本养老保险缴费支出"
    for code, name in [("2101101", "行政单位医疗"), ("2101102", "事业单位医疗"), ("2101103", "公务员医疗补助")]:
        assert functions.name(code) == name
        assert SEED_SOURCE in functions.get(code).source
    assert functions.name("2210201") == "住房公积金"


def test_shipped_economic_classes(economic):
    assert {c.code: c.name for c in economic.classes()} == SEED_ECONOMIC_CLASSES
    assert economic.name("30309") == "奖励金"
    assert SEED_SOURCE in economic.get("30217").source
    assert economic.codes("项") == []


def test_shipped_sources_merged_and_clean(functions, economic):
    # A code confirmed by the seed and by another source lists both, seed first.
    sources = functions.get("20805").source.split(" | ")
    assert sources[0] == f"{SEED_SOURCE} 表2"
    assert len(sources) == 2
    for catalogue in (functions, economic):
        for entry in catalogue:
            assert entry.source
            assert not re.search(r"\d{9,}", entry.source)  # no opaque internal identifiers
            assert entry.level == level_of(entry.code, catalogue.kind)
            assert kind_of(entry.code) == catalogue.kind


def test_shipped_lists_are_sorted_and_unique(functions, economic):
    for catalogue in (functions, economic):
        codes = [c.code for c in catalogue]
        assert codes == sorted(set(codes))


def test_lookup_accepts_typed_forms(functions):
    assert "2014150" in functions
    assert 2014150 in functions
    assert "２０１ ４１ ５０" in functions
    assert 2014150.0 in functions
    assert "2014198" not in functions
    assert "not a code" not in functions
    assert functions.get("9999999") is None
    assert functions.name("2014198") is None


# ---------------------------------------------------------------------------
# Hierarchy
# ---------------------------------------------------------------------------


def test_parent(functions, economic):
    assert functions.parent("2014101") == "20141"
    assert functions.parent("20141") == "201"
    assert functions.parent("201") is None
    assert functions.parent("201 41 50") == "20141"
    assert functions.parent("2010101") == "20101"  # derived even though 20101 is not listed
    assert functions.parent("30101") is None  # not a function code
    assert economic.parent("30101") == "301"
    assert economic.parent(301) is None
    assert economic.parent("2014101") is None


def test_children(functions, economic):
    assert [c.code for c in functions.children("20141")] == ["2014101", "2014150", "2014199"]
    assert [c.code for c in functions.children(210)] == ["21007", "21011"]
    assert [c.code for c in functions.children("2014101")] == []
    assert [c.code for c in functions.children("bad")] == []
    assert [c.code for c in economic.children("303")] == ["30309"]
    assert all(c.level == "款" for c in economic.children("302"))


def test_codes_by_level(functions):
    counts = functions.counts()
    assert counts["类"] == 29
    assert sum(counts.values()) == len(functions)
    assert len(functions.codes()) == len(functions)
    assert {c.level for c in functions.codes("项")} == {"项"}
    with pytest.raises(CatalogueError):
        functions.codes("目")


# ---------------------------------------------------------------------------
# names_match
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "code", "name"),
    [
        ("function", "2014150", "事业运行"),
        ("function", "2014150", " 事业 运行 "),
        ("function", "2014150", "事业\u3000运行"),
        ("function", "2080505", "机关事业单位基本养老保险缴\n费支出"),  # wrapped cell text
        ("function", "20103", "政府办公厅（室）及相关机构事务"),  # list has ASCII brackets
        ("function", "20103", "政府办公厅〔室〕及相关机构事务"),
        ("economic", "309", "资本性支出(基本建设)"),  # list has full-width brackets
        ("economic", "309", "资本性支出【基本建设】"),
        ("economic", "30212", "因公出国(境)费用"),
        ("function", "２０１", "一般公共服务支出"),
        ("function", 201, "一般公共服务支出"),
    ],
)
def test_names_match(functions, economic, kind, code, name):
    catalogue = functions if kind == "function" else economic
    assert catalogue.names_match(code, name)


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("2014150", "行政运行"),  # wrong name for the code
        ("2014150", "事业运行支出"),
        ("2014150", ""),
        ("2014150", None),
        ("2014198", "其他数据事务支出"),  # code not listed
        ("bad", "事业运行"),
    ],
)
def test_names_do_not_match(functions, code, name):
    assert not functions.names_match(code, name)


def test_names_match_quotes():
    catalogue = Catalogue("economic", 2025, [Code("30299", "其他“三公”外支出", "款")])
    assert catalogue.names_match("30299", '其他"三公"外支出')
    assert catalogue.names_match("30299", "其他‘三公’外支出")


def test_catalogue_rejects_codes_of_wrong_kind():
    with pytest.raises(CatalogueError):
        Catalogue("economic", 2025, [Code("2014101", "行政运行", "项")])
    with pytest.raises(CatalogueError):
        Catalogue("function", 2025, [Code("20141", "数据事务", "项")])
    with pytest.raises(CatalogueError):
        Catalogue("revenue", 2025, [])


# ---------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------


def _official_xlsx(path: Path) -> Path:
    """A bureau-style workbook: title row, 2-row header with split 类/款/项 columns, two sheets."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "支出功能分类科目"
    sheet.append(["2025年政府收支分类科目（支出功能分类）"])
    sheet.append([])
    sheet.append(["科目编码", None, None, "科目名称", "说明"])
    sheet.merge_cells("A3:C3")
    sheet.append(["类", "款", "项", None, None])
    rows = [
        (201, None, None, "一般公共服务支出"),
        (201, 1, None, "人大事务"),  # 款 typed as a number
        (201, "01", "01", "行政运行"),
        (None, None, "02", "一般行政管理事务"),  # 类/款 printed only once per group
        (201, 41, None, "数据事务"),
        (201, 41, 1, "行政运行"),
        ("201", "41", "50", "　　事业运行"),  # indented name
        ("201", "41", "99", "其他数据事务支出"),
        (208, None, None, "社会保障和就业支出"),
        (208, "05", None, "行政事业单位养老支出"),
        (208, "05", "05", "机关事业单位基本养老保险缴费支出"),
        (None, None, None, None),
        ("合计", None, None, None),
    ]
    for row in rows:
        sheet.append(list(row))
    econ = workbook.create_sheet("部门预算支出经济分类")
    econ.append(["部门预算支出经济分类科目"])
    econ.append(["类", "款", "科目名称"])
    for row in [
        (301, None, "工资福利支出"),
        (301, 1, "基本工资"),
        (301, "02", "津贴补贴"),
        (302, None, "商品和服务支出"),
        (302, 1, "办公费"),
    ]:
        econ.append(list(row))
    notes = workbook.create_sheet("说明")
    notes.append(["本表为测试用的科目目录"])
    workbook.save(path)
    return path


def test_import_xlsx_split_columns(tmp_path):
    src = _official_xlsx(tmp_path / "2025年政府收支分类科目.xlsx")
    dest = tmp_path / "catalogue" / "2025"
    imported = import_catalogue(src, dest, 2025, complete=True)  # a small list: vouched for as complete

    assert [c.kind for c in imported] == ["function", "economic"]
    functions, economic = imported
    assert functions.complete is True and economic.complete is True
    assert functions.origin == src.name
    assert functions.counts() == {"类": 2, "款": 3, "项": 6}
    assert economic.counts() == {"类": 2, "款": 3}
    assert [c.code for c in functions.children("20101")] == ["2010101", "2010102"]
    assert functions.name("2014150") == "事业运行"
    assert functions.get("2014150").source == f"{src.name} / 支出功能分类科目"
    assert economic.name("30101") == "基本工资"

    assert (dest / "function.csv").is_file()
    assert (dest / "economic.csv").is_file()
    meta = json.loads((dest / "catalogue.json").read_text(encoding="utf-8"))
    assert meta["year"] == 2025
    assert meta["catalogues"]["function"] == {
        "kind": "function",
        "year": 2025,
        "complete": True,
        "origin": src.name,
        "file": "function.csv",
        "count": 11,
    }
    assert meta["catalogues"]["economic"]["count"] == 5

    reloaded = load_catalogue("function", 2025, path=dest)
    assert reloaded.complete is True
    assert reloaded.origin == src.name
    assert [(c.code, c.name, c.level) for c in reloaded] == [(c.code, c.name, c.level) for c in functions]
    # The raw workbook can be loaded directly too.
    direct = load_catalogue("economic", 2025, path=src)
    assert [c.code for c in direct] == ["301", "30101", "30102", "302", "30201"]


def test_import_disclosure_style_table(tmp_path):
    """A 表3-style sheet: "功能分类科目编码" merged over 类/款/项, amounts, a ※ row and a 总计 row."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["部门支出总体情况表"])
    sheet.append(["编制部门：克孜勒苏柯尔克孜自治州数字化发展局", None, None, None, None, None, "单位：万元"])
    sheet.append(["功能分类科目编码", None, None, "功能分类科目名称", "合计", "基本支出", "项目支出"])
    sheet.merge_cells("A3:C3")
    sheet.append(["类", "款", "项"])
    sheet.append(["※", "※", "※", "※", 1, 2, 3])
    sheet.append(["总计", None, None, None, 417.37, 186.63, 230.74])
    sheet.append(["201", None, None, "一般公共服务支出", 373.03, 142.29, 230.74])
    sheet.append(["201", "41", None, "数据事务", 373.03, 142.29, 230.74])
    sheet.append(["201", "41", "50", "事业运行", 87.48, 87.48, None])
    sheet.append(["221", "02", "01", "住房公积金", 14.92, 14.92, None])
    src = tmp_path / "表3.xlsx"
    workbook.save(src)
    (functions,) = import_catalogue(src, tmp_path / "out", 2025)
    assert [c.code for c in functions] == ["201", "20141", "2014150", "2210201"]
    assert any("上级科目不在文件中：2210201" in note for note in functions.notes)


@pytest.mark.libreoffice
def test_import_xls(tmp_path, soffice):
    """An .xls list (read through calamine), made by LibreOffice from the generated workbook."""
    src = _official_xlsx(tmp_path / "official.xlsx")
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={(tmp_path / 'lo_profile').as_uri()}",
            "--headless",
            "--convert-to",
            "xls",
            "--outdir",
            str(tmp_path / "xls"),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    functions, economic = import_catalogue(tmp_path / "xls" / "official.xls", tmp_path / "out", 2025)
    assert functions.counts() == {"类": 2, "款": 3, "项": 6}
    assert economic.counts() == {"类": 2, "款": 3}
    assert functions.name("2014150") == "事业运行"


def _gb18030_csv(path: Path) -> Path:
    lines = [
        "科目编码,科目名称,备注",
        "201,一般公共服务支出,",
        "20141,数据事务,2025年新增",
        "2014101,行政运行,",
        "2014150,事业运行,",
        "301,工资福利支出,",
        "30101,基本工资,",
        "30113,住房公积金,",
        "501,机关工资福利支出,政府预算经济分类：跳过",
        "1020301,职工基本医疗保险费收入,收入分类：跳过",
        "2014199,,没有名称：跳过",
        "合计,,",
    ]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gb18030"))
    return path


def test_import_gb18030_csv(tmp_path):
    src = _gb18030_csv(tmp_path / "科目.csv")
    with pytest.raises(UnicodeDecodeError):
        src.read_bytes().decode("utf-8")
    dest = tmp_path / "out"
    functions, economic = import_catalogue(src, dest, 2025, complete=True)
    assert functions.complete and economic.complete
    assert functions.counts() == {"类": 1, "款": 1, "项": 2}
    assert economic.counts() == {"类": 1, "款": 2}
    assert functions.name("2014150") == "事业运行"
    assert "2014199" not in functions
    assert any("跳过 2 个其他科目编码" in note for note in functions.notes)
    assert any("没有科目名称" in note for note in functions.notes)
    assert (dest / "function.csv").read_text(encoding="utf-8").startswith("code,name,level,source\n")


def test_import_utf8_bom_csv_one_kind(tmp_path):
    src = tmp_path / "economic.csv"
    src.write_text("\ufeffcode,name\n302,商品和服务支出\n30201,办公费\n201,一般公共服务支出\n", encoding="utf-8")
    dest = tmp_path / "out"
    imported = import_catalogue(src, dest, 2025, kind="economic", complete=False)
    assert [c.kind for c in imported] == ["economic"]
    assert imported[0].complete is False
    assert not (dest / "function.csv").exists()
    assert load_catalogue("economic", 2025, path=dest).complete is False
    # Loading the written file itself keeps the metadata stored next to it.
    direct = load_catalogue("economic", 2025, path=dest / "economic.csv")
    assert direct.complete is False
    assert direct.origin == "economic.csv"
    assert [c.code for c in direct] == ["302", "30201"]


def test_import_keeps_other_kind(tmp_path):
    dest = tmp_path / "out"
    import_catalogue(_gb18030_csv(tmp_path / "a.csv"), dest, 2025)
    src = tmp_path / "b.csv"
    src.write_text("编码,名称\n302,商品和服务支出\n30201,办公费\n", encoding="utf-8")
    import_catalogue(src, dest, 2025)
    meta = json.loads((dest / "catalogue.json").read_text(encoding="utf-8"))
    assert meta["catalogues"]["function"]["origin"] == "a.csv"
    assert meta["catalogues"]["economic"]["origin"] == "b.csv"
    assert [c.code for c in load_catalogue("economic", 2025, path=dest)] == ["302", "30201"]
    with pytest.raises(CatalogueError, match="2025"):
        import_catalogue(src, dest, 2026)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("no_code_column.csv", "项目,金额\n办公费,1.00\n"),
        ("names_only.csv", "科目名称,金额\n办公费,1.00\n"),
        ("empty.csv", ""),
    ],
)
def test_import_without_code_column_fails(tmp_path, name, content):
    src = tmp_path / name
    src.write_text(content, encoding="utf-8")
    with pytest.raises(CatalogueError, match="找不到科目编码列"):
        import_catalogue(src, tmp_path / "out", 2025)
    assert not (tmp_path / "out").exists()


def test_import_without_usable_codes_fails(tmp_path):
    src = tmp_path / "revenue.csv"
    src.write_text("科目编码,科目名称\n1020301,职工基本医疗保险费收入\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="没有找到"):
        import_catalogue(src, tmp_path / "out", 2025)
    src2 = tmp_path / "functions.csv"
    src2.write_text("科目编码,科目名称\n201,一般公共服务支出\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="部门预算支出经济分类"):
        import_catalogue(src2, tmp_path / "out", 2025, kind="economic")


def test_import_bad_files(tmp_path):
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip file")
    with pytest.raises(CatalogueError, match="无法"):
        import_catalogue(broken, tmp_path / "out", 2025)
    pdf = tmp_path / "list.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    with pytest.raises(CatalogueError, match="不支持"):
        import_catalogue(pdf, tmp_path / "out", 2025)
    with pytest.raises(CatalogueError):
        import_catalogue(tmp_path / "missing.csv", tmp_path / "out", 2025)
    assert issubclass(CatalogueError, ValueError)
    assert issubclass(CatalogueError, XlbudgetError)


def test_load_errors(tmp_path):
    with pytest.raises(CatalogueError):
        load_catalogue("function", 1999)
    with pytest.raises(CatalogueError):
        load_catalogue("revenue")
    with pytest.raises(CatalogueError, match="没有"):
        load_catalogue("function", 2025, path=tmp_path)


def test_default_catalogue_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("XLBUDGET_HOME", str(tmp_path))
    assert default_catalogue_dir(2025) == tmp_path / "catalogue" / "2025"
    monkeypatch.delenv("XLBUDGET_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_catalogue_dir(2026) == tmp_path / "home" / ".xlbudget" / "catalogue" / "2026"


def test_load_active_catalogue(monkeypatch, tmp_path):
    monkeypatch.setenv("XLBUDGET_HOME", str(tmp_path))
    assert load_active_catalogue("function", 2025).complete is False
    import_catalogue(_gb18030_csv(tmp_path / "a.csv"), default_catalogue_dir(2025), 2025, complete=True)
    active = load_active_catalogue("function", 2025)
    assert active.complete is True
    assert len(active) == 4


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_cli_import_and_show(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("XLBUDGET_HOME", str(tmp_path / "home"))
    src = _official_xlsx(tmp_path / "official.xlsx")
    dest = tmp_path / "dest"
    result = runner.invoke(catalogue_cli, ["import", str(src), "--year", "2025", "--dest", str(dest), "--complete"])
    assert result.exit_code == 0, result.output
    assert "已导入 2025 年度科目目录，来源：official.xlsx" in result.output
    assert "支出功能分类：共 11 条（类 2，款 3，项 6），完整目录" in result.output
    assert "部门预算支出经济分类：共 5 条（类 2，款 3），完整目录" in result.output
    assert f"存放位置：{dest}" in result.output

    result = runner.invoke(catalogue_cli, ["show", "--catalogue", str(dest), "--kind", "function"])
    assert result.exit_code == 0, result.output
    assert "支出功能分类（2025年度）：共 11 条" in result.output
    assert "完整目录" in result.output
    assert "来源：official.xlsx" in result.output
    assert "经济分类" not in result.output


def test_cli_import_default_destination(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("XLBUDGET_HOME", str(tmp_path / "home"))
    src = _gb18030_csv(tmp_path / "list.csv")
    result = runner.invoke(catalogue_cli, ["import", str(src)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "home" / "catalogue" / "2025" / "function.csv").is_file()
    result = runner.invoke(catalogue_cli, ["show"])
    assert result.exit_code == 0, result.output
    assert "来源：list.csv" in result.output


def test_cli_show_shipped(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("XLBUDGET_HOME", str(tmp_path))
    result = runner.invoke(catalogue_cli, ["show", "--year", "2025"])
    assert result.exit_code == 0, result.output
    assert "支出功能分类（2025年度）：共 70 条（类 29，款 11，项 30）" in result.output
    assert "部门预算支出经济分类（2025年度）：共 77 条（类 10，款 67）" in result.output
    assert "部分目录" in result.output


def test_cli_import_bad_file(runner, tmp_path):
    src = tmp_path / "bad.csv"
    src.write_text("项目,金额\n办公费,1\n", encoding="utf-8")
    result = runner.invoke(catalogue_cli, ["import", str(src), "--dest", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "找不到科目编码列" in result.output


def test_cli_show_missing_kind(runner, tmp_path):
    src = tmp_path / "econ.csv"
    src.write_text("科目编码,科目名称\n301,工资福利支出\n", encoding="utf-8")
    dest = tmp_path / "out"
    assert runner.invoke(catalogue_cli, ["import", str(src), "--dest", str(dest)]).exit_code == 0
    result = runner.invoke(catalogue_cli, ["show", "--catalogue", str(dest)])
    assert result.exit_code == 0, result.output
    assert "没有支出功能分类目录" in result.output
    assert "部门预算支出经济分类（2025年度）：共 1 条" in result.output
    result = runner.invoke(catalogue_cli, ["show", "--catalogue", str(dest), "--kind", "function"])
    assert result.exit_code == 1
