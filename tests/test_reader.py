"""Reading filled workbooks back: the CLI's JSON and CSV, integrity findings after real-world edits,
tolerant parsing of typed numbers, and malformed or hostile files.

Edits are made the way departments make them: re-saving with openpyxl (formulas kept, or values only),
typing over a total, removing a sheet's protection, deleting a sheet; the XML is edited directly only
to fake what no spreadsheet program writes (a stale cached value).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import random
import re
import struct
import time
import warnings
import zipfile
from decimal import Decimal
from importlib import resources
from pathlib import Path

import jsonschema
import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.utils import get_column_letter

from xlbudget.cli import cli
from xlbudget.layout import layout_for
from xlbudget.model import load_example
from xlbudget.reader import read_workbook

DEPARTMENT = "克孜勒苏柯尔克孜自治州数字化发展局"
PROJECTS = [
    ("p1", "克州电子政务外网专项运维费项目", "62.40"),
    ("p2", "克州数字政府工作业务经费项目", "10.00"),
    ("p3", "克州政务服务大厅维保经费项目", "30.00"),
    ("p4", "克州数字化发展局公车购置项目", "20.00"),
    ("p5", "克州政务服务和数字化发展中心业务经费项目", "7.00"),
    ("p6", "克州 12345 政务服务便民热线经费项目", "101.34"),
]


# ---------------------------------------------------------------------------------------------
# fixtures and helpers
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "xlbudget-demo"
    res = CliRunner().invoke(cli, ["demo", str(out)])
    return out, res


@pytest.fixture(scope="module")
def demo(demo_run) -> Path:
    """The demo's folder: its template.xlsx and filled.xlsx are written first, whatever follows."""
    out, res = demo_run
    assert (out / "template.xlsx").is_file() and (out / "filled.xlsx").is_file(), res.output
    return out


@pytest.fixture(scope="module")
def filled(demo) -> Path:
    return demo / "filled.xlsx"


@pytest.fixture(scope="module")
def layout():
    spec, _ = load_example()
    return layout_for(spec)


@pytest.fixture(scope="module")
def schema() -> dict:
    text = resources.files("xlbudget").joinpath("schemas/read.schema.json").read_text(encoding="utf-8")
    s = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(s)
    return s


def run_read(path, *args):
    return CliRunner().invoke(cli, ["read", str(path), *args])


def read_json(path) -> dict:
    res = run_read(path)
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)


def table(doc: dict, tid: str) -> dict:
    return next(t for t in doc["tables"] if t["id"] == tid)


def figures(doc: dict, tid: str, row: str) -> dict:
    return next(r for r in table(doc, tid)["rows"] if r["key"] == row)["figures"]


def cell_rc(layout, tid: str, row: str, col: str) -> tuple[int, int]:
    """1-based (row, column) of a cell, for openpyxl."""
    r, c = layout.table(tid).pos(row, col)
    return r + 1, c + 1


def kinds(result) -> list[str]:
    return [f.kind for f in result.findings]


def by_kind(result, kind: str) -> list:
    return [f for f in result.findings if f.kind == kind]


def rezip(data: bytes, replace: dict | None = None, drop: tuple = (), add: dict | None = None) -> bytes:
    """Rewrite a zip: replace members (bytes or a function of the old bytes), drop some, add others."""
    replace = replace or {}
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            if info.filename in drop:
                continue
            content = src.read(info.filename)
            if info.filename in replace:
                new = replace[info.filename]
                content = new(content) if callable(new) else new
            z.writestr(info.filename, content)
        for name, content in (add or {}).items():
            z.writestr(name, content)
    return out.getvalue()


