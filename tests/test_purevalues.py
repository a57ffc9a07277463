"""Cell values read in Python (xlbudget.io.purevalues) against calamine's, sheet by sheet.

Every workbook here is read twice: the usual way (sheets in the usual form read in Python, the others by
calamine) and with calamine for every sheet. The values dicts must be the same: keys, Python types and
values (-0.0 and NaN included); a sheet calamine refuses must be refused the same way. Tests also check
that the Python path is taken where it should be (else the comparison proves nothing) and declined where
calamine's reading is not followed (dates, runs of odd syntax, repeated cells).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import random
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostile.generate import base_workbook, mutate, variants
from xlbudget.io import isolate, purevalues, rawxlsx
from xlbudget.io.errors import WorkbookError
from xlbudget.io.rawxlsx import RawWorkbook

DATA = Path(__file__).parent / "data"


# --------------------------------------------------------------------------
# Reading both ways.
# --------------------------------------------------------------------------


def _read(data: bytes, pure: bool) -> tuple[dict[str, object], set[str]]:
    saved = rawxlsx.PURE_VALUES
    rawxlsx.PURE_VALUES = pure
    try:
        try:
            wb = RawWorkbook.from_bytes(data, name="book.xlsx")
        except WorkbookError as exc:
            return {"": (exc.code, str(exc))}, set()
        out: dict[str, object] = {}
        for name in wb.sheet_names:
            try:
                out[name] = wb.sheet(name).values
            except WorkbookError as exc:
                out[name] = (exc.code, str(exc))
        return out, wb.pure_sheets
    finally:
        rawxlsx.PURE_VALUES = saved


def _same_value(a: object, b: object) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        if math.isnan(a):
            return math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return a == b


def assert_same_as_calamine(data: bytes) -> set[str]:
    """Both readings agree on every sheet; returns the sheets read in Python."""
    pure, pure_sheets = _read(data, True)
    native, none = _read(data, False)
    assert not none
    assert pure.keys() == native.keys()
    for name, got in pure.items():
        want = native[name]
        if isinstance(want, dict) and isinstance(got, dict):
            assert got.keys() == want.keys(), name
            bad = [k for k in got if not _same_value(got[k], want[k])]
            assert not bad, (name, [(k, got[k], want[k]) for k in bad[:5]])
            assert list(got) == list(want), name  # the same order too
        else:
            assert got == want, name
    return pure_sheets


def _book(cells: bytes, shared: bytes = b"", styles: bytes | None = None, rows: bool = True,
          sheet_head: bytes = b"", sheet_tail: bytes = b"") -> bytes:
    """A minimal workbook: one sheet "S" whose sheetData holds ``cells`` (in row 1 unless ``rows`` is False)."""
    if styles is None:
        styles = STYLES
    data = b"<row r=\"1\">" + cells + b"</row>" if rows else cells
    sheet = (b'<?xml version="1.0" encoding="UTF-8"?>'
             b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' + sheet_head
             + b"<sheetData>" + data + b"</sheetData>" + sheet_tail + b"</worksheet>")
    parts = {
        "[Content_Types].xml": b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": sheet,
        "xl/sharedStrings.xml": b'<?xml version="1.0" encoding="UTF-8"?>'
                                b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                                + shared + b"</sst>",
        "xl/styles.xml": styles,
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, part in parts.items():
            z.writestr(name, part)
    return buf.getvalue()


# s="0" General, "1" a date, "2" money, "3" a time span, "4" text, "5" a colour and a condition, "6" a date in
# Chinese, "7" an unknown built-in format, "8" CJK built-in date.
STYLES = ('<?xml version="1.0" encoding="UTF-8"?>'
          '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="4">'
          '<numFmt numFmtId="164" formatCode="#,##0.00;-#,##0.00;&quot;&quot;;@"/>'
          '<numFmt numFmtId="165" formatCode="[h]:mm"/>'
          '<numFmt numFmtId="166" formatCode="[Red][&lt;=100]0.00_ ;\\(0.00\\)"/>'
          '<numFmt numFmtId="167" formatCode="yyyy&quot;年&quot;m&quot;月&quot;"/>'
          '</numFmts><cellXfs count="9"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/>'
          '<xf numFmtId="165"/><xf numFmtId="49"/><xf numFmtId="166"/><xf numFmtId="167"/><xf numFmtId="60"/>'
          '<xf numFmtId="31"/></cellXfs></styleSheet>').encode()
PLAIN_STYLES = (True, False, True, False, True, True, False, False, False)

SHARED = ('<si><t>a&amp;b&lt;c&gt;</t></si>'                                   # 0
          '<si><t>  sp  </t></si>'                                             # 1 (trimmed by calamine)
          '<si><t xml:space="preserve">  sp\u3000</t></si>'                    # 2
          '<si><r><rPr><b/><sz val="11"/></rPr><t>x</t></r><r><t xml:space="preserve"> y</t></r>'
          '<rPh sb="0" eb="1"><t>PH</t></rPh><phoneticPr fontId="1"/></si>'   # 3
          '<si><t>a_x000D_b</t></si>'                                          # 4
          '<si/>'                                                              # 5
          '<si><t/></si>'                                                      # 6
          '<si><t>中文\n第二行</t></si>'                                        # 7
          '<si><t>&#20013;&#x6587;</t></si>').encode()                         # 8
# The same table without what the Python reading leaves to calamine (outer spaces it trims, an escape).
CLEAN_SHARED = SHARED.replace(b"<si><t>a_x000D_b</t></si>", b"<si><t>ab</t></si>").replace(
    b"<si><t>  sp  </t></si>", b"<si><t>sp</t></si>")


# --------------------------------------------------------------------------
# Workbooks of the suite and its generators.
# --------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(DATA.rglob("*.xlsx")), ids=lambda p: p.name)
def test_kept_workbooks_are_read_in_python_as_calamine_reads_them(path: Path) -> None:
    data = path.read_bytes()
    pure = assert_same_as_calamine(data)
    names = RawWorkbook.from_bytes(data).sheet_names
    assert pure == set(names)  # our templates and the official layouts: every sheet in the usual form


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> Path:
    return base_workbook(tmp_path_factory.mktemp("filled"))


def test_filled_template_and_its_openpyxl_variants(filled: Path, tmp_path: Path) -> None:
    assert assert_same_as_calamine(filled.read_bytes()) == set(RawWorkbook.open(filled).sheet_names)
    for path in variants(filled, tmp_path / "variants", random.Random(14), 3):
        pure = assert_same_as_calamine(path.read_bytes())
        assert pure, path.name  # openpyxl's form (inline strings, "<v />") is read in Python too


def test_structural_mutations(filled: Path, tmp_path: Path) -> None:
    rng = random.Random(1414)
    pure_sheets = 0
    for i in range(60):
        path, _ = mutate(filled, tmp_path / f"m{i}.xlsx", rng)
        pure_sheets += len(assert_same_as_calamine(path.read_bytes()))
    assert pure_sheets > 100


def test_official_generator_workbooks(tmp_path: Path) -> None:
    from officialgen import ARRANGEMENTS, write_official
    from xlbudget.model import budget_from_document, load_example

    spec, doc = load_example("sh-budget")
    budget = budget_from_document(doc, spec)
    for arrangement in ARRANGEMENTS:
        path = write_official(budget, tmp_path / f"{arrangement}.xlsx", arrangement)
        assert assert_same_as_calamine(path.read_bytes()) == set(RawWorkbook.open(path).sheet_names)


@pytest.mark.libreoffice
def test_libreoffice_written_workbook(soffice, filled: Path, tmp_path: Path) -> None:
    from xlbudget import libreoffice

    out = libreoffice.convert(filled, tmp_path / "lo", "xlsx", recalc=True)
    assert assert_same_as_calamine(out.read_bytes()) == set(RawWorkbook.open(out).sheet_names)


NUMBERS = [0, 1, -1, 0.5, 1e-7, -1e-7, 1e20, 1.5e300, 5e-324, -0.0, 0.1 + 0.2, 2 ** 53 + 1, 2 ** 63, 10 ** 20,
           123456789.123456789, 1 / 3, 99999999999999.99]
TEXTS = ["plain", "a&b<c>\"'", " lead", "trail ", "mid  dle", "line\nbreak", "tab\there", "中文", "=1+1", "1.5",
         "😀", "\u3000全角空格\u3000"]
ESCAPED = "_x000D_ as typed"  # written as _x005F_x000D_: calamine's unescaping is not followed


def test_openpyxl_workbook_of_every_shape(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "plain"
    for i, n in enumerate(NUMBERS, 1):
        ws.cell(i, 1, n)
        ws.cell(i, 2, n).number_format = "#,##0.00"
    for i, text in enumerate(TEXTS, 1):
        ws.cell(i, 3, text)
    ws.cell(1, 4, True)
    ws.cell(2, 4, False)
    ws.cell(3, 4, "#N/A").data_type = "e"
    ws.cell(4, 4, "#DIV/0!").data_type = "e"
    ws.cell(5, 4, "")
    dates = wb.create_sheet("dates")
    dates.cell(1, 1, dt.datetime(2025, 3, 1, 12, 30))
    dates.cell(2, 1, dt.date(2025, 3, 1))
    dates.cell(3, 1, 45000).number_format = "yyyy-mm-dd"
    dates.cell(4, 1, 1.25).number_format = "[h]:mm:ss"
    wb.create_sheet("escaped").cell(1, 1, ESCAPED)
    path = tmp_path / "openpyxl.xlsx"
    wb.save(path)
    assert assert_same_as_calamine(path.read_bytes()) == {"plain"}


@pytest.mark.parametrize("constant_memory", [False, True])
def test_xlsxwriter_workbook_of_every_shape(tmp_path: Path, constant_memory: bool) -> None:
    path = tmp_path / "xlsxwriter.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": constant_memory, "strings_to_numbers": False})
    money = wb.add_format({"num_format": "0.00"})
    ws = wb.add_worksheet("plain")
    for i, n in enumerate(NUMBERS):
        ws.write_number(i, 0, n)
        ws.write_number(i, 1, n, money)
        ws.write_formula(i, 2, f"=A{i + 1}*1", None, n)
    for i, text in enumerate(TEXTS):
        ws.write_string(i, 3, text)
        ws.write_formula(i, 4, f'="{text[:3]}"', None, text)
    ws.write_boolean(0, 5, True)
    ws.write_boolean(1, 5, False)
    ws.write_formula(2, 5, "=1/0", None, "#DIV/0!")
    ws.write_formula(3, 5, "=NA()", None, "#N/A")
    ws.write_formula(4, 5, "=1=1", None, True)
    ws.write_string(5, 5, "")
    ws.write_blank(6, 5, None, money)
    dates = wb.add_worksheet("dates")
    dates.write_datetime(0, 0, dt.datetime(2025, 3, 1, 12, 30), wb.add_format({"num_format": "yyyy-mm-dd hh:mm"}))
    dates.write_number(1, 0, 45000, wb.add_format({"num_format": 14}))
    wb.close()
    assert assert_same_as_calamine(path.read_bytes()) == {"plain"}
    escaped = tmp_path / "escaped.xlsx"
    wb = xlsxwriter.Workbook(str(escaped), {"constant_memory": constant_memory})
    wb.add_worksheet("plain").write_string(0, 0, ESCAPED)
    wb.close()
    assert assert_same_as_calamine(escaped.read_bytes()) == set()


# --------------------------------------------------------------------------
# Cells, shared strings and styles written by hand.
# --------------------------------------------------------------------------

CELLS = [
    # numbers in every spelling
    b'<c r="A1"><v>1</v></c>', b'<c r="A1"><v>-0</v></c>', b'<c r="A1"><v>.5</v></c>', b'<c r="A1"><v>5.</v></c>',
    b'<c r="A1"><v>+5</v></c>', b'<c r="A1"><v>1E-7</v></c>', b'<c r="A1"><v>12345678901234567890</v></c>',
    b'<c r="A1"><v>1e400</v></c>', b'<c r="A1"><v>4e-400</v></c>', b'<c r="A1"><v> 1</v></c>',
    b'<c r="A1"><v>1_0</v></c>', b'<c r="A1"><v>inf</v></c>', b'<c r="A1"><v>NaN</v></c>',
    b'<c r="A1"><v>abc</v></c>', b'<c r="A1"><v>0x10</v></c>', b'<c r="A1" t="n"><v>abc</v></c>',
    b'<c r="A1" t="n"><v>2.5</v></c>', b'<c r="A1"><v></v></c>', b'<c r="A1"><v/></c>', b'<c r="A1"><v /></c>',
    # styles
    b'<c r="A1" s="1"><v>45000.5</v></c>', b'<c r="A1" s="2"><v>45000.5</v></c>', b'<c r="A1" s="3"><v>1.5</v></c>',
    b'<c r="A1" s="4"><v>7</v></c>', b'<c r="A1" s="5"><v>7</v></c>', b'<c r="A1" s="6"><v>45000</v></c>',
    b'<c r="A1" s="7"><v>1</v></c>', b'<c r="A1" s="8"><v>1</v></c>', b'<c r="A1" s="99"><v>1</v></c>',
    b'<c r="A1" s="1" t="s"><v>0</v></c>', b'<c r="A1" s="1"/>', b'<c r="A1" s="x"><v>1</v></c>',
    b'<c r="A1" t="n" s="2"><v>3</v></c>', b'<c r="A1" s="2" s="2"><v>3</v></c>',
    # booleans and errors
    b'<c r="A1" t="b"><v>1</v></c>', b'<c r="A1" t="b"><v>0</v></c>', b'<c r="A1" t="b"><v>true</v></c>',
    b'<c r="A1" t="b"><v>2</v></c>', b'<c r="A1" t="b"><v></v></c>',
    b'<c r="A1" t="e"><v>#DIV/0!</v></c>', b'<c r="A1" t="e"><v>#N/A</v></c>', b'<c r="A1" t="e"><v>#NAME?</v></c>',
    b'<c r="A1" t="e"><v>#NULL!</v></c>', b'<c r="A1" t="e"><v>#NUM!</v></c>', b'<c r="A1" t="e"><v>#REF!</v></c>',
    b'<c r="A1" t="e"><v>#VALUE!</v></c>', b'<c r="A1" t="e"><v>#SPILL!</v></c>', b'<c r="A1" t="e"><v>xx</v></c>',
    b'<c r="A1" t="e"><v></v></c>',
    # formula strings
    b'<c r="A1" t="str"><f>"a"</f><v>a&amp;b&lt;</v></c>', b'<c r="A1" t="str"><v>  a </v></c>',
    b'<c r="A1" t="str"><v>a_x0041_</v></c>', b'<c r="A1" t="str"><v>x&#10;y</v></c>',
    b'<c r="A1" t="str"><v>x&#13;y</v></c>', b'<c r="A1" t="str"><v>x\r\ny</v></c>', b'<c r="A1" t="str"><v></v></c>',
    b'<c r="A1" t="str"><f>1+1</f></c>', b'<c r="A1" t="str"><f>1+1</f><v/></c>',
    # shared strings
    b'<c r="A1" t="s"><v>0</v></c>', b'<c r="A1" t="s"><v>2</v></c>', b'<c r="A1" t="s"><v>3</v></c>',
    b'<c r="A1" t="s"><v>5</v></c>', b'<c r="A1" t="s"><v>6</v></c>', b'<c r="A1" t="s"><v>7</v></c>',
    b'<c r="A1" t="s"><v>8</v></c>', b'<c r="A1" t="s"><v>9</v></c>', b'<c r="A1" t="s"><v>x</v></c>',
    b'<c r="A1" t="s"><v> 1</v></c>', b'<c r="A1" t="s"><v>01</v></c>', b'<c r="A1" t="s"><v>-1</v></c>',
    b'<c r="A1" t="s"><v></v></c>', b'<c r="A1" t="s"/>',
    # inline strings
    b'<c r="A1" t="inlineStr"><is><t>hi &amp; bye</t></is></c>', b'<c r="A1" t="inlineStr"><is><t>  sp  </t></is></c>',
    b'<c r="A1" t="inlineStr"><is><t xml:space="preserve">  sp  </t></is></c>',
    b'<c r="A1" t="inlineStr"><is><t></t></is></c>', b'<c r="A1" t="inlineStr"><is><t>_x0041_</t></is></c>',
    b'<c r="A1" t="inlineStr"><is><r><t>a</t></r></is></c>', b'<c r="A1" t="inlineStr"><v>3</v></c>',
    b'<c r="A1" t="inlineStr"/>', b'<c r="A1" t="s"><is><t>x</t></is></c>', b'<c r="A1"><is><t>x</t></is></c>',
    # other types and forms
    b'<c r="A1" t="d"><v>2020-01-01</v></c>', b'<c r="A1" t="zz"><v>1</v></c>', b'<c r="A1" t="zz"/>',
    b'<c r="A1" cm="1"><v>1</v></c>', b'<c r="A1" s=\'2\'><v>1</v></c>', b'<c r="A1">\n<v>1</v>\n</c>',
    b'<c r="A1"><f>1+1</f><v>2</v></c>', b'<c r="A1"><f t="shared" ref="A1:A2" si="0">1+1</f><v>2</v></c>',
    b'<c r="A1"><f/><v>2</v></c>', b'<c r="A1"><v>1</v><f>1</f></c>', b'<c r="A1"><v><![CDATA[1]]></v></c>',
    b'<c r="A1"><!-- x --><v>1</v></c>', b'<c r="A01"><v>1</v></c>', b'<c r="XFD5"><v>1</v></c>',
    # repeated and unordered cells
    b'<c r="A1"><v>1</v></c><c r="A1"><v>2</v></c>', b'<c r="A1"><v>1</v></c><c r="A1"/>',
    b'<c r="A1"><v>1</v></c><c r="A1" t="str"><v></v></c>', b'<c r="A1"><v>1</v></c><c r="A1" t="e"><v>#N/A</v></c>',
    b'<c r="A1"><v>1</v></c><c r="A1"><v></v></c>', b'<c r="B1"><v>1</v></c><c r="A1"><v>2</v></c>',
    b'<c r="A1"><v>1</v></c><c r="A1" t="str"><v/></c>',
]


@pytest.mark.parametrize("cells", CELLS, ids=lambda c: c.decode("utf-8", "replace")[:60])
def test_hand_written_cells(cells: bytes) -> None:
    assert_same_as_calamine(_book(cells, SHARED))


def test_the_usual_cells_are_read_in_python() -> None:
    usual = [b'<c r="A1"><v>1</v></c>', b'<c r="A1" s="2"><v>45000.5</v></c>', b'<c r="A1" t="s"><v>0</v></c>',
             b'<c r="A1" s="5" t="s"><v>8</v></c>', b'<c r="A1" t="b"><v>1</v></c>',
             b'<c r="A1" t="e"><v>#N/A</v></c>', b'<c r="A1" t="str"><f>"a"</f><v>a&amp;b&lt;</v></c>',
             b'<c r="A1" t="inlineStr"><is><t>hi &amp; bye</t></is></c>', b'<c r="A1"><f>1+1</f><v /></c>',
             b'<c r="A1" s="2" t="n" />']
    for cells in usual:
        assert assert_same_as_calamine(_book(cells, CLEAN_SHARED)) == {"S"}, cells
    # ... and what calamine reads its own way is left to it
    for cells in (b'<c r="A1" s="1"><v>45000.5</v></c>', b'<c r="A1"><v>1_0</v></c>', b'<c r="A1" t="d"><v>1</v></c>',
                  b'<c r="A1"><v>1</v></c><c r="A1"><v>2</v></c>', b'<c r="A1" t="str"><v>a_x0041_</v></c>'):
        assert assert_same_as_calamine(_book(cells, CLEAN_SHARED)) == set(), cells


@pytest.mark.parametrize("shared", [
    b"<si><t>  sp  </t></si>", '<si><t xml:space="preserve">\n x\u3000</t></si>'.encode(),
    b"<si><t>&#32;x</t></si>", b"<si><t>l1\r\nl2</t></si>", b"<si><t>a_x000D_b</t></si>", b"<si><t>a</t><t>b</t></si>",
    b"<si>zz<t>a</t></si>", b"<si/>", b"<si><t/></si>", b"<si></si>", b"<si><t>a</t></si>\n<si><t>b</t></si>",
    b"<si><r><t>x</t></r><r><rPr><b/></rPr><t> y </t></r></si>", b"<si><r><t>x</t><t>y</t></r></si>",
    b'<si><t>a</t><rPh sb="0" eb="1"><t>PH</t></rPh></si>', b"<si><t>a<!-- c --></t></si>",
    b"<si><t><![CDATA[a<b]]></t></si>", b"<si><t>&#13;x</t></si>", b"<si><x:t>a</x:t></si>",
    b'<si><t xml:space="default">a</t></si>', b"<si><t>&#x1F600;</t></si>",
], ids=lambda s: s.decode("utf-8", "replace")[:50])
def test_hand_written_shared_strings(shared: bytes) -> None:
    cells = b"".join(b'<c r="%s1" t="s"><v>%d</v></c>' % (col, i) for i, col in enumerate([b"A", b"B", b"C"]))
    if shared.count(b"<si") < 3:
        cells = b'<c r="A1" t="s"><v>0</v></c>'
    assert_same_as_calamine(_book(cells, shared))


def test_shared_strings_read_in_python_or_not() -> None:
    assert purevalues.shared_strings(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                                     + CLEAN_SHARED + b"</sst>") == [
        "a&b<c>", "sp", "  sp\u3000", "x y", "ab", "", "", "中文\n第二行", "中文"]
    assert purevalues.shared_strings(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                                     + SHARED + b"</sst>") is None  # outer spaces calamine trims, an escape


@pytest.mark.parametrize("code, plain", [
    ("General", True), ("0.00", True), ("#,##0.00;-#,##0.00;\"\";@", True), ("0.00_ ", True),
    ("[Red]0.00;[Blue]-0.00", True), ("[$-804]#,##0", True), ("[>=100]0;0.0", True), ("0.00\"万元\"", True),
    ("yyyy-mm-dd", False), ("[h]:mm", False), ("mm:ss", False), ("0.00 \"days\"", False), ("[DBNum1]0", False),
    ("[Magenta]0", False), ("0.00E+00", False), ("\\d0", False), ("General;@", False),
])
def test_custom_formats_taken_as_plain(code: str, plain: bool) -> None:
    assert purevalues._plain_code(code) is plain


def test_styles() -> None:
    assert purevalues.plain_styles(STYLES) == PLAIN_STYLES
    assert purevalues.plain_styles(None) == ()
    assert purevalues.plain_styles(b"<styleSheet/>") is None  # no namespace: not read here
    # a numFmt redefining a built-in date id is not trusted either way
    odd = STYLES.replace(b'numFmtId="165" formatCode="[h]:mm"', b'numFmtId="14" formatCode="0.00"')
    assert purevalues.plain_styles(odd)[1] is False


@pytest.mark.parametrize("styles", [
    b'<?xml version="1.0"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>',
    STYLES.replace(b'<xf numFmtId="0"/>', b'<xf numFmtId="14"/>', 1),
    STYLES.replace(b'<xf numFmtId="0"/>', b'<xf/>', 1),
])
def test_cells_without_style_index(styles: bytes) -> None:
    for cells in (b'<c r="A1"><v>45000.5</v></c>', b'<c r="A1" s="0"><v>45000.5</v></c>'):
        assert_same_as_calamine(_book(cells, styles=styles))


@pytest.mark.parametrize("head, tail", [
    (b'<dimension ref="A1"/>', b""), (b'<dimension ref="A1:B2"/>', b""), (b'<dimension ref="1e308"/>', b""),
    (b'<dimension ref="A0:B2"/>', b""), (b'<dimension ref=""/>', b""), (b'<dimension ref="A1:B2 C3"/>', b""),
    (b"<sheetViews><sheetView a=\"1\"</sheetViews>", b""), (b"<sheetViews></x></sheetViews>", b""),
    (b"<cols><col a=1></cols>", b""), (b"<!-- note -->", b""),
    (b"", b'<mergeCells><mergeCell ref="A1:B1"/></mergeCells>'), (b"", b'<mergeCells><mergeCell ref="A1"/></mergeCells>'),
    (b"", b'<mergeCells><mergeCell ref="A0:B1"/></mergeCells>'), (b"", b'<mergeCells><mergeCell ref="1e308"/></mergeCells>'),
    (b"", b'<mergeCells><mergeCell ref="A1:B1"</mergeCells>'), (b"", b"</foo>"),
    (b"", b'<mergeCells><mergeCell ref="A1:B1"/></mergeCells></foo>'), (b"", b"<dataValidations><x></y></dataValidations>"),
])
def test_sheet_parts_around_the_cells(head: bytes, tail: bytes) -> None:
    assert_same_as_calamine(_book(b'<c r="A1"><v>1</v></c>', sheet_head=head, sheet_tail=tail))


@pytest.mark.parametrize("between", [
    b"< x", b"<", b"<1>", b">", b"<foo", b"<foo a=1>", b"</foo>", b"<c", b'<cx r="B1"><v>5</v></cx>', b"<v>7</v>",
    b"&amp;", b'<foo><c r="B1"><v>5</v></c></foo>', b"<!-- x -->", b"<?pi x?>", b"\n  ",
])
def test_between_cells(between: bytes) -> None:
    assert_same_as_calamine(_book(b'<c r="A1"><v>1</v></c>' + between + b'<c r="C1"><v>3</v></c>'))


def test_excel_and_libreoffice_rows_are_read_in_python() -> None:
    rows = (b'<row r="1" spans="1:3" ht="20.25" customHeight="1" x14ac:dyDescent="0.25">'
            b'<c r="A1" s="2" t="s"><v>0</v></c><c r="B1" s="2"/><c r="C1" s="2"><v>3.5</v></c></row>'
            b'<row r="2" customFormat="false" ht="12.8" hidden="false" customHeight="false" outlineLevel="0" '
            b'collapsed="false"><c r="A2" s="0" t="n"><v>1</v></c></row>')
    head = b'<dimension ref="A1:C2"/><sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews>'
    assert assert_same_as_calamine(_excel_root(rows, head)) == {"S"}


def _excel_root(rows: bytes, head: bytes) -> bytes:
    """_book's workbook with Excel's namespace declarations on the sheet root."""
    data = _book(rows, CLEAN_SHARED, rows=False, sheet_head=head)
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(buf, "w") as zout:
        for name in zin.namelist():
            part = zin.read(name)
            if name == "xl/worksheets/sheet1.xml":
                part = part.replace(b'2006/main">', b'2006/main" xmlns:r="http://schemas.openxmlformats.org/'
                                    b'officeDocument/2006/relationships" xmlns:mc="http://schemas.openxmlformats.org/'
                                    b'markup-compatibility/2006" mc:Ignorable="x14ac" xmlns:x14ac="http://schemas.'
                                    b'microsoft.com/office/spreadsheetml/2009/9/ac">', 1)
            zout.writestr(name, part)
    return buf.getvalue()


@pytest.mark.parametrize("row", [
    b'<row r="1" spans="1e308">', b'<row r="1" ht="abc" customHeight="1">', b'<row r="">', b'<row r="-1">',
    b"<row>", b'<row r="5">', b'<row r="01">', b'<row spans="1:2" r="1">', b'<row r="1" r="2">',
    b'<row r="1" spans=1:2>', b'<row\tr="1">', b'<row r="1" xmlns="urn:x">', b'<row r="1" 1a="2">',
])
def test_row_tags(row: bytes) -> None:
    cells = row + b'<c r="A1"><v>1</v></c></row><row r="3"/><row r="4"></row>'
    assert_same_as_calamine(_book(cells, rows=False))


def _renamed(data: bytes, old: str, new: str) -> bytes:
    """The workbook with one part under another name, its relationship following it."""
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(buf, "w") as zout:
        for name in zin.namelist():
            part = zin.read(name)
            if name == "xl/_rels/workbook.xml.rels":
                part = part.replace(b'Target="%s"' % old.encode(), b'Target="%s"' % new.encode())
            zout.writestr("xl/" + new if name == "xl/" + old else name, part)
    return buf.getvalue()


@pytest.mark.parametrize("old, new", [("sharedStrings.xml", "strings.xml"), ("styles.xml", "formats.xml")])
def test_shared_strings_and_styles_under_other_names(old: str, new: str) -> None:
    for cells in (b'<c r="A1" t="s"><v>0</v></c><c r="B1" s="1"><v>45000</v></c>',
                  b'<c r="A1" t="s"><v>0</v></c><c r="B1" s="2"><v>45000</v></c>', b'<c r="B1" s="1"><v>45000</v></c>'):
        assert_same_as_calamine(_renamed(_book(cells, CLEAN_SHARED), old, new))


def _with_part(data: bytes, name: str, edit) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(buf, "w") as zout:
        for member in zin.namelist():
            part = zin.read(member)
            if member == name:
                part = edit(part)
                if part is None:
                    continue
            zout.writestr(member, part)
    return buf.getvalue()


@pytest.mark.parametrize("edit", [
    lambda d: None,
    lambda d: d.replace(b'Target="xl/workbook.xml"', b'Target="/xl/workbook.xml"'),
    lambda d: d.replace(b'Target="xl/workbook.xml"', b'Target="xl/other.xml"'),
    lambda d: d.replace(b"officeDocument\" Target", b"officeDocumentX\" Target"),
    lambda d: d.replace(b"<Relationship ", b"<Relationshmp ", 1),
    lambda d: d.replace(b"</Relationships>", b'<Relationship Id="rId7" Type="http://schemas.openxmlformats.org/'
                        b'officeDocument/2006/relationships/officeDocument" Target="xl/other.xml"/></Relationships>'),
], ids=["no-package-rels", "absolute-target", "other-target", "other-type", "misspelt", "two-documents"])
def test_package_relationships(edit) -> None:
    data = _with_part(_book(b'<c r="A1"><v>1</v></c>'), "_rels/.rels", edit)
    assert_same_as_calamine(data)


# --------------------------------------------------------------------------
# Generated sheets.
# --------------------------------------------------------------------------

_num_text = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: repr(f).encode()),
    st.integers(-(10 ** 25), 10 ** 25).map(lambda i: str(i).encode()),
    st.sampled_from([b"-0", b".5", b"5.", b"+1", b"1e5", b"1E-7", b"1e400", b"inf", b" 1", b"1_0", b"", b"x",
                     b"0x1", b"1e", b"--1", b"1.2.3"]),
)
_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00<&\r"),
                max_size=8).map(lambda s: s.encode()) | st.sampled_from(
    [b"&amp;", b"&lt;x&gt;", b"&#10;", b"&#13;", b"_x0041_", b" ", b"a ", b"&quot;&apos;"])


@st.composite
def _cell(draw, col: int) -> bytes:
    ref = b"%s1" % bytes([65 + col])
    kind = draw(st.sampled_from(["n", "s", "str", "b", "e", "inline", "empty", "none"]))
    attrs = b""
    if draw(st.booleans()):
        attrs += b' s="%d"' % draw(st.integers(0, 10))
    if kind == "n":
        if draw(st.booleans()):
            attrs += b' t="n"'
        return b'<c r="%s"%s><v>%s</v></c>' % (ref, attrs, draw(_num_text))
    if kind == "s":
        return b'<c r="%s"%s t="s"><v>%s</v></c>' % (ref, attrs, draw(st.sampled_from([b"0", b"2", b"3", b"5", b"7",
                                                                                        b"8", b"12", b"x"])))
    if kind == "str":
        return b'<c r="%s"%s t="str"><f>A1</f><v>%s</v></c>' % (ref, attrs, draw(_text))
    if kind == "b":
        return b'<c r="%s"%s t="b"><v>%s</v></c>' % (ref, attrs, draw(st.sampled_from([b"0", b"1", b"true", b""])))
    if kind == "e":
        return b'<c r="%s"%s t="e"><v>%s</v></c>' % (ref, attrs, draw(st.sampled_from([b"#N/A", b"#REF!", b"#X"])))
    if kind == "inline":
        space = draw(st.sampled_from([b"", b' xml:space="preserve"']))
        return b'<c r="%s"%s t="inlineStr"><is><t%s>%s</t></is></c>' % (ref, attrs, space, draw(_text))
    if kind == "empty":
        return b'<c r="%s"%s/>' % (ref, attrs)
    return b""


@st.composite
def _sheet(draw) -> bytes:
    n = draw(st.integers(0, 8))
    cells = [draw(_cell(i)) for i in range(n)]
    if cells and draw(st.integers(0, 4)) == 0:
        cells.append(cells[draw(st.integers(0, len(cells) - 1))])  # a repeated cell
    if draw(st.integers(0, 4)) == 0:
        cells.reverse()
    return b"".join(cells)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_sheet())
def test_generated_sheets(cells: bytes) -> None:
    assert_same_as_calamine(_book(cells, CLEAN_SHARED))


# --------------------------------------------------------------------------
# Hostile input: linear time, limits, no native code.
# --------------------------------------------------------------------------

_MB = 1 << 20


@pytest.mark.parametrize("make", [
    lambda: b'<c r="A1"' + b' s="1"' * (_MB // 6) + b"><v>1</v></c>",
    lambda: b'<c r="A1"><v>' + b"1" * (2 * _MB) + b"</v></c>",
    lambda: b'<c r="A1"><v>' + b"1" * (2 * _MB),
    lambda: b'<c r="A1"><f ' + b"a" * (2 * _MB) + b"</c>",
    lambda: b'<c r="A1"><f t="shared" ' + b'x="1" ' * (_MB // 6) + b"/><v>1</v></c>",
    lambda: b'<c r="A1" t="inlineStr"><is><t>' + b"a" * (2 * _MB) + b"</t></c>",
    lambda: b'<c r="A1" t="str"><v>' + b"&amp;" * (_MB // 5) + b"</v></c>",
    lambda: b'<c r="A1"><v>1</v></c>' * (_MB // 25),
    lambda: b'<c r="A1"><v>1</v>' * (_MB // 20),
    lambda: b"<c" * _MB,
    lambda: b'<c r="A1" s="' + b"1" * _MB,
    lambda: b"\n" * _MB + b"x",
    lambda: (b"\n" * 40 + b'<c r="A1"/>') * (_MB // 50) + b"x",
    lambda: b'</row><row r="2"' + b' a="1"' * (_MB // 6),
    lambda: b'<c r="A1"' + b' s="1" t="n"' * (_MB // 12) + b"/ >",
], ids=["attributes", "long-number", "open-number", "open-formula", "formula-attributes", "open-inline",
        "entities", "many-repeats", "unclosed-cells", "tag-starts", "open-attribute", "whitespace-run",
        "whitespace-between-empty-cells", "open-row", "empty-cell-attributes"])
def test_hostile_cells_take_linear_time(make) -> None:
    cells = make()
    for rows in (True, False):
        sheet = (b"<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>"
                 + (b'<row r="1" ' + b'a="1" ' * (_MB // 6) + b">" if not rows else b'<row r="1">') + cells
                 + b"</row></sheetData></worksheet>")
        start = sheet.find(b"<sheetData")
        began = time.process_time()
        purevalues.Reading(None, STYLES).sheet_values(sheet, start, sheet.rfind(b"</sheetData>"))
        # a megabyte or two of input: linear patterns take milliseconds, a backtracking one would take hours
        assert time.process_time() - began < 5


@pytest.mark.parametrize("shared", [
    b"<si><t>" + b"a" * (2 * _MB) + b"</t>",
    b"<si><t>a</t></si>" * (_MB // 16) + b"<si>",
    b"<si><r><rPr>" + b"<b/>" * (_MB // 4) + b"</rPr><t>x</t></r></si>",
    b"<si><t>" + b"&amp;" * (_MB // 5) + b"</t></si>",
])
def test_hostile_shared_strings_take_linear_time(shared: bytes) -> None:
    data = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' + shared + b"</sst>"
    began = time.process_time()
    purevalues.shared_strings(data)
    assert time.process_time() - began < 5


def test_limits_hold_before_the_python_path(tmp_path: Path) -> None:
    from xlbudget.io.safety import Limits

    cells = b'<c r="A1"><v>1</v></c><c r="Z900"><v>2</v></c>'
    wb = RawWorkbook.from_bytes(_book(cells, rows=True), limits=Limits(max_cells_area=1000))
    with pytest.raises(WorkbookError) as err:
        wb.sheet("S")
    assert err.value.code == "absurd-dimensions"
    shared = b"<si><t>" + b"x" * 10_000 + b"</t></si>"
    many = b"".join(b'<c r="%s1" t="s"><v>0</v></c>' % bytes([65 + i]) for i in range(20))
    wb = RawWorkbook.from_bytes(_book(many, shared), limits=Limits(max_shared_text_bytes=100_000))
    with pytest.raises(WorkbookError) as err:
        wb.sheet("S")
    assert err.value.code == "zip-bomb"


def test_no_isolated_child_when_every_sheet_is_read_in_python(monkeypatch) -> None:
    calls = []
    real = isolate.start

    def counting(fn, *args, **kwargs):
        calls.append(1)
        return real(fn, *args, **kwargs)

    monkeypatch.setattr(isolate, "start", counting)
    wb = RawWorkbook.open(DATA / "stable" / "small-1.xlsx")
    for name in wb.sheet_names:
        wb.sheet(name)
    assert calls == [] and wb.pure_sheets == set(wb.sheet_names)
    wb = RawWorkbook.from_bytes(_book(b'<c r="A1" s="1"><v>45000.5</v></c>'))
    assert wb.sheet("S").values == {(0, 0): dt.datetime(2023, 3, 15, 12, 0)}
    assert calls == [1] and wb.pure_sheets == set()


def test_a_pool_worker_reads_with_calamine(monkeypatch) -> None:
    """A pool worker is its own isolation: there calamine, faster than Python, reads every sheet; a lone
    check reads in Python, which saves the child calamine would need."""
    path = DATA / "stable" / "small-1.xlsx"
    lone = RawWorkbook.open(path)
    lone_values = {name: lone.sheet(name).values for name in lone.sheet_names}
    assert isolate.forks() and lone.pure_sheets == set(lone.sheet_names)
    monkeypatch.setattr(isolate, "_in_worker", True)
    assert not isolate.forks()
    worker = RawWorkbook.open(path)
    assert {name: worker.sheet(name).values for name in worker.sheet_names} == lone_values
    assert worker.pure_sheets == set()


def test_a_large_workbook_has_its_other_sheets_read_in_the_background():
    """A workbook of more than BACKGROUND_BYTES of sheet XML, opened with ``first`` sheets, has those read in
    Python at once and the others read by calamine in a child that works while the caller goes on: the
    values are the same as read in Python, and the child is waited for when one of them is asked for."""
    import os

    path = DATA / "stable" / "large-2.xlsx"
    alone = RawWorkbook.open(path)
    want = {name: alone.sheet(name).values for name in alone.sheet_names}
    assert alone.pure_sheets == set(alone.sheet_names)
    meta = "xlbudget"
    assert meta in want and alone._sheet_bytes([i for i in alone.sheets]) >= rawxlsx.BACKGROUND_BYTES
    wb = RawWorkbook.open(path, first=(meta,))
    assert wb.sheet(meta).values == want[meta] and wb.pure_sheets == {meta}
    assert wb._native is not None  # the child is at work, not yet waited for
    got = {name: wb.sheet(name).values for name in wb.sheet_names}
    assert wb._native is None and got == want and wb.pure_sheets == {meta}
    # a workbook let go before its other sheets are asked for leaves no child behind
    wb = RawWorkbook.open(path, first=(meta,))
    wb.sheet(meta)
    pid = wb._native[0]._child[0]
    del wb
    import gc

    gc.collect()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def test_a_smaller_workbook_is_read_in_python_whatever_it_reads_first(monkeypatch):
    calls = []
    real = isolate.start
    monkeypatch.setattr(isolate, "start", lambda fn, *a, **k: calls.append(1) or real(fn, *a, **k))
    wb = RawWorkbook.open(DATA / "stable" / "small-1.xlsx", first=("xlbudget",))
    for name in wb.sheet_names:
        wb.sheet(name)
    assert calls == [] and wb.pure_sheets == set(wb.sheet_names)
