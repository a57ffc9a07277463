"""Check budgets and batches of submitted workbooks against the rule book.

Public API:
    check_budget(budget, *, tolerance="interval", catalogue_dir=None, lang="zh") -> list[Finding]
    check_file(path, *, tolerance="interval", catalogue_dir=None) -> FileReport
    check_paths(paths, *, jobs=1, tolerance="interval", catalogue_dir=None, progress=None) -> Report
    collect_paths(paths) -> list[Path]

Each file is checked on its own: a file that cannot be read, or that breaks the checker, becomes a finding
of that file and the batch goes on. With ``jobs > 1`` the files are spread over a process pool.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import time
from pathlib import Path
from typing import Callable, Iterable, Sequence

from .findings import Finding, Severity
from .model import Budget
from .outputs import is_temporary
from .report import FileReport, Report
from .rules import Context, Rule, Tolerance, run_rules

__all__ = ["SUFFIXES", "UNSUPPORTED_SUFFIXES", "check_budget", "check_file", "check_paths", "collect_paths",
           "is_unfilled"]

SUFFIXES = (".xlsx", ".xlsm")
# Other spreadsheet formats found in a folder are reported (the reader says why it cannot read them, as when
# the file is named directly) rather than skipped without a word.
UNSUPPORTED_SUFFIXES = (".xls", ".xlsb", ".xlt", ".xltx", ".xltm", ".et", ".ett", ".ods", ".fods", ".csv", ".tsv",
                        ".numbers")
Progress = Callable[[int, int, Path], None]
Reader = Callable[[Path], object]


def check_budget(budget: Budget, *, tolerance: "str | Tolerance" = "interval", catalogue_dir: str | Path | None = None,
                 lang: str = "zh", rules: Sequence[Rule] | None = None) -> list[Finding]:
    """Every finding of the rule book on one budget, in rule-book order.

    ``tolerance`` is "interval" (default: a relation between n published figures holds within n × 0.005),
    "fixed:0.01" or "exact". ``catalogue_dir`` is a folder written by ``xlbudget catalogue import``; without
    it the imported catalogue in the default place, else the shipped partial list, is used. ``lang`` is
    accepted for symmetry with the reports: findings render in either language (``Finding.message(lang)``).
    """
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be zh or en, not {lang!r}")
    ctx = Context(budget, tolerance, catalogue_dir)
    found = run_rules(budget, ctx, rules)
    if rules is None and is_unfilled(budget):
        found.insert(0, Finding("submission-empty", "FILE.empty", Severity.ERROR))
    return found


def is_unfilled(budget: Budget) -> bool:
    """True when no figure of the budget is other than blank or zero: an unfilled template, which would pass
    every reconciliation and build an all-zero disclosure."""
    return all(v is None or v == 0 for _, _, _, v in budget.figures())


def _default_reader() -> Reader:
    from .reader import read_workbook

    return read_workbook


def _failure(kind: str, rule: str, exc: BaseException) -> Finding:
    detail = f"{type(exc).__name__}: {exc}"
    if kind == "file-unreadable":
        return Finding(kind, rule, Severity.ERROR,
                       params={"reason": "文件无法读取：" + detail, "reason_en": "cannot read the file: " + detail})
    return Finding(kind, rule, Severity.ERROR, params={"detail": detail})


@contextlib.contextmanager
def _few_collections():
    """Checking a file allocates hundreds of thousands of short-lived objects and frees them without
    cycles: the collector runs every 50,000 allocations instead of every 700, and what stays loaded
    (modules, table sets, layouts) is kept out of its passes. Costs 8-12 % of the time otherwise."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], 50_000), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def check_file(path: str | Path, *, tolerance: "str | Tolerance" = "interval",
               catalogue_dir: str | Path | None = None, reader: Reader | None = None) -> FileReport:
    """Read one workbook and check it; never raises for a bad file."""
    with _few_collections():
        return _check_file(Path(path), tolerance, catalogue_dir, reader)


