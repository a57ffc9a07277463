"""The garbage collector's pace while a workbook is read, checked or written.

Reading, checking and writing a workbook allocate hundreds of thousands of objects in a few hundred
milliseconds. At Python's default pace (a collection every 700 allocations, the whole heap now and then)
the collector walks every table, layout and cell written so far again and again: 8-12 % of a check, and
about 40 % of writing a large disclosure, whose heap holds every unit's figures. :func:`few_collections`
runs it every 50,000 allocations instead, with what was alive before kept out of its passes.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from typing import Iterator

__all__ = ["few_collections", "YOUNG_THRESHOLD"]

YOUNG_THRESHOLD = 50_000   # allocations between two collections of the young generation

_lock = threading.Lock()
_open = 0                                 # blocks open (in any thread): the pace is the process's
_before: tuple[int, int, int] = (700, 10, 10)   # the pace before the first of them


@contextlib.contextmanager
def few_collections() -> Iterator[None]:
    """Collect rarely inside the block; what is alive at its start is left out of the collector's passes.

    Cyclic garbage is still collected, only less often. Blocks nest (and overlap in threads): each one
    leaves what is alive at its start out of the passes (a build does so before it consolidates and
    before it writes, the units read and then the result being most of the heap); the last to end
    restores the pace, and what was left out joins the old generation (a collection of the young one
    just after found nothing in it and cost about 1 ms a file)."""
    global _open, _before
    with _lock:
        if _open == 0:
            _before = gc.get_threshold()
            gc.set_threshold(max(_before[0], YOUNG_THRESHOLD), *_before[1:])
        _open += 1
        gc.freeze()
    try:
        yield
    finally:
        with _lock:
            _open -= 1
            if _open == 0:
                gc.set_threshold(*_before)
                gc.freeze()  # (the young objects too)
                gc.unfreeze()
