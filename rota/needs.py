"""Staffing requirements resolved into UTC intervals ("needs") for a window.

Design note: docs/rota.md ("How gaps are computed"). Per local date we cut the
day at every opening-hour and rule boundary (in local minutes), decide the
requirement of each piece by layering (default, then rules in order, only while
open), and only then convert the boundaries to UTC. The needs of one line and
role tile the window without holes, closed time included (minimum and maximum
0), so the sweep in ``coverage`` can also report people scheduled while closed.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from rota.localtime import LocalClock, as_utc, local_dates
from rota.model import (
    MINUTES_PER_DAY,
    WEEKDAY_NAMES,
    DailyRange,
    HolidayOverride,
    Line,
    RequirementRule,
    Role,
)


@dataclass(frozen=True)
class Need:
    """Over ``[start, end)`` line ``line_id`` needs ``minimum``..``maximum`` of ``role``."""

    line_id: str
    role: Role
    start: datetime
    end: datetime
    minimum: int
    maximum: int
    reason: str

    @property
    def is_open(self) -> bool:
        return not self.reason.startswith("closed")


@dataclass(frozen=True)
class _Piece:
    """Part of a local day with constant requirements, in local minutes."""

    start_minute: int
    end_minute: int
    # role -> (minimum, maximum, reason)
    per_role: tuple[tuple[Role, int, int, str], ...]


_Labelled = tuple[int, int, str]


def _ranges_on(
    day: date,
    starting: Iterable[tuple[DailyRange, str]],
    starting_day_before: Iterable[tuple[DailyRange, str]],
) -> list[_Labelled]:
    """Ranges in force on ``day`` in ``[0, 1440]``: its own and the day before's spill-over."""
    result = [(r.start_minute, min(r.end_minute, MINUTES_PER_DAY), label) for r, label in starting]
    result.extend(
        (0, r.end_minute - MINUTES_PER_DAY, label)
        for r, label in starting_day_before
        if r.end_minute > MINUTES_PER_DAY
    )
    return result


def _opening_starting(
    line: Line, day: date, holiday: HolidayOverride | None
) -> list[tuple[DailyRange, str]]:
    if holiday is not None:
        return [
            (r, f"open {r.label()} ({holiday.name}, {holiday.day.isoformat()})")
            for r in holiday.hours
        ]
    if line.opening.always:
        return [(DailyRange(0, MINUTES_PER_DAY), "open 24/7")]
    weekday = day.weekday()
    return [
        (w.range, f"open {WEEKDAY_NAMES[weekday].capitalize()} {w.range.label()}")
        for w in line.opening.weekly
        if weekday in w.weekdays
    ]


def _rules_starting(line: Line, day: date) -> list[tuple[DailyRange, RequirementRule]]:
    weekday = day.weekday()
    return [(rule.range, rule) for rule in line.rules if weekday in rule.weekdays]


def _day_pieces(
    line: Line,
    day: date,
    holiday: HolidayOverride | None,
    holiday_before: HolidayOverride | None,
) -> list[_Piece]:
    yesterday = day - timedelta(days=1)
    opening = _ranges_on(
        day,
        _opening_starting(line, day, holiday),
        _opening_starting(line, yesterday, holiday_before),
    )
    rules_today = _rules_starting(line, day)
    rules_yesterday = _rules_starting(line, yesterday)
    # Keep the layer order: a rule's spill-over from yesterday and its part
    # today sit at the rule's own position.
    rule_ranges: list[tuple[int, int, RequirementRule]] = []
    for rule in line.rules:
        for r, owner in rules_yesterday:
            if owner is rule and r.end_minute > MINUTES_PER_DAY:
                rule_ranges.append((0, r.end_minute - MINUTES_PER_DAY, rule))
        for r, owner in rules_today:
            if owner is rule:
                rule_ranges.append((r.start_minute, min(r.end_minute, MINUTES_PER_DAY), rule))

    cuts = {0, MINUTES_PER_DAY}
    cuts.update(m for a, b, _ in opening for m in (a, b))
    cuts.update(m for a, b, _ in rule_ranges for m in (a, b))
    bounds = sorted(cuts)

    closed_reason = "closed"
    if holiday is not None:
        closed_reason = f"closed ({holiday.name}, {holiday.day.isoformat()})"

    pieces: list[_Piece] = []
    for a, b in itertools.pairwise(bounds):
        open_label = next((label for s, e, label in opening if s <= a and b <= e), None)
        if open_label is None:
            per_role = tuple((role, 0, 0, closed_reason) for role in Role)
        else:
            per_role = _layered(line, [rule for s, e, rule in rule_ranges if s <= a and b <= e])
            per_role = tuple(
                (role, lo, hi, f"{source}; {open_label}") for role, lo, hi, source in per_role
            )
        if pieces and pieces[-1].per_role == per_role:
            last = pieces[-1]
            pieces[-1] = _Piece(last.start_minute, b, per_role)
        else:
            pieces.append(_Piece(a, b, per_role))
    return pieces


