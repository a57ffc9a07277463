"""Tests of xlbudget.libreoffice: recalculating conversion, PDF export and PDF inspection."""

from __future__ import annotations

import hashlib
import os
import stat
import struct
import tempfile
import time
import zlib
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from xlbudget import libreoffice as lo

DATA_SHEET = "收入总表"
SUMMARY_SHEET = "汇总 表"  # a space forces quoting in references
A4 = (595.28, 841.89)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_formula_book(path: Path) -> None:
    """Formulas whose cached values are deliberately wrong."""
    wb = xlsxwriter.Workbook(str(path))
    data = wb.add_worksheet(DATA_SHEET)
    summary = wb.add_worksheet(SUMMARY_SHEET)
    data.write("A1", 2)
    data.write("A2", 3)
    data.write_formula("A3", "=A1+A2", None, 0)  # true value 5
    data.write_formula("B1", "=SUM(A1:A3)*10", None, 123)  # true value 100
    summary.write("A1", "合计")
    summary.write_formula("B1", f"='{DATA_SHEET}'!A3*2", None, 99)  # true value 10
    summary.write_formula("B2", f"='{DATA_SHEET}'!B1-B1", None, 7)  # true value 90
    wb.close()


def _values(path: Path) -> dict[str, object]:
    wb = openpyxl.load_workbook(path, data_only=True)
    try:
        return {
            "A3": wb[DATA_SHEET]["A3"].value,
            "B1": wb[DATA_SHEET]["B1"].value,
            "S!B1": wb[SUMMARY_SHEET]["B1"].value,
            "S!B2": wb[SUMMARY_SHEET]["B2"].value,
        }
    finally:
        wb.close()


def _write_chinese_print_book(path: Path) -> None:
    wb = xlsxwriter.Workbook(str(path))
    bold = wb.add_format({"bold": True, "border": 1})
    cell = wb.add_format({"border": 1, "num_format": "#,##0.00"})
    portrait = wb.add_worksheet("收支总表")
    portrait.set_paper(9)
    portrait.write("A1", "部门预算公开收支总表", bold)
    portrait.write("A2", "单位：万元")
    portrait.write_row("A3", ["项目", "预算数"], bold)
    portrait.write_row("A4", ["一、财政拨款收入", 1234.5], cell)
    portrait.write_row("A5", ["收入总计", None], bold)
    portrait.write_formula("B5", "=B4", cell, 0)
    portrait.set_column("A:A", 30)
    landscape = wb.add_worksheet("支出总表")
    landscape.set_paper(9)
    landscape.set_landscape()
    landscape.write("A1", "一般公共预算支出表", bold)
    wb.close()


def _png_pixels(path: Path) -> tuple[int, int, int, bytes]:
    """Minimal PNG decoder (8-bit, non-interlaced): (width, height, channels, raw pixels)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"不是 PNG 文件：{path}"
    pos, idat, header = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    assert header is not None
    width, height, depth, color, _comp, _filt, interlace = header
    assert depth == 8 and interlace == 0, header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color]
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    out = bytearray()
    prev = bytearray(stride)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = prev[i]
            if ftype == 1:
                line[i] = (line[i] + left) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + up) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 0xFF
            elif ftype == 4:
                ul = prev[i - channels] if i >= channels else 0
                p = left + up - ul
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - ul)
                pred = left if pa <= pb and pa <= pc else (up if pb <= pc else ul)
                line[i] = (line[i] + pred) & 0xFF
        out += line
        prev = line
    return width, height, channels, bytes(out)


def _alive(pid: int) -> bool:
    """True while *pid* runs (a zombie waiting to be reaped counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def _fake_soffice(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "fake-soffice"
    script.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> Path:
    """Point tempfile at an empty directory so leftovers of a conversion can be detected."""
    tdir = tmp_path / "systmp"
    tdir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tdir))
    return tdir


# --------------------------------------------------------------------------------------------
# real LibreOffice
# --------------------------------------------------------------------------------------------


