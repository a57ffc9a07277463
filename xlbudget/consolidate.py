"""Consolidate the budgets of several units into one department budget (部门汇总).

``consolidate(budgets, name)`` returns a new :class:`~xlbudget.model.Budget`:

* the spec is the union of the units' codes (功能分类, 经济分类, 基金, 国资, 结转), with every project kept
  and tagged with its unit (``Project.unit``). Project keys stay as they are while they are unique across
  the units; when two units use the same key, every project of the second and later units that collides
  is renamed ``u<n>_<key>`` (``n`` = the unit's position, from 1);
* the document sums every input cell of the tables by row and column key (function and economic codes,
  fixed rows such as the 三公 items, 上年预算数), always on the precise (unrounded) inputs, so each
  consolidated figure is rounded once, from the exact sum;
* facts: counts and amounts are summed (staff, 机关运行经费, 政府采购, 国有资产); texts come from the first
  unit, or are joined when the units wrote different ones (reasons, other matters); project facts are kept
  per project;
* performance: the project tables are kept per project; the department table takes the first unit's goal
  and indicators, with the funds summed over the units.

Units of different budget years or different table sets (or table-set versions) are refused with a
:class:`~xlbudget.errors.DataError` whose message is in Chinese.
"""

from __future__ import annotations

import copy
import re
from decimal import Decimal
from typing import Any, Iterable, Union

from msgspec import Struct, field

from .errors import DataError
from .layout import LTable, layout_for
from .model import FORMAT, ZERO, Budget, get_path, normalise_document, set_path, to_decimal
from .setdata import disclosure_plan
from .spec import CODE_LISTS, Project, Spec

__all__ = ["UnitFigures", "consolidate", "unit_names"]

_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,30}$")

NUMERIC_ROWS = ("amount", "int", "signed_int")


def summed_paths(layout, root: str) -> list[tuple[str, ...]]:
    """Document paths below ``root`` (facts, performance) of the numeric figures a unit enters once for the
    department (staff, 机关运行经费, 政府采购, 国有资产, 绩效 funds): the numeric form rows of the set's
    descriptions that are not per project. Their consolidated value is the sum over the units."""
    out: list[tuple[str, ...]] = []
    for t in layout.tables.values():
        if t.project is not None:
            continue
        for row in t.rows.values():
            if row.record is None and row.path and row.type in NUMERIC_ROWS and row.path[0] == root:
                if row.path[1:] not in out:
                    out.append(row.path[1:])
    return out


def unit_names(budgets: Iterable[Budget]) -> list[str]:
    return [b.spec.department for b in budgets]


class UnitFigures(Struct):
    """What consolidation takes from one unit's budget, without its layout: the spec and document, the
    table set, the rows of its tables, the figures of its grid cells (as ``Budget.value`` gives them:
    constants over formulas included), the tables it lacks and the paths of its summed department figures.

    A worker that read and checked a unit sends this rather than the document alone, so that the process
    consolidating hundreds of units does not lay each one out again. A unit of a generic spec (codes in
    spare rows) travels as its budget: its figures depend on the codes it holds.
    """

    spec: Spec
    doc: dict[str, Any]
    tableset: tuple[str, str]                                  # id, version
    rows: dict[str, frozenset[str]]                            # table -> the keys of its rows
    figures: dict[tuple[str, str, str], Decimal]               # (table, row, column) -> figure, None left out
    absent: frozenset[str]                                     # descriptions of the tables it lacks
    summed: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)   # root -> ``summed_paths``

    @classmethod
    def of(cls, b: Budget) -> "UnitFigures":
        figures: dict[tuple[str, str, str], Decimal] = {}
        for t, row, col in b.layout.cells():
            if row.record is None and col.kind != "field" and col.numeric:
                v = b.value(t.id, row.key, col.key)
                if v is not None:
                    figures[(t.id, row.key, col.key)] = v
        return cls(spec=b.spec, doc=b.doc, tableset=(b.layout.tableset.id, b.layout.tableset.version),
                   rows={tid: frozenset(t.rows) for tid, t in b.layout.tables.items()}, figures=figures,
                   absent=frozenset(b.layout.tables[t].desc.id for t in b.absent_tables),
                   summed={root: summed_paths(b.layout, root) for root in ("facts", "performance")})


