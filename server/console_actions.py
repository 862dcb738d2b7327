"""The counsellor console's own frames: re-assess risk, notes, transfer, help, wrap-up.

Design note: docs/console.md. Called by ``server.staff_ws`` once the frame is
parsed and the staff member is known to hold (or supervise) the conversation.
Staff-only events go out on the conversation's channel with
``"audience": "staff"``, which ``server.connection`` never writes to a caller.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import structlog

from server import protocol as p
from server.alerts import raise_alert
from server.connection import Connection
from server.models import Conversation, RiskTier, Staff
from server.risk import escalate
from server.services import Services

log = structlog.get_logger(__name__)


def summary(conv: Conversation) -> dict[str, Any]:
    """A conversation as staff see it in ``hello``, ``assigned`` and transfers."""
    return {
        "conversation": str(conv.id),
        "line": conv.line_id,
        "lang": conv.lang,
        "tier": conv.risk_tier.label,
        "state": conv.state.value,
        "last_seq": conv.last_seq,
        "queued_at": conv.queued_at.isoformat(),
        "accepted_at": conv.accepted_at.isoformat() if conv.accepted_at else None,
        "caller_ended": conv.caller_ended_at is not None,
    }


async def reassess(
    services: Services, staff: Staff, conv: Conversation, frame: dict[str, Any]
) -> None:
    """Set the tier with a reason: audited, and the only way a tier goes down."""
    tier = RiskTier.parse(frame["tier"])
    reason = frame["reason"].strip()
    changed = await services.store.reassess_risk(conv.id, tier, staff.id, reason)
    if changed is None:
        raise p.ProtocolError(p.CONVERSATION_CLOSED, "no such conversation", str(conv.id))
    previous, now = changed
    services.hub.set_tier(conv.id, now)
    await services.bus.publish(
        f"conv:{conv.id}",
        {
            "type": "risk",
            "audience": "staff",
            "conversation": str(conv.id),
            "tier": now.label,
            "previous_tier": previous.label,
            "by": "supervisor" if staff.is_supervisor else "counsellor",
            "staff": staff.display_name,
            "reason": reason,
            "seq": None,
            "categories": [],
            "evidence": [],
        },
    )
    log.info("risk_reassessed", conversation=str(conv.id), tier=now.label, previous=previous.label)
    if now >= RiskTier.HIGH and now > previous:
        await escalate(
            services,
            conv,
            now,
            f"re-assessed by {staff.display_name}",
            reassessed_by=staff.display_name,
        )


async def note(services: Services, staff: Staff, conv: Conversation, frame: dict[str, Any]) -> None:
    """A private note: its own table, so the caller's sequence stays gapless."""
    stored = await services.store.add_note(conv.id, staff.id, frame["text"])
    await services.bus.publish(f"conv:{conv.id}", {"type": "note", "audience": "staff", **stored})


async def whisper(
    services: Services, staff: Staff, conv: Conversation, text: str
) -> dict[str, Any]:
    """A staff-only line between supervisor and counsellor; never a caller message."""
    stored = await services.store.add_whisper(conv.id, staff.id, text)
    frame = {"type": "whisper", "audience": "staff", "role": staff.role.value, **stored}
    await services.bus.publish(f"conv:{conv.id}", frame)
    return frame


async def ask_for_help(
    services: Services, staff: Staff, conv: Conversation, frame: dict[str, Any]
) -> None:
    """Alert the supervisors; the counsellor's words go as a whisper, not by e-mail."""
    text = frame.get("text")
    if isinstance(text, str) and text.strip():
        await whisper(services, staff, conv, text.strip())
    await raise_alert(
        services,
        key=f"help:{conv.id}:{uuid.uuid4()}",
        kind="help",
        reason=f"{staff.display_name} asks for a supervisor on {conv.line_id}",
        line_id=conv.line_id,
        conversation_id=conv.id,
        tier=conv.risk_tier.label,
        why={"code": "help", "params": {"name": staff.display_name}},
    )
    await services.store.audit(staff.id, "help_requested", conv.id)


