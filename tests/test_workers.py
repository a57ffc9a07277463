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
