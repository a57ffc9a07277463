"""Classification-code catalogues: 支出功能分类 (function) and 部门预算支出经济分类 (economic).

A catalogue is one year's list of codes of one kind. xlbudget ships PARTIAL lists for 2025, compiled from
public sources and the seed disclosure (see ``xlbudget/data/catalogue/README.md``); they are enough to
recognise the common codes but never to prove that a code does not exist. A finance bureau holds the
complete official list and loads it with :func:`import_catalogue` (CLI: ``xlbudget catalogue import``).

Public API:
    Code, Catalogue, CatalogueError, normalize_code, normalize_name, level_of, kind_of,
    load_catalogue, load_active_catalogue, import_catalogue, default_catalogue_dir
"""

from __future__ import annotations

import csv
import io
import json
import functools
import math
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path

from msgspec import Struct

from xlbudget.classification import ALL_LENGTHS, FIRST_DIGIT, LEVEL_BY_LENGTH, LEVELS, SEGMENTS
from xlbudget.classification import KINDS as CLASSIFICATION_KINDS
from xlbudget.classification import parent as code_parent
from xlbudget.errors import XlbudgetError

__all__ = [
    "KINDS",
    "KIND_LABELS",
    "LEVELS",
    "Code",
    "Catalogue",
    "CatalogueError",
    "normalize_code",
    "normalize_name",
    "level_of",
    "kind_of",
    "load_catalogue",
    "load_active_catalogue",
    "import_catalogue",
    "default_catalogue_dir",
]

KINDS = CLASSIFICATION_KINDS
KIND_LABELS = {"function": "支出功能分类", "economic": "部门预算支出经济分类"}
# Code length -> level, per kind, and the first digit of each kind (xlbudget/classification.py).
_LEVEL_BY_LENGTH = LEVEL_BY_LENGTH
_FIRST_DIGIT = FIRST_DIGIT

CSV_HEADER = ("code", "name", "level", "source")
METADATA_FILE = "catalogue.json"
SHIPPED_ORIGIN = "xlbudget 内置 {year} 年度部分目录（据公开资料和一份部门预算公开文件汇编）"


class CatalogueError(XlbudgetError, ValueError):
    """A catalogue file is missing, unreadable or holds no recognisable codes."""


class Code(Struct, frozen=True):
    """One catalogue entry."""

    code: str
    name: str
    level: str
    source: str = ""


# ---------------------------------------------------------------------------
# Normalisation helpers.
# ---------------------------------------------------------------------------

# Separators accountants type inside codes ("201 41 01", "201-41-01", "201.41.01").
_CODE_SEPARATORS = re.compile(r"[\s\-_./·\u2010-\u2015\u2212]+")
_TRAILING_ZERO_FRACTION = re.compile(r"\.0+$")
_ASCII_DIGITS = re.compile(r"[0-9]+")
_CODE_LENGTHS = ALL_LENGTHS


