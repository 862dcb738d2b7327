"""The caller's websocket: start or resume a conversation, send, type, end.

Frames are documented in docs/protocol.md. A caller is identified only by the
conversation token; we never read or keep the client's address or user agent.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from datetime import UTC, datetime
from typing import Any

import structlog
from starlette.websockets import WebSocket, WebSocketDisconnect

from server import protocol as p
from server.auth import origin_allowed
from server.connection import Connection
from server.errors import STORE_DOWN
from server.models import Conversation, ConversationState, Sender, StoredMessage
from server.ratelimit import TokenBucket
from server.risk import CONTEXT_MESSAGES
from server.services import Services
from server.store import ConversationClosed, UnknownConversation, new_token

log = structlog.get_logger(__name__)

# RFC 6455 close code 1008: policy violation (a foreign Origin).
CLOSE_POLICY = 1008
# On disconnect, queued risk assessments get this long to finish.
ASSESS_DRAIN_S = 5.0


async def caller_endpoint(ws: WebSocket) -> None:
    services: Services = ws.app.state.services
    if not origin_allowed(ws.headers, ws.url.scheme, services.settings):
        await ws.close(CLOSE_POLICY)
        return
    await ws.accept()
    session = CallerSession(ws, services)
    await session.run()


class CallerSession:
    def __init__(self, ws: WebSocket, services: Services) -> None:
        self.ws = ws
        self.services = services
        self.settings = services.settings
        self.store = services.store
        self.conn = Connection(
            ws, services.store, services.bus, "caller", services.settings.outbox_limit
        )
        self.conversation: Conversation | None = None
        self.bucket = TokenBucket(
            self.settings.frame_rate_per_s, 2 * self.settings.frame_rate_per_s
        )
        # Triage runs beside the receive loop, in message order, so that a
        # caller's next message is never held up behind the last one's scoring.
        self._assess_queue: asyncio.Queue[StoredMessage | None] = asyncio.Queue()
        # The caller's last few messages: the context triage reads them in.
        self.recent_texts: deque[str] = deque(maxlen=CONTEXT_MESSAGES)
        self._assessor: asyncio.Task[None] | None = None

    async def run(self) -> None:
        self.conn.start()
        self._assessor = asyncio.create_task(self._assess_loop())
        try:
            await self.conn.listen("service")
            async for raw in self.conn.incoming():
                await self.handle(raw)
        except WebSocketDisconnect:
            pass
        finally:
            await self.conn.stop()
            await self._finish_assessments()
            await self._disconnected()

    async def handle(self, raw: str | bytes) -> None:
        try:
            if not self.bucket.allow(time.monotonic()):
                raise p.ProtocolError(p.RATE_LIMITED, "too many frames; slow down")
            frame = p.parse_frame(raw, p.CALLER_TYPES, self.settings.max_text_chars)
            await self.dispatch(frame)
        except p.ProtocolError as err:
            self.conn.send(err.frame())
        except STORE_DOWN:
            log.warning("store_unavailable", frame="caller")
            ref = _ref(raw)
            self.conn.send(
                p.ProtocolError(
                    p.STORE_UNAVAILABLE, "not stored: the service is busy, retrying", ref
                ).frame()
            )

    async def dispatch(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind == "ping":
            self.conn.send({"type": "pong"})
        elif kind == "start":
            await self.start(frame)
        elif kind == "resume":
            await self.resume(frame)
        elif self.conversation is None:
            raise p.ProtocolError(
                p.NOT_STARTED, "start or resume a conversation first", frame.get("id")
            )
        elif kind == "send":
            await self.send(frame)
        elif kind == "typing":
            await self.services.bus.publish(
                f"conv:{self.conversation.id}",
                {
                    "type": "typing",
                    "conversation": str(self.conversation.id),
                    "from": "caller",
                    "on": frame["on"],
                    "exclude_socket": self.conn.cid,
                },
            )
        elif kind == "end":
            await self.end(frame.get("reason", "caller"))

    async def start(self, frame: dict[str, Any]) -> None:
        if self.conversation is not None:
            raise p.ProtocolError(p.ALREADY_STARTED, "this connection already has a conversation")
        line = await self.store.get_line(frame["line"])
        if line is None:
            raise p.ProtocolError(p.UNKNOWN_LINE, "no such line")
        if frame["lang"] not in line.languages:
            raise p.ProtocolError(
                p.UNSUPPORTED_LANGUAGE, f"this line speaks {', '.join(line.languages)}"
            )
        rota_state = self.services.extras.get("rota_state")
        if rota_state is not None and not rota_state.line_open(line.id, datetime.now(UTC)):
            raise p.ProtocolError(
                p.LINE_CLOSED,
                "the line is closed now; you can leave a question and come back for the answer",
                detail={
                    "opening_hours": rota_state.opening_hours(line.id),
                    "emergency": line.emergency,
                },
            )
        token = frame.get("token") or new_token()
        conv, created = await self.store.start_conversation(line.id, frame["lang"], token)
        if not conv.state.is_open:
            raise p.ProtocolError(p.CONVERSATION_CLOSED, "this conversation has ended")
        self.conversation = conv
        structlog.contextvars.bind_contextvars(conversation=str(conv.id))
        if created:
            log.info("conversation_started", line=line.id, lang=conv.lang)
        self.conn.send(
            {
                "type": "started",
                "conversation": str(conv.id),
                "token": token,
                "state": conv.state.value,
                "last_seq": conv.last_seq,
                "line": line.public(),
            }
        )
        await self.conn.follow(conv.id, 0, catch_up=not created)
        if created:
            await self.services.hub.announce()
        else:
            self.services.hub.forget_queue_frame(conv.id)

    async def resume(self, frame: dict[str, Any]) -> None:
        if self.conversation is not None:
            raise p.ProtocolError(p.ALREADY_STARTED, "this connection already has a conversation")
        conv = await self.store.conversation_by_token(frame["token"])
        if conv is None:
            raise p.ProtocolError(p.UNKNOWN_TOKEN, "unknown or expired conversation token")
        if not conv.state.is_open or conv.caller_ended_at is not None:
            raise p.ProtocolError(p.CONVERSATION_CLOSED, "this conversation has ended")
        last_seen = min(int(frame.get("last_seq", 0)), conv.last_seq)
        self.conversation = conv
        structlog.contextvars.bind_contextvars(conversation=str(conv.id))
        line = await self.store.get_line(conv.line_id)
        await self.store.mark_caller_disconnected(conv.id, gone=False)
        self.conn.send(
            {
                "type": "resumed",
                "conversation": str(conv.id),
                "state": conv.state.value,
                "last_seq": conv.last_seq,
                "line": line.public() if line else None,
                "risk_alert": conv.risk_tier >= 3,
            }
        )
        await self.conn.follow(conv.id, last_seen, catch_up=True)
        self.recent_texts.extend(
            await self.store.caller_texts_before(conv.id, conv.last_seq + 1, CONTEXT_MESSAGES)
        )
        await self.services.bus.publish(
            f"conv:{conv.id}",
            {"type": "caller_reconnected", "conversation": str(conv.id), "audience": "staff"},
        )
        if conv.state is ConversationState.QUEUED:
            self.services.hub.forget_queue_frame(conv.id)

    async def send(self, frame: dict[str, Any]) -> None:
        assert self.conversation is not None
        conv_id = self.conversation.id
        try:
            stored = await self.store.append_message(
                conv_id, Sender.CALLER, frame["text"], frame["id"]
            )
        except (ConversationClosed, UnknownConversation) as exc:
            raise p.ProtocolError(
                p.CONVERSATION_CLOSED, "this conversation has ended; not sent", frame["id"]
            ) from exc
        # Acknowledge only now that the message is durable in PostgreSQL.
        self.conn.send(
            {"type": "ack", "id": frame["id"], "seq": stored.seq, "duplicate": stored.duplicate}
        )
        if not stored.duplicate:
            await self.services.bus.publish(f"conv:{conv_id}", stored.frame())
            await self.after_caller_message(stored)

    async def after_caller_message(self, stored: StoredMessage) -> None:
        self._assess_queue.put_nowait(stored)

    async def _assess_loop(self) -> None:
        hook = self.services.extras.get("on_caller_message")
        conversation = None
        while (stored := await self._assess_queue.get()) is not None:
            conversation = self.conversation or conversation
            if hook is not None and conversation is not None:
                context = tuple(self.recent_texts)
                self.recent_texts.append(stored.body)
                try:
                    await hook(conversation, stored, context)
                except Exception:
                    log.exception("assessment_failed", seq=stored.seq)

    async def _finish_assessments(self) -> None:
        """Assess what the caller sent before leaving; a dead process loses only these."""
        if self._assessor is None:
            return
        self._assess_queue.put_nowait(None)
        try:
            await asyncio.wait_for(self._assessor, ASSESS_DRAIN_S)
        except TimeoutError:
            log.warning("assessments_unfinished")

    async def end(self, reason: str) -> None:
        assert self.conversation is not None
        conv = await self.store.caller_end(self.conversation.id)
        self.conn.send(
            {"type": "ended", "conversation": str(self.conversation.id), "reason": reason}
        )
        if conv is not None:
            await self.services.bus.publish(
                f"conv:{conv.id}",
                {
                    "type": "ended",
                    "conversation": str(conv.id),
                    "reason": reason,
                    "exclude_socket": self.conn.cid,
                },
            )
            await self.services.hub.announce()
        self.conversation = None

    async def _disconnected(self) -> None:
        conv = self.conversation
        if conv is None:
            return
        try:
            await self.store.mark_caller_disconnected(conv.id, gone=True)
            await self.services.bus.publish(
                f"conv:{conv.id}",
                {
                    "type": "caller_disconnected",
                    "conversation": str(conv.id),
                    "grace_s": self.settings.reconnect_grace_s,
                    "audience": "staff",
                },
            )
        except STORE_DOWN:
            log.warning("store_unavailable", frame="disconnect")
        structlog.contextvars.unbind_contextvars("conversation")


def _ref(raw: str | bytes) -> str | None:
    try:
        import json

        value = json.loads(raw).get("id")
        return value if isinstance(value, str) else None
    except Exception:
        return None


def conversation_uuid(value: str) -> uuid.UUID:
    return uuid.UUID(value)
