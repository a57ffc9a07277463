"""The TOML files of the table sets and of xlbudget's own data, parsed once per content.

Every process that checks a workbook reads its set's descriptions (a dozen tables, the rule book, the
vocabulary …) and the messages; the TOML parser is pure Python and costs more than the rest of loading
them. ``load(path)`` and ``loads(text)`` return what ``tomllib.loads`` returns for the text; the first
parse of a text is kept as JSON (which the C decoder reads back in a twentieth of the time) under
``$XLBUDGET_HOME/cache/toml/`` (else ``~/.xlbudget/…``), named by the SHA-256 of the text, so an edited
file is simply another entry. A text whose values JSON cannot hold exactly (dates and times) and a home
that cannot be written are parsed each time. Errors are the parser's own (``tomllib.TOMLDecodeError``)
and, for a file, the file's (``OSError``, ``UnicodeDecodeError``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["load", "loads", "parse", "cache_dir", "TOMLDecodeError"]

FORMAT = b"xlbudget-toml-1\0"   # part of each entry's name: a change of what is stored makes new entries


def _tomllib() -> Any:
    if sys.version_info >= (3, 11):  # imported for a text not seen before only
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    return tomllib


def parse(text: str) -> dict[str, Any]:
    """``tomllib.loads(text)`` without the cache: for texts from outside (a department's spec), which are
    parsed once and never kept."""
    return _tomllib().loads(text)


def __getattr__(name: str) -> Any:
    if name == "TOMLDecodeError":  # the parser's error, for ``except tomlfile.TOMLDecodeError``
        return _tomllib().TOMLDecodeError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def cache_dir() -> Path:
    home = os.environ.get("XLBUDGET_HOME")
    base = Path(home).expanduser() if home else Path.home() / ".xlbudget"
    return base / "cache" / "toml"


def load(path: str | os.PathLike[str]) -> dict[str, Any]:
    """``tomllib.loads`` of the file's text (UTF-8), from the cache when this text was parsed before."""
    return loads(Path(path).read_text(encoding="utf-8"))


def loads(text: str) -> dict[str, Any]:
    """``tomllib.loads(text)``, from the cache when this text was parsed before."""
    try:
        entry = cache_dir() / (hashlib.sha256(FORMAT + text.encode("utf-8")).hexdigest() + ".json")
    except RuntimeError:  # no home directory to be found
        return _tomllib().loads(text)
    try:
        cached = json.loads(entry.read_bytes())
        if isinstance(cached, dict):
            return cached
    except (OSError, ValueError):
        pass
    parsed = _tomllib().loads(text)
    _store(entry, parsed)
    return parsed


def _store(entry: Path, parsed: dict[str, Any]) -> None:
    try:
        data = json.dumps(parsed, ensure_ascii=False, allow_nan=True).encode("utf-8")
    except (TypeError, ValueError):  # a date or time: JSON would give it back as text
        return
    from .errors import XlbudgetError
    from .outputs import atomic_write

    try:
        atomic_write(entry, data)  # whole or not at all: a reader never sees half an entry
    except (OSError, XlbudgetError):  # a read-only home: parsed again next time
        pass