@pytest.mark.libreoffice
def test_recalc_true_fixes_stale_cached_values(soffice, tmp_path, private_tmp):
    src_dir = tmp_path / "src"
    src_dir.mkdir()
    src = src_dir / "预算.xlsx"
    _write_formula_book(src)
    before = _sha256(src)
    assert _values(src) == {"A3": 0, "B1": 123, "S!B1": 99, "S!B2": 7}

    out = lo.convert(src, tmp_path / "out", "xlsx", recalc=True)

    assert out == (tmp_path / "out" / "预算.xlsx").resolve()
    assert _values(out) == {"A3": 5, "B1": 100, "S!B1": 10, "S!B2": 90}
    # source untouched, nothing left beside it, temporary profile removed
    assert _sha256(src) == before
    assert sorted(p.name for p in src_dir.iterdir()) == ["预算.xlsx"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["预算.xlsx"]
    assert list(private_tmp.iterdir()) == []
    # formulas survive the round trip
    wb = openpyxl.load_workbook(out)
    assert wb[SUMMARY_SHEET]["B1"].value.replace("'", "") == f"={DATA_SHEET}!A3*2"
    wb.close()


@pytest.mark.libreoffice
def test_recalc_false_keeps_cached_values(soffice, tmp_path, private_tmp):
    src = tmp_path / "book.xlsx"
    _write_formula_book(src)
    out = lo.convert(src, tmp_path / "out", "xlsx", recalc=False)
    assert _values(out) == {"A3": 0, "B1": 123, "S!B1": 99, "S!B2": 7}
    assert list(private_tmp.iterdir()) == []


@pytest.mark.libreoffice
def test_recalculated_copy_replaces_existing_destination(soffice, tmp_path):
    src = tmp_path / "book.xlsx"
    _write_formula_book(src)
    dest = tmp_path / "new" / "dir" / "recalculated.xlsx"
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"old")
    assert lo.recalculated_copy(src, dest) == dest.resolve()
    assert _values(dest) == {"A3": 5, "B1": 100, "S!B1": 10, "S!B2": 90}
    assert sorted(p.name for p in dest.parent.iterdir()) == ["recalculated.xlsx"]


@pytest.mark.libreoffice
def test_pdf_export_a4_chinese_text_and_rendering(soffice, poppler, tmp_path):
    src = tmp_path / "公开表.xlsx"
    _write_chinese_print_book(src)
    pdf = lo.convert(src, tmp_path, "pdf", recalc=True)
    assert pdf == (tmp_path / "公开表.pdf").resolve()
    assert pdf.read_bytes()[:5] == b"%PDF-"

    pages = lo.pdf_pages(pdf)
    assert len(pages) == 2, pages
    for width, height in pages:
        assert sorted((width, height)) == pytest.approx(A4, abs=1.0), pages
    assert pages[0][0] < pages[0][1], "第 1 页应为纵向"
    assert pages[1][0] > pages[1][1], "第 2 页应为横向"
    # the regex fallback agrees with pdfinfo
    fallback = lo._pdf_pages_regex(pdf)
    assert len(fallback) == len(pages)
    for got, want in zip(fallback, pages):
        assert got == pytest.approx(want, abs=0.01)

    text = lo.pdf_text(pdf)
    for needle in ("部门预算公开收支总表", "一、财政拨款收入", "一般公共预算支出表"):
        assert needle in text, f"PDF 中找不到 {needle!r}（是否缺少中文字体 fonts-wqy-microhei？）：{text!r}"
    assert "1,234.50" in text.split("收入总计", 1)[1], "收入总计应显示重算后的 1,234.50"

    pngs = lo.render_pages(pdf, tmp_path / "png", dpi=30)
    assert [p.name for p in pngs] == ["公开表-1.png", "公开表-2.png"]
    width, height, channels, pixels = _png_pixels(pngs[0])
    assert height > width > 0
    assert len(pixels) == width * height * channels
    dark = sum(1 for b in pixels if b < 128)
    assert dark > 50, "渲染出的页面是空白的"


@pytest.mark.libreoffice
def test_one_conversion_is_reasonably_fast(soffice, tmp_path):
    src = tmp_path / "book.xlsx"
    _write_formula_book(src)
    start = time.perf_counter()
    lo.convert(src, tmp_path / "out", "xlsx", recalc=True)
    assert time.perf_counter() - start < 60


# --------------------------------------------------------------------------------------------
# error handling (no LibreOffice needed)
# --------------------------------------------------------------------------------------------


def test_find_soffice_env_override(tmp_path, monkeypatch):
    fake = _fake_soffice(tmp_path, "exit 0")
    monkeypatch.setenv(lo.ENV_SOFFICE, str(fake))
    assert lo.find_soffice() == str(fake)
    monkeypatch.setenv(lo.ENV_SOFFICE, str(tmp_path / "missing-soffice"))
    assert lo.find_soffice() is None


def test_missing_soffice_raises_with_install_hint(tmp_path, monkeypatch):
    src = tmp_path / "book.xlsx"
    _write_formula_book(src)
    monkeypatch.setenv(lo.ENV_SOFFICE, str(tmp_path / "missing-soffice"))
    with pytest.raises(lo.LibreOfficeNotFound) as exc:
        lo.convert(src, tmp_path / "out", "xlsx", recalc=True)
    assert isinstance(exc.value, RuntimeError)
    assert "apt-get install" in str(exc.value) and "libreoffice-calc" in str(exc.value)
    assert "fonts-wqy-microhei" in str(exc.value)
    monkeypatch.delenv(lo.ENV_SOFFICE)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert lo.find_soffice() is None
    assert "未找到 LibreOffice" in str(lo.LibreOfficeNotFound())


