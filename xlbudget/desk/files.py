"""Downloads (the original, the annotated copy, the reports) and the disclosure built from chosen
submissions."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from ..report import Report, annotate_file
from . import queries
from .core import lang_of
from .db import Build, Submission
from .i18n import translator


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



async def download(request: Request) -> Response:
    desk = request.app.state.desk
    sub, _ = desk.submission(int(request.path_params["sid"]))
    kind = request.path_params["kind"]
    if sub is None:
        return desk.refuse(request, "notfound", 404)
    path = desk.blobs.path(sub.sha256)
    lang = lang_of(request)
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
    work = Path(tempfile.mkdtemp(prefix="desk-", dir=str(desk.cfg.data_dir)))
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


async def build_page(request: Request) -> Response:
    desk = request.app.state.desk
    message = None
    built = None
    if request.method == "POST":
        form = await request.form()
        if not desk.csrf_ok(request, form):
            return desk.refuse(request, "csrf.bad")
        ids = [int(x) for x in form.getlist("sid") if str(x).isdigit()]
        if not ids:
            message = translator(lang_of(request))("build.choose")
        else:
            built = await run_in_threadpool(_build, desk, ids, str(form.get("name") or "").strip(),
                                            form.get("force") == "1", form.get("pdf") == "1")
    with desk.sessions() as s:
        rows, _, _ = queries.overview(s)
        builds = list(s.scalars(select(Build).order_by(Build.id.desc()).limit(20)))
    rows = [r for r in rows if r.latest is not None and r.status not in ("unreadable", "queued")]
    return desk.page(request, "build.html", rows=rows, builds=builds, message=message, built=built)


def _build(desk, ids: list[int], name: str, force: bool, pdf: bool) -> Build:
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
    desk = request.app.state.desk
    bid = int(request.path_params["bid"])
    kind = request.path_params["kind"]
    if kind not in ("xlsx", "pdf"):
        return desk.refuse(request, "notfound", 404)
    path = desk.builds / str(bid) / f"disclosure.{kind}"
    if not path.is_file():
        return desk.refuse(request, "notfound", 404)
    return FileResponse(path, headers=_attachment(f"disclosure-{bid}.{kind}"))
