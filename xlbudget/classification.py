"""The structure of the classification codes (《政府收支分类科目》), defined once.

Functional codes (支出功能分类) are 类 3 + 款 2 + 项 2 digits and start with 2; the departmental economic
codes (部门预算支出经济分类) stop at 款 (3 + 2) and start with 3. The catalogue, the layout of coded tables,
the template's code cells and the code rules all derive their lengths from here.
"""

from __future__ import annotations

from itertools import accumulate

__all__ = ["FIRST_DIGIT", "KINDS", "LEVELS", "LEVEL_BY_LENGTH", "SEGMENTS", "cuts", "leaf", "lengths", "level_length", "parent"]

LEVELS = ("类", "款", "项")
SEGMENTS: dict[str, tuple[int, ...]] = {"function": (3, 2, 2), "economic": (3, 2)}
FIRST_DIGIT = {"function": "2", "economic": "3"}
KINDS = tuple(SEGMENTS)


def lengths(kind: str) -> tuple[int, ...]:
    """The code length of each level of ``kind``: (3, 5, 7) for function codes, (3, 5) for economic."""
    return tuple(accumulate(SEGMENTS[kind]))


def leaf(kind: str) -> int:
    """The length of the finest level (项 of a function code, 款 of an economic code)."""
    return lengths(kind)[-1]


def level_length(kind: str, level: int) -> int:
    """The code length of ``level`` (1 类, 2 款, 3 项)."""
    return lengths(kind)[level - 1]


def cuts(kind: str) -> list[tuple[int, int]]:
    """Where each segment sits in a code: [(0, 3), (3, 5), (5, 7)] for function codes."""
    ends = lengths(kind)
    return list(zip((0,) + ends[:-1], ends))


def parent(kind: str, code: str) -> str | None:
    """The code one level up (None for a 类 or a code whose length is no level of ``kind``)."""
    ends = lengths(kind)
    if len(code) not in ends or len(code) == ends[0]:
        return None
    return code[: ends[ends.index(len(code)) - 1]]


LEVEL_BY_LENGTH: dict[str, dict[int, str]] = {k: dict(zip(lengths(k), LEVELS)) for k in KINDS}
ALL_LENGTHS = tuple(sorted({n for k in KINDS for n in lengths(k)}))
