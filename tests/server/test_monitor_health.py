"""The queue-health light and the wait alerts: a pure core, tested with tables."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from server.models import RiskTier
from server.queue_health import (
    Light,
    Staffing,
    Thresholds,
    Waiting,
    queue_health,
    wait_alerts,
)
from server.wait_watch import staffing_by_line

NOW = 10_000.0
LIMITS = Thresholds(high_risk_wait_s=60, long_wait_s=600, amber_wait_s=120, red_wait_s=600)
STAFFED = Staffing(on_shift=2, available=2, free_slots=3)


def waiting(waited_s: float, tier: RiskTier = RiskTier.NONE, conv: str = "c1") -> Waiting:
    return Waiting(conv, "adults", tier, NOW - waited_s)


@pytest.mark.parametrize(
    ("queue", "staffing", "light", "reason_part"),
    [
        ([], STAFFED, Light.GREEN, "no one waiting"),
        ([waiting(30)], STAFFED, Light.GREEN, "being served"),
        ([waiting(150)], STAFFED, Light.AMBER, "longest wait 150 s"),
        ([waiting(700)], STAFFED, Light.RED, "longest wait 700 s"),
        ([waiting(10)], Staffing(on_shift=1, available=0), Light.RED, "no counsellor available"),
        ([waiting(10)], Staffing(1, 1, 0.0), Light.AMBER, "full"),
        ([waiting(61, RiskTier.HIGH)], STAFFED, Light.RED, "high-risk"),
        ([waiting(59, RiskTier.IMMINENT)], STAFFED, Light.GREEN, "being served"),
        ([], Staffing(1, 1, 2.0, ("1 counsellor short",)), Light.AMBER, "rota: 1 counsellor"),
    ],
)
def test_queue_health(
    queue: list[Waiting], staffing: Staffing, light: Light, reason_part: str
) -> None:
    health = queue_health(queue, staffing, LIMITS, NOW)
    assert health.light is light
    assert any(reason_part in r for r in health.reasons), health.reasons
    # Each reason also goes out as a code with its numbers, for the monitor to
    # word in the supervisor's language.
    for why in health.why:
        assert why.code and why.to_json() == {"code": why.code, "params": dict(why.params)}
        for value in why.params.values():
            assert str(value) in why.text


def test_health_reason_codes_carry_the_numbers() -> None:
    health = queue_health([waiting(61, RiskTier.HIGH), waiting(700)], STAFFED, LIMITS, NOW)
    assert [(w.code, dict(w.params)) for w in health.why] == [
        ("urgent_waiting", {"n": 1, "limit": 60}),
        ("longest_wait_red", {"s": 700, "limit": 600}),
    ]


@pytest.mark.parametrize(
    ("queue", "staffing", "kinds"),
    [
        ([waiting(30)], STAFFED, []),
        ([waiting(61, RiskTier.HIGH)], STAFFED, ["risk_wait"]),
        ([waiting(61, RiskTier.MEDIUM)], STAFFED, []),
        ([waiting(601)], STAFFED, ["long_wait"]),
        ([waiting(601, RiskTier.HIGH)], STAFFED, ["risk_wait"]),
        ([waiting(5)], Staffing(0, 0, 0.0), ["understaffed"]),
    ],
)
def test_wait_alerts(queue: list[Waiting], staffing: Staffing, kinds: list[str]) -> None:
    alerts = wait_alerts(queue, {"adults": staffing}, {"adults": LIMITS}, NOW)
    assert [a.kind for a in alerts] == kinds


def test_wait_alert_reasons_carry_a_code_and_their_numbers() -> None:
    queue = [
        waiting(75, RiskTier.HIGH, "a"),
        waiting(700, conv="b"),
        waiting(5, RiskTier.IMMINENT, "c"),
    ]
    alerts = wait_alerts(queue, {"adults": Staffing()}, {"adults": LIMITS}, NOW)
    assert [(a.kind, a.why.to_json() if a.why else None) for a in alerts] == [
        ("long_wait", {"code": "long_wait", "params": {"s": 700, "limit": 600}}),
        ("risk_wait", {"code": "risk_wait", "params": {"tier": "high", "s": 75, "limit": 60}}),
        ("understaffed", {"code": "understaffed", "params": {"n": 3}}),
    ]
    for alert in alerts:
        # The English reason stays (e-mail, logs) and says the same thing.
        assert alert.why is not None and alert.why.text == alert.reason
        for value in alert.why.params.values():
            assert str(value) in alert.reason
    assert alerts[1].reason == "A high-risk caller on adults has waited 75 s (alert from 60 s)"


def test_alert_keys_stay_put_while_the_situation_lasts() -> None:
    queue = [waiting(700, RiskTier.HIGH, "a"), waiting(10, conv="b")]
    nobody = {"adults": Staffing()}
    first = wait_alerts(queue, nobody, {}, NOW)
    later = wait_alerts(queue, nobody, {}, NOW + 300)
    assert [a.key for a in first] == [a.key for a in later]
    assert [a.key for a in first] == ["risk_wait:a", "understaffed:adults:a"]


def test_thresholds_from_line_settings() -> None:
    assert Thresholds.from_settings({}) == Thresholds()
    parsed = Thresholds.from_settings({"monitor": {"high_risk_wait_s": 30, "red_wait_s": "x"}})
    assert parsed.high_risk_wait_s == 30 and parsed.red_wait_s == Thresholds().red_wait_s


def test_queue_health_is_pure() -> None:
    source = Path(__file__).resolve().parents[2] / "server" / "queue_health.py"
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            assert node.module.split(".")[0] not in {"asyncio", "asyncpg", "starlette", "time"}
        if isinstance(node, ast.Import):
            assert all(a.name not in {"asyncio", "time", "datetime"} for a in node.names)


def board(staff: int, lines: list[str], load: float, available: bool = True) -> dict[str, object]:
    return {"staff": staff, "lines": lines, "capacity": 2, "load": load, "available": available}


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ([], Staffing(0, 0, 0.0)),
        # One counsellor connected to two processes counts once.
        ([board(1, ["adults"], 1), board(1, ["adults"], 1)], Staffing(1, 1, 1.0)),
        # No lines listed: serves every line.
        ([board(2, [], 0)], Staffing(1, 1, 2.0)),
        ([board(3, ["young"], 0)], Staffing(0, 0, 0.0)),
        # On shift but paused: there, yet nobody to answer.
        ([board(4, ["adults"], 0, available=False)], Staffing(1, 0, 0.0)),
        # Older processes listed available counsellors only, without the flag.
        ([{"staff": 5, "lines": ["adults"], "capacity": 2, "load": 2}], Staffing(1, 1, 0.0)),
    ],
)
def test_staffing_from_the_presence_board(
    entries: list[dict[str, object]], expected: Staffing
) -> None:
    assert staffing_by_line(entries, ["adults"]) == {"adults": expected}
