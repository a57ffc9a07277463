"""Hostile and malformed submissions: each must give one WorkbookError, fast.

All inputs are generated in tmp_path.  Large "bombs" are produced from a
repeated deflate block, so the test files stay small and quick to make.
"""

from __future__ import annotations

import io
import re
import struct
import time
import zipfile
import zlib
from pathlib import Path
from typing import Callable

import pytest
import xlsxwriter

from xlbudget.io.errors import ERROR_CODES, WorkbookError
from xlbudget.io.rawxlsx import RawWorkbook
from xlbudget.io.safety import Limits

MB = 1024 * 1024
CHINESE = re.compile(r"[\u4e00-\u9fff]")


# --------------------------------------------------------------------------
# Builders.
# --------------------------------------------------------------------------


def base_xlsx(path: Path) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("收入总表")
    ws.write_row(0, 0, ["科目编码", "金额"])
    ws.write_string(1, 0, "2010101")
    ws.write_number(1, 1, 12.5)
    ws.write_formula(2, 1, "=SUM(B2:B2)")
    wb.close()
    return path


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def write_zip(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def patched(tmp: Path, changes: dict[str, bytes | Callable[[bytes], bytes] | None],
            name: str = "patched.xlsx") -> Path:
    parts = members(base_xlsx(tmp / "base.xlsx"))
    for part, change in changes.items():
        if change is None:
            parts.pop(part, None)
        elif callable(change):
            parts[part] = change(parts[part])
        else:
            parts[part] = change
    return write_zip(tmp / name, parts)


def sheet_xml(cells: str, dimension: str | None = "A1") -> bytes:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"{dim}<sheetData>{cells}</sheetData></worksheet>"
    ).encode()


def zeros_deflate(megabytes: int) -> tuple[bytes, int]:
    """Raw deflate data and CRC of `megabytes` MB of zeros, built from one block."""
    chunk = b"\0" * MB
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    again = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    assert block == again  # a full flush makes every block identical
    tail = comp.flush()
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(chunk, crc)
    return block * megabytes + tail, crc


def raw_zip(entries: list[tuple[str, bytes, int, int, int, int]]) -> bytes:
    """Zip from (name, data, method, crc, declared_size, flags) with no checks."""
    out = io.BytesIO()
    central = []
    for name, data, method, crc, size, flags in entries:
        offset = out.tell()
        fname = name.encode()
        out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, flags, method, 0, 0x21,
                              crc, len(data), size, len(fname), 0))
        out.write(fname)
        out.write(data)
        central.append(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, flags, method, 0,
                                   0x21, crc, len(data), size, len(fname), 0, 0, 0, 0, 0, offset)
                       + fname)
    cd_start = out.tell()
    for rec in central:
        out.write(rec)
    cd_size = out.tell() - cd_start
    out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
                          cd_size, cd_start, 0))
    return out.getvalue()


def deflated(data: bytes) -> bytes:
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    return comp.compress(data) + comp.flush()


def minimal_parts(tmp: Path) -> dict[str, bytes]:
    return members(base_xlsx(tmp / "minimal.xlsx"))


def fake_ole2(stream_names: list[str]) -> bytes:
    """A compound-file header plus one directory sector naming the streams."""
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHH", header, 24, 0x3E, 3, 0xFFFE)
    struct.pack_into("<H", header, 30, 9)    # 512-byte sectors
    struct.pack_into("<H", header, 32, 6)
    struct.pack_into("<I", header, 48, 0)    # first directory sector
    directory = bytearray()
    for name in ["Root Entry", *stream_names]:
        entry = bytearray(128)
        encoded = name.encode("utf-16-le") + b"\0\0"
        entry[0:len(encoded)] = encoded
        struct.pack_into("<H", entry, 64, len(encoded))
        entry[66] = 5 if name == "Root Entry" else 2
        directory += entry
    directory += bytes(512 - len(directory) % 512)
    return bytes(header) + bytes(directory) + bytes(1024)


# --------------------------------------------------------------------------
# The corpus: name -> (builder(tmp_path) -> path, expected code, limits).
# --------------------------------------------------------------------------


def c_empty(tmp: Path) -> Path:
    p = tmp / "empty.xlsx"
    p.write_bytes(b"")
    return p


def c_random(tmp: Path) -> Path:
    import random

    p = tmp / "random.xlsx"
    p.write_bytes(random.Random(7).randbytes(4096))
    return p


