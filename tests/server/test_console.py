"""The counsellor console's frames and HTTP API, end to end against PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from server.console_demo import ensure_console_demo
from server.demo import DEMO_LINES
from server.models import Staff, StaffRole
from tests.server.clients import Caller, Counsellor
from tests.server.conftest import Running, ServerFactory


@asynccontextmanager
async def signed_in(running: Running, member: Staff) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client with the member's session cookie and CSRF header."""
    async with httpx.AsyncClient(base_url=running.http) as http:
        response = await http.post(
            "/api/login", json={"username": member.username, "password": running.password}
        )
        response.raise_for_status()
        http.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        yield http


async def open_staff(running: Running, member: Staff) -> Counsellor:
    return await Counsellor.open(running.http, member.username, running.password)


async def chat(running: Running, line: str | None = None) -> tuple[str, Counsellor, Caller, str]:
    """A line, a counsellor holding a conversation with a caller who said one thing."""
    line = line or await running.line()
    counsellor = await running.counsellor(line)
    caller = await running.caller()
    await caller.start(line, "sv")
    conv = await counsellor.take_next()
    await caller.expect("joined")
    await caller.say("hej")
    await counsellor.has_message(1)
    return line, counsellor, caller, conv


async def audit_actions(running: Running, conv: str) -> list[tuple[str, dict[str, Any]]]:
    rows = await running.store.pool.fetch(
        "SELECT action, detail FROM audit_log WHERE conversation_id = $1 ORDER BY id",
        uuid.UUID(conv),
    )
    return [(r["action"], json.loads(r["detail"])) for r in rows]


async def test_reassess_lowers_the_tier_with_an_audited_reason(running: Running) -> None:
    _, counsellor, caller, conv = await chat(running)
    await running.store.pool.execute(
        "UPDATE conversations SET risk_tier = 3 WHERE id = $1", uuid.UUID(conv)
    )
    await counsellor.send(
        {"type": "reassess", "conversation": conv, "tier": "low", "reason": "a song lyric"}
    )
    risk = await counsellor.expect("risk", conversation=conv)
    assert (risk["tier"], risk["previous_tier"], risk["by"]) == ("low", "high", "counsellor")
    assert risk["reason"] == "a song lyric"
    stored = await running.store.get_conversation(uuid.UUID(conv))
    assert stored.risk_tier.label == "low"
    assert ("risk_reassessed", {"from": "high", "to": "low", "reason": "a song lyric"}) in (
        await audit_actions(running, conv)
    )
    await caller.nothing_of("risk")


async def test_reassess_needs_a_reason_and_a_known_tier(running: Running) -> None:
    _, counsellor, _, conv = await chat(running)
    await counsellor.send({"type": "reassess", "conversation": conv, "tier": "low"})
    assert (await counsellor.expect("error"))["code"] == "bad_frame"
    await counsellor.send(
        {"type": "reassess", "conversation": conv, "tier": "severe", "reason": "x"}
    )
    assert (await counsellor.expect("error"))["code"] == "bad_frame"


async def test_notes_are_staff_only_and_keep_the_caller_sequence_gapless(
    running: Running,
) -> None:
    _, counsellor, caller, conv = await chat(running)
    await counsellor.send({"type": "note", "conversation": conv, "text": "mentions a sister"})
    noted = await counsellor.expect("note", conversation=conv)
    assert noted["text"] == "mentions a sister" and noted["by"] == "Counsellor"
    ack = await caller.say("är du kvar?")
    assert ack["seq"] == 2
    await caller.nothing_of("note")
    assert [n["text"] for n in await running.store.notes(uuid.UUID(conv))] == ["mentions a sister"]
    bodies = [m.body for m in await running.store.messages_after(uuid.UUID(conv), 0)]
    assert "mentions a sister" not in bodies


async def test_end_with_wrap_up_stores_topics_outcome_and_tier(running: Running) -> None:
    _, counsellor, caller, conv = await chat(running)
    await counsellor.send(
        {
            "type": "end",
            "conversation": conv,
            "topics": ["cannabis", "parents"],
            "outcome": "referred",
            "risk_tier": "medium",
        }
    )
    await counsellor.expect("wrapped_up", conversation=conv)
    await caller.expect("ended")
    record = await running.store.wrap_up_record(uuid.UUID(conv))
    assert record["topics"] == ["cannabis", "parents"]
    assert (record["outcome"], record["risk_tier"]) == ("referred", 2)


