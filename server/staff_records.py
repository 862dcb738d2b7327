"""Rows of the console and supervision tables turned into the frames staff receive.

Kept apart from ``server.store`` so that module stays the list of SQL statements;
the shapes are documented in docs/console.md.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg

ALERT_COLUMNS = (
    "id, kind, line_id, conversation_id, tier, reason, why, created_at, acknowledged_at,"
    " (SELECT display_name FROM staff WHERE id = acknowledged_by) AS acknowledged_by_name,"
    " acknowledged_by"
)


def alert_frame(row: asyncpg.Record) -> dict[str, Any]:
    """An alert as the ``alert`` frame supervisors receive (docs/console.md)."""
    return {
        "type": "alert",
        "id": str(row["id"]),
        "kind": row["kind"],
        "line": row["line_id"],
        "conversation": str(row["conversation_id"]) if row["conversation_id"] else None,
        "tier": row["tier"],
        "reason": row["reason"],
        # {"code", "params"} for the monitor to word; None for alerts stored before 0006.
        "why": json.loads(row["why"]) if row["why"] is not None else None,
        "at": row["created_at"].isoformat(),
        "acknowledged_by": row["acknowledged_by_name"],
        "acknowledged_at": row["acknowledged_at"].isoformat() if row["acknowledged_at"] else None,
    }


def staff_text_frame(row: asyncpg.Record) -> dict[str, Any]:
    """A note or whisper: staff-only text with who wrote it and when."""
    return {
        "id": row["id"],
        "conversation": str(row["conversation_id"]),
        "staff_id": row["staff_id"],
        "by": row["display_name"],
        "text": row["body"],
        "at": row["created_at"].isoformat(),
    }
