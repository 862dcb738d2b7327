from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from rota.coverage import compute_coverage, on_shift_now
from rota.model import ClockIn, Role
from tests.rota.builders import SE, rota_from, se

LINE_24_7 = """
lines:
  - id: adults
    open: always
"""

YOUNG = """
lines:
  - id: young
    open:
      mon-fri: "15:00-22:00"
      sat: "15:00-21:00"
      sun: "13:00-17:00"
"""


def local(gaps: object) -> list[tuple[str, datetime, datetime, int]]:
    return [
        (str(g.role), g.start.astimezone(SE), g.end.astimezone(SE), g.missing)  # type: ignore[attr-defined]
        for g in gaps  # type: ignore[attr-defined]
    ]


def test_empty_24_7_line_is_one_merged_gap_per_role() -> None:
    rota = rota_from(LINE_24_7)
    coverage = compute_coverage(rota, se(2026, 3, 2), se(2026, 3, 9))
    assert sorted(local(coverage.gaps)) == [
        ("counsellor", se(2026, 3, 2), se(2026, 3, 9), 1),
        ("supervisor", se(2026, 3, 2), se(2026, 3, 9), 1),
    ]


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        ((2026, 3, 29), 23),  # spring forward: a 23-hour day needs 23 hours of cover
        ((2026, 6, 14), 24),
        ((2026, 10, 25), 25),  # fall back
    ],
)
def test_required_person_time_follows_the_length_of_the_day(
    day: tuple[int, int, int], hours: int
) -> None:
    rota = rota_from(LINE_24_7)
    start = se(*day)
    coverage = compute_coverage(rota, start, start + timedelta(days=1))
    assert coverage.totals[("adults", Role.COUNSELLOR)].required == timedelta(hours=hours)
    (gap,) = [g for g in coverage.gaps if g.role == Role.COUNSELLOR]
    assert gap.duration == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("day", "hours"),
    [((2026, 3, 28), 9), ((2026, 10, 24), 11)],
)
def test_night_shift_covers_the_dst_night_exactly(day: tuple[int, int, int], hours: int) -> None:
    rota = rota_from(
        LINE_24_7
        + """
templates:
  - {id: nights, line: adults, role: counsellor, days: every day, hours: "22:00-08:00",
     rotation: [c1], rotation_start: 2026-01-05}
"""
    )
    night_start = se(*day, 22)
    night_end = se(*day, 8) + timedelta(days=1)
    coverage = compute_coverage(rota, night_start, night_end)
    totals = coverage.totals[("adults", Role.COUNSELLOR)]
    assert totals.missing == timedelta(0)
    assert totals.covered == timedelta(hours=hours)


def test_opening_hours_limit_requirements() -> None:
    rota = rota_from(YOUNG)
    coverage = compute_coverage(rota, se(2026, 3, 6), se(2026, 3, 9))  # Fri-Sun
    counsellor_gaps = [g for g in local(coverage.gaps) if g[0] == "counsellor"]
    assert counsellor_gaps == [
        ("counsellor", se(2026, 3, 6, 15), se(2026, 3, 6, 22), 1),
        ("counsellor", se(2026, 3, 7, 15), se(2026, 3, 7, 21), 1),
        ("counsellor", se(2026, 3, 8, 13), se(2026, 3, 8, 17), 1),
    ]
    reasons = [g.reasons for g in coverage.gaps if g.role == Role.COUNSELLOR]
    assert "open Sun 13:00-17:00" in reasons[-1][0]


