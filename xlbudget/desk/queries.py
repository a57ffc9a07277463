"""What the pages show, computed from the archive: the overview, a department's versions, two versions
compared."""

from __future__ import annotations

from datetime import datetime

from msgspec import Struct
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..cache import load_report
from ..findings import Finding
from ..report import FileReport
from .db import Expected, Submission

PASSED = ("ok", "warnings")


def norm(name: str) -> str:
    return "".join(str(name).split())


class DeptRow(Struct):
    department: str
    year: int | None
    status: str                  # ok / warnings / errors / unreadable / missing / queued
    versions: int = 0
    errors: int = 0
    warnings: int = 0
    residues: int = 0
    latest: int | None = None
    received: datetime | None = None
    name: str = ""

    @property
    def group(self) -> str:
        return "passed" if self.status in PASSED else self.status


_COLS = (Submission.id, Submission.department, Submission.year, Submission.state, Submission.status,
         Submission.errors, Submission.warnings, Submission.residues, Submission.received_at,
         Submission.original_name)


def overview(s: Session) -> tuple[list[DeptRow], list, int]:
    """(one row per department and year — its latest version — plus the expected ones missing,
    files whose department is unknown, number of files still being checked)."""
    rows: dict[tuple[str, int | None], DeptRow] = {}
    unfiled = []
    pending = 0
    for r in s.execute(select(*_COLS).order_by(Submission.id)):
        if r.state != "done":
            pending += 1
        if r.department is None:
            if r.state == "done":
                unfiled.append(r)
            continue
        key = (r.department, r.year)
        row = rows.get(key)
        versions = (row.versions if row else 0) + 1
        status = r.status if r.state == "done" else "queued"
        rows[key] = DeptRow(r.department, r.year, status, versions, r.errors, r.warnings, r.residues, r.id,
                            r.received_at, r.original_name)
    seen = {norm(d) for d, _ in rows}
    for (name,) in s.execute(select(Expected.department).order_by(Expected.id)):
        if norm(name) not in seen:
            rows[(name, None)] = DeptRow(name, None, "missing")
    ordered = sorted(rows.values(), key=lambda d: (d.status != "missing", d.department, d.year or 0))
    return ordered, unfiled, pending


def versions(s: Session, department: str, year: int | None) -> list[Submission]:
    q = select(Submission).where(Submission.department == department).order_by(Submission.id)
    if year is not None:
        q = q.where(Submission.year == year)
    return list(s.scalars(q))


def version_count(s: Session, department: str | None, year: int | None) -> int:
    if department is None:
        return 1
    q = select(func.count()).select_from(Submission).where(Submission.department == department)
    if year is not None:
        q = q.where(Submission.year == year)
    return int(s.scalar(q) or 0)


def report_of(sub: Submission) -> FileReport | None:
    return load_report(sub.report, sub.original_name) if sub.report else None


def _identity(f: Finding) -> tuple:
    return (f.rule, f.kind, f.cells, f.table)


def compare(old: FileReport, new: FileReport) -> dict[str, list[Finding]]:
    """Findings fixed (in ``old`` only), new (in ``new`` only) and still open (in both)."""
    a = {_identity(f): f for f in old.findings}
    b = {_identity(f): f for f in new.findings}
    return {"fixed": [f for k, f in a.items() if k not in b],
            "new": [f for k, f in b.items() if k not in a],
            "still": [f for k, f in b.items() if k in a]}
