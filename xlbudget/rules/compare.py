"""Rule kinds that compare two expressions: equal, equal_if, at_least, at_most."""

from __future__ import annotations

from typing import Iterable, Mapping

from ..findings import Finding
from ..model import Budget
from .base import Context, Rule, register


class Compare(Rule):
    op = "eq"
    renders = True
    required = ("left", "right")
    expressions = ("left", "right")

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
