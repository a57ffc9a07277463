"""The words of the disclosure: 第一部分 部门概况, 第三部分 情况说明 and 第四部分 名词解释.

Every amount, share and year-on-year change is computed from the figures of the budget, never copied
from text: amounts are the published figures (``Budget.published``, 2 decimals, rounded half-up each on
its own), shares are ``part / denominator × 100`` rounded half-up to 2 decimals, and changes compare
with the 上年预算数 table (``LY``) of the table set. The wording follows the seed disclosure (新疆 11 表).

When last year's figure is 0 the growth rate is undefined. ``zero_last_year`` picks the convention:

* ``"100"`` (default, the seed's): "比上年预算增加 417.37 万元，增长 100.00%";
* ``"na"``: "比上年预算增加 417.37 万元（上年无预算，不计算增长率）".

The words that are the department's own (职能, reasons, project policy bases, 名词解释) come from the
document's ``facts``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from .model import ZERO, Budget, q, to_decimal
from .spec import SANGONG_ITEMS

__all__ = ["Section", "narrative", "fmt_amount", "fmt_pct", "share", "change_text", "ZERO_LAST_YEAR",
           "empty_note", "part_title"]

ZERO_LAST_YEAR = ("100", "na")
CN_NUM = "一二三四五六七八九十"


@dataclass
class Section:
    """One heading with its paragraphs.

    ``part`` is 1, 3 or 4 (第一/第三/第四部分); ``level`` 0 is the part's title, 1 a section (一、),
    2 a subsection (（一）). ``kind`` is "text", "performance_tables" (where the 绩效目标表 go) or
    "signature" (the closing lines: department and date).
    """

    part: int
    key: str
    title: str
    level: int = 1
    paragraphs: list[str] = field(default_factory=list)
    kind: str = "text"

    def text(self) -> str:
        return "\n".join(([self.title] if self.title else []) + self.paragraphs)


# --------------------------------------------------------------------------------------------
# Number words
# --------------------------------------------------------------------------------------------


def cn_number(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 21 -> 二十一 (enough for headings)."""
    if n <= 0:
        return str(n)
    if n <= 10:
        return CN_NUM[n - 1]
    if n < 20:
        return "十" + CN_NUM[n - 11]
    if n < 100:
        tens, ones = divmod(n, 10)
        return CN_NUM[tens - 1] + "十" + (CN_NUM[ones - 1] if ones else "")
    return str(n)


def fmt_amount(v: Decimal | None) -> str:
    """A published amount: 2 decimals, no thousands separator (as in the seed's text)."""
    return format(q(v or ZERO, 2), "f")


def fmt_pct(v: Decimal) -> str:
    return format(q(v, 2), "f") + "%"


def fmt_count(v: Any) -> str:
    d = to_decimal(v) if v not in (None, "") else ZERO
    d = d or ZERO
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), "f")


def share(part: Decimal | None, denominator: Decimal | None) -> Decimal | None:
    """part / denominator × 100, rounded half-up to 2 decimals (None when the denominator is 0)."""
    if not denominator:
        return None
    with localcontext() as ctx:
        ctx.prec = 34
        return ((part or ZERO) * 100 / denominator).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def change_text(current: Decimal | None, last: Decimal | None, *, zero_last_year: str = "100",
                prefix: str = "比上年预算") -> str:
    """"比上年预算增加 X 万元，增长 Y%" and its variants; the verbs agree with the sign of the change."""
    cur = current or ZERO
    ly = last or ZERO
    delta = cur - ly
    if delta == 0:
        return f"与上年预算持平，增减 {fmt_amount(ZERO)} 万元，增减幅度 {fmt_pct(ZERO)}"
    verb, rate_verb = ("增加", "增长") if delta > 0 else ("减少", "下降")
    amount = f"{prefix}{verb} {fmt_amount(abs(delta))} 万元"
    if ly == 0:
        if zero_last_year == "na":
            return f"{amount}（上年无预算，不计算增长率）"
        return f"{amount}，{rate_verb} {fmt_pct(Decimal(100))}"
    rate = share(abs(delta), abs(ly))
    return f"{amount}，{rate_verb} {fmt_pct(rate)}"


