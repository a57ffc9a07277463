"""The desk's pages and JSON API (Starlette, server-rendered Jinja2 templates; no build step)."""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ..report import STATUS, Report, annotate_file, finding_dict
from . import queries, security
from .config import DeskConfig
from .db import Batch, Blob, Build, Expected, Submission, open_database
from .i18n import translator
from .intake import UploadRefused, expand, request_too_big, too_many
from .jobs import Checker
from .sheets import draw
from .storage import BlobStore

HERE = Path(__file__).resolve().parent


def _lang(request: Request) -> str:
    lang = request.query_params.get("lang") or request.cookies.get("xlbudget_lang") or "zh"
    return "en" if lang == "en" else "zh"


def _download_name(name: str, suffix: str = "") -> str:
    """The base name a sender gave, for Content-Disposition only (never a path)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1] or "submission.xlsx"
    if suffix:
        stem = base.rsplit(".", 1)[0]
        base = stem + suffix
    return base


def _attachment(name: str) -> dict[str, str]:
    ascii_name = "".join(c if c.isascii() and c.isalnum() or c in "._-" else "_" for c in name) or "download"
    return {"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"}


def _local_time(d: datetime | None) -> str:
    """A stored time (UTC; SQLite gives it back without zone) in the server's time zone."""
    if d is None:
        return ""
    if d.tzinfo is None:
        d = d.replace(tzinfo=timezone.utc)
    return d.astimezone().strftime("%Y-%m-%d %H:%M")


class _Desk:
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
        lang = _lang(request)
        ctx.update(lang=lang, t=translator(lang), csrf=request.state.csrf, token=bool(self.cfg.token))
        return self.templates.TemplateResponse(request, template, ctx, status_code=status_code)

    def refuse(self, request: Request, key: str, status: int = 403) -> Response:
        text = translator(_lang(request))(key)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": text}, status_code=status)
        return self.page(request, "message.html", status_code=status, message=text)

    # --- submissions ---------------------------------------------------------------------------------
    async def _parts(self, request: Request) -> tuple[list[tuple[str, bytes]], Any]:
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