def normalize_code(value: object) -> str | None:
    """Return the digit string of a classification code, or None if ``value`` is not one.

    Accepts ints (2014101), integral floats and Decimals (2014101.0, as read from Excel), and strings with
    spaces or separators ("201 41 01", "201-41-01"), full-width digits ("２０１４１０１"), a trailing ".0", or
    Excel's leading apostrophe. A code has 3, 5 or 7 digits and does not start with 0.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        text = str(value) if value >= 0 else ""
    elif isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer() or value < 0:
            return None
        text = str(int(value))
    elif isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value() or value < 0:
            return None
        text = str(int(value))
    elif isinstance(value, str):
        return _normalize_code_text(value)
    else:
        return None
    if not _ASCII_DIGITS.fullmatch(text) or len(text) not in _CODE_LENGTHS or text[0] == "0":
        return None
    return text


@functools.lru_cache(maxsize=4096)
def _normalize_code_text(value: str) -> str | None:
    text = unicodedata.normalize("NFKC", value).strip().lstrip("'").strip()
    text = _TRAILING_ZERO_FRACTION.sub("", text)
    text = _CODE_SEPARATORS.sub("", text)
    if not _ASCII_DIGITS.fullmatch(text) or len(text) not in _CODE_LENGTHS or text[0] == "0":
        return None
    return text


_OPEN_BRACKETS = "(（[［【〔〖{｛〈《「『"
_CLOSE_BRACKETS = ")）]］】〕〗}｝〉》」』"
_QUOTES = "\"'“”‘’＂＇„‟‚‛〝〞"
_NAME_TABLE = str.maketrans(
    {**{c: "(" for c in _OPEN_BRACKETS}, **{c: ")" for c in _CLOSE_BRACKETS}, **{c: '"' for c in _QUOTES}}
)
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff]")


def normalize_name(name: object) -> str:
    """Return ``name`` in a canonical form for comparison (not for display).

    NFKC (full-width -> half-width), every Unicode space and zero-width character removed, all bracket
    kinds mapped to "(" / ")" and all quote kinds to '"'.
    """
    if name is None:
        return ""
    text = unicodedata.normalize("NFKC", str(name))
    text = _INVISIBLE.sub("", text)
    text = "".join(ch for ch in text if not ch.isspace())
    return text.translate(_NAME_TABLE)


def kind_of(code: object) -> str | None:
    """Return "function" or "economic" for a code of that list, else None (revenue 1xx, 政府经济分类 5xx ...)."""
    norm = normalize_code(code)
    if norm is None:
        return None
    for kind in KINDS:
        if norm[0] == _FIRST_DIGIT[kind] and len(norm) in _LEVEL_BY_LENGTH[kind]:
            return kind
    return None


def level_of(code: object, kind: str | None = None) -> str | None:
    """Return the level (类/款/项) implied by the code's length, or None if it does not fit ``kind``."""
    norm = normalize_code(code)
    if norm is None:
        return None
    kind = kind or kind_of(norm)
    if kind not in _LEVEL_BY_LENGTH:
        return None
    return _LEVEL_BY_LENGTH[kind].get(len(norm))


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise CatalogueError(f"未知的目录类型“{kind}”，应为 function（支出功能分类）或 economic（部门预算支出经济分类）")
    return kind


# ---------------------------------------------------------------------------
# Catalogue.
# ---------------------------------------------------------------------------


