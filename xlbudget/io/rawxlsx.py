"""Fast, safe low-level reader for submitted ``.xlsx`` workbooks.

Design (see the reading benchmarks): a regex scan of the sheet XML reads
formula text, cached-value types, merges, protection and the dimension; the
cell values of a sheet in the usual form (what Excel, WPS, LibreOffice,
openpyxl and xlsxwriter write) are read in Python by :mod:`purevalues`, exactly
as python-calamine (Rust) reads them, where that saves the isolated child
calamine would need (a lone check); calamine reads every other sheet, and
every sheet in a pool worker (its own isolation, where calamine is faster).
openpyxl is not used here; it is an order of magnitude slower.

Safety:

* ``safety.inspect_container`` checks the zip before anything is parsed.
* Every XML part is transcoded to UTF-8 if needed and refused when it holds a
  DTD or entity declarations; workbook-level parts are parsed with
  ``defusedxml``.
* Each sheet's extent (dimension, cell references, merges) is checked against
  ``Limits`` *before* calamine sees the sheet, because calamine allocates the
  used area densely.
* calamine never sees the submitted zip: it reads a fresh, uncompressed zip
  built from members we have already inflated under the size caps.  When
  every sheet to read is read in Python, no native code runs and no isolated
  child is started.

Values of formula cells are the cached results stored in the file (xlsxwriter
stores 0, openpyxl stores nothing); callers must treat them as evidence, never
as truth.
"""

from __future__ import annotations

import codecs
import io
import os
import posixpath
import re
import sys
from functools import lru_cache
from typing import Iterable, Iterator

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as DET
from xml.etree.ElementTree import ParseError

from msgspec import Struct, field

from . import isolate, purevalues
from .errors import WorkbookError, human_size
from .safety import ContainerInfo, Limits, inspect_bytes, inspect_container, stored_zip

__all__ = [
    "RawWorkbook",
    "RawSheet",
    "SheetInfo",
    "DefinedName",
    "shift_formula",
    "parse_ref",
    "to_ref",
    "EXCEL_MAX_ROWS",
    "EXCEL_MAX_COLS",
]

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLS = 16_384

Cell = tuple[int, int]


# --------------------------------------------------------------------------
# A1 references.
# --------------------------------------------------------------------------

_REF_RE = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")


