"""The presence board: what each server process reports about its counsellors.

Queue estimates must count every counsellor on shift, whichever process holds
their socket. Each process replaces its own entry whole (one atomic SET, with
an expiry, so a process that dies drops off by itself); readers take the union.
In-process for the embedded default, Redis when ``REDIS_URL`` is set.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

# A process refreshes its entry at least every matching round (5 s); three
# missed rounds mean it is gone.
ENTRY_TTL_MS = 15_000
KEY_PREFIX = "helpline:presence:"

Entry = dict[str, Any]


class PresenceBoard(Protocol):
    async def put(self, process_id: str, counsellors: list[Entry]) -> None: ...

    async def everyone(self) -> list[Entry]: ...

    async def close(self) -> None: ...


class MemoryPresenceBoard:
    def __init__(self) -> None:
        self._by_process: dict[str, list[Entry]] = {}

    async def put(self, process_id: str, counsellors: list[Entry]) -> None:
        self._by_process[process_id] = counsellors

    async def everyone(self) -> list[Entry]:
        return [entry for entries in self._by_process.values() for entry in entries]

    async def close(self) -> None:
        self._by_process.clear()


class RedisPresenceBoard:
    def __init__(self, url: str) -> None:
        self._redis = aioredis.Redis.from_url(url)
        self._local: dict[str, list[Entry]] = {}

    async def put(self, process_id: str, counsellors: list[Entry]) -> None:
        self._local = {process_id: counsellors}
        # Degraded (Redis away): everyone() falls back to this process's own view.
        with contextlib.suppress(RedisError, OSError):
            await self._redis.set(KEY_PREFIX + process_id, json.dumps(counsellors), px=ENTRY_TTL_MS)

    async def everyone(self) -> list[Entry]:
        try:
            keys = [key async for key in self._redis.scan_iter(match=KEY_PREFIX + "*", count=100)]
            values = await self._redis.mget(keys) if keys else []
        except (RedisError, OSError):
            return [entry for entries in self._local.values() for entry in entries]
        found: list[Entry] = []
        for raw in values:
            if raw is not None:
                found.extend(json.loads(raw))
        return found

    async def close(self) -> None:
        await self._redis.aclose()


def make_presence_board(redis_url: str | None) -> PresenceBoard:
    return RedisPresenceBoard(redis_url) if redis_url else MemoryPresenceBoard()
