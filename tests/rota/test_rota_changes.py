from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rota.model import Assignment, Cover, Role, Shift, Staff, Swap
from rota.shifts import apply_changes

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)
SHIFTS = [
    Shift("s1", "adults", T0, T0 + timedelta(hours=8), (Assignment("a", Role.COUNSELLOR),)),
    Shift(
        "s2",
        "adults",
        T0 + timedelta(days=1),
        T0 + timedelta(days=1, hours=8),
        (Assignment("b", Role.COUNSELLOR), Assignment("boss", Role.SUPERVISOR)),
    ),
]
STAFF = {
    "a": Staff("a"),
    "b": Staff("b"),
    "c": Staff("c"),
    "boss": Staff("boss", roles=frozenset({Role.SUPERVISOR})),
}


def people(shifts: list[Shift]) -> dict[str, list[str]]:
    return {s.shift_id: [a.staff_id for a in s.assignments] for s in shifts}


@pytest.mark.parametrize(
    ("swaps", "covers", "expected", "outcomes"),
    [
        ([], [], {"s1": ["a"], "s2": ["b", "boss"]}, []),
        (
            [Swap("w", "s1", "a", "s2", "b", approved_by="boss")],
            [],
            {"s1": ["b"], "s2": ["a", "boss"]},
            [("w", True), ("w", True)],
        ),
        (
            [Swap("w", "s1", "a", "s2", "b")],  # not approved yet
            [],
            {"s1": ["a"], "s2": ["b", "boss"]},
            [("w", False), ("w", False)],
        ),
        (
            [],
            [Cover("c1", "s1", "a", "c", approved_by="boss")],
            {"s1": ["c"], "s2": ["b", "boss"]},
            [("c1", True)],
        ),
        (
            [],
            [Cover("c1", "s2", "boss", "c", approved_by="boss")],  # c is no supervisor
            {"s1": ["a"], "s2": ["b", "boss"]},
            [("c1", False)],
        ),
        (
            [],
            [Cover("c1", "s1", "b", "c", approved_by="boss")],  # b is not on s1
            {"s1": ["a"], "s2": ["b", "boss"]},
            [("c1", False)],
        ),
        (  # swap first, then a cover of the swapped-in person
            [Swap("w", "s1", "a", "s2", "b", approved_by="boss")],
            [Cover("c1", "s1", "b", "c", approved_by="boss")],
            {"s1": ["c"], "s2": ["a", "boss"]},
            [("w", True), ("c1", True), ("w", True)],
        ),
        (  # the other half of the swap is outside the window: this half still applies
            [Swap("w", "s1", "a", "elsewhere", "c", approved_by="boss")],
            [],
            {"s1": ["c"], "s2": ["b", "boss"]},
            [("w", True)],
        ),
    ],
)
def test_apply_changes(
    swaps: list[Swap],
    covers: list[Cover],
    expected: dict[str, list[str]],
    outcomes: list[tuple[str, bool]],
) -> None:
    shifts, results = apply_changes(SHIFTS, swaps, covers, STAFF)
    assert people(shifts) == expected
    assert [(r.change_id, r.applied) for r in results] == outcomes
    assert all(r.reason for r in results)


def test_refusals_say_why() -> None:
    _, results = apply_changes(SHIFTS, [], [Cover("c1", "s2", "boss", "c", "boss")], STAFF)
    assert results[0].reason == "c cannot work as supervisor"