class Catalogue:
    """One year's list of codes of one kind, in code (tree) order.

    Args:
        kind: "function" or "economic".
        year: budget year of the list.
        codes: the entries; a code listed twice keeps its first entry.
        complete: True only for a complete official list. A code missing from an incomplete list
            may still be valid.
        origin: short human description of where the list comes from.
        notes: remarks made while reading the list (skipped rows, duplicates ...).
    """

    def __init__(
        self,
        kind: str,
        year: int,
        codes: Iterable[Code],
        *,
        complete: bool = False,
        origin: str = "",
        notes: Sequence[str] = (),
    ) -> None:
        self.kind = _check_kind(kind)
        self.year = int(year)
        self.complete = bool(complete)
        self.origin = origin
        self.notes: tuple[str, ...] = tuple(notes)
        entries: dict[str, Code] = {}
        for entry in codes:
            if entry.code in entries:
                continue
            if _LEVEL_BY_LENGTH[kind].get(len(entry.code)) != entry.level or kind_of(entry.code) != kind:
                raise CatalogueError(
                    f"{KIND_LABELS[kind]}目录中的编码 {entry.code}（{entry.level}）不符合编码规则"
                )
            entries[entry.code] = entry
        # Plain string order is tree order: 201, 2010101, 20103, 2010302 ...
        self._codes = {code: entries[code] for code in sorted(entries)}
        self._children: dict[str, list[str]] = {}
        for code in self._codes:
            parent = self.parent(code)
            if parent is not None:
                self._children.setdefault(parent, []).append(code)

    def __repr__(self) -> str:
        state = "complete" if self.complete else "partial"
        return f"<Catalogue {self.kind} {self.year} {state} {len(self)} codes>"

    def __len__(self) -> int:
        return len(self._codes)

    def __iter__(self) -> Iterator[Code]:
        return iter(self._codes.values())

    def __contains__(self, code: object) -> bool:
        return self.get(code) is not None

    @property
    def label(self) -> str:
        """The Chinese name of the list, e.g. 支出功能分类."""
        return KIND_LABELS[self.kind]

    def get(self, code: object) -> Code | None:
        """Return the entry for ``code`` (any form :func:`normalize_code` accepts), or None."""
        norm = normalize_code(code)
        return None if norm is None else self._codes.get(norm)

    def name(self, code: object) -> str | None:
        """Return the name of ``code``, or None if it is not listed."""
        entry = self.get(code)
        return None if entry is None else entry.name

    def parent(self, code: object) -> str | None:
        """Return the parent code (7 -> 5 -> 3 digits), derived from the code whether listed or not.

        Returns None for a 类 code and for anything that is not a code of this kind.
        """
        norm = normalize_code(code)
        if norm is None or kind_of(norm) != self.kind:
            return None
        return code_parent(self.kind, norm)

    def children(self, code: object) -> list[Code]:
        """Return the listed direct children of ``code`` in code order."""
        norm = normalize_code(code)
        if norm is None:
            return []
        return [self._codes[child] for child in self._children.get(norm, [])]

    def classes(self) -> list[Code]:
        """Return the 类 entries in code order."""
        return self.codes("类")

    def codes(self, level: str | None = None) -> list[Code]:
        """Return all entries, or those of one level (类/款/项), in code order."""
        if level is not None and level not in LEVELS:
            raise CatalogueError(f"未知的科目级次“{level}”，应为 类、款 或 项")
        return [entry for entry in self._codes.values() if level is None or entry.level == level]

    def counts(self) -> dict[str, int]:
        """Return the number of entries per level, for the levels this kind has."""
        levels = _LEVEL_BY_LENGTH[self.kind].values()
        return {level: sum(1 for e in self._codes.values() if e.level == level) for level in levels}

    def names_match(self, code: object, name: object) -> bool:
        """True if ``name`` is the listed name of ``code`` up to spacing, width, brackets and quotes."""
        entry = self.get(code)
        if entry is None:
            return False
        given = normalize_name(name)
        return bool(given) and given == normalize_name(entry.name)


# ---------------------------------------------------------------------------
# Loading.
# ---------------------------------------------------------------------------


def default_catalogue_dir(year: int = 2025) -> Path:
    """Return where ``xlbudget catalogue import`` stores a year's lists by default.

    ``$XLBUDGET_HOME/catalogue/<year>`` when XLBUDGET_HOME is set, else ``~/.xlbudget/catalogue/<year>``.
    """
    home = os.environ.get("XLBUDGET_HOME")
    base = Path(home).expanduser() if home else Path.home() / ".xlbudget"
    return base / "catalogue" / str(int(year))


def load_catalogue(kind: str, year: int = 2025, path: str | os.PathLike[str] | None = None) -> Catalogue:
    """Load a catalogue.

    Args:
        kind: "function" or "economic".
        year: budget year.
        path: None for the list shipped with xlbudget (partial). Otherwise a directory written by
            :func:`import_catalogue`, a normalised ``code,name,level[,source]`` CSV, or an official list
            (.xlsx/.csv ...) read the way :func:`import_catalogue` reads it.

    Raises:
        CatalogueError: no such list, or the file cannot be read.
    """
    _check_kind(kind)
    if path is None:
        return _load_shipped(kind, int(year))
    path = Path(path)
    if path.is_dir():
        return _load_directory(kind, int(year), path)
    if not path.is_file():
        raise CatalogueError(f"找不到科目目录文件：{path.name}")
    text = _read_text(path) if path.suffix.lower() in _TEXT_SUFFIXES else None
    if text is not None and _is_normalised_csv(text):
        # A file written by import_catalogue keeps the metadata stored next to it.
        info = _read_metadata(path.parent).get("catalogues", {}).get(kind, {})
        if info.get("file") != path.name:
            info = {}
        return _catalogue_from_normalised(
            kind,
            int(year),
            text,
            complete=bool(info.get("complete", True)),
            origin=str(info.get("origin", path.name)),
            label=path.name,
        )
    found = _collect_codes(path, kinds=(kind,))
    if not found.codes[kind]:
        raise CatalogueError(f"{path.name} 中没有{KIND_LABELS[kind]}编码")
    return Catalogue(kind, year, found.codes[kind].values(), complete=True, origin=path.name, notes=found.notes)


