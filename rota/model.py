"""The rota's data: plain frozen dataclasses, no I/O and no clock.

Design note: docs/rota.md. The model follows Grafana OnCall schedules (recurring
shift templates as the base layer, concrete shifts and approved swaps/covers on
top, resolved into intervals, then gaps found in a window) but keeps every
algorithm in pure functions in the sibling modules.

Times of day are minutes after local midnight (an ``int``), because "24:00" and
"22:00-08:00" (crossing midnight) are then plain arithmetic; a concrete instant
is always a timezone-aware ``datetime`` in UTC.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

MINUTES_PER_DAY = 1440

# The demo and both launch helplines are Swedish; a line may name another zone.
DEFAULT_TIMEZONE = "Europe/Stockholm"


class Role(enum.StrEnum):
    COUNSELLOR = "counsellor"
    SUPERVISOR = "supervisor"


WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EVERY_DAY = frozenset(range(7))


def _default_minimum() -> dict[Role, int]:
    # The default for a 24/7 line: at least one supervisor and one
    # counsellor every minute the line is open.
    return {Role.COUNSELLOR: 1, Role.SUPERVISOR: 1}


@dataclass(frozen=True)
class DailyRange:
    """Local wall-clock range ``[start_minute, end_minute)`` beginning on a day.

    ``end_minute`` above 1440 means the range crosses midnight into the next
    day ("22:00-08:00" is ``DailyRange(1320, 1920)``); at most 24 hours long.
    """

    start_minute: int
    end_minute: int

    def __post_init__(self) -> None:
        if not 0 <= self.start_minute < MINUTES_PER_DAY:
            raise ValueError(f"start minute {self.start_minute} outside a day")
        if not self.start_minute < self.end_minute <= self.start_minute + MINUTES_PER_DAY:
            raise ValueError(f"range {self.start_minute}-{self.end_minute} is empty or over 24 h")

    def label(self) -> str:
        return f"{format_minute(self.start_minute)}-{format_minute(self.end_minute)}"


def format_minute(minute: int) -> str:
    """ "HH:MM" for a minute of the day; 24:00 stays 24:00, later wraps."""
    if minute > MINUTES_PER_DAY:
        minute -= MINUTES_PER_DAY
    return f"{minute // 60:02d}:{minute % 60:02d}"


@dataclass(frozen=True)
class WeeklyRange:
    """A daily range repeated on some weekdays (0 = Monday)."""

    weekdays: frozenset[int]
    range: DailyRange

    def label(self) -> str:
        return f"{weekdays_label(self.weekdays)} {self.range.label()}"


def weekdays_label(weekdays: frozenset[int]) -> str:
    if weekdays == EVERY_DAY:
        return "every day"
    return ",".join(WEEKDAY_NAMES[d].capitalize() for d in sorted(weekdays))


@dataclass(frozen=True)
class OpeningHours:
    """When a line takes contacts; requirements apply only while it is open."""

    always: bool = False
    weekly: tuple[WeeklyRange, ...] = ()

    def label(self) -> str:
        if self.always:
            return "24/7"
        return "; ".join(r.label() for r in self.weekly) or "never"


@dataclass(frozen=True)
class RequirementRule:
    """Staffing for some weekday hours, layered over the line's default.

    A role left out of ``minimum`` keeps whatever the lower layers said; later
    rules win over earlier ones where they overlap (OnCall's layer order).
    """

    name: str
    weekdays: frozenset[int]
    range: DailyRange
    minimum: Mapping[Role, int] = field(default_factory=dict)
    # Above this many, the time counts as overstaffed; absent means "above
    # the minimum", so every surplus shows up unless a ceiling is declared.
    maximum: Mapping[Role, int] = field(default_factory=dict)


@dataclass(frozen=True)
class HolidayOverride:
    """A date on which a line is closed (``hours`` empty) or has special hours."""

    day: date
    name: str
    hours: tuple[DailyRange, ...] = ()
    # None applies the override to every line.
    line_ids: frozenset[str] | None = None

    def applies_to(self, line_id: str) -> bool:
        return self.line_ids is None or line_id in self.line_ids


@dataclass(frozen=True)
class Line:
    """A helpline: its time zone, opening hours and staffing requirements."""

    line_id: str
    name: str = ""
    timezone: str = DEFAULT_TIMEZONE
    opening: OpeningHours = OpeningHours(always=True)
    default_minimum: Mapping[Role, int] = field(default_factory=_default_minimum)
    default_maximum: Mapping[Role, int] = field(default_factory=dict)
    rules: tuple[RequirementRule, ...] = ()


@dataclass(frozen=True)
class Staff:
    staff_id: str
    name: str = ""
    roles: frozenset[Role] = frozenset({Role.COUNSELLOR})


@dataclass(frozen=True)
class ShiftTemplate:
    """A weekly pattern whose occurrences rotate among ``rotation``.

    Occurrence on local date ``d`` belongs to turn
    ``(d - rotation_start).days // turn_days`` and is staffed by ``per_shift``
    consecutive people from the rotation starting at ``turn * per_shift``; a
    rotation of N people with ``turn_days=7`` gives each of them a week.
    """

    template_id: str
    line_id: str
    role: Role
    weekdays: frozenset[int]
    range: DailyRange
    rotation: tuple[str, ...]
    rotation_start: date
    turn_days: int = 7
    per_shift: int = 1
    valid_from: date | None = None
    # Inclusive, as people write "until 30 June".
    valid_until: date | None = None


@dataclass(frozen=True)
class Assignment:
    staff_id: str
    role: Role
    # Why this person holds the slot when it is not the plan (swap, cover).
    note: str = ""


@dataclass(frozen=True)
class Shift:
    """A concrete shift on one line: ``[start, end)`` in UTC and who staffs it."""

    shift_id: str
    line_id: str
    start: datetime
    end: datetime
    assignments: tuple[Assignment, ...]
    origin: str = ""


@dataclass(frozen=True)
class Swap:
    """Two staff exchange shifts: ``staff_a`` takes ``shift_b`` and vice versa."""

    swap_id: str
    shift_a: str
    staff_a: str
    shift_b: str
    staff_b: str
    approved_by: str | None = None


@dataclass(frozen=True)
class Cover:
    """``covered_by`` takes ``staff_id``'s place on ``shift_id``."""

    cover_id: str
    shift_id: str
    staff_id: str
    covered_by: str
    approved_by: str | None = None


@dataclass(frozen=True)
class ClockIn:
    """An ad-hoc stint approved by a supervisor; counts as being on shift."""

    staff_id: str
    line_id: str
    role: Role
    start: datetime
    end: datetime
    approved_by: str


@dataclass(frozen=True)
class Duty:
    """One person on duty for a line and role over ``[start, end)`` (UTC).

    The resolved form everything else works on; ``shift_id`` is None for
    clock-ins, ``reason`` says where the duty comes from.
    """

    line_id: str
    role: Role
    staff_id: str
    start: datetime
    end: datetime
    shift_id: str | None
    reason: str


@dataclass(frozen=True)
class Rota:
    """Everything needed to resolve who works when. Immutable; build a new one to change."""

    lines: tuple[Line, ...] = ()
    staff: tuple[Staff, ...] = ()
    templates: tuple[ShiftTemplate, ...] = ()
    shifts: tuple[Shift, ...] = ()
    holidays: tuple[HolidayOverride, ...] = ()
    swaps: tuple[Swap, ...] = ()
    covers: tuple[Cover, ...] = ()
    clock_ins: tuple[ClockIn, ...] = ()

    def line(self, line_id: str) -> Line:
        for line in self.lines:
            if line.line_id == line_id:
                return line
        raise KeyError(f"unknown line {line_id!r}")

    def staff_by_id(self) -> dict[str, Staff]:
        return {s.staff_id: s for s in self.staff}
