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
from collections.abc import Callable

import redis.asyncio as aioredis
import structlog
from redis.exceptions import RedisError

from server.bus.base import Event, Handler, Unsubscribe

log = structlog.get_logger(__name__)

# Channel names are prefixed so one Redis can serve several deployments.
PREFIX = "helpline:"
# Between attempts to read from an unreachable Redis: quick to notice it is
# back, without spinning.
RECONNECT_PAUSE_S = 0.5
SERVICE_CHANNEL = "service"


class RedisBus:
    def __init__(self, url: str) -> None:
        self._redis = aioredis.Redis.from_url(url)
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        self._handlers: dict[str, list[Handler]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.healthy = True
        # Told when Redis goes away or comes back, so clients can be told too.
        self.on_health_change: Callable[[bool], None] | None = None

    async def start(self) -> None:
        await self._redis.ping()

    async def publish(self, channel: str, event: Event) -> None:
        """Publish through Redis; while Redis is unreachable, deliver in this process only.

        Degraded, not down: sockets on this process keep their live events,
        and everyone else catches up from PostgreSQL when they reconnect.
        """
        try:
            await self._redis.publish(PREFIX + channel, json.dumps(event))
        except (RedisError, OSError):
            self._set_health(False)
            self._deliver(channel, event)

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
                self._set_health(False)
                await asyncio.sleep(RECONNECT_PAUSE_S)
                continue
            if not self.healthy:
                await self._probe()
            if message is None:
                continue
            channel = message["channel"].decode()[len(PREFIX) :]
            try:
                event = json.loads(message["data"])
            except ValueError:
                continue
            self._deliver(channel, event)

    def _deliver(self, channel: str, event: Event) -> None:
        for handler in list(self._handlers.get(channel, ())):
            handler(event)

    async def _probe(self) -> None:
        try:
            await self._redis.ping()
        except (RedisError, OSError):
            return
        self._set_health(True)

    def _set_health(self, healthy: bool) -> None:
        if healthy == self.healthy:
            return
        self.healthy = healthy
        if healthy:
            log.info("redis_bus_recovered")
        else:
            log.warning("redis_bus_unreachable")
        # Every socket of this process listens on "service" (docs/protocol.md).
        self._deliver(
            SERVICE_CHANNEL,
            {
                "type": "service",
                "status": "ok" if healthy else "degraded",
                "message": ""
                if healthy
                else "live updates may be delayed; nothing you send is lost",
            },
        )
        if self.on_health_change is not None:
            self.on_health_change(healthy)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        await self._redis.aclose()
