"""Every file xlbudget writes goes through here.

* :func:`atomic_output` / :func:`atomic_write`: a temporary file in the folder of the output, renamed over it
  on success (readers never see half a file), removed on failure; the final file gets the mode the user's
  umask gives a new file (``0666 & ~umask``), so colleagues of the group can read the reports;
* :func:`guard_outputs`: the one check every command makes before it works: no output is an input (by
  resolved path, or by device and inode for another path to the same file: symlink, hard link, ``a/../``),
  no two outputs are the same file, each output has the extension of what is written into it, and its
  folder can exist;
* :func:`is_temporary`: the temporary names used here (``.xlbudget-…``), which a folder scan never takes
  for submissions;
* :func:`csv_text`: a CSV text field that no spreadsheet takes for a formula.

Problems are raised as :class:`OutputError` with a message in Chinese and in English.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from msgspec import Struct

from .errors import XlbudgetError

__all__ = ["OutputError", "Output", "TEMP_PREFIX", "atomic_output", "atomic_write", "csv_text", "finish_output", "output_folder",
           "first_same_files", "guard_outputs", "is_temporary", "output_mode", "same_file"]


def _tempfile():
    """The tempfile module, loaded where a file goes to the system's temporary folder (with random and what
    it loads: about 2 ms of the start of a command, which one that writes its outputs beside them, in the
    output's own folder, does without: see ``_mkstemp``)."""
    import tempfile

    return tempfile


_EXCLUSIVE = (os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
              | getattr(os, "O_BINARY", 0))


def _mkstemp(prefix: str, suffix: str, folder: str) -> tuple[int, str]:
    """``tempfile.mkstemp(suffix, prefix, folder)``: a new file of a random name in ``folder``, created
    exclusively and readable by its owner only, open; (its descriptor, its absolute path)."""
    for _ in range(100):
        name = os.path.join(folder, prefix + os.urandom(8).hex() + suffix)
        try:
            return os.open(name, _EXCLUSIVE, 0o600), os.path.abspath(name)
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no usable temporary file name found")


TEMP_PREFIX = ".xlbudget-"
TEMP_SUFFIX = ".tmp"
_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".et", ".xlsb")
_KIND_SUFFIXES = {"xlsx": (".xlsx",), "pdf": (".pdf",)}
_KIND_NAMES = {"xlsx": ("Excel 工作簿", "an Excel workbook"), "pdf": ("PDF 文件", "a PDF file")}

_ERRNO_TEXT = {  # errno -> (zh, en)
    errno.ENOENT: ("文件夹不存在", "the folder does not exist"),
    errno.ENOTDIR: ("路径中有一部分是文件而不是文件夹", "a part of the path is a file, not a folder"),
    errno.EISDIR: ("这是一个文件夹", "it is a folder"),
    errno.EACCES: ("没有写入权限", "permission denied"),
    errno.EPERM: ("不允许写入", "operation not permitted"),
    errno.EROFS: ("只读文件系统", "read-only file system"),
    errno.ENOSPC: ("磁盘空间不足", "no space left on the device"),
    errno.EEXIST: ("已存在同名文件", "a file of that name exists"),
    errno.ENAMETOOLONG: ("文件名太长", "the file name is too long"),
}


