"""LibreOffice headless helpers: recalculating conversion to xlsx, PDF export and PDF inspection.

LibreOffice does not recalculate formulas of an xlsx file on load by default: the cached values
written by the producing application (xlsxwriter writes 0) are kept as they are.  Whether it
recalculates is the Calc setting ``/org.openoffice.Office.Calc/Formula/Load/OOXMLRecalcMode``:

* ``0`` - always recalculate on load;
* ``1`` - never recalculate (the shipped default);
* ``2`` - ask the user (headless, this behaves like "never").

Every :func:`convert` call therefore runs ``soffice`` with a fresh, isolated, temporary user
profile (``-env:UserInstallation=...``) whose ``registrymodifications.xcu`` pins that setting.
A fresh profile per call also lets several conversions run side by side: LibreOffice hands a job
over to an already running instance that shares the same profile.

The PDF helpers (:func:`pdf_pages`, :func:`render_pages`, :func:`pdf_text`) use poppler-utils
(``pdfinfo``, ``pdftoppm``, ``pdftotext``).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

__all__ = [
    "ENV_SOFFICE",
    "INSTALL_HINT",
    "LibreOfficeError",
    "LibreOfficeNotFound",
    "LibreOfficeTimeout",
    "PopplerNotFound",
    "RECALC_ALWAYS",
    "RECALC_NEVER",
    "convert",
    "find_soffice",
    "pdf_pages",
    "pdf_text",
    "recalculated_copy",
    "render_pages",
]

ENV_SOFFICE = "XLBUDGET_SOFFICE"
"""Environment variable naming the soffice executable (a path or a command name)."""

INSTALL_HINT = (
    "Debian/Ubuntu：apt-get install --no-install-recommends libreoffice-calc fonts-wqy-microhei poppler-utils；"
    "其他系统请从 https://www.libreoffice.org 安装 LibreOffice，"
    f"或用环境变量 {ENV_SOFFICE} 指定 soffice 可执行文件的路径。"
)

# Values of /org.openoffice.Office.Calc/Formula/Load/OOXMLRecalcMode (2 would mean "ask").
RECALC_ALWAYS = 0
RECALC_NEVER = 1

_FORMATS = {
    # fmt -> argument of --convert-to ("extension:filter name")
    "xlsx": "xlsx:Calc MS Excel 2007 XML",
    "pdf": "pdf:calc_pdf_Export",
}

_PROFILE_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" \
xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>{mode}</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="ODFRecalcMode" oor:op="fuse"><value>{mode}</value></prop></item>
</oor:items>
"""

_TAIL_CHARS = 2000


class LibreOfficeError(RuntimeError):
    """A LibreOffice or poppler-utils call failed; the message is meant for end users."""


class LibreOfficeNotFound(LibreOfficeError):
    """No usable soffice executable was found."""

    def __init__(self, message: str | None = None) -> None:
        if message is None:
            override = os.environ.get(ENV_SOFFICE)
            if override:
                message = (
                    f"环境变量 {ENV_SOFFICE} 指定的 LibreOffice 程序不存在或不可执行：{override}。"
                    + INSTALL_HINT
                )
            else:
                message = "未找到 LibreOffice（soffice）。请先安装：" + INSTALL_HINT
        super().__init__(message)


class LibreOfficeTimeout(LibreOfficeError):
    """soffice did not finish within the time limit (it has been killed)."""


class PopplerNotFound(LibreOfficeError):
    """A poppler-utils program (pdfinfo, pdftoppm, pdftotext) is missing."""

    def __init__(self, program: str) -> None:
        super().__init__(
            f"未找到 {program}（属于 poppler-utils）。"
            "Debian/Ubuntu 请运行：apt-get install --no-install-recommends poppler-utils"
        )
        self.program = program


# --------------------------------------------------------------------------------------------
# Locating soffice
# --------------------------------------------------------------------------------------------


def _executable(candidate: str) -> str | None:
    if os.sep in candidate or (os.altsep and os.altsep in candidate):
        path = Path(candidate).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
        return None
    return shutil.which(candidate)


def find_soffice() -> str | None:
    """Return the soffice executable to use, or None.

    The environment variable ``XLBUDGET_SOFFICE`` (a path or a command name) takes precedence;
    when it is set but unusable, None is returned rather than silently using another program.
    Otherwise ``soffice`` and then ``libreoffice`` are looked up on PATH.
    """
    override = os.environ.get(ENV_SOFFICE)
    if override:
        return _executable(override)
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _require_soffice() -> str:
    soffice = find_soffice()
    if soffice is None:
        raise LibreOfficeNotFound()
    return soffice


# --------------------------------------------------------------------------------------------
# Conversion
# --------------------------------------------------------------------------------------------


def _tail(text: str | bytes | None) -> str:
    if not text:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    text = text.strip()
    if len(text) > _TAIL_CHARS:
        text = "..." + text[-_TAIL_CHARS:]
    return text


