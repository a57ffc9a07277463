"""Check budgets and batches of submitted workbooks against the rule book.

Public API:
    check_budget(budget, *, tolerance="interval", catalogue_dir=None, lang="zh") -> list[Finding]
    check_file(path, *, tolerance="interval", catalogue_dir=None) -> FileReport
    check_paths(paths, *, jobs=1, tolerance="interval", catalogue_dir=None, progress=None, cache=None) -> Report
    collect_paths(paths) -> list[Path]

Each file is checked on its own: a file that cannot be read, or that breaks the checker, becomes a finding
of that file and the batch goes on. With ``jobs > 1`` the files are spread over a process pool.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

from .collector import few_collections
from .findings import Finding, Severity
from .model import Budget
from .outputs import is_temporary
from .report import FileReport, Report
from .rules import Context, Rule, Tolerance, run_rules

if TYPE_CHECKING:
    from .cache import ReportCache
    from .narrative_check import Line

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
                 lang: str = "zh", rules: Sequence[Rule] | None = None,
                 narrative: "Sequence[Line] | None" = None, parallel: bool = False) -> list[Finding]:
    """Every finding of the rule book on one budget, in rule-book order.

    ``tolerance`` is "interval" (default: a relation between n published figures holds within n × 0.005),
    "fixed:0.01" or "exact". ``catalogue_dir`` is a folder written by ``xlbudget catalogue import``; without
    it the imported catalogue in the default place, else the shipped partial list, is used. ``lang`` is
    accepted for symmetry with the reports: findings render in either language (``Finding.message(lang)``).
    ``narrative`` is the text of the 情况说明 (:mod:`xlbudget.narrative_check`): its statements are checked
    against the tables and reported with the tables' findings. ``parallel``: the rules shared with a forked child
    where that pays (a large budget, not in a pool worker, a core free: ``run_rules``), the same findings sooner.
    """
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be zh or en, not {lang!r}")
    ctx = Context(budget, tolerance, catalogue_dir)
    found = run_rules(budget, ctx, rules, parallel=parallel)
    if narrative:
        from .narrative_check import check_narrative

        found.extend(check_narrative(budget, narrative))
    if budget.absent_tables or budget.cell_map:
        found = _in_the_workbook(budget, found)
    if rules is None and is_unfilled(budget):
        found.insert(0, Finding("submission-empty", "FILE.empty", Severity.ERROR))
    return found


def is_unfilled(budget: Budget) -> bool:
    """True when no figure of the budget is other than blank or zero: an unfilled template, which would pass
    every reconciliation and build an all-zero disclosure."""
    return all(v is None or v == 0 for _, _, _, v in budget.figures())


def _in_the_workbook(budget: Budget, findings: list[Finding]) -> list[Finding]:
    """Findings of a workbook in an official layout: none over a table it does not carry, every cell named
    as the real cell of the real file."""
    absent = budget.absent_tables
    sheets = tuple({budget.layout.tables[t].sheet + "!" for t in absent if t in budget.layout.tables})
    get = budget.cell_map.get
    sub = _cell().sub
    real: dict[str, str] = {}   # a cell of the layout -> the real cell (CellMap.get, one method call a cell, once)
    texts: dict[str, str] = {}  # a param's text -> that text naming the real cells

    def named(m: "re.Match[str]") -> str:
        return get(m.group(0), m.group(0))

    out = []
    for f in findings:
        if f.table in absent or (sheets and any(c.startswith(sheets) for c in f.cells)):
            continue
        moved = []
        for c in f.cells:
            r = real.get(c)
            if r is None:
                r = real[c] = get(c, c)
            moved.append(r)
        params = dict(f.params)
        for k, v in params.items():
            if isinstance(v, str) and "!" in v:
                t = texts.get(v)
                if t is None:
                    t = texts[v] = sub(named, v)
                params[k] = t
        out.append(f.moved(tuple(dict.fromkeys(moved)), params))
    return out


@functools.lru_cache(maxsize=1)
def _cell() -> "re.Pattern[str]":
    """A cell named in a finding's text (compiled for the first workbook in an official layout)."""
    return re.compile(r"[^\s!+−,，、（）()“”：:]+![A-Z]{1,3}[0-9]{1,7}")


