"""Consolidating several unit submissions into one department disclosure."""

from __future__ import annotations

import copy
import shutil
from msgspec.structs import replace
from decimal import Decimal

import openpyxl
import pytest

from xlbudget.build import BuildError, build, build_from_budgets
from xlbudget.check import check_budget
from xlbudget.consolidate import consolidate
from xlbudget.errors import DataError
from xlbudget.findings import Severity
from xlbudget.model import Budget, budget_from_document, load_example, q
from xlbudget.narrative import narrative

DEPT = "克孜勒苏柯尔克孜自治州数字化发展局（汇总）"
UNITS = [("克孜勒苏柯尔克孜自治州数字化发展局", Decimal("1")),
         ("克州政务服务和数字化发展中心", Decimal("2")),
         ("克州 12345 政务服务便民热线中心", Decimal("0.5"))]


def _scale(obj, k: Decimal):
    if isinstance(obj, Decimal):
        return obj * k
    if isinstance(obj, dict):
        return {key: _scale(v, k) for key, v in obj.items()}
    if isinstance(obj, list):
        return [_scale(v, k) for v in obj]
    return obj


def unit_budget(name: str, k: Decimal, year: int | None = None, tableset: str | None = None) -> Budget:
    """The example, renamed and with every amount multiplied by ``k`` (its one inconsistency removed)."""
    spec, doc = load_example()
    projects = tuple(replace(p, sangong=tuple(s for s in p.sangong if s != "vehicle_purchase"))
                     for p in spec.projects)
    spec = replace(spec, department=name, projects=projects, year=year or spec.year,
                   tableset=tableset or spec.tableset, short_name="")
    doc = copy.deepcopy(doc)
    doc["tables"] = _scale(doc["tables"], k)
    doc["facts"] = _scale(doc["facts"], k)
    doc["performance"] = _scale(doc["performance"], k)
    doc["performance"]["department"]["unit_name"] = name
    for p in doc["facts"]["projects"].values():
        p["unit"] = name
    doc["spec"] = spec.to_dict()
    return budget_from_document(doc, spec)


@pytest.fixture(scope="module")
def units() -> list[Budget]:
    return [unit_budget(n, k) for n, k in UNITS]


@pytest.fixture(scope="module")
def merged(units) -> Budget:
    return consolidate(units, name=DEPT)


def test_totals_are_the_sum_of_the_units(units, merged):
    checked = 0
    for tid in ("T1", "T2", "T3", "T4", "T5", "T6", "T10", "T11", "LY"):
        t = merged.layout.tables[tid]
        for row in t.rows.values():
            for col in t.desc.block(row.block).columns:
                if not col.numeric:
                    continue
                total = merged.value(tid, row.key, col.key)
                parts = [u.value(tid, row.key, col.key) for u in units if u.layout.has(tid, row.key)]
                if all(p is None for p in parts):
                    assert total in (None, Decimal(0)), (tid, row.key, col.key)
                    continue
                expected = sum((p or Decimal(0) for p in parts), Decimal(0))
                assert total == expected, (tid, row.key, col.key)
                assert merged.published(tid, row.key, col.key) == q(expected)
                checked += 1
    assert checked > 150
    one = units[0]
    assert merged.value("T1", "in_total", "amount") == one.value("T1", "in_total", "amount") * Decimal("3.5")
    assert merged.published("T6", "301", "total") == q(one.value("T6", "301", "total") * Decimal("3.5"))


def test_projects_kept_with_their_unit(units, merged):
    spec = merged.spec
    assert spec.department == DEPT
    assert len(spec.projects) == 18
    assert len({p.key for p in spec.projects}) == 18
    assert [p.key for p in spec.projects[:7]] == ["p1", "p2", "p3", "p4", "p5", "p6", "u2_p1"]
    assert {p.unit for p in spec.projects} == {n for n, _k in UNITS}
    for p in spec.projects:
        unit = next(u for u in units if u.spec.department == p.unit)
        orig = p.key.split("_", 1)[1] if p.key.startswith("u") else p.key
        assert merged.value("T7", p.key, "total") == unit.value("T7", orig, "total")
        assert merged.doc["facts"]["projects"][p.key]["unit"] == p.unit
        assert p.key in merged.doc["performance"]["projects"]
    assert merged.value("T7", "total", "total") == sum(u.value("T7", "total", "total") for u in units)


