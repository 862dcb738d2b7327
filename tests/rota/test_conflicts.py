"""Double bookings, table-driven."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rota.conflicts import double_bookings
from rota.model import Duty, Role


def duty(staff: str, line: str, start: int, end: int, role: Role = Role.COUNSELLOR) -> Duty:
    day = datetime(2026, 11, 23, tzinfo=UTC)
    return Duty(line, role, staff, day.replace(hour=start), day.replace(hour=end), None, "test")


@pytest.mark.parametrize(
    ("duties", "expected"),
    [
        ([duty("a", "adults", 8, 16), duty("a", "young", 15, 20)], [("a", 15, 16)]),
        ([duty("a", "adults", 8, 16), duty("a", "young", 16, 20)], []),  # back to back
        ([duty("a", "adults", 8, 16), duty("a", "adults", 10, 12)], []),  # clock-in on top
        ([duty("a", "adults", 8, 16), duty("b", "young", 8, 16)], []),  # different people
        (
            [duty("a", "adults", 8, 16), duty("a", "adults", 9, 11, Role.SUPERVISOR)],
            [("a", 9, 11)],
        ),
        (
            [duty("a", "x", 8, 12), duty("a", "y", 9, 10), duty("a", "z", 11, 13)],
            [("a", 9, 10), ("a", 11, 12)],
        ),
    ],
)
def test_double_bookings(duties: list[Duty], expected: list[tuple[str, int, int]]) -> None:
    found = double_bookings(duties)
    assert [(d.staff_id, d.start.hour, d.end.hour) for d in found] == expected
    for booking in found:
        assert booking.first.line_id != booking.second.line_id or (
            booking.first.role != booking.second.role
        )
        assert booking.staff_id in booking.reason
