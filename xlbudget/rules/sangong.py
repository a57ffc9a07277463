"""三公 rule kinds: what the projects fund (spec ``projects.sangong``) against 表10, and the change reasons."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterator, Mapping

from .. import formulas
from ..errors import DescriptionError
from ..expr import Ref, parse
from ..findings import Finding
from ..model import Budget
from ..spec import Project
from ..tableset import TableSet
from .base import Context, Rule, RuleConfigError, Side, fill, register
from .book import check_reference
from .sheet import Operand, side_formula
from .tolerance import EXACT


class _Sangong(Rule):
    required = ("table", "column", "projects", "project_column", "items")

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
        # rendering the 校验 sheet: every tagged project (whether it has money is then a live formula)
        col = str(self.entry["project_column"])
        return [p for p in ctx.layout.spec.projects
                if item in p.sangong and (ctx.rendering or (ctx.pub(tid, p.key, col) or 0) > 0)]

    def validate(self, ts: TableSet) -> None:
        super().validate(ts)
        table, column, projects = (str(self.entry[k]) for k in ("table", "column", "projects"))
        for item in self.items:
            check_reference(ts, Ref(table, item, column))
        for col in [str(self.entry["project_column"])] + [c for cs in dict(self.entry.get("amount_columns", {})).values()
                                                          for c in cs]:
            check_reference(ts, Ref(projects, "{project}", col))

    def item_side(self, ctx: Context, subs: Mapping[str, str], item: str) -> Side:
        tid, col = fill(str(self.entry["table"]), subs), str(self.entry["column"])
        ctx.check_ref(Ref(tid, item, col))
        return ctx.single(tid, item, col)

    def project_side(self, ctx: Context, subs: Mapping[str, str], projects: list[Project],
                     columns: list[str]) -> Side:
        tid = fill(str(self.entry["projects"]), subs)
        side = Side()
        for p in projects:
            for c in columns:
                if ctx.rendering or ctx.pub(tid, p.key, c) is not None:
                    ctx.single(tid, p.key, c, side=side)
        return side

    @staticmethod
    def names(projects: list[Project], none: str, sep: str = "、") -> str:
        return sep.join(f"“{p.name}”" for p in projects) or none


@register
class SangongProjects(_Sangong):
    """Each 三公 item a project funds shows in 表10: a purchase at least the project's capital columns,
    other items as a non-zero figure."""

    kind = "sangong_projects"
    renders = True

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
            if ctx.rendering:
                self._render(ctx, subs, zh, here, capital,
                             self.project_side(ctx, subs, projects, [str(self.entry["project_column"])]))
                continue
            if capital.total > 0:
                yield from self.compare(ctx, subs, "ge", here, capital, fail_kind="sangong-project-amount",
                                        table=here.tables[0], **names)
            elif here.total == 0:
                totals = self.project_side(ctx, subs, projects, [str(self.entry["project_column"])])
                yield self.make("sangong-project-missing", self.severity, subs, cells=here.cells + totals.cells,
                                table=here.tables[0], actual=here.total, expected=None, rhs=totals.text, **names)


    def _render(self, ctx: Context, subs: Mapping[str, str], item_zh: str, here: Side, capital: Side,
                totals: Side) -> None:
        """Two rows per item: at least the projects' capital columns (while they hold money), and a figure
        at all while the projects have money but no capital figure (the two branches of ``check_one``)."""
        title = f"{fill(self.zh, subs)}：{item_zh}"
        if capital.operands:
            self.record(ctx, subs, "ge", here, capital, title=f"{title}不少于项目购置支出")
        unit = here.precision or ctx.layout.tableset.precision
        places = unit.display_decimals + 6
        funded = f"ROUND({side_formula(totals, unit)},{places})>0"
        if capital.operands:
            funded = f"AND(ROUND({side_formula(capital, unit)},{places})=0,{funded})"
        ctx.when = (funded, capital.total == 0 and totals.total > 0)
        self.record(ctx, subs, "nonzero", here, totals, title=f"{title}（项目有安排时应有数）")
        ctx.when = None


@register
class SangongReasons(_Sangong):
    """A change reason that says an item is not arranged, while 表10 or a project arranges it."""

    kind = "sangong_reasons"
    required = _Sangong.required + ("reason", "negations")
    renders = True

    def check_one(self, budget: Budget, ctx: Context, subs: Mapping[str, str]) -> Iterator[Finding]:
        negations = [str(n) for n in self.entry["negations"]]
        for item, (zh, en) in self.items.items():
            expr = parse(fill(str(self.entry["reason"]), {**subs, "item": item}))
            ref = expr.terms[0].ref
            ctx.check_ref(ref)
            assert ref.table is not None and ref.row is not None
            reason = ctx.text(ref.table, ref.row, ref.col)
            if ctx.rendering:
                self._render(ctx, subs, item, zh, ref, negations, bool(reason and any(n in reason for n in negations)))
                continue
            if not reason or not any(n in reason for n in negations):
                continue
            here = self.item_side(ctx, subs, item)
            projects = self.funded_by(ctx, subs, item)
            if here.total == 0 and not projects:
                continue
            totals = self.project_side(ctx, subs, projects, [str(self.entry["project_column"])])
            yield self.make("sangong-reason", self.severity, subs,
                            cells=[ctx.position(ref.table, ref.row, ref.col)] + here.cells + totals.cells,
                            table=ref.table, actual=here.total if here.figures else Decimal(0), reason=reason,
                            item_zh=zh, item_en=en, projects_zh=self.names(projects, "无"),
                            projects_en=self.names(projects, "none", ", "))

    def validate(self, ts: TableSet) -> None:
        super().validate(ts)
        for item in self.items:
            for term in parse(fill(str(self.entry["reason"]), {"item": item})).terms:
                check_reference(ts, term.ref)

    def _render(self, ctx: Context, subs: Mapping[str, str], item: str, item_zh: str, ref: Ref,
                negations: list[str], negated: bool) -> None:
        """While the reason says the item is not arranged: 表10 and the tagged projects hold nothing."""
        arranged = self.item_side(ctx, subs, item)
        for p in self.funded_by(ctx, subs, item):
            ctx.single(fill(str(self.entry["projects"]), subs), p.key, str(self.entry["project_column"]), side=arranged)
        nothing = Side()
        nothing.add(1, Decimal(0), None, "0", ref.table or "", None, Operand.constant(Decimal(0)))
        cell = formulas.cell_addr(ctx.layout, None, ref.table or "", ref.row or "", ref.col)
        said = ",".join(f'ISNUMBER(SEARCH("{n}",{cell}))' for n in negations)
        ctx.when = (f"OR({said})" if cell else "FALSE", negated)
        self.record(ctx, subs, "eq", arranged, nothing, tol=EXACT,
                    title=f"{fill(self.zh, subs)}：说明{item_zh}未安排时，表10 与项目均无此项")
        ctx.when = None
