"""Redis pub/sub bus: fan-out between server processes.

One subscriber connection per process carries every channel this process
needs; events are routed to local handlers. Pub/sub is fire-and-forget, which
is acceptable because events are only hints: the transcript is in PostgreSQL
and clients catch up by sequence number.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

import redis.asyncio as aioredis
import structlog

from server.bus.base import Event, Handler, Unsubscribe

log = structlog.get_logger(__name__)

# Channel names are prefixed so one Redis can serve several deployments.
PREFIX = "helpline:"


class RedisBus:
    def __init__(self, url: str) -> None:
        self._redis = aioredis.Redis.from_url(url)
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._handlers: dict[str, list[Handler]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        await self._redis.ping()

    async def publish(self, channel: str, event: Event) -> None:
        await self._redis.publish(PREFIX + channel, json.dumps(event))

    async def subscribe(self, channel: str, handler: Handler) -> Unsubscribe:
        async with self._lock:
            first = channel not in self._handlers
            self._handlers.setdefault(channel, []).append(handler)
            if first:
                await self._pubsub.subscribe(PREFIX + channel)
            if self._reader is None:
                self._reader = asyncio.create_task(self._read())

        async def unsubscribe() -> None:
            async with self._lock:
                handlers = self._handlers.get(channel)
                if handlers and handler in handlers:
                    handlers.remove(handler)
                    if not handlers:
                        del self._handlers[channel]
                        await self._pubsub.unsubscribe(PREFIX + channel)

        return unsubscribe

    async def _read(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("redis_bus_read_failed")
                await asyncio.sleep(0.5)
                continue
            if message is None:
                continue
            channel = message["channel"].decode()[len(PREFIX) :]
            try:
                event = json.loads(message["data"])
            except ValueError:
                continue
            for handler in list(self._handlers.get(channel, ())):
                handler(event)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        await self._redis.aclose()
