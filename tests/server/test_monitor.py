"""The supervisor's shift monitor: live snapshots, coverage, wait alerts, role checks."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from rota.cli import DEMO_ROTA, load_rota
from server import wait_watch
from server.models import StaffRole
from tests.server.conftest import Running, ServerFactory
from tests.server.test_console import open_staff, signed_in


async def test_counsellors_cannot_open_the_monitor(running: Running) -> None:
    line = await running.line()
    async with signed_in(running, await running.staff(line)) as http:
        assert (await http.get("/api/monitor/snapshot")).status_code == 403
        assert (await http.post(f"/api/monitor/alerts/{uuid.uuid4()}/ack")).status_code == 403
    async with signed_in(running, await running.staff(line, StaffRole.SUPERVISOR)) as http:
        assert (await http.get("/api/monitor/snapshot")).status_code == 200
    async with __import__("httpx").AsyncClient(base_url=running.http) as anonymous:
        assert (await anonymous.get("/api/monitor/snapshot")).status_code == 401


async def test_monitor_pushes_queue_changes_and_staff(running: Running) -> None:
    running.services.extras["rota"] = lambda: None
    line = await running.line()
    supervisor = await open_staff(running, await running.staff(line, StaffRole.SUPERVISOR))
    counsellor = await running.counsellor(line)
    await supervisor.send({"type": "monitor", "on": True})
    first = await supervisor.expect("monitor_snapshot")
    assert first["rota_loaded"] is False and first["coverage"] is None
    row = next(r for r in first["lines"] if r["id"] == line)
    assert (row["waiting"], row["health"], row["available"]) == (0, "green", 1)
    staff = {s["id"]: s for s in first["staff"]}
    assert staff[counsellor.seen[0]["staff"]["id"]]["on_shift"] is True

    await counsellor.send({"type": "availability", "status": "paused", "reason": "break"})
    await counsellor.expect("availability")
    caller = await running.caller()
    await caller.start(line, "sv")
    while True:
        snapshot = await supervisor.expect("monitor_snapshot")
        row = next(r for r in snapshot["lines"] if r["id"] == line)
        if row["waiting"] == 1:
            break
    assert row["health"] == "red"  # someone waits and nobody is available
    assert [q["conversation"] for q in snapshot["queue"] if q["line"] == line] == [
        caller.conversation
    ]
    paused = next(s for s in snapshot["staff"] if s["availability"] == "paused")
    assert paused["reason"] == "break"
    understaffed = await supervisor.expect("alert", line=line)
    assert understaffed["kind"] == "understaffed"

    await counsellor.send({"type": "availability", "status": "available"})
    conv = await counsellor.take_next()
    while True:
        snapshot = await supervisor.expect("monitor_snapshot")
        if any(a["conversation"] == conv for a in snapshot["active"]):
            break
    active = next(a for a in snapshot["active"] if a["conversation"] == conv)
    assert active["counsellor"] == "Counsellor" and active["tier"] == "none"
    await supervisor.send({"type": "monitor", "on": False})


async def test_a_high_risk_caller_waiting_too_long_raises_an_alert(running: Running) -> None:
    line = await running.line()
    await running.store.pool.execute(
        "UPDATE lines SET settings = $2 WHERE id = $1",
        line,
        json.dumps({"monitor": {"high_risk_wait_s": 0}}),
    )
    supervisor = await open_staff(running, await running.staff(line, StaffRole.SUPERVISOR))
    caller = await running.caller()
    await caller.start(line, "sv")
    await running.store.pool.execute(
        "UPDATE conversations SET risk_tier = 3 WHERE id = $1", uuid.UUID(caller.conversation)
    )
    await supervisor.send({"type": "monitor", "on": True})
    alert = await supervisor.expect("alert", conversation=caller.conversation)
    assert alert["kind"] == "risk_wait" and alert["tier"] == "high"
    snapshot = await supervisor.expect("monitor_snapshot")
    row = next(r for r in snapshot["lines"] if r["id"] == line)
    assert row["health"] == "red"
    assert any("high-risk" in reason for reason in row["health_reasons"])


async def test_a_risky_message_alerts_the_monitor(running: Running) -> None:
    line = await running.line()
    supervisor = await open_staff(running, await running.staff(line, StaffRole.SUPERVISOR))
    counsellor = await running.counsellor(line)
    caller = await running.caller()
    await caller.start(line, "sv")
    conv = await counsellor.take_next()
    await caller.say("jag har tagit 30 alvedon och vill dö")
    alert = await supervisor.expect("alert", conversation=conv)
    assert alert["kind"] == "risk" and alert["tier"] in {"high", "imminent"}
    risk = await counsellor.expect("risk", conversation=conv)
    assert risk["evidence"] and risk["tier"] in {"high", "imminent"}


async def test_coverage_from_the_rota_provider(running: Running) -> None:
    rota = load_rota(DEMO_ROTA)
    running.services.extras["rota"] = lambda: rota
    async with signed_in(running, await running.staff("adults", StaffRole.SUPERVISOR)) as http:
        snapshot = (await http.get("/api/monitor/snapshot")).json()
    assert snapshot["rota_loaded"] is True
    coverage = snapshot["coverage"]
    assert set(coverage) == {"start", "end", "gaps", "now"}
    assert all({"line", "role", "missing", "start", "end"} <= set(g) for g in coverage["gaps"])


async def test_a_supervisor_sees_only_the_lines_they_serve(running: Running) -> None:
    line, other = await running.line(), await running.line()
    caller = await running.caller()
    await caller.start(line, "sv")
    async with signed_in(running, await running.staff(other, StaffRole.SUPERVISOR)) as http:
        snapshot = (await http.get("/api/monitor/snapshot")).json()
    assert [row["id"] for row in snapshot["lines"]] == [other]
    assert all(q["line"] == other for q in snapshot["queue"])


async def _wait_for_alert_row(running: Running, kind: str, line: str) -> Any:
    deadline = asyncio.get_running_loop().time() + 3 * wait_watch.CHECK_INTERVAL_S
    while asyncio.get_running_loop().time() < deadline:
        row = await running.store.pool.fetchrow(
            "SELECT kind, tier, conversation_id FROM alerts WHERE kind = $1 AND line_id = $2",
            kind,
            line,
        )
        if row is not None:
            return row
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {kind} alert on {line}")


async def test_wait_alerts_are_raised_with_no_monitor_open(running: Running) -> None:
    line = await running.line()
    await running.store.pool.execute(
        "UPDATE lines SET settings = $2 WHERE id = $1",
        line,
        json.dumps({"monitor": {"high_risk_wait_s": 1}}),
    )
    caller = await running.caller()
    await caller.start(line, "sv")
    await running.store.pool.execute(
        "UPDATE conversations SET risk_tier = 3 WHERE id = $1", uuid.UUID(caller.conversation)
    )
    assert not running.services.hub.presence  # no staff at all, let alone a monitor

    row = await _wait_for_alert_row(running, "risk_wait", line)
    assert (row["tier"], str(row["conversation_id"])) == ("high", caller.conversation)
    await _wait_for_alert_row(running, "understaffed", line)

    # A supervisor who opens the monitor afterwards finds it waiting to be acknowledged.
    supervisor = await open_staff(running, await running.staff(line, StaffRole.SUPERVISOR))
    await supervisor.send({"type": "monitor", "on": True})
    snapshot = await supervisor.expect("monitor_snapshot")
    ours = [a for a in snapshot["alerts"] if a["conversation"] == caller.conversation]
    assert [(a["kind"], a["acknowledged_at"]) for a in ours] == [("risk_wait", None)]
    assert any(a["kind"] == "understaffed" and a["line"] == line for a in snapshot["alerts"])


async def test_each_wait_alert_goes_out_once_across_processes(
    make_server: ServerFactory,
) -> None:
    first, second = await make_server(), await make_server()
    line = await first.line()
    await first.store.pool.execute(
        "UPDATE lines SET settings = $2 WHERE id = $1",
        line,
        json.dumps({"monitor": {"high_risk_wait_s": 0}}),
    )
    caller = await first.caller()
    await caller.start(line, "sv")
    await first.store.pool.execute(
        "UPDATE conversations SET risk_tier = 4 WHERE id = $1", uuid.UUID(caller.conversation)
    )
    now = datetime.now(UTC)
    await asyncio.gather(
        *(wait_watch.check_once(r.services, now) for r in (first, second, first, second))
    )
    kinds = await first.store.pool.fetch(
        "SELECT kind FROM alerts WHERE conversation_id = $1 OR (kind = 'understaffed'"
        " AND line_id = $2)",
        uuid.UUID(caller.conversation),
        line,
    )
    assert sorted(r["kind"] for r in kinds) == ["risk_wait", "understaffed"]
