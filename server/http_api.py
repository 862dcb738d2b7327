"""HTTP endpoints: health, readiness, staff login/logout, public line info."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.auth import (
    SESSION_COOKIE,
    csrf_ok,
    origin_allowed,
    staff_from_cookie,
    verify_password,
)
from server.models import Line, Staff
from server.services import Services

log = structlog.get_logger(__name__)

# Usernames and passwords beyond these lengths are refused before hashing, so a
# huge body cannot make argon2 burn CPU.
MAX_USERNAME = 64
MAX_PASSWORD = 256


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    try:
        await services_of(request).store.ping()
    except Exception:  # any failure means not ready, whatever its kind
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    bus_ok = getattr(services_of(request).bus, "healthy", True)
    # A process without Redis still serves its own sockets: degraded, yet ready.
    return JSONResponse({"status": "ok", "database": "ok", "bus": "ok" if bus_ok else "degraded"})


async def json_body(request: Request, limit: int = 16384) -> dict[str, Any] | None:
    """The request's JSON object, or None (too big, not JSON, not an object)."""
    body = await request.body()
    if len(body) > limit:
        return None
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


async def login(request: Request) -> Response:
    services = services_of(request)
    settings = services.settings
    if not origin_allowed(request.headers, request.url.scheme, settings):
        return error(403, "bad_origin", "request from a foreign origin")
    body = await json_body(request, limit=8192)
    if body is None:
        return error(400, "bad_request", "send JSON with username and password")
    username, password = body.get("username"), body.get("password")
    if not (isinstance(username, str) and isinstance(password, str)) or not (
        0 < len(username) <= MAX_USERNAME and 0 < len(password) <= MAX_PASSWORD
    ):
        return error(400, "bad_request", "send JSON with username and password")
    record = await services.store.login_record(username)
    locked = await services.store.pool.fetchval(
        "SELECT locked_until > now() FROM staff WHERE username = $1", username
    )
    if locked:
        return error(429, "locked", "too many failed sign-ins; try again later")
    if not await verify_password(record["password_hash"] if record else None, password):
        if record is not None:
            await services.store.record_login_failure(
                record["id"], settings.login_max_failures, settings.login_lockout_s
            )
        log.info("login_failed")
        return error(401, "bad_credentials", "wrong username or password")
    assert record is not None
    await services.store.record_login_success(record["id"])
    token, csrf = await services.store.create_session(record["id"], settings.session_ttl_s)
    staff = await services.store.staff_by_id(record["id"])
    assert staff is not None
    await services.store.audit(staff.id, "login")
    log.info("login", staff_id=staff.id)
    response = JSONResponse({"staff": staff.public(), "csrf_token": csrf})
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(settings.session_ttl_s),
        httponly=True,
        samesite="strict",
        # Behind a TLS proxy the app sees http; the public URL says what callers use.
        secure=request.url.scheme == "https" or (settings.public_url or "").startswith("https://"),
        path="/",
    )
    return response


async def current_staff(request: Request) -> tuple[Staff, str] | None:
    return await staff_from_cookie(services_of(request).store, request.cookies)


async def me(request: Request) -> Response:
    found = await current_staff(request)
    if found is None:
        return error(401, "unauthenticated", "sign in first")
    staff, csrf = found
    return JSONResponse({"staff": staff.public(), "csrf_token": csrf})


async def logout(request: Request) -> Response:
    found = await current_staff(request)
    if found is None:
        return error(401, "unauthenticated", "sign in first")
    if not csrf_ok(found[1], request.headers):
        return error(403, "bad_csrf", "missing or wrong CSRF token")
    await services_of(request).store.delete_session(request.cookies[SESSION_COOKIE])
    response = JSONResponse({"status": "signed_out"})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def public_line(request: Request) -> Response:
    services = services_of(request)
    line = await services.store.get_line(request.path_params["line_id"])
    if line is None:
        return error(404, "unknown_line", "no such line")
    return JSONResponse(_with_hours(services, line))


async def public_lines(request: Request) -> Response:
    services = services_of(request)
    lines = await services.store.list_lines()
    return JSONResponse({"lines": [_with_hours(services, line) for line in lines]})


def _with_hours(services: Services, line: Line) -> dict[str, Any]:
    """A line's public info plus whether it is open now and its opening hours."""
    info = line.public()
    info["retention_days"] = services.settings.retention_days
    state = services.extras.get("rota_state")
    if state is not None:
        info["open_now"] = state.line_open(line.id, datetime.now(UTC))
        info["opening_hours"] = state.opening_hours(line.id)
    return info
