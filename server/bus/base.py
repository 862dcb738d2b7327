"""The bus contract that the in-process and Redis backends both pass (tests/server/bus)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

Event = dict[str, Any]
# Handlers run on the event loop and must not block: they only enqueue.
Handler = Callable[[Event], None]
Unsubscribe = Callable[[], Awaitable[None]]


class Bus(Protocol):
    async def publish(self, channel: str, event: Event) -> None:
        """Deliver ``event`` to every current subscriber of ``channel``, in any process."""
        ...

    async def subscribe(self, channel: str, handler: Handler) -> Unsubscribe:
        """Call ``handler`` for each event on ``channel`` from now on, in publish order."""
        ...

    async def close(self) -> None: ...
