from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from rota.alerts import AlertKind, gaps_ahead, live_understaffing
from rota.model import ClockIn, Role
from tests.rota.builders import rota_from, se

ROTA = """
lines:
  - id: adults
    open: always
templates:
  - {id: sup, line: adults, role: supervisor, days: every day, hours: "08:00-20:00",
     rotation: [sup1], rotation_start: 2026-01-05}
  - {id: day, line: adults, role: counsellor, days: every day, hours: "08:00-20:00",
     rotation: [c1], rotation_start: 2026-01-05}
  - {id: night, line: adults, role: counsellor, days: every day, hours: "20:00-08:00",
     rotation: [c2], rotation_start: 2026-01-05}
"""


def kinds(alerts: tuple[object, ...]) -> set[tuple[str, str, str | None]]:
    return {(str(a.kind), str(a.role), a.staff_id) for a in alerts}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("now", "present", "expected"),
    [
        # Everyone there: nothing to say.
        (se(2026, 3, 2, 9), {"sup1", "c1"}, set()),
        # Five minutes in, nobody yet: short-staffed, but not yet a no-show.
        (
            se(2026, 3, 2, 8, 5),
            set(),
            {("understaffed", "supervisor", None), ("understaffed", "counsellor", None)},
        ),
        # Ten minutes in: both are no-shows.
        (
            se(2026, 3, 2, 8, 10),
            {"sup1"},
            {("understaffed", "counsellor", None), ("no_show", "counsellor", "c1")},
        ),
        # Night: no supervisor is scheduled at all; the requirement still stands.
        (se(2026, 3, 2, 22), {"c2"}, {("understaffed", "supervisor", None)}),
    ],
)
def test_live_understaffing(
    now: datetime, present: set[str], expected: set[tuple[str, str, str | None]]
) -> None:
    assert kinds(live_understaffing(rota_from(ROTA), present, now)) == expected


def test_keys_are_stable_minute_to_minute_and_change_with_the_situation() -> None:
    rota = rota_from(ROTA)
    first = live_understaffing(rota, {"sup1"}, se(2026, 3, 2, 8, 12))
    later = live_understaffing(rota, {"sup1"}, se(2026, 3, 2, 9, 40))
    assert [a.key for a in first] == [a.key for a in later]
    assert {a.key for a in first} == {
        "no-show:adults:day@2026-03-02:c1",
        "understaffed:adults:counsellor:20260302T070000Z:1",
    }
    next_day = live_understaffing(rota, {"sup1"}, se(2026, 3, 3, 8, 12))
    assert not {a.key for a in next_day} & {a.key for a in first}


def test_reasons_are_human_readable() -> None:
    alerts = live_understaffing(rota_from(ROTA), set(), se(2026, 3, 2, 8, 30))
    (no_show,) = [a for a in alerts if a.kind == AlertKind.NO_SHOW and a.role == Role.COUNSELLOR]
    assert no_show.reason == (
        "c1 was due on adults as counsellor at Mon 02 Mar 08:00 (Europe/Stockholm) "
        "and is not present 30 min later"
    )
    assert no_show.to_dict()["key"] == no_show.key


def test_clock_in_counts_when_present() -> None:
    rota = rota_from(ROTA)
    now = se(2026, 3, 2, 22)
    clock_in = ClockIn("sup2", "adults", Role.SUPERVISOR, now, now + timedelta(hours=2), "sup1")
    assert live_understaffing(rota, {"c2", "sup2"}, now, clock_ins=[clock_in]) == ()
    # A clock-in of someone who then disconnected does not count.
    assert kinds(live_understaffing(rota, {"c2"}, now, clock_ins=[clock_in])) == {
        ("understaffed", "supervisor", None)
    }


def test_gaps_ahead_keys_survive_a_moving_now() -> None:
    rota = rota_from(ROTA)
    today = gaps_ahead(rota, se(2026, 3, 2, 6), days=2)
    later = gaps_ahead(rota, se(2026, 3, 2, 7, 30), days=2)
    assert today[0].key == "gap:adults:supervisor:20260301T190000Z:1"
    assert today[0].key in {a.key for a in later}
    assert all(a.kind == AlertKind.GAP_AHEAD for a in today)
    assert "supervisor missing Sun 01 Mar 20:00" in today[0].reason
    assert len({a.key for a in today}) == len(today)
