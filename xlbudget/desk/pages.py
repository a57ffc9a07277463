"""The clerk's pages: overview, a submission, a department's versions, the archive, the expected list,
the login of a desk with a token."""

from __future__ import annotations

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..report import finding_dict
from . import queries, security
from .core import lang_of
from .db import Expected, Submission
from .i18n import translator
from .intake import UploadRefused
from .sheets import draw


async def overview(request: Request) -> Response:
    desk = request.app.state.desk
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
                     year=year, years=years, unfiled=unfiled, pending=pending, limits=desk.cfg)


async def submission(request: Request) -> Response:
    desk = request.app.state.desk
    sub, nversions = desk.submission(int(request.path_params["sid"]))
    if sub is None:
        return desk.refuse(request, "notfound", 404)
    fr = queries.report_of(sub)
    lang = lang_of(request)
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
    desk = request.app.state.desk
    form = await request.form()
    if not desk.csrf_ok(request, form):
        return desk.refuse(request, "csrf.bad")
    sid = int(request.path_params["sid"])
    desk.checker.recheck(sid)
    return RedirectResponse(f"/submissions/{sid}", status_code=303)


async def department(request: Request) -> Response:
    desk = request.app.state.desk
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
    desk = request.app.state.desk
    page = max(int(request.query_params.get("page", 1) or 1), 1)
    per = 200
    with desk.sessions() as s:
        subs = list(s.scalars(select(Submission).order_by(Submission.id.desc())
                              .offset((page - 1) * per).limit(per + 1)))
    return desk.page(request, "archive.html", subs=subs[:per], page=page, more=len(subs) > per)


async def expected(request: Request) -> Response:
    desk = request.app.state.desk
    if request.method == "POST":
        try:
            parts, form = await desk.upload_parts(request)
        except UploadRefused as e:
            return desk.page(request, "message.html", status_code=e.status, message=e.message(lang_of(request)))
        if not desk.csrf_ok(request, form):
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


async def login(request: Request) -> Response:
    desk = request.app.state.desk
    bad = False
    if request.method == "POST":
        form = await request.form()
        if desk.cfg.token and security._same(str(form.get("token") or ""), desk.cfg.token):
            resp = RedirectResponse("/", status_code=303)
            resp.set_cookie(security.SESSION_COOKIE, security.session_value(desk.cfg.token), httponly=True,
                            samesite="strict")
            return resp
        bad = True
    return desk.page(request, "login.html", status_code=401 if bad else 200, bad=bad)


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
