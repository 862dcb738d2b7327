"""Wait alerts whether or not a supervisor has the monitor open: a job in every process.

Design note: docs/console.md ("Wait alerts"). Every ``CHECK_INTERVAL_S`` the
queue is read from PostgreSQL and staffing from the presence board (the
counsellors of every process, not just this one), and the pure rules of
``server.queue_health.wait_alerts`` say what to raise. ``raise_alert`` sends
each key once across processes, so every process may run this job.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import structlog

from server.alerts import raise_alert
from server.queue_health import Staffing, Thresholds, Waiting, wait_alerts
from server.services import Services

log = structlog.get_logger(__name__)

# The tightest default threshold is a high-risk caller waiting 60 s; an alert
# at most 5 s late is well inside that. Three small queries per process every
# 5 s cost the database nothing worth noticing.
CHECK_INTERVAL_S = 5.0


def staffing_by_line(
    entries: Iterable[dict[str, Any]], line_ids: Iterable[str]
) -> dict[str, Staffing]:
    """Who can answer each line now, from presence-board entries (pure).

    A counsellor connected to two processes has two entries; they count once.
    The board lists counsellors on shift; the wait rules read ``available``.
    """
    free_by_line: dict[str, dict[int, float]] = {line_id: {} for line_id in line_ids}
    on_shift_by_line: dict[str, set[int]] = {line_id: set() for line_id in free_by_line}
    for entry in entries:
        staff_id = int(entry["staff"])
        lines = entry.get("lines") or []
        for line_id, free in free_by_line.items():
            if lines and line_id not in lines:
                continue
            on_shift_by_line[line_id].add(staff_id)
            if entry.get("available", True):
                room = max(0.0, float(entry["capacity"]) - float(entry["load"]))
                free[staff_id] = max(room, free.get(staff_id, 0.0))
    return {
        line_id: Staffing(
            on_shift=len(on_shift_by_line[line_id]),
            available=len(free),
            free_slots=sum(free.values()),
        )
        for line_id, free in free_by_line.items()
    }


async def check_once(services: Services, now: datetime) -> int:
    """Raise the wait alerts due now; returns how many were sent by this call."""
    queued = await services.store.queued_conversations()
    if not queued:
        return 0
    waiting = [Waiting(str(c.id), c.line_id, c.risk_tier, c.queued_at.timestamp()) for c in queued]
    line_ids = {w.line_id for w in waiting}
    settings = await services.store.line_settings()
    thresholds = {
        line_id: Thresholds.from_settings(settings.get(line_id, {})) for line_id in line_ids
    }
    staffing = staffing_by_line(await services.hub.everyone_on_shift(), line_ids)
    sent = 0
    for candidate in wait_alerts(waiting, staffing, thresholds, now.timestamp()):
        sent += await raise_alert(
            services,
            key=candidate.key,
            kind=candidate.kind,
            reason=candidate.reason,
            line_id=candidate.line_id,
            conversation_id=(
                uuid.UUID(candidate.conversation_id) if candidate.conversation_id else None
            ),
            tier=candidate.tier,
            why=candidate.why.to_json() if candidate.why else None,
        )
    return sent
