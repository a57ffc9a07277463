"""Run native code (the Rust cell reader) where its crash costs one file, not the process.

``run(fn)`` calls ``fn()`` in a forked child with a memory ceiling and a time limit and returns its result
(pickled through a pipe). A child that aborts, is killed, runs out of memory or time raises
:class:`NativeFailure`; an exception inside ``fn`` comes back as :class:`NativeFailure` too, with its text.
The child's standard error is discarded, so an abort prints no native backtrace. Where ``fork`` is not
available the call runs in this process (the safety checks made before it are then the only guard).

A pool worker is itself the isolation (:func:`become_worker`): its death costs the file it holds, which the
pool reports, and the pool's parent kills a worker that holds one file longer than :data:`TIME_LIMIT`. In a
worker ``run`` calls ``fn()`` directly, under the memory ceiling the worker set for itself, and reports
failures as the child would.
"""

from __future__ import annotations

import contextlib
import faulthandler
import gc
import os
import select
import signal
import time
from typing import Any, Callable

__all__ = ["NativeFailure", "Pending", "run", "start", "available", "become_worker", "forks"]

TIME_LIMIT = 60.0                 # seconds for one workbook's cells (in a pool: for one workbook's check)
MEMORY_HEADROOM = 2 << 30         # bytes of address space the child may add to what it inherits

_in_worker = False                # set by become_worker()


class NativeFailure(Exception):
    """The native reader died or failed; ``reason`` says how ("crash", "memory", "timeout" or "error")."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(detail or reason)
        self.reason = reason
        self.detail = detail


def available() -> bool:
    return hasattr(os, "fork") and os.environ.get("XLBUDGET_NO_ISOLATION") != "1"


def forks() -> bool:
    """True when :func:`run` would fork a child for its function (not in a pool worker, isolation available):
    what a caller saves by not running native code at all."""
    return not _in_worker and available()


def _vm_size() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _limit_memory() -> None:
    """Cap this process's address space at what it uses now plus MEMORY_HEADROOM (where the OS allows)."""
    try:
        import resource

        vm = _vm_size()
        if vm:
            resource.setrlimit(resource.RLIMIT_AS, (vm + MEMORY_HEADROOM, vm + MEMORY_HEADROOM))
    except (ImportError, ValueError, OSError):
        pass


def _outcome(fn: Callable[[], Any], catch: type[BaseException]) -> tuple[str, Any]:
    """("ok", result), ("memory", "") or ("error", text) of ``fn()``; exceptions other than ``catch`` pass."""
    try:
        return "ok", fn()
    except MemoryError:
        return "memory", ""
    except catch as exc:  # reported as text
        return "error", " ".join(str(exc).split())[:200] or type(exc).__name__


def _quiet() -> None:
    """No native backtrace or Python stack on standard error: a crash here is reported by the parent."""
    faulthandler.disable()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)


def _child(fn: Callable[[], Any], w: int) -> None:  # pragma: no cover - runs in the forked child
    gc.disable()  # a collection would touch (and so copy) every page inherited from the parent
    try:
        _quiet()
        _limit_memory()
        import pickle  # (loaded by the parent before the fork)

        data = pickle.dumps(_outcome(fn, BaseException), protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(data)
        while view:
            n = os.write(w, view)
            view = view[n:]
    finally:
        os._exit(0)


def become_worker() -> None:
    """Make this process the isolation of what it runs: a pool worker whose death costs the file it holds
    (its pool reports that file and goes on) and whose time is kept by the pool's parent. ``run`` then
    calls its function here, without a fork; this process's address space is capped at what it uses now
    plus MEMORY_HEADROOM, so that one file's blow-up is a MemoryError (or this worker's end), never the
    machine's memory killer taking the parent; and its standard error is discarded, as the child's is."""
    global _in_worker
    _in_worker = True
    _quiet()
    _limit_memory()


def run(fn: Callable[[], Any], time_limit: float | None = None) -> Any:
    """``fn()``, isolated as the module docstring says; ``time_limit`` defaults to :data:`TIME_LIMIT`."""
    return start(fn, time_limit).result()


class Pending:
    """``fn()`` started by :func:`start`; :meth:`result` waits for it (once) and gives what :func:`run` gives."""

    def __init__(self, fn: Callable[[], Any], time_limit: float | None = None) -> None:
        self._value: Any = None
        self._kind: str | None = None
        self._child: tuple[int, int, float] | None = None  # (pid, read end of its pipe, deadline)
        limit = TIME_LIMIT if time_limit is None else time_limit
        if _in_worker:
            self._kind, self._value = _outcome(fn, Exception)
        elif not available():
            self._kind, self._value = "ok", fn()
        else:
            self._child = _fork(fn, limit)

    def __del__(self) -> None:  # never asked for (its reader gave up first): no child left behind
        if self._child is not None:
            pid, r, _ = self._child
            self._child = None
            with contextlib.suppress(OSError):
                os.close(r)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)

    def result(self) -> Any:
        if self._child is not None:
            pid, r, deadline = self._child
            self._child = None
            self._kind, self._value = _collect(pid, r, deadline)
        if self._kind != "ok":
            raise NativeFailure(self._kind or "crash", self._value or "")
        return self._value


def start(fn: Callable[[], Any], time_limit: float | None = None) -> Pending:
    """``run(fn, time_limit)`` begun now and finished when its ``result()`` is asked for: a forked child works
    while this process goes on (in a pool worker, or without fork, ``fn()`` runs here at once)."""
    return Pending(fn, time_limit)


def _fork(fn: Callable[[], Any], time_limit: float) -> tuple[int, int, float]:
    """A child running ``fn`` (see ``_child``): its pid, the read end of its pipe and when it is out of time."""
    import pickle  # noqa: F401  (before the fork, so that the child finds it loaded; a check that forks no
    #                            child never loads it)

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os.close(r)
        _child(fn, w)
    os.close(w)
    return pid, r, time.monotonic() + time_limit


def _collect(pid: int, r: int, deadline: float) -> tuple[str, Any]:
    """What the child ``pid`` sends through ``r``, waited for until ``deadline`` (then it is killed)."""
    import pickle

    chunks: list[bytes] = []
    timed_out = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([r], [], [], left)
            if not ready:
                continue
            chunk = os.read(r, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(r)
        if timed_out:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _, status = os.waitpid(pid, 0)
    if timed_out:
        raise NativeFailure("timeout")
    if os.WIFSIGNALED(status) or not chunks:
        raise NativeFailure("crash", f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else "")
    return pickle.loads(b"".join(chunks))
