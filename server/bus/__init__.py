"""Fan-out of events between connections and server processes (docs/architecture.md).

A ``Bus`` carries ephemeral events (new message, typing, queue position) on
named channels: ``conv:<id>`` for a conversation, ``staff:<id>`` for one
staff member, ``hub`` for "the queue changed, match again". Nothing on the bus
is the truth: messages are in PostgreSQL, and a client that missed an event
catches up from there by sequence number.
"""

from __future__ import annotations

from server.bus.base import Bus, Handler, Unsubscribe
from server.bus.memory import MemoryBus

__all__ = ["Bus", "Handler", "MemoryBus", "Unsubscribe", "make_bus"]


async def make_bus(redis_url: str | None) -> Bus:
    """Pick the backend from configuration: Redis when a URL is given, else in-process."""
    if redis_url:
        from server.bus.redis import RedisBus

        bus = RedisBus(redis_url)
        await bus.start()
        return bus
    return MemoryBus()
