"""The reader's plan of a table is shared by every table of a description whose rows come from the
description alone (``layout.is_static``): such a table must then be laid out alike, and planned alike, for
every department, every project and every set."""

from __future__ import annotations


import msgspec.structs
import pytest

from xlbudget.layout import Layout, is_static
from xlbudget.model import load_example
from xlbudget.reader import _make_plan, _plan
from xlbudget.tableset import installed_tablesets


def _shape(t) -> list[tuple]:
    """What a static table's plan depends on: its rows, where they sit, their roles and their sums."""
    return [(r.key, r.r, r.block, r.record, r.spare, r.total, r.children, r.inputs, r.sum_cols, r.type,
             r.path is None, tuple(r.formulas)) for r in t.rows.values()]


def _variants(spec):
    """The example department, another department with fewer projects and codes, and one with the
    projects in another order."""
    yield spec
    fewer = spec.projects[: max(1, len(spec.projects) // 2)]
    yield msgspec.structs.replace(spec, department="另一个部门", projects=fewer, functions=spec.functions[:3] or spec.functions)
    yield msgspec.structs.replace(spec, department="第三个部门", projects=tuple(reversed(spec.projects)))


@pytest.mark.parametrize("tableset", installed_tablesets())
def test_static_tables_are_planned_alike_in_every_layout(tableset):
    spec, _ = load_example(tableset)
    layouts = [Layout(s) for s in _variants(spec)]
    static = [d for d in layouts[0].tableset.tables if is_static(d)]
    assert static, f"{tableset} has no table of static plans only"
    for desc in static:
        tables = [t for lay in layouts for t in lay.tables.values() if t.desc is desc]
        assert tables, desc.id
        first = _shape(tables[0])
        for lay in layouts:
            for t in (t for t in lay.tables.values() if t.desc is desc):
                assert _shape(t) == first, f"{t.id} of {lay.spec.department} is laid out unlike {tables[0].id}"
                # the shared plan is the plan this very table would have on its own
                assert _plan(lay, t) == _make_plan(lay, t), t.id


def test_tables_of_the_departments_codes_are_not_shared():
    spec, _ = load_example("xj11")
    other = msgspec.structs.replace(spec, functions=spec.functions[:2])
    a, b = Layout(spec), Layout(other)
    dynamic = [d for d in a.tableset.tables if not is_static(d)]
    assert dynamic
    for desc in dynamic:
        ta = next(t for t in a.tables.values() if t.desc is desc)
        tb = next(t for t in b.tables.values() if t.desc is desc)
        assert _plan(a, ta) is not _plan(b, tb)


@pytest.mark.parametrize("tableset", installed_tablesets())
def test_formula_texts_written_per_pattern_are_formula_texts(tableset):
    from xlbudget.formulas import TableFormulas, formula
    from xlbudget.spec import generic_spec

    spec, _ = load_example(tableset)
    specs = list(_variants(spec)) + [generic_spec(year=spec.year, tableset=tableset)]
    checked = 0
    for s in specs:
        lay = Layout(s)
        for t in lay.tables.values():
            texts = TableFormulas(lay, t)
            for row in t.rows.values():
                for col in t.desc.block(row.block).columns:
                    if lay.cell_role(t, row, col) in ("formula", "sum"):
                        assert texts.text(row, col) == formula(lay, t, row, col), (t.id, row.key, col.key)
                        checked += 1
    assert checked > 200


def _snapshot(layouts) -> list[tuple]:
    """Everything a layout's tables and rows hold (a row's memo of its cells' roles left out)."""
    out = []
    for lay in layouts:
        for t in lay.tables.values():
            rows = [{k: v for k, v in msgspec.structs.asdict(r).items() if k != "roles"} for r in t.rows.values()]
            out.append((lay.spec.department, t.id, repr(rows), repr(t.colpos), repr(t.header_rows),
                        repr(t.block_headers), repr(t.section_rows)))
    return out


@pytest.mark.parametrize("tableset", installed_tablesets())
def test_rows_shared_by_layouts_are_left_as_laid_out(tableset, tmp_path):
    """Layouts share the rows and geometry of their static tables: writing, filling, reading, checking and
    building other departments in the same process must change nothing in them."""
    from xlbudget.build import build_from_budgets
    from xlbudget.check import check_file
    from xlbudget.model import Budget
    from xlbudget.template import fill

    spec, doc = load_example(tableset)
    kept = [Layout(s) for s in _variants(spec)]
    before = _snapshot(kept)
    static = [d for d in kept[0].tableset.tables if is_static(d)]
    shared = {id(r) for t in kept[0].tables.values() if t.desc in static for r in t.rows.values()}
    assert shared & {id(r) for t in kept[1].tables.values() for r in t.rows.values()}, "no row is shared"

    other = msgspec.structs.replace(spec, department="再一个部门")
    filled = fill({**doc, "spec": other.to_dict()}, tmp_path / "filled.xlsx", other)
    report = check_file(filled)
    assert report.readable
    build_from_budgets([Budget(Layout(other), {**doc, "spec": other.to_dict()})], tmp_path / "built.xlsx",
                       force=True)
    assert _snapshot(kept) == before


@pytest.mark.parametrize("tableset", installed_tablesets())
def test_a_static_table_kept_for_its_placeholders_is_the_table_laid_out_anew(tableset):
    """The rows and geometry of a static table are kept by its description and the values of the placeholders
    its row texts name (a per-project table: its project's key): a layout built from what was kept is the
    layout built with nothing kept, for departments that share projects' keys but not their names, order or
    number; and departments that share them share the table's rows."""
    from xlbudget import layout as L

    spec, _ = load_example(tableset)
    renamed = msgspec.structs.replace(spec, department="改名的部门", projects=tuple(
        msgspec.structs.replace(p, name=p.name + "（续）") for p in spec.projects))
    variants = [*_variants(spec), renamed]
    kept = [Layout(s) for s in variants]
    again = [Layout(s) for s in variants]   # (every static table found kept)
    for cache in (L._STATIC_TABLES, L._STATIC_GEOMETRY, L._SHARED_ROWS, L._SHARED_RECORDS, L._PLACEHOLDERS):
        cache._items.clear()
    fresh = [Layout(s) for s in variants]
    assert _snapshot(again) == _snapshot(kept) == _snapshot(fresh)
    static = [t for t in kept[-1].tables.values() if is_static(t.desc)]
    first = {t.id: t for t in kept[0].tables.values()}
    pairs = [(r, first[t.id].rows[k]) for t in static if t.id in first for k, r in t.rows.items()]
    # the same row objects, but where the row's fixed text names what differs (the project's name)
    assert pairs and all(r is o for r, o in pairs if r.fixed == o.fixed)