Unit = Union[Budget, UnitFigures]


def _tableset_key(b: Unit) -> tuple[str, str]:
    return b.tableset if isinstance(b, UnitFigures) else (b.layout.tableset.id, b.layout.tableset.version)


def _summed(b: Unit, root: str) -> list[tuple[str, ...]]:
    return b.summed[root] if isinstance(b, UnitFigures) else summed_paths(b.layout, root)


def _absent(b: Unit) -> set[str]:
    return set(b.absent) if isinstance(b, UnitFigures) else {b.layout.tables[t].desc.id for t in b.absent_tables}


# --------------------------------------------------------------------------------------------
# Compatibility
# --------------------------------------------------------------------------------------------


def _check_compatible(budgets: list[Budget]) -> None:
    if not budgets:
        raise DataError("没有可合并的单位预算（至少需要一个输入文件）")
    first = budgets[0]
    years = sorted({b.spec.year for b in budgets})
    if len(years) > 1:
        detail = "；".join(f"{b.spec.department}：{b.spec.year} 年" for b in budgets)
        raise DataError(f"输入文件的预算年度不一致（{detail}），不能合并为一个部门预算")
    sets = {_tableset_key(b) for b in budgets}
    if len(sets) > 1:
        detail = "；".join(f"{b.spec.department}：{_tableset_key(b)[0]} 版本 {_tableset_key(b)[1]}"
                          for b in budgets)
        raise DataError(f"输入文件使用的表套不一致（{detail}），不能合并；请用同一套模板重新填报")
    units = {(b.spec.unit or "万元") for b in budgets}
    if len(units) > 1:
        raise DataError(f"输入文件的金额单位不一致（{'、'.join(sorted(units))}），不能合并")
    del first


# --------------------------------------------------------------------------------------------
# What each unit holds (works for specs with codes and for generic templates with spare rows)
# --------------------------------------------------------------------------------------------


def _spare_codes(budget: Budget, which: str) -> set[str]:
    out: set[str] = set()
    for t in budget.layout.tables.values():
        for b in t.desc.blocks:
            if b.plan != "tree" or (b.codes or "functions") != which:
                continue
            for row in t.rows.values():
                if row.spare and row.block == b.key:
                    code = budget.code_of(t, row)
                    if code:
                        out.add(code.strip())
    return out


def _unit_codes(budget: Budget, which: str) -> set[str]:
    if budget.spec.generic:
        return _spare_codes(budget, which)
    return set(budget.spec.codes(which))


def _unit_projects(budget: Budget) -> list[tuple[str, Project]]:
    """(key of the row in the unit's T7, project) pairs."""
    spec = budget.spec
    if not spec.generic:
        return [(p.key, p) for p in spec.projects]
    out = []
    t7 = _projects_table(budget)
    if t7 is None:
        return out
    for row in t7.rows.values():
        if not row.spare:
            continue
        name = get_path(budget.doc, ("tables", t7.id, row.key, "project"))
        code = budget.code_of(t7, row)
        total = budget.value(t7.id, row.key, "total")
        if not name and not code and not total:
            continue
        if not code:
            raise DataError(f"{spec.department}：{t7.sheet} 第 {row.r + 1} 行的项目缺少功能分类科目编码，无法合并")
        out.append((row.key, Project(key=row.key, name=str(name or "").strip(), function=str(code).strip())))
    return out


def _projects_table(budget: Budget) -> LTable | None:
    for t in budget.layout.tables.values():
        if any(b.plan == "projects" for b in t.desc.blocks):
            return t
    return None


# --------------------------------------------------------------------------------------------
# Spec
# --------------------------------------------------------------------------------------------


