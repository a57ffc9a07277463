"""Classification-code checks: format, hierarchy and order, name, existence in the year's catalogue.

The codes come from the laid-out rows (the department spec, or codes entered in the spare rows of a
generic template). With only the shipped partial catalogue an unknown code or a different name is reported
with ``severity_partial`` and says that the list is partial; with a complete catalogue (imported with
``xlbudget catalogue import``) it is reported with ``severity``.
"""

from __future__ import annotations

import functools
from typing import Iterator, Mapping

from msgspec import Struct

from .. import classification
from ..catalogue import kind_of, normalize_code
from ..errors import DescriptionError
from ..findings import Finding, Severity
from ..layout import Layout, LRow, LTable
from ..model import Budget
from .base import Context, Rule, cell_ref, layout_plan, register

LISTS = {"function": ("支出功能分类", "functional classification"),
         "economic": ("部门预算支出经济分类", "economic classification")}
LEVEL_EN = {"类": "class", "款": "section", "项": "item"}


class CodedRow(Struct):  # (one per coded row of every submission)
    """A row of a table that carries a code, with where that code sits and how long it should be."""

    table: LTable
    row: LRow
    code: str
    kind: str            # "function" or "economic"
    digits: int          # the code length this row should have
    code_col: str        # the column holding the code
    name: str | None     # the printed name (None where the sheet computes it: spare rows)
    project: bool
    unit: str = ""                  # 表7 of a consolidated disclosure: codes restart under each unit row

    @property
    def position(self) -> str:
        return cell_ref(self.table, self.row, self.code_col) or self.table.ref(self.row.key, self.code_col)


def coded_rows(ctx: Context) -> list[CodedRow]:
    """Every row that carries a classification code, in table and sheet order (computed once per check)."""
    if "coded_rows" not in ctx.memo:
        ctx.memo["coded_rows"] = list(_coded_rows(ctx))
    return ctx.memo["coded_rows"]


_LENGTHS = {kind: classification.lengths(kind) for kind in classification.KINDS}
_parent = functools.lru_cache(maxsize=8192)(classification.parent)   # the same codes in every submission


def _code_rows(layout: Layout) -> list[tuple[LTable, LRow, str, str, int | None, bool, str]]:
    """(table, row, code column, kind, digits — None: as long as its code —, project, unit) of every row of a
    coded block, in table and sheet order (once per layout)."""
    def build() -> list[tuple[LTable, LRow, str, str, int | None, bool, str]]:
        out = []
        for t in layout.tables.values():
            blocks: dict[str, tuple[str, str | None, str] | None] = {}   # (plan, code column, kind) of a coded block
            for b in t.desc.blocks:
                code_col = next((c for c in b.columns if c.kind == "code"), None)
                blocks.setdefault(b.key, (b.plan, code_col.key if code_col is not None else None,
                                          "economic" if b.codes == "economic" else "function")
                                  if b.plan in ("tree", "projects", "classes") else None)
            if not any(blocks.values()):
                continue
            unit = ""
            for row in sorted(t.rows.values(), key=lambda r: r.r):
                blk = blocks.get(row.block)
                if blk is None:
                    continue
                plan, code_col, kind = blk
                if plan == "projects" and row.level == 0 and not row.total:
                    unit = row.key
                if code_col is None:
                    continue
                lens = _LENGTHS[kind]
                if row.spare or row.project:
                    digits: int | None = lens[-1]
                else:
                    digits = lens[row.level - 1] if 1 <= row.level <= len(lens) else None
                project = bool(row.project or (row.spare and plan == "projects"))
                out.append((t, row, code_col, kind, digits, project, unit))
        return out
    return layout_plan(layout, "code_rows", build)


def _coded_rows(ctx: Context) -> Iterator[CodedRow]:
    """The coded rows of the tables the workbook carries: a table a workbook in an official layout lacks
    (``Budget.absent_tables``) has no code to check, and naming its rows would put cells the file does not
    have beside those it has."""
    budget = ctx.budget
    labels = budget.printed_labels
    absent = budget.absent_tables
    for t, row, code_col, kind, digits, project, unit in _code_rows(ctx.layout):
        if absent and t.id in absent:
            continue
        code = budget.code_of(t, row)
        if not code:
            continue
        yield CodedRow(t, row, code, kind, len(code) if digits is None else digits, code_col,
                       None if row.spare else labels.get((t.id, row.key), row.label), project, unit)


@functools.lru_cache(maxsize=8192)  # the same codes and names come back in every submission
def _names_match(cat, code: str, name: str) -> bool:
    return cat.names_match(code, name)


@functools.lru_cache(maxsize=8192)
def _listed(cat, code: str) -> bool:
    return code in cat


@functools.lru_cache(maxsize=8192)
def well_formed(code: str) -> str | None:
    """The kind of a code written in its canonical form (digits only), None for any other text."""
    return kind_of(code) if normalize_code(code) == code else None


