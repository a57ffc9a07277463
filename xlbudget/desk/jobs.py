"""Background checking: every queued submission is checked once, by the library's ``check_file``.

Results come from the shared content-hash cache (:mod:`xlbudget.cache`) when the same bytes were already
checked under the same table sets, rule books, catalogues, tolerance and xlbudget; otherwise a pool of
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
from .db import CachedCheck, Submission, now
from .storage import BlobStore

RESIDUE = "rounding-residue"


def summarise(sub: Submission, fr: FileReport, fp, key: str | None, from_archive: bool) -> None:
    """Copy what the overview and the archive show from a report onto its submission."""
    c = fr.counts
    residues = sum(1 for f in fr.findings if f.kind == RESIDUE)
    meta = fr.meta or {}
    sub.state = "done"
    sub.status = fr.status
    sub.errors, sub.warnings, sub.residues, sub.infos = c["error"], c["warning"], residues, c["info"] - residues
    dept = str(meta.get("department") or "").strip()
    sub.department = dept or None
    try:
        sub.year = int(meta["year"]) if meta.get("year") not in (None, "") else None
    except (TypeError, ValueError):
        sub.year = None
    sub.tableset = str(meta.get("tableset") or "") or None
    version, rules = fp.tableset(sub.tableset)
    sub.tableset_version = str(meta.get("version") or version or "") or None
    sub.rulebook_version = rules or None
    sub.catalogue_version = fp.catalogue
    sub.xlbudget_version = f"{__version__}+{fp.code}"
    sub.cache_key = key
    sub.from_archive = from_archive
    sub.checked_at = now()
    sub.report = dump_report(fr)


class Checker:
    def __init__(self, cfg: DeskConfig, sessions: sessionmaker, blobs: BlobStore):
        self.cfg, self.sessions, self.blobs = cfg, sessions, blobs
        self.fp = fingerprint(cfg.tolerance, cfg.catalogue_dir)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._inflight: dict[Future, int] = {}

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

    def _check_args(self) -> dict:
        return {"tolerance": self.cfg.tolerance,
                "catalogue_dir": str(self.cfg.catalogue_dir) if self.cfg.catalogue_dir else None}

    def _step(self) -> bool:
        taken = set(self._inflight.values())
        with self.sessions() as s:
            queued = [x for x in s.execute(select(Submission.id, Submission.sha256)
                                           .where(Submission.state == "queued").order_by(Submission.id)
                                           .limit(2000)).all() if x.id not in taken]
            hits = []
            for sid, sha in queued:
                key = cache_key(sha, self.fp)
                cached = s.get(CachedCheck, key)
                if cached is not None:
                    hits.append((sid, sha, key, cached.report))
            for sid, sha, key, text in hits:
                sub = s.get(Submission, sid)
                summarise(sub, load_report(text, self.blobs.path(sha)), self.fp, key, True)
            if hits:
                s.commit()
        hit_ids = {h[0] for h in hits}
        todo = [(sid, sha) for sid, sha in queued if sid not in hit_ids]
        if self.cfg.jobs <= 1:
            for sid, sha in todo[:20]:
                self._finish([(sid, sha, check_file(self.blobs.path(sha), **self._check_args()))])
            return bool(todo)
        if todo:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=self.cfg.jobs,
                                                 mp_context=multiprocessing.get_context("spawn"))
            for sid, sha in todo:
                fut = self._pool.submit(check_file, self.blobs.path(sha), **self._check_args())
                fut.sha = sha  # type: ignore[attr-defined]
                self._inflight[fut] = sid
        if not self._inflight:
            return bool(hits)
        done, _ = wait(list(self._inflight), timeout=0.5, return_when=FIRST_COMPLETED)
        results = []
        for fut in done:
            sid = self._inflight.pop(fut)
            try:
                fr = fut.result()
            except Exception as exc:  # the worker died: this file only
                fr = FileReport(path=str(self.blobs.path(fut.sha)),  # type: ignore[attr-defined]
                                findings=[_failure("check-failed", "CHECK.failed", exc)], readable=False)
                if self._pool is not None and getattr(self._pool, "_broken", False):
                    self._pool.shutdown(wait=False, cancel_futures=True)
                    self._pool = None
                    for other, osid in list(self._inflight.items()):   # re-queued on the next step
                        self._inflight.pop(other)
            results.append((sid, fut.sha, fr))  # type: ignore[attr-defined]
        self._finish(results)
        return True

    def _finish(self, results: list[tuple[int, str, FileReport]]) -> None:
        with self.sessions() as s:
            for sid, sha, fr in results:
                key = cache_key(sha, self.fp)
                cacheable = not any(f.rule == "CHECK.failed" for f in fr.findings)
                sub = s.get(Submission, sid)
                summarise(sub, fr, self.fp, key if cacheable else None, False)
                if cacheable and s.get(CachedCheck, key) is None:
                    s.add(CachedCheck(key=key, report=sub.report))
                    s.flush()
            s.commit()

    def recheck(self, sid: int) -> None:
        """Check a submission again (served from the archive when neither file nor rules changed)."""
        with self.sessions() as s:
            sub = s.get(Submission, sid)
            if sub is not None:
                sub.state = "queued"
                s.commit()
        self.wake()