def _project_keys(per_unit: list[list[tuple[str, Project]]]) -> list[list[str]]:
    """New keys: unchanged while unique, else ``u<n>_<key>``."""
    seen: set[str] = set()
    out: list[list[str]] = []
    for n, projects in enumerate(per_unit, start=1):
        keys = []
        for _row_key, p in projects:
            key = p.key
            if key in seen or not _KEY.match(key):
                base = re.sub(r"[^A-Za-z0-9_]", "_", key) or "p"
                key = f"u{n}_{base}"[:31]
                i = 2
                while key in seen:
                    key = f"u{n}_{base}"[: 31 - len(str(i)) - 1] + f"_{i}"
                    i += 1
            seen.add(key)
            keys.append(key)
        out.append(keys)
    return out


def _merged_spec(budgets: list[Budget], name: str | None, keys: list[list[str]],
                 per_unit: list[list[tuple[str, Project]]]) -> Spec:
    first = budgets[0].spec
    department = (name or "").strip() or first.department
    codes = {which: tuple(sorted(set().union(*(_unit_codes(b, which) for b in budgets)))) for which in CODE_LISTS}
    names: dict[str, str] = {}
    for b in budgets:
        for k, v in b.spec.names.items():
            names.setdefault(k, v)
    sources: list[str] = []
    for b in budgets:
        for s in b.spec.fund_sources:
            if s not in sources:
                sources.append(s)
    projects = []
    for b, unit_keys, unit_projects in zip(budgets, keys, per_unit):
        for key, (_row, p) in zip(unit_keys, unit_projects):
            projects.append(Project(key=key, name=p.name, function=p.function, sangong=tuple(p.sangong),
                                    unit=p.unit or b.spec.department))
    short = first.short_name if department == first.department else ""
    return Spec(department=department, year=first.year, tableset=first.tableset, unit=first.unit,
                short_name=short, projects=tuple(projects), names=names, fund_sources=tuple(sources),
                **codes)


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


def _input_cells(layout) -> Iterable[tuple[LTable, Any, Any]]:
    """The numeric input cells of the grid, in ``layout.cells()`` order (record rows, the bulk of a thousand
    project tables, are passed over whole)."""
    role = layout.cell_role
    for t in layout.tables.values():
        for row in t.rows.values():
            if row.record is not None:
                continue
            for col in t.desc.block(row.block).columns:
                if col.kind != "field" and col.numeric and role(t, row, col) == "input":
                    yield t, row, col


def _sum_tables(budgets: list[Budget], spec: Spec, keys: list[list[str]],
                per_unit: list[list[tuple[str, Project]]]) -> dict[str, dict[str, dict[str, Decimal]]]:
    layout = layout_for(spec)
    # project rows: consolidated key -> (unit index, the unit's row key)
    origin: dict[str, tuple[int, str]] = {}
    for i, (unit_keys, unit_projects) in enumerate(zip(keys, per_unit)):
        for key, (row_key, _p) in zip(unit_keys, unit_projects):
            origin[key] = (i, row_key)
    # which units have each row (in unit order), and which have spare rows in a table: each combined cell
    # then visits the units that can hold it, not all of them (linear in the size of the inputs)
    holders: dict[tuple[str, str], list[int]] = {}
    spares: dict[str, list[int]] = {}
    for i, b in enumerate(budgets):
        if isinstance(b, UnitFigures):  # never a generic spec: no spare rows
            for tid, rkeys in b.rows.items():
                for rkey in rkeys:
                    holders.setdefault((tid, rkey), []).append(i)
            continue
        for tid, ut in b.layout.tables.items():
            for rkey, urow in ut.rows.items():
                holders.setdefault((tid, rkey), []).append(i)
                if urow.spare and (not spares.get(tid) or spares[tid][-1] != i):
                    spares.setdefault(tid, []).append(i)
    tables: dict[str, dict[str, dict[str, Decimal]]] = {}
    for t, row, col in _input_cells(layout):
        if row.project is not None:
            i, row_key = origin[row.project]
            sources = [(budgets[i], t.id, row_key)]
        else:
            units = holders.get((t.id, row.key), [])
            if row.key.isdigit() and t.id in spares:
                units = sorted(set(units) | set(spares[t.id]))
            sources = [(budgets[i], t.id, row.key) for i in units]
        total: Decimal | None = None
        for b, tid, rkey in sources:
            v = _unit_value(b, tid, rkey, col.key)
            if v is not None:
                total = (total or ZERO) + v
        if total is not None:
            tables.setdefault(t.id, {}).setdefault(row.key, {})[col.key] = total
    return tables