def sheet_part(data: bytes, sheet: str) -> str:
    z = zipfile.ZipFile(io.BytesIO(data))
    wb = z.read("xl/workbook.xml").decode()
    rid = re.search(rf'<sheet name="{re.escape(sheet)}"[^>]*r:id="([^"]+)"', wb).group(1)
    rels = z.read("xl/_rels/workbook.xml.rels").decode()
    target = re.search(rf'<Relationship Id="{rid}"[^>]*Target="([^"]+)"', rels).group(1)
    return "xl/" + target.lstrip("/").removeprefix("xl/")


# ---------------------------------------------------------------------------------------------
# the demo's filled workbook through the CLI
# ---------------------------------------------------------------------------------------------


def test_demo_command_succeeds(demo_run):
    out, res = demo_run
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert res.exit_code == 0, res.output
    assert "filled.xlsx" in res.output


def test_read_demo_json(filled):
    doc = read_json(filled)
    assert doc["format"] == "xlbudget/read@1"
    assert doc["meta"]["tableset"] == "xj11"
    assert doc["meta"]["department"] == DEPARTMENT and doc["meta"]["year"] == 2025
    assert doc["unit"] == "万元"
    assert [f for f in doc["findings"] if f["severity"] == "error"] == []
    assert figures(doc, "T1", "in_total")["amount"] == "417.37"
    assert figures(doc, "T1", "in_total")["amount@exact"] == "417.374"
    assert figures(doc, "T1", "out_total")["amount"] == "417.37"
    assert figures(doc, "T6", "total")["personnel"] == "180.45"
    assert figures(doc, "T6", "total")["operating"] == "6.18"
    assert figures(doc, "T6", "total")["total"] == "186.63"
    t7 = [r for r in table(doc, "T7")["rows"] if r.get("project")]
    assert [(r["project"], r["project_name"], r["figures"]["total"]) for r in t7] == PROJECTS
    assert all(r["code"] == "2014199" for r in t7)
    assert [(p["key"], p["name"], p["total"]) for p in doc["projects"]] == PROJECTS
    assert figures(doc, "T7", "total")["total"] == "230.74"
    assert figures(doc, "T7", "p4")["e309"] == "18.00"
    assert doc["inputs"]["tables"]["T6"]["30101"]["personnel"] == "42.786"
    assert [i["weight"] for i in doc["performance"]["department"]["indicators"]] == [20, 20, 15, 15, 20]
    assert doc["facts"]["procurement"]["goods"] in ("21.44", 21.44)


def test_read_json_validates_against_the_shipped_schema(filled, schema):
    doc = read_json(filled)
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:20])


def test_schema_rejects_wrong_output(filled, schema):
    """The schema is not a rubber stamp."""
    doc = read_json(filled)
    v = jsonschema.Draft202012Validator(schema)
    broken = json.loads(json.dumps(doc))
    broken["tables"][0]["rows"][0]["figures"]["amount"] = 417.37  # a number, not a decimal string
    assert not v.is_valid(broken)
    broken = json.loads(json.dumps(doc))
    del broken["tables"]
    assert not v.is_valid(broken)
    broken = json.loads(json.dumps(doc))
    broken["findings"] = [{"rule": "X", "kind": "x", "severity": "fatal"}]
    assert not v.is_valid(broken)


def test_sha256_is_the_hash_of_the_file(filled):
    want = hashlib.sha256(filled.read_bytes()).hexdigest()
    assert read_workbook(filled).sha256 == want
    assert read_json(filled)["sha256"] == want


def test_empty_template_json_publishes_project_totals_with_two_decimals(demo):
    doc = read_json(demo / "template.xlsx")
    assert [p["total"] for p in doc["projects"]] == ["0.00"] * 6
    assert figures(doc, "T7", "p1")["total"] == "0.00"