async def test_wrap_up_with_an_unknown_outcome_is_refused(running: Running) -> None:
    _, counsellor, _, conv = await chat(running)
    await counsellor.send(
        {"type": "end", "conversation": conv, "topics": [], "outcome": "went well"}
    )
    assert (await counsellor.expect("error"))["code"] == "bad_frame"


async def test_transfer_to_a_colleague_moves_the_conversation(running: Running) -> None:
    line, first, caller, conv = await chat(running)
    second = await running.counsellor(line)
    second_id = (second.seen[0])["staff"]["id"]
    await first.send({"type": "transfer", "conversation": conv, "to_staff": second_id})
    await first.expect("transferred_out", conversation=conv)
    moved = await second.expect("transferred_in", conversation=conv)
    assert moved["from"] == "Counsellor"
    await second.send({"type": "sync", "conversation": conv, "last_seq": 0})
    assert (await second.has_message(1))["text"] == "hej"
    assert (await caller.expect("joined"))["role"] == "counsellor"
    await second.say(conv, "Hej, jag tar över")
    await caller.has_message(2)
    await first.send({"type": "send", "conversation": conv, "id": "s-x", "text": "hallå"})
    assert (await first.expect("error"))["code"] == "not_participant"
    assert ("transferred", {"to_staff": second_id}) in await audit_actions(running, conv)


async def test_transfer_to_someone_off_shift_is_refused(running: Running) -> None:
    line, first, _, conv = await chat(running)
    idle = await running.counsellor(line, clock_in=False)
    await first.send(
        {"type": "transfer", "conversation": conv, "to_staff": idle.seen[0]["staff"]["id"]}
    )
    assert (await first.expect("error"))["code"] == "transfer_refused"


async def test_transfer_to_another_line_requeues_there(running: Running) -> None:
    _, first, _caller, conv = await chat(running)
    other_line = await running.line()
    await first.send({"type": "transfer", "conversation": conv, "to_line": other_line})
    await first.expect("transferred_out", conversation=conv, to_line=other_line)
    stored = await running.store.get_conversation(uuid.UUID(conv))
    assert (stored.state.value, stored.line_id, stored.counsellor_id) == (
        "queued",
        other_line,
        None,
    )
    other = await running.counsellor(other_line)
    assert await other.take_next() == conv
    await other.has_message(1)


async def test_help_alerts_the_supervisors(running: Running) -> None:
    line, counsellor, caller, conv = await chat(running)
    supervisor = await open_staff(running, await running.staff(line, StaffRole.SUPERVISOR))
    await counsellor.send({"type": "help", "conversation": conv, "text": "can you read along?"})
    await counsellor.expect("help_requested", conversation=conv)
    alert = await supervisor.expect("alert", conversation=conv)
    assert alert["kind"] == "help"
    assert alert["conversation"] == conv and alert["line"] == line
    assert "can you read along" not in alert["reason"]
    row = await running.store.pool.fetchrow(
        "SELECT kind, acknowledged_at FROM alerts WHERE id = $1", uuid.UUID(alert["id"])
    )
    assert row["kind"] == "help" and row["acknowledged_at"] is None
    whispers = await running.store.whispers(uuid.UUID(conv))
    assert [w["text"] for w in whispers] == ["can you read along?"]
    await caller.nothing_of("whisper")


async def test_a_counsellor_cannot_touch_another_counsellors_conversation(
    running: Running,
) -> None:
    line, _, _, conv = await chat(running)
    other = await running.counsellor(line)
    for frame in (
        {"type": "note", "conversation": conv, "text": "x"},
        {"type": "reassess", "conversation": conv, "tier": "none", "reason": "x"},
        {"type": "whisper", "conversation": conv, "text": "x"},
        {"type": "help", "conversation": conv},
        {"type": "sync", "conversation": conv, "last_seq": 0},
    ):
        await other.send(frame)
        assert (await other.expect("error"))["code"] == "not_participant", frame
    for frame in (
        {"type": "monitor", "on": True},
        {"type": "join", "conversation": conv},
        {"type": "take_over", "conversation": conv},
        {"type": "ack_alert", "alert": str(uuid.uuid4())},
    ):
        await other.send(frame)
        assert (await other.expect("error"))["code"] == "forbidden", frame
    other_member = await running.staff(line)
    async with signed_in(running, other_member) as http:
        response = await http.get(f"/api/console/conversations/{conv}")
        assert response.status_code == 403


