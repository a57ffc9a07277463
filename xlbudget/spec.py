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

import functools
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from msgspec import Struct, field

from . import specschema as schema
from . import tomlfile
from .errors import SpecError
from .specschema import CODE_LISTS, SANGONG_ITEMS  # noqa: F401  (re-exported)

MAX_SPEC_BYTES = 2 * 1024 * 1024


class Project(Struct, frozen=True):
    """A project of the department: its key, name, 功能分类 项, 三公 items and (consolidated) unit."""

    key: str
    name: str
    function: str
    sangong: tuple[str, ...] = ()
    unit: str = ""


class Spec(Struct, frozen=True, dict=True):
    """What a department's workbook is laid out for: the table set, the department, its codes and projects."""

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
    classes: tuple[str, ...] = ()      # 类 codes of the per-class table, fixed when the template is written

    def codes(self, which: str) -> tuple[str, ...]:
        return getattr(self, which)

    def project(self, key: str) -> Project:
        got = self._projects.get(key)
        if got is None:
            raise KeyError(key)
        return got

    @functools.cached_property
    def _projects(self) -> dict[str, Project]:
        """The projects by key (the first of a key, as a search in order finds): a large department's layout
        asks for each of hundreds once per table."""
        out: dict[str, Project] = {}
        for p in self.projects:
            out.setdefault(p.key, p)
        return out

    def to_dict(self) -> dict[str, Any]:
        # what asdict() gives, without its recursive deep copy: a fresh copy of the JSON form, written once
        # per spec (a spec is immutable; the reader, the layout cache and the digest ask for it per submission)
        return json.loads(self._text("plain"))

    def to_json(self) -> str:
        return self._text("sorted")

    @property
    def hash(self) -> str:
        """Digest of the department's spec as written (the 类 a template fixed are the template's, not the
        department's: a spec and the template made from it have one digest)."""
        return self._text("hash")

    def _text(self, form: str) -> str:
        memo = self.__dict__.get("_texts")
        if memo is None:
            d = {name: getattr(self, name) for name in self.__struct_fields__}
            d["projects"] = [{name: getattr(p, name) for name in p.__struct_fields__} for p in self.projects]
            if not d["classes"]:  # absent rather than empty: the digest of a spec that never had them is unchanged
                del d["classes"]
            plain = json.dumps(d, ensure_ascii=False)
            d = json.loads(plain)
            memo = {"plain": plain, "sorted": json.dumps(d, ensure_ascii=False, sort_keys=True, separators=(",", ":"))}
            d.pop("classes", None)
            text = json.dumps(d, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
            memo["hash"] = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
            self.__dict__["_texts"] = memo  # not a field: equality, replace() and the fields ignore it
        return memo[form]

    @classmethod
    def from_dict(cls, d: Any) -> "Spec":
        """Build from the flat form written by :meth:`to_dict` (embedded in templates), checked against the
        schema first (:func:`xlbudget.specschema.flat`): raises SpecError, never anything else."""
        return _build(schema.flat(d))


def _build(args: dict[str, Any]) -> Spec:
    projects = tuple(Project(**p) for p in args.pop("projects"))
    return Spec(projects=projects, **args)


def spec_from_mapping(d: Any) -> Spec:
    """Validate a user-written spec mapping (TOML/JSON) and build a :class:`Spec`."""
    from .errors import DescriptionError
    from .tableset import installed_tablesets, tableset_dir

    args = schema.nested(d)
    try:  # a spec names an installed set by id, never a folder
        tableset_dir(args["tableset"])
    except DescriptionError:
        raise schema.fail(f"部门规格中的表套 tableset = {args['tableset']!r} 未安装，可选：{'、'.join(installed_tablesets())}",
                          f"table set {args['tableset']!r} of the spec is not installed; installed: "
                          f"{', '.join(installed_tablesets())}") from None
    return _build(args)


def spec_problems(spec: Spec) -> list[tuple[str, str]]:
    """What a spec file says that the template cannot honour (zh, en): a project whose function is not among
    the department's functions, a code that the catalogue does not know and [names] does not name, a code
    missing from a complete imported catalogue."""
    from .layout import catalogue_for

    out: list[tuple[str, str]] = []
    listed = set(spec.functions)
    for p in spec.projects:
        if p.function not in listed:
            out.append((f"项目 {p.key} 的功能分类 {p.function} 不在 [codes] functions 中",
                        f"project {p.key}: function {p.function} is not listed in [codes] functions"))
    for kind, lists in (("function", ("functions", "fund_functions", "soe_functions", "carryover_functions")),
                        ("economic", ("economic",))):
        cat = catalogue_for(kind, spec.year)
        lens = (3, 5) if kind == "economic" else (3, 5, 7)
        for which in lists:
            for code in spec.codes(which):
                for prefix in (code[:n] for n in lens):
                    if cat.complete and prefix not in cat:
                        out.append((f"{which} 中的编码 {code}：{prefix} 不在 {spec.year} 年度完整科目目录中",
                                    f"{which}: code {code}: {prefix} is not in the complete {spec.year} catalogue"))
                        break
                    if prefix not in spec.names and not cat.name(prefix):
                        out.append((f"{which} 中的编码 {prefix} 在科目目录中没有名称，请在 [names] 中给出",
                                    f"{which}: code {prefix} has no name in the catalogue; give it in [names]"))
                        break
    return list(dict.fromkeys(out))


def parse_spec_text(text: str, json_form: bool) -> Any:
    """Parse spec text (TOML or JSON) whatever it holds: deep nesting or garbage is a SpecError."""
    if len(text) > MAX_SPEC_BYTES:
        raise schema.fail("部门规格过大", "the spec is too large")
    try:
        return json.loads(text) if json_form else tomlfile.parse(text)
    except ValueError as e:  # the TOML parser's error is a ValueError too
        zh, en = _syntax_where(e, "JSON" if json_form else "TOML")
        raise schema.fail(f"部门规格格式错误：{zh}", f"the spec is not well-formed: {en}") from None
    except RecursionError:
        raise schema.fail("部门规格嵌套过深", "the spec is nested too deeply") from None


def _syntax_where(e: Exception, kind: str) -> tuple[str, str]:
    """Where a TOML or JSON parser stopped (zh, en): the parsers' own texts are English."""
    line, col = getattr(e, "lineno", None), getattr(e, "colno", None)
    if line is None:
        m = re.search(r"line (\d+), column (\d+)", str(e))
        line, col = (int(m.group(1)), int(m.group(2))) if m else (None, None)
    if line is None:
        return f"不符合 {kind} 语法", f"not valid {kind}"
    return (f"第 {line} 行第 {col} 列附近不符合 {kind} 语法（请检查引号、方括号和等号）",
            f"not valid {kind} near line {line}, column {col} (check quotes, brackets and equals signs)")


def load_spec(path: str | Path, strict: bool = True) -> Spec:
    """Read and validate a spec file; with ``strict`` also :func:`spec_problems` are errors."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_SPEC_BYTES:
            raise schema.fail(f"部门规格文件过大：{p}", f"spec file too large: {p}")
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise schema.fail(f"找不到部门规格文件：{p}", f"spec file not found: {p}") from None
    except UnicodeDecodeError:
        raise schema.fail(f"部门规格文件不是 UTF-8 文本：{p}", f"spec file is not UTF-8 text: {p}") from None
    except OSError as e:
        raise schema.fail(f"无法读取部门规格文件：{p}（{e.strerror}）", f"cannot read spec file {p} ({e.strerror})") from None
    try:
        spec = spec_from_mapping(parse_spec_text(text, p.suffix.lower() == ".json"))
    except SpecError as e:
        raise schema.fail(f"{p.name}：{e}", f"{p.name}: {getattr(e, 'message_en', e)}") from None
    if strict:
        problems = spec_problems(spec)
        if problems:
            raise schema.fail(f"{p.name}：" + "；".join(zh for zh, _ in problems),
                              f"{p.name}: " + "; ".join(en for _, en in problems))
    return spec


def generic_spec(department: str = "", year: int = 2025, spare_rows: int = 30, tableset: str = "xj11") -> Spec:
    """A spec without codes: every coded table gets ``spare_rows`` rows whose codes are picked from dropdowns."""
    return Spec(department=department, year=year, tableset=tableset, generic=True, spare_rows=spare_rows)