def _unit_value(b: Unit, tid: str, rkey: str, ckey: str) -> Decimal | None:
    if isinstance(b, UnitFigures):
        return b.figures.get((tid, rkey, ckey))
    t = b.layout.tables.get(tid)
    if t is None:
        return None
    row = t.rows.get(rkey)
    if row is None:
        if rkey.isdigit() and any(r.spare for r in t.rows.values()):
            return b.value(tid, rkey, ckey)
        return None
    # a leaf of the consolidated layout is a leaf in every unit (codes have fixed lengths), so the unit's
    # own figure is the input, or the unit's computed value where the unit sums finer rows.
    return b.value(tid, rkey, ckey)


# --------------------------------------------------------------------------------------------
# Facts and performance
# --------------------------------------------------------------------------------------------

_ATOMS = (str, int, float, bool, Decimal, type(None))


def _copied(value: Any) -> Any:
    """A copy of a document's part (dicts, lists and plain values; anything else deep-copied), so that the
    result shares nothing with the units: a thousand projects' goals and indicators are copied here, and
    ``copy.deepcopy`` spends most of its time on its memo."""
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) for v in value]
    if type(value) in _ATOMS:
        return value
    return copy.deepcopy(value)



def _num(v: Any) -> Decimal | None:
    try:
        return to_decimal(v)
    except DataError:
        return None


def _sum_values(values: list[Any]) -> Any:
    nums = [_num(v) for v in values if v not in (None, "")]
    nums = [n for n in nums if n is not None]
    if not nums:
        return None
    total = sum(nums, ZERO)
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values if v not in (None, "")):
        return int(total)
    return total


def _join_texts(values: list[Any], sep: str = "；") -> str | None:
    out: list[str] = []
    for v in values:
        if v in (None, ""):
            continue
        s = str(v).strip()
        if s and s not in out:
            out.append(s)
    if not out:
        return None
    if len(out) == 1:
        return out[0]
    return sep.join(s.rstrip("。；;") for s in out) + ("。" if out[-1].endswith("。") else "")


def _sum_into(out: dict[str, Any], docs: list[dict[str, Any]], paths: list[tuple[str, ...]]) -> None:
    for path in paths:
        v = _sum_values([get_path(d, path) for d in docs])
        if v is not None:
            set_path(out, path, v)


def _combine_texts(out: dict[str, Any], docs: list[dict[str, Any]], budgets: list[Unit], spec: Spec,
                   tableset) -> None:
    """The set's [consolidate] policy for the texts, lists and mappings of the facts (paths from ``facts``)."""
    plan = disclosure_plan(tableset)
    policy = plan.consolidate

    def put(path: tuple[str, ...], value: Any) -> None:  # a copy: the result shares nothing with the units
        if value not in (None, [], {}):
            set_path(out, path[1:], _copied(value))

    for path in policy.union:
        items: list[Any] = []
        for d in docs:
            for x in get_path(d, path) or ():
                if x not in items:
                    items.append(x)
        put(path, items)
    for path in policy.merge:
        merged: dict[str, Any] = {}
        for d in docs:
            for k, v in (get_path(d, path) or {}).items():
                merged.setdefault(str(k), v)
        put(path, merged)
    for path in policy.join:
        put(path, _join_texts([get_path(d, path) for d in docs]))
    if policy.units:
        lead = policy.units_lead.format(department=spec.department, subject=plan.subject, n=len(budgets),
                                        units="、".join(b.spec.department for b in budgets))
        texts = [str(get_path(d, policy.units) or "").strip() for d in docs]
        put(policy.units, "\n".join([lead] + [t for t in texts if t]))