@pytest.mark.parametrize(
    ("holiday", "expected"),
    [
        ("{date: 2026-03-06, name: Closed day, hours: closed}", []),
        (
            '{date: 2026-03-06, name: Short day, hours: "10:00-12:00"}',
            [(se(2026, 3, 6, 10), se(2026, 3, 6, 12))],
        ),
        (
            "{date: 2026-03-06, name: Other line, lines: [adults], hours: closed}",
            [(se(2026, 3, 6, 15), se(2026, 3, 6, 22))],
        ),
    ],
)
def test_holiday_overrides(holiday: str, expected: list[tuple[datetime, datetime]]) -> None:
    rota = rota_from(YOUNG + "  - {id: adults, open: always}\nholidays:\n  - " + holiday + "\n")
    coverage = compute_coverage(rota, se(2026, 3, 6), se(2026, 3, 7), line_ids={"young"})
    got = [(s, e) for role, s, e, _ in local(coverage.gaps) if role == "counsellor"]
    assert got == expected


SHIFTS_24_7 = """
templates:
  - {id: sup, line: adults, role: supervisor, days: every day, hours: "00:00-24:00",
     rotation: [sup1], rotation_start: 2026-01-05}
  - {id: day, line: adults, role: counsellor, days: every day, hours: "08:00-20:00",
     rotation: [c1], rotation_start: 2026-01-05}
  - {id: night, line: adults, role: counsellor, days: every day, hours: "20:00-08:00",
     rotation: [c2], rotation_start: 2026-01-05}
"""


@pytest.mark.parametrize(
    ("extra_line_yaml", "extra", "expected_gaps", "expected_over"),
    [
        ("", "", [], []),
        (  # a rule asking for two counsellors on Friday evening
            """
    requirements:
      rules:
        - {name: friday peak, days: fri, hours: "20:00-02:00", counsellors: 2}
""",
            "",
            [("counsellor", se(2026, 3, 6, 20), se(2026, 3, 7, 2), 1)],
            [],
        ),
        (  # an extra counsellor makes the day shift overstaffed
            "",
            """
  - {id: extra, line: adults, role: counsellor, days: wed, hours: "10:00-12:00",
     rotation: [c3], rotation_start: 2026-01-05}
""",
            [],
            [("counsellor", se(2026, 3, 4, 10), se(2026, 3, 4, 12), 1)],
        ),
        (  # ... unless a maximum allows it
            """
    requirements:
      maximum: {counsellors: 2}
""",
            """
  - {id: extra, line: adults, role: counsellor, days: wed, hours: "10:00-12:00",
     rotation: [c3], rotation_start: 2026-01-05}
""",
            [],
            [],
        ),
        (  # three supervisors missing for two hours, then two: not merged
            """
    requirements:
      rules:
        - {name: briefing, days: tue, hours: "10:00-12:00", supervisors: 4}
        - {name: debrief, days: tue, hours: "12:00-13:00", supervisors: 3}
""",
            "",
            [
                ("supervisor", se(2026, 3, 3, 10), se(2026, 3, 3, 12), 3),
                ("supervisor", se(2026, 3, 3, 12), se(2026, 3, 3, 13), 2),
            ],
            [],
        ),
    ],
)
def test_gaps_and_overstaffing(
    extra_line_yaml: str,
    extra: str,
    expected_gaps: list[tuple[str, datetime, datetime, int]],
    expected_over: list[tuple[str, datetime, datetime, int]],
) -> None:
    rota = rota_from(LINE_24_7 + extra_line_yaml + SHIFTS_24_7 + extra)
    coverage = compute_coverage(rota, se(2026, 3, 2), se(2026, 3, 9))
    assert local(coverage.gaps) == expected_gaps
    over = [
        (str(o.role), o.start.astimezone(SE), o.end.astimezone(SE), o.excess)
        for o in coverage.overstaffing
    ]
    assert over == expected_over


def test_staff_scheduled_while_closed_is_overstaffing_with_reason() -> None:
    rota = rota_from(
        YOUNG
        + """
templates:
  - {id: early, line: young, role: counsellor, days: mon, hours: "13:00-16:00",
     rotation: [c1], rotation_start: 2026-01-05}
"""
    )
    coverage = compute_coverage(rota, se(2026, 3, 2), se(2026, 3, 3))
    (over,) = coverage.overstaffing
    assert (over.start, over.end) == (se(2026, 3, 2, 13), se(2026, 3, 2, 15))
    assert "closed" in over.reasons[0]


