"""The rota in the hub: who is offered conversations, closed lines, alerts, API and CLI."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import aclosing
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from server import rota_jobs
from server.models import StaffRole
from server.monitor_snapshot import build_snapshot
from tests.conftest import CapturedMail
from tests.server.clients import Counsellor
from tests.server.conftest import Running, ServerFactory


@pytest.fixture(autouse=True)
async def no_rota_left_behind(database_url: str) -> AsyncIterator[None]:
    """The rota in force is database-wide: other tests run in clock-in mode."""
    yield
    conn = await asyncpg.connect(database_url)
    await conn.execute(
        "DELETE FROM rota_documents; DELETE FROM clock_ins; DELETE FROM rota_requests"
    )
    await conn.close()


def rota_yaml(
    line: str,
    on_shift: list[str],
    off_shift: list[str],
    supervisor: str,
    open_hours: str = "always",
    shift_started_min: int = 30,
) -> str:
    now = datetime.now(UTC)
    start = (now - timedelta(minutes=shift_started_min)).strftime("%Y-%m-%d %H:%M")
    end = (now + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
    staff = "\n".join(f"  - {{id: {u}, roles: [counsellor]}}" for u in on_shift + off_shift)
    assigned = ", ".join([f"{u}: counsellor" for u in on_shift] + [f"{supervisor}: supervisor"])
    return f"""version: 1
lines:
  - id: {line}
    timezone: UTC
    open: {open_hours}
    requirements:
      default: {{counsellors: 1, supervisors: 1}}
staff:
{staff}
  - {{id: {supervisor}, roles: [supervisor]}}
shifts:
  - id: now-{line}
    line: {line}
    start: {start}
    end: {end}
    staff: {{{assigned}}}
