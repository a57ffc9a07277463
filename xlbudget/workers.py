"""Worker processes that never outlive the command.

A batch killed with SIGKILL cannot clean up after itself, so each pool worker watches its parent: on Linux
the kernel sends it SIGKILL when the parent dies (``prctl(PR_SET_PDEATHSIG)``); elsewhere a daemon thread
polls the parent's pid. :func:`process_pool` is the pool every parallel job uses; its workers are forked
from the command where that is safe (:func:`context`), started as new interpreters elsewhere.

A worker whose pool is shut down leaves at once: its standard streams flushed, without tearing down its
interpreter (freeing the caches of thousands of checked files took up to a second, while the command waited).
"""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Callable

__all__ = ["context", "die_with_parent", "process_pool"]

_PR_SET_PDEATHSIG = 1


def _prctl_deathsig() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int, interval: float) -> None:
    while True:
        time.sleep(interval)
        if os.getppid() != parent:
            os._exit(1)


def die_with_parent(parent: int, interval: float = 0.5) -> None:
    """Pool initializer: end this process as soon as process ``parent`` is gone."""
    if not _prctl_deathsig():
        threading.Thread(target=_watch, args=(parent, interval), daemon=True, name="xlbudget-parent-watch").start()
    if os.getppid() != parent:  # the parent died before the watch was set up
        os._exit(1)


def _leave() -> None:
    """Registered first in a worker, so run last at its exit, after every handler registered since: the
    streams are flushed and the process ends without the interpreter's teardown (nothing of a worker's is
    kept after it: results went to the parent, files are written atomically by then)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(0)


def _start(parent: int, initializer, initargs: tuple) -> None:
    atexit.register(_leave)
    die_with_parent(parent)
    if initializer is not None:
        initializer(*initargs)


def process_pool(max_workers: int, initializer=None, initargs: tuple = (),
                 preload: Callable[[], None] | None = None) -> ProcessPoolExecutor:
    """A process pool whose workers end with this process, even when it is killed (``initializer`` runs in
    each worker after that is arranged).

    Where it is safe (:func:`context`) the workers are forked from this process, all of them at once, here:
    ``preload()`` is called first (the modules and tables each worker needs for its first task), and every
    worker starts with what this process has, without an interpreter of its own to start and its modules
    to import. Elsewhere they are started with "spawn", and ``preload`` is not called."""
    ctx = context()
    forked = ctx is FORK
    if forked and preload is not None:
        preload()
    pool = ProcessPoolExecutor(max_workers=max_workers, mp_context=ctx,
                               initializer=_start, initargs=(os.getpid(), initializer, initargs))
    if forked:  # (the first task forks every worker at once, while this process has no other thread; its
        pool.submit(int)  # result is not waited for: a worker that fails to start breaks the files' futures)
    return pool


def context() -> multiprocessing.context.BaseContext:
    """How the workers of a pool are started: forked on Linux from Python 3.11 on, while this process has no
    thread but its main one (a fork copies no other thread, and none can hold a lock the worker needs: the
    pool forks its workers before it starts its own threads, python/cpython#90622); "spawn" otherwise (a
    new interpreter: other systems, or a process with threads, such as the web desk's server)."""
    if FORK is not None and sys.version_info >= (3, 11) and threading.active_count() == 1:
        return FORK
    return SPAWN


SPAWN = multiprocessing.get_context("spawn")
FORK = multiprocessing.get_context("fork") if sys.platform.startswith("linux") else None