def _reason(text: str | None) -> str:
    text = (text or "").strip().rstrip("。")
    if not text:
        return ""
    return f"，主要原因是{' ' if text[0].isascii() and text[0].isalnum() else ''}{text}"


# --------------------------------------------------------------------------------------------
# Builder
# --------------------------------------------------------------------------------------------


def part_title(part: int, year: int) -> str:
    return {1: f"第一部分 {year} 年部门概况", 2: f"第二部分 {year} 年部门预算公开表",
            3: f"第三部分 {year} 年部门预算情况说明", 4: "第四部分 名词解释"}[part]


def empty_note(budget: Budget, tid: str) -> str | None:
    """The official note of an empty table (表8/9/11), from the table description; None if not empty."""
    t = budget.layout.tables.get(tid)
    if t is None or not t.note_text or not budget.table_is_empty(tid):
        return None
    return t.note_text


class _Narrative:
    def __init__(self, budget: Budget, zero_last_year: str):
        if zero_last_year not in ZERO_LAST_YEAR:
            raise ValueError(f"zero_last_year 应为 {' 或 '.join(ZERO_LAST_YEAR)}，而不是 {zero_last_year!r}")
        self.b = budget
        self.zly = zero_last_year
        self.spec = budget.spec
        self.dept = self.spec.department
        self.year = self.spec.year
        self.facts: dict[str, Any] = budget.doc.get("facts") or {}
        self.perf: dict[str, Any] = budget.doc.get("performance") or {}
        self.narr: dict[str, Any] = self.facts.get("narrative") or {}
        self.reason = self.narr.get("change_reason")
        self.sections: list[Section] = []

    # --- figures -------------------------------------------------------------------------------
    def p(self, tid: str, rkey: str, ckey: str) -> Decimal:
        if not self.b.layout.has(tid, rkey):
            return ZERO
        return self.b.published(tid, rkey, ckey) or ZERO

    def ly(self, rkey: str, ckey: str = "value") -> Decimal:
        return self.p("LY", rkey, ckey)

    def change(self, cur: Decimal, last: Decimal, prefix: str = "比上年预算") -> str:
        return change_text(cur, last, zero_last_year=self.zly, prefix=prefix)

    def change_with_reason(self, cur: Decimal, last: Decimal, reason: str | None = None) -> str:
        text = self.change(cur, last)
        if cur - last == 0:
            return text
        return text + _reason(reason if reason is not None else self.reason)

    def name(self, kind: str, code: str) -> str:
        return self.b.layout.namer(kind, code) or code

    def tree_rows(self, tid: str, level: int):
        t = self.b.layout.tables.get(tid)
        if t is None:
            return []
        return [r for r in t.rows.values() if r.level == level and r.code]

    # --- sections ------------------------------------------------------------------------------
    def add(self, part: int, key: str, title: str, paragraphs: list[str], level: int = 1, kind: str = "text"):
        self.sections.append(Section(part=part, key=key, title=title, level=level, paragraphs=paragraphs,
                                     kind=kind))

    def about(self, what: str) -> str:
        return f"关于{self.dept} {self.year} 年{what}"

    # 第一部分 ------------------------------------------------------------------------------------
    def part1(self) -> None:
        ov = self.facts.get("overview") or {}
        self.add(1, "p1", part_title(1, self.year), [], level=0)
        paras = []
        if ov.get("functions_intro"):
            paras.append(str(ov["functions_intro"]).strip())
        paras += [str(d).strip() for d in ov.get("duties") or () if str(d).strip()]
        self.add(1, "1", "一、主要职能", paras)
        paras = [line.strip() for line in str(ov.get("org_text") or "").splitlines() if line.strip()]
        if not paras and ov.get("sections"):
            secs = list(ov.get("sections") or ())
            paras.append(f"{self.dept}下设 {len(secs)} 个科室，分别是：{'、'.join(secs)}。")
        staff = self.staff_sentence(ov)
        if staff:
            paras.append(staff)
        self.add(1, "2", "二、机构设置及人员情况", paras)

    def staff_sentence(self, ov: dict[str, Any]) -> str | None:
        if not any(k in ov for k in ("establishment", "staff_actual", "in_service")):
            return None

        def delta(k: str) -> str:
            d = to_decimal(ov.get(k)) if ov.get(k) not in (None, "") else ZERO
            d = d or ZERO
            if d > 0:
                return f"增加 {fmt_count(d)} 人"
            if d < 0:
                return f"减少 {fmt_count(-d)} 人"
            return "与上年持平"

        return (f"{self.dept}编制数 {fmt_count(ov.get('establishment'))}，实有人数 {fmt_count(ov.get('staff_actual'))} 人，"
                f"其中：在职 {fmt_count(ov.get('in_service'))} 人，{delta('in_service_change')}；"
                f"退休 {fmt_count(ov.get('retired'))} 人，{delta('retired_change')}；"
                f"离休 {fmt_count(ov.get('lixiu'))} 人，{delta('lixiu_change')}。")

    # 第三部分 ------------------------------------------------------------------------------------
    def income_sources(self) -> list[tuple[str, str, Decimal, str]]:
        """(key, name, amount, LY key) of each income source of 表1."""
        return [
            ("gp", "一般公共预算", self.p("T1", "in_gp", "amount"), "gp"),
            ("fund", "政府性基金预算", self.p("T1", "in_fund", "amount"), "fund"),
            ("soe", "国有资本经营预算", self.p("T1", "in_soe", "amount"), "soe"),
            ("special", "财政专户核拨", self.p("T1", "in_special", "amount"), "special"),
            ("unit", "单位资金", self.p("T1", "in_unit", "amount"), "unit"),
            ("carry", "上年结转结余", self.p("T1", "in_carry", "amount"), "carry"),
        ]

    def classes_with(self, tid: str, col: str) -> list[tuple[str, str, Decimal]]:
        return [(r.code, r.label or self.name("function", r.code), self.p(tid, r.key, col))
                for r in self.tree_rows(tid, 1) if self.p(tid, r.key, col)]

    def s1(self) -> None:
        total = self.p("T1", "in_total", "amount")
        sources = [n for _k, n, v, _l in self.income_sources() if v]
        classes = [n for _c, n, _v in self.classes_with("T3", "total")]
        paras = [f"按照全口径预算的原则，{self.dept} {self.year} 年所有收入和支出均纳入部门预算管理。"
                 f"收支总预算 {fmt_amount(total)} 万元。",
                 f"收入预算包括：{'、'.join(sources) if sources else '无'}。",
                 f"支出预算包括：{'、'.join(classes) if classes else '无'}。"]
        self.add(3, "1", f"一、{self.about('收支预算情况总体说明')}", paras)

    def s2(self) -> None:
        total = self.p("T1", "in_current", "amount") + self.p("T1", "in_carry", "amount")
        paras = [f"{self.dept}部门收入预算 {fmt_amount(total)} 万元，其中："]
        transfers = {"gp": ("in_gp_transfer", "上级一般公共预算安排的转移支付资金"),
                     "fund": ("in_fund_transfer", "上级政府性基金安排的转移支付资金"),
                     "soe": ("in_soe_transfer", "上级国有资本经营预算安排的转移支付资金")}
        for key, name, value, ly_key in self.income_sources():
            if value:
                paras.append(f"{name} {fmt_amount(value)} 万元，占 {fmt_pct(share(value, total))}，"
                             f"{self.change_with_reason(value, self.ly(ly_key))}。")
            elif key in transfers or key in ("fund", "soe"):
                paras.append(f"{name}未安排。")
            if key in transfers:
                row, tname = transfers[key]
                tv = self.p("T1", row, "amount")
                if tv:
                    paras.append(f"{tname} {fmt_amount(tv)} 万元，占 {fmt_pct(share(tv, total))}。")
                else:
                    paras.append(f"{tname}未安排。")
        self.add(3, "2", f"二、{self.about('收入预算情况说明')}", paras)

    def s3(self) -> None:
        total = self.p("T3", "total", "total")
        basic = self.p("T3", "total", "basic")
        project = self.p("T3", "total", "project")
        paras = [f"{self.dept} {self.year} 年支出预算 {fmt_amount(total)} 万元，其中："]
        for name, v, ly_key in (("基本支出", basic, "basic"), ("项目支出", project, "project")):
            paras.append(f"{name} {fmt_amount(v)} 万元，占 {fmt_pct(share(v, total) or ZERO)}，"
                         f"{self.change_with_reason(v, self.ly(ly_key))}。")
        self.add(3, "3", f"三、{self.about('支出预算情况说明')}", paras)

    def s4(self) -> None:
        total = self.p("T4", "in_total", "amount")
        gp = self.p("T4", "in_gp", "amount")
        fund = self.p("T4", "in_fund", "amount")
        soe = self.p("T4", "in_soe", "amount")
        paras = [f"{self.year} 年财政拨款收支总预算 {fmt_amount(total)} 万元。"]
        if gp and not fund and not soe:
            paras.append("收入全部为一般公共预算拨款，无政府性基金预算拨款和国有资本经营预算。")
        parts = [f"{n} {fmt_amount(v)} 万元" for n, v in (("一般公共预算拨款", gp), ("政府性基金预算拨款", fund),
                                                       ("国有资本经营预算拨款", soe)) if v]
        paras.append(f"收入预算包括：{'；'.join(parts) if parts else '无'}。")
        uses = {str(k): str(v) for k, v in (self.narr.get("class_uses") or {}).items()}
        for label, col in (("一般公共预算支出", "gp"), ("政府性基金预算支出", "fund"), ("国有资本经营预算支出", "soe")):
            items = []
            for code, name, v in self.classes_with("T4", col):
                use = uses.get(code, "").strip().rstrip("。；")
                items.append(f"{name} {fmt_amount(v)} 万元" + (f"，{use}" if use else ""))
            if items:
                paras.append(f"{label}包括：{'；'.join(items)}。")
        self.add(3, "4", f"四、{self.about('财政拨款收支预算情况的总体说明')}", paras)

    def s5(self) -> None:
        total = self.p("T5", "total", "total")
        basic = self.p("T5", "total", "basic")
        project = self.p("T5", "total", "project")
        self.add(3, "5", f"五、{self.about('一般公共预算当年拨款情况说明')}", [])
        paras = [f"{self.dept} {self.year} 年一般公共预算拨款合计 {fmt_amount(total)} 万元，其中："]
        for name, v, ly_key in (("基本支出", basic, "gp_basic"), ("项目支出", project, "gp_project")):
            paras.append(f"{name} {fmt_amount(v)} 万元，{self.change_with_reason(v, self.ly(ly_key))}。")
        self.add(3, "5.1", "（一）一般公共预算当年拨款规模变化情况", paras, level=2)
        paras = []
        for i, (code, name, v) in enumerate(self.classes_with("T5", "total"), start=1):
            paras.append(f"{i}、{name}（类）{fmt_amount(v)} 万元，占 {fmt_pct(share(v, total) or ZERO)}。")
        if not paras:
            paras.append(f"{self.dept} {self.year} 年没有一般公共预算当年拨款。")
        self.add(3, "5.2", "（二）一般公共预算当年拨款结构情况", paras, level=2)
        paras = []
        n = 0
        for r in self.tree_rows("T5", 3):
            v = self.p("T5", r.key, "total")
            if not v:
                continue
            n += 1
            cls, kuan = r.code[:3], r.code[:5]
            path = (f"{self.name('function', cls)}（类）{self.name('function', kuan)}（款）"
                    f"{r.label or self.name('function', r.code)}（项）")
            paras.append(f"{n}、{path}：{self.year} 年预算数为 {fmt_amount(v)} 万元，"
                         f"{self.change_with_reason(v, self.p('LY', r.code, 'last_year'))}。")
        if not paras:
            paras.append(f"{self.dept} {self.year} 年没有一般公共预算当年拨款。")
        self.add(3, "5.3", "（三）一般公共预算当年拨款具体使用情况", paras, level=2)

    def s6(self) -> None:
        total = self.p("T6", "total", "total")
        paras = [f"{self.dept} {self.year} 年一般公共预算基本支出 {fmt_amount(total)} 万元，其中："]
        for name, col in (("人员经费", "personnel"), ("公用经费", "operating")):
            v = self.p("T6", "total", col)
            items = [r.label or self.name("economic", r.code) for r in self.tree_rows("T6", 2) if self.p("T6", r.key, col)]
            text = f"{name} {fmt_amount(v)} 万元"
            if items:
                text += f"，主要包括：{'、'.join(items)}"
            paras.append(text + "。")
        self.add(3, "6", f"六、{self.about('一般公共预算基本支出情况说明')}", paras)

    def s7(self) -> None:
        self.add(3, "7", f"七、{self.about('一般公共预算项目支出情况说明')}", [])
        pfacts = self.facts.get("projects") or {}
        projects = list(self.spec.projects)
        if not projects:
            self.add(3, "7.0", "", [f"{self.dept} {self.year} 年没有一般公共预算项目支出。"], level=2)
        for i, p in enumerate(projects, start=1):
            f = pfacts.get(p.key) or {}
            paras = []
            if f.get("policy_basis"):
                paras.append(f"设立的政策依据：{str(f['policy_basis']).strip()}")
            paras.append(f"预算安排规模：{fmt_amount(self.p('T7', p.key, 'total'))} 万元")
            paras.append(f"项目承担单位：{f.get('unit') or p.unit or self.dept}")
            alloc = [a for a in f.get("allocation") or () if a and (a.get("item") or a.get("amount") not in (None, ""))]
            if alloc:
                items = []
                for a in alloc:
                    amount = to_decimal(a.get("amount")) if a.get("amount") not in (None, "") else None
                    items.append(f"{str(a.get('item') or '').strip()} {fmt_amount(amount)} 万元" if amount is not None
                                 else str(a.get("item") or "").strip())
                paras.append(f"资金分配情况：{'，'.join(items)}。")
            if f.get("period"):
                paras.append(f"资金执行时间：{str(f['period']).strip()}")
            self.add(3, f"7.{i}", f"（{cn_number(i)}）项目名称：{p.name}", paras, level=2)

    def fund_section(self, key: str, number: str, tid: str, what: str, label: str) -> None:
        note = empty_note(self.b, tid)
        if note:
            paras = [note]
        else:
            total = self.p(tid, "total", "total")
            basic = self.p(tid, "total", "personnel") + self.p(tid, "total", "operating")
            project = self.p(tid, "total", "project")
            paras = [f"{self.dept} {self.year} 年{label}支出 {fmt_amount(total)} 万元，其中：基本支出 {fmt_amount(basic)} 万元，"
                     f"项目支出 {fmt_amount(project)} 万元。"]
            items = [f"{r.label or self.name('function', r.code)} {fmt_amount(self.p(tid, r.key, 'total'))} 万元"
                     for r in self.tree_rows(tid, 1) if self.p(tid, r.key, "total")]
            if items:
                paras.append(f"按支出功能分类：{'；'.join(items)}。")
        self.add(3, key, f"{number}、{self.about(what)}", paras)

    def s10(self) -> None:
        items = {"abroad": ("因公出国（境）费", "abroad"), "vehicle_purchase": ("公务用车购置费", "vehicle_purchase"),
                 "vehicle_operation": ("公务用车运行费", "vehicle_operation"), "reception": ("公务接待费", "reception")}
        total = self.p("T10", "total", "total")
        cur = {k: self.p("T10", k, "total") for k in SANGONG_ITEMS}
        parts = "，".join(f"{items[k][0]} {fmt_amount(cur[k])} 万元" for k in items)
        paras = [f"{self.dept} {self.year} 年财政拨款“三公”经费数为 {fmt_amount(total)} 万元，其中：{parts}。"]
        reasons = self.narr.get("sangong_reasons") or {}
        clauses = []
        for k, (name, ly_key) in items.items():
            last = self.ly(ly_key)
            text = self.change(cur[k], last, prefix="")
            clause = f"{name}{text}"
            reason = reasons.get(k) or (self.reason if cur[k] - last else None)
            clauses.append(clause + _reason(reason))
        paras.append(f"{self.year} 年财政拨款“三公”经费预算{self.change(total, self.ly('sangong'))}，"
                     f"其中：{'；'.join(clauses)}。")
        self.add(3, "10", f"十、{self.about('财政拨款“三公”经费预算情况说明')}", paras)

    def s11(self) -> None:
        note = empty_note(self.b, "T11")
        if note:
            paras = [note]
        else:
            total = self.p("T11", "total", "total")
            fiscal = self.p("T11", "total", "fiscal")
            nonfiscal = self.p("T11", "total", "nonfiscal")
            paras = [f"{self.dept} {self.year} 年上年结转结余预算安排的支出 {fmt_amount(total)} 万元，其中："
                     f"财政拨款结转 {fmt_amount(fiscal)} 万元，非财政拨款结转结余 {fmt_amount(nonfiscal)} 万元。"]
        self.add(3, "11", f"十一、{self.about('上年结转结余预算情况说明')}", paras)

    def s12(self) -> None:
        self.add(3, "12", "十二、其他重要事项的情况说明", [])
        oc = self.p("FA", "operating_costs", "value")
        self.add(3, "12.1", "（一）单位运行经费情况", [
            f"{self.dept} {self.year} 年的机关运行经费财政拨款预算 {fmt_amount(oc)} 万元，"
            f"{self.change_with_reason(oc, self.ly('operating_costs'))}。"], level=2)
        pr = {k: self.p("FA", k, "value") for k in ("proc_total", "proc_goods", "proc_works", "proc_services",
                                                     "sme_reserved", "sme_micro")}
        self.add(3, "12.2", "（二）政府采购情况", [
            f"{self.year} 年，{self.dept}政府采购预算 {fmt_amount(pr['proc_total'])} 万元，其中：政府采购货物预算 "
            f"{fmt_amount(pr['proc_goods'])} 万元，政府采购工程预算 {fmt_amount(pr['proc_works'])} 万元，"
            f"政府采购服务预算 {fmt_amount(pr['proc_services'])} 万元。",
            f"{self.year} 年，{self.dept}面向中小企业预留政府采购项目预算金额 {fmt_amount(pr['sme_reserved'])} 万元，"
            f"其中：小微企业预留政府采购项目预算金额 {fmt_amount(pr['sme_micro'])} 万元。"], level=2)
        a = self.facts.get("assets") or {}

        def amt(k: str) -> str:
            return fmt_amount(self.p("FA", k, "value"))

        def cnt(k: str) -> str:
            return fmt_count(self.p("FA", k, "value"))

        as_of = str(a.get("as_of") or f"{self.year - 1} 年底").strip()
        self.add(3, "12.3", "（三）国有资产占用使用情况", [
            f"截至 {as_of}，{self.dept}占用使用国有资产总体情况为：",
            f"1.房屋 {amt('housing_area')} 平方米，价值 {amt('housing_value')} 万元。",
            f"2.车辆 {cnt('vehicles_count')} 辆，价值 {amt('vehicles_value')} 万元；其中：一般公务用车 "
            f"{cnt('vehicles_general_count')} 辆，价值 {amt('vehicles_general_value')} 万元；执法执勤用车 "
            f"{cnt('vehicles_law_count')} 辆，价值 {amt('vehicles_law_value')} 万元；其他车辆 "
            f"{cnt('vehicles_other_count')} 辆，价值 {amt('vehicles_other_value')} 万元。",
            f"3.办公家具价值 {amt('furniture_value')} 万元。",
            f"4.其他资产价值 {amt('other_assets_value')} 万元。",
            f"部门价值 50 万元以上大型设备 {cnt('equipment_50_count')} 台，部门价值 100 万元以上大型设备 "
            f"{cnt('equipment_100_count')} 台。",
            f"{self.year} 年部门预算安排购置车辆经费 {amt('planned_vehicle_purchase')} 万元，安排购置 50 万元以上大型设备 "
            f"{cnt('planned_equipment_50_count')} 台，单位价值 100 万元以上大型设备 {cnt('planned_equipment_100_count')} 台。",
        ], level=2)
        dept_perf = self.perf.get("department") or {}
        n_dept = 1 if (dept_perf.get("goal") or dept_perf.get("indicators")) else 0
        dept_amount = self.p("PD", "funds_total", "value") if n_dept else ZERO
        n_proj = len(self.spec.projects)
        fiscal = sum((self.p("T7", p.key, "total") for p in self.spec.projects), ZERO)
        other = ZERO
        for p in self.spec.projects:
            v = ((self.perf.get("projects") or {}).get(p.key) or {}).get("other_funds")
            if v not in (None, ""):
                other += q(to_decimal(v)) or ZERO
        perf_projects = self.perf.get("projects") or {}
        tables = bool(n_dept or any(p.key in perf_projects for p in self.spec.projects))
        paras = [f"{self.year} 年，本部门预算绩效管理整体预算绩效目标 {n_dept} 个，涉及预算金额 {fmt_amount(dept_amount)} 万元；"
                 f"当年预算安排项目共 {n_proj} 个，其中：财政拨款项目涉及预算金额 {fmt_amount(fiscal)} 万元；"
                 f"非财政拨款项目涉及预算金额 {fmt_amount(other)} 万元。"
                 + ("具体情况见下表：" if tables else "")]
        self.add(3, "12.4", "（四）预算绩效情况", paras, level=2)
        if tables:
            self.add(3, "12.4.tables", "", [], level=2, kind="performance_tables")
        other_matters = str(self.narr.get("other_matters") or "").strip() or "本部门无其他需说明事项。"
        self.add(3, "12.5", "（五）其他需说明的事项", [line for line in other_matters.splitlines() if line.strip()],
                 level=2)

    def part3(self) -> None:
        self.add(3, "p3", part_title(3, self.year), [], level=0)
        self.s1()
        self.s2()
        self.s3()
        self.s4()
        self.s5()
        self.s6()
        self.s7()
        self.fund_section("8", "八", "T8", "政府性基金预算拨款情况说明", "政府性基金预算拨款安排的")
        self.fund_section("9", "九", "T9", "国有资本经营预算拨款情况说明", "国有资本经营预算拨款安排的")
        self.s10()
        self.s11()
        self.s12()

    # 第四部分 ------------------------------------------------------------------------------------
    def part4(self) -> None:
        self.add(4, "p4", part_title(4, self.year), [], level=0)
        paras = []
        for i, g in enumerate(self.facts.get("glossary") or (), start=1):
            g = str(g).strip()
            if g:
                paras.append(f"{cn_number(i)}、{g}")
        self.add(4, "glossary", "", paras)
        date = str(self.narr.get("date") or "").strip()
        self.add(4, "sign", "", [self.dept] + ([date] if date else []), kind="signature")


def narrative(budget: Budget, *, zero_last_year: str = "100") -> list[Section]:
    """Sections of 第一部分, 第三部分 and 第四部分, in print order."""
    n = _Narrative(budget, zero_last_year)
    n.part1()
    n.part3()
    n.part4()
    return n.sections