def load_active_catalogue(
    kind: str, year: int = 2025, path: str | os.PathLike[str] | None = None
) -> Catalogue:
    """Load the catalogue in force: ``path`` if given, else an imported list in
    :func:`default_catalogue_dir`, else the shipped partial list."""
    if path is not None:
        return load_catalogue(kind, year, path)
    directory = default_catalogue_dir(year)
    if (directory / f"{_check_kind(kind)}.csv").is_file():
        return load_catalogue(kind, year, directory)
    return load_catalogue(kind, year)


@functools.lru_cache(maxsize=8)
def _load_shipped(kind: str, year: int) -> Catalogue:
    """The list shipped with xlbudget (read once: the layouts, the code rules and the spec checks all ask)."""
    resource = Path(__file__).resolve().parent / "data" / "catalogue" / str(year) / f"{kind}.csv"
    if not resource.is_file():
        raise CatalogueError(
            f"xlbudget 未内置 {year} 年度{KIND_LABELS[kind]}目录，请用 xlbudget catalogue import 导入财政部门下发的目录"
        )
    text = resource.read_text(encoding="utf-8")
    return _catalogue_from_normalised(
        kind, year, text, complete=False, origin=SHIPPED_ORIGIN.format(year=year), label=f"{kind}.csv"
    )


def _load_directory(kind: str, year: int, directory: Path) -> Catalogue:
    meta = _read_metadata(directory)
    if meta and int(meta.get("year", year)) != year:
        raise CatalogueError(f"目录 {directory.name} 存放的是 {meta['year']} 年度科目，不是 {year} 年度")
    file = directory / f"{kind}.csv"
    if not file.is_file():
        raise CatalogueError(f"目录 {directory.name} 中没有{KIND_LABELS[kind]}目录（{kind}.csv），请先导入")
    info = meta.get("catalogues", {}).get(kind, {}) if meta else {}
    return _catalogue_from_normalised(
        kind,
        year,
        _read_text(file),
        complete=bool(info.get("complete", True)),
        origin=str(info.get("origin", file.name)),
        label=file.name,
    )


def _read_metadata(directory: Path) -> dict:
    file = directory / METADATA_FILE
    if not file.is_file():
        return {}
    try:
        meta = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CatalogueError(f"目录说明文件 {METADATA_FILE} 无法读取：{exc}") from exc
    if not isinstance(meta, dict):
        raise CatalogueError(f"目录说明文件 {METADATA_FILE} 格式不正确")
    return meta


def _is_normalised_csv(text: str) -> bool:
    first = text.lstrip("\ufeff").splitlines()[:1]
    if not first:
        return False
    header = tuple(cell.strip().lower() for cell in next(csv.reader(first)))
    return header[:3] == CSV_HEADER[:3]


def _catalogue_from_normalised(
    kind: str, year: int, text: str, *, complete: bool, origin: str, label: str
) -> Catalogue:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if reader.fieldnames is None or [f.strip().lower() for f in reader.fieldnames][:3] != list(CSV_HEADER[:3]):
        raise CatalogueError(f"{label} 的表头应为 code,name,level,source")
    entries = []
    for line, row in enumerate(reader, start=2):
        code = normalize_code(row.get("code"))
        name = (row.get("name") or "").strip()
        if code is None or kind_of(code) != kind or not name:
            raise CatalogueError(f"{label} 第 {line} 行不是有效的{KIND_LABELS[kind]}科目：{row.get('code')!s}")
        level = (row.get("level") or "").strip() or _LEVEL_BY_LENGTH[kind][len(code)]
        entries.append(Code(code, name, level, (row.get("source") or "").strip()))
    return Catalogue(kind, year, entries, complete=complete, origin=origin)


