"""Import every rule kind so that each registers itself in :data:`xlbudget.rules.base.KINDS`."""

from . import codes, compare, generic, performance, sangong  # noqa: F401

__all__ = ["codes", "compare", "generic", "performance", "sangong"]
