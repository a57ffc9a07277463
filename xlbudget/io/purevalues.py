"""Cell values of a worksheet in the usual form, read in Python: the values dict calamine would give.

Excel, WPS, LibreOffice, openpyxl and xlsxwriter all write a sheet's cells as
``<c r="A1" s="3" t="s"><f>…</f><v>…</v></c>``.  For such a sheet one regex
pass reads every cell, and this module builds exactly the dict the calamine
path builds (same keys, same types and values, "" cells and errors left out),
so that no native code runs and no isolated child is needed.

Whatever it is not sure to read as calamine does, it declines (returns None)
and the caller hands the sheet or workbook to calamine: cells in another
form, unknown or unusual attributes, inline strings with runs, ``t="d"``,
numbers whose style has a date or time format (calamine turns those into
dates), number texts outside the plain decimal syntax, ``_xHHHH_`` escapes,
carriage returns, outer spaces calamine trims, cells out of order or
repeated, references calamine cannot parse, unbalanced tags, shared strings
it cannot read exactly.  Every pattern here runs in linear time: no
repetition holds items that could match the same text in two ways.
"""

from __future__ import annotations

import re
from xml.parsers import expat

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as DET
from xml.etree.ElementTree import ParseError

__all__ = ["Reading", "shared_strings", "plain_styles"]

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_WS = " \t\n\r"

Cell = tuple[int, int]

# --------------------------------------------------------------------------
# Shared strings.
# --------------------------------------------------------------------------


def _parse(data: bytes):
    try:
        return DET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, ParseError, ValueError):
        return None


def _t_text(t) -> str | None:
    """Text of a <t> as calamine reads it, or None when unsure (outer whitespace it would trim, children)."""
    if len(t) or (t.tail and t.tail.strip(_WS)):
        return None
    text = t.text or ""
    if t.attrib and (t.attrib.keys() != {_SPACE} or t.get(_SPACE) != "preserve"):
        return None
    if not t.attrib and text and (text[0] in _WS or text[-1] in _WS):
        return None  # calamine trims it; which characters is not worth guessing
    return text


def shared_strings(data: bytes | None) -> list[str] | None:
    """The shared strings, each as calamine reads it; None when any of them is unsure."""
    if data is None:
        return []
    if b"\r" in data or b"<!" in data or b"_x" in data:
        return None  # raw CR (line-end handling), comments/CDATA, _xHHHH_ escapes
    fast = _shared_fast(data)
    if fast is not None:
        return fast
    root = _parse(data)
    if root is None or root.tag != _MAIN + "sst" or (root.text and root.text.strip(_WS)):
        return None
    out: list[str] = []
    t_tag, r_tag = _MAIN + "t", _MAIN + "r"
    skip = (_MAIN + "rPh", _MAIN + "phoneticPr")
    for si in root:
        if si.tag != _MAIN + "si" or si.text or (si.tail and si.tail.strip(_WS)):
            return None
        if len(si) == 1 and si[0].tag == t_tag:  # the usual <si><t>…</t></si>
            text = _t_text(si[0])
            if text is None:
                return None
            out.append(text)
            continue
        parts = []
        for child in si:
            tag = child.tag
            if tag == t_tag:
                text = _t_text(child)
            elif tag == r_tag:
                if child.text or (child.tail and child.tail.strip(_WS)):
                    return None
                text = None
                for grand in child:
                    if grand.tag == t_tag:
                        if text is not None:
                            return None  # two <t> in one run
                        text = _t_text(grand)
                        if text is None:
                            return None
                    elif grand.tag != _MAIN + "rPr" or (grand.tail and grand.tail.strip(_WS)):
                        return None
                text = "" if text is None else text
            elif tag in skip:
                if child.tail and child.tail.strip(_WS):
                    return None
                continue
            else:
                return None
            if text is None:
                return None
            parts.append(text)
        out.append("".join(parts))
    return out


_SST_ROOT = re.compile(rb'(?:<\?xml [^<>]*\?>\s*)?<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
                       rb'(?: [a-zA-Z:]+="[^"<>]*")*>')
_SI_ALL = re.compile(rb'(?:<si><t(?: xml:space="preserve")?>[^<]*</t></si>)*')
_SI = re.compile(rb'<si><t( xml:space="preserve")?>([^<]*)</t></si>')