def _default_reader(tableset: str | None = None) -> Reader:
    from .reader import read_workbook

    if tableset:
        import functools

        return functools.partial(read_workbook, tableset=tableset)
    return read_workbook


def _failure(kind: str, rule: str, exc: BaseException) -> Finding:
    detail = " ".join(str(exc).split())[:200] or "内部错误 / internal error"
    if kind == "file-unreadable":
        return Finding(kind, rule, Severity.ERROR,
                       params={"reason": "文件无法读取：" + detail, "reason_en": "cannot read the file: " + detail})
    return Finding(kind, rule, Severity.ERROR, params={"detail": detail})


def _narrative(path: Path, budget: Budget, narrative: str | Path | None,
               sheets: Sequence[str] | None = None) -> "tuple[list, list[Finding]]":
    """The lines of the narrative of one workbook: the file given, else a file beside it with the same stem
    (.txt, .docx, .pdf), else the narrative sheets its set names, when the workbook has them (``sheets``: the
    workbook's sheets, when the reader said; else the workbook is opened to see)."""
    from .narrative_check import companion

    source = Path(narrative) if narrative else companion(path)
    try:
        if source is not None:
            from .narrative_check.sources import read_file

            return read_file(source), []
        from .narrative_check import narrative_sheets

        wanted = narrative_sheets(budget)
        if sheets is not None:
            wanted = tuple(s for s in wanted if s in sheets)
        if not wanted:
            return [], []
        from .narrative_check.sources import lines_of_sheets

        return lines_of_sheets(path, wanted), []
    except Exception as e:  # an unreadable narrative costs the narrative check only
        from .narrative_check.sources import NarrativeError

        detail = str(e) if isinstance(e, NarrativeError) else f"{type(e).__name__}: {e}"
        name = (source or path).name
        return [], [Finding("narrative-unreadable", "N.source", Severity.ERROR, params={"file": name, "detail": detail})]


def check_file(path: str | Path, *, tolerance: "str | Tolerance" = "interval",
               catalogue_dir: str | Path | None = None, reader: Reader | None = None,
               tableset: str | None = None, narrative: str | Path | None = None) -> FileReport:
    """Read one workbook and check it; never raises for a bad file.

    ``tableset`` names the table set of a workbook in an official layout (default: detected from its
    titles); our templates carry their own. ``narrative`` is a 情况说明 file (.txt, .docx, .pdf) to check
    against the workbook; without it a narrative file beside the workbook with the same stem, else the
    workbook's own narrative sheets, are checked."""
    with few_collections():
        return _check_file(Path(path), tolerance, catalogue_dir, reader, tableset, narrative)