def test_bad_arguments(tmp_path):
    src = tmp_path / "book.xlsx"
    _write_formula_book(src)
    with pytest.raises(ValueError, match="不支持"):
        lo.convert(src, tmp_path, "ods", recalc=True)
    with pytest.raises(ValueError, match="覆盖源文件"):
        lo.convert(src, tmp_path, "xlsx", recalc=True)
    with pytest.raises(ValueError, match="覆盖源文件"):
        lo.recalculated_copy(src, src)
    with pytest.raises(FileNotFoundError):
        lo.convert(tmp_path / "nope.xlsx", tmp_path / "out", "xlsx", recalc=True)


def test_failure_reports_soffice_stderr(tmp_path, monkeypatch, private_tmp):
    src = tmp_path / "book.xlsx"
    _write_formula_book(src)
    fake = _fake_soffice(tmp_path, 'echo "Error: source file could not be loaded" >&2\nexit 3')
    monkeypatch.setenv(lo.ENV_SOFFICE, str(fake))
    with pytest.raises(lo.LibreOfficeError) as exc:
        lo.convert(src, tmp_path / "out", "pdf", recalc=False)
    message = str(exc.value)
    assert "转换失败" in message and "退出码 3" in message
    assert "source file could not be loaded" in message
    assert list((tmp_path / "out").iterdir()) == []
    assert list(private_tmp.iterdir()) == []


def test_exit_zero_without_output_is_an_error(tmp_path, monkeypatch):
    src = tmp_path / "book.xlsx"
    _write_formula_book(src)
    monkeypatch.setenv(lo.ENV_SOFFICE, str(_fake_soffice(tmp_path, "exit 0")))
    with pytest.raises(lo.LibreOfficeError, match="未生成输出文件"):
        lo.convert(src, tmp_path / "out", "xlsx", recalc=True)


def test_fake_soffice_receives_isolated_profile(tmp_path, monkeypatch):
    """The profile pins OOXMLRecalcMode: 0 (always) for recalc=True, 1 (never) otherwise."""
    src = tmp_path / "book.xlsx"
    _write_formula_book(src)
    log = tmp_path / "args.txt"
    body = (
        f'printf "%s\\n" "$@" > "{log}"\n'
        'profile=$(echo "$1" | sed "s|^-env:UserInstallation=file://||")\n'
        f'cat "$profile/user/registrymodifications.xcu" >> "{log}"\n'
        'for a; do out=$prev; prev=$a; [ "$out" = "--outdir" ] && dir=$a; done\n'
        'cp "$prev" "$dir/book.xlsx"\n'
    )
    monkeypatch.setenv(lo.ENV_SOFFICE, str(_fake_soffice(tmp_path, body)))
    for recalc, mode in ((True, 0), (False, 1)):
        out = lo.convert(src, tmp_path / "out", "xlsx", recalc=recalc)
        assert out.read_bytes() == src.read_bytes()
        logged = log.read_text(encoding="utf-8")
        assert logged.startswith("-env:UserInstallation=file:///")
        assert "--headless" in logged and "xlsx:Calc MS Excel 2007 XML" in logged
        assert f'oor:name="OOXMLRecalcMode" oor:op="fuse"><value>{mode}</value>' in logged


def test_timeout_kills_soffice_and_its_children(tmp_path, monkeypatch):
    src = tmp_path / "book.xlsx"
    _write_formula_book(src)
    pidfile = tmp_path / "child.pid"
    body = f'sleep 60 &\necho $! > "{pidfile}"\necho starting >&2\nwait'
    monkeypatch.setenv(lo.ENV_SOFFICE, str(_fake_soffice(tmp_path, body)))
    start = time.perf_counter()
    with pytest.raises(lo.LibreOfficeTimeout, match="超时"):
        lo.convert(src, tmp_path / "out", "pdf", recalc=True, timeout=1)
    assert time.perf_counter() - start < 20
    child = int(pidfile.read_text().strip())
    for _ in range(50):
        if not _alive(child):
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"超时后子进程 {child} 仍在运行")


def test_pdf_helpers_reject_missing_file(tmp_path):
    for func in (lo.pdf_pages, lo.pdf_text):
        with pytest.raises(FileNotFoundError):
            func(tmp_path / "missing.pdf")
    with pytest.raises(FileNotFoundError):
        lo.render_pages(tmp_path / "missing.pdf", tmp_path)
