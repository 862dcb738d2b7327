"""In-process bus: the embedded default, for a single server process."""

from __future__ import annotations

from server.bus.base import Event, Handler, Unsubscribe


class MemoryBus:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}

    async def publish(self, channel: str, event: Event) -> None:
        # Copy the list: a handler may unsubscribe while we iterate.
        for handler in list(self._handlers.get(channel, ())):
            handler(event)

    async def subscribe(self, channel: str, handler: Handler) -> Unsubscribe:
        self._handlers.setdefault(channel, []).append(handler)

        async def unsubscribe() -> None:
            handlers = self._handlers.get(channel)
            if handlers and handler in handlers:
                handlers.remove(handler)
                if not handlers:
                    del self._handlers[channel]

        return unsubscribe

    async def close(self) -> None:
        self._handlers.clear()