def _check_file(p: Path, tolerance: "str | Tolerance", catalogue_dir: str | Path | None,
                reader: Reader | None, tableset: str | None, narrative: str | Path | None) -> FileReport:
    start = time.perf_counter()
    read = reader or _default_reader(tableset)
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
            lines, problems = _narrative(p, budget, narrative, getattr(result, "sheets", None))
            findings.extend(problems)
            findings.extend(check_budget(budget, tolerance=tolerance, catalogue_dir=catalogue_dir, narrative=lines,
                                         parallel=True))
        except Exception as exc:
            findings.append(_failure("check-failed", "CHECK.failed", exc))
        # titles of the tables that have findings only: a batch of thousands keeps no more than it reports
        named = {f.table for f in findings if f.table}
        tables = {tid: f"{t.sheet} {t.title}" for tid, t in budget.layout.tables.items() if tid in named}
    return FileReport(path=str(p), findings=findings, sha256=str(getattr(result, "sha256", "") or "") or _sha256(p),
                      meta=dict(getattr(result, "meta", {}) or {}), readable=budget is not None, tables=tables,
                      seconds=time.perf_counter() - start)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _sha256(path: Path) -> str:
    """Digest of a regular file; "" for anything else (a FIFO or /dev/zero would never end)."""
    digest = hashlib.sha256()
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with open(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return ""
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return ""
    return digest.hexdigest()


def _special(f: Path) -> bool:
    """A folder entry that is neither a folder nor a regular file (FIFO, socket, device, dangling link)."""
    try:
        mode = f.lstat().st_mode
        if stat.S_ISLNK(mode):
            mode = f.stat().st_mode
    except OSError:
        return True
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def collect_paths(paths: Iterable[str | Path], exclude: Iterable[str | Path] = ()) -> list[Path]:
    """Files named directly, plus every *.xlsx / *.xlsm under the folders named (recursively, sorted).

    Other spreadsheet files in a folder (.xls, .ods, .csv, …: :data:`UNSUPPORTED_SUFFIXES`) are taken too, so
    that the report says why they cannot be read, and so are entries that are not regular files (named pipes,
    sockets, devices, dangling links). Excel's lock files (``~$name.xlsx``), xlbudget's own temporary files
    (``.xlbudget-…``) and anything under an ``exclude`` folder are skipped. A file named twice is checked once.
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
                if f.name.startswith("~$") or is_temporary(f.relative_to(p)):
                    continue
                if (f.suffix.lower() in SUFFIXES + UNSUPPORTED_SUFFIXES and f.is_file()) or _special(f):
                    add(f)
        else:
            add(p)
    return out


_holders = None  # in a pool worker: per file of the batch, the pid of the worker that took it (0: not taken)


def _mark(holders) -> None:
    """Pool initializer: this worker is the isolation of the files it checks (no fork per file)."""
    global _holders
    from .io import isolate

    _holders = holders
    isolate.become_worker()


def _check_marked(i: int, path: Path, kwargs: dict, prepare: "Callable[[FileReport], None] | None" = None
                  ) -> FileReport:
    if _holders is not None:
        _holders[i] = os.getpid()
    report = check_file(path, **kwargs)
    if prepare is not None:
        prepare(report)
    return report


def preload_reader() -> None:
    """What a worker needs before its first file, loaded in the process its workers are forked from (each
    then has it from the start): the reader's modules and the installed table sets."""
    from . import reader  # noqa: F401
    from .errors import XlbudgetError
    from .official import read  # noqa: F401
    from .tableset import installed_tablesets, load_tableset

    for tid in installed_tablesets():
        try:
            load_tableset(tid)
        except XlbudgetError:  # (a broken set is reported where a file names it)
            pass


def _dead_worker(path: Path) -> FileReport:
    """The report of a file whose check kills the process that checks it (a native crash, the memory killer)."""
    f = Finding("file-unreadable", "READ.worker-died", Severity.ERROR,
                params={"reason": "文件无法读取：检查此文件的进程异常终止（文件结构异常或所需内存过大）",
                        "reason_en": "cannot read the file: the process checking it terminated abnormally "
                                     "(abnormal structure or too much memory needed)"})
    return FileReport(path=str(path), findings=[f], sha256=_sha256(path), readable=False)


def _timed_out(path: Path, limit: float) -> FileReport:
    """The report of a file still not checked after ``limit`` seconds (its worker was ended), under the rule
    of a cell reader that runs out of time."""
    from .io.errors import WorkbookError

    err = WorkbookError("native-failure", detail=f"检查此文件超时（超过 {limit:g} 秒）",
                        detail_en=f"checking it timed out (over {limit:g} s)")
    return FileReport(path=str(path), readable=False, sha256=_sha256(path), findings=[
        Finding("file-unreadable", "READ.native-failure", Severity.ERROR,
                params={"reason": err.message_zh, "reason_en": err.message_en})])


def _end_overdue(running: dict, holders, seen: dict[int, float], hung: list[int], limit: float,
                 now: float) -> list[int]:
    """The files of ``running`` held by a worker for more than ``limit`` seconds since ``seen`` (noted here
    the first time a file is seen held); each one's worker is killed."""
    import signal

    over = []
    for i, fut in running.items():
        pid = holders[i]
        if not pid or i in hung or fut.done():
            continue
        if now - seen.setdefault(i, now) > limit:
            over.append(i)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))
    return over


