"""Where the words are: a narrative as positioned lines, then as sentences.

A narrative comes from a sheet of a workbook (the sheets a table set names in its ``vocabulary.toml``), or
from a file: plain text (.txt), Word (.docx: ``word/document.xml`` read through the package checks of
:mod:`xlbudget.io.safety` and defusedxml) or PDF (its text layer, by ``pdftotext`` of poppler-utils: it
extracts Chinese text layers reliably, adds no Python dependency, and runs in its own process with a time
limit, so a hostile PDF costs a message, never a hang). Every line keeps where it stands (``第三部分!A12``, ``第 5 段``, ``第 3 页``, ``第 40 行``)
and every sentence the position of its first character.

Text extracted from a printed page wraps in the middle of sentences and numbers ("307.82\\n万元"), and a
PDF extraction spaces out Chinese ("2024 年"); lines are therefore joined into paragraphs, a paragraph
starting at a heading (第三部分, 一、, （一）, 1、), and white space is dropped before sentences are read.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable, Sequence

from msgspec import Struct

from ..errors import XlbudgetError
from . import SUFFIXES, companion  # noqa: F401  (where a workbook's narrative file is; re-exported)

__all__ = ["Line", "Sentence", "NarrativeError", "SUFFIXES", "read_file", "lines_of_text", "lines_of_sheets",
           "lines_of_sections",
           "lines_of_docx", "lines_of_pdf", "sentences", "companion"]

PDF_TIMEOUT = 60          # seconds pdftotext may take for one file
MAX_TEXT_BYTES = 20 << 20

HEADING = re.compile(r"^\s*(第[一二三四五六七八九十]+部分|[一二三四五六七八九十]+\s*、|[（(]\s*[一二三四五六七八九十]+\s*[）)]"
                     r"|\d{1,2}\s*[、．](?!\d)|\d{1,2}\.(?!\d))")
SECTION = re.compile(r"^\s*(第[一二三四五六七八九十]+部分|[一二三四五六七八九十]+\s*、)")
PAGE_MARK = re.compile(r"^\s*===\s*page\s+(\d+)[^=]*===\s*$", re.I)
SENTENCE_END = "。；;！？!?"
_FULLWIDTH = str.maketrans("０１２３４５６７８９．％", "0123456789.%")


class NarrativeError(XlbudgetError):
    """A narrative file that cannot be read (reported as one finding of the file, never a traceback)."""


class Line(Struct, frozen=True):
    text: str
    where: str


class Sentence(Struct, frozen=True):
    text: str          # white space and quotation marks removed, full-width digits and % made ASCII
    where: str         # position of the sentence's first character
    paragraph: int     # index of the paragraph (statements about one subject and breakdowns stay within it)
    heading: bool = False   # the paragraph's first sentence starts with a heading
    marks: tuple[tuple[int, str], ...] = ()   # (offset, position) where a new line of the source starts

    def where_at(self, offset: int) -> str:
        """The position of the character at ``offset`` (a sentence may run over several lines or pages)."""
        where = self.where
        for start, w in self.marks:
            if start > offset:
                break
            where = w
        return where

    def quote(self, start: int = 0, end: int | None = None, width: int = 80) -> str:
        """The sentence, or when it is long the part around ``start:end``, clipped to about ``width``."""
        t = self.text
        if len(t) <= width:
            return t
        end = start if end is None else end
        lo = max(0, min(start - width // 3, len(t) - width))
        hi = min(len(t), max(lo + width, end))
        return ("…" if lo else "") + t[lo:hi] + ("…" if hi < len(t) else "")


def normalise(text: str) -> str:
    """White space and quotation marks dropped, full-width digits, point and % made ASCII."""
    return re.sub(r"[\s“”‘’\"]+", "", text.translate(_FULLWIDTH))


# ---------------------------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------------------------
def lines_of_text(text: str, name: str = "") -> list[Line]:
    """Lines of a plain text; a form feed (pdftotext) or a ``=== page N ===`` line starts a page, and a line
    starting with ``#`` is a comment."""
    out: list[Line] = []
    paged = "\f" in text              # pages of a PDF: lines are counted on each page
    page = 1 if paged else None
    prefix = f"{name} " if name else ""
    first = 0
    for i, raw in enumerate(text.split("\n"), start=1):
        if raw.startswith("#"):
            continue           # a comment line (the source notes of a transcribed document)
        if "\f" in raw and page is not None:
            page += raw.count("\f")
            raw = raw.replace("\f", "")
            first = i - 1
        if paged:
            n = i - first
        else:
            n = i
        m = PAGE_MARK.match(raw)
        if m:
            page = int(m.group(1))
            continue
        if not raw.strip():
            continue
        where = f"{prefix}第 {page} 页 第 {n} 行" if page is not None else f"{prefix}第 {n} 行"
        out.append(Line(raw, where))
    return out


def lines_of_sheets(path: str | os.PathLike, sheets: Sequence[str]) -> list[Line]:
    """Text cells of the named sheets of a workbook, row by row (sheets the file lacks are skipped)."""
    from ..io.rawxlsx import RawWorkbook, to_ref

    out: list[Line] = []
    with RawWorkbook.open(path) as wb:
        names = wb.sheet_names
        for sheet in sheets:
            if sheet not in names:
                continue
            values = wb.sheet(sheet).values
            for (r, c) in sorted(values):
                v = values[(r, c)]
                if isinstance(v, str) and v.strip():
                    for piece in v.split("\n"):
                        if piece.strip():
                            out.append(Line(piece, f"{sheet}!{to_ref(r, c)}"))
    return out