"""


async def login(running: Running, username: str) -> tuple[httpx.AsyncClient, str]:
    http = httpx.AsyncClient(base_url=running.http)
    response = await http.post(
        "/api/login", json={"username": username, "password": running.password}
    )
    response.raise_for_status()
    return http, response.json()["csrf_token"]


async def import_rota(running: Running, supervisor: str, text: str) -> None:
    http, csrf = await login(running, supervisor)
    async with aclosing(http):
        response = await http.post(
            "/api/rota", content=text.encode(), headers={"x-csrf-token": csrf}
        )
        assert response.status_code == 200, response.text


async def test_only_scheduled_counsellors_are_offered_until_a_clock_in_is_approved(
    running: Running,
) -> None:
    line = await running.line()
    sup = await running.staff(line, role=StaffRole.SUPERVISOR)
    scheduled = await running.staff(line)
    extra = await running.staff(line)
    await import_rota(
        running, sup.username, rota_yaml(line, [scheduled.username], [extra.username], sup.username)
    )
    extra_ws = await Counsellor.open(running.http, extra.username, running.password)
    await extra_ws.clock_in()
    caller = await running.caller()
    await caller.start(line)
    await extra_ws.nothing_of("offer", wait=0.5)  # clocked in but not on the rota

    http, csrf = await login(running, extra.username)
    async with aclosing(http):
        asked = await http.post(
            "/api/rota/clock-ins", json={"line": line, "hours": 2}, headers={"x-csrf-token": csrf}
        )
        assert asked.status_code == 201
        clock_in_id = asked.json()["clock_in"]
        # A counsellor cannot approve their own clock-in.
        self_approve = await http.post(
            f"/api/rota/clock-ins/{clock_in_id}/approve", headers={"x-csrf-token": csrf}
        )
        assert self_approve.status_code == 403
    sup_http, sup_csrf = await login(running, sup.username)
    async with aclosing(sup_http):
        approved = await sup_http.post(
            f"/api/rota/clock-ins/{clock_in_id}/approve", headers={"x-csrf-token": sup_csrf}
        )
        assert approved.status_code == 200
    offer = await extra_ws.expect("offer")
    assert offer["conversation"] == caller.conversation


async def test_shift_end_stops_offers_and_keeps_open_chats(running: Running) -> None:
    line = await running.line()
    counsellor = await running.counsellor(line)
    first = await running.caller()
    await first.start(line)
    conv = await counsellor.take_next()
    scheduled = {"on": True}
    running.services.hub.may_take_calls = lambda staff, now: scheduled["on"]
    scheduled["on"] = False
    running.services.hub.kick()
    warning = await counsellor.expect("shift_ended")
    assert warning["open_conversations"] == [conv]
    second = await running.caller()
    await second.start(line)
    await counsellor.nothing_of("offer", wait=0.5)
    await first.say("are you still there?")
    await counsellor.has_message(1)
    await counsellor.say(conv, "yes, I stay with you")
    await counsellor.send({"type": "end", "conversation": conv})
    await counsellor.expect("wrapped_up")


async def test_closed_line_shows_opening_hours(running: Running) -> None:
    line = await running.line()
    sup = await running.staff(line, role=StaffRole.SUPERVISOR)
    weekday = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][
        (datetime.now(UTC).weekday() + 3) % 7
    ]
    await import_rota(
        running,
        sup.username,
        rota_yaml(line, [], ["nobody"], sup.username, open_hours=f'{{{weekday}: "10:00-12:00"}}'),
    )
    async with httpx.AsyncClient(base_url=running.http) as http:
        info = (await http.get(f"/api/lines/{line}")).json()
    assert info["open_now"] is False
    assert info["opening_hours"]["weekly"][0]["hours"] == "10:00-12:00"
    caller = await running.caller()
    await caller.send({"type": "start", "line": line, "lang": "en"})
    error = await caller.expect("error")
    assert error["code"] == "line_closed"
    assert error["opening_hours"]["label"].endswith("10:00-12:00")
    assert error["emergency"]["numbers"][0]["number"] == "112"


async def test_no_show_alert_is_emailed_once_across_processes(
    make_server: ServerFactory, smtp_server: tuple[int, CapturedMail]
) -> None:
    port, mailbox = smtp_server
    first = await make_server(smtp_host="127.0.0.1", smtp_port=port)
    second = await make_server(smtp_host="127.0.0.1", smtp_port=port)
    line = await first.line()
    sup = await first.staff(line, role=StaffRole.SUPERVISOR)
    await first.store.set_staff_email(sup.id, "lead@example.org")
    absent = await first.staff(line)
    await import_rota(
        first,
        sup.username,
        rota_yaml(line, [absent.username], [], sup.username, shift_started_min=20),
    )
    now = datetime.now(UTC)
    for running in (first, second, first):
        state = running.services.extras["rota_state"]
        await rota_jobs.check_once(running.services, state, now)
    for _ in range(100):
        if mailbox.messages:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    no_shows = [m for m in mailbox.messages if absent.username in m[2] and "not present" in m[2]]
    assert len(no_shows) == 1, [m[2][:200] for m in mailbox.messages]


async def test_a_counsellor_working_on_another_process_is_no_no_show(
    make_server: ServerFactory, redis_url: str | None, smtp_server: tuple[int, CapturedMail]
) -> None:
    if redis_url is None:
        pytest.skip("REDIS_URL not set: processes share presence only through Redis")
    port, mailbox = smtp_server
    first = await make_server(smtp_host="127.0.0.1", smtp_port=port, redis_url=redis_url)
    second = await make_server(smtp_host="127.0.0.1", smtp_port=port, redis_url=redis_url)
    line = await first.line()
    sup = await first.staff(line, role=StaffRole.SUPERVISOR)
    await first.store.set_staff_email(sup.id, "lead@example.org")
    working, absent = await first.staff(line), await first.staff(line)
    await import_rota(
        first,
        sup.username,
        rota_yaml(
            line, [working.username, absent.username], [], sup.username, shift_started_min=20
        ),
    )
    client = await Counsellor.open(second.http, working.username, Running.password)
    await client.clock_in()
    await second.services.hub.everyone_on_shift()  # its board entry, as its loop writes
    state = first.services.extras["rota_state"]
    await rota_jobs.check_once(first.services, state, datetime.now(UTC))
    for _ in range(100):
        if any(absent.username in m[2] for m in mailbox.messages):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    reported = [m[2] for m in mailbox.messages if "not present" in m[2]]
    assert any(absent.username in text for text in reported), reported
    assert not any(working.username in text for text in reported), reported
    # The monitor on the first process agrees.
    snapshot = await build_snapshot(first.services, viewer=sup)
    now_alerts = [a["reason"] for a in snapshot["coverage"]["now"]]
    assert any(absent.username in text for text in now_alerts), now_alerts
    assert not any(working.username in text for text in now_alerts), now_alerts
    # …and lists the counsellor among the staff on shift, though they work elsewhere.
    row = next(s for s in snapshot["staff"] if s["id"] == working.id)
    assert row["on_shift"] and row["availability"] == "available"
    await client.close()


async def test_coverage_api_is_for_supervisors(running: Running) -> None:
    line = await running.line()
    sup = await running.staff(line, role=StaffRole.SUPERVISOR)
    member = await running.staff(line)
    await import_rota(running, sup.username, rota_yaml(line, [member.username], [], sup.username))
    http, _csrf = await login(running, member.username)
    async with aclosing(http):
        assert (await http.get("/api/rota/coverage")).status_code == 403
        assert (await http.post("/api/rota", content=b"version: 1")).status_code == 403
        ics = await http.get("/api/rota/me.ics")
        assert ics.status_code == 200 and "BEGIN:VEVENT" in ics.text
    sup_http, _ = await login(running, sup.username)
    async with aclosing(sup_http):
        coverage = (await sup_http.get("/api/rota/coverage?hours=24")).json()
    ours = next(entry for entry in coverage["lines"] if entry["line"] == line)
    assert {o["staff"] for o in ours["on_shift"]} == {member.username, sup.username}
    assert any(g["line"] == line for g in coverage["gaps"])  # the shift ends in 2 hours
    assert coverage["double_bookings"] == []


def test_cli_imports_and_reports_gaps(database_url: str, tmp_path) -> None:
    env = {**os.environ, "DATABASE_URL": database_url}
    rota_file = tmp_path / "rota.yaml"
    rota_file.write_text(rota_yaml("cli-line", ["cli-a"], [], "cli-sup"))
    helpline = [sys.executable, "-m", "server.cli", "rota"]
    imported = subprocess.run(
        [*helpline, "import", str(rota_file)], env=env, capture_output=True, text=True, timeout=60
    )
    assert imported.returncode == 0, imported.stderr
    assert "stored as rota document" in imported.stdout
    gaps = subprocess.run(
        [*helpline, "gaps", "--days", "1", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert gaps.returncode == 0, gaps.stderr
    assert '"cli-line"' in gaps.stdout
    ics = subprocess.run(
        [*helpline, "export", "--ics", "--staff", "cli-a"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ics.returncode == 0 and "BEGIN:VCALENDAR" in ics.stdout


async def test_open_shift_sign_up_counts_once_a_supervisor_approves(running: Running) -> None:
    line = await running.line()
    sup = await running.staff(line, role=StaffRole.SUPERVISOR)
    volunteer = await running.staff(line)
    await import_rota(
        running, sup.username, rota_yaml(line, [], [volunteer.username], sup.username)
    )
    ws = await Counsellor.open(running.http, volunteer.username, running.password)
    await ws.clock_in()
    caller = await running.caller()
    await caller.start(line)
    await ws.nothing_of("offer", wait=0.5)
    now = datetime.now(UTC)
    http, csrf = await login(running, volunteer.username)
    async with aclosing(http):
        asked = await http.post(
            "/api/rota/requests",
            headers={"x-csrf-token": csrf},
            json={
                "kind": "signup",
                "line": line,
                "role": "counsellor",
                "start": (now - timedelta(minutes=5)).isoformat(),
                "end": (now + timedelta(hours=3)).isoformat(),
            },
        )
        assert asked.status_code == 201, asked.text
        request_id = asked.json()["request"]
        assert (await http.get("/api/rota/requests")).status_code == 403
        bad = await http.post(
            "/api/rota/requests",
            headers={"x-csrf-token": csrf},
            json={"kind": "signup", "line": line},
        )
        assert bad.status_code == 400
    sup_http, sup_csrf = await login(running, sup.username)
    async with aclosing(sup_http):
        pending = (await sup_http.get("/api/rota/requests")).json()["requests"]
        assert [r["id"] for r in pending if r["staff"] == volunteer.username] == [request_id]
        decided = await sup_http.post(
            f"/api/rota/requests/{request_id}",
            headers={"x-csrf-token": sup_csrf},
            json={"decision": "approved"},
        )
        assert decided.status_code == 200
        demand = await sup_http.get(f"/api/rota/demand?line={line}")
        assert demand.status_code == 200
        body = demand.json()
        assert body["formula"] == "Erlang C" and len(body["hours"]) == 168
        assert body["contacts"] >= 1
    offer = await ws.expect("offer")
    assert offer["conversation"] == caller.conversation
