"""Round trips: a canonical document written into the template and read back is the same document;
next year's template (`template --like`) keeps the rows and carries last year's figures.
"""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlbudget.cli import cli
from xlbudget.layout import layout_for
from xlbudget.model import FORMAT, Budget, canonical, cell_type, load_example, set_path
from xlbudget.reader import read_workbook
from xlbudget.template import fill

SPEC, EXAMPLE_DOC = load_example()
LAYOUT = layout_for(SPEC)
SECTIONS = ("tables", "performance", "facts")
AMOUNT_TABLES = {f"T{i}" for i in range(1, 12)} | {"LY"}


def _input_cells():
    """(path, type) of every input cell of the example's template, split into table amounts and the rest."""
    amounts, others = [], []
    for t, row, col in LAYOUT.cells():
        if LAYOUT.cell_role(t, row, col) != "input":
            continue
        typ = cell_type(row, col)
        path = Budget.input_path(t, row, col)
        if t.desc.id in AMOUNT_TABLES:
            assert typ == "amount", (t.id, row.key, col.key, typ)
            amounts.append((path, typ))
        else:
            others.append((path, typ))
    return amounts, others


AMOUNT_CELLS, OTHER_CELLS = _input_cells()
# form fields (one value each) and 绩效/allocation records (rows of a list): drawn separately, the records
# being far more numerous
FORM_CELLS = [c for c in OTHER_CELLS if not any(isinstance(p, int) for p in c[0])]
RECORD_CELLS = [c for c in OTHER_CELLS if any(isinstance(p, int) for p in c[0])]

