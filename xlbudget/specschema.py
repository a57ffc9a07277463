"""The schema of a department spec, checked before a spec is used.

Two forms share it: the spec file a person writes (TOML/JSON, nested: ``[department]``, ``[codes]``,
``[[projects]]``, ``[names]``) and the flat form a template embeds (``Spec.to_dict``). A spec embedded in a
submitted workbook is untrusted input: every key, type, length, list size and code format is checked here,
and each problem is one :class:`~xlbudget.errors.SpecError` in Chinese with an English twin, naming the key
(and the key probably meant, for a misspelt one).
"""

from __future__ import annotations

import re
from typing import Any, Callable

from .classification import ALL_LENGTHS, leaf
from .errors import SpecError

TABLESET_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
PROJECT_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,30}$")
SANGONG_ITEMS = ("abroad", "reception", "vehicle_purchase", "vehicle_operation")
CODE_LISTS = ("functions", "economic", "fund_functions", "soe_functions", "carryover_functions")

MAX_NAME = 200          # department, project and code names
MAX_SHORT = 60          # short texts: unit, a fund source
MAX_CODES = 1000        # codes in one list (the whole official list of 项 is about 1,400)
MAX_PROJECTS = 2000      # a consolidated disclosure holds the projects of all its units
MAX_NAMES = 5000
MAX_SOURCES = 50
MAX_SPARE_ROWS = 500
YEARS = (2000, 2100)

_DIGITS = {"functions": leaf("function"), "fund_functions": leaf("function"), "soe_functions": leaf("function"),
           "carryover_functions": leaf("function"), "economic": leaf("economic")}
_WHAT = {"functions": ("功能分类", "function"), "economic": ("经济分类", "economic"),
         "fund_functions": ("政府性基金功能分类", "government fund function"),
         "soe_functions": ("国有资本经营功能分类", "state capital function"),
         "carryover_functions": ("结转结余功能分类", "carry-over function"),
         "classes": ("功能分类类级", "function class")}


def fail(zh: str, en: str) -> SpecError:
    err = SpecError(zh)
    err.message_en = en  # type: ignore[attr-defined]
    return err


def _clip(v: Any, n: int = 40) -> str:
    text = repr(v) if not isinstance(v, str) else v
    return text if len(text) <= n else text[: n - 1] + "…"


def _keys(d: Any, allowed: tuple[str, ...], where: str, where_en: str) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise fail(f"部门规格中的 {where} 应为键值表", f"{where_en} in the spec should be a table of keys")
    for k in d:
        if not isinstance(k, str) or k not in allowed:
            import difflib  # (only for a spec with a mistake)

            close = difflib.get_close_matches(str(k), allowed, n=1, cutoff=0.6)
            hint_zh = f"，是否应为 {close[0]}？" if close else f"，可用的键：{', '.join(allowed)}"
            hint_en = f"; did you mean {close[0]}?" if close else f"; known keys: {', '.join(allowed)}"
            raise fail(f"部门规格中 {where} 有未知的键 {_clip(k)}{hint_zh}",
                       f"unknown key {_clip(k)} in {where_en} of the spec{hint_en}")
    return d


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f]")  # control characters but the tab (one pass, not one test a character)


def text(v: Any, key: str, limit: int = MAX_NAME, required: bool = False) -> str:
    if v is None or v == "":
        if required:
            raise fail(f"部门规格缺少 {key}", f"the spec lacks {key}")
        return ""
    if not isinstance(v, (str, int)) or isinstance(v, bool):
        raise fail(f"部门规格中的 {key} 应为文字，而不是 {_clip(v)}", f"{key} in the spec should be text, not {_clip(v)}")
    s = str(v).strip()
    if len(s) > limit:
        raise fail(f"部门规格中的 {key} 过长（{len(s)} 个字符，上限 {limit}）",
                   f"{key} in the spec is too long ({len(s)} characters, limit {limit})")
    if _CONTROL.search(s):
        raise fail(f"部门规格中的 {key} 含控制字符", f"{key} in the spec contains control characters")
    return s


def year(v: Any, key: str = "year") -> int:
    if isinstance(v, bool) or not isinstance(v, (int, str)):
        raise fail(f"部门规格中的 {key}（预算年度）应为整数，例如 2025", f"{key} (budget year) should be an integer such as 2025")
    try:
        y = int(v)
    except ValueError:
        raise fail(f"部门规格中的 {key}（预算年度）应为整数，例如 2025",
                   f"{key} (budget year) should be an integer such as 2025") from None
    if not YEARS[0] <= y <= YEARS[1]:
        raise fail(f"部门规格中的 {key}（预算年度）{y} 不在 {YEARS[0]}–{YEARS[1]} 之间",
                   f"{key} (budget year) {y} is not between {YEARS[0]} and {YEARS[1]}")
    return y