def _run_pool(files: list[Path], todo: list[int], workers: int, kwargs: dict,
              finished: Callable[[int, FileReport], None],
              prepare: "Callable[[FileReport], None] | None" = None) -> None:
    """Check ``files[i]`` for each i of ``todo`` in a process pool; a worker that dies or hangs costs its own
    file only. ``prepare`` is called with each report in the worker that made it.

    Each worker notes the files it takes (its pid in ``holders``). A file held longer than
    ``isolate.TIME_LIMIT`` seconds is reported as timed out and its worker killed. When a worker dies every
    unfinished future fails: afterwards the files never started (and, after a kill, every file but the one
    that hung) are run again in a fresh pool, and each file that was in the hands of a worker that died
    (the culprit is one of them) is run again alone: the one that kills its pool again is reported as
    unreadable, the others get their own result.
    """
    import queue
    from concurrent.futures.process import BrokenProcessPool

    from .io import isolate
    from .workers import context, process_pool

    limit = isolate.TIME_LIMIT
    poll = min(1.0, limit / 10)
    pending = list(todo)
    alone: list[int] = []
    while pending or alone:
        solo = not pending
        batch = [alone.pop(0)] if solo else pending
        holders = context().Array("l", len(files), lock=False)
        lost: list[int] = []
        hung: list[int] = []
        done: "queue.SimpleQueue" = queue.SimpleQueue()
        with process_pool(1 if solo else min(workers, len(batch)), initializer=_mark, initargs=(holders,),
                          preload=preload_reader) as pool:
            running = {}
            for i in batch:
                fut = pool.submit(_check_marked, i, files[i], kwargs, prepare)
                running[i] = fut
                fut.add_done_callback(lambda f, i=i: done.put(i))
            seen: dict[int, float] = {}  # when this process first saw each unfinished file held by a worker
            scanned = time.monotonic()
            while running:
                try:
                    i = done.get(timeout=poll)
                except queue.Empty:
                    i = None
                if i is not None:
                    fut = running.pop(i)
                    seen.pop(i, None)
                    if i in hung:
                        continue
                    try:
                        finished(i, fut.result())
                    except BrokenProcessPool:
                        lost.append(i)
                    except Exception as exc:  # anything else that went wrong around the check: this file only
                        finished(i, FileReport(path=str(files[i]), readable=False,
                                               findings=[_failure("check-failed", "CHECK.failed", exc)]))
                if time.monotonic() - scanned >= poll:
                    scanned = time.monotonic()
                    hung.extend(_end_overdue(running, holders, seen, hung, limit, scanned))
        for i in hung:
            finished(i, _timed_out(files[i], limit))
        if solo:
            if lost:
                finished(lost[0], _dead_worker(files[lost[0]]))
            continue
        if hung:  # the culprit is known: everything else goes on as before
            pending = sorted(lost)
            continue
        taken = sorted(i for i in lost if holders[i])
        # nothing taken yet the pool broke (it could not even start): each file alone, never a loop
        pending = [] if not taken else sorted(i for i in lost if not holders[i])
        alone.extend(taken or sorted(lost))