def c_text(tmp: Path) -> Path:
    p = tmp / "readme.xlsx"
    p.write_text("科目编码,金额\n2010101,12.5\n", encoding="utf-8")
    return p


def c_html(tmp: Path) -> Path:
    p = tmp / "export.xls"
    p.write_text("<html><body><table><tr><td>收入</td></tr></table></body></html>", encoding="utf-8")
    return p


def c_xml2003(tmp: Path) -> Path:
    p = tmp / "export2003.xls"
    p.write_text('<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">'
                 "</Workbook>", encoding="utf-8")
    return p


def c_truncated(tmp: Path) -> Path:
    data = base_xlsx(tmp / "full.xlsx").read_bytes()
    p = tmp / "truncated.xlsx"
    p.write_bytes(data[: len(data) // 2])
    return p


def c_corrupt_cd(tmp: Path) -> Path:
    data = bytearray(base_xlsx(tmp / "full.xlsx").read_bytes())
    eocd = data.rfind(b"PK\x05\x06")
    cd_offset = struct.unpack_from("<I", data, eocd + 16)[0]
    data[cd_offset:cd_offset + 64] = b"\xde\xad\xbe\xef" * 16
    p = tmp / "badcd.xlsx"
    p.write_bytes(bytes(data))
    return p


def c_bad_crc(tmp: Path) -> Path:
    parts = minimal_parts(tmp)
    entries = [(n, deflated(d), 8, zlib.crc32(d), len(d), 0) for n, d in parts.items()]
    entries = [(n, c, m, (crc ^ 0xFFFF) if n == "xl/workbook.xml" else crc, s, f)
               for n, c, m, crc, s, f in entries]
    p = tmp / "crc.xlsx"
    p.write_bytes(raw_zip(entries))
    return p


def c_duplicate_entry(tmp: Path) -> Path:
    parts = minimal_parts(tmp)
    entries = [(n, deflated(d), 8, zlib.crc32(d), len(d), 0) for n, d in parts.items()]
    wb = parts["xl/workbook.xml"]
    entries.append(("xl/workbook.xml", deflated(wb), 8, zlib.crc32(wb), len(wb), 0))
    p = tmp / "dup.xlsx"
    p.write_bytes(raw_zip(entries))
    return p


def c_zip_encrypted(tmp: Path) -> Path:
    parts = minimal_parts(tmp)
    entries = [(n, deflated(d), 8, zlib.crc32(d), len(d), 1 if n == "xl/workbook.xml" else 0)
               for n, d in parts.items()]
    p = tmp / "zipcrypto.xlsx"
    p.write_bytes(raw_zip(entries))
    return p


def c_missing_workbook(tmp: Path) -> Path:
    return patched(tmp, {"xl/workbook.xml": None})


def c_missing_content_types(tmp: Path) -> Path:
    return patched(tmp, {"[Content_Types].xml": None})


def c_zip_bomb(tmp: Path) -> Path:
    parts = minimal_parts(tmp)
    entries = [(n, deflated(d), 8, zlib.crc32(d), len(d), 0) for n, d in parts.items()
               if n != "xl/worksheets/sheet1.xml"]
    bomb, crc = zeros_deflate(300)
    entries.append(("xl/worksheets/sheet1.xml", bomb, 8, crc, 300 * MB, 0))
    p = tmp / "bomb.xlsx"
    p.write_bytes(raw_zip(entries))
    assert p.stat().st_size < 2 * MB
    return p


def c_ratio_bomb(tmp: Path) -> Path:
    parts = minimal_parts(tmp)
    entries = [(n, deflated(d), 8, zlib.crc32(d), len(d), 0) for n, d in parts.items()]
    bomb, crc = zeros_deflate(20)
    entries.append(("xl/media/image1.png", bomb, 8, crc, 20 * MB, 0))
    p = tmp / "ratio.xlsx"
    p.write_bytes(raw_zip(entries))
    return p


def c_lying_header(tmp: Path) -> Path:
    parts = minimal_parts(tmp)
    entries = [(n, deflated(d), 8, zlib.crc32(d), len(d), 0) for n, d in parts.items()
               if n != "xl/workbook.xml"]
    bomb, _ = zeros_deflate(64)
    # Declares 1000 bytes (ratio looks harmless) but inflates to 64 MB.
    entries.append(("xl/workbook.xml", bomb, 8, 0, 1000, 0))
    p = tmp / "lying.xlsx"
    p.write_bytes(raw_zip(entries))
    return p


def c_too_many_entries(tmp: Path) -> Path:
    parts = minimal_parts(tmp)
    p = tmp / "many.xlsx"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_STORED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
        for i in range(10_001):
            z.writestr(f"xl/media/x{i}.bin", b"")
    return p


def c_billion_laughs(tmp: Path) -> Path:
    lol = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
                     for i in range(1, 10))
           + ']><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           "<sheets><sheet name=\"&lol9;\" sheetId=\"1\" r:id=\"rId1\" "
           'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"/>'
           "</sheets></workbook>")
    return patched(tmp, {"xl/workbook.xml": lol.encode()})


