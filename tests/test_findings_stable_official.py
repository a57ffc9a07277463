"""The JSON check report of workbooks in an official layout stays the same, byte for byte.

The companion of ``test_findings_stable.py`` for :mod:`xlbudget.official`: the workbooks in
``tests/data/stable/official`` were written by the benchmark generator's official layout
(``bench/common.py`` through ``tests/officialgen.py``: two small departments and one large one, one sheet per
table), the same small document in the generator's other arrangements (hand-made, one sheet, tables split
over two blocks) and the examples of two more table sets (so that detecting the set is covered). Each test
run derives mutated copies (changed figures, numbers typed as text, a table missing, a table moved down its
sheet, a code no row has, another unit), so that the report holds errors, warnings and rounding notes at
remapped cells, not only passes.
The golden reports were written by the locator and reader without the speed work; regenerate them only for
an intended change of findings, from code whose findings are trusted:
``XLBUDGET_REGEN_GOLDEN=1 python -m pytest tests/test_findings_stable_official.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from golden import assert_golden
from xlbudget.check import check_budget
from xlbudget.rules.codes import coded_rows
from test_findings_stable import _nth, add_to_input, golden_kinds, golden_submissions, report_json, text_in_input

DATA = Path(__file__).parent / "data" / "stable" / "official"
BASES = ("small-1.xlsx", "small-3.xlsx", "large-2.xlsx", "small-4-handmade.xlsx", "small-4-onesheet.xlsx",
         "small-4-split.xlsx", "sh-budget-handmade.xlsx", "sh-final-split.xlsx")

_NUMBER = rb'(<c r="[B-Z][A-Z]*[0-9]+" t="n"><v>)([0-9.]+)(</v></c>)'  # not column A: the 类 codes
_CODE = rb'(<c r="A[0-9]+" t="n"><v>)([0-9]{3})(</v></c>)'
_REF = re.compile(rb'\b([A-Z]{1,3})([0-9]+)\b')


def add_to_number(n: int, delta: str):
    return add_to_input(n, delta, _NUMBER)


def number_as_text(n: int, text: str):
    return text_in_input(n, text, _NUMBER, b' t="n"><v>')


def recode(n: int, code: str):  # the n-th 类 code of a sheet replaced
    return _nth(_CODE, n, lambda m: m.group(1) + code.encode() + m.group(3))


def replace(old: str, new: str, count: int = 1):
    def edit(xml: bytes) -> bytes:
        assert old.encode() in xml, f"the base workbook changed: no {old!r}"
        return xml.replace(old.encode(), new.encode(), count)
    return edit


def move_down(k: int):
    """Everything on the sheet ``k`` rows further down (cells, rows, merged ranges, dimension)."""
    def shift_refs(m: re.Match) -> bytes:
        return _REF.sub(lambda r: r.group(1) + str(int(r.group(2)) + k).encode(), m.group(0))

    def edit(xml: bytes) -> bytes:
        out = re.sub(rb'<row r="([0-9]+)"', lambda m: b'<row r="' + str(int(m.group(1)) + k).encode() + b'"', xml)
        out = re.sub(rb'\b(?:r|ref|sqref)="[^"]*"', shift_refs, out)
        assert out != xml
        return out
    return edit


# mutated copy -> (base, {sheet part: [edits]})
MUTATIONS = {
    "om1-figures.xlsx": ("small-1.xlsx", {
        "xl/worksheets/sheet1.xml": [add_to_number(0, "1.5")],
        "xl/worksheets/sheet3.xml": [add_to_number(4, "0.0000004"), add_to_number(9, "-0.3")],
        "xl/worksheets/sheet6.xml": [add_to_number(2, "7")],
    }),
    "om2-text.xlsx": ("small-3.xlsx", {
        "xl/worksheets/sheet2.xml": [number_as_text(3, "1,234.50"), number_as_text(6, "约五万")],
        "xl/worksheets/sheet5.xml": [number_as_text(1, " 12.5 "), number_as_text(11, "-3")],
    }),
    "om3-missing.xlsx": ("small-1.xlsx", {
        "xl/worksheets/sheet1.xml": [replace("上级一般公共预算安排转移支付", "其他来源收入")],
        "xl/worksheets/sheet4.xml": [replace("财政拨款收支预算总体情况表", "财政拨款收支情况说明")],
        "xl/worksheets/sheet3.xml": [move_down(3), add_to_number(2, "0.5")],
        "xl/worksheets/sheet7.xml": [replace("单位：万元", "单位：元")],
    }),
    "om4-large.xlsx": ("large-2.xlsx", {
        "xl/worksheets/sheet2.xml": [add_to_number(10, "0.01"), move_down(2)],
        "xl/worksheets/sheet3.xml": [recode(5, "299"), add_to_number(5, "3")],
        "xl/worksheets/sheet7.xml": [add_to_number(0, "-1.25")],
    }),
    "om5-handmade.xlsx": ("small-4-handmade.xlsx", {
        "xl/worksheets/sheet3.xml": [replace("142.74", "142.7x"), move_down(1)],
        "xl/worksheets/sheet5.xml": [add_to_number(1, "2")],
    }),
    "om6-no-titles.xlsx": ("small-4-onesheet.xlsx", {  # no title left: the layout is unknown
        "xl/worksheets/sheet1.xml": [replace("表</t>", "</t>", -1)],
    }),
}


@pytest.fixture(scope="module")
def submissions(tmp_path_factory) -> list[Path]:
    yield from golden_submissions(tmp_path_factory.mktemp("stable-official"), DATA, BASES, MUTATIONS)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_identical_to_golden(submissions, lang):
    got = report_json(submissions, lang)
    assert_golden(got, DATA / f"report-{lang}.json.xz", f"the {lang} report")


def test_golden_reports_hold_what_official_reading_finds():
    """The goldens are worth comparing: every base read as an official workbook, and the mutations raise
    errors, reading notes and findings at moved cells."""
    data, kinds = golden_kinds(DATA, BASES, MUTATIONS)
    assert {"table-missing", "input-not-number", "input-text-number", "negative-amount", "unit-converted",
            "excess-digits", "row-unplaced", "layout-unknown", "rounding-residue"} <= kinds


@pytest.mark.parametrize("name", ["large-2.xlsx", "sh-budget-handmade.xlsx", "sh-final-split.xlsx"])
def test_rules_over_tables_the_workbook_lacks_are_not_run(name):
    """A rule instance over a table an official workbook does not carry is skipped: everything it would find
    is of that table, and the check drops it (computed here with the tables taken as present)."""
    from xlbudget.check import _in_the_workbook
    from xlbudget.reader import read_workbook
    from xlbudget.rules import Context, run_rules

    budget = read_workbook(DATA / name).budget
    absent = budget.absent_tables
    assert absent, "the workbook carries every table of its set"
    skipped = _in_the_workbook(budget, run_rules(budget, Context(budget)))
    budget.absent_tables = frozenset()
    everything = run_rules(budget, Context(budget))
    budget.absent_tables = absent
    everything = _in_the_workbook(budget, everything)
    # the same findings, but for the codes: they are checked in the tables the workbook carries only, so that a
    # code of a carried table is not dropped with the cells of a table the workbook lacks (see the next test)
    assert [f for f in everything if not f.rule.startswith("CODE.")] == \
        [f for f in skipped if not f.rule.startswith("CODE.")]
    assert [f for f in everything if f.rule.startswith("CODE.")] == \
        [f for f in skipped if f.rule.startswith("CODE.") and f in everything]


@pytest.mark.parametrize("name", ["large-2.xlsx", "sh-budget-handmade.xlsx", "sh-final-split.xlsx"])
def test_no_rule_finds_what_the_check_drops(name):
    """No instance that can only find something of a table the workbook lacks is evaluated at all: of the
    findings the rules make, the check drops none (a comparison that reads a cell of a lacking table, a
    绩效 rule of a lacking project table, a table's own rules)."""
    from xlbudget.check import _in_the_workbook
    from xlbudget.reader import read_workbook
    from xlbudget.rules import Context, run_rules

    budget = read_workbook(DATA / name).budget
    assert budget.absent_tables
    found = run_rules(budget, Context(budget))
    assert [f.rule for f in _in_the_workbook(budget, found)] == [f.rule for f in found]


@pytest.mark.parametrize("name", ["large-2.xlsx", "sh-budget-handmade.xlsx", "sh-final-split.xlsx"])
def test_a_comparison_over_a_lacking_table_is_told_from_its_cells(name):
    """A comparison is passed over exactly when one of the cells it reads (Rule.instance) is a cell of a
    table the workbook lacks: told from its expressions' tables first, the same answer for every instance."""
    from xlbudget.reader import read_workbook
    from xlbudget.rules import Context, rules_for
    from xlbudget.rules.compare import Compare

    budget = read_workbook(DATA / name).budget
    ctx, absent = Context(budget), budget.absent_tables
    told = []
    for rule in rules_for(budget.layout):
        if not isinstance(rule, Compare):
            continue
        for subs in ctx.expand(rule.foreach):
            cells = [cell for side in rule.instance(subs).values() for cell in side]
            want = subs.get("table") in absent or any(
                t in absent and r is not None and ctx.position(t, r, c) is not None for _, t, r, c in cells)
            assert rule.over_absent(ctx, subs, absent) == want, (rule.id, subs)
            told.append(want)
    assert True in told and False in told


def test_a_code_of_a_carried_table_is_reported_though_a_lacking_table_has_it_too():
    """Each code of the department is laid out in several tables, some of which an official workbook may
    lack (here 上年预算数): an unknown code is reported at the cells of the tables the workbook carries,
    never dropped because a table it lacks would have the code as well."""
    from xlbudget.layout import catalogue_for
    from xlbudget.reader import read_workbook
    from xlbudget.rules import Context

    budget = read_workbook(DATA / "large-2.xlsx").budget
    lacking = {budget.layout.tables[t].sheet for t in budget.absent_tables}
    assert "上年预算数" in lacking
    unknown = [f for f in check_budget(budget) if f.rule == "CODE.exists"]
    # every code of 表2 that the (partial) shipped catalogue lacks, each once
    t2 = budget.layout.tables["T2"]
    lacked = {cr.code for cr in coded_rows(Context(budget)) if cr.table is t2 and cr.code not in
              catalogue_for(cr.kind, budget.spec.year)}
    assert len(lacked) >= 20
    assert sorted(f.params["code"] for f in unknown if f.table == "T2") == sorted(lacked)
    for f in unknown:
        assert f.cells and not any(c.split("!")[0] in lacking for c in f.cells), f


def test_cell_map_identical_to_golden(submissions):
    """Where every template cell of each workbook is in the real file (what a finding's cells become) stays
    the same, the whole mapping as well as each cell asked for alone; a cell the workbook does not have is
    not mapped."""
    import json

    from xlbudget.reader import read_workbook

    maps = {}
    for path in submissions:
        budget = read_workbook(path).budget
        if budget is None:  # the layout is unknown: nothing to map
            continue
        whole = dict(budget.cell_map)
        assert {k: budget.cell_map.get(k) for k in whole} == whole
        assert all(k in budget.cell_map for k in whole) and bool(budget.cell_map) == bool(whole)
        for absent in ("表2!ZZ9999", "表2!E09", "没有的表!A1", "E9", ""):
            assert absent not in whole and budget.cell_map.get(absent, "-") == "-"
        maps[path.name] = dict(sorted(whole.items()))
    got = json.dumps(maps, ensure_ascii=False, indent=0) + "\n"
    assert_golden(got, DATA / "cell-maps.json.xz", "the cell maps")