def test_read_csv(filled, layout):
    res = run_read(filled, "--format", "csv")
    assert res.exit_code == 0, res.stderr
    rows = list(csv.reader(io.StringIO(res.stdout)))
    assert rows[0] == ["table", "sheet", "row", "code", "label", "project", "column", "value", "exact", "unit",
                       "position"]
    recs = [dict(zip(rows[0], r)) for r in rows[1:]]
    assert all(len(r) == len(rows[0]) for r in rows)
    t1 = [r for r in recs if r["table"] == "T1" and r["row"] == "in_total" and r["column"] == "amount"]
    assert len(t1) == 1
    r = t1[0]
    assert r["sheet"] == "表1" and r["value"] == "417.37" and r["exact"] == "417.374" and r["unit"] == "万元"
    assert r["position"] == layout.position("T1", "in_total", "amount")
    p6 = [r for r in recs if r["table"] == "T7" and r["row"] == "p6" and r["column"] == "total"]
    assert p6 and p6[0]["project"] == "克州 12345 政务服务便民热线经费项目" and p6[0]["value"] == "101.34"
    assert p6[0]["code"] == "2014199"
    personnel = [r for r in recs if r["table"] == "T6" and r["row"] == "total" and r["column"] == "personnel"]
    assert personnel[0]["value"] == "180.45" and personnel[0]["position"] == layout.position("T6", "total", "personnel")


def test_read_output_option_writes_the_file(filled, tmp_path):
    out = tmp_path / "read.json"
    res = run_read(filled, "-o", str(out))
    assert res.exit_code == 0
    assert res.stdout == ""
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert figures(doc, "T1", "in_total")["amount"] == "417.37"


def test_reading_leaves_the_file_untouched(filled, tmp_path):
    before = (filled.read_bytes(), filled.stat().st_mtime_ns)
    time.sleep(0.01)
    read_workbook(filled)
    run_read(filled)
    run_read(filled, "--format", "csv", "-o", str(tmp_path / "x.csv"))
    assert (filled.read_bytes(), filled.stat().st_mtime_ns) == before
    assert sorted(p.name for p in filled.parent.iterdir() if p.name.startswith((".~lock", ".xlbudget"))) == []


# ---------------------------------------------------------------------------------------------
# re-saved and edited workbooks
# ---------------------------------------------------------------------------------------------

OLD_30101 = Decimal("42.786")
NEW_30101 = Decimal("50")
DELTA = NEW_30101 - OLD_30101


@pytest.fixture(scope="module")
def resaved_with_formulas(filled, layout, tmp_path_factory) -> Path:
    wb = openpyxl.load_workbook(filled)
    wb["表6"].cell(*cell_rc(layout, "T6", "30101", "personnel")).value = float(NEW_30101)
    out = tmp_path_factory.mktemp("a") / "a.xlsx"
    wb.save(out)
    return out


@pytest.fixture(scope="module")
def resaved_values_only(filled, layout, tmp_path_factory) -> Path:
    wb = openpyxl.load_workbook(filled, data_only=True)
    wb["表6"].cell(*cell_rc(layout, "T6", "30101", "personnel")).value = float(NEW_30101)
    out = tmp_path_factory.mktemp("b") / "b.xlsx"
    wb.save(out)
    return out


def test_resaved_with_formulas_recomputes_totals(resaved_with_formulas):
    res = read_workbook(resaved_with_formulas)
    assert res.ok
    assert [f for f in res.findings if f.severity.value == "error"] == []
    b = res.budget
    assert b.value("T6", "30101", "personnel") == NEW_30101
    assert b.value("T6", "301", "personnel") == Decimal("180.432") + DELTA
    assert b.value("T6", "total", "personnel") == Decimal("180.452") + DELTA
    assert b.value("T6", "total", "total") == Decimal("186.634") + DELTA
    assert b.value("T6", "30101", "total") == NEW_30101
    # untouched figures stay
    assert b.value("T6", "total", "operating") == Decimal("6.182")
    assert b.value("T6", "302", "operating") == Decimal("6.182")
    assert b.value("T1", "in_total", "amount") == Decimal("417.374")
    assert b.value("T5", "total", "basic") == Decimal("186.634")
    doc = read_json(resaved_with_formulas)
    assert figures(doc, "T6", "total")["personnel"] == "187.67"
    assert figures(doc, "T1", "in_total")["amount"] == "417.37"