def _shared_fast(data: bytes) -> list[str] | None:
    """The strings of a table written as ``<si><t>…</t></si>`` only, each in one piece; None otherwise."""
    root = _SST_ROOT.match(data)
    end = data.rfind(b"</sst>")
    if root is None or end < root.end() or data[end + 6:].strip() or not _SI_ALL.fullmatch(data, root.end(), end):
        return None
    found = _SI.findall(data, root.end(), end)
    if not found or b"\x00" in data:
        return [] if not found else None
    # all texts decoded and resolved at once, then cut apart where the NULs (never in XML text) join them
    joined = _text(b"\x00".join([raw for _, raw in found]))
    if joined is None:
        return None
    out = joined.split("\x00")
    for (preserve, _), text in zip(found, out):
        if text and not preserve and (text[0] in _WS or text[-1] in _WS):
            return None  # calamine trims it
    return out


# --------------------------------------------------------------------------
# Styles: which cell formats surely show a number as a number.
# --------------------------------------------------------------------------

# Built-in formats that are not dates or times: General, 0, 0.00, #,##0 … 0.00E+00, # ?/?, accounting, ##0.0E+0, @.
_PLAIN_BUILTIN = frozenset(range(0, 14)) | frozenset(range(37, 45)) | {48, 49}
_SAFE_BRACKET = re.compile(r"\[(?:Red|Black|Blue|Cyan|Green|White|Yellow|Color[0-9]{1,2}|\$[^\[\]]*"
                           r"|[<>=]{1,2}-?[0-9.]{1,20})\]")
_LETTERLESS_QUOTE = re.compile(r'"[^"A-Za-z]*"')


def _plain_code(code: str) -> bool:
    """True when a custom format code surely formats no date or time: no ASCII letter at all outside
    colour, locale and condition brackets and letter-free quoted text (calamine looks for d, m, y, h, s,
    AM/PM and [h]-style parts)."""
    if code.casefold() == "general":
        return True
    rest = _LETTERLESS_QUOTE.sub("", _SAFE_BRACKET.sub("", code))
    return not any("A" <= ch <= "Z" or "a" <= ch <= "z" for ch in rest) and "[" not in rest and '"' not in rest


def plain_styles(data: bytes | None) -> tuple[bool, ...] | None:
    """For each cell format (``s`` index), True when a number in it is surely read as a number; None when
    the styles part cannot be read here. No styles part: an empty tuple (no ``s`` can be trusted)."""
    if data is None:
        return ()
    if b"<!" in data:
        return None
    root = _parse(data)
    if root is None or root.tag != _MAIN + "styleSheet":
        return None
    custom: dict[int, str] = {}
    xfs = None
    for child in root:
        if child.tag == _MAIN + "numFmts":
            for nf in child:
                if nf.tag != _MAIN + "numFmt":
                    continue
                try:
                    custom[int(nf.get("numFmtId", ""))] = nf.get("formatCode", "")
                except ValueError:
                    return None
        elif child.tag == _MAIN + "cellXfs":
            if xfs is not None:
                return None
            xfs = [xf for xf in child if xf.tag == _MAIN + "xf"]
    out = []
    for xf in xfs or ():
        raw = xf.get("numFmtId", "0")
        if not raw.isdigit() or not raw.isascii():
            out.append(False)
            continue
        fid = int(raw)
        if fid in custom:
            out.append((fid >= 164 or fid in _PLAIN_BUILTIN) and _plain_code(custom[fid]))
        else:
            out.append(fid in _PLAIN_BUILTIN)
    return tuple(out)


# --------------------------------------------------------------------------
# Cells.
# --------------------------------------------------------------------------

