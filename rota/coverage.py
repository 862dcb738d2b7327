"""Coverage: gaps and overstaffing in a window, and who is on shift now.

Design note: docs/rota.md ("How gaps are computed"). For each line and role the
needs (requirements resolved to UTC, tiling the window) are merged with a step
function of how many distinct people are on duty, built by sorting duty start
and end events: an interval sweep, so the cost grows with the number of shifts,
not with the length of the window in minutes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from rota.localtime import as_utc
from rota.model import ClockIn, Duty, Role, Rota
from rota.needs import Need, line_needs
from rota.shifts import ChangeOutcome, active_clock_ins, effective_shifts, resolve

_NO_TIME = timedelta(0)


@dataclass(frozen=True)
class Gap:
    """Too few ``role`` on ``line_id`` over ``[start, end)``; ``reasons`` say why."""

    line_id: str
    role: Role
    start: datetime
    end: datetime
    missing: int
    reasons: tuple[str, ...]

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line_id,
            "role": str(self.role),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "missing": self.missing,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class Overstaffing:
    """More ``role`` on ``line_id`` than its maximum over ``[start, end)``."""

    line_id: str
    role: Role
    start: datetime
    end: datetime
    excess: int
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line_id,
            "role": str(self.role),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "excess": self.excess,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class Totals:
    """Person-time for one line and role: ``covered + missing == required``."""

    required: timedelta = _NO_TIME
    covered: timedelta = _NO_TIME
    missing: timedelta = _NO_TIME
    surplus: timedelta = _NO_TIME


@dataclass(frozen=True)
class Coverage:
    start: datetime
    end: datetime
    gaps: tuple[Gap, ...]
    overstaffing: tuple[Overstaffing, ...]
    totals: dict[tuple[str, Role], Totals] = field(default_factory=dict)
    changes: tuple[ChangeOutcome, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (the shape the HTTP API and ``rota gaps --json`` emit)."""
        return {
            "version": 1,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "gaps": [g.to_dict() for g in self.gaps],
            "overstaffing": [o.to_dict() for o in self.overstaffing],
        }


_Event = tuple[datetime, int, str]


def staffing_steps(duties: Iterable[Duty]) -> list[tuple[datetime, int]]:
    """Step function ``[(instant, head count from then on)]`` of distinct people on duty.

    A person with two overlapping duties for the same line and role (a one-off
    shift on top of a template) counts once.
    """
    events: list[_Event] = []
    for duty in duties:
        if duty.start < duty.end:
            events.append((duty.start, 1, duty.staff_id))
            events.append((duty.end, -1, duty.staff_id))
    return _steps(events)


def _steps(events: list[_Event]) -> list[tuple[datetime, int]]:
    # Plain tuple order (C comparisons, no key function): time, then ends
    # before starts; ties collapse into one step below anyway.
    events.sort()
    active: dict[str, int] = {}
    count = 0
    steps: list[tuple[datetime, int]] = []
    last_instant: datetime | None = None
    for instant, delta, staff_id in events:
        before = active.get(staff_id, 0)
        active[staff_id] = before + delta
        if before == 0:
            count += 1
        elif before == 1 and delta < 0:
            count -= 1
        if instant == last_instant:
            steps[-1] = (instant, count)
        else:
            steps.append((instant, count))
            last_instant = instant
    return steps


def _people(count: int, role: Role) -> str:
    return f"{count} {role}" if count == 1 else f"{count} {role}s"


def _sweep(
    needs: Sequence[Need], steps: Sequence[tuple[datetime, int]]
) -> tuple[list[Gap], list[Overstaffing], Totals]:
    gaps: list[Gap] = []
    over: list[Overstaffing] = []
    required = covered = missing = surplus = _NO_TIME
    i = 0
    count = 0
    for need in needs:
        while i < len(steps) and steps[i][0] <= need.start:
            count = steps[i][1]
            i += 1
        piece_start = need.start
        while piece_start < need.end:
            piece_end = steps[i][0] if i < len(steps) and steps[i][0] < need.end else need.end
            length = piece_end - piece_start
            required += need.minimum * length
            covered += min(count, need.minimum) * length
            if count < need.minimum:
                short = need.minimum - count
                missing += short * length
                reason = (
                    f"{_people(count, need.role)} scheduled, {need.minimum} required"
                    f" ({need.reason})"
                )
                _extend_gap(gaps, need, piece_start, piece_end, short, reason)
            elif count > need.maximum:
                excess = count - need.maximum
                surplus += excess * length
                reason = (
                    f"{_people(count, need.role)} scheduled, at most {need.maximum} ({need.reason})"
                )
                _extend_over(over, need, piece_start, piece_end, excess, reason)
            piece_start = piece_end
            if piece_end < need.end:
                count = steps[i][1]
                i += 1
    return gaps, over, Totals(required, covered, missing, surplus)


