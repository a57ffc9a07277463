"""Shared generators for the benchmarks: department specs, filled documents and workbooks on disk.

Everything here is deterministic for a given seed, so two runs of a benchmark measure the same files.

* :func:`small_spec`: a department like the built-in example (8 function 项, 17 economic 款, 6 projects).
* :func:`large_spec`: a big department (150 function 项, 60 economic 款, 80 projects by default) with
  realistic codes across several 类/款; names for codes missing from the shipped catalogue go in
  ``Spec.names``.
* :func:`random_document`: a consistent filled document for a spec (T2/T3/T5/T6/T7/T10, 绩效, facts).
* :func:`write_submissions`: N filled workbooks, a mix of small and large departments, written in
  parallel processes.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Sequence

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

from xlbudget.spec import Spec, spec_from_mapping  # noqa: E402

FORMAT = "xlbudget/1"
ZERO = Decimal(0)

# --- classification codes -----------------------------------------------------------------------------
# 类 and 款 names of the 支出功能分类 used below.
FUNCTION_GROUPS: dict[str, str] = {
    "201": "一般公共服务支出",
    "20101": "人大事务",
    "20102": "政协事务",
    "20103": "政府办公厅（室）及相关机构事务",
    "20104": "发展与改革事务",
    "20105": "统计信息事务",
    "20106": "财政事务",
    "20108": "审计事务",
    "20141": "数据事务",
    "208": "社会保障和就业支出",
    "20801": "人力资源和社会保障管理事务",
    "20802": "民政管理事务",
    "20805": "行政事业单位养老支出",
    "20807": "就业补助",
    "20808": "抚恤",
    "210": "卫生健康支出",
    "21001": "卫生健康管理事务",
    "21002": "公立医院",
    "21004": "公共卫生",
    "21011": "行政事业单位医疗",
    "213": "农林水支出",
    "21301": "农业农村",
    "21302": "林业和草原",
    "21303": "水利",
    "221": "住房保障支出",
    "22101": "保障性安居工程支出",
    "22102": "住房改革支出",
}

# 项 suffixes shared by most administrative 款 (…01 行政运行, …50 事业运行, …99 其他…).
_ADMIN = {"01": "行政运行", "02": "一般行政管理事务", "03": "机关服务", "50": "事业运行"}

_FUNCTION_ITEMS: dict[str, dict[str, str]] = {
    "20101": {**_ADMIN, "04": "人大会议", "05": "人大立法", "06": "人大监督", "07": "人大代表履职能力提升",
              "08": "代表工作", "09": "人大信访工作", "99": "其他人大事务支出"},
    "20102": {**_ADMIN, "04": "政协会议", "05": "委员视察", "06": "参政议政", "99": "其他政协事务支出"},
    "20103": {**_ADMIN, "04": "专项服务", "05": "专项业务活动", "06": "政务公开审批", "08": "信访事务",
              "09": "参事事务", "99": "其他政府办公厅（室）及相关机构事务支出"},
    "20104": {**_ADMIN, "04": "战略规划与实施", "05": "日常经济运行调节", "06": "社会事业发展规划",
              "07": "经济体制改革研究", "08": "物价管理", "99": "其他发展与改革事务支出"},
    "20105": {**_ADMIN, "04": "信息事务", "05": "专项统计业务", "06": "统计管理", "07": "专项普查活动",
              "08": "统计抽样调查", "99": "其他统计信息事务支出"},
    "20106": {**_ADMIN, "04": "预算改革业务", "05": "财政国库业务", "06": "财政监察", "07": "信息化建设",
              "08": "财政委托业务支出", "99": "其他财政事务支出"},
    "20108": {**_ADMIN, "04": "审计业务", "05": "审计管理", "06": "信息化建设", "99": "其他审计事务支出"},
    "20141": {"01": "行政运行", "50": "事业运行", "99": "其他数据事务支出"},
    "20801": {**_ADMIN, "04": "综合业务管理", "05": "劳动保障监察", "06": "就业管理事务",
              "07": "社会保险业务管理事务", "08": "信息化建设", "09": "社会保险经办机构", "10": "劳动关系和维权",
              "11": "公共就业服务和职业技能鉴定机构", "12": "劳动人事争议调解仲裁", "13": "政府特殊津贴",
              "16": "引进人才费用", "99": "其他人力资源和社会保障管理事务支出"},
    "20802": {**_ADMIN, "06": "社会组织管理", "07": "行政区划和地名管理", "08": "基层政权建设和社区治理",
              "99": "其他民政管理事务支出"},
    "20805": {"01": "行政单位离退休", "02": "事业单位离退休", "03": "离退休人员管理机构",
              "05": "机关事业单位基本养老保险缴费支出", "06": "机关事业单位职业年金缴费支出",
              "99": "其他行政事业单位养老支出"},
    "20807": {"01": "就业创业服务补贴", "02": "职业培训补贴", "04": "社会保险补贴", "05": "公益性岗位补贴",
              "09": "职业技能评价补贴", "11": "就业见习补贴", "12": "高技能人才培养补助", "13": "促进创业补贴",
              "99": "其他就业补助支出"},
    "20808": {"01": "死亡抚恤", "02": "伤残抚恤", "03": "在乡复员、退伍军人生活补助", "05": "义务兵优待",
              "06": "农村籍退役士兵老年生活补助", "99": "其他优抚支出"},
    "21001": {"01": "行政运行", "02": "一般行政管理事务", "03": "机关服务", "99": "其他卫生健康管理事务支出"},
    "21002": {"01": "综合医院", "02": "中医（民族）医院", "03": "传染病医院", "04": "职业病防治医院",
              "05": "精神病医院", "06": "妇幼保健医院", "07": "儿童医院", "08": "其他专科医院", "12": "康复医院",
              "99": "其他公立医院支出"},
    "21004": {"01": "疾病预防控制机构", "02": "卫生监督机构", "03": "妇幼保健机构", "04": "精神卫生机构",
              "05": "应急救治机构", "06": "采供血机构", "07": "其他专业公共卫生机构", "08": "基本公共卫生服务",
              "09": "重大公共卫生服务", "10": "突发公共卫生事件应急处置", "99": "其他公共卫生支出"},
    "21011": {"01": "行政单位医疗", "02": "事业单位医疗", "03": "公务员医疗补助", "99": "其他行政事业单位医疗支出"},
    "21301": {"01": "行政运行", "02": "一般行政管理事务", "03": "机关服务", "04": "事业运行", "06": "科技转化与推广服务",
              "08": "病虫害控制", "09": "农产品质量安全", "10": "执法监管", "11": "统计监测与信息服务",
              "12": "行业业务管理", "19": "防灾救灾", "22": "农业生产发展", "24": "农村合作经济",
              "25": "农产品加工与促销", "26": "农村社会事业", "35": "农业资源保护修复与利用", "42": "农村道路建设",
              "48": "渔业发展", "53": "耕地建设与利用", "99": "其他农业农村支出"},
    "21302": {"01": "行政运行", "02": "一般行政管理事务", "03": "机关服务", "04": "事业机构", "05": "森林资源培育",
              "06": "技术推广与转化", "07": "森林资源管理", "09": "森林生态效益补偿", "11": "动植物保护",
              "12": "湿地保护", "13": "执法与监督", "17": "防沙治沙", "34": "林业草原防灾减灾", "37": "草原管理",
              "99": "其他林业和草原支出"},
    "21303": {"01": "行政运行", "02": "一般行政管理事务", "03": "机关服务", "04": "水利行业业务管理",
              "05": "水利工程建设", "06": "水利工程运行与维护", "08": "水利前期工作", "09": "水利执法监督",
              "10": "水土保持", "11": "水资源节约管理与保护", "12": "水质监测", "13": "水文测报", "14": "防汛",
              "15": "抗旱", "16": "农村水利", "99": "其他水利支出"},
    "22101": {"05": "农村危房改造", "08": "老旧小区改造", "99": "其他保障性安居工程支出"},
    "22102": {"01": "住房公积金", "02": "提租补贴", "03": "购房补贴"},
}

FUNCTION_ITEMS: dict[str, str] = {k + s: name for k, items in _FUNCTION_ITEMS.items() for s, name in items.items()}

# 项 that carry personnel-type spending only (pensions, medical insurance, housing fund): never projects.
_PERSONNEL_KUAN = ("20805", "21011", "22102")

# 表6 款 that must equal the 表5 basic spending of a 项 (rule X13): pension, annuity, housing fund, medical.
LINKED = (("30108", "2080505"), ("30109", "2080506"), ("30113", "2210201"), ("30111", "2101103"),
          ("30110", "2101101"))

# 部门预算支出经济分类 款 under 301 (工资福利), 302 (商品和服务), 303 (对个人和家庭的补助), 310 (资本性支出).
ECONOMIC_GROUPS: dict[str, str] = {"301": "工资福利支出", "302": "商品和服务支出", "303": "对个人和家庭的补助",
                                   "310": "资本性支出"}
ECONOMIC_ITEMS: dict[str, str] = {
    "30101": "基本工资", "30102": "津贴补贴", "30103": "奖金", "30106": "伙食补助费", "30107": "绩效工资",
    "30108": "机关事业单位基本养老保险缴费", "30109": "职业年金缴费", "30110": "职工基本医疗保险缴费",
    "30111": "公务员医疗补助缴费", "30112": "其他社会保障缴费", "30113": "住房公积金", "30114": "医疗费",
    "30199": "其他工资福利支出",
    "30201": "办公费", "30202": "印刷费", "30203": "咨询费", "30204": "手续费", "30205": "水费", "30206": "电费",
    "30207": "邮电费", "30208": "取暖费", "30209": "物业管理费", "30211": "差旅费", "30212": "因公出国（境）费用",
    "30213": "维修（护）费", "30214": "租赁费", "30215": "会议费", "30216": "培训费", "30217": "公务接待费",
    "30218": "专用材料费", "30224": "被装购置费", "30225": "专用燃料费", "30226": "劳务费", "30227": "委托业务费",
    "30228": "工会经费", "30229": "福利费", "30231": "公务用车运行维护费", "30239": "其他交通费用",
    "30240": "税金及附加费用", "30299": "其他商品和服务支出",
    "30301": "离休费", "30302": "退休费", "30304": "抚恤金", "30305": "生活补助", "30306": "救济费",
    "30307": "医疗费补助", "30308": "助学金", "30309": "奖励金", "30399": "其他对个人和家庭的补助",
    "31001": "房屋建筑物购建", "31002": "办公设备购置", "31003": "专用设备购置", "31005": "基础设施建设",
    "31006": "大型修缮", "31007": "信息网络及软件购置更新", "31013": "公务用车购置", "31019": "其他交通工具购置",
    "31022": "无形资产购置", "31099": "其他资本性支出",
}
# 款 always present in a department with staff (salaries, social insurance, office costs).
_ECONOMIC_CORE = ("30101", "30102", "30103", "30108", "30110", "30112", "30113", "30201", "30211", "30217",
                  "30228", "30229", "30231", "30299")

# The built-in example department (克州数字化发展局 2025).
SMALL_FUNCTIONS = ("2014101", "2014150", "2014199", "2080505", "2101101", "2101102", "2101103", "2210201")
SMALL_ECONOMIC = ("30101", "30102", "30103", "30108", "30110", "30111", "30112", "30113", "30201", "30202",
                  "30206", "30211", "30217", "30228", "30229", "30299", "30309")
SMALL_PROJECTS = (
    ("克州电子政务外网专项运维费项目", ()),
    ("克州数字政府工作业务经费项目", ("vehicle_operation",)),
    ("克州政务服务大厅维保经费项目", ()),
    ("克州数字化发展局公车购置项目", ("vehicle_purchase", "vehicle_operation")),
    ("克州政务服务和数字化发展中心业务经费项目", ()),
    ("克州 12345 政务服务便民热线经费项目", ()),
)

_PLACES = ("克州", "阿图什市", "阿克陶县", "阿合奇县", "乌恰县", "自治州", "喀什地区", "伊犁州", "昌吉州", "哈密市")
_BUREAUS = ("数字化发展局", "农业农村局", "水利局", "林业和草原局", "卫生健康委员会", "人力资源和社会保障局", "民政局",
            "统计局", "审计局", "财政局", "发展和改革委员会", "住房和城乡建设局", "机关事务管理局", "档案馆",
            "政务服务中心", "疾病预防控制中心", "农业技术推广中心", "水利工程管理站", "人民医院", "就业服务中心")
_PROJECT_TOPICS = ("专项运维", "业务工作", "信息化建设", "设备购置", "宣传培训", "监测评估", "维修改造", "专项调查",
                   "应急保障", "技术推广", "规划编制", "执法监管", "示范创建", "人才培养", "数据采集", "安全生产")


def department_name(i: int) -> str:
    """A plausible, distinct department name for submission ``i``."""
    place = _PLACES[i % len(_PLACES)]
    bureau = _BUREAUS[(i // len(_PLACES)) % len(_BUREAUS)]
    rnd = i // (len(_PLACES) * len(_BUREAUS))
    return f"{place}{bureau}" + (f"（{rnd + 1}）" if rnd else "")


def _catalogued(kind: str) -> frozenset[str]:
    try:
        from xlbudget.catalogue import load_catalogue

        return frozenset(c.code for c in load_catalogue(kind))
    except Exception:  # the benchmarks still run if the catalogue API moves
        return frozenset()


def _names_for(codes: Sequence[str], table: dict[str, str], groups: dict[str, str], kind: str) -> dict[str, str]:
    """Names of the codes and their parents that the shipped (partial) catalogue lacks, for ``Spec.names``."""
    known = _catalogued(kind)
    names: dict[str, str] = {}
    for code in codes:
        for ln in (3, 5, 7):
            pre = code[:ln]
            if len(pre) != ln or pre in known:
                continue
            name = table.get(pre) or groups.get(pre)
            if name:
                names[pre] = name
    return names


def _project_name(short: str, code: str, k: int) -> str:
    item = FUNCTION_ITEMS.get(code, "业务")
    item = item.removeprefix("其他").removesuffix("支出")
    return f"{short}{item}{_PROJECT_TOPICS[k % len(_PROJECT_TOPICS)]}经费项目（{k + 1}）"


def _synthetic_codes(pool: list[str], n: int, digits: int, prefix_pool: Sequence[str]) -> list[str]:
    """More codes than the realistic pool holds: made-up 项/款 under the same parents."""
    out = list(pool)
    have = set(out)
    for pre in prefix_pool:
        for s in range(1, 100):
            code = pre + f"{s:02d}"
            if len(code) == digits and code not in have:
                out.append(code)
                have.add(code)
            if len(out) >= n:
                return out
    return out


def large_spec(n_functions: int = 150, n_economic: int = 60, n_projects: int = 80, year: int = 2025,
               department: str = "克孜勒苏柯尔克孜自治州农业农村局", seed: int = 2025) -> Spec:
    """A large department: many 功能分类 项 across 201/208/210/213/221, many 经济分类 款, many projects."""
    rng = random.Random(seed)
    pool = sorted(FUNCTION_ITEMS)
    if n_functions <= len(pool):
        must = [f for _, f in LINKED if f in pool][: n_functions]
        functions = sorted(must + rng.sample([c for c in pool if c not in must], n_functions - len(must)))
    else:
        functions = sorted(_synthetic_codes(pool, n_functions, 7, sorted(_FUNCTION_ITEMS)))[:n_functions]
    epool = sorted(ECONOMIC_ITEMS)
    core = list(dict.fromkeys([e for e, _ in LINKED] + list(_ECONOMIC_CORE)))[:n_economic]
    rest = [c for c in epool if c not in core]
    if n_economic <= len(epool):
        economic = sorted(core + rng.sample(rest, n_economic - len(core)))
    else:
        economic = sorted(_synthetic_codes(epool, n_economic, 5, ("301", "302", "303", "310")))[:n_economic]
    # projects: spread over the 项 that are not personnel-type, several projects per 项 when needed
    eligible = [c for c in functions if c[:5] not in _PERSONNEL_KUAN and c[5:] not in ("01", "50")] or list(functions)
    rng.shuffle(eligible)
    hosts = eligible[: max(1, min(len(eligible), (n_projects * 2) // 3))]
    short = department.removeprefix("克孜勒苏柯尔克孜自治州")
    projects = []
    for k in range(n_projects):
        fn = hosts[k % len(hosts)]
        r = rng.random()
        sangong = ["vehicle_operation"] if r < 0.08 else ["reception"] if r < 0.12 else \
            ["vehicle_purchase", "vehicle_operation"] if r < 0.14 else []
        projects.append({"name": _project_name(short, fn, k), "function": fn, "sangong": sangong})
    # 表7 lists projects under their 项 in code order: number them that way
    projects.sort(key=lambda p: p["function"])
    for k, p in enumerate(projects):
        p["key"] = f"p{k + 1}"
    names = {**_names_for(functions, FUNCTION_ITEMS, FUNCTION_GROUPS, "function"),
             **_names_for(economic, ECONOMIC_ITEMS, ECONOMIC_GROUPS, "economic")}
    # made-up codes (only when asked for more than the realistic pool) get made-up names
    for c in functions:
        if c not in FUNCTION_ITEMS:
            names.setdefault(c, f"其他{FUNCTION_GROUPS.get(c[:5], '')}支出（{c}）")
    for c in economic:
        if c not in ECONOMIC_ITEMS:
            names.setdefault(c, f"其他{ECONOMIC_GROUPS.get(c[:3], '')}（{c}）")
    return spec_from_mapping({
        "tableset": "xj11", "fund_sources": ["一般公共预算"],
        "department": {"name": department, "short_name": short, "year": year, "unit": "万元"},
        "codes": {"functions": functions, "economic": economic},
        "projects": projects, "names": names,
    })


def small_spec(department: str = "克孜勒苏柯尔克孜自治州数字化发展局", year: int = 2025,
               seed: int | None = None) -> Spec:
    """A department like the built-in example. With a ``seed`` the codes and projects vary a little
    (6-12 function 项, 12-24 economic 款, 2-8 projects), as small departments do."""
    functions = list(SMALL_FUNCTIONS)
    economic = list(SMALL_ECONOMIC)
    projects = [{"key": f"p{i + 1}", "name": name, "function": "2014199", "sangong": list(sg)}
                for i, (name, sg) in enumerate(SMALL_PROJECTS)]
    short = department.removeprefix("克孜勒苏柯尔克孜自治州")
    if seed is not None:
        rng = random.Random(seed)
        kuan = rng.choice([k for k in _FUNCTION_ITEMS if k[:5] not in _PERSONNEL_KUAN and k != "20141"])
        own = sorted(kuan + s for s in _FUNCTION_ITEMS[kuan])
        main = own[: rng.randint(2, min(6, len(own)))]
        personnel = ["2080505", "2101101", "2210201"] + rng.sample(["2080506", "2101102", "2101103", "2080501"],
                                                                   rng.randint(1, 3))
        functions = sorted(set(main + personnel))
        economic = sorted(set(SMALL_ECONOMIC[:8]) | set(rng.sample(sorted(ECONOMIC_ITEMS), rng.randint(4, 16))))
        hosts = [c for c in main if c[5:] not in ("01", "50")] or main
        projects = []
        for k in range(rng.randint(2, 8)):
            fn = hosts[k % len(hosts)]
            sangong = ["vehicle_operation"] if rng.random() < 0.2 else []
            projects.append({"name": _project_name(short, fn, k), "function": fn, "sangong": sangong})
        projects.sort(key=lambda p: p["function"])
        for k, p in enumerate(projects):
            p["key"] = f"p{k + 1}"
    names = {**_names_for(functions, FUNCTION_ITEMS, FUNCTION_GROUPS, "function"),
             **_names_for(economic, ECONOMIC_ITEMS, ECONOMIC_GROUPS, "economic")}
    return spec_from_mapping({
        "tableset": "xj11", "fund_sources": ["一般公共预算"],
        "department": {"name": department, "short_name": short, "year": year, "unit": "万元"},
        "codes": {"functions": functions, "economic": economic},
        "projects": projects, "names": names,
    })


# --- documents ----------------------------------------------------------------------------------------
def _amount(rng: random.Random, lo: float, hi: float) -> Decimal:
    """An approved figure in 万元: to the 元 (4 decimals) now and then, mostly to the 百元 (2 decimals)."""
    v = Decimal(str(round(rng.uniform(lo, hi), 4)))
    places = rng.choice((2, 2, 2, 3, 4))
    return v.quantize(Decimal(1).scaleb(-places))


def _split(total: Decimal, n: int, rng: random.Random, step: Decimal = Decimal("0.001")) -> list[Decimal]:
    """``n`` non-negative parts adding up exactly to ``total`` (each a multiple of ``step``)."""
    if n <= 0:
        return []
    units = int(total / step)
    weights = [rng.random() + 0.05 for _ in range(n)]
    s = sum(weights)
    parts = [int(units * w / s) for w in weights]
    parts[0] += units - sum(parts)
    rem = total - units * step  # finer digits than step stay on the first part
    out = [p * step for p in parts]
    out[0] += rem
    return [p.normalize() if p else ZERO for p in out]


def _indicators(rng: random.Random, n: int, project: bool) -> list[dict[str, Any]]:
    kinds = [("产出指标", "数量指标", "完成工作量（项）", "＞=10 项"), ("产出指标", "质量指标", "验收合格率（%）", "=100%"),
             ("产出指标", "时效指标", "按期完成率（%）", "=100%"), ("成本指标", "经济成本指标", "项目成本（万元）", "＜=50 万元"),
             ("效益指标", "社会效益指标", "服务保障能力", "有效提升"), ("满意度指标", "满意度指标", "服务对象满意度（%）", "＞=95%")]
    recs = []
    # 90 points in all (the other 10 are for the budget execution rate): rule X15.weights
    weights = _split(Decimal(80), n - 1, rng, Decimal(1)) + [Decimal(10)] if n > 1 else [Decimal(90)]
    for i in range(n):
        l1, l2, name, value = kinds[-1] if i == n - 1 else kinds[i % (len(kinds) - 1)]
        rec = {"level1": l1, "level2": l2, "name": name if i < len(kinds) else f"{name}（{i}）", "value": value,
               "basis": "计划标准", "weight": int(weights[i])}
        if project:
            rec.update({"last_year": value.lstrip("＞＜="), "scoring": "按照正常比例赋分", "evidence": "工作资料"})
        recs.append(rec)
    return recs


def random_document(spec: Spec, seed: int) -> dict[str, Any]:
    """A filled, consistent document for ``spec``.

    Amounts are Decimal (万元). T3 = T5 row by row; T2 gp = T3 total per 项; the 项目支出 of each 项 is the
    sum of the 表7 totals of its projects; 表6 (basic spending by economic 款) adds up to the 表5 basic
    total, split into 人员经费 (301, 303) and 公用经费 (302, 310); 表10 and the 绩效/facts sheets follow.
    """
    rng = random.Random(seed)
    tables: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in ("T2", "T3", "T5", "T6", "T7", "T10")}
    # 表7: each project spends on 302 and sometimes 301/303/309/310
    project_total: dict[str, Decimal] = {}
    for p in spec.projects:
        row = {"e302": _amount(rng, 2, 120)}
        if rng.random() < 0.15:
            row["e301"] = _amount(rng, 1, 30)
        if rng.random() < 0.10:
            row["e303"] = _amount(rng, 1, 20)
        if "vehicle_purchase" in p.sangong:
            row["e309"] = Decimal(rng.choice(("18.00", "22.00", "25.50")))
        elif rng.random() < 0.25:
            row["e310"] = _amount(rng, 1, 80)
        tables["T7"][p.key] = row
        project_total[p.function] = project_total.get(p.function, ZERO) + sum(row.values(), ZERO)
    # 表3 = 表5, 表2 gp = total per 项
    for code in spec.functions:
        proj = project_total.get(code)
        if code[:5] in _PERSONNEL_KUAN:
            basic = _amount(rng, 1, 60)
        elif code[5:] in ("01", "50") or proj is None:
            basic = _amount(rng, 10, 400) if proj is None or rng.random() < 0.5 else None
        else:
            basic = _amount(rng, 1, 40) if rng.random() < 0.2 else None
        row: dict[str, Decimal] = {}
        if basic is not None:
            row["basic"] = basic
        if proj is not None:
            row["project"] = proj
        if not row:  # every 项 of the spec has spending
            row["basic"] = _amount(rng, 1, 50)
        tables["T3"][code] = dict(row)
        tables["T5"][code] = dict(row)
        tables["T2"][code] = {"gp": sum(row.values(), ZERO)}
    # 表6: basic spending by economic 款, adding up to the 表5 basic total. The 款 paired with a 项 (pension,
    # annuity, housing fund, medical insurance) equal that 项's basic spending (rule X13).
    t5basic = {c: r.get("basic", ZERO) for c, r in tables["T5"].items()}
    fixed: dict[str, Decimal] = {}
    for econ, fn in LINKED:
        if econ in spec.economic and econ != "30110":
            fixed[econ] = t5basic.get(fn, ZERO)
    if "30110" in spec.economic:  # 30110 + 30111 = basic spending of 21011 行政事业单位医疗
        medical = sum((v for c, v in t5basic.items() if c.startswith("21011")), ZERO)
        fixed["30110"] = max(ZERO, medical - fixed.get("30111", ZERO))
    fixed = {c: v for c, v in fixed.items() if v}
    personnel_codes = [c for c in spec.economic if c[:3] in ("301", "303") and c not in fixed]
    operating_codes = [c for c in spec.economic if c[:3] in ("302", "310", "309") and c not in fixed]
    if not operating_codes:
        personnel_codes, operating_codes = personnel_codes[:-1], personnel_codes[-1:]
    basic_total = sum(t5basic.values(), ZERO)
    free = basic_total - sum(fixed.values(), ZERO)
    share = Decimal(str(round(rng.uniform(0.6, 0.85), 2)))
    personnel_total = (free * share).quantize(Decimal("0.001")) if personnel_codes else ZERO
    operating_total = free - personnel_total
    for code, v in fixed.items():
        tables["T6"][code] = {"personnel": v}
    for code, v in zip(personnel_codes, _split(personnel_total, len(personnel_codes), rng)):
        tables["T6"].setdefault(code, {})["personnel"] = v
    for code, v in zip(operating_codes, _split(operating_total, len(operating_codes), rng)):
        tables["T6"].setdefault(code, {})["operating"] = v
    # 表10: 三公 at least the matching 表6 款, plus what the projects spend on them (rules X11, X12, S1)
    t6 = tables["T6"]

    def t6v(code: str) -> Decimal:
        return sum((t6.get(code) or {}).values(), ZERO)

    sangong = {"abroad": t6v("30212"), "reception": t6v("30217"), "vehicle_operation": t6v("30231"),
               "vehicle_purchase": t6v("30913") + t6v("31013")}
    for p in spec.projects:
        for item in p.sangong:
            if item == "vehicle_purchase":
                row = tables["T7"][p.key]
                sangong[item] += row.get("e309", ZERO) + row.get("e310", ZERO)
            else:
                sangong[item] += _amount(rng, 0.5, 3)
    for item, v in sangong.items():
        if v:
            tables["T10"][item] = {"gp": v}
    gp_total = sum((r["gp"] for r in tables["T2"].values()), ZERO)
    # 绩效 and facts
    performance = {
        "department": {
            "unit_name": spec.department, "contact": rng.choice(("王芳", "李强", "阿依古丽", "买买提", "张伟")),
            "phone": f"0908-42{rng.randint(10000, 99999)}",
            "goal": f"保障{spec.department}{spec.year}年各项工作正常运转，完成年度重点任务，提高资金使用效益。",
            "funds": {"fiscal_upper": ZERO, "fiscal_own": gp_total, "other": ZERO},
            "indicators": _indicators(rng, 5, project=False),
        },
        "projects": {},
    }
    fprojects = {}
    for p in spec.projects:
        total = sum(tables["T7"][p.key].values(), ZERO)
        performance["projects"][p.key] = {
            "owner": rng.choice(("王芳", "李强", "阿依古丽", "买买提", "张伟", "吐尔逊")), "other_funds": ZERO,
            "goal": f"{p.name}年度预算 {total} 万元，用于保障相关业务顺利开展，达到预期效果。",
            "indicators": _indicators(rng, rng.randint(6, 12), project=True),
        }
        n_alloc = rng.randint(1, 4)
        fprojects[p.key] = {
            "policy_basis": "依据部门职责和年度工作计划设立。", "unit": spec.department,
            "period": f"{spec.year} 年 1 月 1 日到 {spec.year} 年 12 月 31 日",
            "allocation": [{"item": f"用途{i + 1}", "amount": a}
                           for i, a in enumerate(_split(total, n_alloc, rng, Decimal("0.01")))],
        }
    staff = rng.randint(8, 300)
    operating = sum((r.get("operating", ZERO) for r in t6.values()), ZERO)
    facts = {
        "overview": {"functions_intro": f"{spec.department}是自治州人民政府工作部门。", "duties": ["（一）履行部门职责。"],
                     "org_text": "内设若干科室。", "subordinate_units": rng.randint(0, 6), "sections": ["办公室"],
                     "establishment": staff + rng.randint(0, 20), "staff_actual": staff, "in_service": staff,
                     "in_service_change": rng.randint(-3, 5), "retired": 0, "retired_change": 0, "lixiu": 0,
                     "lixiu_change": 0},
        "operating_costs": {"amount": operating},
        "procurement": {"goods": _amount(rng, 0, 50), "works": ZERO, "services": _amount(rng, 0, 200),
                        "sme_reserved": ZERO, "sme_micro": ZERO},
        "projects": fprojects,
    }
    return {"format": FORMAT, "spec": spec.to_dict(), "tables": tables, "performance": performance, "facts": facts}


def write_filled(spec: Spec, doc: dict[str, Any], out: str | os.PathLike[str]) -> Path:
    from xlbudget.layout import layout_for
    from xlbudget.model import budget_from_document
    from xlbudget.writer.template import write_workbook

    budget = budget_from_document(doc, spec)
    return write_workbook(layout_for(spec), out, budget)


# --- workbooks on disk ----------------------------------------------------------------------------------
def write_official_layout(spec: Spec, doc: dict[str, Any], out: str | os.PathLike[str]) -> Path:
    """The same document as a workbook in an official layout (plain numbers, no formulas, no identity),
    written by the tests' generator (tests/officialgen.py)."""
    tests = str(ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    from officialgen import write_official

    from xlbudget.model import budget_from_document

    return write_official(budget_from_document(doc, spec), Path(out), "sheets")


def _write_one(task: tuple[str, str, int, int]) -> str:
    """``kind`` is ``small`` or ``large``, with ``-official`` for a workbook in an official layout."""
    path, kind, i, year = task
    name = department_name(i)
    size, _, layout = kind.partition("-")
    if size == "large":
        spec = large_spec(year=year, department=name, seed=i)
    else:
        spec = small_spec(department=name, year=year, seed=i)
    write = write_official_layout if layout == "official" else write_filled
    write(spec, random_document(spec, seed=i), path)
    return path


def submission_plan(n: int, mix: float = 0.2, seed: int = 0) -> list[str]:
    """Kinds of the N submissions: ``mix`` is the share of large departments, spread evenly."""
    n_large = round(n * mix)
    kinds = ["large"] * n_large + ["small"] * (n - n_large)
    random.Random(seed).shuffle(kinds)
    return kinds


def write_submissions(directory: str | os.PathLike[str], n: int, mix: float = 0.2, *, year: int = 2025,
                      jobs: int | None = None, seed: int = 0, reuse: bool = True,
                      kinds: Sequence[str] | None = None) -> list[Path]:
    """Write N filled workbooks (``mix`` = share of large departments, default 20 %) in parallel processes.

    With ``reuse`` a file already there is kept, so a kept directory is generated once."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    kinds = list(kinds) if kinds is not None else submission_plan(n, mix, seed)
    tasks = [(str(d / f"{i + 1:04d}-{k}.xlsx"), k, seed * 100000 + i, year) for i, k in enumerate(kinds)]
    todo = [t for t in tasks if not (reuse and Path(t[0]).is_file())]
    if todo:
        jobs = jobs or os.cpu_count() or 1
        if jobs == 1:
            for t in todo:
                _write_one(t)
        else:
            # large ones first so the pool is not left waiting on a straggler
            todo.sort(key=lambda t: not t[1].startswith("large"))
            with ProcessPoolExecutor(jobs) as ex:
                list(ex.map(_write_one, todo, chunksize=1))
    return [Path(t[0]) for t in tasks]


# --- timing helpers -------------------------------------------------------------------------------------
def median_time(fn: Callable[[], Any], runs: int = 5, warmup: int = 1) -> tuple[float, list[float]]:
    """Median wall time in seconds of ``fn()`` over ``runs`` calls after ``warmup`` calls."""
    import gc

    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def verdict(value: float, target: float) -> str:
    return f"OK (under {target:g})" if value < target else f"MISSED (target {target:g})"


def machine() -> str:
    import platform

    return f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}"


def compile_bytecode() -> str:
    """Compile the package's bytecode the way ``pip install`` does, so that a timed process loads it
    instead of compiling every module (an editable install under PYTHONDONTWRITEBYTECODE never caches it)."""
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("xlbudget")
    if spec is None or not spec.submodule_search_locations:
        return "package not found; not compiled"
    where = Path(list(spec.submodule_search_locations)[0])
    ok = compileall.compile_dir(str(where), quiet=1, force=False)
    return f"compiled under {where.name}/ ({'ok' if ok else 'some modules failed'})"
