"""Rule kinds that compare two expressions: equal, equal_if, at_least, at_most."""

from __future__ import annotations

from typing import Iterable, Iterator, Mapping

from ..findings import Finding
from ..model import Budget
from .base import Context, Rule, RuleConfigError, fill, fills_in_place, register


class Compare(Rule):
    op = "eq"
    renders = True
    required = ("left", "right")
    expressions = ("left", "right")

    def check(self, budget: Budget, ctx: Context) -> Iterator[Finding]:
        """``Rule.check``; without a precondition, each instance whose published figures hold exactly is passed
        over at once (the common case: most instances of a rule book hold)."""
        if ctx.rendering or self.as_printed or self.when:
            yield from super().check(budget, ctx)
            return
        try:
            instances = ctx.expand(self.foreach)
        except RuleConfigError as e:
            yield self.config_finding({}, str(e))
            return
        absent, op, holds, instance = budget.absent_tables, self.op, ctx.holds_exactly, self.instance
        for subs in instances:
            try:
                if absent and self.over_absent(ctx, subs, absent):  # (as Rule.check)
                    continue
                cells = instance(subs)
                left, right = cells["left"], cells["right"]
                if not holds(op, left, right):
                    yield from self.compare(ctx, subs, op, ctx.side_of(left), ctx.side_of(right))
            except RuleConfigError as e:
                yield self.config_finding(subs, str(e))

    def over_absent(self, ctx: Context, subs: Mapping[str, str], absent: frozenset[str]) -> bool:
        """A comparison's findings name every cell it reads (both sides, blank or not): one that reads a cell of
        a table the workbook does not carry makes only findings the check drops."""
        if subs.get("table") in absent:
            return True
        position = ctx.position
        templates = self._templates
        known = self._exprs.get(tuple(subs.items()))  # (the instance's cells, where worked out before)
        if known is None and len(templates) == len(self.expressions) and fills_in_place(subs):
            # from the expressions as parsed with their placeholders (as ``Rule.instance`` fills them), each
            # cell's table filled in first: most comparisons read no table the workbook lacks, and a lone check
            # works out the cells of none of their instances for nothing
            for cells in templates.values():
                for _, t, r, c in cells:
                    if t is not None and r is not None:
                        tid = fill(t, subs)
                        if tid in absent and position(tid, fill(r, subs), fill(c, subs)) is not None:
                            return True
            return False
        for cells in (known or self.instance(subs)).values():
            for _, tid, rkey, ckey in cells:
                if tid in absent and rkey is not None and position(tid, rkey, ckey) is not None:
                    return True
        return False

    def check_one(self, budget: Budget, ctx: Context, subs: Mapping[str, str]) -> Iterable[Finding]:
        instance = self.instance(subs)
        left, right = instance["left"], instance["right"]
        if not ctx.rendering and not self.as_printed and ctx.holds_exactly(self.op, left, right):
            return ()
        return self.compare(ctx, subs, self.op, ctx.side_of(left), ctx.side_of(right))


@register
class Equal(Compare):
    """left = right within the tolerance."""

    kind = "equal"


@register
class EqualIf(Compare):
    """left = right, for rules with a precondition (``when``)."""

    kind = "equal_if"


@register
class AtLeast(Compare):
    """left >= right within the tolerance."""

    kind = "at_least"
    op = "ge"


@register
class AtMost(Compare):
    """left <= right within the tolerance."""

    kind = "at_most"
    op = "le"
