"""Supervisors join silently, whisper, take over and acknowledge alerts (audited)."""

from __future__ import annotations

import uuid

from server.models import StaffRole
from tests.server.conftest import Running
from tests.server.test_console import audit_actions, chat, open_staff, signed_in


async def test_join_is_silent_and_audited_and_whispers_never_reach_the_caller(
    running: Running,
) -> None:
    line, counsellor, caller, conv = await chat(running)
    supervisor = await open_staff(running, await running.staff(line, StaffRole.SUPERVISOR))
    await supervisor.send({"type": "join", "conversation": conv})
    joined = await supervisor.expect("joined_silently", conversation=conv)
    assert joined["counsellor"] == "Counsellor"
    assert (await supervisor.has_message(1))["text"] == "hej"
    assert "supervisor_join" in [a for a, _ in await audit_actions(running, conv)]
    await caller.nothing_of("joined", wait=0.3)

    await supervisor.send({"type": "whisper", "conversation": conv, "text": "ask about sleep"})
    whisper = await counsellor.expect("whisper", conversation=conv)
    assert whisper["text"] == "ask about sleep" and whisper["role"] == "supervisor"
    await counsellor.send({"type": "whisper", "conversation": conv, "text": "ok, will do"})
    await supervisor.expect("whisper", conversation=conv, text="ok, will do")
    await caller.nothing_of("whisper")
    # Whispers are not messages: the caller's next message is seq 2.
    assert (await caller.say("jag sover dåligt"))["seq"] == 2
    assert (await supervisor.has_message(2))["text"] == "jag sover dåligt"
    assert [w["text"] for w in await running.store.whispers(uuid.UUID(conv))] == [
        "ask about sleep",
        "ok, will do",
    ]


async def test_take_over_makes_the_supervisor_the_counsellor(running: Running) -> None:
    line, counsellor, caller, conv = await chat(running)
    member = await running.staff(line, StaffRole.SUPERVISOR)
    supervisor = await open_staff(running, member)
    await supervisor.send({"type": "take_over", "conversation": conv})
    assigned = await supervisor.expect("assigned", conversation=conv)
    assert assigned["taken_over"] is True
    await supervisor.has_message(1)
    out = await counsellor.expect("transferred_out", conversation=conv)
    assert out["reason"] == "take_over"
    assert (await caller.expect("joined"))["name"] == member.display_name
    await supervisor.say(conv, "Hej, jag fortsätter samtalet")
    assert (await caller.has_message(2))["from"] == "counsellor"
    await counsellor.send({"type": "send", "conversation": conv, "id": "s-9", "text": "x"})
    assert (await counsellor.expect("error"))["code"] == "not_participant"
    assert "take_over" in [a for a, _ in await audit_actions(running, conv)]
    stored = await running.store.get_conversation(uuid.UUID(conv))
    assert stored.counsellor_id == member.id


async def test_alerts_are_acknowledged_once_with_who_and_when(running: Running) -> None:
    line = await running.line()
    member = await running.staff(line, StaffRole.SUPERVISOR)
    supervisor = await open_staff(running, member)
    alert_id = await running.store.insert_alert(
        "risk", line_id=line, tier="imminent", reason="test alert"
    )
    assert alert_id is not None
    await supervisor.send({"type": "ack_alert", "alert": str(alert_id)})
    acked = await supervisor.expect("alert_ack", id=str(alert_id))
    assert acked["acknowledged_by"] == member.display_name and acked["acknowledged_at"]
    second = await running.staff(line, StaffRole.SUPERVISOR)
    async with signed_in(running, second) as http:
        again = await http.post(f"/api/monitor/alerts/{alert_id}/ack")
        # The first acknowledgement stands.
        assert again.json()["acknowledged_by"] == member.display_name
        unknown = await http.post(f"/api/monitor/alerts/{uuid.uuid4()}/ack")
        assert unknown.status_code == 404
    audited = await running.store.pool.fetch(
        "SELECT staff_id FROM audit_log WHERE action = 'alert_acknowledged'"
        " AND detail->>'alert' = $1",
        str(alert_id),
    )
    assert [r["staff_id"] for r in audited] == [member.id]
    await supervisor.send({"type": "ack_alert", "alert": str(uuid.uuid4())})
    assert (await supervisor.expect("error"))["code"] == "unknown_alert"


async def test_insert_alert_with_a_key_is_stored_once(running: Running) -> None:
    key = f"test:{uuid.uuid4()}"
    first = await running.store.insert_alert("long_wait", reason="x", key=key)
    again = await running.store.insert_alert("long_wait", reason="x", key=key)
    assert first is not None and again is None


async def test_an_alert_without_a_why_reads_back_with_the_english_reason(
    running: Running,
) -> None:
    # As stored before 0006_alert_why.sql: the monitor falls back to `reason`.
    old = await running.store.insert_alert("long_wait", reason="A caller waited")
    why = {"code": "long_wait", "params": {"s": 700, "limit": 600}}
    new = await running.store.insert_alert("long_wait", reason="A caller waited", why=why)
    assert old is not None and new is not None
    read_old, read_new = await running.store.alert(old), await running.store.alert(new)
    assert read_old is not None and read_old["why"] is None
    assert read_old["reason"] == "A caller waited"
    assert read_new is not None and read_new["why"] == why


async def test_supervisor_transcript_reads_are_audited(running: Running) -> None:
    line, _, _, conv = await chat(running)
    member = await running.staff(line, StaffRole.SUPERVISOR)
    async with signed_in(running, member) as http:
        view = await http.get(f"/api/monitor/conversations/{conv}")
        assert [m["text"] for m in view.json()["messages"]] == ["hej"]
        detail = await http.get(f"/api/console/conversations/{conv}")
        assert detail.status_code == 200
    views = [a for a, _ in await audit_actions(running, conv) if a == "supervisor_view"]
    assert len(views) == 2
    async with signed_in(running, await running.staff(line)) as http:
        assert (await http.get(f"/api/monitor/conversations/{conv}")).status_code == 403