def _col_number(letters: str) -> int:
    """1-based column number of column letters ("A" -> 1)."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n


@lru_cache(maxsize=20000)
def _col_letters(n: int) -> str:
    """Column letters of a 1-based column number (1 -> "A")."""
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def parse_ref(ref: str) -> Cell:
    """0-based (row, col) of an A1 reference such as ``"C5"`` or ``"$C$5"``.

    Raises:
        ValueError: if ``ref`` is not a single-cell A1 reference.
    """
    m = _REF_RE.fullmatch(ref.strip())
    if not m:
        raise ValueError(f"not an A1 cell reference: {_q(ref)}")
    return int(m.group(2)) - 1, _col_number(m.group(1)) - 1


def to_ref(row: int, col: int) -> str:
    """A1 reference of a 0-based (row, col): ``to_ref(4, 2) == "C5"``."""
    return f"{_col_letters(col + 1)}{row + 1}"


@lru_cache(maxsize=65536)
def _ref_b(ref: bytes) -> Cell:
    """0-based (row, col) of an ASCII A1 reference (no $)."""
    i = 0
    n = len(ref)
    col = 0
    while i < n and 65 <= ref[i] <= 90:
        col = col * 26 + ref[i] - 64
        i += 1
    if i == 0 or i == n:
        raise ValueError(ref)
    return int(ref[i:]) - 1, col - 1


# --------------------------------------------------------------------------
# Shared-formula translation.
# --------------------------------------------------------------------------

_FORMULA_TOKEN_PATTERN = (
    r"""
    "(?:[^"]|"")*"                                        # string literal
  | '(?:[^']|'')*'                                        # quoted sheet name
  | \[(?:[^\[\]]|\[[^\[\]]*\])*\]                         # [table] / [external] part
  | (?P<cols>(?<![\w.$\\])(\$?)([A-Za-z]{1,3}):(\$?)([A-Za-z]{1,3})(?![\w.(!\\]))
  | (?P<rows>(?<![\w.$\\:])(\$?)([0-9]{1,7}):(\$?)([0-9]{1,7})(?![\w.(!\\:]))
  | (?P<cell>(?<![\w.$\\])(\$?)([A-Za-z]{1,3})(\$?)([0-9]{1,7})(?![\w.(!\\]))
  | [\w.\\]+                                              # names, functions, numbers
    """
)


@lru_cache(maxsize=1)
def _formula_token() -> "re.Pattern[str]":
    """The tokens of a formula, compiled when a shared formula is first translated (2 ms of every start
    otherwise: a workbook written from our templates has none)."""
    return re.compile(_FORMULA_TOKEN_PATTERN, re.X)


def _shift_col(absolute: str, letters: str, dcol: int) -> str | None:
    n = _col_number(letters)
    if n > EXCEL_MAX_COLS:
        raise _NotARef
    if not absolute:
        n += dcol
        if n < 1 or n > EXCEL_MAX_COLS:
            return None
    return absolute + _col_letters(n)


def _shift_row(absolute: str, digits: str, drow: int) -> str | None:
    n = int(digits)
    if n < 1 or n > EXCEL_MAX_ROWS:
        raise _NotARef
    if not absolute:
        n += drow
        if n < 1 or n > EXCEL_MAX_ROWS:
            return None
    return absolute + str(n)


class _NotARef(Exception):
    pass


@lru_cache(maxsize=256)
def _formula_parts(text: str) -> tuple:
    """Split a formula into literal text and reference tokens, once per text."""
    parts: list = []
    last = 0
    for m in _formula_token().finditer(text):
        kind = m.lastgroup
        if kind is None:
            continue
        if m.start() > last:
            parts.append(text[last:m.start()])
        g = m.groups()
        if kind == "cols":
            parts.append(("cols", m.group(0), g[1], g[2], g[3], g[4]))
        elif kind == "rows":
            parts.append(("rows", m.group(0), g[6], g[7], g[8], g[9]))
        else:
            parts.append(("cell", m.group(0), g[11], g[12], g[13], g[14]))
        last = m.end()
    if last < len(text):
        parts.append(text[last:])
    return tuple(parts)


class _Template:
    """A formula as a format string whose fields are its relative column
    letters and row numbers, so shifting it is a few list operations."""

    __slots__ = ("fmt", "cols", "rows", "col_text", "col_range", "row_range", "n_refs")

    def __init__(self, fmt: str, cols: list[int], rows: list[int]) -> None:
        self.fmt = fmt
        self.cols = tuple(cols)
        self.rows = tuple(rows)
        self.col_text = [_col_letters(c) for c in cols]
        self.col_range = (min(cols), max(cols)) if cols else (1, 1)
        self.row_range = (min(rows), max(rows)) if rows else (1, 1)
        self.n_refs = len(cols) + len(rows)

    def shift(self, drow: int, dcol: int) -> str | None:
        """The shifted text, or None if a reference leaves the grid."""
        lo, hi = self.col_range
        if lo + dcol < 1 or hi + dcol > EXCEL_MAX_COLS:
            return None
        lo, hi = self.row_range
        if lo + drow < 1 or hi + drow > EXCEL_MAX_ROWS:
            return None
        if dcol:
            col_text = map(_col_letters, map(dcol.__add__, self.cols))
        else:
            col_text = self.col_text
        return self.fmt.format(*col_text, *map(drow.__add__, self.rows))


@lru_cache(maxsize=256)
def _template(text: str) -> _Template:
    pieces: list[tuple[str, object]] = []   # ("lit", text) / ("col", i) / ("row", i)
    cols: list[int] = []
    rows: list[int] = []

    def col(absolute: str, letters: str) -> None:
        n = _col_number(letters)
        if absolute:
            pieces.append(("lit", "$" + _col_letters(n)))
        else:
            pieces.append(("col", len(cols)))
            cols.append(n)

    def row(absolute: str, digits: str) -> None:
        if absolute:
            pieces.append(("lit", "$" + str(int(digits))))
        else:
            pieces.append(("row", len(rows)))
            rows.append(int(digits))

    for part in _formula_parts(text):
        if isinstance(part, str):
            pieces.append(("lit", part))
            continue
        kind, original, a1, x1, a2, x2 = part
        if not _is_ref(kind, x1, x2):
            pieces.append(("lit", original))
        elif kind == "cols":
            col(a1, x1)
            pieces.append(("lit", ":"))
            col(a2, x2)
        elif kind == "rows":
            row(a1, x1)
            pieces.append(("lit", ":"))
            row(a2, x2)
        else:
            col(a1, x1)
            row(a2, x2)
    n_cols = len(cols)
    fmt = []
    for kind, value in pieces:
        if kind == "lit":
            fmt.append(str(value).replace("{", "{{").replace("}", "}}"))
        elif kind == "col":
            fmt.append("{%d}" % value)
        else:
            fmt.append("{%d}" % (n_cols + value))
    return _Template("".join(fmt), cols, rows)


def _is_ref(kind: str, x1: str, x2: str) -> bool:
    if kind == "cols":
        return _col_number(x1) <= EXCEL_MAX_COLS and _col_number(x2) <= EXCEL_MAX_COLS
    if kind == "rows":
        return 1 <= int(x1) <= EXCEL_MAX_ROWS and 1 <= int(x2) <= EXCEL_MAX_ROWS
    return _col_number(x1) <= EXCEL_MAX_COLS and 1 <= int(x2) <= EXCEL_MAX_ROWS


def shift_formula(text: str, drow: int, dcol: int) -> str:
    """Move the relative references of ``text`` by (drow, dcol).

    This is how Excel derives the formula of a cell that shares the formula
    of a master cell (``<f t="shared" si="..."/>``).  Absolute parts (``$``)
    stay; string literals, quoted sheet names, structured references and
    function names are left alone.  A reference moved off the grid becomes
    ``#REF!``, as in Excel.
    """
    if not drow and not dcol:
        return text
    shifted = _template(text).shift(drow, dcol)
    if shifted is not None:
        return shifted
    return _shift_slow(text, drow, dcol)


def _shift_slow(text: str, drow: int, dcol: int) -> str:
    """Token-by-token shift; turns each reference that leaves the grid into #REF!."""
    out: list[str] = []
    for part in _formula_parts(text):
        if isinstance(part, str):
            out.append(part)
            continue
        kind, original, a1, x1, a2, x2 = part
        try:
            if kind == "cols":
                p1, p2 = _shift_col(a1, x1, dcol), _shift_col(a2, x2, dcol)
                new = None if p1 is None or p2 is None else f"{p1}:{p2}"
            elif kind == "rows":
                p1, p2 = _shift_row(a1, x1, drow), _shift_row(a2, x2, drow)
                new = None if p1 is None or p2 is None else f"{p1}:{p2}"
            else:
                c = _shift_col(a1, x1, dcol)
                r = _shift_row(a2, x2, drow)
                new = None if c is None or r is None else c + r
        except _NotARef:
            new = original
        out.append("#REF!" if new is None else new)
    return "".join(out)


# --------------------------------------------------------------------------
# Data classes.
# --------------------------------------------------------------------------


class SheetInfo(Struct, frozen=True):
    """One ``<sheet>`` of xl/workbook.xml.

    ``kind`` is "worksheet", "chartsheet", "dialogsheet" or "macrosheet";
    ``state`` is "visible", "hidden" or "veryHidden"; ``part`` is the zip
    member holding the sheet XML.
    """

    name: str
    index: int
    sheet_id: str
    rel_id: str
    part: str
    state: str
    kind: str


class DefinedName(Struct, frozen=True):
    """A ``<definedName>``: ``formula`` is the text as stored (no leading =).

    ``local_sheet_id`` is the 0-based sheet index for a sheet-scoped name and
    None for a workbook-scoped one.
    """

    name: str
    formula: str
    local_sheet_id: int | None = None
    hidden: bool = False


class RawSheet(Struct):
    """What the raw reader knows about one sheet.  Positions are 0-based.

    Attributes:
        values: Non-empty cached cell values, (row, col) -> float, str, bool,
            datetime/date/time/timedelta.  Formula cells hold their cached
            result here (evidence only).  Error results are in ``errors``.
        formulas: (row, col) -> formula text with a leading ``=``, as Excel
            shows it.  Shared formulas are expanded; a shared child whose
            master is missing maps to ``""`` (it is still a formula cell).
        cached_types: For each formula cell, the type of its cached result:
            "number", "str", "bool", "error" or "empty" (no cached value).
        errors: Cells whose cached value is an error, (row, col) -> "#DIV/0!".
        array_formulas: Master cell of an array formula -> its range.
        protected: True when ``<sheetProtection sheet="1">`` is present.
        protection: All attributes of ``<sheetProtection>`` as strings.
        dimension: The ``<dimension ref>`` (a writer's hint, may be wrong).
        merged: Merged ranges such as "A1:Q1".
        state / kind: From xl/workbook.xml (see ``SheetInfo``).
    """

    name: str
    part: str = ""
    state: str = "visible"
    kind: str = "worksheet"
    values: dict[Cell, object] = field(default_factory=dict)
    formulas: dict[Cell, str] = field(default_factory=dict)
    cached_types: dict[Cell, str] = field(default_factory=dict)
    errors: dict[Cell, str] = field(default_factory=dict)
    array_formulas: dict[Cell, str] = field(default_factory=dict)
    protected: bool = False
    protection: dict[str, str] = field(default_factory=dict)
    dimension: str | None = None
    merged: list[str] = field(default_factory=list)

    def value(self, ref: str) -> object:
        """Cached value at an A1 reference, or None."""
        return self.values.get(parse_ref(ref))

    def formula(self, ref: str) -> str | None:
        """Formula text (with =) at an A1 reference, or None."""
        return self.formulas.get(parse_ref(ref))

    @property
    def max_row(self) -> int:
        """0-based index of the last row holding a value or formula; -1 if none."""
        keys = list(self.values) + list(self.formulas)
        return max((r for r, _ in keys), default=-1)

    @property
    def max_col(self) -> int:
        """0-based index of the last column holding a value or formula; -1 if none."""
        keys = list(self.values) + list(self.formulas)
        return max((c for _, c in keys), default=-1)


# --------------------------------------------------------------------------
# XML helpers.
# --------------------------------------------------------------------------

_XML_DECL = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["'][^>]*\?>""")
_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.I)
_BAD_ENTITY = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6});)")
_UTF8_NAMES = {"utf-8", "utf8"}


def _xml_error(path: str | None, part: str, zh: str, en: str) -> WorkbookError:
    return WorkbookError("bad-xml", path=path, part=part, detail=zh, detail_en=en)


