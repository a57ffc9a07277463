"""Golden texts of the tests that keep an output the same, byte for byte, whatever is done to make it fast.

A golden is kept xz-compressed. ``XLBUDGET_REGEN_GOLDEN=1`` writes it anew from what the code gives: only for an
intended change of output, from code whose output is trusted."""

from __future__ import annotations

import lzma
import os
from pathlib import Path


def read_golden(path: Path) -> str:
    return lzma.decompress(path.read_bytes()).decode("utf-8")


def assert_golden(got: str, path: Path, what: str) -> None:
    """``got`` equals the golden at ``path``; the first line that differs is named (``what`` says whose)."""
    if os.environ.get("XLBUDGET_REGEN_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(lzma.compress(got.encode("utf-8"), preset=9))
    want = read_golden(path)
    if got != want:  # show the first difference rather than two huge strings
        for i, (a, b) in enumerate(zip(got.splitlines(), want.splitlines())):
            assert a == b, f"line {i + 1} of {what} differs"
    assert got == want