def _write_profile(profile: Path, recalc: bool) -> None:
    user = profile / "user"
    user.mkdir(parents=True)
    mode = RECALC_ALWAYS if recalc else RECALC_NEVER
    (user / "registrymodifications.xcu").write_text(_PROFILE_XCU.format(mode=mode), encoding="utf-8")


def _kill_group(proc: subprocess.Popen) -> None:
    # soffice is a launcher script: its office process lives in the same (new) session/group.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _convert_to(src: Path, dest: Path, fmt: str, recalc: bool, timeout: float) -> Path:
    """Convert *src* with soffice and move the result atomically to *dest*."""
    if fmt not in _FORMATS:
        raise ValueError(f"不支持的输出格式：{fmt!r}（可选：{', '.join(_FORMATS)}）")
    src = Path(src).resolve()
    if not src.is_file():
        raise FileNotFoundError(f"源文件不存在：{src}")
    dest = Path(dest).resolve()
    if dest == src:
        raise ValueError(f"输出文件不能覆盖源文件：{src}")
    soffice = _require_soffice()
    dest.parent.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="xlbudget-lo-") as work_name:
        work = Path(work_name)
        profile = work / "profile"
        _write_profile(profile, recalc)
        # soffice reads a private copy, so the source is never touched (no lock file beside it).
        indir = work / "in"
        indir.mkdir()
        src_copy = indir / src.name
        shutil.copyfile(src, src_copy)
        # The result is staged next to the destination, so the final move is an atomic rename.
        stage = Path(tempfile.mkdtemp(prefix=".xlbudget-lo-", dir=dest.parent))
        try:
            cmd = [
                soffice,
                f"-env:UserInstallation={profile.as_uri()}",
                "--headless",
                "--invisible",
                "--nologo",
                "--nodefault",
                "--nofirststartwizard",
                "--nolockcheck",
                "--norestore",
                "--convert-to",
                _FORMATS[fmt],
                "--outdir",
                str(stage),
                str(src_copy),
            ]
            env = dict(os.environ)
            env.setdefault("HOME", str(work))
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=work,
                env=env,
                start_new_session=True,
            )
            try:
                out, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                out, err = proc.communicate()
                detail = _tail((err or b"") + (out or b""))
                raise LibreOfficeTimeout(
                    f"LibreOffice 转换超时（超过 {timeout:g} 秒，已终止）：{src.name} → {fmt}"
                    + (f"\nsoffice 输出末尾：\n{detail}" if detail else "")
                ) from None
            finally:
                if proc.poll() is None:  # pragma: no cover - interrupted while waiting
                    _kill_group(proc)
                    proc.wait()
            produced = stage / f"{src_copy.stem}.{fmt}"
            if proc.returncode != 0 or not produced.is_file() or produced.stat().st_size == 0:
                detail = _tail((err or b"") + b"\n" + (out or b""))
                raise LibreOfficeError(
                    f"LibreOffice 转换失败：{src.name} → {fmt}（退出码 {proc.returncode}，"
                    f"{'未生成输出文件' if not produced.is_file() else '输出文件为空或不完整'}）。"
                    + (f"\nsoffice 输出末尾：\n{detail}" if detail else "")
                )
            os.replace(produced, dest)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    return dest


def convert(
    src: str | os.PathLike,
    outdir: str | os.PathLike,
    fmt: str,
    *,
    recalc: bool,
    timeout: float = 180,
) -> Path:
    """Convert a workbook with LibreOffice headless and return the output path.

    *fmt* is ``"xlsx"`` or ``"pdf"`` (exported with the ``calc_pdf_Export`` filter).  The output
    is ``outdir/<source stem>.<fmt>``; an existing file there is replaced atomically.  With
    ``recalc=True`` every formula is recalculated on load, so the xlsx carries correct cached
    values and the PDF prints them; with ``recalc=False`` the cached values in the source are kept
    (formulas without any cached value are still computed by LibreOffice).

    Raises :class:`LibreOfficeNotFound`, :class:`LibreOfficeTimeout` or
    :class:`LibreOfficeError` (messages in Chinese, with the tail of soffice's output).
    """
    src_path = Path(src)
    dest = Path(outdir) / f"{src_path.stem}.{fmt}"
    return _convert_to(src_path, dest, fmt, recalc, timeout)


def recalculated_copy(
    src: str | os.PathLike, dest: str | os.PathLike, *, timeout: float = 180
) -> Path:
    """Write *dest* as an xlsx copy of *src* whose formula cached values were recalculated."""
    return _convert_to(Path(src), Path(dest), "xlsx", True, timeout)


# --------------------------------------------------------------------------------------------
# PDF inspection (poppler-utils)
# --------------------------------------------------------------------------------------------


