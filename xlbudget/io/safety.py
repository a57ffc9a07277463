"""Container checks for submitted workbooks, done before any XML is parsed.

Submissions come from outside, so every file is treated as hostile until the
zip container has been checked:

* the path is a regular, non-empty file below a size limit;
* OLE2 compound files are classified: an encrypted OOXML package (streams
  ``EncryptionInfo`` / ``EncryptedPackage``) versus a legacy ``.xls``
  (stream ``Workbook`` or ``Book``);
* other well-known formats (HTML or XML-2003 tables saved as ``.xls``, PDF,
  RAR, ...) get a specific message;
* the zip end-of-central-directory record is located and its entry count is
  checked before Python's ``zipfile`` builds one object per entry;
* declared uncompressed sizes (total and per member) and per-member
  compression ratios are checked (zip bombs);
* the parts every workbook needs are present.

Members are then inflated with ``read_member``, which caps the output at the
declared size, so a lying header cannot make us allocate more than the limits.
Macros (``vbaProject.bin``, Excel 4.0 macro sheets) are only flagged; they are
never run and never kept.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import struct
import zipfile
import zlib
from typing import Iterable

from msgspec import Struct, field

from .errors import WorkbookError, human_size

try:
    # ISA-L reads the same deflate streams and gives the same CRC-32 as zlib, 2-3x faster for inflating and
    # about 5x for checksums: most of what opening a workbook costs before its XML is read.
    from isal import isal_zlib as _deflate
    _INFLATE_ERRORS: tuple[type[Exception], ...] = (zlib.error, _deflate.error)
except ImportError:  # pragma: no cover (a platform without its wheels: zlib does the same, more slowly)
    _deflate = zlib  # type: ignore[assignment]
    _INFLATE_ERRORS = (zlib.error,)

__all__ = [
    "Limits",
    "ContainerInfo",
    "inspect_container",
    "inspect_bytes",
    "read_member",
    "stored_zip",
]

_MB = 1024 * 1024

OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_LOCAL = b"PK\x03\x04"
ZIP_EOCD = b"PK\x05\x06"
ZIP64_LOCATOR = b"PK\x06\x07"
ZIP64_EOCD = b"PK\x06\x06"
ZIP_CENTRAL = b"PK\x01\x02"

REQUIRED_PARTS = ("[Content_Types].xml", "xl/workbook.xml")
# The parts another Office package must have when it is opened as that kind (``document=``).
DOCUMENT_PARTS = {"xlsx": REQUIRED_PARTS, "docx": ("[Content_Types].xml", "word/document.xml")}


class Limits(Struct, frozen=True):
    """Resource limits for reading one submitted workbook.

    The defaults are far above what a budget-disclosure workbook needs
    (typically < 1 MB zipped, < 200 rows and < 30 columns per sheet) and far
    below what would hurt a batch run.
    """

    #: Size of the file on disk.
    max_file_bytes: int = 64 * _MB
    #: Number of members in the zip.
    max_entries: int = 10_000
    #: Sum of the declared uncompressed sizes of all members.
    max_total_uncompressed: int = 200 * _MB
    #: Declared uncompressed size of any single member.
    max_member_bytes: int = 100 * _MB
    #: Highest uncompressed/compressed ratio of a member ...
    max_ratio: float = 200.0
    #: ... checked only for members larger than this (tiny parts compress well).
    ratio_min_bytes: int = 1 * _MB
    #: Highest 1-based row number of a cell, merge or dimension we accept.
    max_rows: int = 100_000
    #: Highest 1-based column number of a cell, merge or dimension we accept.
    max_cols: int = 500
    #: Highest number of grid cells (rows x columns) of one sheet's used area;
    #: the value reader allocates that area densely.
    max_cells_area: int = 3_000_000
    #: The same for all sheets of a workbook together, so many sheets that
    #: are each just under the limit cannot add up to minutes of work.
    max_workbook_cells_area: int = 6_000_000
    #: Upper bound for the text one sheet can pull from sharedStrings (each
    #: cell gets its own copy of the string): cells of type "s" x the longest
    #: shared string.  Stops a long string repeated in many cells.
    max_shared_text_bytes: int = 256 * _MB
    #: When False, a workbook containing macros is refused ("macro-enabled").
    allow_macros: bool = True


class ContainerInfo(Struct):
    """The result of ``inspect_container``: a checked, in-memory zip.

    Attributes:
        path: The file path (or a display name for in-memory data).
        size: Size of the file in bytes.
        data: The raw file bytes.
        zipfile: A ``zipfile.ZipFile`` over ``data`` (no file handle is kept).
        members: Member names in central-directory order.
        infos: Member name -> ``zipfile.ZipInfo``.
        total_uncompressed: Sum of the declared uncompressed sizes.
        has_macros: True when VBA or Excel 4.0 macro sheets are present.
        macro_parts: The members that made ``has_macros`` true.
        limits: The limits the container was checked against.
    """

    path: str
    size: int
    data: bytes
    zipfile: zipfile.ZipFile
    members: list[str]
    infos: dict[str, zipfile.ZipInfo]
    total_uncompressed: int
    has_macros: bool
    macro_parts: list[str]
    limits: Limits
    _lower: dict[str, str] = field(default_factory=dict)
    _sha256: str | None = None

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the file bytes (computed once)."""
        digest = self._sha256
        if digest is None:
            digest = self._sha256 = hashlib.sha256(self.data).hexdigest()
        return digest

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.resolve(name) is not None

    def resolve(self, name: str) -> str | None:
        """Actual member name for ``name``; OPC part names ignore case."""
        if name in self.infos:
            return name
        return self._lower.get(name.lower())

    def read(self, name: str, max_bytes: int | None = None) -> bytes:
        """Inflate one member with the size cap (see ``read_member``)."""
        return read_member(self, name, max_bytes)


