"""Settings of one desk: where the archive lives, limits, access."""

from __future__ import annotations

import os
from pathlib import Path

from msgspec import Struct

MB = 1024 * 1024


def xlbudget_home() -> Path:
    home = os.environ.get("XLBUDGET_HOME")
    return Path(home).expanduser() if home else Path.home() / ".xlbudget"


def database_url(url: str | None, home: Path | None = None) -> str:
    """SQLAlchemy URL: the embedded default (SQLite in XLBUDGET_HOME), or ``postgresql://…`` on psycopg 3."""
    if not url:
        home = home or xlbudget_home()
        home.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{home / 'desk.sqlite3'}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class DeskConfig(Struct):
    db_url: str | None = None
    data_dir: Path | None = None
    token: str | None = None            # required for any address other than loopback
    jobs: int = 2                       # checking processes; 1 checks in a thread of the server
    max_files: int = 2000               # files per upload (a zip's members count)
    max_file_mb: int = 50               # one workbook
    max_upload_mb: int = 1024           # one request
    tolerance: str = "interval"
    catalogue_dir: Path | None = None

    def __post_init__(self) -> None:
        self.db_url = database_url(self.db_url)
        self.data_dir = Path(self.data_dir) if self.data_dir else xlbudget_home() / "desk-data"

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * MB

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * MB
