"""Findings: typed, positioned, rendered from message templates (frictionless-style).

A finding belongs to a file; it names a stable rule id, a severity, the cells involved (``表6!C12``) and the
numbers behind it: expected, actual, difference and the tolerance applied. Messages are templates in
``xlbudget/data/messages.toml`` in Chinese and English; code never builds message text with f-strings.
"""

from __future__ import annotations

import functools
import string
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, Mapping

from msgspec import Struct, field
from msgspec.structs import replace

from . import tomlfile


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return RANK[self._value_]

    def label(self, lang: str = "zh") -> str:
        if lang == "en":
            return self._value_
        return _LABEL_ZH[self._value_]


RANK = {"error": 0, "warning": 1, "info": 2}  # by value: an Enum member hashes through a Python method
_LABEL_ZH = {"error": "错误", "warning": "警告", "info": "提示"}


class _Safe(dict):
    def __missing__(self, key: str) -> str:
        return ""


@functools.lru_cache(maxsize=1)
def messages() -> dict[str, dict[str, Any]]:
    # (the package's own folder, not importlib.resources: importing that costs 5 ms of every start)
    text = (Path(__file__).resolve().parent / "data" / "messages.toml").read_text(encoding="utf-8")
    return tomlfile.loads(text)


NUMBERS = ("expected", "actual", "difference", "tolerance")
_FIGURES = frozenset(NUMBERS)
_OWN = ("position", "cells", "rule", "table") + NUMBERS  # the fields of a finding its message may name
_MISSING = object()


def _fmt(v: Any) -> str:
    if isinstance(v, Decimal):
        return format(v, "f") if v.is_finite() else str(v)
    if isinstance(v, (list, tuple)):
        return "、".join(_fmt(x) for x in v)
    return str(v)


# Params that echo what the user typed (a cell's text, a name, a formula): a message quotes at most
# ECHO_MAX characters of them, then "…" (a cell holds up to 32,767).
ECHO_PARAMS = frozenset({"text", "name", "found", "sheet", "project_name"})
ECHO_MAX = 60


def _clip(key: str, text: str) -> str:
    return text[:ECHO_MAX] + "…" if key in ECHO_PARAMS and len(text) > ECHO_MAX else text


def render(template: str, params: Mapping[str, Any]) -> str:
    """``template`` with the ``{name}`` fields filled from ``params`` (a missing one renders as "")."""
    plain = _compile(template)
    if plain is None:
        data = _Safe({k: _clip(k, _fmt(v)) for k, v in params.items()})
        return string.Formatter().vformat(template, (), data)
    text, names = plain
    return text.format(*[_clip(k, _fmt(params[k])) if k in params else "" for k in names])


@functools.lru_cache(maxsize=1024)
def _compile(template: str) -> tuple[str, tuple[str, ...]] | None:
    """A template of plain ``{name}`` fields as a format text with positional fields (``{0}``, ``{1}``…)
    and the names they stand for; None for one with anything more (a format spec, a conversion, an index or
    attribute), which :func:`render` leaves to ``string.Formatter``."""
    pieces: list[str] = []
    names: list[str] = []
    for literal, name, spec, conversion in string.Formatter().parse(template):
        pieces.append(literal.replace("{", "{{").replace("}", "}}"))
        if name is None:
            continue
        if spec or conversion or not name.isidentifier():
            return None
        pieces.append("{" + str(len(names)) + "}")
        names.append(name)
    return "".join(pieces), tuple(names)


@functools.lru_cache(maxsize=1024)
def _message(kind: str, lang: str) -> tuple[str | None, tuple[str, tuple[str, ...]] | None, str]:
    """The template of ``kind`` in ``lang`` (Chinese when it has none in ``lang``; None for an unknown kind),
    the same compiled (:func:`_compile`) and its title (the kind itself when it has none)."""
    m = messages().get(kind)
    if m is None:
        return None, None, kind
    templates = m["template"]
    template = templates[lang if lang in templates else "zh"]
    return template, _compile(template), m.get("title", {}).get(lang, kind)


class Finding(Struct, frozen=True):
    """One finding about one file."""

    kind: str                              # message kind, e.g. "sum-mismatch" (selects the template)
    rule: str                              # stable rule id, e.g. "X7", "T6.sum", "READ.formula-overwritten"
    severity: Severity
    cells: tuple[str, ...] = ()            # positions, "表6!C12"
    expected: Any = None                   # figures: Decimal, or the text a cell holds where a number belongs
    actual: Any = None
    difference: Any = None
    tolerance: Any = None
    tolerance_mode: str | None = None
    table: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, kind: str, rule: str, severity: Severity, cells=(), table: str | None = None, **kw: Any) -> "Finding":
        """A finding from keyword arguments: ``expected``, ``actual`` and ``difference`` are its figures,
        every other keyword a parameter of its message."""
        nums = {k: kw.pop(k) for k in ("expected", "actual", "difference") if k in kw}
        return cls(kind, rule, severity, cells=tuple(cells), table=table, params=kw, **nums)

    @property
    def position(self) -> str:
        return self.cells[0] if self.cells else ""

    def _params(self) -> dict[str, Any]:
        """What a message template may name: the finding's own fields (:meth:`_own`), then its params."""
        p = {}
        for k in _OWN:
            v = self._own(k)
            if v is not _MISSING:
                p[k] = v
        p.update(self.params)
        return p

    def _own(self, name: str) -> Any:
        """The value of the finding's own field ``name`` (see ``_OWN``) as a message names it, ``_MISSING``
        when it has none."""
        if name in _FIGURES:
            v = getattr(self, name)
            return _MISSING if v is None else v
        if name == "position":
            return self.cells[0] if self.cells else ""
        if name == "table":
            return self.table or ""
        if name == "cells":
            return self.cells
        if name == "rule":
            return self.rule
        return _MISSING

    def message(self, lang: str = "zh") -> str:
        template, plain, _ = _message(self.kind, lang)
        if template is None:
            return f"[{self.kind}] {dict(self.params)}"
        if plain is None:
            return render(template, self._params())
        text, names = plain
        params = self.params
        values = []
        for k in names:
            v = params[k] if k in params else self._own(k)
            if v.__class__ is not str:
                if v is _MISSING:
                    values.append("")
                    continue
                v = _fmt(v)
            values.append(_clip(k, v))
        return text.format(*values)

    def title(self, lang: str = "zh") -> str:
        return _message(self.kind, lang)[2]

    def moved(self, cells: tuple[str, ...], params: Mapping[str, Any]) -> "Finding":
        """The same finding at other ``cells``, with other ``params`` (a workbook in an official layout has
        every finding moved to its real cells)."""
        return replace(self, cells=cells, params=params)

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        d: dict[str, Any] = {
            "rule": self.rule, "kind": self.kind, "severity": self.severity.value, "table": self.table,
            "cells": list(self.cells), "message": self.message(lang),
        }
        for k in NUMBERS:
            v = getattr(self, k)
            d[k] = None if v is None else _fmt(v)
        d["tolerance_mode"] = self.tolerance_mode
        d["params"] = {k: (_fmt(v) if isinstance(v, Decimal) else v) for k, v in self.params.items()}
        return d
