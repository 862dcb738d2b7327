"""End to end over real websockets: caller <-> hub <-> counsellor, against PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

from server.models import RiskTier
from tests.server.conftest import Running, ServerFactory


async def transcript(running: Running, conversation: str) -> list[tuple[int, str, str]]:
    rows = await running.store.messages_after(uuid.UUID(conversation), 0)
    return [(m.seq, m.sender.value, m.body) for m in rows]


def seen(frames: list[dict]) -> list[tuple[int, str, str]]:
    return [(f["seq"], f["from"], f["text"]) for f in frames]


async def test_caller_and_counsellor_exchange_messages(running: Running) -> None:
    line = await running.line()
    counsellor = await running.counsellor(line)
    caller = await running.caller()
    await caller.start(line, "sv")
    queue = await caller.expect("queue")
    assert queue["position"] == 1
    conv = await counsellor.take_next()
    assert conv == caller.conversation
    joined = await caller.expect("joined")
    assert joined["role"] == "counsellor"

    ack = await caller.say("hej, jag behöver prata")
    assert ack["seq"] == 1
    await counsellor.expect("message", seq=1)
    await counsellor.say(conv, "Hej, jag finns här. Berätta.")
    await caller.expect("message", seq=2)
    await caller.say("tack")
    await counsellor.expect("message", seq=3)

    await caller.has_message(3)
    await counsellor.has_message(2)
    stored = await transcript(running, conv)
    assert [s[2] for s in stored] == [
        "hej, jag behöver prata",
        "Hej, jag finns här. Berätta.",
        "tack",
    ]
    assert seen(caller.messages()) == stored
    assert seen(counsellor.messages()) == stored

    await counsellor.send({"type": "end", "conversation": conv})
    await counsellor.expect("wrapped_up", conversation=conv)
    ended = await caller.expect("ended")
    assert ended["reason"] == "counsellor"
    refused = await caller.say_refused("hallå?")
    assert refused["code"] == "conversation_closed"


async def test_dropped_caller_resumes_with_nothing_lost_or_doubled(running: Running) -> None:
    line = await running.line()
    counsellor = await running.counsellor(line)
    caller = await running.caller()
    await caller.start(line, "en")
    conv = await counsellor.take_next()
    await caller.say("first")
    await counsellor.say(conv, "reply one")
    await caller.has_message(2)
    last_seen = 2
    token = caller.token
    await caller.ws.close()  # the phone goes into a tunnel
    await counsellor.expect("caller_disconnected")

    for i in range(5):
        await counsellor.say(conv, f"while away {i}")

    back = await running.caller()
    await back.send({"type": "resume", "token": token, "last_seq": last_seen})
    resumed = await back.expect("resumed")
    assert resumed["conversation"] == conv
    for seq in range(3, 8):
        await back.expect("message", seq=seq)
    await back.say("I'm back", client_id="back-1")
    await counsellor.expect("caller_reconnected")
    await counsellor.expect("message", seq=8)
    await back.has_message(8)
    await back.nothing_of("message", wait=0.3)
    got = [f["seq"] for f in back.messages()]
    assert got == [3, 4, 5, 6, 7, 8], got
    assert seen(back.messages()) == (await transcript(running, conv))[2:]


async def test_resending_a_message_id_stores_it_once(running: Running) -> None:
    line = await running.line()
    caller = await running.caller()
    await caller.start(line)
    first = await caller.say("only once please", client_id="abc-1")
    again = await caller.say("only once please", client_id="abc-1")
    assert first["seq"] == again["seq"] == 1
    assert again["duplicate"] is True
    # The same id after a reconnect is still recognised: idempotency lives in the database.
    token = caller.token
    await caller.close()
    back = await running.caller()
    await back.send({"type": "resume", "token": token, "last_seq": 1})
    await back.expect("resumed")
    third = await back.say("only once please", client_id="abc-1")
    assert third["seq"] == 1
    assert len(await transcript(running, caller.conversation)) == 1


async def test_parallel_sends_of_one_id_store_one_message(running: Running) -> None:
    line = await running.line()
    callers = [await running.caller()]
    await callers[0].start(line)
    for _ in range(4):
        c = await running.caller()
        await c.send({"type": "resume", "token": callers[0].token, "last_seq": 0})
        await c.expect("resumed")
        callers.append(c)
    await asyncio.gather(*(c.send({"type": "send", "id": "same", "text": "x"}) for c in callers))
    acks = [await c.expect("ack", id="same") for c in callers]
    assert {a["seq"] for a in acks} == {1}
    assert len(await transcript(running, callers[0].conversation)) == 1


async def test_priority_then_arrival_with_capacity_one(running: Running) -> None:
    line = await running.line()
    first, second, third = [await running.caller() for _ in range(3)]
    await first.start(line)
    await second.start(line)
    await third.start(line)
    # The third caller is at high risk: it must be served before the others.
    await running.store.raise_risk_tier(uuid.UUID(third.conversation), RiskTier.HIGH)
    counsellor = await running.counsellor(line, capacity=1)
    order = []
    for _ in range(3):
        conv = await counsellor.take_next()
        order.append(conv)
        await counsellor.nothing_of("offer", wait=0.3)  # capacity 1: nothing more while busy
        await counsellor.send({"type": "end", "conversation": conv})
        await counsellor.expect("wrapped_up", conversation=conv)
    assert order == [third.conversation, first.conversation, second.conversation]


async def test_queue_position_updates_as_the_queue_moves(running: Running) -> None:
    line = await running.line()
    first, second = await running.caller(), await running.caller()
    await first.start(line)
    await first.expect("queue", position=1)
    await second.start(line)
    await second.expect("queue", position=2)
    counsellor = await running.counsellor(line, capacity=1)
    await counsellor.take_next()
    await second.expect("queue", position=1)


async def test_offer_not_accepted_goes_to_the_next_counsellor(make_server: ServerFactory) -> None:
    running = await make_server(offer_timeout_s=0.5)
    line = await running.line()
    sleepy = await running.counsellor(line)
    caller = await running.caller()
    await caller.start(line)
    offer = await sleepy.expect("offer")
    awake = await running.counsellor(line)
    withdrawn = await sleepy.expect("offer_withdrawn", timeout=5)
    assert withdrawn["reason"] == "timeout"
    second_offer = await awake.expect("offer", timeout=5)
    assert second_offer["conversation"] == offer["conversation"]


async def test_declined_offer_goes_to_the_next_counsellor(running: Running) -> None:
    line = await running.line()
    a = await running.counsellor(line)
    caller = await running.caller()
    await caller.start(line)
    offer = await a.expect("offer")
    b = await running.counsellor(line)
    await a.send({"type": "decline", "conversation": offer["conversation"]})
    await a.expect("declined")
    assert (await b.expect("offer"))["conversation"] == offer["conversation"]


async def test_backlog_drains_when_a_counsellor_clocks_in(running: Running) -> None:
    line = await running.line()
    callers = [await running.caller() for _ in range(3)]
    for c in callers:
        await c.start(line)
    counsellor = await running.counsellor(line, capacity=3, clock_in=False)
    await counsellor.nothing_of("offer", wait=0.3)  # not on shift: no offers
    await counsellor.clock_in()
    offers = [await counsellor.expect("offer") for _ in range(3)]
    assert [o["conversation"] for o in offers] == [c.conversation for c in callers]


async def test_caller_who_never_returns_is_abandoned(make_server: ServerFactory) -> None:
    running = await make_server(reconnect_grace_s=0.3)
    line = await running.line()
    caller = await running.caller()
    await caller.start(line)
    conv = caller.conversation
    await caller.close()
    for _ in range(100):
        stored = await running.store.get_conversation(uuid.UUID(conv))
        if stored.state.value == "abandoned":
            break
        running.services.hub.kick()
        await asyncio.sleep(0.1)
    assert stored.state.value == "abandoned"
    back = await running.caller()
    await back.send({"type": "resume", "token": caller.token, "last_seq": 0})
    assert (await back.expect("error"))["code"] == "conversation_closed"


async def test_counsellor_reconnects_and_syncs_missed_messages(running: Running) -> None:
    line = await running.line()
    member = await running.staff(line)
    from tests.server.clients import Counsellor

    counsellor = await Counsellor.open(running.http, member.username, running.password)
    await counsellor.clock_in()
    caller = await running.caller()
    await caller.start(line)
    conv = await counsellor.take_next()
    await caller.say("one")
    await counsellor.has_message(1)
    await counsellor.close()
    await caller.say("two")
    await caller.say("three")
    again = await Counsellor.open(running.http, member.username, running.password)
    hello = next(f for f in again.seen if f["type"] == "hello")
    assert [c["conversation"] for c in hello["conversations"]] == [conv]
    await again.send({"type": "sync", "conversation": conv, "last_seq": 1})
    assert (await again.expect("message"))["seq"] == 2
    assert (await again.expect("message"))["seq"] == 3
    await caller.say("four")
    assert (await again.expect("message"))["seq"] == 4


async def test_quick_exit_is_reported_to_the_counsellor(running: Running) -> None:
    line = await running.line()
    counsellor = await running.counsellor(line)
    caller = await running.caller()
    await caller.start(line)
    conv = await counsellor.take_next()
    await caller.send({"type": "end", "reason": "quick_exit"})
    ended = await counsellor.expect("ended", conversation=conv)
    assert ended["reason"] == "quick_exit"
    other = await running.caller()
    await other.start(line)
    await other.send({"type": "end", "reason": "bored"})
    assert (await other.expect("error"))["code"] == "bad_frame"


async def test_staff_reads_of_a_transcript_are_audited(running: Running) -> None:
    line = await running.line()
    counsellor = await running.counsellor(line)
    caller = await running.caller()
    await caller.start(line)
    conv = await counsellor.take_next()
    await counsellor.send({"type": "sync", "conversation": conv, "last_seq": 0})
    await asyncio.sleep(0.2)
    rows = await running.store.pool.fetch(
        "SELECT action, detail FROM audit_log WHERE conversation_id = $1 ORDER BY id",
        uuid.UUID(conv),
    )
    assert [r["action"] for r in rows] == ["transcript_read", "transcript_read"]