def sheet_names(path: str | os.PathLike) -> list[str]:
    from ..io.rawxlsx import RawWorkbook

    with RawWorkbook.open(path) as wb:
        return list(wb.sheet_names)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def lines_of_docx(path: str | os.PathLike) -> list[Line]:
    """Paragraphs of a Word document (tables' cell paragraphs included, in document order)."""
    from defusedxml import ElementTree as DET

    from ..io.errors import WorkbookError
    from ..io.safety import inspect_container

    try:
        pkg = inspect_container(path, document="docx")
        xml = pkg.read("word/document.xml")
        root = DET.fromstring(xml)
    except WorkbookError as e:
        raise NarrativeError(str(e)) from None
    except Exception as e:  # defusedxml refuses entities and DTDs; a broken XML is a broken file
        raise NarrativeError(f"Word 文档无法读取：{type(e).__name__}") from None
    out: list[Line] = []
    n = 0
    for p in root.iter(_W + "p"):
        parts = []
        for el in p.iter():
            if el.tag == _W + "t" and el.text:
                parts.append(el.text)
            elif el.tag in (_W + "tab",):
                parts.append(" ")
            elif el.tag in (_W + "br", _W + "cr"):
                parts.append("\n")
        n += 1
        text = "".join(parts)
        for piece in text.split("\n"):
            if piece.strip():
                out.append(Line(piece, f"第 {n} 段"))
    return out


def lines_of_pdf(path: str | os.PathLike, timeout: int = PDF_TIMEOUT) -> list[Line]:
    """The text layer of a PDF, page by page (``pdftotext`` of poppler-utils, with a time limit)."""
    import shutil  # a PDF only
    import subprocess

    exe = shutil.which("pdftotext")
    if exe is None:
        raise NarrativeError("读取 PDF 需要 pdftotext（poppler-utils），本机未安装")
    try:
        done = subprocess.run([exe, "-enc", "UTF-8", "-q", os.fspath(path), "-"], capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise NarrativeError(f"PDF 文字提取超过 {timeout} 秒，已停止") from None
    if done.returncode != 0:
        raise NarrativeError("PDF 无法读取（可能已加密或损坏）")
    text = done.stdout[:MAX_TEXT_BYTES].decode("utf-8", errors="replace")
    if not text.replace("\f", "").strip():
        raise NarrativeError("PDF 没有文字层（可能是扫描件），无法核对文字")
    return lines_of_text(text if "\f" in text else "\f" + text)


def lines_of_sections(sections: Iterable[object]) -> list[Line]:
    """The lines of a rendered narrative (:func:`xlbudget.narrative.narrative`), each section's title and
    paragraphs positioned by its sheet and its place there."""
    out: list[Line] = []
    count: dict[str, int] = {}
    for sec in sections:
        sheet = getattr(sec, "sheet", "") or ""
        for text in ([sec.title] if getattr(sec, "title", "") else []) + list(getattr(sec, "paragraphs", [])):
            n = count[sheet] = count.get(sheet, 0) + 1
            out.append(Line(text, f"{sheet} 第 {n} 段" if sheet else f"第 {n} 段"))
    return out


def read_file(path: str | os.PathLike) -> list[Line]:
    """The lines of a narrative file, by its suffix (.txt, .docx, .pdf)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".docx":
        return lines_of_docx(p)
    if suffix == ".pdf":
        return lines_of_pdf(p)
    if suffix == ".txt":
        try:
            size = p.stat().st_size
            if size > MAX_TEXT_BYTES:
                raise NarrativeError(f"文字文件过大（{size} 字节）")
            data = p.read_bytes()
        except OSError as e:
            raise NarrativeError(f"无法读取文件：{e.strerror or type(e).__name__}") from None
        for enc in ("utf-8-sig", "gb18030"):
            try:
                return lines_of_text(data.decode(enc))
            except UnicodeDecodeError:
                continue
        raise NarrativeError("文字文件的编码无法识别（应为 UTF-8 或 GB18030）")
    raise NarrativeError(f"不支持的情况说明文件类型 {suffix or '（无扩展名）'}：应为 .txt、.docx 或 .pdf")


# ---------------------------------------------------------------------------------------------------------
# Sentences
# ---------------------------------------------------------------------------------------------------------
def sentences(lines: Iterable[Line], tables: Sequence[str] = ()) -> list[Sentence]:
    """Join lines into paragraphs (a heading starts one) and cut them into sentences (。；！？).

    A line starting with one of the ``tables`` titles (a 绩效目标表 printed among the text) starts a table,
    which is not prose: its lines are skipped up to the next part or section heading (第四部分, 十三、)."""
    paragraphs: list[list[tuple[str, str]]] = []
    titles = tuple(normalise(t) for t in tables)
    in_table = False
    for line in lines:
        text = normalise(line.text)
        if not text:
            continue
        if titles and text.startswith(titles):
            in_table = True
            continue
        if in_table:
            if not SECTION.match(line.text):
                continue
            in_table = False
        if not paragraphs or HEADING.match(line.text):
            paragraphs.append([])
        paragraphs[-1].append((text, line.where))
    out: list[Sentence] = []
    for n, para in enumerate(paragraphs):
        buf = ""
        start: str | None = None
        marks: list[tuple[int, str]] = []
        first = True
        for text, where in para:
            for i, ch in enumerate(text):
                if start is None:
                    start = where
                elif i == 0 and where != start:
                    marks.append((len(buf), where))
                buf += ch
                if ch in SENTENCE_END:
                    out.append(Sentence(buf, start, n, first, tuple(marks)))
                    first = False
                    buf, start, marks = "", None, []
        if buf:
            out.append(Sentence(buf, start or para[0][1], n, first, tuple(marks)))
    return out
