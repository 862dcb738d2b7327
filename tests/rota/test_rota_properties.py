"""Hypothesis properties of the coverage sweep and the local-time conversion."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from rota.coverage import compute_coverage
from rota.localtime import LocalClock, local_to_utc
from rota.model import (
    EVERY_DAY,
    Assignment,
    DailyRange,
    Line,
    OpeningHours,
    RequirementRule,
    Role,
    Rota,
    Shift,
    Staff,
    WeeklyRange,
)

START = datetime(2026, 3, 27, tzinfo=UTC)  # a window around the spring DST change
END = START + timedelta(days=4)
STAFF = tuple(Staff(f"p{i}", roles=frozenset(Role)) for i in range(4))

shift_strategy = st.builds(
    lambda offset, length, person, role: (offset, length, person, role),
    st.integers(min_value=-12 * 60, max_value=4 * 24 * 60),
    st.integers(min_value=1, max_value=16 * 60),
    st.integers(min_value=0, max_value=3),
    st.sampled_from(list(Role)),
)
line_strategy = st.builds(
    lambda always, open_start, open_len, need, rule_start, rule_len: Line(
        "l",
        opening=OpeningHours(always=True)
        if always
        else OpeningHours(
            weekly=(WeeklyRange(EVERY_DAY, DailyRange(open_start, open_start + open_len)),)
        ),
        default_minimum={Role.COUNSELLOR: need, Role.SUPERVISOR: 1},
        rules=(
            RequirementRule(
                "r",
                EVERY_DAY,
                DailyRange(rule_start, rule_start + rule_len),
                {Role.COUNSELLOR: need + 1},
            ),
        ),
    ),
    st.booleans(),
    st.integers(min_value=0, max_value=1380),
    st.integers(min_value=30, max_value=1440),
    st.integers(min_value=0, max_value=3),
    st.integers(min_value=0, max_value=1380),
    st.integers(min_value=30, max_value=1440),
)


def make_shift(i: int, spec: tuple[int, int, int, Role]) -> Shift:
    offset, length, person, role = spec
    start = START + timedelta(minutes=offset)
    return Shift(
        f"s{i}", "l", start, start + timedelta(minutes=length), (Assignment(f"p{person}", role),)
    )


def rota_with(line: Line, specs: list[tuple[int, int, int, Role]]) -> Rota:
    return Rota(
        lines=(line,), staff=STAFF, shifts=tuple(make_shift(i, s) for i, s in enumerate(specs))
    )


@settings(max_examples=60, deadline=None)
@given(line_strategy, st.lists(shift_strategy, max_size=12))
def test_gaps_plus_covered_equals_required(
    line: Line, specs: list[tuple[int, int, int, Role]]
) -> None:
    coverage = compute_coverage(rota_with(line, specs), START, END)
    for role in Role:
        totals = coverage.totals[("l", role)]
        assert totals.covered + totals.missing == totals.required
        gap_time = sum(
            (g.missing * g.duration for g in coverage.gaps if g.role == role), timedelta(0)
        )
        assert gap_time == totals.missing
    # Gaps of one role are sorted, disjoint, inside the window, and adjacent
    # ones differ in shortfall (otherwise they would have been merged).
    for role in Role:
        gaps = [g for g in coverage.gaps if g.role == role]
        for g in gaps:
            assert START <= g.start < g.end <= END and g.missing > 0 and g.reasons
        for a, b in itertools.pairwise(gaps):
            assert a.end <= b.start
            assert a.end < b.start or a.missing != b.missing


@settings(max_examples=60, deadline=None)
@given(line_strategy, st.lists(shift_strategy, max_size=10), shift_strategy)
def test_adding_a_shift_never_increases_gaps(
    line: Line, specs: list[tuple[int, int, int, Role]], extra: tuple[int, int, int, Role]
) -> None:
    before = compute_coverage(rota_with(line, specs), START, END)
    after = compute_coverage(rota_with(line, [*specs, extra]), START, END)
    for key, totals in before.totals.items():
        assert after.totals[key].missing <= totals.missing
        assert after.totals[key].required == totals.required


@settings(max_examples=200, deadline=None)
@given(
    st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    st.integers(min_value=0, max_value=2880),
    st.sampled_from(
        ["Europe/Stockholm", "Europe/Oslo", "America/Sao_Paulo", "Australia/Lord_Howe"]
    ),
)
def test_local_clock_agrees_and_is_monotonic(day: date, minute: int, zone: str) -> None:
    tz = ZoneInfo(zone)
    clock = LocalClock(tz)
    assert clock.to_utc(day, minute) == local_to_utc(day, minute, tz)
    if minute < 2880:
        assert local_to_utc(day, minute, tz) <= local_to_utc(day, minute + 1, tz)


@settings(max_examples=30, deadline=None)
@given(st.lists(shift_strategy, max_size=8))
def test_local_and_utc_windows_agree(specs: list[tuple[int, int, int, Role]]) -> None:
    line = Line("l")
    rota = rota_with(line, specs)
    se = ZoneInfo("Europe/Stockholm")
    in_utc = compute_coverage(rota, START, END)
    in_local = compute_coverage(rota, START.astimezone(se), END.astimezone(se))
    assert in_utc.totals == in_local.totals
    assert [replace(g) for g in in_utc.gaps] == list(in_local.gaps)
