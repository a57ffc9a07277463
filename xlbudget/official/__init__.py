"""Workbooks in an official layout: exports of the budget system, a region's official template filled in
Excel or WPS, hand-made copies. :mod:`.locate` finds the tables by title and header text through the table
descriptions; :mod:`.read` turns them into the canonical model that ``check`` and ``build`` use."""

from .read import detect, read_official

__all__ = ["detect", "read_official"]