def c_xxe_workbook(tmp: Path) -> Path:
    return patched(tmp, {"xl/workbook.xml": lambda d: d.replace(
        b"<workbook ", b'<!DOCTYPE workbook [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><workbook ', 1)
        .replace(b'name="', b'name="&xxe;', 1)})


def c_xxe_sheet(tmp: Path) -> Path:
    return patched(tmp, {"xl/worksheets/sheet1.xml": lambda d: d.replace(
        b"<worksheet ", b'<!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><worksheet ', 1)
        .replace(b"<v>12.5</v>", b"<v>&xxe;</v>")})


def c_dtd_shared_strings(tmp: Path) -> Path:
    return patched(tmp, {"xl/sharedStrings.xml": lambda d: d.replace(
        b"<sst ", b'<!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">]><sst ', 1)})


def c_undefined_entity(tmp: Path) -> Path:
    return patched(tmp, {"xl/worksheets/sheet1.xml": lambda d: d.replace(b"<v>12.5</v>", b"<v>&lol;</v>")})


def c_absurd_dimension(tmp: Path) -> Path:
    return patched(tmp, {"xl/worksheets/sheet1.xml": sheet_xml(
        '<row r="1"><c r="A1"><v>1</v></c></row><row r="1048000"><c r="A1048000"><v>2</v></c></row>',
        dimension="A1:XFD1048576")})


def c_far_merge(tmp: Path) -> Path:
    # Thousands of ordinary merged ranges, one of them (not the last) past the last column.
    merges = "".join(f'<mergeCell ref="A{r}:C{r}"/>' for r in range(1, 3000))
    merges = merges.replace('ref="A1500:C1500"', 'ref="A1500:XFE1500"')
    return patched(tmp, {"xl/worksheets/sheet1.xml": sheet_xml('<row r="1"><c r="A1"><v>1</v></c></row>').replace(
        b"</sheetData>", b'</sheetData><mergeCells count="2999">' + merges.encode() + b"</mergeCells>")})


def c_far_merge_odd_form(tmp: Path) -> Path:
    # The same in a form the fast path does not take (single quotes, lower case).
    return patched(tmp, {"xl/worksheets/sheet1.xml": sheet_xml('<row r="1"><c r="A1"><v>1</v></c></row>').replace(
        b"</sheetData>", b"</sheetData><mergeCells count=\"2\"><mergeCell ref='a1:c1'/>"
                         b"<mergeCell ref='b2:c1048577'/></mergeCells>")})


def c_far_merge_after_a_tab(tmp: Path) -> Path:
    # An ordinary range, then one past the grid whose tag has a tab where the usual form has a space.
    return patched(tmp, {"xl/worksheets/sheet1.xml": sheet_xml('<row r="1"><c r="A1"><v>1</v></c></row>').replace(
        b"</sheetData>", b'</sheetData><mergeCells count="2"><mergeCell ref="A2:C2"/>'
                         b'<mergeCell\tref="B2:C1048577"/></mergeCells>')})


def c_far_column(tmp: Path) -> Path:
    # The dimension claims A1:B2; a cell at column 16000 hides behind it.
    return patched(tmp, {"xl/worksheets/sheet1.xml": sheet_xml(
        '<row r="1"><c r="A1"><v>1</v></c><c r="WQJ1"><v>2</v></c></row>', dimension="A1:B2")})


def c_far_row_no_dimension(tmp: Path) -> Path:
    return patched(tmp, {"xl/worksheets/sheet1.xml": sheet_xml(
        '<row r="1"><c r="A1"><v>1</v></c></row><row r="1048000"><c r="B1048000"><v>2</v></c></row>',
        dimension=None)})


