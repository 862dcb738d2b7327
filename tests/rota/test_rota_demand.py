from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rota.demand import (
    Contact,
    demand_vs_schedule,
    erlang_b,
    erlang_c,
    expected_wait,
    hour_occurrences,
    scheduled_counsellors,
)
from rota.yaml_format import parse_rota_yaml
from tests.rota.builders import SE, se


@pytest.mark.parametrize(
    ("load", "agents", "p_wait"),
    [
        (2.0, 3, 0.4444),  # the textbook example
        (1.0, 2, 0.3333),
        (0.5, 1, 0.5),  # M/M/1: P_w = utilisation
        (8.0, 10, 0.4092),
        (2.0, 2, 1.0),  # N <= A: unstable
        (0.0, 3, 0.0),
    ],
)
def test_erlang_c_known_values(load: float, agents: int, p_wait: float) -> None:
    assert erlang_c(load, agents) == pytest.approx(p_wait, abs=1e-4)


def test_erlang_b_matches_the_closed_form() -> None:
    load, agents = 3.0, 5
    terms = [load**k / math.factorial(k) for k in range(agents + 1)]
    assert erlang_b(load, agents) == pytest.approx(terms[-1] / sum(terms))


def test_erlang_is_stable_for_large_systems() -> None:
    value = erlang_c(950.0, 1000)
    assert 0.0 < value < 1.0


@pytest.mark.parametrize(
    ("load", "agents", "wait"),
    [
        (2.0, 3, timedelta(seconds=0.4444444 * 600)),
        (3.0, 3, None),
        (0.0, 1, timedelta(0)),
    ],
)
def test_expected_wait(load: float, agents: int, wait: timedelta | None) -> None:
    got = expected_wait(load, agents, timedelta(minutes=10))
    if wait is None:
        assert got is None
    else:
        assert got is not None
        assert got.total_seconds() == pytest.approx(wait.total_seconds(), rel=1e-5)


@given(st.floats(min_value=0.01, max_value=50), st.integers(min_value=1, max_value=80))
def test_erlang_c_is_a_probability_falling_with_more_agents(load: float, agents: int) -> None:
    p = erlang_c(load, agents)
    assert 0.0 <= p <= 1.0
    assert erlang_c(load, agents + 1) <= p + 1e-12


def test_hour_occurrences_across_fall_back() -> None:
    # The week of 2026-10-25: Sunday 02:00-03:00 local occurs twice.
    counts = hour_occurrences(se(2026, 10, 19), se(2026, 10, 26), SE)
    assert counts[6 * 24 + 2] == 2
    assert sum(counts) == 169


def test_demand_flags_hours_where_the_queue_grows() -> None:
    start = datetime(2026, 2, 2, tzinfo=SE)  # four whole weeks from a Monday
    end = start + timedelta(weeks=4)
    contacts = []
    for week in range(4):
        monday_ten = start + timedelta(weeks=week, hours=10)
        # 12 contacts an hour of 20 minutes each: 4 Erlangs.
        contacts += [
            Contact(monday_ten + timedelta(minutes=5 * i), timedelta(minutes=20)) for i in range(12)
        ]
    counsellors = [0] * 168
    counsellors[10] = 2  # 2 x 2 chats = 4 agents: exactly unstable
    hours = demand_vs_schedule(contacts, start, end, counsellors, concurrency=2)
    monday_ten = hours[10]
    assert monday_ten.expected_contacts == pytest.approx(12)
    assert monday_ten.load == pytest.approx(4)
    assert monday_ten.flagged and "unstable" in monday_ten.reason
    counsellors[10] = 3  # 6 agents
    calmer = demand_vs_schedule(contacts, start, end, counsellors, concurrency=2)[10]
    assert calmer.agents == 6 and calmer.expected_wait is not None
    # With a ten-minute target, six agents for four Erlangs flag nothing.
    assert calmer_hours(contacts, start, end, counsellors) == []
    assert monday_ten.to_dict()["label"] == "Mon 10:00-11:00"


def calmer_hours(
    contacts: list[Contact], start: datetime, end: datetime, counsellors: list[int]
) -> list[object]:
    return [
        h
        for h in demand_vs_schedule(
            contacts, start, end, counsellors, target_wait=timedelta(minutes=10)
        )
        if h.flagged
    ]


def test_scheduled_counsellors_from_a_rota() -> None:
    rota = parse_rota_yaml(
        """\
lines: [{id: young, open: {mon-fri: "15:00-22:00"}}]
staff: [c1, c2]
templates:
  - {id: t, line: young, role: counsellor, days: mon-fri, hours: "15:00-22:00",
     rotation: [c1], rotation_start: 2026-01-05}
  - {id: u, line: young, role: counsellor, days: mon, hours: "18:30-22:00",
     rotation: [c2], rotation_start: 2026-01-05}
"""
    )
    by_hour = scheduled_counsellors(rota, "young", datetime(2026, 3, 2, tzinfo=SE))
    assert by_hour[14] == 0 and by_hour[15] == 1
    assert by_hour[18] == 1  # the fewest during the hour
    assert by_hour[19] == 2
    assert by_hour[24 + 19] == 1
    assert len(by_hour) == 168
