"""One websocket's outgoing side: a bounded outbox and gapless, ordered messages.

Events from the bus are only hints. Before a ``message`` frame is written we
check its sequence number against the last one this socket was sent for that
conversation: older ones are dropped (no doubles), and a gap is filled from
PostgreSQL first (nothing lost). A client that stops reading is cut off when
its outbox is full; it can reconnect and resume from its last sequence number.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import structlog
from starlette.websockets import WebSocket, WebSocketState

from server.bus import Bus, Unsubscribe
from server.store import Store

log = structlog.get_logger(__name__)

# Enough for a burst of a few hundred messages across a counsellor's chats;
# beyond that the client is not keeping up and will resume from the database.
OUTBOX_LIMIT = 1000
# Close code for a client cut off for being too slow (RFC 6455: policy/try later).
CLOSE_TOO_SLOW = 1013
# RFC 6455 1011: the server could not go on (here: a catch-up read failed).
CLOSE_INTERNAL_ERROR = 1011


class Connection:
    def __init__(
        self, ws: WebSocket, store: Store, bus: Bus, viewer: str, outbox_limit: int = OUTBOX_LIMIT
    ) -> None:
        self.ws = ws
        self.store = store
        self.bus = bus
        # "caller" or "staff": callers never see staff-only frames.
        self.viewer = viewer
        # Lets a publisher skip the socket an event came from (typing echoes).
        self.cid = secrets.token_hex(8)
        self.last_seq: dict[uuid.UUID, int] = {}
        self._outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue(outbox_limit)
        self._unsubscribe: dict[str, Unsubscribe] = {}
        self._writer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write_loop())

    async def incoming(self) -> AsyncIterator[str | bytes]:
        """The client's frames, until it disconnects or this socket is cut off."""
        while not self.closed.is_set():
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            yield text if text is not None else (message.get("bytes") or b"")

    def send(self, frame: dict[str, Any]) -> None:
        """Queue a frame for this socket; cut the socket off if it is not reading."""
        if self.closed.is_set():
            return
        try:
            self._outbox.put_nowait(frame)
        except asyncio.QueueFull:
            log.warning("client_too_slow", viewer=self.viewer)
            self.closed.set()
            self._closer = asyncio.create_task(self._close(CLOSE_TOO_SLOW))

    async def follow(self, conversation_id: uuid.UUID, last_seq: int, catch_up: bool) -> None:
        """Receive a conversation's events; with ``catch_up`` also replay after ``last_seq``."""
        self.last_seq[conversation_id] = last_seq
        channel = f"conv:{conversation_id}"
        if channel not in self._unsubscribe:
            self._unsubscribe[channel] = await self.bus.subscribe(channel, self._on_event)
        if catch_up:
            self.send({"type": "_catch_up", "conversation": str(conversation_id)})

    async def listen(
        self, channel: str, accept: Callable[[dict[str, Any]], bool] | None = None
    ) -> None:
        """Forward a channel's events to this socket.

        ``accept`` sees each event first (it may act on it, without blocking)
        and says whether it is forwarded.
        """
        if channel in self._unsubscribe:
            return
        handler: Callable[[dict[str, Any]], None] = self._on_event
        if accept is not None:
            handler = functools.partial(self._on_accepted_event, accept)
        self._unsubscribe[channel] = await self.bus.subscribe(channel, handler)

    def follow_soon(self, conversation_id: uuid.UUID) -> None:
        """Follow a conversation and send what this socket has not seen, after what is queued.

        For bus handlers, which cannot await: the writer subscribes and catches
        up in outbox order, so live messages and the replay neither gap nor double.
        """
        self.send({"type": "_follow", "conversation": str(conversation_id)})

    def unfollow_soon(self, conversation_id: uuid.UUID) -> None:
        """Stop following a conversation once what is queued is written (bus handlers)."""
        self.send({"type": "_unfollow", "conversation": str(conversation_id)})

    async def unfollow(self, conversation_id: uuid.UUID) -> None:
        self.last_seq.pop(conversation_id, None)
        unsubscribe = self._unsubscribe.pop(f"conv:{conversation_id}", None)
        if unsubscribe is not None:
            await unsubscribe()

    def _on_accepted_event(
        self, only: Callable[[dict[str, Any]], bool], event: dict[str, Any]
    ) -> None:
        if only(event):
            self._on_event(event)

    def _on_event(self, event: dict[str, Any]) -> None:
        if event.get("audience") == "staff" and self.viewer != "staff":
            return
        if event.get("exclude_socket") == self.cid:
            return
        self.send(event)

    async def _write_loop(self) -> None:
        try:
            while True:
                frame = await self._outbox.get()
                for out in await self._prepare(frame):
                    await self.ws.send_json(out)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The socket is gone, or a catch-up could not be read (database
            # down): close it, so that the client reconnects and resumes.
            self.closed.set()
            await self._close(CLOSE_INTERNAL_ERROR)

    async def _prepare(self, frame: dict[str, Any]) -> list[dict[str, Any]]:
        kind = frame.get("type")
        if kind == "_catch_up":
            conv = uuid.UUID(frame["conversation"])
            return await self._fill(conv, None)
        if kind == "_follow":
            conv = uuid.UUID(frame["conversation"])
            await self.follow(conv, self.last_seq.get(conv, 0), catch_up=False)
            return await self._fill(conv, None)
        if kind == "_unfollow":
            await self.unfollow(uuid.UUID(frame["conversation"]))
            return []
        if kind != "message":
            return [_public(frame)]
        conv = uuid.UUID(frame["conversation"])
        last = self.last_seq.get(conv)
        if last is None:
            return []  # no longer following this conversation
        seq = int(frame["seq"])
        if seq <= last:
            return []
        if seq == last + 1:
            self.last_seq[conv] = seq
            return [_public(frame)]
        return await self._fill(conv, seq)

    async def _fill(self, conv: uuid.UUID, up_to: int | None) -> list[dict[str, Any]]:
        last = self.last_seq.get(conv)
        if last is None:
            return []
        out: list[dict[str, Any]] = []
        while True:
            batch = await self.store.messages_after(conv, last, limit=500)
            for message in batch:
                if up_to is not None and message.seq > up_to:
                    break
                out.append(message.frame())
                last = message.seq
            if len(batch) < 500 or (up_to is not None and last >= up_to):
                break
        self.last_seq[conv] = last
        return out

    async def _close(self, code: int) -> None:
        # Stop fanning out to this socket at once; the close frame itself can
        # only leave once the client reads again, which is up to it.
        for unsubscribe in self._unsubscribe.values():
            await unsubscribe()
        self._unsubscribe.clear()
        with contextlib.suppress(Exception):
            if self.ws.application_state == WebSocketState.CONNECTED:
                await self.ws.close(code)

    async def stop(self) -> None:
        self.closed.set()
        for unsubscribe in self._unsubscribe.values():
            await unsubscribe()
        self._unsubscribe.clear()
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer

    async def flush(self, timeout: float = 2.0) -> None:
        """Wait until queued frames are written (used before a deliberate close)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not self._outbox.empty() and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)


def _public(frame: dict[str, Any]) -> dict[str, Any]:
    """Strip routing fields before a frame leaves the server."""
    if "audience" in frame or "exclude_socket" in frame:
        return {k: v for k, v in frame.items() if k not in ("audience", "exclude_socket")}
    return frame
