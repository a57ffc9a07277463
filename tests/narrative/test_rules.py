"""One mutation per narrative rule: a statement that holds gives no finding, the changed one is caught."""

from __future__ import annotations

from decimal import Decimal

import pytest


def only(fs, rule, severity):
    got = [f for f in fs if f.rule == rule and f.severity.value == severity]
    others = [f for f in fs if f not in got]
    assert len(got) == 1 and not others, [f.message() for f in fs]
    return got[0]


SH = "sh-budget"
SHF = "sh-final"
XJ = "xj11"


# --- N.amount ------------------------------------------------------------------------------------------
def test_amount(run):
    assert run(SH, "收入预算4748.35万元。") == []
    f = only(run(SH, "收入预算4748.36万元。"), "N.amount", "error")
    assert (f.actual, f.expected, f.difference, f.tolerance) == (
        Decimal("4748.36"), Decimal("4748.35"), Decimal("0.01"), Decimal("0.005"))
    assert f.cells[1] == "表1!B13" and "4748.36万元" in f.message()


def test_amount_in_whole_wanyuan_that_truncates_is_a_rounding_residue(run):
    item = "7.“城乡社区支出（类）城乡社区管理事务（款）城管执法（项）”{}万元。"
    assert run(SH, item.format("3378")) == []                           # 3377.5592 rounded
    f = only(run(SH, item.format("3377")), "N.amount", "info")           # … truncated: 尾差
    assert f.kind == "narrative-amount-residue"
    only(run(SH, item.format("3376")), "N.amount", "error")


def test_amount_in_yuan_converts_exactly(run):
    assert run(SH, "收入预算47,483,458元。") == []
    only(run(SH, "收入预算47,483,459元。"), "N.amount", "error")


def test_amount_of_a_coded_item(run):
    ok = "1.“社会保障和就业支出（类）抚恤（款）死亡抚恤（项）”29.40万元。"
    assert run(SH, ok) == []
    f = only(run(SH, ok.replace("29.40", "29.04")), "N.amount", "error")
    assert f.params["name"] == "死亡抚恤"


# --- N.share, N.breakdown --------------------------------------------------------------------------------
def test_share(run):
    assert run(XJ, "其中：基本支出186.63万元，占44.72%；") == []
    f = only(run(XJ, "其中：基本支出186.63万元，占44.82%；"), "N.share", "error")
    assert f.expected == Decimal("44.72") and f.params["whole"] == Decimal("417.37")


def test_share_one_unit_off_is_a_rounding_residue(run):
    only(run(XJ, "基本支出186.63万元，占44.71%。"), "N.share", "info")


def test_breakdown(run):
    ok = "本年支出合计307.82万元，其中：基本支出105.58万元，占34.30%；项目支出202.24万元，占65.70%。"
    assert run(SHF, ok) == []
    fs = run(SHF, ok.replace("34.30", "34.31").replace("65.70", "65.71"))
    assert {(f.rule, f.severity.value) for f in fs} == {("N.share", "info"), ("N.breakdown", "error")}
    assert [f.actual for f in fs if f.rule == "N.breakdown"] == [Decimal("100.02")]


# --- N.change, N.direction, N.zero-base ----------------------------------------------------------------
def test_change(run):
    ok = "财政拨款收入4748.35万元，比2025年预算减少19.79万元。"
    assert run(SH, ok) == []
    f = only(run(SH, ok.replace("19.79", "19.97")), "N.change", "error")
    assert f.expected == Decimal("19.79") and f.params["last"] == Decimal("4768.14")


def test_rate_of_change(run):
    ok = "三公经费预算数为114.22万元，比2025年预算增加27万元，增长30.96%。"     # 27 / 87.22
    assert run(SH, ok) == []
    only(run(SH, ok.replace("30.96", "31.96")), "N.change", "error")


def test_direction(run):
    only(run(SH, "财政拨款收入4748.35万元，比2025年预算增加19.79万元。"), "N.direction", "error")
    assert run(SH, "公务用车运行费38.76万元，与2025年预算持平。") == []
    f = only(run(SH, "公务用车购置费75万元，与2025年预算持平。"), "N.direction", "error")
    assert (f.actual, f.expected) == (Decimal("75.00"), Decimal("48.00"))


def test_growth_on_a_zero_base(run):
    f = only(run(SHF, "与2023年度相比，收入支出总计增加307.82万元，增长100.00%。"), "N.zero-base", "warning")
    assert f.actual == Decimal("100.00")
    assert run(SHF, "与2023年度相比，收入支出总计增加307.82万元（上年为 0，不计算增长率）。") == []


