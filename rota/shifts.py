"""Shift templates expanded into shifts, swaps and covers applied, duties resolved.

Design note: docs/rota.md ("The model"). Template occurrences get the stable
id ``"<template_id>@<local start date>"`` so swaps, covers and calendar UIDs can
name a shift that is only ever computed, never stored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from rota.localtime import LocalClock, as_utc, local_dates
from rota.model import (
    MINUTES_PER_DAY,
    Assignment,
    ClockIn,
    Cover,
    Duty,
    Rota,
    Shift,
    ShiftTemplate,
    Staff,
    Swap,
)


def template_shift_id(template_id: str, day: date) -> str:
    return f"{template_id}@{day.isoformat()}"


def rotation_staff(template: ShiftTemplate, day: date) -> tuple[str, ...]:
    """Who the rotation puts on the occurrence starting on local date ``day``."""
    if not template.rotation:
        return ()
    turn = (day - template.rotation_start).days // template.turn_days
    size = len(template.rotation)
    first = turn * template.per_shift
    return tuple(template.rotation[(first + j) % size] for j in range(template.per_shift))


def _assignments(
    template: ShiftTemplate, day: date, by_turn: dict[int, tuple[Assignment, ...]]
) -> tuple[Assignment, ...]:
    turn = (day - template.rotation_start).days // template.turn_days
    assignments = by_turn.get(turn)
    if assignments is None:
        assignments = by_turn[turn] = tuple(
            Assignment(staff_id, template.role) for staff_id in rotation_staff(template, day)
        )
    return assignments


def expand_template(
    template: ShiftTemplate, tz: ZoneInfo | LocalClock, start: datetime, end: datetime
) -> list[Shift]:
    """Occurrences of ``template`` overlapping ``[start, end)``, in time order."""
    clock = tz if isinstance(tz, LocalClock) else LocalClock(tz)
    start = as_utc(start, "start")
    end = as_utc(end, "end")
    start_offset = timedelta(minutes=template.range.start_minute)
    end_offset = timedelta(minutes=template.range.end_minute)
    crosses = template.range.end_minute > MINUTES_PER_DAY
    one_day = timedelta(days=1)
    # A turn lasts turn_days; its (immutable) assignments are shared by its days.
    by_turn: dict[int, tuple[Assignment, ...]] = {}
    shifts = []
    for day in local_dates(start, end, clock.tz):
        if day.weekday() not in template.weekdays:
            continue
        if template.valid_from is not None and day < template.valid_from:
            continue
        if template.valid_until is not None and day > template.valid_until:
            continue
        midnight = clock.midnight(day)
        if midnight is not None and (not crosses or clock.midnight(day + one_day) is not None):
            # No offset change in the shift's days: plain addition suffices.
            shift_start = midnight + start_offset
            shift_end = midnight + end_offset
        else:
            shift_start = clock.to_utc(day, template.range.start_minute)
            shift_end = clock.to_utc(day, template.range.end_minute)
        if shift_end <= start or shift_start >= end or shift_start >= shift_end:
            continue
        shifts.append(
            Shift(
                shift_id=template_shift_id(template.template_id, day),
                line_id=template.line_id,
                start=shift_start,
                end=shift_end,
                assignments=_assignments(template, day, by_turn),
                origin=f"template '{template.template_id}'",
            )
        )
    return shifts


def shifts_in_window(
    rota: Rota,
    start: datetime,
    end: datetime,
    *,
    line_ids: Collection[str] | None = None,
) -> list[Shift]:
    """Planned shifts (templates and one-off shifts) overlapping ``[start, end)``."""
    start = as_utc(start, "start")
    end = as_utc(end, "end")
    clocks = {line.line_id: LocalClock(ZoneInfo(line.timezone)) for line in rota.lines}
    shifts: list[Shift] = []
    for template in rota.templates:
        if line_ids is not None and template.line_id not in line_ids:
            continue
        shifts.extend(expand_template(template, clocks[template.line_id], start, end))
    shifts.extend(
        replace(shift, start=as_utc(shift.start, "shift start"), end=as_utc(shift.end, "shift end"))
        for shift in rota.shifts
        if shift.start < end
        and shift.end > start
        and (line_ids is None or shift.line_id in line_ids)
    )
    shifts.sort(key=lambda s: (s.start, s.line_id, s.shift_id))
    return shifts


@dataclass(frozen=True)
class ChangeOutcome:
    """What became of a swap or cover on one shift, and why."""

    change_id: str
    shift_id: str
    applied: bool
    reason: str


def _replace_person(
    shift: Shift,
    change_id: str,
    leaving: str,
    arriving: str,
    note: str,
    staff: Mapping[str, Staff] | None,
) -> tuple[Shift, ChangeOutcome]:
    def refuse(reason: str) -> tuple[Shift, ChangeOutcome]:
        return shift, ChangeOutcome(change_id, shift.shift_id, False, reason)

    held = [a for a in shift.assignments if a.staff_id == leaving]
    if not held:
        return refuse(f"{leaving} is not on shift {shift.shift_id}")
    if any(a.staff_id == arriving for a in shift.assignments):
        return refuse(f"{arriving} is already on shift {shift.shift_id}")
    role = held[0].role
    if staff is not None:
        person = staff.get(arriving)
        if person is None:
            return refuse(f"unknown staff member {arriving}")
        if role not in person.roles:
            return refuse(f"{arriving} cannot work as {role}")
    assignments = tuple(
        Assignment(arriving, a.role, note) if a.staff_id == leaving else a
        for a in shift.assignments
    )
    return (
        replace(shift, assignments=assignments),
        ChangeOutcome(change_id, shift.shift_id, True, note),
    )


def apply_changes(
    shifts: Sequence[Shift],
    swaps: Iterable[Swap],
    covers: Iterable[Cover],
    staff: Mapping[str, Staff] | None = None,
) -> tuple[list[Shift], list[ChangeOutcome]]:
    """Effective shifts after approved swaps, then approved covers, in list order.

    Each side of a swap is applied on its own shift, so a swap whose other
    shift lies outside the window still changes the shift inside it. Changes
    that are pending or invalid leave the shift as planned and say why.
    """
    # shift_id -> [(change_id, leaving, arriving, note, approved)]
    changes: dict[str, list[tuple[str, str, str, str, bool]]] = defaultdict(list)
    for swap in swaps:
        approved = swap.approved_by is not None
        by = f"approved by {swap.approved_by}"
        changes[swap.shift_a].append(
            (
                swap.swap_id,
                swap.staff_a,
                swap.staff_b,
                f"swap {swap.swap_id}: {swap.staff_b} swapped with {swap.staff_a} ({by})",
                approved,
            )
        )
        changes[swap.shift_b].append(
            (
                swap.swap_id,
                swap.staff_b,
                swap.staff_a,
                f"swap {swap.swap_id}: {swap.staff_a} swapped with {swap.staff_b} ({by})",
                approved,
            )
        )
    for cover in covers:
        changes[cover.shift_id].append(
            (
                cover.cover_id,
                cover.staff_id,
                cover.covered_by,
                f"cover {cover.cover_id}: {cover.covered_by} covers for {cover.staff_id} "
                f"(approved by {cover.approved_by})",
                cover.approved_by is not None,
            )
        )
    effective: list[Shift] = []
    outcomes: list[ChangeOutcome] = []
    for shift in shifts:
        for change_id, leaving, arriving, note, approved in changes.get(shift.shift_id, ()):
            if not approved:
                outcomes.append(ChangeOutcome(change_id, shift.shift_id, False, "pending approval"))
                continue
            shift, outcome = _replace_person(shift, change_id, leaving, arriving, note, staff)
            outcomes.append(outcome)
        effective.append(shift)
    return effective, outcomes


@dataclass(frozen=True)
class Resolution:
    """Effective shifts and duties in a window, with the fate of each change."""

    shifts: tuple[Shift, ...]
    duties: tuple[Duty, ...]
    changes: tuple[ChangeOutcome, ...]


def clock_in_duty(clock_in: ClockIn) -> Duty:
    return Duty(
        line_id=clock_in.line_id,
        role=clock_in.role,
        staff_id=clock_in.staff_id,
        start=clock_in.start,
        end=clock_in.end,
        shift_id=None,
        reason=f"clock-in approved by {clock_in.approved_by}",
    )


def effective_shifts(
    rota: Rota,
    start: datetime,
    end: datetime,
    *,
    line_ids: Collection[str] | None = None,
) -> tuple[list[Shift], list[ChangeOutcome]]:
    """Shifts overlapping ``[start, end)`` with approved swaps and covers applied."""
    planned = shifts_in_window(rota, start, end, line_ids=line_ids)
    return apply_changes(planned, rota.swaps, rota.covers, rota.staff_by_id())


def active_clock_ins(
    rota: Rota,
    start: datetime,
    end: datetime,
    *,
    line_ids: Collection[str] | None = None,
    clock_ins: Iterable[ClockIn] = (),
) -> list[ClockIn]:
    """Clock-ins (stored and live) overlapping ``[start, end)``."""
    start = as_utc(start, "start")
    end = as_utc(end, "end")
    return [
        replace(c, start=as_utc(c.start, "clock-in start"), end=as_utc(c.end, "clock-in end"))
        for c in (*rota.clock_ins, *clock_ins)
        if c.start < end and c.end > start and (line_ids is None or c.line_id in line_ids)
    ]


def resolve(
    rota: Rota,
    start: datetime,
    end: datetime,
    *,
    line_ids: Collection[str] | None = None,
    clock_ins: Iterable[ClockIn] = (),
) -> Resolution:
    """Who is on duty for which line and role in ``[start, end)``.

    ``clock_ins`` adds live approved clock-ins to those stored in the rota.
    """
    effective, outcomes = effective_shifts(rota, start, end, line_ids=line_ids)
    duties = [
        Duty(
            line_id=shift.line_id,
            role=a.role,
            staff_id=a.staff_id,
            start=shift.start,
            end=shift.end,
            shift_id=shift.shift_id,
            reason=f"{a.note or 'shift ' + shift.shift_id} ({shift.origin})"
            if shift.origin
            else a.note or f"shift {shift.shift_id}",
        )
        for shift in effective
        for a in shift.assignments
    ]
    duties.extend(
        clock_in_duty(c)
        for c in active_clock_ins(rota, start, end, line_ids=line_ids, clock_ins=clock_ins)
    )
    return Resolution(tuple(effective), tuple(duties), tuple(outcomes))