def _fail(code: str, path: str | None, **kw) -> WorkbookError:
    return WorkbookError(code, path=path, **kw)


# --------------------------------------------------------------------------
# Public API.
# --------------------------------------------------------------------------


def special_kind(mode: int) -> tuple[str, str]:
    """What a path that is not a regular file is (zh, en)."""
    for test, zh, en in ((stat.S_ISDIR, "文件夹", "a folder"), (stat.S_ISFIFO, "命名管道", "a named pipe"),
                         (stat.S_ISSOCK, "套接字", "a socket"), (stat.S_ISCHR, "字符设备", "a character device"),
                         (stat.S_ISBLK, "块设备", "a block device")):
        if test(mode):
            return zh, en
    return "特殊文件", "a special file"


def inspect_container(path: str | os.PathLike, limits: Limits | None = None,
                      document: str = "xlsx") -> ContainerInfo:
    """Check a workbook file before anything in it is parsed.

    Args:
        path: The submitted file.
        limits: Resource limits; ``Limits()`` when omitted.
        document: The package expected: "xlsx" (default) or "docx" (a Word document, e.g. a 情况说明).

    Returns:
        A ``ContainerInfo`` listing the members.

    Raises:
        WorkbookError: with codes not-found, not-a-file, io-error, empty-file,
            too-large, encrypted, legacy-xls, unsupported-format, not-a-zip,
            truncated-zip, corrupt-zip, too-many-entries, zip-bomb,
            nested-archive, missing-part or macro-enabled.
    """
    limits = limits or Limits()
    p = os.fspath(path)
    try:
        st = os.stat(p)
    except (FileNotFoundError, NotADirectoryError):
        raise _fail("not-found", p) from None
    except OSError as exc:
        raise _fail("io-error", p, detail=exc.strerror or type(exc).__name__) from None
    if not stat.S_ISREG(st.st_mode):
        # Directories, FIFOs and devices: reading a FIFO could block forever.
        raise _fail("not-a-file", p, detail=special_kind(st.st_mode)[0], detail_en=special_kind(st.st_mode)[1])
    if st.st_size == 0:
        raise _fail("empty-file", p)
    if st.st_size > limits.max_file_bytes:
        raise _fail("too-large", p, size=human_size(st.st_size), limit=human_size(limits.max_file_bytes))
    try:  # opened without blocking and checked again: the path may have been swapped for a FIFO meanwhile
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with open(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise _fail("not-a-file", p, detail=special_kind(st.st_mode)[0], detail_en=special_kind(st.st_mode)[1])
            # as much as the file holds, plus one byte to see it has not grown (a read of the limit itself
            # would first allocate that much)
            want = min(st.st_size, limits.max_file_bytes) + 1
            data = fh.read(want)
            if len(data) == want and want <= limits.max_file_bytes:  # it grew meanwhile: read on, bounded
                data += fh.read(limits.max_file_bytes + 1 - want)
    except OSError as exc:
        raise _fail("io-error", p, detail=exc.strerror or type(exc).__name__) from None
    return inspect_bytes(data, limits, path=p, document=document)


def inspect_bytes(data: bytes, limits: Limits | None = None, path: str | None = None,
                  document: str = "xlsx") -> ContainerInfo:
    """Same checks as ``inspect_container`` for data already in memory."""
    limits = limits or Limits()
    data = bytes(data)
    if not data:
        raise _fail("empty-file", path)
    if len(data) > limits.max_file_bytes:
        raise _fail("too-large", path, size=human_size(len(data)), limit=human_size(limits.max_file_bytes))
    if data.startswith(OLE2_SIGNATURE):
        raise _classify_ole2(data, path)
    if not data.startswith(b"PK"):
        raise _classify_other(data, path)

    entries = _eocd_entry_count(data, path)
    if entries > limits.max_entries:
        raise _fail("too-many-entries", path, count=entries, limit=limits.max_entries)

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except zipfile.BadZipFile as exc:
        raise _fail("corrupt-zip", path, detail="压缩目录损坏",
                    detail_en=f"corrupt central directory: {exc}") from None
    except (ValueError, OverflowError, EOFError, struct.error, NotImplementedError, OSError) as exc:
        raise _fail("corrupt-zip", path, detail="压缩目录损坏",
                    detail_en=f"corrupt central directory: {exc}") from None

    if len(infos) > limits.max_entries:
        raise _fail("too-many-entries", path, count=len(infos), limit=limits.max_entries)

    members: list[str] = []
    by_name: dict[str, zipfile.ZipInfo] = {}
    lower: dict[str, str] = {}
    total = 0
    for info in infos:
        name = info.filename
        key = name.lower()
        if key in lower:
            # Two readers could pick different copies of the same part.
            raise _fail("corrupt-zip", path, detail=f"重复的条目 {name}",
                        detail_en=f"duplicate entry {name}")
        lower[key] = name
        by_name[name] = info
        members.append(name)
        size = info.file_size
        total += size
        if size > limits.max_member_bytes:
            raise _fail("zip-bomb", path, part=name,
                        detail=f"{name} 声明解压后 {human_size(size)}，上限 {human_size(limits.max_member_bytes)}",
                        detail_en=f"{name} declares {human_size(size)}, limit {human_size(limits.max_member_bytes)}")
        if size > limits.ratio_min_bytes and size > limits.max_ratio * max(info.compress_size, 1):
            ratio = size / max(info.compress_size, 1)
            raise _fail("zip-bomb", path, part=name,
                        detail=f"{name} 压缩比 {ratio:.0f}:1，上限 {limits.max_ratio:.0f}:1",
                        detail_en=f"{name} compression ratio {ratio:.0f}:1, limit {limits.max_ratio:.0f}:1")
    if total > limits.max_total_uncompressed:
        raise _fail("zip-bomb", path,
                    detail=f"解压后共 {human_size(total)}，上限 {human_size(limits.max_total_uncompressed)}",
                    detail_en=f"{human_size(total)} uncompressed in all, "
                              f"limit {human_size(limits.max_total_uncompressed)}")

    if document == "xlsx":
        _check_kind(lower, path)
    for part in DOCUMENT_PARTS[document]:
        if part.lower() not in lower:
            raise _fail("missing-part", path, part=part)

    macro_parts = [
        n for n in members
        if n.lower().endswith("vbaproject.bin") or n.lower().startswith("xl/macrosheets/")
    ]
    if macro_parts and not limits.allow_macros:
        raise _fail("macro-enabled", path, part=macro_parts[0])

    return ContainerInfo(
        path=path if path is not None else "<memory>",
        size=len(data),
        data=data,
        zipfile=zf,
        members=members,
        infos=by_name,
        total_uncompressed=total,
        has_macros=bool(macro_parts),
        macro_parts=macro_parts,
        limits=limits,
        _lower=lower,
    )


def read_member(zf: ContainerInfo | zipfile.ZipFile, name: str, max_bytes: int | None = None) -> bytes:
    """Inflate one zip member, never producing more than its declared size.

    The raw deflate stream is inflated (ISA-L, else ``zlib``) in bounded steps, so a
    member whose header declares a small size but which inflates to gigabytes
    stops at ``declared size + 1`` bytes and is reported as a zip bomb.

    Args:
        zf: A ``ContainerInfo`` (preferred) or a ``zipfile.ZipFile``.
        name: Member name; for a ContainerInfo the case is ignored.
        max_bytes: Upper bound for the declared size; defaults to the
            container's ``Limits.max_member_bytes``.

    Raises:
        WorkbookError: missing-part, zip-bomb, encrypted or corrupt-zip.
    """
    if isinstance(zf, ContainerInfo):
        path = zf.path
        actual = zf.resolve(name)
        z = zf.zipfile
        if max_bytes is None:
            max_bytes = zf.limits.max_member_bytes
    else:
        path = getattr(zf, "filename", None)
        actual = name
        z = zf
        if max_bytes is None:
            max_bytes = Limits().max_member_bytes
    try:
        info = z.getinfo(actual) if actual is not None else None
    except KeyError:
        info = None
    if info is None:
        raise _fail("missing-part", path, part=name)
    if info.flag_bits & 0x1:
        raise _fail("encrypted", path, part=name)
    declared = info.file_size
    if declared > max_bytes:
        raise _fail("zip-bomb", path, part=name,
                    detail=f"{name} 声明解压后 {human_size(declared)}，上限 {human_size(max_bytes)}",
                    detail_en=f"{name} declares {human_size(declared)}, limit {human_size(max_bytes)}")

    fp = z.fp
    if fp is None:
        raise ValueError("zip file is closed")
    try:
        fp.seek(info.header_offset)
        header = fp.read(30)
        if len(header) < 30 or header[:4] != ZIP_LOCAL:
            raise _corrupt(path, name, "本地文件头无效", "bad local file header")
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        fp.seek(info.header_offset + 30 + name_len + extra_len)
        if info.compress_type == zipfile.ZIP_STORED:
            out = fp.read(info.compress_size)
            if len(out) != info.compress_size:
                raise _fail("truncated-zip", path, part=name)
            if len(out) > declared:
                raise _bomb_lying(path, name, declared)
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            out = _inflate(fp, info.compress_size, declared, path, name)
        else:
            raise _corrupt(path, name, f"不支持的压缩方式 {info.compress_type}",
                           f"unsupported compression method {info.compress_type}")
    except WorkbookError:
        raise
    except (OSError, ValueError, struct.error) as exc:
        raise _corrupt(path, name, "读取失败", f"read failed ({exc})") from None
    if len(out) != declared:
        raise _corrupt(path, name, f"实际大小 {len(out)} 与声明的 {declared} 字节不符",
                       f"actual size {len(out)} differs from the declared {declared} bytes")
    if _deflate.crc32(out) & 0xFFFFFFFF != info.CRC:
        raise _corrupt(path, name, "CRC 校验失败", "CRC check failed")
    return out if out.__class__ is bytes else bytes(out)


def stored_zip(parts: Iterable[tuple[str, bytes]]) -> bytes:
    """A zip of ``(name, data)`` parts, uncompressed (what ``zipfile`` writes with ZIP_STORED, minus its
    per-entry bookkeeping: the checksums are ISA-L's). Parts under 4 GB each and in all, as the limits
    guarantee for everything read from a workbook."""
    out: list[bytes] = []
    central: list[bytes] = []
    pos = 0
    for name, data in parts:
        raw = name.encode("utf-8")
        flags = 0 if raw.isascii() else 0x800  # bit 11: the name is UTF-8
        crc = _deflate.crc32(data) & 0xFFFFFFFF
        size = len(data)
        # version 2.0, no compression, 1980-01-01 00:00
        head = struct.pack("<4s5H3I2H", ZIP_LOCAL, 20, flags, 0, 0, 0x21, crc, size, size, len(raw), 0)
        central.append(struct.pack("<4s6H3I5H2I", ZIP_CENTRAL, 20, 20, flags, 0, 0, 0x21, crc, size, size,
                                   len(raw), 0, 0, 0, 0, 0, pos) + raw)
        out += (head, raw, data)
        pos += len(head) + len(raw) + size
    directory = b"".join(central)
    out += (directory, struct.pack("<4s4H2IH", ZIP_EOCD, 0, 0, len(central), len(central), len(directory), pos, 0))
    return b"".join(out)


# --------------------------------------------------------------------------
# Private API.
# --------------------------------------------------------------------------

_CHUNK = 1 * _MB


def _corrupt(path: str | None, name: str, zh: str, en: str) -> WorkbookError:
    return _fail("corrupt-zip", path, part=name, detail=f"{name}：{zh}", detail_en=f"{name}: {en}")


def _bomb_lying(path: str | None, name: str, declared: int) -> WorkbookError:
    return _fail("zip-bomb", path, part=name,
                 detail=f"{name} 解压后超过其声明的 {human_size(declared)}",
                 detail_en=f"{name} inflates beyond its declared {human_size(declared)}")


def _inflate(fp, compressed: int, declared: int, path: str | None, name: str) -> bytes | bytearray:
    decomp = _deflate.decompressobj(-zlib.MAX_WBITS)
    try:
        if compressed <= _CHUNK:  # most parts: one read, one call, no copy
            chunk = fp.read(compressed)
            if len(chunk) < compressed:
                raise _fail("truncated-zip", path, part=name)
            # Never ask for more than one byte past the declared size.
            out: bytes | bytearray = decomp.decompress(chunk, declared + 1)
            if len(out) > declared:
                raise _bomb_lying(path, name, declared)
        else:
            out = bytearray()
            remaining = compressed
            while remaining > 0:
                chunk = fp.read(min(_CHUNK, remaining))
                if not chunk:
                    raise _fail("truncated-zip", path, part=name)
                remaining -= len(chunk)
                out += decomp.decompress(chunk, declared + 1 - len(out))
                if len(out) > declared:
                    raise _bomb_lying(path, name, declared)
                if decomp.eof:
                    break
    except _INFLATE_ERRORS as exc:
        raise _corrupt(path, name, "解压失败", f"inflate failed ({exc})") from None
    if not decomp.eof:
        raise _corrupt(path, name, "压缩数据不完整", "incomplete deflate stream")
    return out


def _eocd_entry_count(data: bytes, path: str | None) -> int:
    """Entry count from the end-of-central-directory record (zip64 aware)."""
    # The EOCD is 22 bytes plus a comment of at most 65535 bytes.
    pos = data.rfind(ZIP_EOCD, max(0, len(data) - 22 - 65535))
    if pos < 0 or pos + 22 > len(data):
        if data.startswith(ZIP_LOCAL):
            raise _fail("truncated-zip", path)
        raise _fail("not-a-zip", path)
    (_disk, _cd_disk, _n_here, n_total, cd_size, cd_offset, _clen) = struct.unpack(
        "<HHHHIIH", data[pos + 4:pos + 22])
    if n_total == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
        loc = pos - 20
        if loc >= 0 and data[loc:loc + 4] == ZIP64_LOCATOR:
            (_d, rec_offset, _disks) = struct.unpack("<IQI", data[loc + 4:loc + 20])
            if rec_offset + 56 <= len(data) and data[rec_offset:rec_offset + 4] == ZIP64_EOCD:
                n_total = struct.unpack("<Q", data[rec_offset + 32:rec_offset + 40])[0]
                cd_size, cd_offset = struct.unpack("<QQ", data[rec_offset + 40:rec_offset + 56])
    if n_total and cd_size + cd_offset > pos:
        # The central directory claims to extend past the end record: the
        # file was cut, or the directory is damaged.  Python's zipfile copes
        # with data prepended to an archive, so only flag the clear cases.
        if cd_size > pos:
            raise _fail("truncated-zip", path)
    return n_total


def _ole2_names(data: bytes) -> set[str]:
    """Stream names found in OLE2 directory entries.

    Directory entries are 128-byte records that start on 128-byte boundaries
    of the file; each begins with the UTF-16LE name (NUL-terminated) and has
    the name's byte length at offset 64.
    """
    found: set[str] = set()
    for target in ("EncryptionInfo", "EncryptedPackage", "Workbook", "Book",
                   "WordDocument", "PowerPoint Document"):
        needle = target.encode("utf-16-le") + b"\x00\x00"
        start = 0
        while True:
            i = data.find(needle, start)
            if i < 0:
                break
            if i % 128 == 0 and i + 66 <= len(data):
                (length,) = struct.unpack_from("<H", data, i + 64)
                if length == len(needle):
                    found.add(target)
                    break
            start = i + 1
    return found


def _classify_ole2(data: bytes, path: str | None) -> WorkbookError:
    names = _ole2_names(data)
    if {"EncryptionInfo", "EncryptedPackage"} & names:
        return _fail("encrypted", path)
    if {"Workbook", "Book"} & names:
        return _fail("legacy-xls", path)
    if "WordDocument" in names:
        return _fail("unsupported-format", path, detail="Word 文档", detail_en="a Word document")
    if "PowerPoint Document" in names:
        return _fail("unsupported-format", path, detail="PowerPoint 文档", detail_en="a PowerPoint document")
    return _fail("unsupported-format", path, detail="OLE2 复合文档，不是 Excel 工作簿",
                 detail_en="an OLE2 compound file that is not an Excel workbook")


def _classify_other(data: bytes, path: str | None) -> WorkbookError:
    head = data[:2048]
    if head.startswith(b"%PDF"):
        return _fail("unsupported-format", path, detail="PDF 文件", detail_en="a PDF file")
    if head.startswith(b"Rar!") or head.startswith(b"7z\xbc\xaf\x27\x1c") or head.startswith(b"\x1f\x8b"):
        return _fail("unsupported-format", path, detail="RAR/7z/gzip 压缩包，请解压后提交其中的 .xlsx",
                     detail_en="a RAR/7z/gzip archive; extract it and submit the .xlsx inside")
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"urn:schemas-microsoft-com:office:spreadsheet" in text:
        return _fail("unsupported-format", path, detail="XML 电子表格 2003 格式",
                     detail_en="XML Spreadsheet 2003")
    if text.startswith(b"<") and (b"<html" in text or b"<table" in text or b"<!doctype html" in text):
        return _fail("unsupported-format", path, detail="网页（HTML）格式的表格",
                     detail_en="an HTML table")
    return _fail("not-a-zip", path)


def _check_kind(lower: dict[str, str], path: str | None) -> None:
    """Name the format when the zip is not an xlsx package."""
    if "xl/workbook.xml" in lower:
        return
    if "xl/workbook.bin" in lower:
        raise _fail("unsupported-format", path, detail="Excel 二进制工作簿（.xlsb）",
                    detail_en="an Excel binary workbook (.xlsb)")
    if "mimetype" in lower and "content.xml" in lower:
        raise _fail("unsupported-format", path, detail="OpenDocument 表格（.ods）",
                    detail_en="an OpenDocument spreadsheet (.ods)")
    if "word/document.xml" in lower:
        raise _fail("unsupported-format", path, detail="Word 文档（.docx）", detail_en="a Word document (.docx)")
    if "ppt/presentation.xml" in lower:
        raise _fail("unsupported-format", path, detail="PowerPoint 文档（.pptx）",
                    detail_en="a PowerPoint document (.pptx)")
    for key, name in lower.items():
        if key.endswith((".xlsx", ".xlsm", ".xls", ".et", ".zip", ".rar", ".7z")):
            raise _fail("nested-archive", path, part=name)
