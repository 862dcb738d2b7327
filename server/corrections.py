"""Counsellors' re-assessments exported as new triage evaluation items (docs/triage.md).

Each ``risk_reassessed`` audit row becomes one item in the format of the
development set: the caller's last message before the correction as ``text``,
up to three earlier ones as ``context``, and the counsellor's tier as the label.
The file holds callers' words: it is for the people who maintain the lexicons,
to be reviewed (and anonymised where needed) before it joins a test set.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from server.store import Store

CONTEXT_MESSAGES = 3


async def export_corrections(store: Store, since_days: int) -> list[dict[str, Any]]:
    rows = await store.pool.fetch(
        "SELECT a.id, a.at, a.conversation_id, a.detail, c.lang FROM audit_log a"
        " JOIN conversations c ON c.id = a.conversation_id"
        " WHERE a.action = 'risk_reassessed' AND a.at >= $1 ORDER BY a.id",
        datetime.now(UTC) - timedelta(days=since_days),
    )
    items: list[dict[str, Any]] = []
    for row in rows:
        texts = await store.pool.fetch(
            "SELECT body FROM messages WHERE conversation_id = $1 AND sender = 'caller'"
            " AND created_at <= $2 ORDER BY seq DESC LIMIT $3",
            row["conversation_id"],
            row["at"],
            CONTEXT_MESSAGES + 1,
        )
        if not texts:
            continue
        bodies = [t["body"] for t in reversed(texts)]
        detail = json.loads(row["detail"])
        categories = await store.pool.fetchval(
            "SELECT categories FROM risk_assessments WHERE conversation_id = $1"
            " ORDER BY seq DESC LIMIT 1",
            row["conversation_id"],
        )
        items.append(
            {
                "id": f"correction-{row['id']}",
                "lang": row["lang"],
                "text": bodies[-1],
                "context": bodies[:-1],
                "tier": detail["to"],
                "categories": list(categories) if categories else ["none"],
                "engine_tier": detail["from"],
                "reason": detail.get("reason", ""),
            }
        )
    return items
