"""Retention: transcripts are kept ``HELPLINE_RETENTION_DAYS`` after they end, then deleted.

Deleting a conversation cascades to its messages, assessments, notes,
whispers, wrap-up and rating. Cases (left questions) go when they have been
untouched that long. The audit log stays: it records who did what, not what
callers wrote. Also removes expired staff sessions.
"""

from __future__ import annotations

import structlog

from server.services import Services
from server.store import Store

log = structlog.get_logger(__name__)

# Hourly is plenty for a limit counted in days.
INTERVAL_S = 3600.0


async def purge(store: Store, retention_days: int) -> dict[str, int]:
    """Delete what is past retention now; return counts by kind."""
    conversations = await store.pool.fetchval(
        "WITH gone AS (DELETE FROM conversations WHERE state IN ('wrapped_up', 'abandoned')"
        " AND ended_at < now() - make_interval(days => $1) RETURNING 1) SELECT count(*) FROM gone",
        retention_days,
    )
    cases = await store.pool.fetchval(
        "WITH gone AS (DELETE FROM cases WHERE updated_at < now() - make_interval(days => $1)"
        " RETURNING 1) SELECT count(*) FROM gone",
        retention_days,
    )
    sessions = await store.pool.fetchval(
        "WITH gone AS (DELETE FROM staff_sessions WHERE expires_at < now() RETURNING 1)"
        " SELECT count(*) FROM gone"
    )
    return {"conversations": int(conversations), "cases": int(cases), "sessions": int(sessions)}


async def purge_logged(services: Services) -> None:
    counts = await purge(services.store, services.settings.retention_days)
    if any(counts.values()):
        log.info("retention_purged", **counts)
