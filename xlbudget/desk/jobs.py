"""Background checking: every queued submission is checked once, by the library's ``check_file``.

Results come from the archive when the same bytes were already checked under the same table sets, rule
books, catalogues, tolerance and xlbudget (the key of the shared content-hash cache, :mod:`xlbudget.cache`,
stored on each submission); otherwise a pool of
``jobs`` processes checks them (``jobs=1``: a thread of the server). One bad file never stops the others:
``check_file`` turns whatever goes wrong into that file's findings, and a worker that dies costs its file.
Nothing is lost on a restart: a submission is ``queued`` until its result is committed.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from .. import __version__
from ..cache import cache_key, dump_report, fingerprint, load_report
from ..check import _failure, check_file
from ..report import FileReport
from .config import DeskConfig
from .db import Submission, now
from .storage import BlobStore

RESIDUE = "rounding-residue"


def summary(fr: FileReport) -> dict:
    """What the overview and the archive show of a report (computed where the check ran)."""
    c = fr.counts
    residues = sum(1 for f in fr.findings if f.kind == RESIDUE)
    meta = fr.meta or {}
    try:
        year = int(meta["year"]) if meta.get("year") not in (None, "") else None
    except (TypeError, ValueError):
        year = None
    return {"status": fr.status, "errors": c["error"], "warnings": c["warning"], "residues": residues,
            "infos": c["info"] - residues, "department": str(meta.get("department") or "").strip() or None,
            "year": year, "tableset": str(meta.get("tableset") or "") or None,
            "tableset_version": str(meta.get("version") or "") or None,
            "cacheable": not any(f.rule == "CHECK.failed" for f in fr.findings)}


def check_to_archive(path: str, tolerance: str, catalogue_dir: str | None) -> tuple[dict, str]:
    """Check one stored file; its summary and report text (the work of a checking process)."""
    fr = check_file(path, tolerance=tolerance, catalogue_dir=catalogue_dir)
    return summary(fr), dump_report(fr)


def file_away(sub: Submission, info: dict, text: str, fp, key: str, from_archive: bool) -> None:
    """Put a result on its submission, with the versions of what judged it."""
    sub.state = "done"
    for k in ("status", "errors", "warnings", "residues", "infos", "department", "year", "tableset"):
        setattr(sub, k, info[k])
    version, rules = fp.tableset(sub.tableset)
    sub.tableset_version = info["tableset_version"] or version or None
    sub.rulebook_version = rules or None
    sub.catalogue_version = fp.catalogue
    sub.xlbudget_version = f"{__version__}+{fp.code}"
    sub.cache_key = key if info["cacheable"] else None
    sub.from_archive = from_archive
    sub.checked_at = now()
    sub.report = text


class Checker:
    def __init__(self, cfg: DeskConfig, sessions: sessionmaker, blobs: BlobStore):
        self.cfg, self.sessions, self.blobs = cfg, sessions, blobs
        self.fp = fingerprint(cfg.tolerance, cfg.catalogue_dir)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._inflight: dict[Future, tuple[int, str]] = {}

    # --- control -------------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="xlbudget-desk-checker", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    # --- work ----------------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self._step()
            except Exception:  # the database went away for a moment: try again shortly
                busy = False
            if not busy:
                self._wake.wait(timeout=1.0)
                self._wake.clear()

    def _check_args(self) -> tuple[str, str | None]:
        return self.cfg.tolerance, str(self.cfg.catalogue_dir) if self.cfg.catalogue_dir else None

    def _step(self) -> bool:
        taken = {sid for sid, _ in self._inflight.values()}
        todo = []
        with self.sessions() as s:
            queued = [x for x in s.execute(select(Submission.id, Submission.sha256)
                                           .where(Submission.state == "queued").order_by(Submission.id)
                                           .limit(2000)).all() if x.id not in taken]
            served = 0
            for sid, sha in queued:
                key = cache_key(sha, self.fp)
                # any version with this key, the submission itself included when it is checked again
                text = s.scalar(select(Submission.report).where(Submission.cache_key == key,
                                                                  Submission.report.is_not(None)).limit(1))
                if text is None:
                    todo.append((sid, sha))
                    continue
                info = summary(load_report(text, self.blobs.path(sha)))
                file_away(s.get(Submission, sid), info, text, self.fp, key, True)
                served += 1
            if served:
                s.commit()
        args = self._check_args()
        if self.cfg.jobs <= 1:
            self._finish([(sid, sha, check_to_archive(str(self.blobs.path(sha)), *args)) for sid, sha in todo[:20]])
            return bool(todo) or bool(served)
        if todo:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=self.cfg.jobs,
                                                 mp_context=multiprocessing.get_context("spawn"))
            for sid, sha in todo:
                fut = self._pool.submit(check_to_archive, str(self.blobs.path(sha)), *args)
                self._inflight[fut] = (sid, sha)
        if not self._inflight:
            return bool(served)
        done, _ = wait(list(self._inflight), timeout=0.5, return_when=FIRST_COMPLETED)
        results = []
        for fut in done:
            sid, sha = self._inflight.pop(fut)
            try:
                result = fut.result()
            except Exception as exc:  # the worker died: this file only
                fr = FileReport(path=str(self.blobs.path(sha)),
                                findings=[_failure("check-failed", "CHECK.failed", exc)], readable=False)
                result = (summary(fr), dump_report(fr))
                if self._pool is not None and getattr(self._pool, "_broken", False):
                    self._pool.shutdown(wait=False, cancel_futures=True)
                    self._pool = None
                    self._inflight.clear()          # still queued: checked again by a new pool
            results.append((sid, sha, result))
        self._finish(results)
        return True

    def _finish(self, results: list[tuple[int, str, tuple[dict, str]]]) -> None:
        with self.sessions() as s:
            for sid, sha, (info, text) in results:
                file_away(s.get(Submission, sid), info, text, self.fp, cache_key(sha, self.fp), False)
            s.commit()

    def recheck(self, sid: int) -> None:
        """Check a submission again (served from the archive when neither file nor rules changed)."""
        with self.sessions() as s:
            sub = s.get(Submission, sid)
            if sub is not None:
                sub.state = "queued"
                s.commit()
        self.wake()