# amounts in 万元: >= 0, magnitude < 1e8, up to 6 decimals (the entry precision: 元 and 分)
amounts = st.builds(
    lambda n, k: Decimal(n // 10 ** (6 - k)).scaleb(-k),
    st.integers(min_value=0, max_value=10**14 - 1),
    st.integers(min_value=0, max_value=6),
)

_ALPHABET = "预算项目指标数量质量时效成本效益满意度万元次台套人计划标准按照正常比例赋分工作资料abcXYZ0123456789（）、，。%=＞＜ "
texts = st.text(alphabet=_ALPHABET, min_size=1, max_size=14).map(str.strip).filter(bool)


def _value(typ: str):
    if typ == "amount":
        return amounts
    if typ == "int":
        return st.integers(min_value=0, max_value=100_000)
    if typ == "signed_int":
        return st.integers(min_value=-1000, max_value=1000)
    if typ in ("text", "longtext"):
        return texts
    if typ == "lines":
        return st.lists(texts, min_size=1, max_size=4)
    if typ == "mapping":
        return st.dictionaries(st.sampled_from(["201", "208", "210", "221"]), texts, min_size=1, max_size=3)
    raise AssertionError(typ)


def _entries(cells, max_size: int):
    entry = st.sampled_from(cells).flatmap(lambda cell: st.tuples(st.just(cell[0]), _value(cell[1])))
    return st.lists(entry, max_size=max_size, unique_by=lambda e: e[0])


@st.composite
def documents(draw):
    doc = {"format": FORMAT, "spec": SPEC.to_dict(), "tables": {}, "performance": {}, "facts": {}}
    entries = draw(_entries(AMOUNT_CELLS, 80)) + draw(_entries(FORM_CELLS, 25)) + draw(_entries(RECORD_CELLS, 30))
    for path, value in entries:
        set_path(doc, list(path), value)
    return doc


def test_input_cells_cover_every_kind():
    assert len(AMOUNT_CELLS) > 200
    assert {p[0][1] for p in AMOUNT_CELLS} == {"T1", "T2", "T3", "T5", "T6", "T7", "T10", "LY"}
    kinds = {typ for _, typ in OTHER_CELLS}
    assert {"amount", "int", "signed_int", "text", "longtext", "lines", "mapping"} <= kinds
    assert any(p[0] == "performance" and "indicators" in p for p, _ in RECORD_CELLS)
    assert {typ for _, typ in FORM_CELLS} >= {"amount", "int", "signed_int", "text", "longtext", "lines", "mapping"}
    assert {typ for _, typ in RECORD_CELLS} == {"amount", "int", "text"}


def _roundtrip(doc: dict) -> dict:
    with tempfile.TemporaryDirectory() as d:
        out = fill(doc, Path(d) / "filled.xlsx", SPEC)
        res = read_workbook(out)
    assert res.ok, [f.message() for f in res.findings]
    errors = [f.message() for f in res.findings if f.severity.value == "error"]
    assert not errors, errors
    return res.budget.doc


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(documents())
def test_fill_then_read_gives_the_same_document(doc):
    back = _roundtrip(doc)
    want = canonical({k: doc.get(k) for k in SECTIONS})
    got = canonical({k: back.get(k) for k in SECTIONS})
    assert got == want


def test_example_document_roundtrips():
    back = _roundtrip(EXAMPLE_DOC)
    assert canonical({k: back.get(k) for k in SECTIONS}) == canonical({k: EXAMPLE_DOC.get(k) for k in SECTIONS})


def test_extreme_amounts_roundtrip():
    """The largest amount below 1e8 with 6 decimals, the smallest one, and a value float sums get wrong."""
    doc = {"format": FORMAT, "spec": SPEC.to_dict(), "tables": {
        "T2": {"2014101": {"gp": Decimal("99999999.999999"), "unit": Decimal("0.000001")},
               "2014150": {"gp": Decimal("0.1"), "special": Decimal("0.2")}},
        "T6": {"30101": {"personnel": Decimal("12345678.123457")}},
        "LY": {"gp": {"value": Decimal("417.374")}},
    }}
    back = _roundtrip(doc)
    assert canonical(back["tables"]) == canonical(doc["tables"])


# ---------------------------------------------------------------------------------------------
# next year's template
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def next_year(tmp_path_factory):
    d = tmp_path_factory.mktemp("like")
    last = fill(EXAMPLE_DOC, d / "2025.xlsx", SPEC)
    out = d / "2026.xlsx"
    res = CliRunner().invoke(cli, ["template", "--like", str(last), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert out.is_file()
    return last, out


LAST_YEAR = {  # 上年预算数 row -> (exact, published), from the 2025 tables
    "income_total": ("417.374", "417.37"),
    "gp": ("417.374", "417.37"),
    "basic": ("186.634", "186.63"),
    "project": ("230.74", "230.74"),
    "gp_basic": ("186.634", "186.63"),
    "gp_project": ("230.74", "230.74"),
    "personnel": ("180.452", "180.45"),
    "operating": ("6.182", "6.18"),
    "sangong": ("3.1", "3.10"),
    "reception": ("0.8", "0.80"),
    "vehicle_operation": ("2.3", "2.30"),
    "operating_costs": ("6.18", "6.18"),
}

LAST_YEAR_FUNCTIONS = {
    "gp_total": "417.37", "201": "373.03", "20141": "373.03", "2014101": "54.81", "2014150": "87.48",
    "2014199": "230.74", "208": "18.38", "2080505": "18.38", "210": "11.04", "2101101": "3.62",
    "2101102": "6.15", "2101103": "1.28", "221": "14.92", "2210201": "14.92",
}


def test_next_year_keeps_the_rows(next_year):
    _, out = next_year
    res = read_workbook(out)
    assert res.ok, [f.message() for f in res.findings]
    assert [f.message() for f in res.findings if f.severity.value == "error"] == []
    spec = res.budget.spec
    assert spec.year == SPEC.year + 1 == 2026
    assert spec.department == SPEC.department
    assert (spec.functions, spec.economic, spec.projects) == (SPEC.functions, SPEC.economic, SPEC.projects)
    new = layout_for(spec)
    for tid, t in LAYOUT.tables.items():
        assert tid in new.tables
        assert list(new.tables[tid].rows) == list(t.rows), tid
        assert [r.r for r in new.tables[tid].rows.values()] == [r.r for r in t.rows.values()], tid
    # the sheets show the same coded rows
    wb = openpyxl.load_workbook(out, data_only=True)
    t6 = new.table("T6")
    r, c = t6.pos("30101", "name")
    assert wb[t6.sheet].cell(row=r + 1, column=c + 1).value == "基本工资"
    t7 = new.table("T7")
    r, c = t7.pos("p6", "project")
    assert wb[t7.sheet].cell(row=r + 1, column=c + 1).value == "克州 12345 政务服务便民热线经费项目"


def test_next_year_carries_last_years_figures(next_year):
    _, out = next_year
    b = read_workbook(out).budget
    for row, (exact, published) in LAST_YEAR.items():
        assert b.value("LY", row, "value") == Decimal(exact), row
        assert b.published("LY", row, "value") == Decimal(published), row
    for row in ("fund", "soe", "special", "unit", "carry", "abroad", "vehicle_purchase"):
        assert (b.value("LY", row, "value") or Decimal(0)) == 0, row
    for row, published in LAST_YEAR_FUNCTIONS.items():
        assert b.published("LY", row, "last_year") == Decimal(published), row
    # the figures are in the 上年预算数 sheet itself, with their cached totals
    wb = openpyxl.load_workbook(out, data_only=True)
    ly = layout_for(b.spec).table("LY")
    assert ly.sheet == "上年预算数"
    for row, col, want in (("gp", "value", 417.374), ("income_total", "value", 417.374), ("sangong", "value", 3.1),
                           ("2014101", "last_year", 54.812), ("gp_total", "last_year", 417.374)):
        r, c = ly.pos(row, col)
        v = wb[ly.sheet].cell(row=r + 1, column=c + 1).value
        assert isinstance(v, (int, float)) and abs(v - want) < 1e-9, (row, v)


def test_next_year_starts_with_empty_tables(next_year):
    _, out = next_year
    b = read_workbook(out).budget
    assert set(canonical(b.doc.get("tables") or {})) == {"LY"}
    for tid, row, col in (("T2", "total", "total"), ("T6", "total", "total"), ("T7", "total", "total"),
                          ("T10", "total", "total")):
        assert (b.value(tid, row, col) or Decimal(0)) == 0
    assert canonical(b.doc.get("performance") or {}) == {}
    # the department's standing facts come along
    assert b.doc["facts"]["overview"]["establishment"] == 33