def test_gap_reasons_say_why_and_json_shape() -> None:
    rota = rota_from(LINE_24_7)
    coverage = compute_coverage(rota, se(2026, 3, 2), se(2026, 3, 3))
    gap = coverage.gaps[0]
    assert gap.reasons == (f"0 {gap.role}s scheduled, 1 required (default requirement; open 24/7)",)
    as_dict = coverage.to_dict()
    assert as_dict["version"] == 1
    assert as_dict["gaps"][0]["missing"] == 1
    assert as_dict["gaps"][0]["start"] == "2026-03-01T23:00:00+00:00"


def test_same_person_twice_counts_once() -> None:
    rota = rota_from(
        LINE_24_7
        + SHIFTS_24_7
        + """
shifts:
  - id: double
    line: adults
    start: 2026-03-02 09:00
    end: 2026-03-02 10:00
    staff: {c1: counsellor}
"""
    )
    coverage = compute_coverage(rota, se(2026, 3, 2), se(2026, 3, 3))
    assert coverage.overstaffing == ()


ON_SHIFT = (
    LINE_24_7
    + SHIFTS_24_7
    + """
swaps:
  - {id: s1, shift_a: day@2026-03-03, staff_a: c1, shift_b: night@2026-03-05, staff_b: c2,
     approved_by: sup1}
  - {id: s2, shift_a: day@2026-03-04, staff_a: c1, shift_b: night@2026-03-04, staff_b: c2}
covers:
  - {id: cv1, shift: sup@2026-03-06, staff: sup1, by: sup2, approved_by: sup1}
clock_ins:
  - {staff: c3, line: adults, role: counsellor, start: 2026-03-02 12:00, end: 2026-03-02 14:00,
     approved_by: sup1}
"""
)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (se(2026, 3, 2, 9), {("sup1", "supervisor"), ("c1", "counsellor")}),
        (se(2026, 3, 2, 13), {("sup1", "supervisor"), ("c1", "counsellor"), ("c3", "counsellor")}),
        (se(2026, 3, 2, 14), {("sup1", "supervisor"), ("c1", "counsellor")}),  # end exclusive
        (se(2026, 3, 2, 21), {("sup1", "supervisor"), ("c2", "counsellor")}),
        (se(2026, 3, 3, 9), {("sup1", "supervisor"), ("c2", "counsellor")}),  # swapped
        (se(2026, 3, 5, 21), {("sup1", "supervisor"), ("c1", "counsellor")}),  # other half
        (se(2026, 3, 4, 9), {("sup1", "supervisor"), ("c1", "counsellor")}),  # not approved
        (se(2026, 3, 6, 9), {("sup2", "supervisor"), ("c1", "counsellor")}),  # covered
    ],
)
def test_on_shift_now(now: datetime, expected: set[tuple[str, str]]) -> None:
    rota = rota_from(ON_SHIFT)
    got = {(o.staff_id, str(o.role)) for o in on_shift_now(rota, "adults", now)}
    assert got == expected


def test_live_clock_in_counts_and_gives_its_reason() -> None:
    rota = rota_from(ON_SHIFT)
    now = se(2026, 3, 2, 9)
    live = ClockIn("c2", "adults", Role.COUNSELLOR, now, now + timedelta(hours=1), "sup1")
    on_shift = on_shift_now(rota, "adults", now, clock_ins=[live])
    (c2,) = [o for o in on_shift if o.staff_id == "c2"]
    assert c2.reason == "clock-in approved by sup1"
    assert on_shift[0].role == Role.SUPERVISOR  # supervisors first


def test_naive_datetimes_are_rejected() -> None:
    rota = rota_from(LINE_24_7)
    with pytest.raises(ValueError, match="timezone-aware"):
        compute_coverage(rota, datetime(2026, 3, 2), se(2026, 3, 3))