def _normalize_xml(data: bytes, part: str, path: str | None) -> bytes:
    """UTF-8 bytes without BOM, with DTDs and undefined entities refused."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise _xml_error(path, part, "UTF-16 编码无效", "invalid UTF-16") from None
        data = _redeclare(text)
    else:
        m = _XML_DECL.match(data, 0, 512)
        enc = m.group(1).decode("ascii").lower() if m else "utf-8"
        if enc.replace("_", "-") not in _UTF8_NAMES:
            try:
                codecs.lookup(enc)
                text = data.decode(enc)
            except (LookupError, UnicodeDecodeError):
                raise _xml_error(path, part, f"无法按声明的编码 {enc} 解码",
                                 f"cannot decode with the declared encoding {enc}") from None
            data = _redeclare(text)
        elif not data.isascii():  # ASCII is UTF-8 (and is told in one quick pass)
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _xml_error(path, part, f"第 {exc.start} 字节不是有效的 UTF-8",
                                 f"byte {exc.start} is not valid UTF-8") from None
    declares = _has_markup_declaration(data)
    if declares and _DTD.search(data):
        raise WorkbookError("xml-entities", path=path, part=part)
    if b"&" in data and not (declares and b"<![CDATA[" in data):
        m = _BAD_ENTITY.search(data)
        if m:
            raise _xml_error(path, part, f"第 {m.start()} 字节处有未定义的实体引用",
                             f"undefined entity reference at byte {m.start()}")
    return data


def _has_markup_declaration(data: bytes) -> bool:
    """``b"<!" in data`` (a DTD, comment or CDATA section may follow), told by its rarer byte: a search for
    two bytes that start with "<" stops at every tag of the XML, and costs more than the rest of the checks
    here; "!" is rare in sheet XML (a formula naming another sheet), and each one is looked at."""
    n = data.count(b"!")
    if not n:
        return False
    if n > 64:
        return b"<!" in data
    find, at = data.find, -1
    for _ in range(n):
        at = find(b"!", at + 1)
        if at > 0 and data[at - 1] == 60:  # "<"
            return True
    return False


def _redeclare(text: str) -> bytes:
    text = text.lstrip("\ufeff")
    text = re.sub(r"""^<\?xml[^>]*\?>""", '<?xml version="1.0" encoding="UTF-8"?>', text, count=1)
    return text.encode("utf-8")


def _parse_xml(data: bytes, part: str, path: str | None):
    data = _normalize_xml(data, part, path)
    try:
        return DET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise WorkbookError("xml-entities", path=path, part=part) from None
    except ParseError as exc:
        raise _xml_error(path, part, f"格式错误（解析器提示：{exc}）", f"not well-formed: {exc}") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attr(elem, local: str) -> str | None:
    """Attribute by local name, whatever its namespace."""
    v = elem.get(local)
    if v is not None:
        return v
    for key, value in elem.attrib.items():
        if key.endswith("}" + local):
            return value
    return None


def _children(elem, local: str):
    return [c for c in elem if _local(c.tag) == local]


def _truthy(v: str | None) -> bool:
    return v is not None and v.strip().lower() in ("1", "true")


def _resolve_target(base_dir: str, target: str) -> str:
    target = target.replace("\\", "/")
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(base_dir, target))


def _rels(root) -> dict[str, tuple[str, str, str]]:
    """Relationship Id -> (Type, Target, TargetMode)."""
    out = {}
    for rel in root:
        if _local(rel.tag) != "Relationship":
            continue
        rid = rel.get("Id")
        if rid:
            out[rid] = (rel.get("Type", ""), rel.get("Target", ""), rel.get("TargetMode", ""))
    return out


# --------------------------------------------------------------------------
# Sheet XML scan.
# --------------------------------------------------------------------------

_ROOT = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?worksheet\b([^>]*)>")
_ATTRS = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_T_ATTR = re.compile(rb'\st="([^"]*)"')

# Fast path: every <c> starts with ' r="' and an upper-case reference in
# double quotes (Excel, WPS, LibreOffice, openpyxl and xlsxwriter all write
# that); _odd_cells() finds the sheets where this does not hold.
# A formula and its cached value, found from its <f> (a sheet has far fewer formulas than cells); the <c> tag
# it belongs to is then read backwards from there (_C_OPEN, which must end where the <f> starts).
_F_FAST = re.compile(rb"<f\b([^>]*?)(?:/>|>([^<]*)</f>)\s*(?:<v>([^<]*)</v>|<v/>)?")
_C_OPEN = re.compile(rb'<c r="([A-Z]{1,3}[0-9]{1,7})"([^>]*)>\s*')
_ERROR_CELL = re.compile(rb't="e"')  # (the regex engine finds it in a sheet 1.6x faster than ``bytes.find``)
_E_FAST = re.compile(rb'<c r="([A-Z]{1,3}[0-9]{1,7})"[^>]*?\st="e"[^>]*>\s*'
                     rb"(?:<f\b[^>]*?(?:/>|>[^<]*</f>)\s*)?<v>([^<]*)</v>")


@lru_cache(maxsize=16)
def _patterns(prefix: bytes):
    """Prefix-aware patterns for the general path and sheet-level elements."""
    p = re.escape(prefix + b":") if prefix else b""
    return {
        "rowc": re.compile(rb"<" + p + rb"(row|c)\b([^>]*)>"),
        "after_c": re.compile(
            rb"\s*(?:(<" + p + rb"f\b([^>]*?)(?:/>|>([^<]*)</" + p + rb"f>))\s*)?"
            rb"(?:<" + p + rb"v>([^<]*)</" + p + rb"v>)?"
        ),
        "dimension": re.compile(rb"<" + p + rb"dimension\b([^>]*)>"),
        "merge": re.compile(rb"<" + p + rb"mergeCell\b([^>]*)>"),
        "protection": re.compile(rb"<" + p + rb"sheetProtection\b([^>]*)>"),
        "end": b"</" + (prefix + b":" if prefix else b"") + b"worksheet>",
        "data": b"<" + (prefix + b":" if prefix else b"") + b"sheetData",
        "data_end": b"</" + (prefix + b":" if prefix else b"") + b"sheetData>",
    }


def _attrs(raw: bytes) -> dict[str, str]:
    out = {}
    for m in _ATTRS.finditer(raw):
        v = m.group(2) if m.group(2) is not None else m.group(3)
        text = v.decode("utf-8", "replace")
        out[m.group(1).decode("utf-8", "replace")] = _unescape(text) if "&" in text else text
    return out


_SHARED_CHILD = re.compile(rb'\s*t="shared"\s+si="([0-9]{1,9})"\s*')

_CACHED_TYPE = {b"str": "str", b"s": "str", b"inlineStr": "str", b"e": "error", b"b": "bool",
                b"n": "number", b"d": "str"}


def _formula_text(raw: bytes | None) -> str:
    if not raw:
        return ""
    text = raw.decode("utf-8")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "&" in text:
        text = _unescape(text)
    return text


def _unescape(text: str) -> str:
    """``html.unescape`` (imported only for a text with a reference: its table of entities costs 1.4 ms)."""
    import html

    return html.unescape(text)


class _Scan:
    __slots__ = ("formulas", "cached_types", "errors", "array_formulas", "masters", "children",
                 "max_row", "max_col", "fast")

    def __init__(self) -> None:
        self.formulas: dict[Cell, str] = {}
        self.cached_types: dict[Cell, str] = {}
        self.errors: dict[Cell, str] = {}
        self.array_formulas: dict[Cell, str] = {}
        self.masters: dict[str, tuple[int, int, str]] = {}
        self.children: list[tuple[int, int, str]] = []
        self.max_row = -1
        self.max_col = -1
        self.fast = False  # read by _scan_fast: every cell starts <c r="A1"

    def formula(self, key: Cell, c_attrs: bytes, f_attrs: bytes, f_text: bytes | None,
                cached: bytes | None) -> None:
        text = _formula_text(f_text)
        child = _SHARED_CHILD.fullmatch(f_attrs) if f_attrs and not text else None
        if child:
            # Excel's shared child, <f t="shared" si="3"/>: by far the most common.
            self.children.append((key[0], key[1], child.group(1).decode("ascii")))
        elif f_attrs and b"t=" in f_attrs:
            fa = _attrs(f_attrs)
            ftype = fa.get("t", "normal")
            if ftype == "shared":
                si = fa.get("si", "")
                if "ref" in fa and text:
                    self.masters[si] = (key[0], key[1], text)
                elif not text:
                    self.children.append((key[0], key[1], si))
            elif ftype == "array":
                self.array_formulas[key] = fa.get("ref", to_ref(*key))
        self.formulas[key] = "=" + text if text else ""
        t = _T_ATTR.search(c_attrs) if c_attrs else None
        tval = t.group(1) if t else b"n"
        if cached is None or (cached == b"" and tval not in (b"str", b"inlineStr")):
            self.cached_types[key] = "empty"
        else:
            self.cached_types[key] = _CACHED_TYPE.get(tval, "number")
        if tval == b"e" and cached:
            self.errors[key] = cached.decode("utf-8", "replace")

    def expand_shared(self, max_chars: int, max_refs: int) -> bool:
        """Expand shared-formula children; False if that would produce more
        than ``max_chars`` characters or shift more than ``max_refs``
        references (a short XML could otherwise expand hugely)."""
        chars = refs = 0
        formulas = self.formulas
        for row, col, si in self.children:
            master = self.masters.get(si)
            if master is None:
                continue
            mrow, mcol, text = master
            chars += len(text)
            refs += _template(text).n_refs
            if chars > max_chars or refs > max_refs:
                return False
            formulas[(row, col)] = "=" + shift_formula(text, row - mrow, col - mcol)
        return True


def _absurd(path: str | None, sheet: str, zh: str, en: str, limits: Limits) -> WorkbookError:
    return WorkbookError(
        "absurd-dimensions", path=path, sheet=sheet,
        detail=f"{zh}，上限 {limits.max_rows} 行 × {limits.max_cols} 列",
        detail_en=f"{en}; limit {limits.max_rows} rows x {limits.max_cols} columns",
    )


def _check_ref_range(ref: str, what_zh: str, what_en: str, sheet: str, path: str | None,
                     limits: Limits) -> None:
    for piece in ref.replace("$", "").split(":"):
        m = re.fullmatch(r"([A-Za-z]{1,4})([0-9]{1,8})|([A-Za-z]{1,4})|([0-9]{1,8})", piece.strip())
        if not m:
            continue
        letters = m.group(1) or m.group(3)
        digits = m.group(2) or m.group(4)
        if (letters and _col_number(letters) > limits.max_cols) or (digits and int(digits) > limits.max_rows):
            raise _absurd(path, sheet, f"{what_zh} {ref}", f"{what_en} {ref}", limits)


_MERGE_FAST = re.compile(rb'<mergeCell ref="([A-Z]{1,4}[0-9]{1,8}(?::[A-Z]{1,4}[0-9]{1,8})?)"\s*/>')


@lru_cache(maxsize=16)
def _refs_within(rows: int, cols: int):
    """Matches a space-separated run of references (A1 or A1:B2) whose every row and column is within
    rows x cols: one pass checks all the merged ranges of a sheet against the limits."""
    ref = _le_letters(cols) + _le_number(rows)
    one = ref + b"(?::" + ref + b")?"
    return re.compile(one + b"(?: " + one + b")*")


def _merged_ranges(xml: bytes, start: int, pats: dict, sheet: str, path: str | None, limits: Limits) -> list[str]:
    """The merged ranges after <sheetData>, each checked against the limits.

    Writers put thousands of them in a large workbook.  In the usual form (``<mergeCell ref="A1:Q1"/>``, no
    namespace prefix) one pattern checks them all against the limits; anything else takes the
    attribute-by-attribute path."""
    # the tags are looked for from the first "<mergeCell" to the end of the last (not over the conditional
    # formats and data validations after them, often most of what follows the cells)
    first = xml.find(b"<mergeCell", start)
    if first < 0:
        first = end = len(xml)
    else:
        end = xml.find(b">", xml.rfind(b"<mergeCell", first))
        end = len(xml) if end < 0 else end + 1
    refs = _MERGE_FAST.findall(xml, first, end)
    # every <mergeCell> is usual: as many as the tags that start so (<mergeCells> aside; a tag of another
    # name that starts so is counted too, and sends the sheet to the slow path)
    if not pats["data"].startswith(b"<sheetData") or (
            xml.count(b"<mergeCell", first, end) - xml.count(b"<mergeCells", first, end) != len(refs)):
        merged = []
        for m in pats["merge"].finditer(xml, start):
            ref = _attrs(m.group(1)).get("ref")
            if ref:
                _check_ref_range(ref, "合并区域", "merged range", sheet, path, limits)
                merged.append(ref)
        return merged
    if not refs:
        return []
    joined = b" ".join(refs)
    if not _refs_within(limits.max_rows, limits.max_cols).fullmatch(joined):
        for r in refs:  # the first one over the limits, in file order, is reported
            _check_ref_range(r.decode("ascii"), "合并区域", "merged range", sheet, path, limits)
    return joined.decode("ascii").split(" ")


def _check_cell(row: int, col: int, sheet: str, path: str | None, limits: Limits) -> None:
    if row + 1 > limits.max_rows or col + 1 > limits.max_cols:
        ref = to_ref(row, col)
        raise _absurd(path, sheet, f"单元格 {ref}", f"cell {ref}", limits)


def _le_number(n: int) -> bytes:
    """Regex for the decimal numbers 1..n (no leading zeros)."""
    digits = str(n).encode()
    size = len(digits)
    alts = []
    if size > 1:
        alts.append(b"[1-9][0-9]{0,%d}" % (size - 2))
    for i in range(size):
        low = 49 if i == 0 else 48  # "1" or "0"
        d = digits[i]
        if d > low:
            alts.append(digits[:i] + b"[%c-%c]" % (low, d - 1) + (b"[0-9]{%d}" % (size - i - 1)))
    alts.append(digits)
    return b"(?:" + b"|".join(alts) + b")"


def _le_letters(n: int) -> bytes:
    """Regex for the column letters of columns 1..n."""
    letters = _col_letters(n).encode()
    size = len(letters)
    alts = []
    if size > 1:
        alts.append(b"[A-Z]{1,%d}" % (size - 1))
    for i in range(size):
        ch = letters[i]
        if ch > 65:
            alts.append(letters[:i] + b"[A-%c]" % (ch - 1) + (b"[A-Z]{%d}" % (size - i - 1)))
    alts.append(letters)
    return b"(?:" + b"|".join(alts) + b")"


@lru_cache(maxsize=64)
def _odd_cells(rows: int, cols: int):
    """Find the <c> tags that need a look: not in the fast form (r="..."
    first, double quotes, upper case), or outside the hinted extent
    rows x cols.  On a file with a truthful <dimension> it finds nothing."""
    inside = _inside(rows, cols)
    return re.compile(
        # Reference lengths are capped so that hostile 1 MB "references" cannot
        # reach int() or the column arithmetic; they take the general path.
        rb'<c(?:([\t\r\n>/])| (?!r="' + inside + rb')(?:r="([A-Z]{1,6})([0-9]{1,10})")?)'
    )


@lru_cache(maxsize=64)
def _any_odd_cell(rows: int, cols: int):
    """Finds a <c> tag where ``_odd_cells`` finds one (and only there): "<c" followed by whitespace, ">"
    or "/", but not by ' r="' and a reference inside rows x cols."""
    return re.compile(rb'<c(?! r="' + _inside(rows, cols) + rb")(?=[ \t\r\n>/])")


def _inside(rows: int, cols: int) -> bytes:
    """The pattern of a reference inside rows x cols with its closing quote (one that never matches for an
    empty extent)."""
    return _le_letters(cols) + _le_number(rows) + b'"' if rows >= 1 and cols >= 1 else b"(?!)"


def _scan_fast(xml: bytes, scan: _Scan, sheet: str, part: str, path: str | None, limits: Limits,
               hint_rows: int, hint_cols: int, start: int = 0, end: int | None = None) -> bool:
    """Scan a sheet in the common layout; False when the general scan is needed.

    ``hint_rows`` x ``hint_cols`` is the extent claimed by <dimension>
    (already checked against the limits).  Cells outside it are found by
    one regex pass and give the true extent, so a lying dimension costs time,
    not safety.  Cells are looked for in ``xml[start:end]``, the sheetData:
    calamine reads no cell outside it (a large form's data validations and
    conditional formats after it are a third of its XML).
    """
    if end is None:
        end = len(xml)
    max_row, max_col = hint_rows, hint_cols
    # (one pass that only tells whether there is any such cell, the common answer being no, costs a fifth
    # less than the pass that also takes each one apart)
    found = _odd_cells(hint_rows, hint_cols).findall(xml, start, end) \
        if _any_odd_cell(hint_rows, hint_cols).search(xml, start, end) else ()
    if found:
        row_digits = []
        col_letters = set()
        for odd, letters, digits in found:
            if odd or not letters:
                return False  # an unusual <c>: whitespace, no r, r not first
            row_digits.append(digits)
            col_letters.add(letters)
        top_row = max(map(int, row_digits))
        top_col = max(map(_col_number, (x.decode("ascii") for x in col_letters)))
        if top_row > limits.max_rows or top_col > limits.max_cols:
            raise _absurd(path, sheet, f"单元格引用达到 {_col_letters(top_col)}{top_row}",
                          f"cell references reach {_col_letters(top_col)}{top_row}", limits)
        max_row = max(max_row, top_row)
        max_col = max(max_col, top_col)
    scan.max_row, scan.max_col = max_row - 1, max_col - 1

    # Formulas.  The common case (a plain <f> with ASCII-safe text and a
    # numeric or absent cached value) is handled inline: it is most cells.
    formulas = scan.formulas
    cached_types = scan.cached_types
    rfind, c_open = xml.rfind, _C_OPEN.match
    for m in _F_FAST.finditer(xml, start, end):
        at = m.start()
        c = c_open(xml, rfind(b"<c ", 0, at), at)
        if c is None or c.end() != at:
            return False  # a <f> not right inside a usual <c r="…">: the general scan reads it
        ref, c_attrs = c.groups()
        f_attrs, f_text, cached = m.groups(b"")
        if f_attrs or b"t=" in c_attrs or b"/" in c_attrs or b"&" in f_text or b"\r" in f_text:
            if not c_attrs.endswith(b"/"):
                scan.formula(_ref_b(ref), c_attrs, f_attrs, f_text, cached)
            continue
        key = _ref_b(ref)
        formulas[key] = "=" + f_text.decode("utf-8") if f_text else ""
        cached_types[key] = "number" if cached else "empty"
    if _ERROR_CELL.search(xml, start, end):
        for m in _E_FAST.finditer(xml, start, end):
            scan.errors[_ref_b(m.group(1))] = m.group(2).decode("utf-8", "replace")
    return True


def _scan_general(xml: bytes, pats: dict, scan: _Scan, sheet: str, part: str, path: str | None,
                  limits: Limits) -> None:
    """Tag-by-tag scan: any attribute order or quoting, implicit positions."""
    after_c = pats["after_c"]
    row = -1
    col = -1
    max_row = max_col = -1
    for m in pats["rowc"].finditer(xml):
        raw = m.group(2)
        a = _attrs(raw) if raw.strip(b" \t\r\n/") else {}
        if m.group(1) == b"row":
            r = a.get("r")
            try:
                row = int(r) - 1 if r else row + 1
            except ValueError:
                raise _xml_error(path, part, f"行号 {_q(r)} 无效", f"invalid row number {_q(r)}") from None
            col = -1
            continue
        ref = a.get("r")
        if ref:
            try:
                row_c, col = parse_ref(ref)
            except ValueError:
                raise _xml_error(path, part, f"单元格引用 {_q(ref)} 无效",
                                 f"invalid cell reference {_q(ref)}") from None
        else:
            row_c, col = max(row, 0), col + 1
        _check_cell(row_c, col, sheet, path, limits)
        if row_c > max_row:
            max_row = row_c
        if col > max_col:
            max_col = col
        if raw.endswith(b"/"):
            continue
        am = after_c.match(xml, m.end())
        key = (row_c, col)
        t = a.get("t", "n").encode()
        if am.group(1):
            scan.formula(key, b' t="%s"' % t, am.group(2), am.group(3), am.group(4))
        elif t == b"e" and am.group(4):
            scan.errors[key] = am.group(4).decode("utf-8", "replace")
    scan.max_row, scan.max_col = max_row, max_col


def _scan_sheet(xml: bytes, sheet: str, part: str, path: str | None, limits: Limits,
                out: RawSheet) -> _Scan:
    root = _ROOT.search(xml, 0, 65536)
    if root is None:
        raise _xml_error(path, part, "找不到 <worksheet> 根元素", "no <worksheet> root element")
    prefix = root.group(1) or b""
    pats = _patterns(prefix)
    scan = _Scan()
    if root.group(2).endswith(b"/"):
        return scan  # <worksheet .../>: an empty sheet
    # the end tag, after any trailing whitespace (the tail alone first: stripping a copy of all the sheet costs)
    if not xml[-4096:].rstrip().endswith(pats["end"]) and not xml.rstrip().endswith(pats["end"]):
        raise _xml_error(path, part, "XML 不完整或格式错误（缺少结束标记）",
                         "incomplete or malformed XML (missing end tag)")

    # <dimension> comes before <sheetData>; <sheetProtection> and
    # <mergeCells> after it.  Searching only there skips the bulk of the XML.
    data_start = xml.find(pats["data"])
    data_end = xml.rfind(pats["data_end"])
    if data_start < 0:
        data_start = len(xml)
    # the cells are looked for between the two (without an end tag, in the rest of the XML)
    cells_end = data_end if data_end >= data_start else len(xml)
    if data_end < data_start:
        data_end = data_start
    hint_rows = hint_cols = 0
    m = pats["dimension"].search(xml, 0, data_start)
    if m:
        ref = _attrs(m.group(1)).get("ref")
        if ref:
            out.dimension = ref
            _check_ref_range(ref, "声明的范围", "declared dimension", sheet, path, limits)
            last = _REF_RE.fullmatch(ref.split(":")[-1].strip())
            if last:
                hint_rows, hint_cols = int(last.group(2)), _col_number(last.group(1))
    out.merged = _merged_ranges(xml, data_end, pats, sheet, path, limits)
    m = pats["protection"].search(xml, data_end)
    if m:
        out.protection = _attrs(m.group(1))
        out.protected = _truthy(out.protection.get("sheet"))

    if not prefix and _scan_fast(xml, scan, sheet, part, path, limits, hint_rows, hint_cols, data_start, cells_end):
        scan.fast = True
    else:
        scan = _Scan()
        _scan_general(xml, pats, scan, sheet, part, path, limits)
        # calamine may size its buffers from <dimension>: count it in.
        if scan.max_row >= 0:
            scan.max_row = max(scan.max_row, hint_rows - 1)
            scan.max_col = max(scan.max_col, hint_cols - 1)
    area = (scan.max_row + 1) * (scan.max_col + 1)
    if area > limits.max_cells_area:
        raise WorkbookError(
            "absurd-dimensions", path=path, sheet=sheet,
            detail=f"使用区域约 {scan.max_row + 1} 行 × {scan.max_col + 1} 列，"
                   f"超过 {limits.max_cells_area} 个单元格的上限",
            detail_en=f"used area of about {scan.max_row + 1} rows x {scan.max_col + 1} columns, "
                      f"over the limit of {limits.max_cells_area} cells")
    # Shared formulas may expand to 10 characters per byte of sheet XML (real
    # files: well under 1) plus 1 MB, and shift a million references.
    if not scan.expand_shared(10 * len(xml) + 1_000_000, 1_000_000):
        raise _xml_error(path, part, "共享公式展开后过大", "shared formulas expand to too much text")
    return scan


# --------------------------------------------------------------------------
# calamine values.
# --------------------------------------------------------------------------

_EMPTY = ""
# Values of sheets in the usual form are read in Python (purevalues), the others by calamine, where that saves
# the isolated child calamine would need (a lone check); a pool worker is its own isolation, and there calamine
# reads faster than Python does.
PURE_VALUES = True
# A workbook opened with ``first`` sheets whose other sheets' XML adds up to this much has them read by calamine
# in a child while the caller works on the first ones (a smaller one is read in Python at once).
BACKGROUND_BYTES = 1 << 20
_SST_COUNTS = re.compile(rb"""\s(?:count|uniqueCount)\s*=\s*(?:"[^"]*"|'[^']*')""")
_CPYTHON = sys.implementation.name == "cpython"  # (platform.python_implementation() parses sys.version with regexes)