def test_facts_and_performance_summed(units, merged):
    facts = merged.doc["facts"]
    assert facts["procurement"]["goods"] == Decimal("21.44") * Decimal("3.5")
    assert facts["overview"]["staff_actual"] == 14 * 3
    assert merged.published("PD", "funds_total", "value") == q(Decimal("417.37") * Decimal("3.5"))
    assert merged.doc["performance"]["department"]["unit_name"] == DEPT
    assert "3 个预算单位" in facts["overview"]["org_text"]


def test_consolidated_result_passes_check(units, merged):
    for u in units:
        assert not [f for f in check_budget(u) if f.severity == Severity.ERROR]
    errors = [f for f in check_budget(merged) if f.severity == Severity.ERROR]
    assert not errors, [f.message() for f in errors]


def test_build_three_units(units, tmp_path):
    out = tmp_path / "dept.xlsx"
    result = build_from_budgets(units, out, name=DEPT, datapackage=tmp_path / "dp")
    assert result.verified and not result.errors
    assert [r.label for r in result.reports] == [n for n, _k in UNITS] + ["汇总结果"]
    wb = openpyxl.load_workbook(out, data_only=True)
    try:
        cover = [c for row in wb["封面"].iter_rows(values_only=True) for c in row if isinstance(c, str)]
        assert DEPT in cover and "未经校验" not in cover
        rows = list(wb["表3"].iter_rows(values_only=True))
        total = next(r for r in rows if r[0] == "总计")
        assert Decimal(repr(total[4])) == q(sum(u.value("T3", "total", "total") for u in units))
        assert Decimal(repr(total[4])) == Decimal("1460.81")     # 417.374 × 3.5, rounded once
        # 表7: one 单位 row per unit with its projects beneath
        t7 = list(wb["表7"].iter_rows(values_only=True))
        unit_rows = [r for r in t7 if r[0] in [n for n, _k in UNITS]]
        assert [r[0] for r in unit_rows] == [n for n, _k in UNITS]
        assert [Decimal(repr(r[5])) for r in unit_rows] == [q(u.value("T7", "total", "total")) for u in units]
        first = t7.index(unit_rows[0])
        second = t7.index(unit_rows[1])
        block = [r for r in t7[first + 1:second] if r[4]]
        assert len(block) == 6 and block[0][4] == "克州电子政务外网专项运维费项目"
        t7_total = next(r for r in t7 if r[0] == "总计")
        assert Decimal(repr(t7_total[5])) == Decimal("807.59")
        assert sum(1 for n in wb.sheetnames if n.startswith("项目绩效")) == 18
    finally:
        wb.close()
    text = "\n".join(s.text() for s in narrative(result.budget))
    assert "项目承担单位：克州政务服务和数字化发展中心" in text
    assert "（十八）项目名称：" in text


def test_build_from_files(units, tmp_path):
    from xlbudget.writer.template import write_workbook

    paths = []
    for i, u in enumerate(units, start=1):
        p = tmp_path / f"unit{i}.xlsx"
        write_workbook(u.layout, p, u)
        paths.append(p)
    result = build(paths, tmp_path / "out.xlsx", name=DEPT)
    assert result.verified
    assert [r.label for r in result.inputs] == ["unit1.xlsx", "unit2.xlsx", "unit3.xlsx"]
    assert result.budget.value("T1", "in_total", "amount") == sum(u.value("T1", "in_total", "amount") for u in units)