_A1 = rb"[A-Z]{1,3}[1-9][0-9]{0,6}"
_CELL = re.compile(
    rb'<c r="([A-Z]{1,3}[1-9][0-9]{0,6})"((?: [st]="[^"<>]{0,12}")*)'
    rb">(?:<f(?: [^<>]*)?(?:/>|>[^<]*</f>))?"
    rb'(?:<v>([^<]*)</v>|(<v ?/>|<is><t(?: xml:space="preserve")?>[^<]*</t></is>))?</c>'
)
_ROW = rb'<row r="[1-9][0-9]{0,6}"(?: (?!r=|xmlns)[A-Za-z][A-Za-z0-9:]{0,40}="[^"<>]*")* ?'
_EMPTY_CELL = rb'<c r="' + _A1 + rb'"(?: [st]="[^"<>]{0,12}")* ?/>'  # no value: its t is not even read
# (one whitespace character at a time: a repeated run inside the repetition would backtrack exponentially)
_BETWEEN = re.compile(rb"(?:" + _ROW + rb">(?:" + _EMPTY_CELL + rb"|[ \t\n])*</row>|" + _ROW + rb"/>|[ \t\n])*")
_DIMENSION = re.compile(rb'<dimension ref="' + _A1 + rb"(?::" + _A1 + rb')?" ?/>')
_MERGE = re.compile(rb'<mergeCell ref="' + _A1 + rb"(?::" + _A1 + rb')?" ?/>')
_ATTR = re.compile(rb' ([st])="([^"]*)"')
_NUMBER_TEXT = re.compile(rb"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INDEX = re.compile(rb"[0-9]{1,9}")
_ENTITY = re.compile(r"&(amp|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6});")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_ROOT = re.compile(rb"<worksheet\b[^<>]*>")
_MAIN_NS = b' xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_ERRORS = frozenset((b"#DIV/0!", b"#N/A", b"#NAME?", b"#NULL!", b"#NUM!", b"#REF!", b"#VALUE!"))

# Cell kinds, from the s and t attributes.
_NUMBER, _NUMBER_DATE, _SHARED, _STR, _BOOL, _ERROR, _INLINE, _UNSURE = range(8)
_TYPES = {b"n": _NUMBER, b"s": _SHARED, b"str": _STR, b"b": _BOOL, b"e": _ERROR, b"inlineStr": _INLINE}
_PRESERVE = b'<is><t xml:space="preserve">'



def _kind(attrs: bytes, styles: tuple[bool, ...]) -> int:
    s = t = None
    for name, value in _ATTR.findall(attrs):
        if name == b"s":
            if s is not None or not _INDEX.fullmatch(value):
                return _UNSURE
            s = int(value)
        else:
            if t is not None:
                return _UNSURE
            t = value
    kind = _TYPES.get(b"n" if t is None else t)
    if kind is None:
        return _UNSURE
    if kind == _NUMBER:
        if s is None:
            plain = not styles or styles[0]  # no s: taken as format 0, if there are formats
        else:
            plain = s < len(styles) and styles[s]
        if not plain:
            return _NUMBER_DATE
    return kind


def _xml_char(code: int) -> bool:
    return code in (9, 10, 13) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF


def _text(raw: bytes) -> str | None:
    """The text of a <v> or <t> (entities resolved) as calamine reads it; None when unsure."""
    if b"\r" in raw or b"_x" in raw:
        return None
    text = raw.decode("utf-8")
    if "&" not in text:
        return text
    bad = False

    def one(m: re.Match) -> str:
        nonlocal bad
        name = m.group(1)
        if name[0] != "#":
            return _NAMED[name]
        code = int(name[2:], 16) if name[1] == "x" else int(name[1:])
        if not _xml_char(code) or code == 13:
            bad = True
            return ""
        return chr(code)

    out = _ENTITY.sub(one, text)
    if bad or "&" in _ENTITY.sub("", text):
        return None
    return out


class Reading:
    """The shared strings and cell formats of one workbook, and what its sheets' cells have shown so far
    (a form repeats the same attributes, strings and numbers in cell after cell)."""

    def __init__(self, shared: bytes | None, styles: bytes | None) -> None:
        self.strings = shared_strings(shared)
        self.styles = plain_styles(styles)
        self._kinds: dict[bytes, int] = {}
        self._shared: dict[bytes, str] = {}
        self._numbers: dict[bytes, float] = {}
        self._texts: dict[bytes, str] = {}  # the raw <v> of t="str" and the <is> of inline strings

    def sheet_values(self, xml: bytes, start: int, end: int) -> dict[Cell, object] | None:
        """The values dict of the cells of a sheet whose sheetData is ``xml[start:end]`` (from ``<sheetData>``
        to ``</sheetData>``), or None when unsure."""
        if self.styles is None:
            return None
        root = _ROOT.search(xml, 0, 65536)
        if root is None or _MAIN_NS not in root.group(0) or not xml.startswith(b"<sheetData>", start):
            return None  # another namespace
        # calamine parses the sheet up to the end of its merged cells
        stop = xml.find(b"</mergeCells>", end)
        stop = len(xml) if stop < 0 else stop + 13
        if not _refs_as_calamine_reads_them(xml, start, end, stop) or not _well_formed_around(xml, start, end, stop):
            return None
        parts = _CELL.split(xml[start + 11:end])
        # Between the cells: only rows (calamine reads their r), which rules out any cell in another form.
        if not _BETWEEN.fullmatch(b"".join(parts[::5])):
            return None
        cells = iter(parts)
        next(cells)
        try:
            return self._read(zip(cells, cells, cells, cells, cells))
        except (_Unsure, ValueError, IndexError, TypeError):
            return None

    def _read(self, cells) -> dict[Cell, object]:
        kinds, shared, numbers, texts = self._kinds, self._shared, self._numbers, self._texts
        values: dict[Cell, object] = {}
        last = (-1, -1)
        key_of = _keys.get
        for ref, attrs, v, inline, _ in cells:
            if v is None and inline is None:
                continue  # no <v> at all: calamine keeps nothing (not even over a repeated cell)
            key = key_of(ref) or _key(ref)
            # Cells in order, each once: what calamine's grid makes of a repeated cell need not be guessed.
            if key <= last:
                raise _Unsure
            last = key
            if inline is not None and inline[1] == 118:
                continue  # <v/>: no value (a "" where t="str", which no other cell can be under)
            kind = kinds.get(attrs)
            if kind is None:
                kind = kinds[attrs] = _kind(attrs, self.styles)
            if kind == _SHARED:
                if v:
                    text = shared.get(v)
                    if text is None:
                        text = self._shared_text(v)
                    if text:
                        values[key] = text
                elif inline is not None:
                    raise _Unsure  # calamine reads an <is> whatever the type says: not worth following
            elif kind == _NUMBER:
                if v:
                    number = numbers.get(v)
                    if number is None:
                        number = self._number(v)
                    values[key] = number
                elif inline is not None:
                    raise _Unsure
            elif kind == _INLINE:
                if v is not None:
                    raise _Unsure  # a <v> in an inline-string cell
                text = texts.get(inline)
                if text is None:
                    text = self._inline_text(inline)
                if text:
                    values[key] = text
            elif inline is not None or kind == _UNSURE:
                raise _Unsure
            elif kind == _STR:
                text = texts.get(v)
                if text is None:
                    text = self._str_text(v)
                if text:
                    values[key] = text
            elif not v:
                continue  # <v></v>: nothing
            elif kind == _BOOL:
                if v == b"1":
                    values[key] = True
                elif v == b"0":
                    values[key] = False
                else:
                    raise _Unsure
            elif kind == _ERROR:
                if v not in _ERRORS:
                    raise _Unsure  # calamine reads the seven classic errors as empty; others it refuses
            else:  # a number in a date or time format
                raise _Unsure
        return values

    def _shared_text(self, v: bytes) -> str:
        if self.strings is None or not _INDEX.fullmatch(v):
            raise _Unsure  # (int() takes spaces, signs and _; calamine reads such text its own way)
        text = self.strings[int(v)]
        self._shared[v] = text
        return text

    def _str_text(self, v: bytes) -> str:
        text = _text(v)
        if text is None:
            raise _Unsure
        self._texts[v] = text
        return text

    def _inline_text(self, inline: bytes) -> str:
        if inline.startswith(_PRESERVE):
            text = _text(inline[len(_PRESERVE):-9])
        else:
            text = _text(inline[7:-9])
            if text and (text[0] in _WS or text[-1] in _WS):
                raise _Unsure  # calamine trims it
        if text is None:
            raise _Unsure
        self._texts[inline] = text
        return text

    def _number(self, v: bytes) -> float:
        if not _NUMBER_TEXT.fullmatch(v):
            raise _Unsure  # (float() takes spaces, _ and inf; calamine reads such text its own way)
        number = self._numbers[v] = float(v)
        return number


def _well_formed_around(xml: bytes, start: int, end: int, stop: int) -> bool:
    """The sheet XML that calamine parses besides the cells is well-formed: before sheetData, and after it up
    to ``stop`` (calamine refuses, say, an end tag without its start there; comments and CDATA are fine there,
    and the cells and rows are checked by their patterns)."""
    tail = xml[end + 12:] if stop == len(xml) else xml[end + 12:stop] + b"</worksheet>"
    parser = expat.ParserCreate()
    try:
        parser.Parse(xml[:start] + b"<sheetData/>" + tail, True)
    except expat.ExpatError:
        return False
    return True


def _refs_as_calamine_reads_them(xml: bytes, start: int, end: int, stop: int) -> bool:
    """calamine refuses a sheet whose <dimension> or <mergeCell> reference it cannot parse: take only sheets
    where each is a plain A1 or A1:B2."""
    n = xml.count(b"<dimension", 0, start)
    if n > 1 or (n == 1 and not _DIMENSION.search(xml, 0, start)):
        return False
    n = xml.count(b"<mergeCell", end, stop)
    return not n or n == xml.count(b"<mergeCells", end, stop) + len(_MERGE.findall(xml, end, stop))


class _Unsure(Exception):
    pass


# "C5" -> (4, 2), for the references that forms use over and over, in file after file (bounded, as the
# reader's own cache of references is: a few megabytes at most)
_keys: dict[bytes, Cell] = {}
_MAX_KEYS = 65536


def _key(ref: bytes) -> Cell:
    col = 0
    i = 0
    while ref[i] >= 65:
        col = col * 26 + ref[i] - 64
        i += 1
    key = (int(ref[i:]) - 1, col - 1)
    if len(_keys) < _MAX_KEYS:
        _keys[ref] = key
    return key