def _run_tool(program: str, args: list[str], timeout: float = 120) -> bytes:
    exe = shutil.which(program)
    if exe is None:
        raise PopplerNotFound(program)
    try:
        res = subprocess.run(
            [exe, *args], stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise LibreOfficeError(f"{program} 运行超时（超过 {timeout:g} 秒）") from None
    if res.returncode != 0:
        raise LibreOfficeError(
            f"{program} 运行失败（退出码 {res.returncode}）：{_tail(res.stderr) or '无输出'}"
        )
    return res.stdout


_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)"
_PAGE_SIZE_RE = re.compile(rf"^Page\s+(\d+)\s+size:\s+({_NUM})\s+x\s+({_NUM})\s+pts", re.M)
_PAGES_RE = re.compile(r"^Pages:\s+(\d+)", re.M)


def _pdf_pages_pdfinfo(pdf: Path) -> list[tuple[float, float]]:
    info = _run_tool("pdfinfo", [str(pdf)]).decode("utf-8", errors="replace")
    m = _PAGES_RE.search(info)
    if not m:
        raise LibreOfficeError(f"无法从 pdfinfo 输出中读取页数：{pdf.name}")
    count = int(m.group(1))
    if count == 0:
        return []
    info = _run_tool("pdfinfo", ["-f", "1", "-l", str(count), str(pdf)]).decode(
        "utf-8", errors="replace"
    )
    sizes = {int(n): (float(w), float(h)) for n, w, h in _PAGE_SIZE_RE.findall(info)}
    return [sizes[i] for i in range(1, count + 1) if i in sizes]


_OBJ_RE = re.compile(rb"(\d+)\s+\d+\s+obj\b(.*?)\bendobj", re.S)
_PAGE_TYPE_RE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")
_MEDIABOX_RE = re.compile(
    rb"/MediaBox\s*\[\s*(" + _NUM.encode() + rb")\s+(" + _NUM.encode() + rb")\s+("
    + _NUM.encode() + rb")\s+(" + _NUM.encode() + rb")\s*\]"
)
_PARENT_RE = re.compile(rb"/Parent\s+(\d+)\s+\d+\s+R")


def _pdf_pages_regex(pdf: Path) -> list[tuple[float, float]]:
    """Fallback without poppler: page MediaBox sizes, in file order (uncompressed objects only)."""
    data = pdf.read_bytes()
    objects = {int(num): body for num, body in _OBJ_RE.findall(data)}

    def mediabox(body: bytes, depth: int = 0) -> tuple[float, float] | None:
        m = _MEDIABOX_RE.search(body)
        if m:
            x0, y0, x1, y1 = (float(v) for v in m.groups())
            return abs(x1 - x0), abs(y1 - y0)
        parent = _PARENT_RE.search(body)
        if parent and depth < 32:
            parent_body = objects.get(int(parent.group(1)))
            if parent_body is not None:
                return mediabox(parent_body, depth + 1)
        return None

    sizes = []
    for _num, body in _OBJ_RE.findall(data):
        if _PAGE_TYPE_RE.search(body):
            box = mediabox(body)
            if box is not None:
                sizes.append(box)
    if not sizes:
        raise LibreOfficeError(f"无法解析 PDF 页面尺寸（请安装 poppler-utils）：{pdf.name}")
    return sizes


def pdf_pages(pdf_path: str | os.PathLike) -> list[tuple[float, float]]:
    """Return ``(width_pt, height_pt)`` of every page (page box, rotation not applied).

    Uses ``pdfinfo`` when available, otherwise parses the ``/MediaBox`` entries directly.
    """
    pdf = Path(pdf_path)
    if not pdf.is_file():
        raise FileNotFoundError(f"PDF 文件不存在：{pdf}")
    if shutil.which("pdfinfo"):
        return _pdf_pages_pdfinfo(pdf)
    return _pdf_pages_regex(pdf)


def render_pages(
    pdf: str | os.PathLike, outdir: str | os.PathLike, dpi: int = 50
) -> list[Path]:
    """Render every page to PNG with ``pdftoppm``; return the files in page order.

    Files are named ``<pdf stem>-<page>.png`` (pdftoppm zero-pads the page number).
    """
    pdf = Path(pdf).resolve()
    if not pdf.is_file():
        raise FileNotFoundError(f"PDF 文件不存在：{pdf}")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".xlbudget-png-", dir=outdir))
    try:
        _run_tool("pdftoppm", ["-png", "-r", str(int(dpi)), str(pdf), str(stage / pdf.stem)])
        page_re = re.compile(re.escape(pdf.stem) + r"-(\d+)\.png$")
        rendered = sorted(
            (int(m.group(1)), p) for p in stage.iterdir() if (m := page_re.match(p.name))
        )
        result = []
        for _page, path in rendered:
            target = outdir / path.name
            os.replace(path, target)
            result.append(target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return result


def pdf_text(pdf: str | os.PathLike) -> str:
    """Return the text of the PDF (UTF-8, layout preserved) extracted with ``pdftotext``."""
    pdf = Path(pdf)
    if not pdf.is_file():
        raise FileNotFoundError(f"PDF 文件不存在：{pdf}")
    out = _run_tool("pdftotext", ["-enc", "UTF-8", "-layout", str(pdf), "-"])
    return out.decode("utf-8", errors="replace")