async def test_canned_responses_are_managed_by_supervisors(running: Running) -> None:
    line = await running.line()
    supervisor = await running.staff(line, StaffRole.SUPERVISOR)
    counsellor = await running.staff(line)
    outsider = await running.staff(await running.line())
    canned = {"lang": "sv", "shortcut": "hej", "title": "Hälsning", "body": "Hej, jag heter {name}"}
    async with signed_in(running, supervisor) as http:
        created = await http.post(f"/api/console/lines/{line}/canned", json=canned)
        assert created.status_code == 201, created.text
        canned_id = created.json()["id"]
        again = await http.post(f"/api/console/lines/{line}/canned", json=canned)
        assert again.status_code == 409
        updated = await http.put(
            f"/api/console/canned/{canned_id}", json={**canned, "body": "Hej!"}
        )
        assert updated.json()["body"] == "Hej!"
        del http.headers["X-CSRF-Token"]
        no_csrf = await http.post(
            f"/api/console/lines/{line}/canned", json={**canned, "shortcut": "x"}
        )
        assert no_csrf.status_code == 403
    async with signed_in(running, counsellor) as http:
        listed = await http.get(f"/api/console/lines/{line}/canned", params={"lang": "sv"})
        assert [c["shortcut"] for c in listed.json()["canned"]] == ["hej"]
        refused = await http.post(
            f"/api/console/lines/{line}/canned", json={**canned, "shortcut": "y"}
        )
        assert refused.status_code == 403
        assert (await http.delete(f"/api/console/canned/{canned_id}")).status_code == 403
    async with signed_in(running, outsider) as http:
        assert (await http.get(f"/api/console/lines/{line}/canned")).status_code == 403
    async with signed_in(running, supervisor) as http:
        assert (await http.delete(f"/api/console/canned/{canned_id}")).status_code == 200
    actions = await running.store.pool.fetch(
        "SELECT action FROM audit_log WHERE staff_id = $1 ORDER BY id", supervisor.id
    )
    assert [a["action"] for a in actions if a["action"].startswith("canned")] == [
        "canned_created",
        "canned_updated",
        "canned_deleted",
    ]


async def test_demo_content_gives_referrals_and_topics(running: Running) -> None:
    for line in DEMO_LINES:
        if await running.store.get_line(line.id) is None:
            await running.store.upsert_line(line)
    await ensure_console_demo(running.store)
    await ensure_console_demo(running.store)  # idempotent
    member = await running.staff("young")
    async with signed_in(running, member) as http:
        referrals = (await http.get("/api/console/lines/young/referrals")).json()["referrals"]
        assert referrals[0]["phone"] == "112"
        assert all(r["url"] is None or r["url"].startswith("https://") for r in referrals)
        topics = (await http.get("/api/console/lines/young/topics")).json()["topics"]
        assert "cannabis" in [t["id"] for t in topics]
        assert (await http.get("/api/console/lines/adults/topics")).status_code == 403


async def test_supervisors_set_topics_per_line(running: Running) -> None:
    line = await running.line()
    supervisor = await running.staff(line, StaffRole.SUPERVISOR)
    topics = [{"id": "cannabis", "label": {"sv": "Cannabis", "en": "Cannabis"}}]
    async with signed_in(running, supervisor) as http:
        saved = await http.put(f"/api/console/lines/{line}/topics", json={"topics": topics})
        assert saved.status_code == 200
        listed = await http.get(f"/api/console/lines/{line}/topics")
        assert listed.json()["topics"] == topics
    async with signed_in(running, await running.staff(line)) as http:
        refused = await http.put(f"/api/console/lines/{line}/topics", json={"topics": []})
        assert refused.status_code == 403


async def test_conversation_detail_for_the_holder(running: Running) -> None:
    line, counsellor, _, conv = await chat(running)
    await counsellor.send({"type": "note", "conversation": conv, "text": "private"})
    await counsellor.expect("note")
    holder_id = counsellor.seen[0]["staff"]["id"]
    holder = await running.store.staff_by_id(holder_id)
    async with signed_in(running, holder) as http:
        detail = (await http.get(f"/api/console/conversations/{conv}")).json()
    assert [n["text"] for n in detail["notes"]] == ["private"]
    assert detail["counsellor"] == "Counsellor" and detail["line"] == line
    assert "supervisor_view" not in [a for a, _ in await audit_actions(running, conv)]


