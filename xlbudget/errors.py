"""Exceptions of xlbudget. Findings are not exceptions: exceptions are for broken descriptions,
broken specs and unreadable files."""


class XlbudgetError(Exception):
    """Base of every xlbudget exception."""


class DescriptionError(XlbudgetError):
    """A table description under templates/ is inconsistent."""


class SpecError(XlbudgetError):
    """A department spec file is invalid (message in Chinese)."""


class DataError(XlbudgetError):
    """Canonical data does not fit the layout it is filled into."""
