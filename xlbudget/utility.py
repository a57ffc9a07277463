"""Small shared helpers."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str], suffix: str = "") -> Iterator[str]:
    """Yield a temporary file name in the folder of ``path``; on success it replaces ``path`` in one rename,
    on failure it is removed. Readers never see a half-written output."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".xlbudget-", suffix=suffix or out.suffix, dir=str(out.parent))
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write(path: str | os.PathLike[str], data: bytes | str, encoding: str = "utf-8") -> Path:
    """Write a file atomically: a temporary file in the same folder, then a rename."""
    payload = data.encode(encoding) if isinstance(data, str) else data
    with atomic_output(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(payload)
    return Path(path)