# ---------------------------------------------------------------------------
# Reading official lists.
# ---------------------------------------------------------------------------

_TEXT_SUFFIXES = {".csv", ".txt", ".tsv"}
_XLSX_SUFFIXES = {".xlsx", ".xlsm"}
_CALAMINE_SUFFIXES = {".xls", ".xlsb", ".ods"}
_HEADER_SCAN_ROWS = 30
_EXCLUDED_HEADER_WORDS = ("单位", "项目", "部门", "序号")


def _read_text(path: Path) -> str:
    """Decode a text file: UTF-8 (with or without BOM), else GB18030 (a superset of GBK/GB2312)."""
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CatalogueError(f"{path.name} 的编码无法识别，请另存为 UTF-8 或 GB18030 编码的 CSV")


def _csv_rows(text: str) -> list[list[str]]:
    text = text.lstrip("\ufeff")
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",\t;|")
    except csv.Error:
        dialect = csv.excel
    return [list(row) for row in csv.reader(io.StringIO(text), dialect)]


def _sheets(path: Path) -> Iterator[tuple[str, list[list[object]]]]:
    """Yield (sheet name, rows of cell values) for every sheet of a workbook or the single CSV table."""
    suffix = path.suffix.lower()
    if suffix in _TEXT_SUFFIXES:
        yield "", _csv_rows(_read_text(path))
    elif suffix in _XLSX_SUFFIXES:
        import openpyxl

        try:
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken zip/xml
            raise CatalogueError(f"{path.name} 无法作为 Excel 工作簿打开：{exc}") from exc
        try:
            for sheet in workbook.worksheets:
                # Some exporters write a wrong <dimension>; read every cell instead of trusting it.
                sheet.reset_dimensions()
                yield sheet.title, [list(row) for row in sheet.iter_rows(values_only=True)]
        finally:
            workbook.close()
    elif suffix in _CALAMINE_SUFFIXES:
        from python_calamine import CalamineWorkbook

        try:
            workbook = CalamineWorkbook.from_path(str(path))
        except Exception as exc:
            raise CatalogueError(f"{path.name} 无法作为电子表格打开：{exc}") from exc
        try:
            for name in workbook.sheet_names:
                rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
                yield name, [[None if v == "" else v for v in row] for row in rows]
        finally:
            workbook.close()
    else:
        raise CatalogueError(f"不支持的文件类型“{path.suffix}”，请提供 .xlsx、.xls 或 .csv 格式的科目目录")


def _header_text(value: object) -> str:
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    return "".join(ch for ch in text if not ch.isspace()).lower()


def _header_role(value: object) -> tuple[str, int] | None:
    """Classify a header cell: ("code"|"name"|"类"|"款"|"项", rank); a lower rank is a better match."""
    text = _header_text(value)
    if not text:
        return None
    if text in LEVELS or (text[0] in LEVELS and text[1:] in ("级", "码", "编码", "级编码", "级科目")):
        return text[0], 0
    if any(word in text for word in _EXCLUDED_HEADER_WORDS):
        return None
    if "名称" in text or text in ("name", "科目", "科目名"):
        return "name", 0 if text in ("科目名称", "name") else (1 if "科目" in text else 2)
    if "编码" in text or "代码" in text or "编号" in text or text in ("code", "科目号"):
        return "code", 0 if text in ("科目编码", "科目代码", "code") else (1 if "科目" in text else 2)
    return None


class _Layout(Struct):
    """Where a code list's header, names and codes sit on a sheet."""

    header_row: int
    name_col: int
    code_col: int | None = None
    split_cols: tuple[int, int | None, int | None] | None = None  # 类, 款, 项
    source_col: int | None = None