# formula cells of 表6 that the change of 30101 人员经费 moves: (row, column) -> (stored, recomputed)
MOVED = {
    ("total", "total"): ("186.634", "193.848"),
    ("total", "personnel"): ("180.452", "187.666"),
    ("301", "total"): ("180.432", "187.646"),
    ("301", "personnel"): ("180.432", "187.646"),
    ("30101", "total"): ("42.786", "50"),
}


def test_resaved_values_only_reports_overwritten_totals(resaved_values_only, layout):
    res = read_workbook(resaved_values_only)
    assert res.ok
    b = res.budget
    assert b.value("T6", "30101", "personnel") == NEW_30101
    # the figures the department sees are the constants it saved
    assert b.value("T6", "total", "personnel") == Decimal("180.452")
    over = by_kind(res, "formula-overwritten")
    assert over, kinds(res)
    disagree = {f.cells[0]: f for f in over if f.expected is not None and f.actual is not None
                and Decimal(f.expected) != Decimal(f.actual)}
    want = {layout.position("T6", r, c): v for (r, c), v in MOVED.items()}
    assert set(disagree) == set(want), sorted(disagree)
    for pos, (stored, recomputed) in want.items():
        f = disagree[pos]
        assert f.table == "T6"
        assert f.severity.value == "error"
        assert Decimal(f.actual) == Decimal(stored), (pos, f.actual)
        assert Decimal(f.expected) == Decimal(recomputed), (pos, f.expected)
        assert pos in f.message("zh") and pos in f.message("en")
        assert re.fullmatch(r"表6![A-Z]+[0-9]+", pos)
    # every overwritten total names a formula cell of the layout
    formula_cells = {layout.position(t.id, r.key, c.key) for t, r, c in layout.cells()
                     if layout.cell_role(t, r, c) in ("formula", "sum")}
    assert {f.cells[0] for f in over} <= formula_cells


def test_overwritten_totals_compare_with_the_inputs_wherever_they_sit(filled, layout, tmp_path):
    """A values-only re-save after 表2 2014101 一般公共预算 went from 54.812 to 60: every income total of 表1 and
    表4 still holds 417.374 while the inputs give 422.562, whether the total sits above its parts (本年收入)
    or below them (收入总计)."""
    wb = openpyxl.load_workbook(filled, data_only=True)
    wb["表2"].cell(*cell_rc(layout, "T2", "2014101", "gp")).value = 60.0
    out = tmp_path / "values.xlsx"
    wb.save(out)
    res = read_workbook(out)
    assert res.budget.value("T2", "2014101", "gp") == Decimal("60")
    found = {f.cells[0]: f for f in by_kind(res, "formula-overwritten")}
    for tid, row in (("T1", "in_current"), ("T1", "in_gp"), ("T1", "in_total"), ("T4", "in_fiscal"),
                     ("T4", "in_total")):
        pos = layout.position(tid, row, "amount")
        assert pos in found, pos
        assert Decimal(found[pos].actual) == Decimal("417.374"), pos
        assert Decimal(found[pos].expected) == Decimal("422.562"), f"{pos}: expected {found[pos].expected}"


def test_formula_text_changed(filled, layout, tmp_path):
    wb = openpyxl.load_workbook(filled)
    r, c = cell_rc(layout, "T6", "total", "personnel")
    below = get_column_letter(c) + str(r + 1)
    wb["表6"].cell(r, c).value = f"={below}"
    out = tmp_path / "changed.xlsx"
    wb.save(out)
    res = read_workbook(out)
    changed = by_kind(res, "formula-changed")
    assert [f.cells for f in changed] == [(layout.position("T6", "total", "personnel"),)]
    assert changed[0].params["found"] == below
    assert changed[0].severity.value == "error"
    # the figure is still the layout's total of the inputs
    assert res.budget.value("T6", "total", "personnel") == Decimal("180.452")


