"""Department spec: the small file an accountant or bureau writes once per department and year.

Example (TOML; JSON with the same keys works too)::

    tableset = "xj11"

    [department]
    name = "克孜勒苏柯尔克孜自治州数字化发展局"
    year = 2025

    [codes]
    functions = ["2014101", "2014150"]      # 支出功能分类 项 codes used (7 digits)
    economic = ["30101", "30201"]           # 部门预算支出经济分类 款 codes used (5 digits)
    fund_functions = []                     # 项 codes spent from 政府性基金 (表8)
    soe_functions = []                      # 项 codes spent from 国有资本经营 (表9)
    carryover_functions = []                # 项 codes of 上年结转结余 spending (表11)

    [[projects]]
    key = "p1"                              # stable id, letters/digits/underscore
    name = "克州电子政务外网专项运维费项目"
    function = "2014199"                    # its 功能分类 项 code
    sangong = []                            # 三公 items it funds: abroad, reception, vehicle_purchase, vehicle_operation

    [names]                                 # optional: names for codes missing from the catalogue
    "2014199" = "其他数据事务支出"

Without a spec, :func:`generic_spec` gives a template with spare rows whose codes are picked from dropdowns.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .classification import leaf
from .errors import SpecError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SANGONG_ITEMS = ("abroad", "reception", "vehicle_purchase", "vehicle_operation")
CODE_LISTS = ("functions", "economic", "fund_functions", "soe_functions", "carryover_functions")
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,30}$")


@dataclass(frozen=True)
class Project:
    key: str
    name: str
    function: str
    sangong: tuple[str, ...] = ()
    unit: str = ""


@dataclass(frozen=True)
class Spec:
    department: str
    year: int
    tableset: str = "xj11"
    unit: str = "万元"
    short_name: str = ""
    functions: tuple[str, ...] = ()
    economic: tuple[str, ...] = ()
    fund_functions: tuple[str, ...] = ()
    soe_functions: tuple[str, ...] = ()
    carryover_functions: tuple[str, ...] = ()
    projects: tuple[Project, ...] = ()
    names: dict[str, str] = field(default_factory=dict)
    fund_sources: tuple[str, ...] = ()
    generic: bool = False
    spare_rows: int = 0

    def codes(self, which: str) -> tuple[str, ...]:
        return getattr(self, which)

    def project(self, key: str) -> Project:
        for p in self.projects:
            if p.key == key:
                return p
        raise KeyError(key)

    def to_dict(self) -> dict[str, Any]:
        # what asdict() gives, without its recursive deep copy (the JSON round trip copies anyway); the
        # reader and the layout cache ask for it several times per submission
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["projects"] = [{f.name: getattr(p, f.name) for f in fields(p)} for p in self.projects]
        return json.loads(json.dumps(d, ensure_ascii=False))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()[:16]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Spec":
        """Build from the flat form written by :meth:`to_dict` (embedded in templates)."""
        d = dict(d)
        d["projects"] = tuple(Project(**{**p, "sangong": tuple(p.get("sangong", ()))}) for p in d.get("projects", ()))
        for k in CODE_LISTS + ("fund_sources",):
            d[k] = tuple(d.get(k, ()))
        return cls(**d)


def _codes(values: Any, digits: tuple[int, ...], what: str) -> tuple[str, ...]:
    from .catalogue import normalize_code

    out: list[str] = []
    for v in values or ():
        c = normalize_code(v)
        if c is None or len(c) not in digits:
            raise SpecError(f"部门规格中的{what}编码 {v!r} 格式不正确（应为 {'/'.join(map(str, digits))} 位数字）")
        if c in out:
            raise SpecError(f"部门规格中的{what}编码 {c} 重复")
        out.append(c)
    return tuple(sorted(out))


def spec_from_mapping(d: dict[str, Any]) -> Spec:
    """Validate a user-written spec mapping (TOML/JSON) and build a :class:`Spec`."""
    dept = d.get("department") or {}
    if not isinstance(dept, dict) or not dept.get("name"):
        raise SpecError("部门规格缺少 [department] name（部门名称）")
    try:
        year = int(dept.get("year", 0))
    except (TypeError, ValueError):
        raise SpecError("部门规格中的 year（预算年度）应为整数") from None
    if not 2000 <= year <= 2100:
        raise SpecError("部门规格缺少或写错了 [department] year（预算年度），例如 2025")
    codes = d.get("codes") or {}
    projects: list[Project] = []
    seen: set[str] = set()
    for i, p in enumerate(d.get("projects") or (), start=1):
        key = str(p.get("key") or f"p{i}")
        if not _KEY.match(key) or key in seen:
            raise SpecError(f"项目编号 {key!r} 无效或重复（字母开头，只含字母、数字、下划线）")
        seen.add(key)
        if not p.get("name"):
            raise SpecError(f"项目 {key} 缺少项目名称 name")
        fn = _codes([p.get("function")], (leaf("function"),), "项目功能分类")[0]
        sangong = tuple(p.get("sangong") or ())
        bad = [s for s in sangong if s not in SANGONG_ITEMS]
        if bad:
            raise SpecError(f"项目 {key} 的三公事项 {bad} 无效，可选：{', '.join(SANGONG_ITEMS)}")
        projects.append(Project(key=key, name=str(p["name"]).strip(), function=fn, sangong=sangong, unit=str(p.get("unit", ""))))
    names = {str(k): str(v) for k, v in (d.get("names") or {}).items()}
    tableset = str(d.get("tableset", "xj11"))
    from .tableset import installed_tablesets

    if tableset not in installed_tablesets():  # a spec names an installed set by id, never a folder
        raise SpecError(f"部门规格中的表套 tableset = {tableset!r} 未安装，可选：{'、'.join(installed_tablesets())}")
    return Spec(
        department=str(dept["name"]).strip(), year=year, tableset=tableset,
        unit=str(dept.get("unit", "万元")), short_name=str(dept.get("short_name", "")),
        functions=_codes(codes.get("functions"), (leaf("function"),), "功能分类"),
        economic=_codes(codes.get("economic"), (leaf("economic"),), "经济分类"),
        fund_functions=_codes(codes.get("fund_functions"), (leaf("function"),), "政府性基金功能分类"),
        soe_functions=_codes(codes.get("soe_functions"), (7,), "国有资本经营功能分类"),
        carryover_functions=_codes(codes.get("carryover_functions"), (7,), "结转结余功能分类"),
        projects=tuple(projects), names=names, fund_sources=tuple(d.get("fund_sources") or ()),
    )


def load_spec(path: str | Path) -> Spec:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SpecError(f"找不到部门规格文件：{p}") from None
    except UnicodeDecodeError:
        raise SpecError(f"部门规格文件不是 UTF-8 文本：{p}") from None
    try:
        d = json.loads(text) if p.suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as e:
        raise SpecError(f"部门规格文件格式错误：{p}：{_syntax_where(e, p)}") from None
    return spec_from_mapping(d)


def _syntax_where(e: Exception, p: Path) -> str:
    """Where a TOML or JSON parser stopped, in Chinese (the parsers' own texts are English)."""
    kind = "JSON" if p.suffix.lower() == ".json" else "TOML"
    line, col = getattr(e, "lineno", None), getattr(e, "colno", None)
    if line is None:
        m = re.search(r"line (\d+), column (\d+)", str(e))
        line, col = (int(m.group(1)), int(m.group(2))) if m else (None, None)
    if line is None:
        return f"不符合 {kind} 语法"
    return f"第 {line} 行第 {col} 列附近不符合 {kind} 语法（请检查引号、方括号和等号）"


def generic_spec(department: str = "", year: int = 2025, spare_rows: int = 30, tableset: str = "xj11") -> Spec:
    """A spec without codes: every coded table gets ``spare_rows`` rows whose codes are picked from dropdowns."""
    return Spec(department=department, year=year, tableset=tableset, generic=True, spare_rows=spare_rows)
