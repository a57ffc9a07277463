"""Checks on the transcribed example data of the 2025 budget disclosure of
克孜勒苏柯尔克孜自治州数字化发展局 (examples/kezhou-2025).

The expected values below are taken from the published document, not computed
from the JSON files, so a transcription error makes these tests fail.
"""

import json
from decimal import Decimal
from pathlib import Path

import pytest

EXAMPLE_DIR = Path(__file__).resolve().parents[1] / "examples" / "kezhou-2025"

UNIT_NAME = "克孜勒苏柯尔克孜自治州数字化发展局"

# 表7 一般公共预算项目支出情况表, in printed order.
PROJECTS_TABLE7 = {
    "p1": ("克州电子政务外网专项运维费项目", "62.40"),
    "p2": ("克州数字政府工作业务经费项目", "10.00"),
    "p3": ("克州政务服务大厅维保经费项目", "30.00"),
    "p4": ("克州数字化发展局公车购置项目", "20.00"),
    "p5": ("克州政务服务和数字化发展中心业务经费项目", "7.00"),
    "p6": ("克州 12345 政务服务便民热线经费项目", "101.34"),
}

# Number of indicator rows printed in each 项目支出绩效目标表.
INDICATOR_COUNTS = {"p1": 11, "p2": 14, "p3": 16, "p4": 8, "p5": 11, "p6": 17}

# Weight column of each 项目支出绩效目标表, top to bottom.
PROJECT_WEIGHTS = {
    "p1": [7, 7, 7, 7, 6, 6, 10, 10, 10, 10, 10],
    "p2": [5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 20, 10],
    "p3": [4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 10, 10, 10, 10, 5, 5],
    "p4": [20, 10, 10, 9, 5, 6, 20, 10],
    "p5": [8, 8, 8, 8, 8, 10, 10, 10, 10, 5, 5],
    "p6": [5, 5, 5, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 10, 10, 5, 5],
}

# The region's performance tables are scored out of 90 (绩效 weights).
TABLE_WEIGHT_TOTAL = 90


@pytest.fixture(scope="module")
def performance():
    with open(EXAMPLE_DIR / "performance.json", encoding="utf-8") as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def facts():
    with open(EXAMPLE_DIR / "facts.json", encoding="utf-8") as fh:
        return json.load(fh)


# --------------------------------------------------------------------------
# performance.json
# --------------------------------------------------------------------------


def test_department_header(performance):
    dept = performance["department"]
    assert dept["unit_name"] == UNIT_NAME
    assert dept["contact"] == "田雪君"
    assert dept["phone"] == "15209080914"
    assert dept["funds"] == {"fiscal_upper": "0.00", "fiscal_own": "417.37", "other": "0.00"}
    assert dept["goal"].startswith("坚持把数字经济+战略性新型产业作为数字化发展局的主攻方向")
    assert dept["goal"].endswith("切实提升企业和群众办事便捷度和满意度。")
    assert "\n" not in dept["goal"]


def test_department_indicators(performance):
    rows = performance["department"]["indicators"]
    assert [r["weight"] for r in rows] == [20, 20, 15, 15, 20]
    assert sum(r["weight"] for r in rows) == TABLE_WEIGHT_TOTAL
    assert all(r["level1"] == "履职效能" for r in rows)
    assert [r["level2"] for r in rows] == ["数量指标"] * 4 + ["质量指标"]
    assert rows[0]["name"] == "参加自治区“数据要素 X”大赛（次）"
    assert rows[0]["value"] == "=1 次"
    assert rows[2]["value"] == "＞=500 项"
    assert rows[4]["name"] == "12345 政务服务热线工单办结（%）"
    assert rows[4]["value"] == "＞=95%"
    assert all(r["basis"] == "自治州数字化发展局 2025年工作计划" for r in rows)


def test_projects_exist_with_table7_totals(performance):
    projects = performance["projects"]
    assert sorted(projects) == sorted(PROJECTS_TABLE7)
    for key, (name, amount) in PROJECTS_TABLE7.items():
        proj = projects[key]
        assert proj["name"] == name
        assert proj["budget_total"] == amount
        assert proj["fiscal"] == amount
        assert proj["other_funds"] == "0.00"
        assert proj["owner"] == "吴永波"
    total = sum(Decimal(p["budget_total"]) for p in projects.values())
    assert total == Decimal("230.74")  # 表7 项目支出合计


@pytest.mark.parametrize("key", sorted(PROJECTS_TABLE7))
def test_project_indicator_rows(performance, key):
    rows = performance["projects"][key]["indicators"]
    assert len(rows) == INDICATOR_COUNTS[key]
    assert [r["weight"] for r in rows] == PROJECT_WEIGHTS[key]
    assert all(isinstance(r["weight"], int) for r in rows)
    assert sum(r["weight"] for r in rows) == TABLE_WEIGHT_TOTAL
    level1 = {r["level1"] for r in rows}
    assert {"产出指标", "效益指标", "满意度指标"} <= level1
    assert level1 <= {"产出指标", "成本指标", "效益指标", "满意度指标"}
    for r in rows:
        for field in ("level1", "level2", "name", "value", "basis", "last_year", "scoring", "evidence"):
            assert r[field], (key, r["name"], field)
            assert "\n" not in r[field]