def test_build_in_parallel_is_the_same_build(tmp_path):
    """--jobs 2 reads and checks the units in worker processes: the same findings and the same workbook."""
    import zipfile

    from xlbudget.writer.template import write_workbook

    paths = []
    for i, (n, k) in enumerate(UNITS + [("克州第四单位", Decimal("3.25"))], start=1):
        u = unit_budget(n, k)
        p = tmp_path / f"unit{i}.xlsx"
        write_workbook(u.layout, p, u)
        paths.append(p)
    results = [build(paths, tmp_path / f"out{j}.xlsx", name=DEPT, force=True, jobs=j) for j in (1, 2)]

    def findings(r):
        return [(rep.label, [(f.rule, f.severity, f.message(), f.cells) for f in rep.findings]) for rep in r.reports]

    def parts(p):
        with zipfile.ZipFile(p) as z:
            return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}

    assert findings(results[0]) == findings(results[1])
    assert sum(len(rep.findings) for rep in results[0].reports) > 0
    assert parts(tmp_path / "out1.xlsx") == parts(tmp_path / "out2.xlsx")


def test_different_years_are_refused():
    a = unit_budget("甲单位", Decimal(1))
    b = unit_budget("乙单位", Decimal(1), year=2026)
    with pytest.raises(DataError) as e:
        consolidate([a, b], name="部门")
    assert "预算年度不一致" in str(e.value) and "2026" in str(e.value)


def test_different_table_sets_are_refused(tmp_path, monkeypatch):
    from xlbudget.tableset import tableset_dir

    src = tableset_dir("xj11")
    monkeypatch.setenv("XLBUDGET_HOME", str(tmp_path / "home"))  # a table set is installed, then named by id
    other = tmp_path / "home" / "tablesets" / "xj11-old"
    shutil.copytree(src, other)
    meta = other / "tableset.toml"
    meta.write_text(meta.read_text(encoding="utf-8").replace('version = "', 'version = "old-')
                    .replace('id = "xj11"', 'id = "xj11-old"'), encoding="utf-8")
    a = unit_budget("甲单位", Decimal(1))
    b = unit_budget("乙单位", Decimal(1), tableset="xj11-old")
    with pytest.raises(DataError) as e:
        consolidate([a, b], name="部门")
    assert "表套不一致" in str(e.value)
    with pytest.raises(DataError):
        build_from_budgets([a, b], tmp_path / "x.xlsx", name="部门")
    assert not (tmp_path / "x.xlsx").exists()


def test_unreadable_input_blocks(tmp_path):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    with pytest.raises(BuildError) as e:
        build([bad], tmp_path / "out.xlsx", force=True)
    assert "无法读取" in str(e.value)
    assert not (tmp_path / "out.xlsx").exists()


def test_single_unit_keeps_its_name_and_keys():
    u = unit_budget("甲单位", Decimal(1))
    c = consolidate([u])
    assert c.spec.department == "甲单位"
    assert [p.key for p in c.spec.projects] == [p.key for p in u.spec.projects]
    assert c.value("T6", "total", "total") == u.value("T6", "total", "total")


@pytest.mark.parametrize("force", [False, True])
def test_an_error_in_the_result_found_while_the_disclosure_is_written(units, tmp_path, monkeypatch, force):
    """With a pool the result is checked in a worker while the disclosure is written: an error found there
    still refuses the build (the output already there untouched, no temporary file left), or, forced, has
    the disclosure stamped unverified."""
    from concurrent.futures import ThreadPoolExecutor

    import xlbudget.build as build_module

    errors = [f for f in check_budget(load_example_budget()) if f.severity == Severity.ERROR]
    assert errors
    monkeypatch.setattr(build_module, "_check_one", lambda state: errors)
    out = tmp_path / "d.xlsx"
    out.write_bytes(b"the previous disclosure")
    with ThreadPoolExecutor(1) as pool:
        if not force:
            with pytest.raises(BuildError) as e:
                build_module._build(units, out, name=DEPT, pool=pool)
            assert errors[0].rule in str(e.value)
            assert out.read_bytes() == b"the previous disclosure"
            assert sorted(p.name for p in tmp_path.iterdir()) == ["d.xlsx"]
            return
        result = build_module._build(units, out, name=DEPT, pool=pool, force=True)
    assert not result.verified and result.consolidated.errors == errors
    wb = openpyxl.load_workbook(out, data_only=True)
    cover = [c for row in wb["封面"].iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert "未经校验" in cover
    wb.close()


def load_example_budget() -> Budget:
    spec, doc = load_example()
    return budget_from_document(doc, spec)
