"""Safe on a shared network: loopback by default, a token for anything else, CSRF on every form."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request

CSRF_COOKIE = "xlbudget_csrf"
SESSION_COOKIE = "xlbudget_session"


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def session_value(token: str) -> str:
    return hmac.new(token.encode(), b"xlbudget-desk-session", hashlib.sha256).hexdigest()


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


def _same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def bearer_ok(request: Request, token: str | None) -> bool:
    if not token:
        return False
    auth = request.headers.get("authorization", "")
    given = auth[7:].strip() if auth.lower().startswith("bearer ") else request.headers.get("x-xlbudget-token")
    return _same(given, token)


def authenticated(request: Request, token: str | None) -> bool:
    if not token:
        return True
    return bearer_ok(request, token) or _same(request.cookies.get(SESSION_COOKIE), session_value(token))


def _foreign_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin:
        return urlsplit(origin).netloc != request.headers.get("host", "")
    return request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none")


def csrf_ok(request: Request, submitted: str | None, token: str | None) -> bool:
    """A state-changing request is accepted when it carries the page's CSRF token (form field or
    ``X-CSRF-Token`` header, equal to the cookie), or the access token in a header, or — for the JSON API
    of a desk without token — when it comes from no browser page at all (no cookie, no foreign origin)."""
    if bearer_ok(request, token):
        return True
    if _same(submitted or request.headers.get("x-csrf-token"), request.cookies.get(CSRF_COOKIE)):
        return not _foreign_origin(request)
    return (not token and request.url.path.startswith("/api/") and not request.cookies
            and "origin" not in request.headers and not _foreign_origin(request))
