"""Alerts about staffing: the daily digest of gaps ahead and live understaffing.

Design note: docs/rota.md ("Alerts"). Pure: the shell passes ``now`` and who
is actually present, and sends each alert once by remembering its ``key``.
Keys are built only from facts that stay put while the situation lasts (a gap's
start, a shift's id), never from ``now``, so re-running the check every minute
yields the same keys.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rota.coverage import compute_coverage, staffing_steps
from rota.localtime import as_utc, local_to_utc
from rota.model import ClockIn, Duty, Role, Rota
from rota.needs import line_needs, need_at
from rota.shifts import resolve

# The threshold: someone not connected ten minutes into their shift is
# a no-show; shorter would flag people still logging in.
NO_SHOW_GRACE = timedelta(minutes=10)

# A gap already under way when the digest runs keeps its true start (and so
# its key) if it began less than this long ago.
_DIGEST_LOOKBACK = timedelta(days=1)

# Live checks resolve this much of the past so shifts that began earlier and
# are still running are seen; no shift is longer than a day plus a DST hour.
_LIVE_LOOKBACK = timedelta(hours=25)


class AlertKind(enum.StrEnum):
    GAP_AHEAD = "gap_ahead"
    UNDERSTAFFED = "understaffed"
    NO_SHOW = "no_show"


@dataclass(frozen=True)
class Alert:
    key: str
    kind: AlertKind
    line_id: str
    role: Role
    start: datetime
    end: datetime | None
    reason: str
    staff_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": str(self.kind),
            "line": self.line_id,
            "role": str(self.role),
            "start": self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
            "staff": self.staff_id,
            "reason": self.reason,
        }


def _stamp(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _local(instant: datetime, tz: ZoneInfo) -> str:
    return instant.astimezone(tz).strftime("%a %d %b %H:%M")


def gaps_ahead(rota: Rota, now: datetime, days: int = 14) -> tuple[Alert, ...]:
    """One alert per gap between ``now`` and ``days`` days ahead, for the daily digest."""
    now = as_utc(now, "now")
    end = now + timedelta(days=days)
    coverage = compute_coverage(rota, now - _DIGEST_LOOKBACK, end)
    zones = {line.line_id: ZoneInfo(line.timezone) for line in rota.lines}
    alerts = []
    for gap in coverage.gaps:
        if gap.end <= now:
            continue
        tz = zones[gap.line_id]
        role = str(gap.role) if gap.missing == 1 else f"{gap.role}s"
        reason = (
            f"{gap.line_id}: {gap.missing} {role} missing "
            f"{_local(gap.start, tz)} - {_local(gap.end, tz)} ({tz.key}): " + "; ".join(gap.reasons)
        )
        alerts.append(
            Alert(
                # The end is left out: the window's edge clips it, and it
                # moves as the digest's window slides.
                key=f"gap:{gap.line_id}:{gap.role}:{_stamp(gap.start)}:{gap.missing}",
                kind=AlertKind.GAP_AHEAD,
                line_id=gap.line_id,
                role=gap.role,
                start=gap.start,
                end=gap.end,
                reason=reason,
            )
        )
    return tuple(alerts)


def live_understaffing(
    rota: Rota,
    present: Collection[str],
    now: datetime,
    *,
    clock_ins: Iterable[ClockIn] = (),
    grace: timedelta = NO_SHOW_GRACE,
) -> tuple[Alert, ...]:
    """Understaffing right now, given the staff ids actually connected (``present``).

    Two kinds: a line and role with fewer present on-shift people than required
    now, and a no-show (someone assigned to a shift that started at least
    ``grace`` ago who is not present). Clock-ins count as being on shift.
    """
    now = as_utc(now, "now")
    resolution = resolve(
        rota, now - _LIVE_LOOKBACK, now + timedelta(seconds=1), clock_ins=clock_ins
    )
    current: dict[tuple[str, Role], list[Duty]] = {}
    for duty in resolution.duties:
        current.setdefault((duty.line_id, duty.role), []).append(duty)
    alerts: list[Alert] = []
    for line in rota.lines:
        tz = ZoneInfo(line.timezone)
        window_start = now - _LIVE_LOOKBACK
        needs = line_needs(line, rota.holidays, window_start, now + timedelta(seconds=1))
        for role in Role:
            duties = current.get((line.line_id, role), [])
            active = [d for d in duties if d.start <= now < d.end]
            for duty in active:
                if duty.shift_id is None or duty.staff_id in present:
                    continue
                late = now - duty.start
                if late < grace:
                    continue
                alerts.append(
                    Alert(
                        key=f"no-show:{line.line_id}:{duty.shift_id}:{duty.staff_id}",
                        kind=AlertKind.NO_SHOW,
                        line_id=line.line_id,
                        role=role,
                        start=duty.start,
                        end=duty.end,
                        staff_id=duty.staff_id,
                        reason=(
                            f"{duty.staff_id} was due on {line.line_id} as {role} at "
                            f"{_local(duty.start, tz)} ({tz.key}) and is not present "
                            f"{int(late.total_seconds() // 60)} min later"
                        ),
                    )
                )
            need = need_at(needs[role], now)
            if need is None or need.minimum == 0:
                continue
            here = {d.staff_id for d in active if d.staff_id in present}
            if len(here) >= need.minimum:
                continue
            # Anchor the key to when the current staffing situation began (the
            # latest shift or requirement boundary), so it is stable minute to
            # minute but a new hand-over that is again short alerts afresh.
            # A need reaching back to the window's edge has no stable start of
            # its own; the local midnight then re-alerts at most once a day.
            need_start = need.start
            if need_start <= window_start:
                need_start = local_to_utc(now.astimezone(tz).date(), 0, tz)
            boundaries = [t for t, _ in staffing_steps(duties) if t <= now]
            since = max([need_start, *boundaries])
            missing = need.minimum - len(here)
            scheduled = len({d.staff_id for d in active})
            alerts.append(
                Alert(
                    key=f"understaffed:{line.line_id}:{role}:{_stamp(since)}:{missing}",
                    kind=AlertKind.UNDERSTAFFED,
                    line_id=line.line_id,
                    role=role,
                    start=since,
                    end=None,
                    reason=(
                        f"{line.line_id}: {len(here)} {role} present of {need.minimum} "
                        f"required ({scheduled} on shift; {need.reason})"
                    ),
                )
            )
    return tuple(alerts)
