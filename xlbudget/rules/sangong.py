"""三公 rule kinds: what the projects fund (spec ``projects.sangong``) against 表10, and the change reasons."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterator, Mapping

from ..errors import DescriptionError
from ..expr import Ref
from ..findings import Finding
from ..model import Budget
from ..spec import Project
from .base import Context, Rule, RuleConfigError, Side, fill, parse_cached, register


class _Sangong(Rule):
    required = ("table", "column", "projects", "items")

    def __init__(self, entry: Mapping[str, Any], where: str = "rules.toml"):
        super().__init__(entry, where)
        items = self.entry["items"]
        if not isinstance(items, dict) or not all(isinstance(v, list) and len(v) == 2 for v in items.values()):
            raise DescriptionError(f"{where}: rule {self.id}: items maps each 三公 item to [zh, en]")
        self.items: dict[str, tuple[str, str]] = {k: (str(v[0]), str(v[1])) for k, v in items.items()}

    def funded_by(self, ctx: Context, subs: Mapping[str, str], item: str) -> list[Project]:
        """Projects tagged with ``item`` that have money in the projects table."""
        tid = fill(str(self.entry["projects"]), subs)
        if tid not in ctx.layout.tables:
            raise RuleConfigError(f"没有表 {tid}")
        return [p for p in ctx.layout.spec.projects
                if item in p.sangong and (ctx.pub(tid, p.key, "total") or 0) > 0]

    def item_side(self, ctx: Context, subs: Mapping[str, str], item: str) -> Side:
        tid, col = fill(str(self.entry["table"]), subs), str(self.entry["column"])
        ctx.check_ref(Ref(tid, item, col))
        side = Side()
        side.add(1, ctx.pub(tid, item, col), ctx.position(tid, item, col), ctx.label(tid, item), tid)
        return side

    def project_side(self, ctx: Context, subs: Mapping[str, str], projects: list[Project],
                     columns: list[str]) -> Side:
        tid = fill(str(self.entry["projects"]), subs)
        side = Side()
        for p in projects:
            for c in columns:
                v = ctx.pub(tid, p.key, c)
                if v is not None:
                    side.add(1, v, ctx.position(tid, p.key, c), ctx.label(tid, p.key), tid)
        return side

    @staticmethod
    def names(projects: list[Project], none: str, sep: str = "、") -> str:
        return sep.join(f"“{p.name}”" for p in projects) or none


@register
class SangongProjects(_Sangong):
    """Each 三公 item a project funds shows in 表10: a purchase at least the project's capital columns,
    other items as a non-zero figure."""

    kind = "sangong_projects"

    def check_one(self, budget: Budget, ctx: Context, subs: Mapping[str, str]) -> Iterator[Finding]:
        amount_columns: dict[str, list[str]] = dict(self.entry.get("amount_columns", {}))
        for item, (zh, en) in self.items.items():
            projects = self.funded_by(ctx, subs, item)
            if not projects:
                continue
            here = self.item_side(ctx, subs, item)
            names = {"item_zh": zh, "item_en": en, "projects_zh": self.names(projects, ""),
                     "projects_en": self.names(projects, "", ", ")}
            capital = self.project_side(ctx, subs, projects, amount_columns.get(item, []))
            if capital.total > 0:
                yield from self.compare(ctx, subs, "ge", here, capital, fail_kind="sangong-project-amount",
                                        table=here.tables[0], **names)
            elif here.total == 0:
                totals = self.project_side(ctx, subs, projects, ["total"])
                yield self.make("sangong-project-missing", self.severity, subs, cells=here.cells + totals.cells,
                                table=here.tables[0], actual=here.total, expected=None, rhs=totals.text, **names)


@register
class SangongReasons(_Sangong):
    """A change reason that says an item is not arranged, while 表10 or a project arranges it."""

    kind = "sangong_reasons"
    required = _Sangong.required + ("reason", "negations")

    def check_one(self, budget: Budget, ctx: Context, subs: Mapping[str, str]) -> Iterator[Finding]:
        negations = [str(n) for n in self.entry["negations"]]
        for item, (zh, en) in self.items.items():
            expr = parse_cached(fill(str(self.entry["reason"]), {**subs, "item": item}))
            ref = expr.terms[0].ref
            ctx.check_ref(ref)
            assert ref.table is not None and ref.row is not None
            reason = ctx.text(ref.table, ref.row, ref.col)
            if not reason or not any(n in reason for n in negations):
                continue
            here = self.item_side(ctx, subs, item)
            projects = self.funded_by(ctx, subs, item)
            if here.total == 0 and not projects:
                continue
            totals = self.project_side(ctx, subs, projects, ["total"])
            yield self.make("sangong-reason", self.severity, subs,
                            cells=[ctx.position(ref.table, ref.row, ref.col)] + here.cells + totals.cells,
                            table=ref.table, actual=here.total if here.figures else Decimal(0), reason=reason,
                            item_zh=zh, item_en=en, projects_zh=self.names(projects, "无"),
                            projects_en=self.names(projects, "none", ", "))
