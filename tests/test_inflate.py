"""Zip members inflate the same with ISA-L and with zlib (the fallback), bombs and damage included."""

from __future__ import annotations

import io
import os
import zipfile
import zlib

import pytest

from test_reader import _zip
from xlbudget.io import safety
from xlbudget.io.errors import WorkbookError

BACKENDS = ["isal", "zlib"]


@pytest.fixture(params=BACKENDS)
def backend(request, monkeypatch):
    if request.param == "zlib":
        monkeypatch.setattr(safety, "_deflate", zlib)
        monkeypatch.setattr(safety, "_INFLATE_ERRORS", (zlib.error,))
    else:
        from isal import isal_zlib

        assert safety._deflate is isal_zlib  # installed with xlbudget: the fast path is the one in use
    return request.param


def _read(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return safety.read_member(z, name)


def _code(data: bytes, name: str) -> str:
    with pytest.raises(WorkbookError) as exc:
        _read(data, name)
    return exc.value.code


def test_members_small_and_over_one_read(backend):
    text = b"<sheetData>" + b"".join(b'<c r="A%d"><v>%d</v></c>' % (i, i * 7) for i in range(1, 20000)) + b"</sheetData>"
    noise = os.urandom(3 * 1024 * 1024)  # incompressible: its deflate stream spans several reads
    data = _zip({"a.xml": text, "b.bin": noise, "empty.xml": b""})
    assert _read(data, "a.xml") == text
    assert _read(data, "b.bin") == noise
    assert _read(data, "empty.xml") == b""
    assert type(_read(data, "a.xml")) is bytes


def _patched_size(data: bytes, name: str, size: int) -> bytes:
    """The zip with the member's uncompressed size rewritten in both headers (a lying header)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo(name)
    b = bytearray(data)
    b[info.header_offset + 22:info.header_offset + 26] = size.to_bytes(4, "little")
    central = data.rfind(b"PK\x01\x02")
    while data[central + 46:central + 46 + len(name)] != name.encode():
        central = data.rfind(b"PK\x01\x02", 0, central)
    b[central + 24:central + 28] = size.to_bytes(4, "little")
    return bytes(b)


@pytest.mark.parametrize("size", [1000, 2 * 1024 * 1024])
def test_a_member_that_inflates_past_its_declared_size_is_a_bomb(backend, size):
    data = _patched_size(_zip({"x.xml": b"\0" * (8 * 1024 * 1024)}), "x.xml", size)
    assert _code(data, "x.xml") == "zip-bomb"


def test_damaged_streams(backend):
    text = os.urandom(200_000)
    data = _zip({"x.xml": text})
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo("x.xml")
    start = info.header_offset + 30 + len("x.xml")
    garbled = bytearray(data)
    garbled[start:start + 64] = b"\xff" * 64
    assert _code(bytes(garbled), "x.xml") in ("corrupt-zip",)
    flipped = bytearray(data)
    flipped[start + info.compress_size // 2] ^= 0x55
    assert _code(bytes(flipped), "x.xml") == "corrupt-zip"  # a bad block, or a CRC that no longer holds
    short = _patched_size(data, "x.xml", len(text) + 10)
    assert _code(short, "x.xml") == "corrupt-zip"  # the stream ends before the declared size


def test_stored_zip_reads_back_as_written():
    parts = [("[Content_Types].xml", b"<Types/>"), ("xl/worksheets/sheet1.xml", os.urandom(70_000)),
             ("xl/空白.xml", b""), ("xl/表1.xml", "<t>部门收入</t>".encode())]
    data = safety.stored_zip(parts)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None  # every checksum holds
        assert [(i.filename, i.compress_type) for i in z.infolist()] == [(n, zipfile.ZIP_STORED) for n, _ in parts]
        assert [z.read(n) for n, _ in parts] == [d for _, d in parts]
    with zipfile.ZipFile(io.BytesIO(safety.stored_zip([]))) as z:
        assert z.namelist() == []


def test_a_file_read_whole_even_when_it_grew_since_its_size_was_taken(tmp_path, monkeypatch):
    """The container is read as large as the file says it is, plus a byte: a file that grew in between is
    still read to its end (bounded by the limit), not cut at the size first seen."""
    path = tmp_path / "book.xlsx"
    data = _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>", "pad.bin": os.urandom(5000)})
    path.write_bytes(data)
    real = os.fstat

    def smaller_stat(st):
        return os.stat_result((st.st_mode, st.st_ino, st.st_dev, st.st_nlink, st.st_uid, st.st_gid, 100,
                               st.st_atime, st.st_mtime, st.st_ctime))

    def smaller(fd):
        return smaller_stat(real(fd))

    monkeypatch.setattr(safety.os, "fstat", smaller)
    info = safety.inspect_container(path)
    assert info.data == data and "pad.bin" in info.members
    real_stat = os.stat
    monkeypatch.setattr(safety.os, "stat", lambda p, *a, **k: smaller_stat(real_stat(p, *a, **k)))
    with pytest.raises(WorkbookError) as exc:  # grown past the limit once read: refused, not cut short
        safety.inspect_container(path, safety.Limits(max_file_bytes=len(data) - 1))
    assert exc.value.code == "too-large"
