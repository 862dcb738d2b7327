"""The rota's background work: refresh, live understaffing and no-shows, the daily digest.

Runs in every server process; ``raise_alert`` lets one process send each alert.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog

from rota.alerts import gaps_ahead, live_understaffing
from server.alerts import raise_alert
from server.rota_state import RotaState
from server.services import Services

log = structlog.get_logger(__name__)

# Understaffing is checked once a minute: a no-show is only flagged after ten.
CHECK_INTERVAL_S = 60.0
DIGEST_DAYS = 14


async def present_usernames(
    services: Services, everyone: list[dict[str, Any]] | None = None
) -> set[str]:
    """Staff clocked in and connected to this process or, through the presence board,
    to any other: a counsellor working on another process is no no-show here.
    `everyone`: the board as the caller already read it (`Hub.everyone_on_shift`)."""
    hub = services.hub
    here = {p.staff.username for p in hub.presence.values() if p.on_shift and p.sockets}
    if everyone is None:
        everyone = await hub.everyone_on_shift()
    return here | {str(e["username"]) for e in everyone if e.get("username")}


async def check_once(services: Services, state: RotaState, now: datetime) -> int:
    """Refresh the rota and raise what is due; returns how many alerts were sent now."""
    await state.refresh(services.store)
    if state.rota is None:
        return 0
    sent = 0
    for alert in live_understaffing(
        state.rota, await present_usernames(services), now, clock_ins=state.rota.clock_ins
    ):
        sent += await raise_alert(
            services,
            key=alert.key,
            kind=str(alert.kind),
            reason=alert.reason,
            line_id=alert.line_id,
            # The rota words its reasons in English; the monitor adds a localised prefix.
            why={"code": "rota", "params": {"detail": alert.reason}},
        )
    gaps = gaps_ahead(state.rota, now, DIGEST_DAYS)
    digest = "\n".join(g.reason for g in gaps) or "No gaps in the next 14 days."
    sent += await raise_alert(
        services,
        key=f"digest:{now.date().isoformat()}",
        kind="digest",
        reason=f"Rota digest, next {DIGEST_DAYS} days: {len(gaps)} gaps.\n{digest}",
        why={
            "code": "rota_digest",
            "params": {"days": DIGEST_DAYS, "n": len(gaps), "detail": digest},
        },
    )
    return sent