class OutputError(XlbudgetError):
    """An output cannot or must not be written; ``str()`` is the Chinese message, ``.en`` the English one."""

    def __init__(self, zh: str, en: str):
        super().__init__(zh)
        self.zh = zh
        self.en = en

    def message(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh


def _reason(exc: OSError) -> tuple[str, str]:
    if exc.errno in _ERRNO_TEXT:
        return _ERRNO_TEXT[exc.errno]
    text = exc.strerror or type(exc).__name__
    return text, text


def _unwritable(path: str | os.PathLike[str], exc: OSError) -> OutputError:
    zh, en = _reason(exc)
    if exc.errno == errno.ENOENT and Path(path).parent.is_dir():  # e.g. /proc: the folder is there
        zh, en = "无法在该文件夹中创建文件", "no file can be created in that folder"
    return OutputError(f"无法写入 {os.fspath(path)}：{zh}", f"cannot write {os.fspath(path)}: {en}")


def output_mode() -> int:
    """The mode of a new file under the current umask (``0666 & ~umask``)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def is_temporary(path: str | os.PathLike[str]) -> bool:
    """True for the temporary files and folders xlbudget writes beside its outputs (and anything inside them)."""
    return any(part.startswith(TEMP_PREFIX) for part in Path(path).parts)


def finish_output(tmp: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    """Give a finished temporary file the user's mode and rename it over ``path`` (one atomic step)."""
    try:
        os.chmod(tmp, output_mode())
        os.replace(tmp, path)
    except OSError as exc:
        raise _unwritable(path, exc) from None
    return Path(path)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str], suffix: str = "") -> Iterator[str]:
    """Yield a temporary file name in the folder of ``path``; on success it replaces ``path`` in one rename,
    on failure it is removed. Readers never see a half-written output. The temporary name starts with
    ``.xlbudget-`` and ends with ``.tmp`` (``suffix`` goes before it), so no folder scan takes it for a
    submission. An output that cannot be written raises :class:`OutputError`."""
    out = Path(path)
    if _special(out):  # /dev/null, /dev/stdout, a FIFO: written through, never replaced by a file
        yield from _through(out, suffix)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _mkstemp(TEMP_PREFIX, suffix + TEMP_SUFFIX, str(out.parent))
    except OSError as exc:
        raise _unwritable(out, exc) from None
    os.close(fd)
    try:
        yield tmp
        finish_output(tmp, out)
    except OSError as exc:
        raise _unwritable(out, exc) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _special(path: Path) -> bool:
    """An existing output that is neither a regular file nor a folder (a device, a FIFO, a socket)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _through(out: Path, suffix: str) -> Iterator[str]:
    """Write to a temporary file elsewhere, then copy its bytes into the device or FIFO ``out``."""
    fd, tmp = _tempfile().mkstemp(prefix=TEMP_PREFIX, suffix=suffix + TEMP_SUFFIX)
    os.close(fd)
    try:
        yield tmp
        import shutil  # (for a device or FIFO only)

        with open(tmp, "rb") as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
    except OSError as exc:
        raise _unwritable(out, exc) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def output_folder(path: str | os.PathLike[str], option: str = "") -> Path:
    """Create the output folder ``path`` (and its parents) if needed; :class:`OutputError` when it cannot be."""
    p = Path(path)
    label = f"{option} {p}" if option else str(p)
    if p.exists() and not p.is_dir():
        raise OutputError(f"{label} 是文件而不是文件夹", f"{label} is a file, not a folder")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _unwritable(p, exc) from None
    return p


def atomic_write(path: str | os.PathLike[str], data: bytes | str, encoding: str = "utf-8") -> Path:
    """Write a file atomically: a temporary file in the same folder, then a rename."""
    payload = data.encode(encoding) if isinstance(data, str) else data
    with atomic_output(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(payload)
    return Path(path)


# --- the guard ---------------------------------------------------------------------------------------------
class Output(Struct, frozen=True):
    """An output a command is about to write: the option naming it, its path, and what goes into it
    ("xlsx", "pdf", or "text" for JSON/CSV/text reports)."""

    option: str
    path: Path
    kind: str = "text"


def _identity(p: Path) -> tuple[Path, tuple[int, int] | None]:
    resolved = Path(os.path.realpath(p))
    try:
        st = os.stat(p)
        ino: tuple[int, int] | None = (st.st_dev, st.st_ino)
    except OSError:
        ino = None
    return resolved, ino


def first_same_files(paths: Sequence[str | os.PathLike[str]]) -> tuple[int, int] | None:
    """The first pair ``(i, j)``, ``j < i``, of ``paths`` that name the same file (as :func:`same_file`
    says, with ``j`` the earliest such), or None; each path's identity is taken once."""
    by_path: dict[Path, int] = {}
    by_ino: dict[tuple[int, int], int] = {}
    for i, p in enumerate(paths):
        resolved, ino = _identity(Path(p))
        hits = [j for j in (by_path.get(resolved), by_ino.get(ino) if ino is not None else None) if j is not None]
        if hits:
            return i, min(hits)
        by_path.setdefault(resolved, i)
        if ino is not None:
            by_ino.setdefault(ino, i)
    return None


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True when ``a`` and ``b`` name the same file: same resolved path, or same device and inode."""
    ra, ia = _identity(Path(a))
    rb, ib = _identity(Path(b))
    return ra == rb or (ia is not None and ia == ib)


def _check_place(o: Output) -> None:
    p = o.path
    if p.is_dir():
        raise OutputError(f"{o.option} {p}：这是一个文件夹，请给出文件名", f"{o.option} {p}: it is a folder, give a file name")
    parent = Path(os.path.abspath(p)).parent
    while not parent.exists():
        if parent == parent.parent:
            break
        parent = parent.parent
    if parent.exists() and not parent.is_dir():
        raise OutputError(f"无法写入 {o.option} {p}：{parent} 是文件而不是文件夹",
                          f"cannot write {o.option} {p}: {parent} is a file, not a folder")
    if parent == Path(os.path.abspath(p)).parent:  # the folder is there: try it now, before any work is done
        try:
            fd, probe = _mkstemp(TEMP_PREFIX, TEMP_SUFFIX, str(parent))
        except OSError as exc:
            raise _unwritable(p, exc) from None
        os.close(fd)
        os.unlink(probe)
    elif not os.access(parent, os.W_OK | os.X_OK):
        raise _unwritable(p, PermissionError(errno.EACCES, os.strerror(errno.EACCES)))


def _check_kind(o: Output) -> None:
    suffix = o.path.suffix.lower()
    wanted = _KIND_SUFFIXES.get(o.kind)
    if wanted is not None and suffix not in wanted:
        zh, en = _KIND_NAMES[o.kind]
        raise OutputError(f"{o.option} {o.path}：写出的是{zh}，文件名应以 {' 或 '.join(wanted)} 结尾",
                          f"{o.option} {o.path}: this writes {en}, the name must end with {' or '.join(wanted)}")
    if wanted is None and suffix in _WORKBOOK_SUFFIXES + (".pdf",):
        raise OutputError(f"{o.option} {o.path}：写出的是文本（JSON/CSV），文件名不应以 {suffix} 结尾",
                          f"{o.option} {o.path}: this writes text (JSON/CSV), the name must not end with {suffix}")


def guard_outputs(inputs: Iterable[str | os.PathLike[str]], outputs: Sequence[Output]) -> None:
    """Refuse (:class:`OutputError`) before any work is done: an output that is one of the ``inputs`` (under
    any path), two outputs that are the same file, an output of the wrong extension, or an output whose
    folder is a file. ``outputs`` whose path is None are ignored."""
    outs = [o for o in outputs if o.path is not None]
    ins = [Path(p) for p in inputs]
    in_ids = [_identity(p) for p in ins]
    for o in outs:
        rid = _identity(o.path)
        for src, sid in zip(ins, in_ids):
            if rid[0] == sid[0] or (rid[1] is not None and rid[1] == sid[1]):
                raise OutputError(f"{o.option} {o.path} 就是输入文件 {src}：不会覆盖输入，请另选输出文件",
                                  f"{o.option} {o.path} is the input {src}: an input is never overwritten, "
                                  f"choose another output")
    for o in outs:
        _check_kind(o)
        _check_place(o)
    for i, a in enumerate(outs):
        for b in outs[i + 1:]:
            if same_file(a.path, b.path):
                raise OutputError(f"{a.option} {a.path} 与 {b.option} {b.path} 是同一个文件：请给两个输出不同的文件名",
                                  f"{a.option} {a.path} and {b.option} {b.path} are the same file: give the two "
                                  f"outputs different names")


# --- text cells of CSV files --------------------------------------------------------------------------------
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: object) -> str:
    """A text field of a CSV file meant to be opened in a spreadsheet: text a spreadsheet would take for a
    formula (first character ``= + - @``, tab or carriage return) gets a leading apostrophe, so that a
    department called ``=HYPERLINK(…)`` stays text. Only for text fields, never for numbers."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
