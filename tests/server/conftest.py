"""A real server per test: uvicorn on a loopback port, sharing the session's database."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn

from server.app import create_app, open_services
from server.auth import hash_password
from server.config import Settings
from server.models import Line, Staff, StaffRole
from server.services import Services
from tests.conftest import free_port
from tests.server.clients import Caller, Counsellor

# Hashing with argon2's defaults costs ~50 ms; tests create many accounts.
_PASSWORD = "correct horse battery staple"
_PASSWORD_HASH: list[str] = []


@dataclass
class Running:
    services: Services
    http: str
    ws: str

    @property
    def store(self) -> Any:
        return self.services.store

    async def line(self, **overrides: Any) -> str:
        line_id = overrides.pop("id", f"t-{secrets.token_hex(4)}")
        await self.store.upsert_line(
            Line(
                id=line_id,
                name={"sv": "Testlinjen", "da": "Testlinjen", "en": "Test line"},
                audience={"sv": "test", "da": "test", "en": "test"},
                languages=overrides.pop("languages", ["sv", "da", "en"]),
                time_zone="Europe/Stockholm",
                emergency={
                    "numbers": [{"label": {"en": "Emergency"}, "number": "112"}],
                    "text": {"sv": "Ring 112", "da": "Ring 112", "en": "Call 112"},
                },
                exit_url="https://www.example.org/",
            )
        )
        return line_id

    async def staff(
        self, line_id: str, role: StaffRole = StaffRole.COUNSELLOR, capacity: int = 2
    ) -> Staff:
        if not _PASSWORD_HASH:
            _PASSWORD_HASH.append(hash_password(_PASSWORD))
        member: Staff = await self.store.create_staff(
            f"u-{secrets.token_hex(4)}", "Counsellor", role, _PASSWORD_HASH[0], capacity, [line_id]
        )
        return member

    async def counsellor(
        self, line_id: str, capacity: int = 2, clock_in: bool = True
    ) -> Counsellor:
        member = await self.staff(line_id, capacity=capacity)
        client = await Counsellor.open(self.http, member.username, _PASSWORD)
        if clock_in:
            await client.clock_in()
        return client

    async def caller(self) -> Caller:
        return await Caller.open(self.ws)

    password = _PASSWORD


ServerFactory = Callable[..., Awaitable[Running]]


@pytest.fixture
async def make_server(database_url: str) -> AsyncIterator[ServerFactory]:
    started: list[tuple[uvicorn.Server, asyncio.Task[None], Services]] = []

    async def make(**overrides: Any) -> Running:
        port = free_port()
        settings = Settings(database_url=database_url, port=port).with_(**overrides)
        services = await open_services(settings)
        app = create_app(settings, services)
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_config=None,
            ws="websockets-sansio",
            ws_max_size=settings.max_frame_bytes,
            lifespan="on",
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        started.append((server, task, services))
        return Running(services, f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}")

    yield make
    for server, task, services in started:
        server.should_exit = True
        await task
        await services.bus.close()
        await services.pool.close()


@pytest.fixture
async def running(make_server: ServerFactory) -> Running:
    return await make_server()