# --- N.completion --------------------------------------------------------------------------------------
def test_completion_on_the_base_the_sentence_names(run):
    item = "1、一般公共服务支出（类）社会工作事务（款）行政运行（项）。\n全年预算为52.00万元，支出决算为51.32万元，完成全年预算数的{}%。"
    assert run(SHF, item.format("98.69")) == []
    f = only(run(SHF, item.format("98.96")), "N.completion", "error")
    assert f.expected == Decimal("98.69")
    whole = "一般公共预算财政拨款支出年初预算为0万元，全年预算为321.02万元，支出决算为307.82万元，完成{}的95.89%。"
    assert run(SHF, whole.format("全年预算")) == []
    f = only(run(SHF, whole.format("年初预算")), "N.completion", "error")
    assert "全年预算 321.02" in f.params["matches"]


# --- N.count -------------------------------------------------------------------------------------------
def test_count(run):
    assert run(SH, "编报绩效目标的项目14个。") == []
    f = only(run(SH, "编报绩效目标的项目15个。"), "N.count", "error")
    assert (f.actual, f.expected) == (Decimal("15"), Decimal("14.00"))


# --- N.none --------------------------------------------------------------------------------------------
def test_none(run, budget_with):
    text = "公务用车购置费增加0.00万元，主要原因是2024年与2025年均未安排公务用车购置。"
    f = only(run(XJ, text), "N.none", "error")
    assert f.actual == Decimal("18.00") and f.params["words"] == "公务用车购置"
    def no_car(doc):
        doc["facts"]["assets"]["planned_vehicle_purchase"] = "0.00"
    assert run(XJ, text, budget=budget_with(XJ, no_car)) == []
    assert run(SH, "注：本年度无政府性基金预算支出，故本表无数据。") == []


# --- N.list --------------------------------------------------------------------------------------------
def test_list(run):
    ok = "公用经费10.23万元，主要包括：办公费、差旅费、维修（护）费、劳务费、委托业务费、福利费、其他交通费用、其他商品和服务支出。"
    assert run(SHF, ok) == []
    f = only(run(SHF, ok.replace("办公费、", "办公费、邮电费、")), "N.list", "warning")
    assert f.params["item"] == "邮电费"
    f = only(run(SHF, ok.replace("、福利费", "")), "N.list", "info")
    assert f.params["items"] == ["福利费"]


# --- N.purpose -----------------------------------------------------------------------------------------
def test_purpose(run):
    ok = "8、住房保障支出（类）住房改革支出（款）住房公积金（项）。\n主要用于：住房公积金支出。"
    assert run(SHF, ok) == []
    f = only(run(SHF, ok.replace("住房公积金支出。", "事业单位医疗保险支出。")), "N.purpose", "warning")
    assert f.params["other"] == "事业单位医疗"


# --- N.part-of -----------------------------------------------------------------------------------------
def test_running_costs_of_a_department_with_a_public_institution(run, budget_with):
    text = "机关运行经费支出10.23万元。"
    f = only(run(SHF, text), "N.part-of", "warning")           # 2013950 事业运行 and 2101102 in its tables
    assert f.expected == Decimal("10.23") and "表6!" in f.params["whole_cells"]
    def lower(doc):
        doc["facts"]["operating_costs"]["amount"] = "9.80"
    assert run(SHF, "机关运行经费支出9.80万元。", budget=budget_with(SHF, lower)) == []
    assert run(SH, "机关运行经费预算为507.25万元。") == []       # an administrative department: equal is right


# --- N.context, N.unrecognised -------------------------------------------------------------------------
def test_context_and_unrecognised(run):
    f = only(run(SH, "涉及项目预算资金1099.22万元。"), "N.context", "info")
    assert f.params["ratio"] == Decimal("97.40")
    assert run(SH, "涉及项目预算资金1128.62万元。") == []
    only(run(SH, "另有某某费用12.34万元。"), "N.unrecognised", "info")


# --- project texts: N.amount of an allocation, N.allocation, N.cost-cap, N.cost-items -------------------
PROJECT = "（五）项目名称：克州政务服务和数字化发展中心业务经费项目\n预算安排规模：7.00 万元\n" \
          "资金分配情况：大厅维修 1.06 万元，其他商品和服务支出 3.04 万元，办公经费 2.9 万元。"


def test_project_text_against_its_allocation(run):
    assert run(XJ, PROJECT) == []
    f = only(run(XJ, PROJECT.replace("3.04", "3.40")), "N.amount", "error")
    assert f.expected == Decimal("3.04") and "其他商品和服务支出" in f.params["aspect"]
    only(run(XJ, PROJECT.replace("7.00", "7.10")), "N.amount", "error")