async def test_transfer_to_a_colleague_on_another_server_process(
    make_server: ServerFactory, redis_url: str | None
) -> None:
    if redis_url is None:
        pytest.skip("REDIS_URL is not set: two processes need a shared bus")
    here, there = await make_server(redis_url=redis_url), await make_server(redis_url=redis_url)
    line, first, caller, conv = await chat(here)
    first_id = first.seen[0]["staff"]["id"]
    colleague = await there.staff(line)
    second = await Counsellor.open(there.http, colleague.username, there.password)
    await second.clock_in()
    # The colleague is known to the first process only through the presence board.
    assert colleague.id not in here.services.hub.presence
    for _ in range(100):
        if any(e["staff"] == colleague.id for e in await here.services.hub.everyone_on_shift()):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the colleague never showed on the presence board")
    async with httpx.AsyncClient(base_url=here.http) as http:
        login = await http.post(
            "/api/login",
            json={"username": first.seen[0]["staff"]["username"], "password": here.password},
        )
        login.raise_for_status()
        listed = (await http.get(f"/api/console/colleagues?line={line}")).json()["staff"]
        assert [p["id"] for p in listed] == [colleague.id]

    await first.send({"type": "transfer", "conversation": conv, "to_staff": colleague.id})
    await first.expect("transferred_out", conversation=conv, to_staff=colleague.id)
    moved = await second.expect("transferred_in", conversation=conv)
    assert (moved["from"], moved["line"]) == ("Counsellor", line)
    # The colleague's process follows the conversation: the transcript comes unasked.
    assert (await second.expect("message", conversation=conv, seq=1))["text"] == "hej"
    assert (await caller.expect("joined"))["role"] == "counsellor"

    await second.say(conv, "Hej, jag tar över härifrån.")
    assert (await caller.has_message(2))["text"] == "Hej, jag tar över härifrån."
    await caller.say("tack")
    assert (await second.has_message(3))["text"] == "tack"
    await first.send({"type": "send", "conversation": conv, "id": "s-x", "text": "hallå"})
    assert (await first.expect("error"))["code"] == "not_participant"

    # Each process's own presence bookkeeping moved the load.
    conv_id = uuid.UUID(conv)
    assert conv_id in there.services.hub.presence[colleague.id].held
    assert conv_id not in here.services.hub.presence[first_id].held
    stored = await here.store.get_conversation(conv_id)
    assert stored.counsellor_id == colleague.id


async def test_risk_explanations_in_swedish_and_danish_for_the_console(running: Running) -> None:
    """Every signal and rule of a risky message's staff-side `risk` frame has a Swedish
    and a Danish text in `GET /api/console/explain` (what the console renders)."""
    line, counsellor, caller, conv = await chat(running)
    await caller.say("jag har tagit 30 alvedon och vill dö")
    risk = await counsellor.expect("risk", conversation=conv, seq=2)
    signals = {e["signal"] for e in risk["evidence"]}
    rules = {r.rsplit("[", 1)[1].rstrip("]") for r in risk["reasons"] if "[combo." in r}
    assert {"ingest", "meds", "large_amount"} <= signals
    assert "combo.overdose_taken" in rules

    async with httpx.AsyncClient(base_url=running.http) as anonymous:
        assert (await anonymous.get("/api/console/explain")).status_code == 401
    async with signed_in(running, await running.staff(line)) as http:
        response = await http.get("/api/console/explain")
    assert response.status_code == 200
    table = response.json()
    for signal in signals:
        texts = table["signal"][signal]
        assert texts["sv"] and texts["da"] and texts["en"], signal
        assert texts["en"] not in (texts["sv"], texts["da"]), signal
    for rule in rules:
        assert table["rule"][rule]["sv"] and table["rule"][rule]["da"], rule
    assert table["rule"]["combo.overdose_taken"]["sv"] == "har tagit en stor mängd läkemedel"
    assert table["rule"]["combo.overdose_taken"]["da"] == "har taget en stor mængde medicin"
    assert table["signal"]["meds"]["da"] == "medicin, der kan tages i overdosis"
    assert table["effect"]["idiom"]["sv"] == "bildligt uttryck"
