"""Shared fixtures: a real PostgreSQL (the machine's when it answers, else the
embedded one), a real Redis when ``REDIS_URL`` is set, and a real server on a
loopback port.

``HELPLINE_REQUIRE_SERVICES=1`` (set by scripts/test in CI) turns a missing
PostgreSQL or Redis into a failure instead of a fallback or a skip.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from server.migrate import apply_migrations

MACHINE_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def require_services() -> bool:
    return os.environ.get("HELPLINE_REQUIRE_SERVICES") == "1"


def _pg_answers(url: str) -> bool:
    async def probe() -> bool:
        try:
            conn = await asyncpg.connect(url, timeout=3)
        except Exception:
            return False
        await conn.close()
        return True

    return asyncio.run(probe())


@pytest.fixture(scope="session")
def admin_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server where tests may create databases."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    if _pg_answers(MACHINE_PG):
        yield MACHINE_PG
        return
    if require_services():
        pytest.fail("HELPLINE_REQUIRE_SERVICES=1 but no PostgreSQL answers on 127.0.0.1:5432")
    from server.embedded_pg import start_embedded

    uri, handle = start_embedded(tmp_path_factory.mktemp("pg"))
    yield uri
    del handle


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    if "?" in url.rpartition("/")[2]:
        query = url.rpartition("/")[2].split("?", 1)[1]
        return f"{base}/{name}?{query}"
    return f"{base}/{name}"


@pytest.fixture(scope="session")
async def database_url(admin_database_url: str) -> AsyncIterator[str]:
    """A fresh database for this test session, migrated, dropped at the end."""
    name = f"helpline_test_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(admin_database_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(admin_database_url, name)
    conn = await asyncpg.connect(url)
    await apply_migrations(conn)
    await conn.close()
    yield url
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture(scope="session")
def redis_url() -> str | None:
    url = os.environ.get("REDIS_URL")
    if url is None and require_services():
        pytest.fail("HELPLINE_REQUIRE_SERVICES=1 but REDIS_URL is not set")
    return url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


class CapturedMail:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], str]] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        content = envelope.content  # type: ignore[attr-defined]
        text = content.decode("utf-8", "replace") if isinstance(content, bytes) else str(content)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), text))  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, CapturedMail]]:
    """A real SMTP server (aiosmtpd) on a loopback port, in its own thread."""
    from aiosmtpd.controller import Controller

    handler = CapturedMail()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, handler
    controller.stop()
