"""Small shared helpers (the atomic outputs live in :mod:`xlbudget.outputs`)."""

from __future__ import annotations

from .outputs import atomic_output, atomic_write

__all__ = ["atomic_output", "atomic_write"]
