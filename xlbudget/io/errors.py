"""Errors raised while opening or reading a workbook.

Every problem found in a submitted file (a broken zip, an encrypted file, a
zip bomb, hostile XML, ...) is reported as a single ``WorkbookError`` with a
stable kebab-case ``code`` and a one-line message in Simplified Chinese and in
English.  Callers turn these into findings (exit code 2); they are never meant
to surface as tracebacks.
"""

from __future__ import annotations

from typing import Any

__all__ = ["WorkbookError", "ERROR_CODES", "human_size"]


# code -> (Chinese template, English template).  Templates use str.format
# fields; a missing field renders as an empty string (see _SafeDict).
ERROR_CODES: dict[str, tuple[str, str]] = {
    "not-found": (
        "文件不存在",
        "File not found",
    ),
    "not-a-file": (
        "路径不是普通文件（{detail}），未读取",
        "The path is not a regular file ({detail}); not read",
    ),
    "io-error": (
        "无法读取文件：{detail}",
        "Cannot read the file: {detail}",
    ),
    "empty-file": (
        "文件为空（0 字节）",
        "The file is empty (0 bytes)",
    ),
    "too-large": (
        "文件过大（{size}，上限 {limit}）",
        "The file is too large ({size}, limit {limit})",
    ),
    "not-a-zip": (
        "文件不是 Excel 工作簿（.xlsx），无法识别的文件格式",
        "Not an Excel workbook (.xlsx): unrecognised file format",
    ),
    "unsupported-format": (
        "文件格式不受支持（{detail}），请用 Excel 或 WPS 打开后另存为 .xlsx",
        "Unsupported file format ({detail}); open it in Excel or WPS and save it as .xlsx",
    ),
    "truncated-zip": (
        "文件不完整（可能在下载或复制时被截断），请重新获取原文件",
        "The file is incomplete (probably cut short during download or copy); get the original file again",
    ),
    "corrupt-zip": (
        "文件已损坏（{detail}），请用 Excel 或 WPS 打开后另存为 .xlsx",
        "The file is corrupt ({detail}); open it in Excel or WPS and save it as .xlsx",
    ),
    "encrypted": (
        "文件已加密（设置了打开密码），请取消密码后重新提交",
        "The workbook is encrypted (it has a password to open); remove the password and resubmit",
    ),
    "legacy-xls": (
        "文件是旧版 Excel 97-2003 格式（.xls），请用 Excel 或 WPS 另存为 .xlsx 后重新提交",
        "The file is a legacy Excel 97-2003 workbook (.xls); save it as .xlsx in Excel or WPS and resubmit",
    ),
    "nested-archive": (
        "这是一个压缩包（内含 {part}），不是工作簿本身；请解压后提交其中的 .xlsx 文件",
        "This is an archive (it contains {part}), not the workbook itself; extract it and submit the .xlsx inside",
    ),
    "zip-bomb": (
        "文件解压后体积异常（{detail}），疑似压缩炸弹，已拒绝读取",
        "Abnormal uncompressed size ({detail}); suspected zip bomb, refused",
    ),
    "too-many-entries": (
        "文件内部条目过多（{count} 个，上限 {limit} 个），已拒绝读取",
        "Too many entries inside the file ({count}, limit {limit}); refused",
    ),
    "native-failure": (
        "文件无法读取：{detail}（文件结构异常，请用 Excel 或 WPS 打开后另存为 .xlsx）",
        "Cannot read the file: {detail} (abnormal structure; open it in Excel or WPS and save it as .xlsx)",
    ),
    "missing-part": (
        "工作簿缺少必需的组成部分：{part}",
        "A required part of the workbook is missing: {part}",
    ),
    "bad-xml": (
        "工作簿内部 XML 已损坏（{part}：{detail}）",
        "Corrupt XML inside the workbook ({part}: {detail})",
    ),
    "xml-entities": (
        "工作簿内部 XML 含有 DTD 或实体声明（{part}），出于安全原因拒绝读取",
        "XML inside the workbook contains a DTD or entity declarations ({part}); refused for safety",
    ),
    "absurd-dimensions": (
        "工作表“{sheet}”的大小异常（{detail}），已拒绝读取",
        "Sheet '{sheet}' has an abnormal size ({detail}); refused",
    ),
    "macro-enabled": (
        "工作簿包含宏（{part}），按当前设置拒绝读取；宏从不被执行",
        "The workbook contains macros ({part}) and the current settings refuse it; macros are never run",
    ),
}


class _SafeDict(dict):
    def __missing__(self, key: str) -> str:
        return ""


def human_size(n: int) -> str:
    """Byte count for messages: "812 B", "5.3 KB", "300.0 MB"."""
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class WorkbookError(Exception):
    """A submitted file cannot be read safely.

    Attributes:
        code: Stable kebab-case id such as ``"zip-bomb"`` (see ``ERROR_CODES``).
        message_zh: One-line message in Simplified Chinese (also ``str(err)``).
        message_en: The same message in English.
        path: The file the error is about, when known.
        part: The member inside the container (for example
            ``"xl/workbook.xml"``), when the error is about one part.
        details: The values used to fill the message templates.
    """

    def __init__(
        self,
        code: str,
        message_zh: str | None = None,
        message_en: str | None = None,
        path: str | None = None,
        *,
        part: str | None = None,
        **details: Any,
    ) -> None:
        self.code = code
        self.path = None if path is None else str(path)
        # Names and values quoted from a hostile file can be huge; clip them.
        part = None if part is None else _clip(str(part), 200)
        self.part = part
        details = {k: _clip(str(v), 300) for k, v in details.items()}
        self.details = details
        # A field "x" fills both templates; "x_en" (when given) overrides it
        # in the English one, so Chinese details need not leak into English.
        fields = _SafeDict((k, v) for k, v in details.items() if not k.endswith("_en"))
        if part is not None:
            fields.setdefault("part", part)
        fields_en = _SafeDict(fields)
        for key, value in details.items():
            if key.endswith("_en"):
                fields_en[key[:-3]] = value
        zh_tpl, en_tpl = ERROR_CODES.get(code, ("{detail}", "{detail}"))
        if message_zh is None:
            message_zh = zh_tpl.format_map(fields)
        if message_en is None:
            message_en = en_tpl.format_map(fields_en)
        self.message_zh = _one_line(message_zh)
        self.message_en = _one_line(message_en)
        super().__init__(self.message_zh)

    def __str__(self) -> str:
        return self.message_zh

    def __repr__(self) -> str:
        return f"WorkbookError({self.code!r}, {self.message_en!r}, path={self.path!r})"

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form for JSON reports."""
        return {
            "code": self.code,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
            "path": self.path,
            "part": self.part,
        }
