"""The rota in force, as the hub and the API see it: the shell around ``rota/``.

The newest imported YAML document is parsed once; approved ad-hoc clock-ins,
sign-ups, swaps and covers from the database are merged into it. With no rota
imported, the line runs in "clock-in mode": an explicit clock-in is enough to
be offered conversations (the behaviour before a rota exists).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from rota.coverage import on_shift_now
from rota.model import Assignment, ClockIn, Cover, Role, Rota, Shift, Swap
from rota.needs import line_needs, need_at
from rota.yaml_format import parse_rota_yaml
from server.store import Store

# Who is on shift changes at most at minute boundaries in practice; reuse the
# answer this long so a busy matching loop does not resolve the rota each time.
ON_SHIFT_CACHE_S = 15.0


class RotaState:
    def __init__(self) -> None:
        self.document_id: int | None = None
        self.base: Rota | None = None
        self.rota: Rota | None = None
        self._on_shift_cache: tuple[float, frozenset[str]] = (-1e18, frozenset())

    async def refresh(self, store: Store) -> None:
        current = await store.current_rota_source()
        if current is None:
            self.document_id, self.base, self.rota = None, None, None
            return
        if current[0] != self.document_id:
            self.base = parse_rota_yaml(current[1])
            self.document_id = current[0]
        assert self.base is not None
        self.rota = merge_approved(
            self.base,
            await _approved_clock_ins(store.pool),
            await _approved_requests(store.pool),
        )
        self._on_shift_cache = (-1e18, frozenset())

    @property
    def loaded(self) -> bool:
        return self.rota is not None

    def on_shift_usernames(self, now: datetime) -> frozenset[str]:
        """Everyone on shift on any line now (scheduled or with an approved clock-in)."""
        stamp, cached = self._on_shift_cache
        if abs(now.timestamp() - stamp) < ON_SHIFT_CACHE_S:
            return cached
        names: set[str] = set()
        if self.rota is not None:
            for line in self.rota.lines:
                for duty in on_shift_now(
                    self.rota, line.line_id, now, clock_ins=self.rota.clock_ins
                ):
                    names.add(duty.staff_id)
        result = frozenset(names)
        self._on_shift_cache = (now.timestamp(), result)
        return result

    def may_take_calls(self, username: str, now: datetime) -> bool:
        return self.rota is None or username in self.on_shift_usernames(now)

    def line_open(self, line_id: str, now: datetime) -> bool:
        """Open now; lines the rota does not know are always open."""
        if self.rota is None:
            return True
        try:
            line = self.rota.line(line_id)
        except KeyError:
            return True
        needs = line_needs(
            line, self.rota.holidays, now - timedelta(days=1), now + timedelta(days=1)
        )
        need = need_at(needs[Role.COUNSELLOR], now)
        return need is not None and need.is_open

    def opening_hours(self, line_id: str) -> dict[str, Any] | None:
        if self.rota is None:
            return None
        try:
            line = self.rota.line(line_id)
        except KeyError:
            return None
        return {
            "always": line.opening.always,
            "label": line.opening.label(),
            "time_zone": line.timezone,
            "weekly": [
                {"weekdays": sorted(w.weekdays), "hours": w.range.label()}
                for w in line.opening.weekly
            ],
        }


def merge_approved(base: Rota, clock_ins: list[ClockIn], requests: list[dict[str, Any]]) -> Rota:
    """The imported rota plus what supervisors approved since (pure)."""
    shifts = list(base.shifts)
    swaps = list(base.swaps)
    covers = list(base.covers)
    for req in requests:
        payload = req["payload"]
        if req["kind"] == "signup":
            shifts.append(
                Shift(
                    shift_id=f"signup-{req['id']}",
                    line_id=payload["line"],
                    start=datetime.fromisoformat(payload["start"]),
                    end=datetime.fromisoformat(payload["end"]),
                    assignments=(Assignment(req["username"], Role(payload["role"])),),
                    origin="sign-up",
                )
            )
        elif req["kind"] == "swap":
            swaps.append(
                Swap(
                    f"swap-{req['id']}",
                    payload["shift_a"],
                    req["username"],
                    payload["shift_b"],
                    payload["staff_b"],
                    approved_by=req["decided_by"],
                )
            )
        elif req["kind"] == "cover":
            covers.append(
                Cover(
                    f"cover-{req['id']}",
                    payload["shift_id"],
                    req["username"],
                    payload["covered_by"],
                    approved_by=req["decided_by"],
                )
            )
    return dataclasses.replace(
        base,
        shifts=tuple(shifts),
        swaps=tuple(swaps),
        covers=tuple(covers),
        clock_ins=base.clock_ins + tuple(clock_ins),
    )


async def _approved_clock_ins(pool: asyncpg.Pool) -> list[ClockIn]:
    rows = await pool.fetch(
        "SELECT s.username, c.line_id, c.role, c.starts_at, c.ends_at, a.username AS approver"
        " FROM clock_ins c JOIN staff s ON s.id = c.staff_id JOIN staff a ON a.id = c.approved_by"
        " WHERE c.ends_at > $1",
        datetime.now(UTC) - timedelta(days=1),
    )
    return [
        ClockIn(
            r["username"],
            r["line_id"],
            Role(r["role"]),
            r["starts_at"],
            r["ends_at"],
            r["approver"],
        )
        for r in rows
    ]


async def _approved_requests(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT r.id, r.kind, r.payload, s.username, d.username AS decided_by"
        " FROM rota_requests r JOIN staff s ON s.id = r.staff_id"
        " JOIN staff d ON d.id = r.decided_by WHERE r.status = 'approved' ORDER BY r.id"
    )
    return [
        {
            "id": r["id"],
            "kind": r["kind"],
            "payload": json.loads(r["payload"]),
            "username": r["username"],
            "decided_by": r["decided_by"],
        }
        for r in rows
    ]
