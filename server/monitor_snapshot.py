"""The supervisor's shift monitor: the snapshot pushed over the staff socket.

Design note: docs/console.md ("Shift monitor"). While a supervisor's socket is
subscribed (frame ``monitor``), the server pushes a ``monitor_snapshot`` every
``SNAPSHOT_INTERVAL_S``: queues per line with a health light, active
conversations, staff on shift, rota coverage, alerts. Alerts themselves also
arrive at once as ``alert`` frames on the ``supervisors`` channel. The wait
alerts are raised by ``server.wait_watch`` in every process, watched or not.

Presence (who is on shift, their status and load) is this process's view.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from rota.alerts import live_understaffing
from rota.coverage import compute_coverage
from rota.model import Rota
from server.connection import Connection
from server.errors import STORE_DOWN
from server.models import Staff
from server.queue_health import Staffing, Thresholds, Waiting, queue_health
from server.rota_jobs import present_usernames
from server.services import Services
from server.wait_watch import staffing_by_line

log = structlog.get_logger(__name__)

# Often enough that a new caller shows within a glance, rarely enough that a
# dozen supervisors cost the database little (five short queries a push).
SNAPSHOT_INTERVAL_S = 2.0
# How far ahead the monitor shows rota gaps (the issue asks for a day).
COVERAGE_HORIZON = timedelta(hours=24)
# Coverage changes only with the rota or the minute; recomputing it for every
# push of every supervisor would be waste.
COVERAGE_CACHE_S = 30.0


async def current_rota(services: Services) -> Rota | None:
    provider = services.extras.get("rota")
    if provider is None:
        return None
    value = provider()
    if inspect.isawaitable(value):
        value = await value
    return value if isinstance(value, Rota) else None


async def _coverage(
    services: Services, rota: Rota | None, now: datetime, everyone: list[dict[str, Any]]
) -> dict[str, Any] | None:
    if rota is None:
        return None
    # Staff of every process: one connected elsewhere is not missing from the rota.
    present = sorted(await present_usernames(services, everyone))
    key = (id(rota), tuple(present))
    cached: tuple[Any, datetime, dict[str, Any]] | None = services.extras.get(
        "monitor_coverage_cache"
    )
    if (
        cached is not None
        and cached[0] == key
        and (now - cached[1]).total_seconds() < COVERAGE_CACHE_S
    ):
        return cached[2]
    coverage = compute_coverage(rota, now, now + COVERAGE_HORIZON)
    result: dict[str, Any] = {
        "start": coverage.start.isoformat(),
        "end": coverage.end.isoformat(),
        "gaps": [g.to_dict() for g in coverage.gaps],
        "now": [a.to_dict() for a in live_understaffing(rota, present, now)],
    }
    services.extras["monitor_coverage_cache"] = (key, now, result)
    return result


async def build_snapshot(
    services: Services, now: datetime | None = None, viewer: Staff | None = None
) -> dict[str, Any]:
    """Everything the monitor shows, as one JSON-able ``monitor_snapshot`` frame.

    With a ``viewer``, only the lines they serve (a supervisor with no lines
    listed serves every line, as in matching).
    """
    now = now or datetime.now(UTC)
    stamp = now.timestamp()
    store, hub = services.store, services.hub
    lines = [line for line in await store.list_lines() if viewer is None or viewer.serves(line.id)]
    shown = {line.id for line in lines}
    settings = await store.line_settings()
    queued = [c for c in await store.queued_conversations() if c.line_id in shown]
    active = [(c, name) for c, name in await store.active_conversations() if c.line_id in shown]
    # The presence board, read once for the coverage, the health lights and the staff.
    everyone = await hub.everyone_on_shift()
    coverage = await _coverage(services, await current_rota(services), now, everyone)

    weights = hub.policy
    staff_rows = []
    staffing: dict[str, Staffing] = {}
    # Counsellors of every process, from the presence board, not just this one's.
    board = staffing_by_line(everyone, shown)
    for line in lines:
        shortfall = tuple(
            a["reason"]
            for a in (coverage or {}).get("now", [])
            if a["line"] == line.id and a["kind"] == "understaffed"
        )
        staffing[line.id] = dataclasses.replace(board[line.id], rota_shortfall=shortfall)
    for presence in hub.presence.values():
        if not any(presence.staff.serves(line_id) for line_id in shown):
            continue
        load = sum(weights.weight(t, presence.staff.capacity) for t in presence.held.values())
        staff_rows.append(
            {
                "id": presence.staff.id,
                "name": presence.staff.display_name,
                "role": presence.staff.role.value,
                "lines": presence.staff.line_ids,
                "connected": bool(presence.sockets),
                "on_shift": presence.on_shift,
                "availability": presence.availability,
                "reason": presence.availability_reason,
                "conversations": len(presence.held),
                "load": round(load, 2),
                "capacity": presence.staff.capacity,
            }
        )
    # Staff on shift on the other processes, from their presence board entries.
    here = set(hub.presence)
    for entry in everyone:
        serves = set(entry.get("lines", ()))  # none: every line, as Staff.serves reads it
        if entry.get("staff") in here or (serves and not serves & shown):
            continue
        here.add(entry["staff"])
        staff_rows.append(
            {
                "id": entry["staff"],
                "name": entry.get("name", ""),
                "role": entry.get("role", "counsellor"),
                "lines": entry.get("lines", []),
                "connected": True,
                "on_shift": True,
                "availability": entry.get(
                    "availability", "available" if entry.get("available", True) else "away"
                ),
                "reason": entry.get("reason"),
                "conversations": entry.get("conversations", 0),
                "load": round(float(entry.get("load", 0)), 2),
                "capacity": entry.get("capacity", 0),
            }
        )
    staff_rows.sort(key=lambda s: (not s["on_shift"], s["name"]))

    waiting = [Waiting(str(c.id), c.line_id, c.risk_tier, c.queued_at.timestamp()) for c in queued]
    thresholds = {line.id: Thresholds.from_settings(settings.get(line.id, {})) for line in lines}
    line_rows = []
    for line in lines:
        line_waiting = [w for w in waiting if w.line_id == line.id]
        health = queue_health(line_waiting, staffing[line.id], thresholds[line.id], stamp)
        longest = max((stamp - w.queued_at for w in line_waiting), default=0.0)
        line_rows.append(
            {
                "id": line.id,
                "name": line.name,
                "waiting": len(line_waiting),
                "longest_wait_s": round(longest),
                "health": health.light.value,
                "health_reasons": list(health.reasons),
                "health_why": [w.to_json() for w in health.why],
                "on_shift": staffing[line.id].on_shift,
                "available": staffing[line.id].available,
                "free_slots": round(staffing[line.id].free_slots, 2),
            }
        )
    return {
        "type": "monitor_snapshot",
        "at": now.isoformat(),
        "lines": line_rows,
        "queue": [
            {
                "conversation": str(c.id),
                "line": c.line_id,
                "lang": c.lang,
                "tier": c.risk_tier.label,
                "waited_s": round(max(0.0, stamp - c.queued_at.timestamp())),
            }
            for c in queued
        ],
        "active": [
            {
                "conversation": str(c.id),
                "line": c.line_id,
                "lang": c.lang,
                "tier": c.risk_tier.label,
                "counsellor": name,
                "counsellor_id": c.counsellor_id,
                "duration_s": round(stamp - c.accepted_at.timestamp()) if c.accepted_at else 0,
                "caller_ended": c.caller_ended_at is not None,
            }
            for c, name in active
        ],
        "staff": staff_rows,
        "coverage": coverage,
        "rota_loaded": coverage is not None,
        "alerts": [
            a for a in await store.recent_alerts() if a["line"] is None or a["line"] in shown
        ],
    }


def public(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The snapshot without its internal facts (names starting with ``_``)."""
    return {k: v for k, v in snapshot.items() if not k.startswith("_")}


async def push_snapshots(services: Services, conn: Connection, viewer: Staff) -> None:
    """Push a snapshot now and every ``SNAPSHOT_INTERVAL_S`` until cancelled."""
    while not conn.closed.is_set():
        try:
            now = datetime.now(UTC)
            conn.send(public(await build_snapshot(services, now, viewer)))
        except asyncio.CancelledError:
            raise
        except STORE_DOWN:
            log.warning("monitor_snapshot_store_unavailable")
        except Exception:
            # One bad push (say, a rota that fails to resolve) must not stop the monitor.
            log.exception("monitor_snapshot_failed")
        await asyncio.sleep(SNAPSHOT_INTERVAL_S)


async def stop_task(task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