def _extend_gap(
    gaps: list[Gap], need: Need, start: datetime, end: datetime, missing: int, reason: str
) -> None:
    # Adjacent pieces with the same shortfall become one gap: a digest should
    # say "no counsellor Sun 00:00-08:00", not list every shift boundary.
    if gaps and gaps[-1].end == start and gaps[-1].missing == missing:
        last = gaps[-1]
        reasons = last.reasons if reason in last.reasons else (*last.reasons, reason)
        gaps[-1] = Gap(last.line_id, last.role, last.start, end, missing, reasons)
    else:
        gaps.append(Gap(need.line_id, need.role, start, end, missing, (reason,)))


def _extend_over(
    over: list[Overstaffing],
    need: Need,
    start: datetime,
    end: datetime,
    excess: int,
    reason: str,
) -> None:
    if over and over[-1].end == start and over[-1].excess == excess:
        last = over[-1]
        reasons = last.reasons if reason in last.reasons else (*last.reasons, reason)
        over[-1] = Overstaffing(last.line_id, last.role, last.start, end, excess, reasons)
    else:
        over.append(Overstaffing(need.line_id, need.role, start, end, excess, (reason,)))


def compute_coverage(
    rota: Rota,
    start: datetime,
    end: datetime,
    *,
    line_ids: Collection[str] | None = None,
    clock_ins: Iterable[ClockIn] = (),
) -> Coverage:
    """Gaps and overstaffing of every line (or ``line_ids``) in ``[start, end)``."""
    start = as_utc(start, "start")
    end = as_utc(end, "end")
    if end <= start:
        return Coverage(start, end, (), ())
    shifts, changes = effective_shifts(rota, start, end, line_ids=line_ids)
    # Events straight from shifts, skipping Duty objects: this loop runs for
    # every shift of the year in the benchmark.
    events: dict[tuple[str, Role], list[_Event]] = defaultdict(list)
    for shift in shifts:
        for a in shift.assignments:
            line_role = events[(shift.line_id, a.role)]
            line_role.append((shift.start, 1, a.staff_id))
            line_role.append((shift.end, -1, a.staff_id))
    for c in active_clock_ins(rota, start, end, line_ids=line_ids, clock_ins=clock_ins):
        events[(c.line_id, c.role)].append((c.start, 1, c.staff_id))
        events[(c.line_id, c.role)].append((c.end, -1, c.staff_id))
    gaps: list[Gap] = []
    over: list[Overstaffing] = []
    totals: dict[tuple[str, Role], Totals] = {}
    for line in rota.lines:
        if line_ids is not None and line.line_id not in line_ids:
            continue
        needs = line_needs(line, rota.holidays, start, end)
        for role in Role:
            steps = _steps(events.get((line.line_id, role), []))
            role_gaps, role_over, role_totals = _sweep(needs[role], steps)
            gaps.extend(role_gaps)
            over.extend(role_over)
            totals[(line.line_id, role)] = role_totals
    gaps.sort(key=lambda g: (g.start, g.line_id, g.role))
    over.sort(key=lambda o: (o.start, o.line_id, o.role))
    return Coverage(start, end, tuple(gaps), tuple(over), totals, tuple(changes))


def find_gaps(rota: Rota, start: datetime, end: datetime) -> tuple[Gap, ...]:
    """Gaps of every line in ``[start, end)``, merged, in time order."""
    return compute_coverage(rota, start, end).gaps


@dataclass(frozen=True)
class OnShift:
    """A person who may be offered conversations on a line now, and why."""

    staff_id: str
    line_id: str
    role: Role
    start: datetime
    end: datetime
    reason: str


# A shift or clock-in covering `now` is found by resolving a window of this
# width; any positive width works, one second keeps the expansion minimal.
_INSTANT = timedelta(seconds=1)


def on_shift_now(
    rota: Rota,
    line_id: str,
    now: datetime,
    *,
    clock_ins: Iterable[ClockIn] = (),
) -> tuple[OnShift, ...]:
    """Who is on shift for ``line_id`` at ``now`` (effective shifts plus clock-ins).

    Someone both scheduled and clocked in appears once per duty, so the hub
    sees every reason; it should deduplicate by ``staff_id`` when offering.
    """
    now = as_utc(now, "now")
    resolution = resolve(rota, now, now + _INSTANT, line_ids={line_id}, clock_ins=clock_ins)
    on_shift = [
        OnShift(d.staff_id, d.line_id, d.role, d.start, d.end, d.reason)
        for d in resolution.duties
        if d.line_id == line_id and d.start <= now < d.end
    ]
    on_shift.sort(key=lambda o: (o.role != Role.SUPERVISOR, o.staff_id, o.start))
    return tuple(on_shift)