def c_sparse_area(tmp: Path) -> Path:
    # Each cell is inside the row and column limits, but the used area
    # (100000 rows x 500 columns) would be allocated densely.
    return patched(tmp, {"xl/worksheets/sheet1.xml": sheet_xml(
        '<row r="1"><c r="A1"><v>1</v></c></row><row r="100000"><c r="SF100000"><v>2</v></c></row>',
        dimension="A1")})


def c_many_large_sheets(tmp: Path) -> Path:
    # Five sparse sheets (2 cells apiece), each under the per-sheet area
    # limit; together they exceed the workbook limit (scaled down below).
    path = tmp / "many.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    for i in range(5):
        ws = wb.add_worksheet(f"表{i}")
        ws.write("A1", 1)
        ws.write("J3000", 2)
    wb.close()
    return path


def c_far_cell_general_path(tmp: Path) -> Path:
    # Attribute order forces the tag-by-tag scan; it must check bounds too.
    return patched(tmp, {"xl/worksheets/sheet1.xml": sheet_xml(
        '<row r="1"><c s="0" r="A1"><v>1</v></c><c s="0" r="XFD1"><v>2</v></c></row>')})


def c_shared_string_amplification(tmp: Path) -> Path:
    # One 3 MB shared string (random, so the compression ratio looks normal)
    # used by 100 cells: each cell would get its own 3 MB copy.
    import os

    long_text = os.urandom(1536 * 1024).hex()
    sst = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="100" uniqueCount="1">'
           f"<si><t>{long_text}</t></si></sst>").encode()
    cells = "".join(f'<row r="{r}"><c r="A{r}" t="s"><v>0</v></c></row>' for r in range(1, 101))
    return patched(tmp, {"xl/sharedStrings.xml": sst,
                         "xl/worksheets/sheet1.xml": sheet_xml(cells, dimension="A1:A100")})


def c_shared_formula_amplification(tmp: Path) -> Path:
    # An 8000-character master formula shared by 20000 tiny child cells.
    master = "+".join(["A1"] * 2666)
    rows = [f'<row r="1"><c r="B1"><f t="shared" ref="B1:B20000" si="0">{master}</f></c></row>']
    rows += [f'<row r="{r}"><c r="B{r}"><f t="shared" si="0"/></c></row>' for r in range(2, 20001)]
    return patched(tmp, {"xl/worksheets/sheet1.xml": sheet_xml("".join(rows), dimension="B1:B20000")})


def c_sheets_sharing_a_part(tmp: Path) -> Path:
    def two_sheets(d: bytes) -> bytes:
        m = re.search(rb'<sheet [^>]*/>', d)
        twin = m.group(0).replace("收入总表".encode(), "副本".encode()).replace(b'sheetId="1"', b'sheetId="2"')
        return d.replace(m.group(0), m.group(0) + twin)
    return patched(tmp, {"xl/workbook.xml": two_sheets})


def c_giant_reference(tmp: Path) -> Path:
    # 100000 column letters: must not reach big-integer column arithmetic.
    return patched(tmp, {"xl/worksheets/sheet1.xml": sheet_xml(
        f'<row r="1"><c r="{"A" * 100_000}1"><v>1</v></c></row>')})


def c_giant_row_number(tmp: Path) -> Path:
    # 5000 digits: beyond what int() accepts from a string by default.
    return patched(tmp, {"xl/worksheets/sheet1.xml": sheet_xml(
        f'<row r="1"><c r="A{"9" * 5000}"><v>1</v></c></row>')})


def c_encrypted(tmp: Path) -> Path:
    p = tmp / "加密.xlsx"
    p.write_bytes(fake_ole2(["EncryptionInfo", "EncryptedPackage", "\x06DataSpaces"]))
    return p


def c_legacy_xls(tmp: Path) -> Path:
    p = tmp / "旧版.xlsx"
    p.write_bytes(fake_ole2(["Workbook", "\x05SummaryInformation"]))
    return p


def c_nested_zip(tmp: Path) -> Path:
    inner = base_xlsx(tmp / "inner.xlsx").read_bytes()
    return write_zip(tmp / "outer.xlsx", {"预算/部门预算.xlsx": inner})