def test_project_indicator_samples(performance):
    p = performance["projects"]
    first = p["p1"]["indicators"][0]
    assert first == {
        "level1": "产出指标", "level2": "数量指标", "name": "涉及单位数（个）", "value": "＞=80个",
        "basis": "计划标准", "last_year": "80个", "weight": 7, "scoring": "按照正常比例赋分",
        "evidence": "工作资料",
    }
    assert p["p1"]["indicators"][7]["value"] == "＜=525元/月"
    assert p["p6"]["indicators"][5]["name"] == "电话接听率（%）"
    assert p["p6"]["indicators"][5]["value"] == "＞=98%"
    assert p["p6"]["indicators"][9]["value"] == "＜=20万元"
    assert p["p6"]["indicators"][12]["last_year"] == "59.4万元"
    assert p["p4"]["indicators"][0]["value"] == "=1辆"
    assert p["p3"]["indicators"][4]["value"] == "=365天"
    assert p["p5"]["indicators"][6]["last_year"] == "0.8 万元"
    assert p["p2"]["indicators"][-1]["name"] == "科室满意率（%）"


# --------------------------------------------------------------------------
# facts.json
# --------------------------------------------------------------------------


def test_overview(facts):
    ov = facts["overview"]
    assert len(ov["duties"]) == 10
    assert ov["duties"][0].startswith("（一）拟订数据要素")
    assert ov["duties"][-1] == "（十）完成自治州党委、自治州人民政府交办的其他任务。"
    assert ov["functions_intro"].startswith("克州数字化发展局是自治州人民政府工作部门，为正县级。")
    assert "党中央" in ov["functions_intro"]
    assert len(ov["sections"]) == 13
    assert ov["sections"][0] == "办公室"
    assert ov["sections"][-1] == "热线服务科"
    assert "大厅管理科（效能科）" in ov["sections"]
    assert ov["subordinate_units"] == 0
    assert (ov["establishment"], ov["staff_actual"]) == (33, 14)
    assert (ov["in_service"], ov["in_service_change"]) == (14, 4)
    assert (ov["retired"], ov["retired_change"], ov["lixiu"], ov["lixiu_change"]) == (0, 0, 0, 0)


def test_procurement(facts):
    proc = facts["procurement"]
    assert proc["goods"] == "21.44"
    assert proc["works"] == "1.06"
    assert proc["services"] == "162.24"
    total = Decimal(proc["goods"]) + Decimal(proc["works"]) + Decimal(proc["services"])
    assert total == Decimal("184.74")
    assert proc["sme_reserved"] == "0.40"
    assert proc["sme_micro"] == "0.40"


def test_operating_costs_and_assets(facts):
    assert facts["operating_costs"] == {"amount": "6.18", "last_year": "0.00"}
    assets = facts["assets"]
    assert assets["furniture_value"] == "6.22"
    assert assets["other_assets_value"] == "300.32"
    assert assets["planned_vehicle_purchase"] == "18.00"
    assert assets["vehicles_general_count"] == 0


@pytest.mark.parametrize("key", sorted(PROJECTS_TABLE7))
def test_allocation_matches_table7(facts, key):
    proj = facts["projects"][key]
    assert proj["unit"] == UNIT_NAME
    assert proj["period"] == "2025 年 1月 1 日到 2025 年 12 月 31 日"
    assert proj["policy_basis"]
    assert "\n" not in proj["policy_basis"]
    amounts = [item["amount"] for item in proj["allocation"]]
    assert all(len(a.split(".")[1]) == 2 for a in amounts)
    assert sum(Decimal(a) for a in amounts) == Decimal(PROJECTS_TABLE7[key][1])


def test_allocation_items(facts):
    p = facts["projects"]
    assert p["p1"]["allocation"] == [
        {"item": "等保测评", "amount": "7.00"},
        {"item": "链路费", "amount": "22.68"},
        {"item": "设备购置", "amount": "32.72"},
    ]
    assert [a["amount"] for a in p["p6"]["allocation"]] == ["75.60", "20.00", "3.94", "1.80"]
    assert [a["item"] for a in p["p4"]["allocation"]] == ["公务用车购置", "购买保险、车辆购置税"]


def test_narrative_and_glossary(facts):
    nar = facts["narrative"]
    assert nar["change_reason"] == "克州数字化发展局为 2024 年新成立预算单位"
    assert sorted(nar["class_uses"]) == ["201", "208", "210", "221"]
    assert nar["class_uses"]["221"] == "主要用于部门干部职工住房公积金缴纳费用的支出"
    assert nar["other_matters"] == "本部门无其他需说明事项。"
    assert nar["date"] == "2025 年 2月 20 日"
    gl = facts["glossary"]
    assert len(gl) == 8
    assert gl[0] == "财政拨款:指由一般公共预算、政府性基金预算、国有资本经营预算安排的财政拨款数。"
    assert gl[-1].startswith("机关运行经费:")