def _check_file(p: Path, tolerance: "str | Tolerance", catalogue_dir: str | Path | None,
                reader: Reader | None) -> FileReport:
    start = time.perf_counter()
    read = reader or _default_reader()
    try:
        result = read(p)
    except Exception as exc:  # one bad file never stops a batch
        return FileReport(path=str(p), findings=[_failure("file-unreadable", "READ.unreadable", exc)],
                          readable=False, seconds=time.perf_counter() - start)
    budget = getattr(result, "budget", None)
    findings = list(getattr(result, "findings", []) or [])
    tables: dict[str, str] = {}
    if budget is not None:
        try:
            findings.extend(check_budget(budget, tolerance=tolerance, catalogue_dir=catalogue_dir))
        except Exception as exc:
            findings.append(_failure("check-failed", "CHECK.failed", exc))
        # titles of the tables that have findings only: a batch of thousands keeps no more than it reports
        named = {f.table for f in findings if f.table}
        tables = {tid: f"{t.sheet} {t.title}" for tid, t in budget.layout.tables.items() if tid in named}
    return FileReport(path=str(p), findings=findings, sha256=str(getattr(result, "sha256", "") or "") or _sha256(p),
                      meta=dict(getattr(result, "meta", {}) or {}), readable=budget is not None, tables=tables,
                      seconds=time.perf_counter() - start)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return ""
    return digest.hexdigest()


def collect_paths(paths: Iterable[str | Path], exclude: Iterable[str | Path] = ()) -> list[Path]:
    """Files named directly, plus every *.xlsx / *.xlsm under the folders named (recursively, sorted).

    Other spreadsheet files in a folder (.xls, .ods, .csv, …: :data:`UNSUPPORTED_SUFFIXES`) are taken too, so
    that the report says why they cannot be read. Excel's lock files (``~$name.xlsx``), xlbudget's own
    temporary files (``.xlbudget-…``) and anything under an ``exclude`` folder are skipped. A file named
    twice is checked once.
    """
    skip = [Path(e).resolve() for e in exclude]
    out: list[Path] = []
    seen: set[Path] = set()

    def add(f: Path) -> None:
        r = f.resolve()
        if r in seen or any(r == s or s in r.parents for s in skip):
            return
        seen.add(r)
        out.append(f)

    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if (f.suffix.lower() in SUFFIXES + UNSUPPORTED_SUFFIXES and not f.name.startswith("~$")
                        and not is_temporary(f.relative_to(p)) and f.is_file()):
                    add(f)
        else:
            add(p)
    return out


def check_paths(paths: Iterable[str | Path], *, jobs: int = 1, tolerance: "str | Tolerance" = "interval",
                catalogue_dir: str | Path | None = None, progress: Progress | None = None,
                reader: Reader | None = None, exclude: Iterable[str | Path] = ()) -> Report:
    """Check every workbook under ``paths`` (see :func:`collect_paths`), ``jobs`` at a time.

    ``progress(done, total, path)`` is called in this process after each file. ``reader`` replaces
    :func:`xlbudget.reader.read_workbook` (it must be a module-level function when ``jobs > 1``).
    Raises ValueError for a bad tolerance.
    """
    tol = Tolerance.parse(tolerance)
    files = collect_paths(paths, exclude)
    start = time.perf_counter()
    results: list[FileReport | None] = [None] * len(files)
    cat = str(catalogue_dir) if catalogue_dir else None
    done = 0
    if jobs <= 1 or len(files) <= 1:
        for i, f in enumerate(files):
            results[i] = check_file(f, tolerance=tol, catalogue_dir=cat, reader=reader)
            done += 1
            if progress:
                progress(done, len(files), f)
    else:
        from concurrent.futures import as_completed  # not on the one-file path

        from .workers import process_pool

        workers = min(jobs, len(files), max(os.cpu_count() or 1, 1) * 4)
        with process_pool(workers) as pool:
            futures = {pool.submit(check_file, f, tolerance=str(tol), catalogue_dir=cat, reader=reader): i
                       for i, f in enumerate(files)}
            for fut in as_completed(futures):
                i = futures[fut]
                try:
                    results[i] = fut.result()
                except Exception as exc:  # a worker that died (out of memory, crash): this file only
                    results[i] = FileReport(path=str(files[i]),
                                            findings=[_failure("check-failed", "CHECK.failed", exc)],
                                            readable=False)
                done += 1
                if progress:
                    progress(done, len(files), files[i])
    reports = [r for r in results if r is not None]
    return Report(files=reports, tolerance=str(tol), catalogue=cat, seconds=time.perf_counter() - start)
