"""The Starlette application: lifespan wiring, routes, security headers."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import asyncpg
import structlog
from starlette.applications import Starlette
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import cases, http_api, periodic, retention, rota_api, rota_jobs, wait_watch
from server.bus import make_bus
from server.bus.presence import make_presence_board
from server.caller_ws import caller_endpoint
from server.config import Settings
from server.console_routes import console_routes
from server.embedded_pg import start_embedded
from server.hub import Hub
from server.migrate import apply_migrations
from server.models import Staff
from server.rota_state import RotaState
from server.services import Services
from server.staff_ws import staff_endpoint
from server.store import Store

log = structlog.get_logger(__name__)

STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; media-src 'self' data:; frame-ancestors 'none'; base-uri 'none';"
    " form-action 'self'; object-src 'none'"
)
# The caller panel is embedded by helplines' own sites, which we cannot list.
PANEL_CSP = STRICT_CSP.replace("frame-ancestors 'none'", "frame-ancestors *")


def static_dir() -> Path:
    return Path(str(resources.files("widget") / "static"))


class SecurityHeaders:
    """Adds CSP and friends to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                csp = PANEL_CSP if path.startswith("/widget/") else STRICT_CSP
                headers += [
                    (b"content-security-policy", csp.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"permissions-policy", b"geolocation=(), camera=(), microphone=()"),
                    (b"cache-control", b"no-store")
                    if path.startswith("/api/")
                    else (b"x-helpline", b"1"),
                ]
                if not path.startswith("/widget/"):
                    headers.append((b"x-frame-options", b"DENY"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


async def open_services(settings: Settings) -> Services:
    embedded: Any = None
    database_url = settings.database_url
    if database_url is None:
        database_url, embedded = start_embedded(settings.data_dir)
        log.info("embedded_postgres_started", data_dir=str(settings.data_dir))
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=20, command_timeout=10)
    assert pool is not None
    async with pool.acquire() as conn:
        applied = await apply_migrations(conn)
    if applied:
        log.info("migrations_applied", names=applied)
    store = Store(pool)
    bus = await make_bus(settings.redis_url)
    hub = Hub(settings, store, bus, presence_board=make_presence_board(settings.redis_url))
    services = Services(settings, pool, store, bus, hub, embedded)
    services.extras["database_url"] = database_url
    return services


async def close_services(services: Services) -> None:
    await services.hub.stop()
    await services.hub.presence_board.close()
    await services.bus.close()
    await services.pool.close()


async def install_rota(services: Services) -> RotaState:
    """Load the rota in force and let it decide who may be offered conversations."""
    state = RotaState()
    await state.refresh(services.store)
    services.extras["rota_state"] = state
    services.extras["rota"] = lambda: state.rota

    def may_take_calls(staff: Staff, now: float) -> bool:
        return state.may_take_calls(staff.username, datetime.fromtimestamp(now, UTC))

    services.hub.may_take_calls = may_take_calls
    return state


async def _announce_demo(services: Services) -> None:
    from server.demo import ensure_demo

    settings = services.settings
    passwords = await ensure_demo(services.store, settings.default_capacity)
    base = settings.public_url or f"http://{settings.host}:{settings.port}"
    lines = [
        "",
        "helpline is running.",
        f"  Caller widget demo:  {base}/demo.html",
        f"  Staff sign-in:       {base}/staff/",
        f"  Health:              {base}/healthz",
    ]
    if passwords:
        lines.append("  Demo staff (passwords shown once, now):")
        lines += [f"    {user:<12} {password}" for user, password in passwords.items()]
    else:
        lines.append("  Demo staff already exist; their passwords were shown at first start.")
    print("\n".join(lines) + "\n", flush=True)


def app_from_env() -> Starlette:
    """The app for one of several worker processes (``helpline serve --workers N``)."""
    from server import logs

    settings = Settings.from_env()
    logs.configure(settings.dev)
    return create_app(settings)


def create_app(settings: Settings, services: Services | None = None) -> Starlette:
    """Build the app; pass ``services`` to share already-open ones (tests)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own = services is None
        running = services if services is not None else await open_services(settings)
        app.state.services = running
        from server.risk import install_risk_hook

        install_risk_hook(running)
        if settings.demo:
            await _announce_demo(running)
        rota_state = await install_rota(running)
        await running.hub.start()
        jobs = [
            periodic.start(
                "rota",
                rota_jobs.CHECK_INTERVAL_S,
                lambda: rota_jobs.check_once(running, rota_state, datetime.now(UTC)),
            ),
            periodic.start(
                "retention", retention.INTERVAL_S, lambda: retention.purge_logged(running)
            ),
            # Wait alerts run whether or not a supervisor has the monitor open.
            periodic.start(
                "wait_alerts",
                wait_watch.CHECK_INTERVAL_S,
                lambda: wait_watch.check_once(running, datetime.now(UTC)),
            ),
        ]
        try:
            yield
        finally:
            for job in jobs:
                await periodic.stop(job)
            if own:
                await close_services(running)
            else:
                await running.hub.stop()

    static = static_dir()

    async def page(name: str) -> Response:
        return FileResponse(static / name)

    async def index(_request: Any) -> Response:
        return await page("index.html")

    async def widget_js(_request: Any) -> Response:
        return await page("widget.js")

    routes = [
        Route("/", index),
        Route("/healthz", http_api.healthz),
        Route("/readyz", http_api.readyz),
        Route("/api/login", http_api.login, methods=["POST"]),
        Route("/api/logout", http_api.logout, methods=["POST"]),
        Route("/api/me", http_api.me),
        Route("/api/lines", http_api.public_lines),
        Route("/api/lines/{line_id}", http_api.public_line),
        Route("/staff", lambda _r: RedirectResponse("/staff/")),
        Route("/widget.js", widget_js),
        Route("/api/cases", cases.create_case, methods=["POST"]),
        Route("/api/cases/lookup", cases.lookup_case, methods=["POST"]),
        Route("/api/cases/reply", cases.reply_case, methods=["POST"]),
        Route("/api/staff/cases", cases.staff_cases),
        Route("/api/staff/cases/{case_id}/answer", cases.staff_answer, methods=["POST"]),
        Route("/api/rating", cases.rate_conversation, methods=["POST"]),
        Route("/api/rota", rota_api.import_rota, methods=["POST"]),
        Route("/api/rota/coverage", rota_api.coverage),
        Route("/api/rota/me.ics", rota_api.my_calendar),
        Route("/api/rota/me", rota_api.my_status),
        Route("/api/rota/clock-ins", rota_api.request_clock_in, methods=["POST"]),
        Route(
            "/api/rota/clock-ins/{clock_in_id}/approve", rota_api.approve_clock_in, methods=["POST"]
        ),
        Route("/api/rota/requests", rota_api.create_request, methods=["POST"]),
        Route("/api/rota/requests", rota_api.list_requests, methods=["GET"]),
        Route("/api/rota/requests/{request_id}", rota_api.decide_request, methods=["POST"]),
        Route("/api/rota/demand", rota_api.demand),
        # Counsellor console and supervisor monitor (docs/console.md).
        *console_routes(),
        WebSocketRoute("/ws/caller", caller_endpoint),
        WebSocketRoute("/ws/staff", staff_endpoint),
        Mount("/", StaticFiles(directory=static, html=True)),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(SecurityHeaders)
    return app
