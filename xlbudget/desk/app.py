"""The desk's web application (Starlette, server-rendered Jinja2 templates; no build step): routes, the
access guard, the background checker's lifetime."""

from __future__ import annotations

import contextlib

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from . import api, files, pages, security
from .config import DeskConfig
from .core import HERE, Desk, lang_of
from .i18n import translator


def create_app(cfg: DeskConfig | None = None) -> Starlette:
    cfg = cfg or DeskConfig()
    desk = Desk(cfg)

    class Guard(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next):
            request.state.csrf = request.cookies.get(security.CSRF_COOKIE) or security.new_csrf()
            path = request.url.path
            if cfg.token and not (path.startswith("/static/") or path == "/login") and \
                    not security.authenticated(request, cfg.token):
                if path.startswith("/api/"):
                    return JSONResponse({"error": translator(lang_of(request))("auth.needed")}, status_code=401)
                return RedirectResponse("/login", status_code=303)
            response = await call_next(request)
            if security.CSRF_COOKIE not in request.cookies:
                response.set_cookie(security.CSRF_COOKIE, request.state.csrf, httponly=True, samesite="strict")
            if "lang" in request.query_params and request.query_params["lang"] in ("zh", "en"):
                response.set_cookie("xlbudget_lang", request.query_params["lang"], samesite="lax")
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            return response

    @contextlib.asynccontextmanager
    async def lifespan(app):
        desk.checker.start()
        try:
            yield
        finally:
            desk.checker.stop()
            desk.engine.dispose()

    routes = [
        Route("/", pages.overview),
        Route("/submissions/{sid:int}", pages.submission),
        Route("/submissions/{sid:int}/recheck", pages.recheck, methods=["POST"]),
        Route("/submissions/{sid:int}/download/{kind}", files.download),
        Route("/department", pages.department),
        Route("/archive", pages.archive),
        Route("/expected", pages.expected, methods=["GET", "POST"]),
        Route("/build", files.build_page, methods=["GET", "POST"]),
        Route("/builds/{bid:int}/{kind}", files.build_file),
        Route("/login", pages.login, methods=["GET", "POST"]),
        Route("/healthz", api.health),
        Route("/api/submissions", api.submit, methods=["POST"]),
        Route("/api/submissions/{sid:int}", api.submission),
        Route("/api/batches/{bid:int}", api.batch),
        Route("/api/overview", api.overview),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(Guard)], lifespan=lifespan)
    app.state.desk = desk
    return app