def _layered(
    line: Line, rules: Sequence[RequirementRule]
) -> tuple[tuple[Role, int, int, str], ...]:
    result = []
    for role in Role:
        minimum = line.default_minimum.get(role, 0)
        maximum = line.default_maximum.get(role)
        source = "default requirement"
        for rule in rules:
            if role in rule.minimum:
                minimum = rule.minimum[role]
                maximum = None
                source = f"rule '{rule.name}'"
            if role in rule.maximum:
                maximum = rule.maximum[role]
                source = f"rule '{rule.name}'"
        # A ceiling below the floor would report the same people as both
        # missing and surplus; the floor wins.
        ceiling = minimum if maximum is None else max(maximum, minimum)
        result.append((role, minimum, ceiling, source))
    return tuple(result)


def line_needs(
    line: Line,
    holidays: Iterable[HolidayOverride],
    start: datetime,
    end: datetime,
) -> dict[Role, list[Need]]:
    """Needs of ``line`` per role, tiling ``[start, end)`` in time order."""
    start = as_utc(start, "start")
    end = as_utc(end, "end")
    tz = ZoneInfo(line.timezone)
    clock = LocalClock(tz)
    by_day = {h.day: h for h in holidays if h.applies_to(line.line_id)}
    # Ordinary days repeat weekly; computing their pieces once per weekday is
    # what keeps a year of ten lines well under the one-second budget.
    cache: dict[tuple[int, HolidayOverride | None, HolidayOverride | None], list[_Piece]] = {}
    result: dict[Role, list[Need]] = {role: [] for role in Role}
    for day in local_dates(start, end, tz):
        holiday = by_day.get(day)
        holiday_before = by_day.get(day - timedelta(days=1))
        key = (day.weekday(), holiday, holiday_before)
        pieces = cache.get(key)
        if pieces is None:
            pieces = cache[key] = _day_pieces(line, day, holiday, holiday_before)
        for piece in pieces:
            piece_start = max(clock.to_utc(day, piece.start_minute), start)
            piece_end = min(clock.to_utc(day, piece.end_minute), end)
            if piece_start >= piece_end:
                continue
            for role, minimum, maximum, reason in piece.per_role:
                needs = result[role]
                if needs:
                    last = needs[-1]
                    if last.end == piece_start and (last.minimum, last.maximum, last.reason) == (
                        minimum,
                        maximum,
                        reason,
                    ):
                        needs[-1] = Need(
                            line.line_id, role, last.start, piece_end, minimum, maximum, reason
                        )
                        continue
                needs.append(
                    Need(line.line_id, role, piece_start, piece_end, minimum, maximum, reason)
                )
    return result


def need_at(needs: Sequence[Need], instant: datetime) -> Need | None:
    """The need in force at ``instant`` (needs sorted and non-overlapping)."""
    for need in needs:
        if need.start <= instant < need.end:
            return need
    return None
