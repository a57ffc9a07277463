"""Submitted files, stored once by SHA-256 under ``DATA/blobs/ab/<sha256>.xlsx``, read-only.

The path of a stored file comes from its hash alone: the name the sender gave is kept in the database and
never touches the file system.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path

READ_ONLY = stat.S_IRUSR | stat.S_IRGRP      # 0o440: the owner and the owner's group may read


class BlobStore:
    def __init__(self, root: Path):
        self.root = Path(root) / "blobs"
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a SHA-256")
        return self.root / sha256[:2] / f"{sha256}.xlsx"

    def put(self, data: bytes) -> tuple[str, bool]:
        """Store ``data``; (its SHA-256, True when it was new)."""
        sha = hashlib.sha256(data).hexdigest()
        dest = self.path(sha)
        if dest.exists():
            return sha, False
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".incoming-", dir=str(dest.parent))
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, READ_ONLY)
            os.replace(tmp, dest)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return sha, True

    def count(self) -> int:
        return sum(1 for _ in self.root.rglob("*.xlsx"))