def test_sheet_unprotected(filled, tmp_path):
    wb = openpyxl.load_workbook(filled)
    wb["表10"].protection.sheet = False
    out = tmp_path / "unprotected.xlsx"
    wb.save(out)
    res = read_workbook(out)
    found = by_kind(res, "sheet-unprotected")
    assert [(f.table, f.params.get("sheet")) for f in found] == [("T10", "表10")]
    assert res.budget.value("T10", "total", "total") == Decimal("3.1")


def test_sheet_deleted(filled, tmp_path):
    wb = openpyxl.load_workbook(filled)
    del wb["表10"]
    out = tmp_path / "deleted.xlsx"
    wb.save(out)
    res = read_workbook(out)
    assert res.ok
    missing = by_kind(res, "sheet-missing")
    assert [(f.table, f.params.get("sheet")) for f in missing] == [("T10", "表10")]
    assert missing[0].severity.value == "error"
    b = res.budget
    assert b.value("T10", "reception", "gp") is None
    assert b.value("T1", "in_total", "amount") == Decimal("417.374")
    assert b.value("T6", "total", "personnel") == Decimal("180.452")
    assert [b.value("T7", p, "total") for p, _, _ in PROJECTS] == [Decimal(v) for _, _, v in PROJECTS]
    res_cli = run_read(out)
    assert res_cli.exit_code == 0
    assert "表10" in res_cli.stderr


def test_cached_value_tampered(filled, layout, tmp_path):
    data = filled.read_bytes()
    part = sheet_part(data, "表6")
    r, c = layout.table("T6").pos("total", "personnel")
    coord = get_column_letter(c + 1) + str(r + 1)

    def tamper(xml: bytes) -> bytes:
        text, n = re.subn(rf'(<c r="{coord}"[^>]*>\s*<f>[^<]*</f>\s*<v>)[^<]*(</v>)', r"\g<1>999\g<2>", xml.decode())
        assert n == 1
        return text.encode()

    out = tmp_path / "stale.xlsx"
    out.write_bytes(rezip(data, replace={part: tamper}))
    res = read_workbook(out)
    stale = by_kind(res, "cached-value-stale")
    assert [f.cells for f in stale] == [(layout.position("T6", "total", "personnel"),)]
    f = stale[0]
    assert Decimal(f.actual) == 999 and Decimal(f.expected) == Decimal("180.452")
    assert Decimal(f.difference) == Decimal("818.548")
    # cached values are evidence, never the figure
    assert res.budget.value("T6", "total", "personnel") == Decimal("180.452")
    assert "formula-overwritten" not in kinds(res)


@pytest.fixture(scope="module")
def typed(filled, layout, tmp_path_factory):
    wb = openpyxl.load_workbook(filled)
    ws = wb["表6"]
    entries = {
        "30101": "１,２３４.５",     # full-width digits with a thousands separator
        "30102": " 12.5 ",           # padded
        "30103": "—",                # a dash: nothing
        "30108": 1.2345678,          # 7 decimals
        "30110": "abc",              # not a number
        "30111": "1,5",              # separator only: 15 (as typed without the comma)
    }
    for code, v in entries.items():
        ws.cell(*cell_rc(layout, "T6", code, "personnel")).value = v
    out = tmp_path_factory.mktemp("typed") / "typed.xlsx"
    wb.save(out)
    return read_workbook(out)


def test_full_width_number_with_separator(typed, layout):
    assert typed.budget.value("T6", "30101", "personnel") == Decimal("1234.5")
    pos = layout.position("T6", "30101", "personnel")
    f = [f for f in by_kind(typed, "input-text-number") if f.cells == (pos,)]
    assert len(f) == 1 and Decimal(f[0].actual) == Decimal("1234.5")
    assert f[0].params["text"] == "１,２３４.５"