def _merged_facts(budgets: list[Unit], spec: Spec, keys: list[list[str]],
                  per_unit: list[list[tuple[str, Project]]], tableset) -> dict[str, Any]:
    facts_list = [b.doc.get("facts") or {} for b in budgets]
    out: dict[str, Any] = _copied(facts_list[0])
    multi = len(budgets) > 1
    _sum_into(out, facts_list, _summed(budgets[0], "facts"))
    if multi:
        _combine_texts(out, [{"facts": fa} for fa in facts_list], budgets, spec, tableset)
    projects: dict[str, Any] = {}
    for b, fa, unit_keys, unit_projects in zip(budgets, facts_list, keys, per_unit):
        for key, (row_key, _p) in zip(unit_keys, unit_projects):
            pf = _copied((fa.get("projects") or {}).get(row_key) or {})
            if not pf.get("unit"):
                pf["unit"] = b.spec.department
            projects[key] = pf
    out["projects"] = projects
    return out


def _merged_performance(budgets: list[Unit], spec: Spec, keys: list[list[str]],
                        per_unit: list[list[tuple[str, Project]]]) -> dict[str, Any]:
    perf_list = [b.doc.get("performance") or {} for b in budgets]
    dept = _copied(perf_list[0].get("department") or {})
    if dept or len(budgets) > 1:
        dept["unit_name"] = spec.department
        summed = {"department": dept}
        _sum_into(summed, perf_list, [p for p in _summed(budgets[0], "performance")
                                      if p[0] == "department"])
        dept = summed["department"]
    projects: dict[str, Any] = {}
    for perf, unit_keys, unit_projects in zip(perf_list, keys, per_unit):
        for key, (row_key, p) in zip(unit_keys, unit_projects):
            pp = _copied((perf.get("projects") or {}).get(row_key) or {})
            if pp:
                pp.setdefault("name", p.name)
                projects[key] = pp
    out: dict[str, Any] = {}
    if dept:
        out["department"] = dept
    out["projects"] = projects
    return out


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def consolidate(budgets: list[Unit], name: str | None = None) -> Budget:
    """Sum the budgets of several units (or re-issue a single one) as one department budget.

    ``name`` is the department's name; without it the first unit's name is used. A unit is its budget or
    what consolidation takes from it (:class:`UnitFigures`).
    """
    budgets = list(budgets)
    _check_compatible(budgets)
    per_unit = [_unit_projects(b) for b in budgets]
    keys = _project_keys(per_unit)
    spec = _merged_spec(budgets, name, keys, per_unit)
    layout = layout_for(spec)
    tableset = budgets[0].layout.tableset if isinstance(budgets[0], Budget) else layout.tableset
    doc: dict[str, Any] = {
        "format": FORMAT,
        "spec": spec.to_dict(),
        "tables": _sum_tables(budgets, spec, keys, per_unit),
        "performance": _merged_performance(budgets, spec, keys, per_unit),
        "facts": _merged_facts(budgets, spec, keys, per_unit, tableset),
    }
    if len(budgets) > 1:
        doc["units"] = [{"department": b.spec.department, "projects": [k for k in unit_keys]}
                        for b, unit_keys in zip(budgets, keys)]
    # every part of ``doc`` was made or copied here: normalised in place
    out = Budget(layout, normalise_document(layout, doc, in_place=True))
    # tables no input carries (inputs in an official layout have no 绩效 or facts sheets) are absent here too
    absent = set.intersection(*(_absent(b) for b in budgets))
    out.absent_tables = frozenset(tid for tid, t in layout.tables.items() if t.desc.id in absent)
    return out
