"""What an upload holds: workbooks sent one by one, from a folder, or packed in zips, within the limits.

Names are kept only as text (a folder upload sends ``folder/sub/file.xlsx``; a hostile client may send
``../../x``): nothing here or later uses them as paths.
"""

from __future__ import annotations

import io
import zipfile

from msgspec import Struct, field

from ..check import SUFFIXES
from .config import DeskConfig

__all__ = ["Intake", "UploadRefused", "expand", "is_workbook", "request_too_big", "too_big", "too_many"]


class UploadRefused(Exception):
    """An upload beyond a limit; ``zh`` / ``en`` say which and what to do."""

    def __init__(self, zh: str, en: str, status: int = 413):
        super().__init__(zh)
        self.zh, self.en, self.status = zh, en, status

    def message(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


class Intake(Struct):
    files: list[tuple[str, bytes]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def is_workbook(name: str) -> bool:
    return name.lower().endswith(SUFFIXES) and not name.replace("\\", "/").rsplit("/", 1)[-1].startswith("~$")


def too_many(cfg: DeskConfig) -> UploadRefused:
    return UploadRefused(f"一次最多上传 {cfg.max_files} 个文件（压缩包内的文件也计算在内），请分批上传。",
                         f"at most {cfg.max_files} files per upload (files inside zips count too); "
                         "please upload in batches.")


def too_big(cfg: DeskConfig, name: str) -> UploadRefused:
    return UploadRefused(f"文件“{name}”超过单个文件 {cfg.max_file_mb} MB 的上限，未接收。",
                         f"the file \"{name}\" is larger than the limit of {cfg.max_file_mb} MB per file; "
                         "nothing was accepted.")


def request_too_big(cfg: DeskConfig) -> UploadRefused:
    return UploadRefused(f"上传内容超过每次 {cfg.max_upload_mb} MB 的上限，请分批上传。",
                         f"the upload is larger than the limit of {cfg.max_upload_mb} MB per request; "
                         "please upload in batches.")


def _unzip(cfg: DeskConfig, name: str, data: bytes, out: Intake, budget: list[int]) -> None:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        members = [i for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, ValueError, OSError):
        out.skipped.append(name)
        return
    with zf:
        for info in members:
            label = f"{name}/{info.filename}"
            if not is_workbook(info.filename):
                out.skipped.append(label)
                continue
            if len(out.files) >= cfg.max_files:
                raise too_many(cfg)
            if info.file_size > cfg.max_file_bytes:
                raise too_big(cfg, label)
            if info.file_size > budget[0]:
                raise request_too_big(cfg)
            try:
                with zf.open(info) as fh:               # the declared size is not trusted: read at most the limit
                    body = fh.read(cfg.max_file_bytes + 1)
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError):
                out.skipped.append(label)               # encrypted or damaged member
                continue
            if len(body) > cfg.max_file_bytes:
                raise too_big(cfg, label)
            budget[0] -= len(body)
            out.files.append((label, body))


def expand(cfg: DeskConfig, parts: list[tuple[str, bytes]]) -> Intake:
    """Workbooks of the uploaded ``parts`` (zips opened); raises :class:`UploadRefused` beyond a limit."""
    out = Intake()
    budget = [cfg.max_upload_bytes]      # uncompressed bytes still allowed in this request
    for name, data in parts:
        if name.lower().endswith(".zip"):
            _unzip(cfg, name, data, out, budget)
            continue
        if not is_workbook(name):
            out.skipped.append(name)
            continue
        if len(data) > cfg.max_file_bytes:
            raise too_big(cfg, name)
        if len(out.files) >= cfg.max_files:
            raise too_many(cfg)
        budget[0] -= len(data)
        out.files.append((name, data))
    if budget[0] < 0:
        raise request_too_big(cfg)
    return out

