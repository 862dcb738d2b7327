"""Supervisor frames: join a conversation silently, take it over, acknowledge alerts.

Design note: docs/console.md. Every time a supervisor opens a transcript an
audit row says who and when (``supervisor_join``, ``supervisor_view``); a
take-over and an acknowledgement are audited too. The caller never learns a
supervisor is reading; a take-over tells them a new person joined.
"""

from __future__ import annotations

import uuid
from typing import Any

import structlog

from server import protocol as p
from server.connection import Connection
from server.console_actions import release_locally, summary
from server.models import Conversation, Staff
from server.services import Services

log = structlog.get_logger(__name__)


async def conversation_detail(services: Services, conv: Conversation) -> dict[str, Any]:
    """What staff see beside the transcript: notes, whispers, triage results, who holds it."""
    store = services.store
    holder = await store.staff_by_id(conv.counsellor_id) if conv.counsellor_id else None
    return {
        **summary(conv),
        "counsellor": holder.display_name if holder else None,
        "counsellor_id": conv.counsellor_id,
        "notes": await store.notes(conv.id),
        "whispers": await store.whispers(conv.id),
        "risk": await store.risk_assessments(conv.id),
    }


async def join(services: Services, staff: Staff, conn: Connection, conv: Conversation) -> None:
    """Follow a conversation without the caller knowing; the whole transcript follows."""
    await services.store.audit(staff.id, "supervisor_join", conv.id)
    log.info("supervisor_joined", conversation=str(conv.id))
    conn.send({"type": "joined_silently", **await conversation_detail(services, conv)})
    await conn.follow(conv.id, conn.last_seq.get(conv.id, 0), catch_up=True)


async def take_over(services: Services, staff: Staff, conn: Connection, conv: Conversation) -> None:
    """The supervisor becomes the conversation's counsellor."""
    moved = await services.store.reassign(conv.id, staff.id)
    if moved is None:
        raise p.ProtocolError(
            p.CONVERSATION_CLOSED, "this conversation is not active", str(conv.id)
        )
    taken, previous = moved
    await services.store.audit(staff.id, "take_over", conv.id, {"previous_counsellor": previous})
    await services.hub.handed_over(conv.id, previous, staff.id, taken.risk_tier)
    if previous is not None and previous != staff.id:
        await services.bus.publish(
            f"staff:{previous}",
            {
                "type": "transferred_out",
                "conversation": str(conv.id),
                "reason": "take_over",
                "by": staff.display_name,
            },
        )
        await release_locally(services, previous, conv.id)
    await services.bus.publish(
        f"conv:{conv.id}",
        {
            "type": "joined",
            "conversation": str(conv.id),
            "role": "counsellor",
            "name": staff.display_name,
        },
    )
    sockets = services.hub.sockets_of(staff.id) or [conn]
    for socket in sockets:
        socket.send({"type": "assigned", "taken_over": True, **summary(taken)})
        await socket.follow(conv.id, socket.last_seq.get(conv.id, 0), catch_up=True)


async def acknowledge(services: Services, staff: Staff, raw_id: str) -> None:
    acked = await services.store.acknowledge_alert(uuid.UUID(raw_id), staff.id)
    if acked is None:
        raise p.ProtocolError(p.UNKNOWN_ALERT, "no such alert", raw_id)
    await services.bus.publish("supervisors", {**acked, "type": "alert_ack"})
