"""Coverage against demand: expected contacts per hour of the week vs. counsellors.

Design note: docs/rota.md ("Demand and Erlang C"). Queueing model: Erlang C
(M/M/N). With offered load ``A`` = arrival rate x mean handling time (in
Erlangs) and ``N`` agents, the probability that a contact waits is
``P_w = C(N, A)`` and the mean wait is ``P_w * AHT / (N - A)``; with
``N <= A`` the queue grows without bound. A counsellor handles about two chats
at once, so ``N = floor(counsellors x concurrency)``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rota.coverage import staffing_steps
from rota.localtime import as_utc
from rota.model import Role, Rota
from rota.shifts import resolve

HOURS_PER_WEEK = 168

# Counsellors on these lines keep about two chats open at once (the issue's
# figure); a parameter everywhere because it differs between lines and people.
DEFAULT_CONCURRENCY = 2.0

# A waiting person in crisis may give up quickly; flag hours whose mean wait
# exceeds this even when the queue is stable.
DEFAULT_TARGET_WAIT = timedelta(minutes=2)


def erlang_b(load: float, agents: int) -> float:
    """Blocking probability B(N, A) by the recurrence B_k = A B_{k-1} / (k + A B_{k-1}).

    The recurrence never forms A**N or N!, so it is stable for hundreds of agents.
    """
    if load < 0 or agents < 0:
        raise ValueError("load and agents must be non-negative")
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = load * blocking / (k + load * blocking)
    return blocking


def erlang_c(load: float, agents: int) -> float:
    """Probability of waiting P_w = C(N, A); 1.0 when ``agents <= load`` (unstable)."""
    if load <= 0:
        return 0.0
    if agents <= load:
        return 1.0
    blocking = erlang_b(load, agents)
    return agents * blocking / (agents - load * (1 - blocking))


def expected_wait(load: float, agents: int, handling_time: timedelta) -> timedelta | None:
    """Mean wait P_w * AHT / (N - A); None when the queue is unstable (N <= A)."""
    if load <= 0:
        return timedelta(0)
    if agents <= load:
        return None
    return erlang_c(load, agents) * handling_time / (agents - load)


@dataclass(frozen=True)
class Contact:
    """One past contact: when it started and how long it was handled."""

    start: datetime
    duration: timedelta


@dataclass(frozen=True)
class HourDemand:
    """Demand and staffing for one hour of the week (0 = Monday 00:00-01:00 local)."""

    hour_of_week: int
    expected_contacts: float
    load: float
    counsellors: int
    agents: int
    wait_probability: float
    expected_wait: timedelta | None
    flagged: bool
    reason: str

    @property
    def label(self) -> str:
        day = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[self.hour_of_week // 24]
        hour = self.hour_of_week % 24
        return f"{day} {hour:02d}:00-{hour + 1:02d}:00"

    def to_dict(self) -> dict[str, Any]:
        return {
            "hour_of_week": self.hour_of_week,
            "label": self.label,
            "expected_contacts": round(self.expected_contacts, 3),
            "load_erlangs": round(self.load, 3),
            "counsellors": self.counsellors,
            "agents": self.agents,
            "wait_probability": round(self.wait_probability, 4),
            "expected_wait_seconds": None
            if self.expected_wait is None
            else round(self.expected_wait.total_seconds(), 1),
            "flagged": self.flagged,
            "reason": self.reason,
        }


def hour_of_week(instant: datetime, tz: ZoneInfo) -> int:
    local = instant.astimezone(tz)
    return local.weekday() * 24 + local.hour


def hour_occurrences(start: datetime, end: datetime, tz: ZoneInfo) -> list[int]:
    """How many times each local hour of the week occurs in ``[start, end)``.

    Counted by stepping real (UTC) hours, so a partial week or a DST change
    (a local hour skipped or repeated) divides by the right number of weeks.
    """
    start = as_utc(start, "start")
    end = as_utc(end, "end")
    counts = [0] * HOURS_PER_WEEK
    instant = start
    while instant < end:
        counts[hour_of_week(instant, tz)] += 1
        instant += timedelta(hours=1)
    return counts


def scheduled_counsellors(rota: Rota, line_id: str, week_start: datetime) -> list[int]:
    """Counsellors scheduled in each local hour of the week beginning ``week_start``.

    The fewest on duty at any moment of the hour: a handover gap of ten
    minutes is when contacts queue, so the conservative count is the honest one.
    """
    tz = ZoneInfo(rota.line(line_id).timezone)
    week_start = as_utc(week_start, "week_start")
    end = week_start + timedelta(days=7)
    duties = [
        d
        for d in resolve(rota, week_start, end, line_ids={line_id}).duties
        if d.role == Role.COUNSELLOR
    ]
    steps = staffing_steps(duties)
    result = [-1] * HOURS_PER_WEEK
    count = 0
    i = 0
    hour_start = week_start
    while hour_start < end:
        hour_end = hour_start + timedelta(hours=1)
        while i < len(steps) and steps[i][0] <= hour_start:
            count = steps[i][1]
            i += 1
        fewest = count
        j = i
        while j < len(steps) and steps[j][0] < hour_end:
            fewest = min(fewest, steps[j][1])
            j += 1
        slot = hour_of_week(hour_start, tz)
        # On the fall-back night a local hour happens twice; keep the worse.
        result[slot] = fewest if result[slot] < 0 else min(result[slot], fewest)
        hour_start = hour_end
    # The hour skipped in spring never occurs this week; reuse the hour before.
    for slot in range(HOURS_PER_WEEK):
        if result[slot] < 0:
            result[slot] = result[slot - 1] if result[slot - 1] >= 0 else 0
    return result


def demand_vs_schedule(
    contacts: Iterable[Contact],
    history_start: datetime,
    history_end: datetime,
    counsellors_by_hour: Mapping[int, int] | list[int],
    *,
    timezone: str = "Europe/Stockholm",
    concurrency: float = DEFAULT_CONCURRENCY,
    target_wait: timedelta = DEFAULT_TARGET_WAIT,
) -> list[HourDemand]:
    """For each hour of the week, expected contacts next to the counsellors scheduled.

    Expected contacts are the contacts that started in that local hour divided
    by how often the hour occurred in ``[history_start, history_end)``. The
    handling time is the mean over the whole history (per-hour means are too
    noisy for a small helpline). An hour is flagged when the queue is unstable
    (agents <= load) or the mean wait exceeds ``target_wait``.
    """
    tz = ZoneInfo(timezone)
    occurrences = hour_occurrences(history_start, history_end, tz)
    arrivals = [0] * HOURS_PER_WEEK
    handled = timedelta(0)
    total = 0
    for contact in contacts:
        if not history_start <= contact.start < history_end:
            continue
        arrivals[hour_of_week(contact.start, tz)] += 1
        handled += contact.duration
        total += 1
    mean_handling = handled / total if total else timedelta(0)
    aht_hours = mean_handling / timedelta(hours=1)
    result = []
    for slot in range(HOURS_PER_WEEK):
        expected = arrivals[slot] / occurrences[slot] if occurrences[slot] else 0.0
        load = expected * aht_hours  # arrivals per hour x hours per contact
        counsellors = counsellors_by_hour[slot]
        agents = math.floor(counsellors * concurrency)
        wait = expected_wait(load, agents, mean_handling)
        p_wait = erlang_c(load, agents)
        if load <= 0:
            flagged, reason = False, "no contacts expected"
        elif wait is None:
            flagged = True
            reason = (
                f"unstable queue: {agents} agents ({counsellors} counsellors x {concurrency:g}) "
                f"for {load:.2f} Erlangs; the wait grows without bound"
            )
        elif wait > target_wait:
            flagged = True
            reason = (
                f"mean wait {wait.total_seconds() / 60:.1f} min exceeds "
                f"{target_wait.total_seconds() / 60:.1f} min (P_w {p_wait:.2f}, "
                f"{load:.2f} Erlangs, {agents} agents)"
            )
        else:
            flagged = False
            reason = f"mean wait {wait.total_seconds():.0f} s (P_w {p_wait:.2f})"
        result.append(
            HourDemand(slot, expected, load, counsellors, agents, p_wait, wait, flagged, reason)
        )
    return result


def contacts_per_hour(contacts: Iterable[Contact], tz: ZoneInfo) -> dict[int, int]:
    """Raw count of contacts by local hour of the week (for charts)."""
    counts: dict[int, int] = defaultdict(int)
    for contact in contacts:
        counts[hour_of_week(contact.start, tz)] += 1
    return dict(counts)
