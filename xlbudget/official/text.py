"""Text of official-format workbooks, normalised for comparison.

Sources differ in full- and half-width punctuation, stray and full-width spaces, line breaks inside
headers, quotes, and titles with the year or the department in front. Everything the locator compares
goes through :func:`norm` first; the vocabulary (words no table set owns) is data in
``xlbudget/data/locate.toml``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from importlib import resources
from typing import Any

from .. import tomlfile


# How many distinct cell texts (and values) each cache of the locator keeps, and the longest text kept: what a
# sheet or a batch of similar workbooks repeats is worked out once, and a batch of thousands of workbooks (or a
# sheet of long distinct texts) keeps its memory flat.
CACHED = 16384
SHORT = 256


class Memo(dict):
    """A function of one cell text, worked out once per distinct short text: ``memo[text]`` in the hot loops
    (a plain dictionary look-up once the text has been seen, no Python call), ``memo(value)`` for any value
    (other values than texts through a bounded ``lru_cache``, typed: 1, 1.0 and True apart; texts longer
    than ``SHORT`` are computed each time). ``memo[x]`` also takes a float where the function gives equal
    floats the same result (never an int or a bool: they would meet equal floats). Full, it starts afresh:
    a batch of thousands of workbooks keeps its memory flat."""

    def __init__(self, fn, size: int = CACHED):
        super().__init__()
        self.fn = fn
        self.size = size
        self.other = functools.lru_cache(maxsize=size, typed=True)(fn)   # numbers and other values
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    def __missing__(self, text: Any) -> Any:
        out = self.fn(text)
        if text.__class__ is not str or len(text) <= SHORT:
            if len(self) >= self.size:
                self.clear()
            self[text] = out
        return out

    def __call__(self, value: Any) -> Any:
        return self[value] if value.__class__ is str else self.other(value)

    def __repr__(self) -> str:
        return f"<memo of {self.fn.__name__}: {len(self)} texts>"


def cached(maxsize: int = CACHED):
    """:class:`Memo` as a decorator."""
    return lambda fn: Memo(fn, maxsize)


_QUOTES = str.maketrans({c: "" for c in "\"'“”‘’「」『』`"})
_SPACE = re.compile(r"\s+")
_ENUM = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|\(?[一二三四五六七八九十]+\)|\d+(?:\.\d+)*[、.．)](?!\d)|\(\d+\))")
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年度?")


@functools.lru_cache(maxsize=1)
def vocabulary() -> dict[str, Any]:
    text = resources.files("xlbudget").joinpath("data/locate.toml").read_text(encoding="utf-8")
    return tomlfile.loads(text)


@cached(maxsize=65536)
def norm(value: Any) -> str:
    """Comparable form of a cell text: NFKC, no spaces or quotes, lower case."""
    if value is None:
        return ""
    s = unicodedata.normalize("NFKC", str(value))
    s = _SPACE.sub("", s).translate(_QUOTES)
    return s.lower()


def strip_enumerator(s: str) -> str:
    """``一、本年收入`` -> ``本年收入``; ``其中:事业收入`` -> ``事业收入`` (on normalised text)."""
    prev = None
    while prev != s:
        prev = s
        s = _ENUM.sub("", s, count=1)
        for p in vocabulary()["label_prefixes"]:
            if s.startswith(p) and len(s) > len(p):
                s = s[len(p):]
    return s


@cached()
def year_in(text: str) -> int | None:
    m = _YEAR.search(unicodedata.normalize("NFKC", text or ""))
    return int(m.group(1)) if m else None


@cached()
def unit_in(text: str) -> str | None:
    """The unit named by a 单位 line (``单位：万元``), or None."""
    s = norm(text)
    voc = vocabulary()
    for w in voc["unit_words"]:
        i = s.find(w + ":")
        if i >= 0:
            rest = s[i + len(w) + 1:]
            for u in voc["units"]:  # 万元 before 元
                if rest.startswith(u):
                    return u
    return None


@cached()
def department_in(text: str) -> str | None:
    """The department of a ``编制部门：XXX`` line ('' when the line is there but blank), or None."""
    raw = unicodedata.normalize("NFKC", str(text or "")).strip()
    compact = _SPACE.sub("", raw)
    for p in vocabulary()["department_prefixes"]:
        if compact.startswith(p + ":"):
            rest = compact[len(p) + 1:]
            # the 单位 line often shares the cell: 编制部门：XXX 单位：万元
            for w in vocabulary()["unit_words"]:
                j = rest.find(w + ":")
                if j >= 0:
                    rest = rest[:j]
            return rest.strip()
    return None


@functools.lru_cache(maxsize=1)
def _note_marks() -> tuple[str, ...]:
    return tuple(p + ":" for p in vocabulary()["note_prefixes"])


def is_note(s: str) -> bool:
    return s.startswith(_note_marks())


@cached()
def digits(value: Any) -> str | None:
    """The code typed in a cell: ``201``, ``'02``, ``2``, ``201 41 01`` or ``201.41.01`` -> digits; else None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        if value != int(value):
            return None
        value = int(value)
    s = norm(value)
    if not s:
        return None
    s2 = s.replace(".", "").replace("-", "")
    return s2 if s2.isdigit() else None


@cached()
def leading_code(text: str) -> tuple[str | None, str]:
    """A label with its code in front (``2010101 行政运行``): (code, name)."""
    raw = unicodedata.normalize("NFKC", str(text or "")).strip()
    m = re.match(r"^(\d{3,9})\s*(.*)$", raw)
    if m:
        return m.group(1), m.group(2).strip()
    return None, raw
