"""The JSON API: submit files, follow a batch, read a submission and the overview."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from . import queries
from .core import lang_of
from .intake import UploadRefused


async def submit(request: Request) -> Response:
    desk = request.app.state.desk
    lang = lang_of(request)
    if not desk.csrf_ok(request):           # before the body is read: a forged request costs no parsing
        return desk.refuse(request, "csrf.bad")
    try:
        parts, _ = await desk.upload_parts(request)
    except UploadRefused as e:
        return JSONResponse({"error": e.message(lang)}, status_code=e.status)
    try:
        result = await run_in_threadpool(desk.store, parts)
    except UploadRefused as e:
        return JSONResponse({"error": e.message(lang)}, status_code=e.status)
    return JSONResponse(result, status_code=201)


async def batch(request: Request) -> Response:
    desk = request.app.state.desk
    p = desk.batch_progress(int(request.path_params["bid"]))
    return JSONResponse(p) if p else JSONResponse({"error": "not found"}, status_code=404)


async def submission(request: Request) -> Response:
    desk = request.app.state.desk
    sub, _ = desk.submission(int(request.path_params["sid"]))
    if sub is None:
        return JSONResponse({"error": "not found"}, status_code=404)
    fr = queries.report_of(sub)
    return JSONResponse({"id": sub.id, "name": sub.original_name, "sha256": sub.sha256, "state": sub.state,
                         "department": sub.department, "year": sub.year, "status": sub.status,
                         "from_archive": sub.from_archive,
                         "report": fr.to_dict(lang_of(request)) if fr else None})


async def overview(request: Request) -> Response:
    desk = request.app.state.desk
    with desk.sessions() as s:
        rows, unfiled, pending = queries.overview(s)
    return JSONResponse({"pending": pending, "departments": [
        {"department": r.department, "year": r.year, "status": r.status, "versions": r.versions,
         "errors": r.errors, "warnings": r.warnings, "residues": r.residues, "latest": r.latest}
        for r in rows], "unfiled": [{"id": u.id, "name": u.original_name, "status": u.status} for u in unfiled]})


async def health(request: Request) -> Response:
    return PlainTextResponse("ok")
