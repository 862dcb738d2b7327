"""The staff websocket: shift, availability, offers, and the conversations a counsellor holds.

Authenticated by the session cookie set at login; the Origin is checked
before the socket is accepted, and every frame is checked against the role
and the conversations this staff member is part of.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import structlog
from starlette.websockets import WebSocket, WebSocketDisconnect

from server import console_actions, supervision
from server import protocol as p
from server.auth import origin_allowed, staff_from_cookie
from server.caller_ws import CLOSE_POLICY, _ref
from server.cases import CASES_CHANNEL
from server.connection import Connection
from server.errors import STORE_DOWN
from server.hub import Presence
from server.models import Conversation, ConversationState, RiskTier, Sender, Staff
from server.monitor_snapshot import push_snapshots, stop_task
from server.ratelimit import TokenBucket
from server.services import Services
from server.store import ConversationClosed, UnknownConversation

log = structlog.get_logger(__name__)

# Application close code (4000-4999 are ours): the session is missing or expired.
CLOSE_UNAUTHENTICATED = 4401


async def staff_endpoint(ws: WebSocket) -> None:
    services: Services = ws.app.state.services
    if not origin_allowed(ws.headers, ws.url.scheme, services.settings):
        await ws.close(CLOSE_POLICY)
        return
    found = await staff_from_cookie(services.store, ws.cookies)
    await ws.accept()
    if found is None:
        await ws.send_json({"type": "error", "code": "unauthenticated", "message": "sign in first"})
        await ws.close(CLOSE_UNAUTHENTICATED)
        return
    session = StaffSession(ws, services, found[0])
    await session.run()


class StaffSession:
    def __init__(self, ws: WebSocket, services: Services, staff: Staff) -> None:
        self.ws = ws
        self.services = services
        self.settings = services.settings
        self.store = services.store
        self.hub = services.hub
        self.staff = staff
        self.conn = Connection(ws, services.store, services.bus, viewer="staff")
        self.presence: Presence | None = None
        # Pushes monitor snapshots while a supervisor has the monitor open.
        self.monitor_task: asyncio.Task[None] | None = None
        self.bucket = TokenBucket(
            self.settings.frame_rate_per_s, 2 * self.settings.frame_rate_per_s
        )

    async def run(self) -> None:
        structlog.contextvars.bind_contextvars(staff_id=self.staff.id)
        self.conn.start()
        try:
            await self.conn.listen(f"staff:{self.staff.id}", accept=self._on_own_event)
            if self.staff.is_supervisor:
                # Risk and staffing alerts for whoever supervises the shift.
                await self.conn.listen("supervisors")
            # Left questions (server/cases.py) on the lines this member serves.
            await self.conn.listen(CASES_CHANNEL, accept=self._serves_event_line)
            self.presence = await self.hub.staff_connected(self.staff, self.conn)
            await self.hello()
            async for raw in self.conn.incoming():
                await self.handle(raw)
        except WebSocketDisconnect:
            pass
        finally:
            await stop_task(self.monitor_task)
            await self.conn.stop()
            await self.hub.staff_disconnected(self.staff.id, self.conn)
            structlog.contextvars.unbind_contextvars("staff_id")

    def _on_own_event(self, event: dict[str, Any]) -> bool:
        """Events for this staff member; a hand-over is acted on in whichever process has us.

        A transfer or take-over may be done by another server process: each
        process that holds a socket of ours updates its own presence
        bookkeeping (the load matching uses) and follows or lets go here.
        """
        kind, raw_id, raw_tier = event.get("type"), event.get("conversation"), event.get("tier")
        if kind not in {"transferred_in", "transferred_out"}:
            return True
        # A bus handler must not raise: a malformed event is only passed on.
        try:
            conv_id = uuid.UUID(str(raw_id))
            tier = RiskTier.parse(raw_tier) if isinstance(raw_tier, str) else RiskTier.NONE
        except ValueError:
            return True
        if kind == "transferred_out":
            self.hub.no_longer_holds(self.staff.id, conv_id)
            self.conn.unfollow_soon(conv_id)
            return True
        self.hub.now_holds(self.staff.id, conv_id, tier)
        # The frame first, then the transcript: the console opens the tab on it.
        self.conn.send(event)
        self.conn.follow_soon(conv_id)
        return False

    def _serves_event_line(self, event: dict[str, Any]) -> bool:
        line = event.get("line")
        return isinstance(line, str) and self.staff.serves(line)

    async def hello(self) -> None:
        assert self.presence is not None
        held = await self.store.active_for_counsellor(self.staff.id)
        self.conn.send(
            {
                "type": "hello",
                "staff": self.staff.public(),
                "on_shift": self.presence.on_shift,
                "availability": self.presence.availability,
                "conversations": [_summary(c) for c in held],
                "offers": [
                    {"conversation": str(o.conversation_id), "tier": o.tier.label}
                    for o in self.hub.pending.values()
                    if o.staff_id == self.staff.id
                ],
            }
        )

    async def handle(self, raw: str | bytes) -> None:
        try:
            if not self.bucket.allow(time.monotonic()):
                raise p.ProtocolError(p.RATE_LIMITED, "too many frames; slow down")
            frame = p.parse_frame(raw, p.STAFF_TYPES, self.settings.max_text_chars)
            await self.dispatch(frame)
        except p.ProtocolError as err:
            self.conn.send(err.frame())
        except STORE_DOWN:
            log.warning("store_unavailable", frame="staff")
            self.conn.send(
                p.ProtocolError(p.STORE_UNAVAILABLE, "not stored: try again", _ref(raw)).frame()
            )

    async def dispatch(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        assert self.presence is not None
        if kind == "ping":
            self.conn.send({"type": "pong"})
        elif kind == "clock_in":
            self.hub.set_on_shift(self.staff.id, True)
            self.conn.send({"type": "shift", "on_shift": True})
        elif kind == "clock_out":
            self.hub.set_on_shift(self.staff.id, False)
            self.conn.send({"type": "shift", "on_shift": False})
        elif kind == "availability":
            reason = frame.get("reason")
            reason = reason[:200] if isinstance(reason, str) else None
            self.hub.set_availability(self.staff.id, frame["status"], reason)
            self.conn.send({"type": "availability", "status": frame["status"], "reason": reason})
        elif kind == "accept":
            await self.accept(uuid.UUID(frame["conversation"]))
        elif kind == "decline":
            conv_id = uuid.UUID(frame["conversation"])
            if not await self.hub.decline(self.staff, conv_id):
                raise p.ProtocolError(p.OFFER_GONE, "no such offer for you", frame["conversation"])
            self.conn.send({"type": "declined", "conversation": str(conv_id)})
        elif kind in p.CONSOLE_TYPES:
            await self.console(kind, frame)
        else:
            conv = await self.participant(frame)
            if kind == "send":
                await self.send(conv, frame)
            elif kind == "typing":
                await self.services.bus.publish(
                    f"conv:{conv.id}",
                    {
                        "type": "typing",
                        "conversation": str(conv.id),
                        "from": "counsellor",
                        "on": frame["on"],
                        "exclude_socket": self.conn.cid,
                    },
                )
            elif kind == "sync":
                last_seq = int(frame.get("last_seq", 0))
                # Every read of a transcript by staff is audited (docs/console.md).
                await self.store.audit(
                    self.staff.id, "transcript_read", conv.id, {"after_seq": last_seq}
                )
                await self.conn.follow(conv.id, last_seq, catch_up=True)
            elif kind == "end":
                await self.end(conv, frame)

    async def console(self, kind: str, frame: dict[str, Any]) -> None:
        """Console and supervision frames (docs/console.md); each checks role and holding."""
        services, staff = self.services, self.staff
        if kind == "leave":
            await self.conn.unfollow(uuid.UUID(frame["conversation"]))
            self.conn.send({"type": "left", "conversation": frame["conversation"]})
            return
        if kind in {"monitor", "join", "take_over", "ack_alert"} and not staff.is_supervisor:
            raise p.ProtocolError(p.FORBIDDEN, f"'{kind}' is for supervisors", frame.get("id"))
        if kind == "monitor":
            await stop_task(self.monitor_task)
            self.monitor_task = None
            if frame["on"]:
                self.monitor_task = asyncio.create_task(push_snapshots(services, self.conn, staff))
        elif kind == "ack_alert":
            await supervision.acknowledge(services, staff, frame["alert"])
        elif kind in {"join", "take_over"}:
            conv = await self.existing(frame)
            if kind == "join":
                await supervision.join(services, staff, self.conn, conv)
            else:
                await supervision.take_over(services, staff, self.conn, conv)
        elif kind in {"reassess", "note", "whisper"}:
            # The holder, or any supervisor (who may be watching silently).
            conv = await self.participant(frame, supervisor_too=True)
            if kind == "reassess":
                await console_actions.reassess(services, staff, conv, frame)
            elif kind == "note":
                await console_actions.note(services, staff, conv, frame)
            else:
                if conv.id not in self.conn.last_seq:
                    await supervision.join(services, staff, self.conn, conv)
                await console_actions.whisper(services, staff, conv, frame["text"])
        elif kind == "help":
            conv = await self.participant(frame)
            await console_actions.ask_for_help(services, staff, conv, frame)
            self.conn.send({"type": "help_requested", "conversation": str(conv.id)})
        elif kind == "transfer":
            # ``transferred_out`` reaches our sockets in every process over the bus.
            conv = await self.participant(frame)
            await console_actions.transfer(services, staff, conv, frame)

    async def existing(self, frame: dict[str, Any]) -> Conversation:
        conv = await self.store.get_conversation(uuid.UUID(frame["conversation"]))
        if conv is None:
            raise p.ProtocolError(p.NOT_PARTICIPANT, "no such conversation", frame["conversation"])
        return conv

    async def participant(
        self, frame: dict[str, Any], supervisor_too: bool = False
    ) -> Conversation:
        """The conversation named in the frame, if this staff member holds it.

        With ``supervisor_too`` a supervisor may act on anyone's conversation.
        """
        raw_id = frame.get("conversation")
        if not isinstance(raw_id, str):
            raise p.ProtocolError(p.BAD_FRAME, "'conversation' is required", frame.get("id"))
        conv = await self.store.get_conversation(uuid.UUID(raw_id))
        allowed = conv is not None and (
            conv.counsellor_id == self.staff.id or (supervisor_too and self.staff.is_supervisor)
        )
        if conv is None or not allowed:
            raise p.ProtocolError(
                p.NOT_PARTICIPANT,
                "you are not part of this conversation",
                frame.get("id") or raw_id,
            )
        if conv.state is not ConversationState.ACTIVE and frame["type"] != "sync":
            raise p.ProtocolError(
                p.CONVERSATION_CLOSED, "this conversation has ended", frame.get("id") or raw_id
            )
        return conv

    async def accept(self, conv_id: uuid.UUID) -> None:
        conv = await self.hub.accept(self.staff, conv_id)
        if conv is None:
            raise p.ProtocolError(
                p.OFFER_GONE, "this conversation is no longer offered to you", str(conv_id)
            )
        assert self.presence is not None
        await self.store.audit(self.staff.id, "transcript_read", conv.id, {"after_seq": 0})
        for conn in list(self.presence.sockets):
            conn.send({"type": "assigned", **_summary(conv)})
            await conn.follow(conv.id, 0, catch_up=True)

    async def send(self, conv: Conversation, frame: dict[str, Any]) -> None:
        try:
            stored = await self.store.append_message(
                conv.id, Sender.COUNSELLOR, frame["text"], frame["id"], staff_id=self.staff.id
            )
        except (ConversationClosed, UnknownConversation) as exc:
            raise p.ProtocolError(
                p.CONVERSATION_CLOSED, "this conversation has ended", frame["id"]
            ) from exc
        self.conn.send(
            {
                "type": "ack",
                "conversation": str(conv.id),
                "id": frame["id"],
                "seq": stored.seq,
                "duplicate": stored.duplicate,
            }
        )
        if not stored.duplicate:
            await self.services.bus.publish(f"conv:{conv.id}", stored.frame())

    async def end(self, conv: Conversation, frame: dict[str, Any]) -> None:
        ended = await console_actions.end_with_wrap_up(self.services, self.staff, conv, frame)
        if ended is None:
            raise p.ProtocolError(
                p.CONVERSATION_CLOSED, "this conversation has ended", str(conv.id)
            )
        await self.services.bus.publish(
            f"conv:{conv.id}",
            {"type": "ended", "conversation": str(conv.id), "reason": "counsellor"},
        )
        assert self.presence is not None
        for conn in list(self.presence.sockets):
            conn.send({"type": "wrapped_up", "conversation": str(conv.id)})
        await self.hub.released(self.staff.id, conv.id)


_summary = console_actions.summary
