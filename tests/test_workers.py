"""Pool workers: they end with the command, and leave at once when their pool is shut down."""

from __future__ import annotations

import os
import sys

from xlbudget.workers import process_pool


class _Farewell:
    """Writes a marker when the interpreter tears it down (what a worker's exit no longer waits for)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __del__(self, _open=os.open, _write=os.write, _close=os.close, _flags=os.O_WRONLY | os.O_CREAT) -> None:
        fd = _open(self.path, _flags)  # (what it calls is held here: module globals may be gone by then)
        _write(fd, b"torn down")
        _close(fd)


_kept = []


def _task(marker: str, text: str) -> int:
    _kept.append(_Farewell(marker))  # alive until the worker's interpreter is torn down, if ever
    sys.stderr.write(text)          # no newline: left in the buffer until something flushes it
    return os.getpid()


def test_a_shut_down_worker_leaves_without_teardown_and_its_output_flushed(tmp_path, capfd):
    marker = tmp_path / "torn-down"
    with process_pool(1) as pool:
        pid = pool.submit(_task, str(marker), "工作进程的输出").result()
    assert pid != os.getpid()
    assert not marker.exists()           # the interpreter was not torn down: no object finalised
    assert "工作进程的输出" in capfd.readouterr().err  # yet what it wrote reached the terminal
    # the worker is gone (shutdown waited for it): its pid no longer names a child of ours
    assert not os.path.exists(f"/proc/{pid}") or _not_ours(pid)


def _not_ours(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[1]) != os.getpid()
    except OSError:
        return True



_FORKED = """
import os, sys
from xlbudget import workers
loaded = []
def preload():
    loaded.append(os.getpid())
def seen():
    return os.getpid(), list(loaded)
if __name__ == "__main__":
    print(workers.context() is workers.FORK)
    with workers.process_pool(2, preload=preload) as pool:
        print(sorted({pid != os.getpid() and got == [os.getpid()] for pid, got in
                      [pool.submit(seen).result() for _ in range(4)]}))
"""


def _seen() -> tuple[int, bool]:
    import xlbudget

    return os.getpid(), hasattr(xlbudget, "_preloaded_here")


def _mark_preloaded() -> None:
    import xlbudget

    xlbudget._preloaded_here = True  # type: ignore[attr-defined]


def test_workers_are_forked_with_what_the_preload_loaded_when_that_is_safe(tmp_path):
    """On Linux (Python 3.11 on) a pool's workers are forked at once from a process with no other thread, after
    ``preload`` ran there: each worker starts with what it loaded (a command's process: run here as one).
    With another thread running they are started as new interpreters instead (a fork copies no thread, and
    one holding a lock would leave it held), and ``preload`` is not called."""
    import subprocess
    import threading

    import xlbudget
    from xlbudget import workers

    forking = sys.platform.startswith("linux") and sys.version_info >= (3, 11)
    script = tmp_path / "forked.py"
    script.write_text(_FORKED, encoding="utf-8")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ([str(forking), "[True]"] if forking else ["False", "[False]"])
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert workers.context() is workers.SPAWN
        with process_pool(1, preload=_mark_preloaded) as pool:
            pid, preloaded = pool.submit(_seen).result()
        assert pid != os.getpid() and not preloaded and not hasattr(xlbudget, "_preloaded_here")
    finally:
        stop.set()
        other.join()
