"""Findings: typed, positioned, rendered from message templates (frictionless-style).

A finding belongs to a file; it names a stable rule id, a severity, the cells involved (``表6!C12``) and the
numbers behind it: expected, actual, difference and the tolerance applied. Messages are templates in
``xlbudget/data/messages.toml`` in Chinese and English; code never builds message text with f-strings.
"""

from __future__ import annotations

import functools
import string
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from importlib import resources
from typing import Any, Mapping

from . import tomlfile


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]

    def label(self, lang: str = "zh") -> str:
        if lang == "en":
            return self.value
        return {"error": "错误", "warning": "警告", "info": "提示"}[self.value]


class _Safe(dict):
    def __missing__(self, key: str) -> str:
        return ""


@functools.lru_cache(maxsize=1)
def messages() -> dict[str, dict[str, Any]]:
    text = resources.files("xlbudget").joinpath("data/messages.toml").read_text(encoding="utf-8")
    return tomlfile.loads(text)


NUMBERS = ("expected", "actual", "difference", "tolerance")


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
    data = _Safe({k: _clip(k, _fmt(v)) for k, v in params.items()})
    return string.Formatter().vformat(template, (), data)


@dataclass(frozen=True)
class Finding:
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
        p = {"position": self.position, "cells": self.cells, "rule": self.rule, "table": self.table or ""}
        for k in NUMBERS:
            v = getattr(self, k)
            if v is not None:
                p[k] = v
        p.update(self.params)
        return p

    def message(self, lang: str = "zh") -> str:
        m = messages().get(self.kind)
        if m is None:
            return f"[{self.kind}] {dict(self.params)}"
        return render(m["template"][lang if lang in m["template"] else "zh"], self._params())

    def title(self, lang: str = "zh") -> str:
        m = messages().get(self.kind, {})
        return m.get("title", {}).get(lang, self.kind)

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
