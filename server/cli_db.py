"""Database access for one-shot CLI commands (``helpline rota import`` and friends)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

from server.config import Settings
from server.embedded_pg import start_embedded
from server.migrate import apply_migrations
from server.store import Store

T = TypeVar("T")


def with_store(work: Callable[[Store], Awaitable[T]], data_dir: Path | None = None) -> T:
    """Run ``work`` against the configured database (or the embedded one), migrated."""
    settings = Settings.from_env()
    if data_dir is not None:
        settings = settings.with_(data_dir=data_dir)

    async def run() -> T:
        embedded: Any = None
        url = settings.database_url
        if url is None:
            url, embedded = start_embedded(settings.data_dir)
        pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
        assert pool is not None
        try:
            async with pool.acquire() as conn:
                await apply_migrations(conn)
            return await work(Store(pool))
        finally:
            await pool.close()
            del embedded

    return asyncio.run(run())