@register
class Codes(Rule):
    kind = "codes"
    required = ("check",)

    def __init__(self, entry, where: str = "rules.toml"):
        super().__init__(entry, where)
        if self.entry["check"] not in ("format", "hierarchy", "name", "exists"):
            raise DescriptionError(f"{where}: rule {self.id}: check must be format, hierarchy, name or exists")

    def check_one(self, budget: Budget, ctx: Context, subs: Mapping[str, str]) -> Iterator[Finding]:
        yield from getattr(self, "_" + self.entry["check"])(ctx, subs)

    # --- format --------------------------------------------------------------------------------------
    def _format(self, ctx: Context, subs: Mapping[str, str]) -> Iterator[Finding]:
        for cr in coded_rows(ctx):
            ok = well_formed(cr.code) == cr.kind and len(cr.code) == cr.digits
            if ok:
                continue
            lz, le = LISTS[cr.kind]
            level = classification.LEVEL_BY_LENGTH[cr.kind].get(cr.digits, "")
            yield self.make("code-format", self.severity, subs, cells=[cr.position], table=cr.table.id,
                            code=cr.code, list_zh=lz, list_en=le, level_zh=level, level_en=LEVEL_EN.get(level, ""),
                            digits=cr.digits, first=classification.FIRST_DIGIT[cr.kind])

    # --- hierarchy and order -------------------------------------------------------------------------
    def _hierarchy(self, ctx: Context, subs: Mapping[str, str]) -> Iterator[Finding]:
        groups: dict[tuple[str, str], list[CodedRow]] = {}
        for cr in coded_rows(ctx):
            groups.setdefault((cr.table.id, cr.row.block, cr.unit), []).append(cr)
        for rows in groups.values():
            last_at: dict[int, str] = {}
            prev: CodedRow | None = None
            first: dict[str, CodedRow] = {}
            for cr in rows:
                code = cr.code
                detail = None
                earlier = None
                parent = _parent(cr.kind, code)
                if parent is not None and not cr.row.spare:
                    if last_at.get(len(parent)) != parent:
                        detail = ("parent", parent)
                if detail is None and prev is not None:
                    if code == prev.code and not (cr.project and prev.project):
                        detail, earlier = ("duplicate", prev.code), prev
                    elif code < prev.code:
                        seen = first.get(code)
                        if seen is not None and not (cr.project and seen.project):
                            detail, earlier = ("duplicate", code), seen   # a repeat, not a code out of order
                        else:
                            detail = ("order", prev.code)
                first.setdefault(code, cr)
                if detail is not None:
                    what, other = detail
                    prev_cell = earlier if what == "duplicate" else prev
                    texts = {
                        "parent": (f" 不在其上级科目 {other} 之下", f"is not under its parent {other}"),
                        "order": (f" 排在 {other} 之后，顺序不对", f"comes after {other}, out of order"),
                        "duplicate": (" 重复出现（同一科目只能列一行）", "appears twice (one row per code)"),
                    }[what]
                    yield self.make("code-hierarchy", self.severity, subs,
                                    cells=[cr.position] + ([prev_cell.position] if prev_cell and what != "parent"
                                                           else []),
                                    table=cr.table.id, code=code, detail_zh=texts[0], detail_en=texts[1])
                n = len(code)
                last_at[n] = code
                if len(last_at) > 1:
                    for ln in [k for k in last_at if k > n]:
                        del last_at[ln]
                prev = cr

    # --- name and existence --------------------------------------------------------------------------
    @staticmethod
    def _known(ctx: Context) -> dict[tuple[str, str], list[CodedRow]]:
        """The well-formed codes, grouped by (kind, code), each with the rows where it appears (once per check)."""
        if "known_codes" not in ctx.memo:
            grouped: dict[tuple[str, str], list[CodedRow]] = {}
            for cr in coded_rows(ctx):
                if well_formed(cr.code) == cr.kind:
                    grouped.setdefault((cr.kind, cr.code), []).append(cr)
            ctx.memo["known_codes"] = grouped
        return ctx.memo["known_codes"]

    def _name(self, ctx: Context, subs: Mapping[str, str]) -> Iterator[Finding]:
        year = ctx.layout.spec.year
        mismatches: dict[tuple[str, str, str], list[CodedRow]] = {}
        for (kind, code), rows in self._known(ctx).items():
            cat, _ = ctx.catalogue(kind)
            if cat is None or not _listed(cat, code):
                continue
            for cr in rows:
                if cr.name is not None and not _names_match(cat, code, cr.name):
                    mismatches.setdefault((kind, code, cr.name), []).append(cr)
        for (kind, code, name), rows in mismatches.items():
            cat, _ = ctx.catalogue(kind)
            partial = not cat.complete
            lz, le = LISTS[kind]
            yield self.make("code-name-mismatch", self.severity_partial if partial else self.severity, subs,
                            cells=[cr.position for cr in rows], table=rows[0].table.id, code=code, name=name,
                            expected_name=cat.name(code), year=year, list_zh=lz, list_en=le,
                            note_zh="（内置目录不完整，名称可能已调整）" if partial else "",
                            note_en=" (the shipped list is partial and may be outdated)" if partial else "")

    def _exists(self, ctx: Context, subs: Mapping[str, str]) -> Iterator[Finding]:
        year = ctx.layout.spec.year
        grouped = self._known(ctx)
        reported: set[str] = set()
        for (kind, code), rows in grouped.items():
            cat, reason = ctx.catalogue(kind)
            lz, le = LISTS[kind]
            if cat is None:
                if kind not in reported:
                    reported.add(kind)
                    yield self.make("catalogue-missing", Severity.WARNING, subs, year=year, list_zh=lz, list_en=le,
                                    reason=reason or "")
                continue
            if _listed(cat, code):
                continue
            partial = not cat.complete
            yield self.make("unknown-code-partial" if partial else "unknown-code",
                            self.severity_partial if partial else self.severity, subs,
                            cells=[cr.position for cr in rows], table=rows[0].table.id, code=code,
                            name=next((cr.name for cr in rows if cr.name), "—"), year=year, list_zh=lz, list_en=le)
