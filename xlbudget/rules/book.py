"""What a rule book may refer to: the tables, rows and columns of its table set, and its named conditions.

A rule book is checked against its set when the set is loaded: a reference to a table, a named row or a
column the set lacks is a :class:`~xlbudget.errors.DescriptionError` (in Chinese), never a silent 0. A
coded row (``T6.30231.total``, ``T2.{code}.gp``) is only checked to fall in a coded block that has the
column: a department that does not use the code simply has a blank there.

Named conditions (``[conditions.NAME]`` in the rule book, used as ``when = "NAME"``) are data too::

    [conditions.administrative]
    kind = "no_codes"          # the department uses none of the listed codes
    codes = "function"         # of this classification (function or economic)
    none_of = ["?????50"]      # digits, "?" one digit, "*" any digits (as in Excel's COUNTIF)
"""

from __future__ import annotations

import fnmatch
import re
from typing import TYPE_CHECKING, Any, Mapping

from msgspec import Struct

from .. import classification, formulas
from ..errors import DescriptionError
from ..expr import Ref
from ..tableset import Block, TableDesc, TableSet

if TYPE_CHECKING:  # pragma: no cover
    from .base import Context

__all__ = ["CODED_PLANS", "Condition", "check_block", "check_reference", "coded_blocks", "conditions_from", "desc_of"]

CODED_PLANS = ("tree", "classes", "projects")
_PATTERN = re.compile(r"^[0-9?*]+$")
_PLACEHOLDER = re.compile(r"\{\w+\}")
PER_PROJECT = "_{project}"          # a per-project table is referred to as ID_{project}


class Condition(Struct, frozen=True):
    """A named precondition: the department uses none of the codes matching ``none_of``."""

    name: str
    codes: str
    none_of: tuple[str, ...]
    zh: str = ""

    def matches(self, code: str) -> bool:
        return any(fnmatch.fnmatchcase(code, p) for p in self.none_of)

    def holds(self, ctx: "Context") -> bool:
        return not any(self.matches(c) for c in ctx.codes_used(self.codes))

    def formula(self, ctx: "Context") -> str:
        """An Excel condition: the codes fixed by the spec (known now) and those entered in spare rows
        (counted live with COUNTIF, the same wildcards)."""
        fixed = [ctx.budget.code_of(t, r) for t, r in ctx.coded_rows(self.codes) if not r.spare]
        leaf = classification.leaf(self.codes)
        static = not any(c and len(c) == leaf and self.matches(c) for c in fixed)
        ranges = sorted({rng for t, r in ctx.coded_rows(self.codes) if r.spare
                         for rng in [formulas.spare_codes(ctx.layout, t)] if rng})
        if not ranges:
            return "TRUE" if static else "FALSE"
        live = "+".join(f'COUNTIF({rng},"{p}")' for rng in ranges for p in self.none_of)
        return f"AND({'TRUE' if static else 'FALSE'},{live}=0)"


def conditions_from(book: Mapping[str, Any], where: str) -> dict[str, Condition]:
    out: dict[str, Condition] = {}
    for name, d in (book.get("conditions") or {}).items():
        if not isinstance(d, dict) or d.get("kind") != "no_codes":
            raise DescriptionError(f"{where}：前提条件 {name} 的 kind 应为 \"no_codes\"")
        codes = d.get("codes")
        if codes not in classification.KINDS:
            raise DescriptionError(f"{where}：前提条件 {name} 的 codes 应为 {' 或 '.join(classification.KINDS)}")
        none_of = d.get("none_of")
        if not isinstance(none_of, list) or not none_of or not all(isinstance(p, str) and _PATTERN.match(p)
                                                                    for p in none_of):
            raise DescriptionError(f"{where}：前提条件 {name} 的 none_of 应为编码模式的列表（数字、? 与 *）")
        out[name] = Condition(name, codes, tuple(none_of), str(d.get("zh", "")))
    return out


# ---------------------------------------------------------------------------------------------------------
# References
# ---------------------------------------------------------------------------------------------------------
def desc_of(ts: TableSet, table: str, what: str) -> TableDesc | None:
    """The description a reference's table names (None for a table left to the foreach: ``{table}``)."""
    per_project = table.endswith(PER_PROJECT)
    tid = table[: -len(PER_PROJECT)] if per_project else table
    if _PLACEHOLDER.search(tid):
        return None
    desc = next((t for t in ts.tables if t.id == tid), None)
    if desc is None:
        raise DescriptionError(f"{what}：表样 {ts.id} 没有表 {tid}")
    if (desc.per == "project") != per_project:
        form = f"{tid}{PER_PROJECT}" if desc.per == "project" else tid
        raise DescriptionError(f"{what}：表 {tid} {'按项目分表' if desc.per == 'project' else '不按项目分表'}，应写作 {form}")
    return desc


def coded_blocks(ts: TableSet, table: str, what: str) -> list[Block]:
    """The blocks of a table whose rows carry classification codes (an error when it has none)."""
    desc = desc_of(ts, table, what)
    if desc is None:
        return []
    blocks = [b for b in desc.blocks if b.plan in CODED_PLANS or any(r.code for r in b.rows)]
    if not blocks:
        raise DescriptionError(f"{what}：表 {desc.sheet}（{desc.id}）没有按科目编码排列的行")
    return blocks


def check_block(ts: TableSet, table: str, block: str, what: str, column: str | None = None) -> None:
    """Raise DescriptionError unless the table has the block (and the block the column)."""
    desc = desc_of(ts, table, what)
    if desc is None:
        return
    b = next((b for b in desc.blocks if b.key == block), None)
    if b is None:
        raise DescriptionError(f"{what}：表 {desc.sheet}（{desc.id}）没有 {block} 部分")
    if column is not None and not any(c.key == column for c in b.columns):
        raise DescriptionError(f"{what}：表 {desc.sheet}（{desc.id}）的 {block} 部分没有列 {column}")


def _named_rows(desc: TableDesc) -> dict[str, Block]:
    rows: dict[str, Block] = {}
    for b in desc.blocks:
        for r in b.rows:
            rows[r.key] = b
        if b.total is not None:
            rows[b.total.key] = b
    return rows


def check_reference(ts: TableSet, ref: Ref) -> None:
    """Raise DescriptionError unless ``ref`` (placeholders allowed) can name a cell of the set."""
    what = f"引用 {ref}"
    if ref.table is None or ref.row is None:
        raise DescriptionError(f"{what} 应写成 表.行.列")
    desc = desc_of(ts, ref.table, what)
    if desc is None or _PLACEHOLDER.search(ref.col):
        return
    row = ref.row
    if row.isdigit() or row == "{code}":
        blocks = coded_blocks(ts, ref.table, what)
    elif row == "{project}":
        blocks = [b for b in desc.blocks if b.plan == "projects"]
        if not blocks:
            raise DescriptionError(f"{what}：表 {desc.sheet}（{desc.id}）没有项目行")
    elif _PLACEHOLDER.search(row):
        return
    else:
        block = _named_rows(desc).get(row)
        if block is None:
            raise DescriptionError(f"{what}：表 {desc.sheet}（{desc.id}）没有行 {row}")
        blocks = [block]
    if not any(c.key == ref.col for b in blocks for c in b.columns):
        raise DescriptionError(f"{what}：表 {desc.sheet}（{desc.id}）的行 {row} 没有列 {ref.col}")