def test_a_project_text_funding_a_sangong_item_the_sangong_table_lacks(run, budget_with):
    car = "（四）项目名称：克州数字化发展局公车购置项目\n预算安排规模：20.00 万元\n" \
          "资金分配情况：公务用车购置 18万元，购买保险、车辆购置税 2 万元。"
    f = only(run(XJ, car), "N.sangong", "error")
    assert f.cells[1] == "表10!B11" and f.expected == Decimal("18")
    def in_the_table(doc):
        doc["tables"]["T10"]["vehicle_purchase"] = {"gp": "18.00"}
    assert run(XJ, car, budget=budget_with(XJ, in_the_table)) == []


def _project_findings(budget):
    from xlbudget.narrative_check import check_narrative
    return [f for f in check_narrative(budget, []) if f.rule in ("N.allocation", "N.cost-cap", "N.cost-items")]


def test_allocations_add_up_to_the_project_budget(budget_with):
    def more(doc):
        doc["facts"]["projects"]["p1"]["allocation"][0]["amount"] = "8.00"
    got = [f for f in _project_findings(budget_with(XJ, more)) if f.rule == "N.allocation"]
    assert len(got) == 1 and got[0].actual == Decimal("63.40") and got[0].expected == Decimal("62.40")
    assert got[0].severity.value == "error" and got[0].position == "项目绩效1!F15"


def test_cost_cap(budgets, budget_with):
    caps = [f.params["item"] for f in _project_findings(budgets[XJ]) if f.rule == "N.cost-cap"]
    assert "大厅维修" in caps
    def cap(doc):
        for ind in doc["performance"]["projects"]["p5"]["indicators"]:
            if ind["name"].startswith("公共设施维护费"):
                ind["value"] = "＜=1.06万元"
    caps = [f.params["item"] for f in _project_findings(budget_with(XJ, cap)) if f.rule == "N.cost-cap"]
    assert "大厅维修" not in caps


def test_cost_items_describe_the_same_money(budgets, budget_with):
    got = [f for f in _project_findings(budgets[XJ]) if f.rule == "N.cost-items"]
    assert [f.params["item"] for f in got] == ["购买保险、车辆购置税"]
    def agree(doc):
        doc["facts"]["projects"]["p4"]["allocation"][1]["item"] = "车辆上牌及保险、贴膜坐垫"
    assert not [f for f in _project_findings(budget_with(XJ, agree)) if f.rule == "N.cost-items"]


@pytest.mark.parametrize("rule", ["N.amount", "N.share", "N.breakdown", "N.change", "N.direction", "N.zero-base",
                                  "N.completion", "N.count", "N.none", "N.list", "N.purpose", "N.context",
                                  "N.unrecognised", "N.allocation", "N.cost-cap", "N.cost-items", "N.source",
                                  "N.part-of", "N.sangong"])
def test_every_rule_has_a_severity_a_title_and_messages(rule):
    from xlbudget.findings import messages
    from xlbudget.narrative_check.rules import RULES
    r = RULES()[rule]
    assert r["severity"] in ("error", "warning", "info") and r["zh"] and r["en"]
    kinds = [k for k in messages() if k.startswith("narrative-")]
    assert all(messages()[k]["template"]["zh"] and messages()[k]["template"]["en"] for k in kinds)


def test_a_vocabulary_naming_what_the_set_lacks_fails_when_the_set_is_loaded(tmp_path):
    import shutil

    from xlbudget.errors import DescriptionError
    from xlbudget.tableset import installed_tableset, load_tableset

    src = installed_tableset("sh-budget").folder
    folder = tmp_path / "sh-budget"
    shutil.copytree(src, folder)
    voc = folder / "vocabulary.toml"
    voc.write_text(voc.read_text(encoding="utf-8").replace('value = "T1.in_total.amount"',
                                                           'value = "T1.no_such_row.amount"', 1), encoding="utf-8")
    with pytest.raises(DescriptionError, match="no_such_row"):
        load_tableset(folder)


def test_a_set_may_change_the_severity_of_a_rule(budgets):
    import msgspec

    from xlbudget.narrative_check import load_vocabulary, statements_of
    from xlbudget.narrative_check.rules import check_statements
    from xlbudget.narrative_check.sources import lines_of_text
    from xlbudget.narrative_check.vocabulary import Figures

    b = budgets[SHF]
    lines = lines_of_text("与2023年度相比，收入支出总计增加307.82万元，增长100.00%。")
    vocab = msgspec.structs.replace(load_vocabulary(b.layout.tableset), severity={"N.zero-base": "info"})
    fs = check_statements(Figures(b, vocab), vocab, statements_of(b, lines))
    assert [(f.rule, f.severity.value) for f in fs] == [("N.zero-base", "info")]
