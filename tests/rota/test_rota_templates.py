from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from rota.model import EVERY_DAY, DailyRange, Role, ShiftTemplate
from rota.shifts import expand_template, rotation_staff, template_shift_id
from tests.rota.builders import SE


def template(**overrides: object) -> ShiftTemplate:
    fields: dict[str, object] = {
        "template_id": "t",
        "line_id": "adults",
        "role": Role.COUNSELLOR,
        "weekdays": EVERY_DAY,
        "range": DailyRange(480, 960),
        "rotation": ("a", "b", "c"),
        "rotation_start": date(2026, 1, 5),
    }
    fields.update(overrides)
    return ShiftTemplate(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "day", "expected"),
    [
        ({}, date(2026, 1, 5), ("a",)),
        ({}, date(2026, 1, 11), ("a",)),  # a whole week each
        ({}, date(2026, 1, 12), ("b",)),
        ({}, date(2026, 1, 19), ("c",)),
        ({}, date(2026, 1, 26), ("a",)),  # back to the start
        ({}, date(2025, 12, 29), ("c",)),  # before the anchor: rotates backwards
        ({"turn_days": 1, "per_shift": 2}, date(2026, 1, 5), ("a", "b")),
        ({"turn_days": 1, "per_shift": 2}, date(2026, 1, 6), ("c", "a")),
        ({"turn_days": 1, "per_shift": 2}, date(2026, 1, 7), ("b", "c")),
        ({"turn_days": 14, "rotation": ("x",)}, date(2027, 5, 1), ("x",)),
    ],
)
def test_rotation(overrides: dict[str, object], day: date, expected: tuple[str, ...]) -> None:
    assert rotation_staff(template(**overrides), day) == expected


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("night", "start", "end", "hours"),
    [
        # 22:00-08:00 in Europe/Stockholm: CET is UTC+1, CEST is UTC+2.
        (date(2026, 3, 28), utc(2026, 3, 28, 21), utc(2026, 3, 29, 6), 9),  # spring forward
        (date(2026, 6, 1), utc(2026, 6, 1, 20), utc(2026, 6, 2, 6), 10),
        (date(2026, 10, 24), utc(2026, 10, 24, 20), utc(2026, 10, 25, 7), 11),  # fall back
        (date(2026, 12, 1), utc(2026, 12, 1, 21), utc(2026, 12, 2, 7), 10),
    ],
)
def test_night_template_across_dst(night: date, start: datetime, end: datetime, hours: int) -> None:
    nights = template(range=DailyRange(22 * 60, 32 * 60))
    window_start = datetime(night.year, night.month, night.day, 12, tzinfo=SE)
    shifts = expand_template(nights, SE, window_start, window_start + timedelta(hours=12))
    assert [(s.start, s.end) for s in shifts] == [(start, end)]
    assert shifts[0].end - shifts[0].start == timedelta(hours=hours)
    assert shifts[0].shift_id == template_shift_id("t", night)


def test_skipped_local_time_clamps_to_the_jump() -> None:
    # 02:30 does not exist on 2026-03-29; the shift starts when clocks jump.
    early = template(range=DailyRange(150, 240))
    start = datetime(2026, 3, 29, tzinfo=SE)
    (shift,) = expand_template(early, SE, start, start + timedelta(hours=6))
    assert shift.start == utc(2026, 3, 29, 1)
    assert shift.end == utc(2026, 3, 29, 2)


@pytest.mark.parametrize(
    ("overrides", "expected_days"),
    [
        ({}, 7),
        ({"weekdays": frozenset({0, 1, 2, 3, 4})}, 5),
        ({"weekdays": frozenset({5})}, 1),
        ({"valid_from": date(2026, 3, 4)}, 5),
        ({"valid_until": date(2026, 3, 4)}, 3),  # inclusive: Mon, Tue, Wed
        ({"valid_from": date(2026, 3, 3), "valid_until": date(2026, 3, 3)}, 1),
    ],
)
def test_weekdays_and_validity(overrides: dict[str, object], expected_days: int) -> None:
    week = datetime(2026, 3, 2, tzinfo=SE)  # a Monday
    shifts = expand_template(template(**overrides), SE, week, week + timedelta(days=7))
    assert len(shifts) == expected_days


def test_window_edges_keep_overlapping_shifts_only() -> None:
    start = datetime(2026, 3, 2, 12, tzinfo=SE)  # in the middle of the 08-16 shift
    shifts = expand_template(template(), SE, start, start + timedelta(hours=21))
    assert [s.shift_id for s in shifts] == ["t@2026-03-02", "t@2026-03-03"]