async def on_shift_somewhere(services: Services, staff_id: int) -> bool:
    """On shift with a socket open, in this process or (presence board) another."""
    local = services.hub.presence.get(staff_id)
    if local is not None and local.sockets and local.on_shift:
        return True
    return any(e.get("staff") == staff_id for e in await services.hub.everyone_on_shift())


async def transfer(
    services: Services, staff: Staff, conv: Conversation, frame: dict[str, Any]
) -> None:
    """Hand the conversation to a colleague on shift (in any process), or back to a queue.

    ``transferred_out`` goes to the giver and ``transferred_in`` to the
    receiver over the bus; each process with their sockets follows or lets go
    (``server.staff_ws``), so giver and receiver may be on different processes.
    """
    store, hub = services.store, services.hub
    if "to_line" in frame:
        line = await store.get_line(frame["to_line"])
        if line is None or conv.lang not in line.languages:
            raise p.ProtocolError(
                p.TRANSFER_REFUSED, "no such line, or it does not speak this language", str(conv.id)
            )
        requeued = await store.requeue(conv.id, staff.id, line.id)
        if requeued is None:
            raise p.ProtocolError(p.TRANSFER_REFUSED, "the conversation cannot move", str(conv.id))
        await store.audit(
            staff.id, "transferred", conv.id, {"from_line": conv.line_id, "to_line": line.id}
        )
        await hub.released(staff.id, conv.id)
        hub.forget_queue_frame(conv.id)
        await services.bus.publish(
            f"staff:{staff.id}",
            {"type": "transferred_out", "conversation": str(conv.id), "to_line": line.id},
        )
        return
    target_id = int(frame["to_staff"])
    target = await store.staff_by_id(target_id)
    if (
        target_id == staff.id
        or target is None
        or not target.serves(conv.line_id)
        or not await on_shift_somewhere(services, target_id)
    ):
        raise p.ProtocolError(
            p.TRANSFER_REFUSED, "that colleague is not on shift for this line", str(conv.id)
        )
    moved = await store.reassign(conv.id, target_id, from_staff_id=staff.id)
    if moved is None:
        raise p.ProtocolError(p.TRANSFER_REFUSED, "the conversation cannot move", str(conv.id))
    moved_conv, _previous = moved
    await store.audit(staff.id, "transferred", conv.id, {"to_staff": target_id})
    await hub.handed_over(conv.id, staff.id, target_id, moved_conv.risk_tier)
    await services.bus.publish(
        f"staff:{target_id}",
        {"type": "transferred_in", "from": staff.display_name, **summary(moved_conv)},
    )
    await services.bus.publish(
        f"conv:{conv.id}",
        {
            "type": "joined",
            "conversation": str(conv.id),
            "role": "counsellor",
            "name": target.display_name,
        },
    )
    await services.bus.publish(
        f"staff:{staff.id}",
        {"type": "transferred_out", "conversation": str(conv.id), "to_staff": target_id},
    )


async def release_locally(services: Services, staff_id: int, conv_id: uuid.UUID) -> None:
    """Stop this process's sockets of ``staff_id`` following a conversation they gave up."""
    for conn in services.hub.sockets_of(staff_id):
        await conn.unfollow(conv_id)


async def end_with_wrap_up(
    services: Services, staff: Staff, conv: Conversation, frame: dict[str, Any]
) -> Conversation | None:
    """``end`` with the wrap-up (topics, outcome, the counsellor's tier) kept atomically."""
    outcome = frame.get("outcome")
    reason = outcome[:80] if isinstance(outcome, str) and outcome else "counsellor"
    tier = frame.get("risk_tier")
    return await services.store.wrap_up_with_summary(
        conv.id,
        staff.id,
        reason,
        list(frame.get("topics", [])),
        outcome if outcome in p.OUTCOMES else None,
        RiskTier.parse(tier) if isinstance(tier, str) else None,
    )


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def send_all(conns: list[Connection], frame: dict[str, Any]) -> None:
    for conn in conns:
        conn.send(frame)