def test_padded_number_text(typed, layout):
    assert typed.budget.value("T6", "30102", "personnel") == Decimal("12.5")
    pos = layout.position("T6", "30102", "personnel")
    assert [f.kind for f in typed.findings if pos in f.cells] == ["input-text-number"]


def test_dash_reads_as_empty(typed, layout):
    assert typed.budget.value("T6", "30103", "personnel") is None
    assert typed.budget.value("T6", "30103", "total") in (None, Decimal(0))
    pos = layout.position("T6", "30103", "personnel")
    assert [f.kind for f in typed.findings if pos in f.cells] == []


def test_excess_digits_kept_exactly(typed, layout):
    assert typed.budget.value("T6", "30108", "personnel") == Decimal("1.2345678")
    pos = layout.position("T6", "30108", "personnel")
    f = [f for f in typed.findings if pos in f.cells]
    assert [x.kind for x in f] == ["excess-digits"]
    assert Decimal(f[0].actual) == Decimal("1.2345678")
    assert f[0].severity.value == "warning"


def test_text_that_is_not_a_number(typed, layout):
    assert typed.budget.value("T6", "30110", "personnel") is None
    pos = layout.position("T6", "30110", "personnel")
    f = [f for f in typed.findings if pos in f.cells]
    assert [x.kind for x in f] == ["input-not-number"]
    assert f[0].severity.value == "error"


def test_typed_totals_add_up(typed):
    b = typed.budget
    want = Decimal("1234.5") + Decimal("12.5") + Decimal("1.2345678") + Decimal("15") + Decimal("0.74") + Decimal("14.92")
    assert b.value("T6", "301", "personnel") == want
    assert b.value("T6", "total", "personnel") == want + Decimal("0.02")


# ---------------------------------------------------------------------------------------------
# malformed and hostile files: exit 2, one line on stderr, no traceback, fast
# ---------------------------------------------------------------------------------------------

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _ole2(streams: list[str]) -> bytes:
    """A compound file whose directory names the given streams (all the classifier looks at)."""
    data = bytearray(OLE2 + b"\x3e\x00\x03\x00\xfe\xff\x09\x00" + b"\x00" * (512 - 16))
    for name in streams:
        entry = bytearray(128)
        raw = name.encode("utf-16-le") + b"\x00\x00"
        entry[: len(raw)] = raw
        struct.pack_into("<H", entry, 64, len(raw))
        data += entry
    return bytes(data + b"\x00" * 512)


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in members.items():
            z.writestr(name, content)
    return out.getvalue()


def _flip_member(data: bytes, name: str) -> bytes:
    """Damage the compressed bytes of one member (the directory stays intact)."""
    z = zipfile.ZipFile(io.BytesIO(data))
    info = z.getinfo(name)
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26: info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    buf = bytearray(data)
    for i in range(start + 5, start + min(info.compress_size, 60)):
        buf[i] ^= 0x5A
    return bytes(buf)