def _row_roles(row: list[object]) -> dict[str, tuple[int, int]]:
    """Map each header role found in ``row`` to (rank, column), keeping the best-ranked column."""
    roles: dict[str, tuple[int, int]] = {}
    for col, value in enumerate(row):
        found = _header_role(value)
        if found is None:
            continue
        role, rank = found
        if role not in roles or rank < roles[role][0]:
            roles[role] = (rank, col)
    return roles


def _find_layout(rows: list[list[object]]) -> _Layout | None:
    """Find the header: a code column (or split 类/款/项 columns) and a name column, in one row or two.

    The two-row case is the disclosure-table style: "科目编码" merged over three columns in the first
    row, "类 款 项" under it in the second.
    """
    limit = min(len(rows), _HEADER_SCAN_ROWS)
    for r in range(limit):
        roles = _row_roles(rows[r])
        below = _row_roles(rows[r + 1]) if r + 1 < len(rows) else {}
        if "类" in below and "款" in below and not ("类" in roles and "款" in roles):
            merged = dict(roles)
            for role, value in below.items():
                if role not in merged or value[0] < merged[role][0]:
                    merged[role] = value
            roles = merged
        if "name" not in roles:
            continue
        name_col = roles["name"][1]
        source_col = next((c for c, v in enumerate(rows[r]) if _header_text(v) in ("source", "来源")), None)
        if "类" in roles and "款" in roles:
            split = (roles["类"][1], roles["款"][1], roles["项"][1] if "项" in roles else None)
            return _Layout(r, name_col, split_cols=split, source_col=source_col)
        if "code" in roles and roles["code"][1] != name_col:
            return _Layout(r, name_col, code_col=roles["code"][1], source_col=source_col)
    return None