def check_paths(paths: Iterable[str | Path], *, jobs: int = 1, tolerance: "str | Tolerance" = "interval",
                catalogue_dir: str | Path | None = None, progress: Progress | None = None,
                reader: Reader | None = None, exclude: Iterable[str | Path] = (),
                tableset: str | None = None, narrative: str | Path | None = None,
                cache: "ReportCache | None" = None,
                arrived: Callable[[FileReport], None] | None = None,
                prepare: Callable[[FileReport], None] | None = None) -> Report:
    """Check every workbook under ``paths`` (see :func:`collect_paths`), ``jobs`` at a time.

    ``progress(done, total, path)`` is called in this process after each file. ``reader`` replaces
    :func:`xlbudget.reader.read_workbook` (it must be a module-level function when ``jobs > 1``).
    ``narrative`` (one workbook only) is its 情况说明 file; otherwise each workbook's narrative is picked up
    beside it or in its own sheets (see :func:`check_file`).
    With a ``cache`` (:mod:`xlbudget.cache`), a file whose bytes (and its narrative file's), table sets,
    catalogues, tolerance and xlbudget are unchanged since it was last checked is not checked again;
    ``Report.cached`` counts them. ``arrived(report)`` is called in this process with each file's report as
    it comes in (say, to render it while the other files are checked: :meth:`FileReport.prepare_json`).
    ``prepare(report)`` is called with each file's report before that, where the file was checked: in a pool
    worker with ``jobs > 1`` (it must then be picklable: a module-level function, or a ``functools.partial``
    of one), so that what it does (:func:`xlbudget.report.render_ahead`: render the report's part, let go
    of its findings) is done beside the other checks and the findings never cross to this process. With a
    ``cache`` it is called here, once the report is stored with its findings.
    Raises ValueError for a bad tolerance, or for a narrative file given with several workbooks.
    """
    tol = Tolerance.parse(tolerance)
    files = collect_paths(paths, exclude)
    if narrative is not None and len(files) > 1:
        raise ValueError("--narrative applies to one workbook; in a batch, put each narrative beside its "
                         "workbook with the same name")
    start = time.perf_counter()
    results: list[FileReport | None] = [None] * len(files)
    cat = str(catalogue_dir) if catalogue_dir else None
    keys: list[str | None] = [None] * len(files)
    done = 0
    if cache is not None:
        from .cache import cache_key, fingerprint, load_report
        from .narrative_check import companion

        fp = fingerprint(f"{tol}|{tableset or ''}", cat)
        for i, f in enumerate(files):
            sha = _sha256(f)
            if not sha:
                continue
            told = Path(narrative) if narrative else companion(f)
            if told is not None:  # the narrative checked with the workbook is part of what was checked
                sha += ":" + _sha256(told)
            keys[i] = cache_key(sha, fp)
            text = cache.get(keys[i])
            if text is None:
                continue
            try:
                results[i] = load_report(text, f)
            except (ValueError, KeyError, TypeError):
                continue
            done += 1
            if progress:
                progress(done, len(files), f)
    cached = done
    todo = [i for i in range(len(files)) if results[i] is None]

    def finished(i: int, fr: FileReport) -> None:
        nonlocal done
        results[i] = fr
        if cache is not None and keys[i] and not any(x.rule == "CHECK.failed" for x in fr.findings):
            from .cache import dump_report

            cache.put(keys[i], dump_report(fr))
        if prepare is not None and not fr._prepared:  # (not done where it was checked: here, now)
            prepare(fr)
        if arrived is not None:
            arrived(fr)
        done += 1
        if progress:
            progress(done, len(files), files[i])

    if jobs <= 1 or len(todo) <= 1:
        for i in todo:
            finished(i, check_file(files[i], tolerance=tol, catalogue_dir=cat, reader=reader, tableset=tableset,
                                   narrative=narrative))
    else:
        # the largest files first, so that no worker is left with a large one while the others are done
        # (the report keeps the order of the files)
        todo.sort(key=lambda i: -_size(files[i]))
        _run_pool(files, todo, min(jobs, len(todo), max(os.cpu_count() or 1, 1) * 4),
                  dict(tolerance=str(tol), catalogue_dir=cat, reader=reader, tableset=tableset), finished,
                  prepare if cache is None else None)
    reports = [r for r in results if r is not None]
    return Report(files=reports, tolerance=str(tol), catalogue=cat, seconds=time.perf_counter() - start,
                  cached=cached)
