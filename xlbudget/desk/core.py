"""One desk: settings, archive, file store, checker, templates; what every page and the API share."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import select
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.templating import Jinja2Templates

from ..report import STATUS
from . import queries, security
from .config import DeskConfig
from .db import Batch, Blob, Submission, open_database
from .i18n import translator
from .intake import UploadRefused, expand, request_too_big, too_many
from .jobs import Checker
from .storage import BlobStore

HERE = Path(__file__).resolve().parent


def lang_of(request: Request) -> str:
    lang = request.query_params.get("lang") or request.cookies.get("xlbudget_lang") or "zh"
    return "en" if lang == "en" else "zh"


def _local_time(d: datetime | None) -> str:
    """A stored time (UTC; SQLite gives it back without zone) in the server's time zone."""
    if d is None:
        return ""
    if d.tzinfo is None:
        d = d.replace(tzinfo=timezone.utc)
    return d.astimezone().strftime("%Y-%m-%d %H:%M")


class Desk:
    """One desk: its settings, archive, file store, checker and page templates."""

    def __init__(self, cfg: DeskConfig):
        self.cfg = cfg
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        self.engine, self.sessions = open_database(cfg.db_url)
        self.blobs = BlobStore(cfg.data_dir)
        self.builds = cfg.data_dir / "builds"
        self.checker = Checker(cfg, self.sessions, self.blobs)
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.templates.env.globals["STATUS"] = STATUS
        self.templates.env.filters["local_time"] = _local_time

    # --- rendering -----------------------------------------------------------------------------------
    def page(self, request: Request, template: str, status_code: int = 200, **ctx: Any) -> Response:
        lang = lang_of(request)
        ctx.update(lang=lang, t=translator(lang), csrf=request.state.csrf, token=bool(self.cfg.token))
        return self.templates.TemplateResponse(request, template, ctx, status_code=status_code)

    def refuse(self, request: Request, key: str, status: int = 403) -> Response:
        text = translator(lang_of(request))(key)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": text}, status_code=status)
        return self.page(request, "message.html", status_code=status, message=text)

    # --- submissions ---------------------------------------------------------------------------------
    async def upload_parts(self, request: Request) -> tuple[list[tuple[str, bytes]], Any]:
        length = request.headers.get("content-length")
        limit = self.cfg.max_upload_bytes
        if length and length.isdigit() and int(length) > limit:
            raise request_too_big(self.cfg)
        seen = [0]

        async def counted() -> dict:   # a body sent without a length (chunked) is counted as it arrives
            message = await request.receive()
            seen[0] += len(message.get("body", b""))
            if seen[0] > limit + 64 * 1024:
                raise request_too_big(self.cfg)
            return message

        try:
            form = await Request(request.scope, counted).form(max_files=self.cfg.max_files + 100, max_fields=self.cfg.max_files + 100,
                                      max_part_size=self.cfg.max_file_bytes)
        except UploadRefused:
            raise
        except Exception as exc:  # starlette's MultiPartException: too many parts, bad encoding
            if "Too many files" in str(exc):
                raise too_many(self.cfg) from None
            raise UploadRefused(f"上传内容无法解析：{exc}", f"the upload cannot be parsed: {exc}", 400) from None
        parts = []
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                parts.append((value.filename or "unnamed.xlsx", await value.read()))
        return parts, form

    def store(self, parts: list[tuple[str, bytes]]) -> dict[str, Any]:
        intake = expand(self.cfg, parts)
        out = []
        with self.sessions() as s:
            batch = Batch(files=len(intake.files), skipped=json.dumps(intake.skipped, ensure_ascii=False))
            s.add(batch)
            s.flush()
            new_blobs = 0
            for name, data in intake.files:
                sha, fresh = self.blobs.put(data)
                if s.get(Blob, sha) is None:
                    s.add(Blob(sha256=sha, size=len(data)))
                    s.flush()
                new_blobs += fresh
                sub = Submission(batch_id=batch.id, sha256=sha, original_name=name, state="queued")
                s.add(sub)
                s.flush()
                out.append({"id": sub.id, "name": name, "sha256": sha})
            s.commit()
            bid = batch.id
        self.checker.wake()
        return {"batch": bid, "accepted": len(out), "stored": new_blobs, "skipped": intake.skipped,
                "submissions": out, "progress": f"/api/batches/{bid}"}

    def batch_progress(self, bid: int) -> dict[str, Any] | None:
        with self.sessions() as s:
            if s.get(Batch, bid) is None:
                return None
            rows = s.execute(select(Submission.state, Submission.status).where(Submission.batch_id == bid)).all()
        done = [r.status for r in rows if r.state == "done"]
        return {"batch": bid, "total": len(rows), "done": len(done),
                "status": {k: done.count(k) for k in STATUS}, "finished": len(done) == len(rows)}

    def submission(self, sid: int) -> tuple[Submission | None, int]:
        """A submission and the number of versions of its department."""
        with self.sessions() as s:
            sub = s.get(Submission, sid)
            if sub is None:
                return None, 0
            return sub, queries.version_count(s, sub.department, sub.year)

    def csrf_ok(self, request: Request, form: Any = None) -> bool:
        value = form.get("csrf") if form is not None else None
        return security.csrf_ok(request, value if isinstance(value, str) else None, self.cfg.token)
