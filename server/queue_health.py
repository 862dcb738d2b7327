"""Queue health per line and the wait alerts for supervisors: a pure core.

Design note: docs/console.md ("Queue health and wait alerts"). Facts in (who
waits since when, at which tier; who is on shift; the line's thresholds; ``now``),
decisions with their reasons out. No I/O, no clock: the monitor shell passes
``now``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from server.models import RiskTier


class Light(enum.StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


@dataclass(frozen=True)
class Thresholds:
    """When a wait is worth a supervisor's attention; per line in ``lines.settings``."""

    # A caller assessed high or imminent should be with someone within a
    # minute: beyond that a supervisor is asked to step in.
    high_risk_wait_s: float = 60.0
    # Ten minutes in a crisis chat queue is when callers start giving up.
    long_wait_s: float = 600.0
    # The light turns amber at two minutes' wait, red at the long-wait mark.
    amber_wait_s: float = 120.0
    red_wait_s: float = 600.0

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Thresholds:
        """Read ``{"monitor": {"high_risk_wait_s": 30, ...}}``; bad values keep the default."""
        raw = settings.get("monitor")
        if not isinstance(raw, Mapping):
            return cls()
        values: dict[str, float] = {}
        for name in ("high_risk_wait_s", "long_wait_s", "amber_wait_s", "red_wait_s"):
            value = raw.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
                values[name] = float(value)
        return cls(**values)


@dataclass(frozen=True)
class Waiting:
    conversation_id: str
    line_id: str
    tier: RiskTier
    queued_at: float  # epoch seconds


@dataclass(frozen=True)
class Staffing:
    """Counsellors serving a line right now, in every process."""

    on_shift: int = 0
    available: int = 0
    free_slots: float = 0.0
    # What the rota says is missing now ("1 counsellor short"), if anything.
    rota_shortfall: tuple[str, ...] = ()


@dataclass(frozen=True)
class Why:
    """One reason for a light: a code and numbers the monitor words in the
    supervisor's language (`health.why.<code>` in i18n.js), and the English text."""

    code: str
    params: Mapping[str, int | str]
    text: str

    def to_json(self) -> dict[str, object]:
        return {"code": self.code, "params": dict(self.params)}


@dataclass(frozen=True)
class Health:
    light: Light
    why: tuple[Why, ...] = field(default_factory=tuple)

    @property
    def reasons(self) -> tuple[str, ...]:
        """The reasons in English (logs, the API's `health_reasons`)."""
        return tuple(w.text for w in self.why)


@dataclass(frozen=True)
class AlertCandidate:
    """An alert the shell raises once per ``key`` (stable while the situation lasts)."""

    key: str
    kind: str
    line_id: str
    conversation_id: str | None
    tier: str | None
    reason: str
    # The reason as a code and numbers for the monitor (`alert.why.<code>`).
    why: Why | None = None


def _waited(w: Waiting, now: float) -> float:
    return max(0.0, now - w.queued_at)


def queue_health(
    waiting: Iterable[Waiting], staffing: Staffing, thresholds: Thresholds, now: float
) -> Health:
    """The one-glance light of a line: red, amber or green, with why."""
    queue = list(waiting)
    red: list[Why] = []
    amber: list[Why] = []
    longest = max((_waited(w, now) for w in queue), default=0.0)
    urgent = [
        w
        for w in queue
        if w.tier >= RiskTier.HIGH and _waited(w, now) >= thresholds.high_risk_wait_s
    ]
    if urgent:
        n, limit = len(urgent), round(thresholds.high_risk_wait_s)
        text = f"{n} high-risk caller(s) waiting over {limit} s"
        red.append(Why("urgent_waiting", {"n": n, "limit": limit}, text))
    wait = round(longest)
    if longest >= thresholds.red_wait_s:
        limit = round(thresholds.red_wait_s)
        text = f"longest wait {wait} s (red from {limit} s)"
        red.append(Why("longest_wait_red", {"s": wait, "limit": limit}, text))
    elif longest >= thresholds.amber_wait_s:
        limit = round(thresholds.amber_wait_s)
        text = f"longest wait {wait} s (amber from {limit} s)"
        amber.append(Why("longest_wait_amber", {"s": wait, "limit": limit}, text))
    n = len(queue)
    if queue and staffing.available == 0:
        red.append(Why("nobody_available", {"n": n}, f"{n} waiting and no counsellor available"))
    elif queue and staffing.free_slots <= 0:
        text = f"{n} waiting and every available counsellor is full"
        amber.append(Why("everyone_full", {"n": n}, text))
    amber.extend(Why("rota", {"detail": s}, f"rota: {s}") for s in staffing.rota_shortfall)
    if red:
        return Health(Light.RED, tuple(red + amber))
    if amber:
        return Health(Light.AMBER, tuple(amber))
    if not queue:
        return Health(Light.GREEN, (Why("nobody_waiting", {}, "no one waiting"),))
    return Health(Light.GREEN, (Why("being_served", {}, "callers are being served"),))


def wait_alerts(
    waiting: Iterable[Waiting],
    staffing_by_line: Mapping[str, Staffing],
    thresholds_by_line: Mapping[str, Thresholds],
    now: float,
) -> list[AlertCandidate]:
    """Alerts for waits: high risk waiting too long, long waits, nobody to answer.

    Keys name the conversation (or the line and its oldest waiting caller), so
    a situation that lasts yields one alert, and a new one yields a new alert.
    """
    by_line: dict[str, list[Waiting]] = {}
    for w in sorted(waiting, key=lambda w: w.queued_at):
        by_line.setdefault(w.line_id, []).append(w)
    out: list[AlertCandidate] = []
    for line_id, queue in by_line.items():
        limits = thresholds_by_line.get(line_id, Thresholds())
        for w in queue:
            waited = _waited(w, now)
            s = round(waited)
            if w.tier >= RiskTier.HIGH and waited >= limits.high_risk_wait_s:
                limit = round(limits.high_risk_wait_s)
                text = (
                    f"A {w.tier.label}-risk caller on {line_id} has waited {s} s"
                    f" (alert from {limit} s)"
                )
                params: dict[str, int | str] = {"tier": w.tier.label, "s": s, "limit": limit}
                out.append(
                    AlertCandidate(
                        f"risk_wait:{w.conversation_id}",
                        "risk_wait",
                        line_id,
                        w.conversation_id,
                        w.tier.label,
                        text,
                        Why("risk_wait", params, text),
                    )
                )
            elif waited >= limits.long_wait_s:
                limit = round(limits.long_wait_s)
                text = f"A caller on {line_id} has waited {s} s (alert from {limit} s)"
                out.append(
                    AlertCandidate(
                        f"long_wait:{w.conversation_id}",
                        "long_wait",
                        line_id,
                        w.conversation_id,
                        w.tier.label,
                        text,
                        Why("long_wait", {"s": s, "limit": limit}, text),
                    )
                )
        staffing = staffing_by_line.get(line_id, Staffing())
        if staffing.available == 0:
            oldest = queue[0]
            n = len(queue)
            text = f"{n} caller(s) waiting on {line_id} and no counsellor available"
            out.append(
                AlertCandidate(
                    f"understaffed:{line_id}:{oldest.conversation_id}",
                    "understaffed",
                    line_id,
                    None,
                    None,
                    text,
                    Why("understaffed", {"n": n}, text),
                )
            )
    return out