def c_xlsb(tmp: Path) -> Path:
    return write_zip(tmp / "book.xlsx", {"[Content_Types].xml": b"<Types/>", "xl/workbook.bin": b"\0" * 16})


def c_non_utf8(tmp: Path) -> Path:
    return patched(tmp, {"xl/worksheets/sheet1.xml": lambda d: d.replace(
        b"<sheetData>", b"<sheetData>\xff\xfe\x80\x81garbage")})


def c_not_well_formed(tmp: Path) -> Path:
    return patched(tmp, {"xl/worksheets/sheet1.xml": lambda d: d.replace(b"<v>12.5</v></c>", b"<v>12.5</v></x>")})


def c_sheet_cut_short(tmp: Path) -> Path:
    return patched(tmp, {"xl/worksheets/sheet1.xml": lambda d: d[: d.index(b"</sheetData>")]})


def c_workbook_not_well_formed(tmp: Path) -> Path:
    return patched(tmp, {"xl/workbook.xml": lambda d: d.replace(b"</sheets>", b"</sheet>")})


def c_rels_to_missing_sheet(tmp: Path) -> Path:
    return patched(tmp, {"xl/_rels/workbook.xml.rels": lambda d: d.replace(
        b"worksheets/sheet1.xml", b"worksheets/sheet9.xml")})


def c_directory(tmp: Path) -> Path:
    d = tmp / "folder.xlsx"
    d.mkdir()
    return d


def c_nonexistent(tmp: Path) -> Path:
    return tmp / "没有这个文件.xlsx"


def c_too_large(tmp: Path) -> Path:
    return base_xlsx(tmp / "big.xlsx")


def c_macro_refused(tmp: Path) -> Path:
    return patched(tmp, {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"\0" * 60}, name="m.xlsm")


CORPUS = {
    "empty-file": (c_empty, "empty-file", None),
    "random-bytes": (c_random, "not-a-zip", None),
    "text-renamed": (c_text, "not-a-zip", None),
    "html-table": (c_html, "unsupported-format", None),
    "xml-spreadsheet-2003": (c_xml2003, "unsupported-format", None),
    "truncated-zip": (c_truncated, "truncated-zip", None),
    "corrupt-central-directory": (c_corrupt_cd, "corrupt-zip", None),
    "bad-crc": (c_bad_crc, "corrupt-zip", None),
    "duplicate-entry": (c_duplicate_entry, "corrupt-zip", None),
    "zip-level-encryption": (c_zip_encrypted, "encrypted", None),
    "missing-workbook-xml": (c_missing_workbook, "missing-part", None),
    "missing-content-types": (c_missing_content_types, "missing-part", None),
    "zip-bomb-300mb": (c_zip_bomb, "zip-bomb", None),
    "compression-ratio": (c_ratio_bomb, "zip-bomb", None),
    "lying-header": (c_lying_header, "zip-bomb", None),
    "too-many-entries": (c_too_many_entries, "too-many-entries", None),
    "billion-laughs": (c_billion_laughs, "xml-entities", None),
    "xxe-workbook": (c_xxe_workbook, "xml-entities", None),
    "xxe-sheet": (c_xxe_sheet, "xml-entities", None),
    "dtd-shared-strings": (c_dtd_shared_strings, "xml-entities", None),
    "undefined-entity": (c_undefined_entity, "bad-xml", None),
    "absurd-dimension": (c_absurd_dimension, "absurd-dimensions", None),
    "column-16000": (c_far_column, "absurd-dimensions", None),
    "merged-range-past-the-grid": (c_far_merge, "absurd-dimensions", None),
    "merged-range-past-the-grid-odd-form": (c_far_merge_odd_form, "absurd-dimensions", None),
    "merged-range-past-the-grid-after-a-tab": (c_far_merge_after_a_tab, "absurd-dimensions", None),
    "row-1048000-no-dimension": (c_far_row_no_dimension, "absurd-dimensions", None),
    "sparse-area": (c_sparse_area, "absurd-dimensions", None),
    "far-cell-general-scan": (c_far_cell_general_path, "absurd-dimensions", None),
    "many-large-sheets": (c_many_large_sheets, "absurd-dimensions",
                          Limits(max_cells_area=40_000, max_workbook_cells_area=100_000)),
    "shared-string-amplification": (c_shared_string_amplification, "zip-bomb", None),
    "shared-formula-amplification": (c_shared_formula_amplification, "bad-xml", None),
    "sheets-sharing-a-part": (c_sheets_sharing_a_part, "bad-xml", None),
    "giant-reference": (c_giant_reference, "bad-xml", None),
    "giant-row-number": (c_giant_row_number, "bad-xml", None),
    "encrypted-ooxml": (c_encrypted, "encrypted", None),
    "legacy-xls": (c_legacy_xls, "legacy-xls", None),
    "nested-zip": (c_nested_zip, "nested-archive", None),
    "xlsb": (c_xlsb, "unsupported-format", None),
    "non-utf8-sheet": (c_non_utf8, "bad-xml", None),
    "sheet-not-well-formed": (c_not_well_formed, "bad-xml", None),
    "sheet-cut-short": (c_sheet_cut_short, "bad-xml", None),
    "workbook-not-well-formed": (c_workbook_not_well_formed, "bad-xml", None),
    "rels-to-missing-sheet": (c_rels_to_missing_sheet, "missing-part", None),
    "directory": (c_directory, "not-a-file", None),
    "nonexistent": (c_nonexistent, "not-found", None),
    "too-large": (c_too_large, "too-large", Limits(max_file_bytes=1024)),
    "macros-refused": (c_macro_refused, "macro-enabled", Limits(allow_macros=False)),
}


