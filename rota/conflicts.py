"""Double bookings: one person on two duties at the same time (pure).

A rota import, a swap or a sign-up can put someone on two lines at once; the
coverage then counts them twice while only one of them is there. Clock-ins
that merely confirm a scheduled duty for the same line are not conflicts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rota.model import Duty


@dataclass(frozen=True)
class DoubleBooking:
    staff_id: str
    start: datetime
    end: datetime
    first: Duty
    second: Duty

    @property
    def reason(self) -> str:
        return (
            f"{self.staff_id} is on {self.first.line_id} ({self.first.role}, {self.first.reason})"
            f" and on {self.second.line_id} ({self.second.role}, {self.second.reason})"
            f" from {self.start.isoformat()} to {self.end.isoformat()}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "staff": self.staff_id,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "lines": [self.first.line_id, self.second.line_id],
            "reason": self.reason,
        }


def double_bookings(duties: Iterable[Duty]) -> list[DoubleBooking]:
    """Every overlap between two duties of one person, except same line and role."""
    by_staff: dict[str, list[Duty]] = {}
    for duty in duties:
        by_staff.setdefault(duty.staff_id, []).append(duty)
    found: list[DoubleBooking] = []
    for staff_id, own in sorted(by_staff.items()):
        own.sort(key=lambda d: (d.start, d.end, d.line_id))
        for i, first in enumerate(own):
            for second in own[i + 1 :]:
                if second.start >= first.end:
                    break  # sorted by start: nothing later overlaps ``first``
                if (first.line_id, first.role) == (second.line_id, second.role):
                    continue
                found.append(
                    DoubleBooking(staff_id, second.start, min(first.end, second.end), first, second)
                )
    return found