def integer(v: Any, key: str, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise fail(f"部门规格中的 {key} 应为 {lo}–{hi} 的整数，而不是 {_clip(v)}",
                   f"{key} in the spec should be an integer from {lo} to {hi}, not {_clip(v)}")
    return v


def boolean(v: Any, key: str) -> bool:
    if not isinstance(v, bool):
        raise fail(f"部门规格中的 {key} 应为 true 或 false", f"{key} in the spec should be true or false")
    return v


def items(v: Any, key: str, limit: int, each: Callable[[Any, str], Any]) -> tuple:
    if v is None:
        return ()
    if not isinstance(v, (list, tuple)):
        raise fail(f"部门规格中的 {key} 应为列表，而不是 {_clip(v)}", f"{key} in the spec should be a list, not {_clip(v)}")
    if len(v) > limit:
        raise fail(f"部门规格中的 {key} 条目过多（{len(v)} 条，上限 {limit}）",
                   f"{key} in the spec has too many entries ({len(v)}, limit {limit})")
    return tuple(each(x, f"{key}[{i + 1}]") for i, x in enumerate(v))


def code(v: Any, digits: int, what: str) -> str:
    from .catalogue import normalize_code

    zh, en = _WHAT.get(what, (what, what))
    c = normalize_code(v) if isinstance(v, (str, int)) and not isinstance(v, bool) else None
    if c is None or len(c) != digits:
        raise fail(f"部门规格中的{zh}编码 {_clip(v)} 格式不正确（应为 {digits} 位数字）",
                   f"{en} code {_clip(v)} in the spec is malformed (it should have {digits} digits)")
    return c


def codes(v: Any, what: str, digits: int | None = None) -> tuple[str, ...]:
    digits = digits or _DIGITS[what]
    out = items(v, what, MAX_CODES, lambda x, _k: code(x, digits, what))
    seen: set[str] = set()
    for c in out:
        if c in seen:
            zh, en = _WHAT[what]
            raise fail(f"部门规格中的{zh}编码 {c} 重复", f"{en} code {c} is repeated in the spec")
        seen.add(c)
    return tuple(sorted(out))


def tableset_id(v: Any) -> str:
    """A table set is named by id only (short, ``[a-z0-9-]``); a path is refused."""
    if v is None or v == "":
        return "xj11"
    if not isinstance(v, str):
        raise fail(f"部门规格中的 tableset（表套）应为文字，而不是 {_clip(v)}",
                   f"tableset in the spec should be text, not {_clip(v)}")
    if not TABLESET_ID.match(v):
        if any(ch in v for ch in "/\\.") or len(v) > 32:
            raise fail(f"部门规格中的 tableset（表套）{_clip(v)} 未安装：表套只能按标识从已安装的表套中选用，不能指定路径",
                       f"tableset {_clip(v)} in the spec is not installed: table sets are chosen by id among "
                       "the installed ones, never by path")
        raise fail(f"部门规格中的 tableset（表套）{_clip(v)} 无效（只能含小写字母、数字和连字符，至多 32 个字符）",
                   f"tableset {_clip(v)} in the spec is invalid (lower-case letters, digits and hyphens, "
                   "at most 32 characters)")
    return v


def names(v: Any) -> dict[str, str]:
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise fail("部门规格中的 names（编码名称）应为键值表", "names in the spec should be a table of code = name")
    if len(v) > MAX_NAMES:
        raise fail(f"部门规格中的 names 条目过多（{len(v)} 条，上限 {MAX_NAMES}）",
                   f"names in the spec has too many entries ({len(v)}, limit {MAX_NAMES})")
    out = {}
    for k, name in v.items():
        key = k.strip() if isinstance(k, str) else ""
        if not (key.isascii() and key.isdigit()) or len(key) not in ALL_LENGTHS:
            raise fail(f"部门规格 names 中的编码 {_clip(k)} 格式不正确（应为 3、5 或 7 位数字）",
                       f"code {_clip(k)} in names is malformed (3, 5 or 7 digits)")
        out[key] = text(name, f"names.{key}", required=True)
    return out


def sangong(v: Any, key: str) -> tuple[str, ...]:
    out = items(v, key, len(SANGONG_ITEMS) * 2, lambda x, k: x if isinstance(x, str) and x in SANGONG_ITEMS else
                _bad_sangong(x, key))
    return tuple(dict.fromkeys(out))


def _bad_sangong(x: Any, key: str):
    raise fail(f"部门规格中 {key} 的三公事项 {_clip(x)} 无效，可选：{', '.join(SANGONG_ITEMS)}",
               f"{key}: 三公 item {_clip(x)} is invalid; choose from {', '.join(SANGONG_ITEMS)}")


# --- the flat form embedded in templates ------------------------------------------------------------------
FLAT_KEYS = ("department", "year", "tableset", "unit", "short_name", *CODE_LISTS, "projects", "names",
             "fund_sources", "generic", "spare_rows", "classes")
PROJECT_KEYS = ("key", "name", "function", "sangong", "unit")


def flat(d: Any) -> dict[str, Any]:
    """Check the flat form (``Spec.to_dict``) and return the arguments of ``Spec``."""
    d = _keys(d, FLAT_KEYS, "顶层", "the top level")
    for k in ("department", "year"):
        if k not in d:
            raise fail(f"部门规格缺少 {k}", f"the spec lacks {k}")
    out: dict[str, Any] = {
        "department": text(d["department"], "department", required=not d.get("generic")),
        "year": year(d["year"]),
        "tableset": tableset_id(d.get("tableset")),
        "unit": text(d.get("unit", "万元"), "unit", MAX_SHORT) or "万元",
        "short_name": text(d.get("short_name"), "short_name"),
        "names": names(d.get("names")),
        "fund_sources": items(d.get("fund_sources"), "fund_sources", MAX_SOURCES,
                              lambda x, k: text(x, k, MAX_SHORT, required=True)),
        "generic": boolean(d.get("generic", False), "generic"),
        "spare_rows": integer(d.get("spare_rows", 0), "spare_rows", 0, MAX_SPARE_ROWS),
        "classes": codes(d.get("classes"), "classes", 3),
    }
    for k in CODE_LISTS:
        out[k] = codes(d.get(k), k)
    out["projects"] = project_list(d.get("projects"), flat_form=True)
    return out


def project_list(v: Any, flat_form: bool = False) -> tuple[dict[str, Any], ...]:
    seen: set[str] = set()

    def one(p: Any, where: str) -> dict[str, Any]:
        p = _keys(p, PROJECT_KEYS, where, where)
        n = where[len("projects["):-1]
        key = text(p.get("key") or ("" if flat_form else f"p{n}"), f"{where}.key", 31, required=True)
        if not PROJECT_KEY.match(key) or key in seen:
            raise fail(f"项目编号 {_clip(key)} 无效或重复（字母开头，只含字母、数字、下划线）",
                       f"project key {_clip(key)} is invalid or repeated (a letter, then letters, digits, underscores)")
        seen.add(key)
        return {"key": key, "name": text(p.get("name"), f"项目 {key} 的 name（项目名称）", required=True),
                "function": code(p.get("function"), leaf("function"), "functions"),
                "sangong": sangong(p.get("sangong"), f"项目 {key}"),
                "unit": text(p.get("unit"), f"项目 {key} 的 unit")}

    return items(v, "projects", MAX_PROJECTS, one)


# --- the nested form a person writes ----------------------------------------------------------------------
FILE_KEYS = ("tableset", "fund_sources", "department", "codes", "projects", "names")
DEPARTMENT_KEYS = ("name", "year", "unit", "short_name")


def nested(d: Any) -> dict[str, Any]:
    """Check a spec file's mapping and return the arguments of ``Spec``."""
    d = _keys(d, FILE_KEYS, "顶层", "the top level")
    dept = d.get("department")
    if not isinstance(dept, dict) or not dept.get("name"):
        raise fail("部门规格缺少 [department] name（部门名称）", "the spec lacks [department] name")
    _keys(dept, DEPARTMENT_KEYS, "[department]", "[department]")
    if "year" not in dept:
        raise fail("部门规格缺少 [department] year（预算年度），例如 2025",
                   "the spec lacks [department] year (the budget year), e.g. 2025")
    c = _keys(d.get("codes") or {}, CODE_LISTS, "[codes]", "[codes]")
    out: dict[str, Any] = {
        "department": text(dept["name"], "[department] name", required=True),
        "year": year(dept["year"], "[department] year"),
        "tableset": tableset_id(d.get("tableset")),
        "unit": text(dept.get("unit", "万元"), "[department] unit", MAX_SHORT) or "万元",
        "short_name": text(dept.get("short_name"), "[department] short_name"),
        "names": names(d.get("names")),
        "fund_sources": items(d.get("fund_sources"), "fund_sources", MAX_SOURCES,
                              lambda x, k: text(x, k, MAX_SHORT, required=True)),
        "projects": project_list(d.get("projects")),
    }
    for k in CODE_LISTS:
        out[k] = codes(c.get(k), k)
    return out