def create_app(cfg: DeskConfig | None = None) -> Starlette:
    cfg = cfg or DeskConfig()
    desk = _Desk(cfg)

    class Guard(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next):
            request.state.csrf = request.cookies.get(security.CSRF_COOKIE) or security.new_csrf()
            path = request.url.path
            if cfg.token and not (path.startswith("/static/") or path == "/login") and \
                    not security.authenticated(request, cfg.token):
                if path.startswith("/api/"):
                    return JSONResponse({"error": translator(_lang(request))("auth.needed")}, status_code=401)
                return RedirectResponse("/login", status_code=303)
            response = await call_next(request)
            if security.CSRF_COOKIE not in request.cookies:
                response.set_cookie(security.CSRF_COOKIE, request.state.csrf, httponly=True, samesite="strict")
            if "lang" in request.query_params and request.query_params["lang"] in ("zh", "en"):
                response.set_cookie("xlbudget_lang", request.query_params["lang"], samesite="lax")
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            return response

    def csrf(request: Request, form: Any = None) -> bool:
        value = form.get("csrf") if form is not None else None
        return security.csrf_ok(request, value if isinstance(value, str) else None, cfg.token)

    # --- pages ---------------------------------------------------------------------------------------
    async def overview(request: Request) -> Response:
        with desk.sessions() as s:
            rows, unfiled, pending = await run_in_threadpool(queries.overview, s)
        group = request.query_params.get("status", "all")
        q = request.query_params.get("q", "").strip()
        year = request.query_params.get("year", "")
        years = sorted({r.year for r in rows if r.year is not None}, reverse=True)
        counts = {k: sum(1 for r in rows if r.group == k) for k in ("passed", "errors", "unreadable", "missing",
                                                                      "queued")}
        shown = [r for r in rows if (group == "all" or r.group == group) and (not q or q in r.department)
                 and (not year or str(r.year) == year or r.year is None)]
        return desk.page(request, "overview.html", rows=shown, total=len(rows), counts=counts, group=group, q=q,
                         year=year, years=years, unfiled=unfiled, pending=pending, limits=cfg)

    def _submission(sid: int):
        with desk.sessions() as s:
            sub = s.get(Submission, sid)
            if sub is None:
                return None, 0
            return sub, queries.version_count(s, sub.department, sub.year)

    async def submission(request: Request) -> Response:
        sub, nversions = _submission(int(request.path_params["sid"]))
        if sub is None:
            return desk.refuse(request, "notfound", 404)
        fr = queries.report_of(sub)
        lang = _lang(request)
        groups: dict[str, list[tuple[str, list[dict]]]] = {"main": [], "minor": []}
        drawn: dict[str, list] = {"main": [], "minor": []}
        if fr is not None:
            for f in fr.sorted_findings():
                part = "minor" if f.severity.value == "info" else "main"
                title = fr.table_title(f.table, lang) if f.table else translator(lang)("whole_file")
                d = finding_dict(f, lang, fr)
                if not groups[part] or groups[part][-1][0] != title:
                    groups[part].append((title, []))
                groups[part][-1][1].append(d)
            drawn = await run_in_threadpool(draw, desk.blobs.path(sub.sha256), fr)
        return desk.page(request, "submission.html", sub=sub, fr=fr, groups=groups, drawn=drawn,
                         versions=nversions)

    async def recheck(request: Request) -> Response:
        form = await request.form()
        if not csrf(request, form):
            return desk.refuse(request, "csrf.bad")
        sid = int(request.path_params["sid"])
        desk.checker.recheck(sid)
        return RedirectResponse(f"/submissions/{sid}", status_code=303)

    async def department(request: Request) -> Response:
        name = request.query_params.get("name", "")
        year = request.query_params.get("year")
        y = int(year) if year and year.isdigit() else None
        with desk.sessions() as s:
            subs = queries.versions(s, name, y)
        if not subs:
            return desk.refuse(request, "notfound", 404)
        done = [x for x in subs if x.report]
        ids = [x.id for x in done]
        a = int(request.query_params.get("a", 0) or 0)
        b = int(request.query_params.get("b", 0) or 0)
        if len(ids) >= 2 and (a not in ids or b not in ids):
            a, b = ids[-2], ids[-1]
        diff = None
        if a in ids and b in ids:
            ra = queries.report_of(next(x for x in done if x.id == a))
            rb = queries.report_of(next(x for x in done if x.id == b))
            diff = queries.compare(ra, rb)
        return desk.page(request, "department.html", name=name, year=y, subs=subs, a=a, b=b, diff=diff)

    async def archive(request: Request) -> Response:
        page = max(int(request.query_params.get("page", 1) or 1), 1)
        per = 200
        with desk.sessions() as s:
            subs = list(s.scalars(select(Submission).order_by(Submission.id.desc())
                                  .offset((page - 1) * per).limit(per + 1)))
        return desk.page(request, "archive.html", subs=subs[:per], page=page, more=len(subs) > per)

    # --- downloads -----------------------------------------------------------------------------------
    async def download(request: Request) -> Response:
        sub, _ = _submission(int(request.path_params["sid"]))
        kind = request.path_params["kind"]
        if sub is None:
            return desk.refuse(request, "notfound", 404)
        path = desk.blobs.path(sub.sha256)
        lang = _lang(request)
        if kind == "original":
            return FileResponse(path, headers=_attachment(_download_name(sub.original_name)),
                                media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        fr = queries.report_of(sub)
        if fr is None:
            return desk.refuse(request, "notfound", 404)
        if kind == "report.json":
            body = Report(files=[fr]).to_json(lang)
            return Response(body, media_type="application/json",
                            headers=_attachment(_download_name(sub.original_name, ".check.json")))
        work = Path(tempfile.mkdtemp(prefix="desk-", dir=str(cfg.data_dir)))
        try:
            if kind == "report.xlsx":
                out = work / "report.xlsx"
                await run_in_threadpool(Report(files=[fr]).write_xlsx, out, lang)
                name = _download_name(sub.original_name, ".check.xlsx")
            elif kind == "annotated":
                out = work / "annotated.xlsx"
                ok = await run_in_threadpool(annotate_file, path, out, fr, lang)
                if not ok:
                    return desk.refuse(request, "notfound", 404)
                name = _download_name(sub.original_name, ".checked.xlsx")
            else:
                return desk.refuse(request, "notfound", 404)
            data = out.read_bytes()
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers=_attachment(name))

    # --- expected list -------------------------------------------------------------------------------
    async def expected(request: Request) -> Response:
        if request.method == "POST":
            try:
                parts, form = await desk._parts(request)
            except UploadRefused as e:
                return desk.page(request, "message.html", status_code=e.status, message=e.message(_lang(request)))
            if not csrf(request, form):
                return desk.refuse(request, "csrf.bad")
            names = [x.strip() for x in str(form.get("names") or "").splitlines()]
            for fname, data in parts:
                names += _names_from_file(fname, data)
            names = list(dict.fromkeys(n for n in names if n))
            with desk.sessions() as s:
                for e in s.scalars(select(Expected)):
                    s.delete(e)
                s.flush()
                for n in names:
                    s.add(Expected(department=n))
                s.commit()
            return RedirectResponse("/?status=missing" if names else "/", status_code=303)
        with desk.sessions() as s:
            names = [e.department for e in s.scalars(select(Expected).order_by(Expected.id))]
        return desk.page(request, "expected.html", names=names)

    # --- build ---------------------------------------------------------------------------------------
    async def build_page(request: Request) -> Response:
        message = None
        built = None
        if request.method == "POST":
            form = await request.form()
            if not csrf(request, form):
                return desk.refuse(request, "csrf.bad")
            ids = [int(x) for x in form.getlist("sid") if str(x).isdigit()]
            if not ids:
                message = translator(_lang(request))("build.choose")
            else:
                built = await run_in_threadpool(_build, ids, str(form.get("name") or "").strip(),
                                                form.get("force") == "1", form.get("pdf") == "1")
        with desk.sessions() as s:
            rows, _, _ = queries.overview(s)
            builds = list(s.scalars(select(Build).order_by(Build.id.desc()).limit(20)))
        rows = [r for r in rows if r.latest is not None and r.status not in ("unreadable", "queued")]
        return desk.page(request, "build.html", rows=rows, builds=builds, message=message, built=built)

    def _build(ids: list[int], name: str, force: bool, pdf: bool) -> Build:
        from ..build import BuildError, build
        from ..errors import XlbudgetError

        with desk.sessions() as s:
            subs = [s.get(Submission, i) for i in ids]
            subs = [x for x in subs if x is not None]
            rec = Build(name=name, submissions=json.dumps([x.id for x in subs]), forced=force)
            s.add(rec)
            s.flush()
            folder = desk.builds / str(rec.id)
            folder.mkdir(parents=True, exist_ok=True)
            try:
                result = build([desk.blobs.path(x.sha256) for x in subs], folder / "disclosure.xlsx",
                               name=name or None, force=force, pdf=folder / "disclosure.pdf" if pdf else None)
                rec.ok = True
                rec.has_pdf = result.pdf is not None and Path(result.pdf).exists()
                rec.message = "\n".join(result.notes + ([result.pdf_error] if result.pdf_error else []))
            except (BuildError, XlbudgetError, ValueError) as e:
                rec.message = str(e)
            s.commit()
            return rec

    async def build_file(request: Request) -> Response:
        bid = int(request.path_params["bid"])
        kind = request.path_params["kind"]
        if kind not in ("xlsx", "pdf"):
            return desk.refuse(request, "notfound", 404)
        path = desk.builds / str(bid) / f"disclosure.{kind}"
        if not path.is_file():
            return desk.refuse(request, "notfound", 404)
        return FileResponse(path, headers=_attachment(f"disclosure-{bid}.{kind}"))

    # --- access --------------------------------------------------------------------------------------
    async def login(request: Request) -> Response:
        bad = False
        if request.method == "POST":
            form = await request.form()
            if cfg.token and security._same(str(form.get("token") or ""), cfg.token):
                resp = RedirectResponse("/", status_code=303)
                resp.set_cookie(security.SESSION_COOKIE, security.session_value(cfg.token), httponly=True,
                                samesite="strict")
                return resp
            bad = True
        return desk.page(request, "login.html", status_code=401 if bad else 200, bad=bad)

    # --- JSON API ------------------------------------------------------------------------------------
    async def api_submit(request: Request) -> Response:
        lang = _lang(request)
        if not csrf(request):           # before the body is read: a forged request costs no parsing
            return desk.refuse(request, "csrf.bad")
        try:
            parts, _ = await desk._parts(request)
        except UploadRefused as e:
            return JSONResponse({"error": e.message(lang)}, status_code=e.status)
        try:
            result = await run_in_threadpool(desk.store, parts)
        except UploadRefused as e:
            return JSONResponse({"error": e.message(lang)}, status_code=e.status)
        return JSONResponse(result, status_code=201)

    async def api_batch(request: Request) -> Response:
        p = desk.batch_progress(int(request.path_params["bid"]))
        return JSONResponse(p) if p else JSONResponse({"error": "not found"}, status_code=404)

    async def api_submission(request: Request) -> Response:
        sub, _ = _submission(int(request.path_params["sid"]))
        if sub is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        fr = queries.report_of(sub)
        return JSONResponse({"id": sub.id, "name": sub.original_name, "sha256": sub.sha256, "state": sub.state,
                             "department": sub.department, "year": sub.year, "status": sub.status,
                             "from_archive": sub.from_archive,
                             "report": fr.to_dict(_lang(request)) if fr else None})

    async def api_overview(request: Request) -> Response:
        with desk.sessions() as s:
            rows, unfiled, pending = queries.overview(s)
        return JSONResponse({"pending": pending, "departments": [
            {"department": r.department, "year": r.year, "status": r.status, "versions": r.versions,
             "errors": r.errors, "warnings": r.warnings, "residues": r.residues, "latest": r.latest}
            for r in rows], "unfiled": [{"id": u.id, "name": u.original_name, "status": u.status} for u in unfiled]})

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    @contextlib.asynccontextmanager
    async def lifespan(app):
        desk.checker.start()
        try:
            yield
        finally:
            desk.checker.stop()
            desk.engine.dispose()

    routes = [
        Route("/", overview),
        Route("/submissions/{sid:int}", submission),
        Route("/submissions/{sid:int}/recheck", recheck, methods=["POST"]),
        Route("/submissions/{sid:int}/download/{kind}", download),
        Route("/department", department),
        Route("/archive", archive),
        Route("/expected", expected, methods=["GET", "POST"]),
        Route("/build", build_page, methods=["GET", "POST"]),
        Route("/builds/{bid:int}/{kind}", build_file),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/healthz", health),
        Route("/api/submissions", api_submit, methods=["POST"]),
        Route("/api/submissions/{sid:int}", api_submission),
        Route("/api/batches/{bid:int}", api_batch),
        Route("/api/overview", api_overview),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(Guard)], lifespan=lifespan)
    app.state.desk = desk
    return app


def _names_from_file(name: str, data: bytes) -> list[str]:
    """Department names from an uploaded list: first column of a .xlsx, else one per line (.txt / .csv)."""
    if name.lower().endswith((".xlsx", ".xlsm")):
        import io
        import warnings

        import openpyxl

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            ws = wb.worksheets[0]
            return [str(r[0]).strip() for r in ws.iter_rows(values_only=True, max_col=1) if r and r[0]]
        except Exception:
            return []
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        return []
    return [line.split(",")[0].strip().strip('"') for line in text.splitlines()]