def _duplicate_entries(data: bytes) -> bytes:
    out = io.BytesIO(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(out, "a") as z:
            z.writestr("xl/workbook.xml", b"<workbook/>")
    return out.getvalue()


def _many_entries(n: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        z.writestr("[Content_Types].xml", b"<Types/>")
        z.writestr("xl/workbook.xml", b"<workbook/>")
        for i in range(n):
            z.writestr(f"xl/media/f{i}.bin", b"")
    return out.getvalue()


def _plain_workbook() -> bytes:
    wb = openpyxl.Workbook()
    wb.active.title = "表1"
    wb.active["A1"] = "部门收支总体情况表"
    wb.active["B6"] = 417.37
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _edited(filled: Path, edit) -> bytes:
    wb = openpyxl.load_workbook(filled)
    edit(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _strip_identity(wb) -> None:
    from openpyxl.packaging.custom import CustomPropertyList

    del wb["xlbudget"]
    wb.custom_doc_props = CustomPropertyList()


def _break_spec(wb) -> None:
    ws = wb["xlbudget"]
    for row in ws.iter_rows():
        if row[0].value == "spec":
            row[1].value = '{"department": "x", "year": '
            break
    else:  # pragma: no cover
        raise AssertionError("no spec row")


BILLION_LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
                  b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
                  b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
                  b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets>'
                  b'<sheet name="&lol3;" sheetId="1" r:id="rId1" '
                  b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"/></sheets></workbook>')


def _xxe(xml: bytes) -> bytes:
    head = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    body = xml.split(b"?>", 1)[1]
    body = body.replace(b"<sheetData>", b'<sheetData><row r="1"><c r="Z1" t="inlineStr"><is><t>&xxe;</t></is></c></row>', 1)
    return head + b'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + body


def _absurd(xml: bytes) -> bytes:
    return xml.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>', 1)


def _bad_encoding(xml: bytes) -> bytes:
    return re.sub(rb'encoding="UTF-8"', b'encoding="x-no-such-encoding"', xml, count=1)


def _undefined_entity(xml: bytes) -> bytes:
    return xml.replace('name="表1"'.encode(), 'name="表1&bogus;"'.encode(), 1)


HOSTILE = {
    "empty": lambda f, d: b"",
    "plain-text": lambda f, d: "这不是工作簿\n417.37\n".encode(),
    "random-bytes": lambda f, d: random.Random(7).randbytes(8192),
    "pdf": lambda f, d: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
    "html-table": lambda f, d: "<html><body><table><tr><td>收入</td><td>417.37</td></tr></table></body></html>".encode(),
    "xml-spreadsheet-2003": lambda f, d: (b'<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-com:'
                                          b'office:spreadsheet"><Worksheet/></Workbook>'),
    "gzip": lambda f, d: gzip.compress(d),
    "legacy-xls": lambda f, d: _ole2(["Root Entry", "Workbook"]),
    "encrypted": lambda f, d: _ole2(["Root Entry", "EncryptionInfo", "EncryptedPackage"]),
    "truncated": lambda f, d: d[: len(d) // 2],
    "truncated-tail": lambda f, d: d[:-10],
    "no-workbook-part": lambda f, d: rezip(d, drop=("xl/workbook.xml",)),
    "nested-archive": lambda f, d: _zip({"报送/填报表.xlsx": d}),
    "ods": lambda f, d: _zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"}),
    "docx": lambda f, d: _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}),
    "zip-bomb": lambda f, d: rezip(d, add={"xl/media/pad.bin": b"\x00" * (8 * 1024 * 1024)}),
    "damaged-member": lambda f, d: _flip_member(d, "xl/workbook.xml"),
    "duplicate-entries": lambda f, d: _duplicate_entries(d),
    "too-many-entries": lambda f, d: _many_entries(10_050),
    "billion-laughs": lambda f, d: rezip(d, replace={"xl/workbook.xml": BILLION_LAUGHS}),
    "external-entity-in-sheet": lambda f, d: rezip(d, replace={sheet_part(d, "表1"): _xxe}),
    "workbook-xml-cut": lambda f, d: rezip(d, replace={"xl/workbook.xml": lambda x: x[: len(x) // 2]}),
    "sheet-xml-cut": lambda f, d: rezip(d, replace={sheet_part(d, "表1"): lambda x: x[: len(x) // 2]}),
    "absurd-dimensions": lambda f, d: rezip(d, replace={sheet_part(d, "表1"): _absurd}),
    "unknown-encoding": lambda f, d: rezip(d, replace={sheet_part(d, "表1"): _bad_encoding}),
    "undefined-entity": lambda f, d: rezip(d, replace={"xl/workbook.xml": _undefined_entity}),
    "sheet-part-missing": lambda f, d: rezip(d, drop=(sheet_part(d, "表1"),)),
    "not-a-template": lambda f, d: _plain_workbook(),
    "embedded-spec-broken": lambda f, d: _edited(f, _break_spec),
    "unknown-tableset": lambda f, d: rezip(d, replace={"docProps/custom.xml": lambda x: x.replace(b">xj11<", b">zz99<")}),
}


@pytest.fixture(scope="module")
def corpus(filled, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    data = filled.read_bytes()
    out = {}
    for name, build in HOSTILE.items():
        p = folder / f"{name}.xlsx"
        p.write_bytes(build(filled, data))
        out[name] = p
    out["does-not-exist"] = folder / "missing.xlsx"
    return out


def test_corpus_is_large_enough():
    assert len(HOSTILE) + 1 >= 20


@pytest.mark.parametrize("name", sorted(HOSTILE) + ["does-not-exist"])
def test_hostile_file_is_refused_cleanly(name, corpus):
    path = corpus[name]
    before = (path.read_bytes(), path.stat().st_mtime_ns) if path.exists() else None
    start = time.monotonic()
    res = run_read(path)
    elapsed = time.monotonic() - start
    assert res.exit_code == 2, f"{name}: exit {res.exit_code}\n{res.output}"
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Traceback" not in res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, f"{name}: stderr has {len(lines)} lines: {res.stderr!r}"
    assert lines[0].startswith("[错误]"), lines[0]
    assert res.stdout == ""
    assert elapsed < 2.0, f"{name}: {elapsed:.2f} s"
    if before is not None:
        assert (path.read_bytes(), path.stat().st_mtime_ns) == before


# The raw reader's own corpus (tests/test_hostile.py), run through the command line with its default limits.
try:
    from test_hostile import CORPUS as RAW_CORPUS
except ImportError:  # pragma: no cover - that module is optional here
    RAW_CORPUS = {}


@pytest.mark.parametrize("case", sorted(RAW_CORPUS))
def test_raw_corpus_through_the_command_line(case, tmp_path):
    build = RAW_CORPUS[case][0]
    path = build(tmp_path)
    start = time.monotonic()
    res = run_read(path)
    elapsed = time.monotonic() - start
    assert res.exit_code == 2, f"{case}: exit {res.exit_code}\n{res.output}"
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Traceback" not in res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    # one line saying why; a file with macros also gets its one-line warning
    errors = [ln for ln in lines if ln.startswith("[错误]")]
    assert len(errors) == 1 and all(ln.startswith(("[错误]", "[警告]")) for ln in lines), \
        f"{case}: stderr {res.stderr!r}"
    assert len(lines) == 1 or case.startswith("macro"), f"{case}: stderr {res.stderr!r}"
    assert res.stdout == ""
    assert elapsed < 2.0, f"{case}: {elapsed:.2f} s"


@pytest.mark.parametrize("name", ["zip-bomb", "billion-laughs", "external-entity-in-sheet", "encrypted", "legacy-xls",
                                  "nested-archive", "truncated", "absurd-dimensions", "not-a-template"])
def test_hostile_file_gets_a_specific_reason(name, corpus):
    res = read_workbook(corpus[name])
    assert res.budget is None
    assert len(res.findings) == 1
    f = res.findings[0]
    rule = {"zip-bomb": "READ.zip-bomb", "billion-laughs": "READ.xml-entities",
            "external-entity-in-sheet": "READ.xml-entities", "encrypted": "READ.encrypted",
            "legacy-xls": "READ.legacy-xls", "nested-archive": "READ.nested-archive",
            "truncated": "READ.truncated-zip", "absurd-dimensions": "READ.absurd-dimensions",
            "not-a-template": "READ.layout-unknown"}[name]
    assert f.rule == rule, (f.rule, f.message())
    assert "\n" not in f.message("zh") and "\n" not in f.message("en")
    assert f.message("en") and f.message("en") != f.message("zh")
