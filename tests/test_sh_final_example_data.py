"""The facts and comparison figures of the 决算 example (examples/putuo-social-work-2024) against the published
text shipped beside them: every transcribed word and figure is found in the document."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "putuo-social-work-2024"


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def text() -> str:
    raw = (EXAMPLE / "disclosure-2024.txt").read_text(encoding="utf-8")
    return _squash(re.sub(r"=== page \d+ ===", "", raw))


@pytest.fixture(scope="module")
def facts() -> dict:
    return json.loads((EXAMPLE / "facts.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def figures() -> dict:
    return json.loads((EXAMPLE / "figures.json").read_text(encoding="utf-8"))


def test_overview_words_are_the_documents(facts, text):
    ov = facts["overview"]
    assert _squash(ov["functions"]) in text
    assert _squash(ov["composition"]) in text
    assert ov["units"] == ["中共上海市普陀区委社会工作部（本级）", "上海市普陀区社会工作发展服务中心"]
    for i, unit in enumerate(ov["units"], start=1):
        assert f"{i}{unit}" in text


def test_reasons_and_uses_are_the_documents(facts, text):
    narr = facts["narrative"]
    for reason in narr["reasons"].values():
        assert _squash(reason) in text, reason
    assert len(narr["item_uses"]) == 9
    for code, use in narr["item_uses"].items():
        assert f"主要用于：{_squash(use)}。" in text, code
    for code, reason in narr["item_reasons"].items():
        assert f"主要原因：{_squash(reason)}。" in text, code
    # items whose 决算 equals the 全年预算 have no reason
    assert set(narr["item_uses"]) - set(narr["item_reasons"]) == {"2013999", "2210203"}


def test_budget_figures_of_each_item(figures, text):
    ly = figures["tables"]["LY"]
    items = {k: v for k, v in ly.items() if k.isdigit()}
    assert len(items) == 9
    for code, v in items.items():
        assert v["initial"] == "0.00"
        assert f"全年预算为{v['adjusted']}万元" in text, code
    assert sum(Decimal(v["adjusted"]) for v in items.values()) == Decimal("321.02")
    assert "全年预算为321.02万元" in text and "年初预算为0万元" in text
    # founded in 2024: last year's 决算 is 0 everywhere
    assert {v["value"] for k, v in ly.items() if not k.isdigit()} == {"0.00"}


def test_performance_procurement_assets(facts, text):
    perf = facts["performance"]
    assert _squash(perf["rules"]) in text
    assert (perf["target_projects"], perf["target_amount"], perf["score"]) == (1, "175.52", "100.00")
    assert "编报绩效目标的2024年度项目1个，涉及预算金额175.52万元" in text
    assert "平均得分100.00分" in text and "绩效自评中共发现问题0个" in text
    proc = facts["procurement"]
    assert proc == {"goods": "21.07", "works": "0", "services": "0", "sme_reserved": "21.07",
                    "micro_reserved": "21.07", "sme_awarded_reserved": "21.07", "micro_awarded_reserved": "21.07",
                    "sme_awarded_other": "21.07"}
    assert "货物采购金额21.07万元、工程采购金额0万元、服务采购金额0万元" in text
    assert "在其他政府采购项目中，由中小企业供应商中标或成交的，采购金额21.07万元" in text
    assert facts["operating_costs"]["amount"] == "10.23" and "机关运行经费支出10.23万元" in text
    assert facts["assets"]["as_of"] == "2024 年 12 月 31 日" and "共有车辆0辆" in text
    assert set(facts["assets"]["vehicles"].values()) == {0} and facts["assets"]["equipment_100_count"] == 0


def test_glossary(facts, text):
    gl = facts["glossary"]
    assert len(gl) == 11
    for i, g in enumerate(gl):
        assert _squash(g) in text, i
    assert gl[-1].startswith("机关运行经费：")