def _part(value: object, width: int, prefix: str) -> str | None:
    """Read one 类/款/项 cell: '' when blank, the ``width`` digits, or None when it is not a code part."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            return None
        text = str(int(value))
    elif isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            return None
        text = str(int(value))
    elif isinstance(value, int):
        text = str(value)
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip().lstrip("'")
        text = _CODE_SEPARATORS.sub("", _TRAILING_ZERO_FRACTION.sub("", text))
        if not text:
            return ""
    if not _ASCII_DIGITS.fullmatch(text):
        return None
    if len(text) == width:
        return text
    if width == 2 and len(text) < 2:
        return text.zfill(2)  # 款 1 typed as a number
    if prefix and len(text) == len(prefix) + width and text.startswith(prefix):
        return text[-width:]  # the column holds the full code (e.g. 20141 under 款)
    return None


def _cell(row: list[object], col: int | None) -> object:
    return row[col] if col is not None and col < len(row) else None


def _cell_text(row: list[object], col: int | None) -> str:
    value = _cell(row, col)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace("\u3000", " ").strip()


class _Found(Struct):
    """The codes collected from a code-list workbook, with notes on what was passed over."""

    codes: dict[str, dict[str, Code]]
    notes: list[str]
    sheets_with_header: int = 0


def _collect_codes(path: Path, kinds: Sequence[str] = KINDS) -> _Found:
    """Read every sheet of an official list and collect the codes of the wanted kinds."""
    found = _Found({kind: {} for kind in KINDS}, [])
    other = skipped_no_name = 0
    conflicts: list[str] = []
    for sheet_name, rows in _sheets(path):
        layout = _find_layout(rows)
        if layout is None:
            continue
        found.sheets_with_header += 1
        origin = f"{path.name} / {sheet_name}" if sheet_name else path.name
        last_lei = last_kuan = ""
        for row in rows[layout.header_row + 1 :]:
            if layout.split_cols is not None:
                lei_col, kuan_col, xiang_col = layout.split_cols
                lei = _part(_cell(row, lei_col), SEGMENTS["function"][0], "")
                if lei is None or (lei and normalize_code(lei) is None):
                    continue
                kuan = _part(_cell(row, kuan_col), SEGMENTS["function"][1], lei or last_lei)
                xiang = _part(_cell(row, xiang_col), SEGMENTS["function"][2], (lei or last_lei) + (kuan or last_kuan))
                if kuan is None or xiang is None or not (lei or kuan or xiang):
                    continue
                # Lists that print 类 (and 款) only on the first row of a group: carry them down.
                if not lei:
                    if not last_lei:
                        continue
                    lei = last_lei
                if xiang and not kuan:
                    if not last_kuan or not last_kuan.startswith(lei):
                        continue
                    kuan = last_kuan[len(lei) :]
                code = lei + kuan + (xiang if kuan else "")
                last_lei = lei
                last_kuan = lei + kuan if kuan else ""
            else:
                code = normalize_code(_cell(row, layout.code_col))
                if code is None:
                    continue
            kind = kind_of(code)
            if kind is None:
                other += 1
                continue
            if kind not in kinds:
                continue
            name = _cell_text(row, layout.name_col)
            if not name:
                skipped_no_name += 1
                continue
            source = _cell_text(row, layout.source_col) or origin
            existing = found.codes[kind].get(code)
            if existing is not None:
                if normalize_name(existing.name) != normalize_name(name):
                    conflicts.append(f"{code}（“{existing.name}”/“{name}”）")
                continue
            found.codes[kind][code] = Code(code, name, _LEVEL_BY_LENGTH[kind][len(code)], source)
    if found.sheets_with_header == 0:
        raise CatalogueError(
            f"{path.name} 中找不到科目编码列：表头应含“科目编码”（或“编码”“代码”“code”，或分列的“类/款/项”）"
            f"以及“科目名称”（或“名称”“name”）"
        )
    if conflicts:
        shown = "；".join(conflicts[:3]) + ("等" if len(conflicts) > 3 else "")
        found.notes.append(f"{len(conflicts)} 个编码出现多次且名称不同，保留首次出现的名称：{shown}")
    if other:
        found.notes.append(f"跳过 {other} 个其他科目编码（收入分类、政府预算支出经济分类等）")
    if skipped_no_name:
        found.notes.append(f"跳过 {skipped_no_name} 行没有科目名称的编码")
    for kind in KINDS:
        codes = found.codes[kind]
        orphans = [c for c in codes if code_parent(kind, c) not in (None, *codes)]
        if orphans:
            shown = "、".join(orphans[:5]) + ("等" if len(orphans) > 5 else "")
            found.notes.append(f"{KIND_LABELS[kind]}有 {len(orphans)} 个编码的上级科目不在文件中：{shown}")
    return found


def import_catalogue(
    src_path: str | os.PathLike[str],
    dest_dir: str | os.PathLike[str],
    year: int,
    kind: str | None = None,
    *,
    complete: bool | None = None,
) -> list[Catalogue]:
    """Import an official code list and store it as normalised CSV in ``dest_dir``.

    The file (.xlsx/.xlsm via openpyxl, .xls/.xlsb/.ods via calamine, or .csv in UTF-8 or GB18030) may hold
    either kind or both; every sheet is scanned. The header is found from its text (科目编码/编码/代码/code,
    or separate 类/款/项 columns; 科目名称/名称/name). The kind follows from the codes: 2xx with 3/5/7 digits
    is 支出功能分类, 3xx with 3/5 digits is 部门预算支出经济分类; other codes are skipped.

    Writes ``function.csv`` and/or ``economic.csv`` (code,name,level,source) plus ``catalogue.json``
    ({year, catalogues: {kind: {kind, year, complete, origin, file, count}}}); a kind imported earlier into the
    same directory is kept unless this file replaces it.

    Args:
        src_path: the official list.
        dest_dir: directory to write into (created if needed).
        year: budget year the list belongs to.
        kind: import only this kind; None imports whatever the file holds.
        complete: whether the list is complete. None (default): complete unless the list itself shows it is
            not (a code whose parent is missing, a 类 or a code of the shipped partial list missing, fewer
            codes than that list); then it is imported as partial, with a note saying why. True: the caller
            vouches for it (the gaps are still noted). False: partial.

    Returns:
        The imported catalogues, function first.

    Raises:
        CatalogueError: unreadable file, no code column, or no code of the wanted kind.
    """
    src = Path(src_path)
    dest = Path(dest_dir)
    year = int(year)
    kinds = KINDS if kind is None else (_check_kind(kind),)
    if not src.is_file():
        raise CatalogueError(f"找不到要导入的文件：{src.name}")
    found = _collect_codes(src, kinds)
    imported = [k for k in kinds if found.codes[k]]
    if not imported:
        wanted = "、".join(KIND_LABELS[k] for k in kinds)
        raise CatalogueError(f"{src.name} 中没有找到{wanted}编码（功能分类以 2 开头 3/5/7 位，经济分类以 3 开头 3/5 位）")

    meta = _read_metadata(dest) if dest.is_dir() else {}
    if meta and int(meta.get("year", year)) != year:
        raise CatalogueError(f"目标目录已存放 {meta['year']} 年度科目目录，不能再存放 {year} 年度的目录")
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CatalogueError(f"无法创建目录 {dest}：{exc}") from exc

    catalogues = []
    entries = dict(meta.get("catalogues", {})) if meta else {}
    for k in imported:
        notes = list(found.notes)
        gaps = _gaps(k, year, found.codes[k]) if complete is not False else []
        if gaps and complete is None:  # a list that cannot be the whole official one never poses as complete
            notes.append(f"{KIND_LABELS[k]}目录不完整（{'；'.join(gaps)}），已按部分目录导入：目录中没有的编码不会被判为无效。"
                         "如导入的确是完整目录，请检查文件的分隔符和内容，或用 --complete 明确指定")
        elif gaps:
            notes.append(f"{KIND_LABELS[k]}目录按指定视为完整，但{'；'.join(gaps)}")
        catalogue = Catalogue(
            k, year, found.codes[k].values(), complete=bool(complete) or (complete is None and not gaps),
            origin=src.name, notes=notes
        )
        _write_csv(dest / f"{k}.csv", catalogue)
        entries[k] = {
            "kind": k,
            "year": year,
            "complete": catalogue.complete,
            "origin": catalogue.origin,
            "file": f"{k}.csv",
            "count": len(catalogue),
        }
        catalogues.append(catalogue)
    metadata = {"year": year, "catalogues": {k: entries[k] for k in KINDS if k in entries}}
    (dest / METADATA_FILE).write_text(json.dumps(metadata, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return catalogues


def _gaps(kind: str, year: int, codes: dict[str, Code]) -> list[str]:
    """Why a list said to be complete cannot be the whole official list (empty when nothing is amiss): a code
    whose parent is missing, a 类 or a code of the shipped partial list that it lacks, fewer codes than that."""
    out = []
    orphans = [c for c in codes if len(c) > 3 and c[:-2] not in codes]
    if orphans:
        out.append(f"{len(orphans)} 个编码的上级科目不在文件中")
    try:
        shipped = _load_shipped(kind, year)
    except (CatalogueError, OSError):
        try:
            shipped = _load_shipped(kind, 2025)
        except (CatalogueError, OSError):
            return out
    missing_classes = [c.code for c in shipped.classes() if c.code not in codes]
    if missing_classes:
        shown = "、".join(missing_classes[:5]) + ("等" if len(missing_classes) > 5 else "")
        out.append(f"缺少 {len(missing_classes)} 个类级科目，如 {shown}")
    missing = [c.code for c in shipped if c.code not in codes]
    if missing and not missing_classes:
        out.append(f"缺少内置目录中的 {len(missing)} 个编码，如 {'、'.join(missing[:3])}")
    if len(codes) < len(shipped):
        out.append(f"只有 {len(codes)} 条，少于内置部分目录的 {len(shipped)} 条")
    return out


def _write_csv(path: Path, catalogue: Catalogue) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        for entry in catalogue:
            writer.writerow([entry.code, entry.name, entry.level, entry.source])
