"""Role, CSRF and Origin checks shared by the console's and the monitor's HTTP endpoints."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from server.auth import csrf_ok, origin_allowed
from server.http_api import current_staff, error, services_of
from server.models import Staff

# Reads (GET) need only the session; anything that changes state also needs
# the CSRF token from /api/me in X-CSRF-Token and a same-origin request.
_SAFE_METHODS = frozenset({"GET", "HEAD"})


async def signed_in(request: Request, *, supervisor: bool = False) -> Staff | JSONResponse:
    """The signed-in staff member, or the error response to return instead."""
    found = await current_staff(request)
    if found is None:
        return error(401, "unauthenticated", "sign in first")
    staff, csrf = found
    if request.method not in _SAFE_METHODS:
        if not origin_allowed(request.headers, request.url.scheme, services_of(request).settings):
            return error(403, "bad_origin", "request from a foreign origin")
        if not csrf_ok(csrf, request.headers):
            return error(403, "bad_csrf", "missing or wrong CSRF token")
    if supervisor and not staff.is_supervisor:
        return error(403, "forbidden", "supervisors only")
    return staff