def read_everything(path: Path, limits: Limits | None) -> None:
    wb = RawWorkbook.open(path, limits)
    for name in wb.sheet_names:
        wb.sheet(name)


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_hostile_input(case: str, tmp_path: Path) -> None:
    build, code, limits = CORPUS[case]
    path = build(tmp_path)
    start = time.perf_counter()
    with pytest.raises(WorkbookError) as info:
        read_everything(path, limits)
    elapsed = time.perf_counter() - start
    err = info.value
    assert err.code == code, (err.code, err.message_en)
    assert code in ERROR_CODES
    assert str(err) == err.message_zh
    assert "\n" not in err.message_zh and CHINESE.search(err.message_zh)
    # The English message is English prose (it may quote Chinese sheet names).
    assert "\n" not in err.message_en and re.search("[A-Za-z]{4,}", err.message_en)
    assert err.message_en != err.message_zh
    assert err.path == str(path)
    assert elapsed < 2.0, f"{case} took {elapsed:.2f}s"


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 22
    assert len({code for _, code, _ in CORPUS.values()}) >= 15


def test_error_is_plain_data() -> None:
    err = WorkbookError("zip-bomb", path="a.xlsx", detail="详情", detail_en="detail")
    assert err.to_dict() == {"code": "zip-bomb", "message_zh": err.message_zh,
                             "message_en": err.message_en, "path": "a.xlsx", "part": None}
    assert "详情" in err.message_zh and "detail" in err.message_en and "详情" not in err.message_en


def test_macro_workbook_is_readable_and_flagged(tmp_path: Path) -> None:
    path = patched(tmp_path, {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"\0" * 60}, name="宏.xlsm")
    wb = RawWorkbook.open(path)
    assert wb.has_macros is True
    assert wb.sheet("收入总表").values[(1, 1)] == 12.5


def test_embedded_archive_is_never_opened(tmp_path: Path) -> None:
    """A zip embedded in a valid workbook is not inflated or inspected."""
    inner_bomb, crc = zeros_deflate(50)
    inner = raw_zip([("zeros.bin", inner_bomb, 8, crc, 50 * MB, 0)])
    path = patched(tmp_path, {"xl/embeddings/oleObject1.zip": inner}, name="embedded.xlsx")
    wb = RawWorkbook.open(path)
    assert wb.sheet("收入总表").values[(1, 1)] == 12.5


def test_bad_sheet_does_not_hide_the_others(tmp_path: Path) -> None:
    """An error inside one sheet is raised for that sheet only."""
    path = tmp_path / "two.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("好").write("A1", "ok")
    wb.add_worksheet("坏").write("A1", "bad")
    wb.close()
    parts = members(path)
    parts["xl/worksheets/sheet2.xml"] = parts["xl/worksheets/sheet2.xml"].replace(
        b"<sheetData>", b"<sheetData>\xff\xfe")
    write_zip(path, parts)
    raw = RawWorkbook.open(path)
    with pytest.raises(WorkbookError) as info:
        raw.sheet("坏")
    assert info.value.code == "bad-xml"
    assert raw.sheet("好").values == {(0, 0): "ok"}