def _values_from_rows(rows: list, r0: int, c0: int) -> dict[Cell, object]:
    values: dict[Cell, object] = {}
    if _CPYTHON:
        # CPython returns the one empty-string object for every "" calamine
        # produces; an identity test is twice as fast as ``v != ""``.
        empty = _EMPTY
        for i, row in enumerate(rows, r0):
            if row.count(empty) == len(row):  # a blank row (most rows of a form's spare lines): one C-level pass
                continue
            for j, v in enumerate(row, c0):
                if v is not empty:
                    values[(i, j)] = v
    else:  # pragma: no cover
        for i, row in enumerate(rows, r0):
            for j, v in enumerate(row, c0):
                if not (v.__class__ is str and v == ""):
                    values[(i, j)] = v
    return values


# --------------------------------------------------------------------------
# Workbook.
# --------------------------------------------------------------------------

_SHEET_KINDS = {
    "worksheet": "worksheet",
    "chartsheet": "chartsheet",
    "dialogsheet": "dialogsheet",
    "xlMacrosheet": "macrosheet",
    "xlIntlMacrosheet": "macrosheet",
}


class RawWorkbook:
    """A checked workbook whose sheets are read on demand.

    Use ``RawWorkbook.open(path)``; then ``wb.sheet(name)`` returns a
    ``RawSheet`` (cached).  All data is in memory; no file handle is kept.

    Attributes:
        path: The file that was opened.
        container: The ``ContainerInfo`` from the safety checks.
        sheets: ``SheetInfo`` for every sheet, in workbook order.
        defined_names: Every ``<definedName>``, in file order.
        workbook_protected: True when ``<workbookProtection>`` is present.
        lock_structure: True when it locks the structure.
        workbook_protection: Its attributes (empty when absent).
        custom_properties: docProps/custom.xml, name -> value text.
        date1904: The workbook uses the 1904 date system.
        has_macros: VBA or macro sheets are present (never run, never kept).
        sha256: Hex SHA-256 of the file.
    """

    def __init__(self, container: ContainerInfo, unread: Iterable[str] = (), first: Iterable[str] = ()) -> None:
        self.container = container
        self.path = container.path
        self.limits = container.limits
        self.sheets: list[SheetInfo] = []
        self.defined_names: list[DefinedName] = []
        self.workbook_protected = False
        self.lock_structure = False
        self.workbook_protection: dict[str, str] = {}
        self.custom_properties: dict[str, str] = {}
        self.date1904 = False
        self._by_name: dict[str, SheetInfo] = {}
        self._parts: dict[str, bytes] = {}      # normalized XML for calamine
        self._sheet_xml: dict[str, bytes | WorkbookError] | None = None
        self._prepared: dict[str, RawSheet | WorkbookError] | None = None
        self._cache: dict[str, RawSheet] = {}
        self._longest_shared = 0
        self._pure: purevalues.Reading | None = None
        self.pure_sheets: set[str] = set()      # sheets whose values were read without calamine
        self._fast: set[str] = set()            # sheets _scan_fast read
        self._usual_package = False             # _rels/.rels names xl/workbook.xml, once, as the document
        self._area_used = 0
        self._first: frozenset[str] = frozenset(first)  # sheets read before the others (see _scan_all)
        self._native: "tuple[isolate.Pending, list[SheetInfo]] | None" = None  # calamine's child, working
        self._load()
        # Sheets the caller does not mean to read stay compressed (and out of calamine's copy) until asked for.
        unread = set(unread)
        self._deferred = {s.part for s in self.sheets if s.name in unread}

    # -- Public API. ------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike, limits: Limits | None = None,
             unread: Iterable[str] = (), first: Iterable[str] = ()) -> "RawWorkbook":
        """Check the container and read the workbook-level parts.

        ``unread`` names sheets the caller does not expect to read (a template's own helper sheets,
        say): they are neither inflated nor handed to calamine unless ``sheet()`` asks for them. ``first``
        names sheets the caller reads before the others (a template's identity): in a large workbook
        the others may then be read in the background (see ``_scan_all``).

        Raises:
            WorkbookError: for any unsafe, corrupt or unsupported file.
        """
        return cls(inspect_container(path, limits), unread, first)

    @classmethod
    def from_bytes(cls, data: bytes, name: str | None = None,
                   limits: Limits | None = None) -> "RawWorkbook":
        """Like ``open`` for a file already in memory (an upload, say)."""
        return cls(inspect_bytes(data, limits, path=name))

    @property
    def has_macros(self) -> bool:
        return self.container.has_macros

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the submitted file, to identify it in reports."""
        return self.container.sha256

    @property
    def sheet_names(self) -> list[str]:
        return [s.name for s in self.sheets]

    def sheet_info(self, name: str) -> SheetInfo:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no sheet named {name!r}") from None

    def sheet(self, name: str) -> RawSheet:
        """Read one sheet (cached).

        Raises:
            KeyError: no sheet has that name.
            WorkbookError: bad-xml, xml-entities, absurd-dimensions, zip-bomb,
                corrupt-zip for problems inside that sheet.
        """
        cached = self._cache.get(name)
        if cached is None:
            cached = self._read_sheet(self.sheet_info(name))
            self._cache[name] = cached
        return cached

    def iter_sheets(self) -> Iterator[RawSheet]:
        for info in self.sheets:
            yield self.sheet(info.name)

    def defined_name(self, name: str, local_sheet_id: int | None = None) -> DefinedName | None:
        """Look a defined name up (case-insensitive, as Excel does)."""
        key = name.casefold()
        for dn in self.defined_names:
            if dn.name.casefold() == key and dn.local_sheet_id == local_sheet_id:
                return dn
        return None

    def close(self) -> None:
        """Nothing to release: cells are read in an isolated child and kept as Python values."""

    def __enter__(self) -> "RawWorkbook":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RawWorkbook({self.path!r}, sheets={self.sheet_names!r})"

    # -- Private API. -----------------------------------------------------

    def _read_xml_part(self, name: str, required: bool = True) -> bytes | None:
        actual = self.container.resolve(name)
        if actual is None:
            if required:
                raise WorkbookError("missing-part", path=self.path, part=name)
            return None
        return _normalize_xml(self.container.read(actual), name, self.path)

    def _load(self) -> None:
        path = self.path
        wb_part = "xl/workbook.xml"
        rels_part = "xl/_rels/workbook.xml.rels"
        wb_xml = self._read_xml_part(wb_part)
        rels_xml = self._read_xml_part(rels_part)
        ct_xml = self._read_xml_part("[Content_Types].xml")
        self._parts["[Content_Types].xml"] = ct_xml
        self._parts[wb_part] = wb_xml
        self._parts[rels_part] = rels_xml
        root = _parse_xml(wb_xml, wb_part, path)
        rels = _rels(_parse_xml(rels_xml, rels_part, path))
        if _local(root.tag) != "workbook":
            raise _xml_error(path, wb_part, "根元素不是 <workbook>", "the root element is not <workbook>")

        for child in root:
            tag = _local(child.tag)
            if tag == "workbookPr":
                self.date1904 = _truthy(child.get("date1904"))
            elif tag == "workbookProtection":
                self.workbook_protected = True
                self.workbook_protection = {_local(k): v for k, v in child.attrib.items()}
                self.lock_structure = _truthy(child.get("lockStructure"))
            elif tag == "sheets":
                self._load_sheets(child, rels)
            elif tag == "definedNames":
                for dn in _children(child, "definedName"):
                    lsid = dn.get("localSheetId")
                    try:
                        local = int(lsid) if lsid is not None else None
                    except ValueError:
                        local = None
                    self.defined_names.append(DefinedName(
                        name=dn.get("name", ""), formula=dn.text or "",
                        local_sheet_id=local, hidden=_truthy(dn.get("hidden"))))
        if not self.sheets:
            raise WorkbookError("missing-part", path=path, part="xl/workbook.xml 中的工作表",
                                part_en="the sheets listed in xl/workbook.xml")

        # Parts calamine needs besides the sheets, found through the rels.
        for rtype, target, mode in rels.values():
            suffix = rtype.rsplit("/", 1)[-1]
            if suffix in ("sharedStrings", "styles") and mode != "External":
                part = _resolve_target("xl", target)
                data = self._read_xml_part(part, required=False)
                if data is not None:
                    if suffix == "sharedStrings":
                        # calamine reserves memory for the declared uniqueCount before reading a string:
                        # the counts are hints that a file may fake, so the reader never sees them.
                        data = _SST_COUNTS.sub(b"", data, count=2)
                    self._parts[part] = data
                    if suffix == "sharedStrings":
                        # Longest <si> in bytes: an upper bound for any one string.
                        self._longest_shared = max(map(len, data.split(b"<si")))
        self._load_custom_properties()

    def _load_sheets(self, sheets_elem, rels: dict) -> None:
        path = self.path
        seen: set[str] = set()
        parts: set[str] = set()
        for index, elem in enumerate(_children(sheets_elem, "sheet")):
            name = elem.get("name") or ""
            rid = _attr(elem, "id") or ""
            if not name:
                raise _xml_error(path, "xl/workbook.xml", "工作表缺少名称", "a sheet has no name")
            if name.casefold() in seen:
                raise _xml_error(path, "xl/workbook.xml", f"工作表名称重复：{name}",
                                 f"duplicate sheet name: {name}")
            seen.add(name.casefold())
            rel = rels.get(rid)
            if rel is None:
                raise WorkbookError("missing-part", path=path,
                                    part=f"工作表“{name}”的关系 {rid}",
                                    part_en=f"relationship {rid} of sheet '{name}'")
            rtype, target, _mode = rel
            part = _resolve_target("xl", target)
            if self.container.resolve(part) is None:
                raise WorkbookError("missing-part", path=path, part=part)
            if part in parts:
                raise _xml_error(path, "xl/workbook.xml", f"多个工作表指向同一部分 {part}",
                                 f"several sheets point to the same part {part}")
            parts.add(part)
            kind = _SHEET_KINDS.get(rtype.rsplit("/", 1)[-1], "worksheet")
            state = elem.get("state") or "visible"
            info = SheetInfo(name=name, index=index, sheet_id=elem.get("sheetId", ""),
                             rel_id=rid, part=part, state=state, kind=kind)
            self.sheets.append(info)
            self._by_name[name] = info

    def _load_custom_properties(self) -> None:
        part = "docProps/custom.xml"
        root_rels = self._read_xml_part("_rels/.rels", required=False)
        if root_rels is not None:
            self._parts["_rels/.rels"] = root_rels
            root = _parse_xml(root_rels, "_rels/.rels", self.path)
            self._usual_package = _usual_package(root)
            for rtype, target, mode in _rels(root).values():
                if rtype.endswith("/custom-properties") and mode != "External":
                    part = _resolve_target("", target)
        data = self._read_xml_part(part, required=False)
        if data is None:
            return
        root = _parse_xml(data, part, self.path)
        for prop in root:
            if _local(prop.tag) != "property":
                continue
            name = prop.get("name")
            if name is None:
                continue
            value = "".join("".join(child.itertext()) for child in prop)
            self.custom_properties[name] = value

    def _inflate_sheets(self) -> dict[str, bytes | WorkbookError]:
        """Inflate and normalize every worksheet part once (errors kept per sheet)."""
        if self._sheet_xml is None:
            out: dict[str, bytes | WorkbookError] = {}
            for info in self.sheets:
                if info.kind != "worksheet" or info.part in out or info.part in self._deferred:
                    continue
                try:
                    raw = self.container.read(info.part)
                    out[info.part] = _normalize_xml(raw, info.part, self.path)
                except WorkbookError as exc:
                    out[info.part] = exc
            self._sheet_xml = out
        return self._sheet_xml

    def _calamine_zip(self, readable: set[str]) -> bytes:
        """A fresh, uncompressed zip for calamine: the parts we checked, and the sheets to read (any other
        sheet gets an empty stand-in; calamine only parses the sheets we ask for). A sheet the fast scan read
        goes without what follows its cells (merged ranges, protection, data validations, conditional formats:
        up to half of a form's XML), which calamine would parse for nothing: it reads the cells the scan
        checked, between the same two tags, as the Python reader does."""
        parts = list(self._parts.items())
        fast = {info.part for info in self.sheets if info.name in self._fast}
        for name, data in self._inflate_sheets().items():
            if name not in readable or isinstance(data, WorkbookError):
                data = _EMPTY_SHEET
            elif name in fast:
                data = _cells_only(data)
            parts.append((name, data))
        parts.extend((part, _EMPTY_SHEET) for part in self._deferred)  # left compressed: calamine never parses them
        return stored_zip(parts)

    def _scan_all(self) -> None:
        """Check every worksheet against the limits, then read the cells of those that pass, all at once, in
        an isolated child (see :mod:`xlbudget.io.isolate`): a native crash, abort or hang is this file's
        error. Results and errors are kept per sheet and raised when that sheet is asked for.

        Where the child would be forked, the sheets are read in Python instead (``PURE_VALUES``), except in
        a large workbook opened with ``first`` sheets: those are read in Python at once, and calamine reads
        the others in a child that works while the caller goes on (laying out what it found in the first
        ones, say); they are waited for when one of them is asked for."""
        if self._prepared is not None:
            return
        prepared: dict[str, RawSheet | WorkbookError] = {}
        wanted: list[SheetInfo] = []
        for info in self.sheets:
            if info.part in self._deferred:  # not meant to be read: scanned only if asked for
                continue
            try:
                sheet, needs_values = self._scan_one(info)
                prepared[info.name] = sheet
                if needs_values:
                    wanted.append(info)
            except WorkbookError as exc:
                prepared[info.name] = exc
        background = False
        if wanted and PURE_VALUES and isolate.forks():  # in Python where it saves the native reader's child
            background = bool(self._first) and self._sheet_bytes(wanted) >= BACKGROUND_BYTES
            wanted = [info for info in wanted if (background and info.name not in self._first)
                      or not self._pure_values(info, prepared[info.name])]
        self._prepared = prepared
        if wanted:
            import python_calamine  # noqa: F401  (imported here, once, not in every child)

            data = self._calamine_zip({i.part for i in wanted})
            names = [i.name for i in wanted]
            self._native = (isolate.start(lambda: _native_cells(data, names)), wanted)
            if not background:
                self._collect()

    def _sheet_bytes(self, infos: list[SheetInfo]) -> int:
        xml = self._inflate_sheets()
        return sum(len(x) for x in (xml.get(i.part) for i in infos) if isinstance(x, bytes))

    def _collect(self) -> None:
        """The cells of the sheets calamine reads, from its child, each sheet's values or error kept."""
        if self._native is None:
            return
        pending, wanted = self._native
        self._native = None
        prepared = self._prepared
        assert prepared is not None
        names = [i.name for i in wanted]
        try:
            cells = pending.result()
        except isolate.NativeFailure as exc:
            zh, en = _NATIVE_REASONS.get(exc.reason, ("", ""))
            err = WorkbookError("native-failure", path=self.path, detail=zh, detail_en=en)
            if exc.reason == "error":
                err = _xml_error(self.path, "xl/workbook.xml", f"无法读取工作簿（解析器提示：{exc.detail}）",
                                 f"cannot read the workbook: {exc.detail}")
            cells = {n: err for n in names}
        for info in wanted:
            got = cells[info.name]
            if isinstance(got, WorkbookError):
                prepared[info.name] = got
            elif isinstance(got, str):
                prepared[info.name] = _xml_error(self.path, info.part, f"格式错误（解析器提示：{got}）",
                                                 f"not well-formed: {got}")
            else:
                start, rows = got
                sheet = prepared[info.name]
                assert isinstance(sheet, RawSheet)
                if start is not None:
                    sheet.values = _values_from_rows(rows, start[0], start[1])

    def _pure_values(self, info: SheetInfo, sheet: RawSheet) -> bool:
        """Read the sheet's values in Python when it is in the usual form (see :mod:`purevalues`); False
        when calamine is to read them."""
        if info.name not in self._fast or not self._usual_package:
            return False
        if self._pure is None:
            # calamine reads these two at their usual names, whatever the relationships say
            self._pure = purevalues.Reading(self._parts.get("xl/sharedStrings.xml"), self._parts.get("xl/styles.xml"))
        xml = self._inflate_sheets()[info.part]
        assert isinstance(xml, bytes)
        start = xml.find(b"<sheetData")
        end = xml.rfind(b"</sheetData>")
        if start < 0 or end < start:
            return False
        values = self._pure.sheet_values(xml, start, end)
        if values is None:
            return False
        sheet.values = values
        self.pure_sheets.add(info.name)
        return True

    def _read_sheet(self, info: SheetInfo) -> RawSheet:
        if info.part in self._deferred:  # asked for after all: inflate it and read the workbook again
            self._deferred.discard(info.part)
            if self._sheet_xml is not None:
                try:
                    self._sheet_xml[info.part] = _normalize_xml(self.container.read(info.part), info.part, self.path)
                except WorkbookError as exc:
                    self._sheet_xml[info.part] = exc
            self._collect()
            self._prepared, self._area_used = None, 0
        self._scan_all()
        if self._native is not None and info.name not in self._first:
            self._collect()
        assert self._prepared is not None
        got = self._prepared[info.name]
        if isinstance(got, WorkbookError):
            raise got
        return got

    def _scan_one(self, info: SheetInfo) -> tuple[RawSheet, bool]:
        """The sheet's formulas and structure from its XML, checked against the limits; True when it has
        cells for calamine to read."""
        out = RawSheet(name=info.name, part=info.part, state=info.state, kind=info.kind)
        if info.kind != "worksheet":
            return out, False
        xml = self._inflate_sheets()[info.part]
        if isinstance(xml, WorkbookError):
            raise xml
        scan = _scan_sheet(xml, info.name, info.part, self.path, self.limits, out)
        if scan.fast:
            self._fast.add(info.name)
        out.formulas = scan.formulas
        out.cached_types = scan.cached_types
        out.errors = scan.errors
        out.array_formulas = scan.array_formulas
        if scan.max_row < 0:
            return out, False  # no cells at all
        self._area_used += (scan.max_row + 1) * (scan.max_col + 1)
        if self._area_used > self.limits.max_workbook_cells_area:
            raise WorkbookError(
                "absurd-dimensions", path=self.path, sheet=info.name,
                detail=f"各工作表的使用区域合计超过 {self.limits.max_workbook_cells_area} 个单元格的上限",
                detail_en=f"the used areas of all sheets add up to more than "
                          f"{self.limits.max_workbook_cells_area} cells")
        # A cell showing a shared string takes at least 19 bytes (<c t="s"><v>0</v></c>): count them
        # only when that many could go over the limit.
        if self._longest_shared and (len(xml) // 19 + 1) * self._longest_shared > self.limits.max_shared_text_bytes:
            n_shared = xml.count(b't="s"') + xml.count(b"t='s'")
            if n_shared * self._longest_shared > self.limits.max_shared_text_bytes:
                size = human_size(n_shared * self._longest_shared)
                raise WorkbookError(
                    "zip-bomb", path=self.path, part=info.part,
                    detail=f"工作表“{info.name}”引用的共享字符串展开后可达 {size}",
                    detail_en=f"sheet '{info.name}' may expand shared strings to {size}")
        return out, True


def _cells_only(xml: bytes) -> bytes:
    """A sheet in the fast form (no namespace prefix) as calamine is to read it: its cells, closed after
    ``</sheetData>``, with an empty ``<mergeCells>`` before them. calamine looks for a sheet's merged ranges
    (which it hands us but we take from the scan) by parsing its XML up to ``<mergeCells>``, a second parse
    of all its cells; it now stops at once, and its cell reader passes over the element, as it does any
    other before ``<sheetData>``. The sheet as it is when it lacks either tag."""
    start = xml.find(b"<sheetData")
    end = xml.rfind(b"</sheetData>")
    if start < 0 or end < start:
        return xml
    return b"".join((xml[:start], b"<mergeCells></mergeCells>", xml[start:end], b"</sheetData></worksheet>"))


_OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"


def _usual_package(root) -> bool:
    """_rels/.rels has one officeDocument relationship, to xl/workbook.xml (calamine tells the file's format
    from it: without one it reads nothing)."""
    found = [rel for rel in root if _local(rel.tag) == "Relationship" and rel.get("Type") == _OFFICE_DOCUMENT]
    return (len(found) == 1 and found[0].get("Target") in ("xl/workbook.xml", "/xl/workbook.xml")
            and found[0].get("TargetMode", "Internal") == "Internal")


_NATIVE_REASONS = {
    "crash": ("读取单元格的组件异常终止", "the cell reader terminated abnormally"),
    "memory": ("读取单元格所需内存超过上限", "reading the cells needs more memory than allowed"),
    "timeout": ("读取单元格超时", "reading the cells timed out"),
}


def _native_cells(data: bytes, names: list[str]) -> dict[str, object]:
    """calamine's cells of each named sheet: (start, rows), or the parser's message for a sheet it refuses.
    Runs where isolate.run puts it: an isolated child, or a pool worker (itself the isolation)."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except _PASS_THROUGH:
        raise
    except BaseException as exc:  # includes pyo3's PanicException
        raise RuntimeError(_short(exc)) from None
    out: dict[str, object] = {}
    for name in names:
        try:
            sh = book.get_sheet_by_name(name)
            start = sh.start
            out[name] = (start, sh.to_python() if start is not None else [])
        except _PASS_THROUGH:
            raise
        except BaseException as exc:  # includes pyo3's PanicException
            out[name] = _short(exc)
    book.close()
    return out


# Never turned into a WorkbookError: the process, not the file, is at fault.
_PASS_THROUGH = (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)

_EMPTY_SHEET = (b'<?xml version="1.0" encoding="UTF-8"?>'
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                b"<sheetData/></worksheet>")


def _q(value: object) -> str:
    """A quoted, clipped value from the file for messages."""
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]
