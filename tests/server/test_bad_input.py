"""Every kind of bad input gets an error frame with a stable code, and nothing half-stored."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.server.clients import Caller
from tests.server.conftest import Running, ServerFactory


async def started_caller(running: Running) -> Caller:
    caller = await running.caller()
    await caller.start(await running.line())
    return caller


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "bad_json"),
        ("[1, 2]", "bad_frame"),
        (json.dumps({"type": "shout"}), "unknown_type"),
        (json.dumps({"v": 2, "type": "ping"}), "unsupported_version"),
        (json.dumps({"type": "send", "id": "a"}), "bad_frame"),
        (json.dumps({"type": "send", "id": "bad id!", "text": "x"}), "bad_frame"),
        (json.dumps({"type": "typing", "on": "yes"}), "bad_frame"),
        (json.dumps({"type": "accept", "conversation": str(uuid.uuid4())}), "forbidden"),
        (json.dumps({"type": "clock_in"}), "forbidden"),
    ],
)
async def test_malformed_frames_get_errors_and_the_socket_stays_open(
    running: Running, frame: str, code: str
) -> None:
    caller = await started_caller(running)
    await caller.send(frame)
    error = await caller.expect("error")
    assert error["code"] == code
    await caller.send({"type": "ping"})
    await caller.expect("pong")
    assert await running.store.messages_after(uuid.UUID(caller.conversation), 0) == []


async def test_oversized_text_is_refused_and_not_stored(running: Running) -> None:
    caller = await started_caller(running)
    await caller.send({"type": "send", "id": "big", "text": "x" * 4097})
    error = await caller.expect("error")
    assert (error["code"], error["ref"]) == ("too_large", "big")
    ack = await caller.say("x" * 4096, client_id="ok")
    assert ack["seq"] == 1


async def test_frame_over_the_socket_limit_closes_with_1009(running: Running) -> None:
    caller = await started_caller(running)
    await caller.send({"type": "send", "id": "huge", "text": "x" * 70_000})
    with pytest.raises(ConnectionClosed):
        await caller.recv(timeout=5)
    assert caller.ws.close_code == 1009
    assert await running.store.messages_after(uuid.UUID(caller.conversation), 0) == []


async def test_send_before_start_and_unknown_token(running: Running) -> None:
    caller = await running.caller()
    await caller.send({"type": "send", "id": "a", "text": "hello"})
    assert (await caller.expect("error"))["code"] == "not_started"
    await caller.send({"type": "resume", "token": "A" * 32, "last_seq": 0})
    assert (await caller.expect("error"))["code"] == "unknown_token"
    await caller.send({"type": "start", "line": "no-such-line", "lang": "sv"})
    assert (await caller.expect("error"))["code"] == "unknown_line"
    line = await running.line(languages=["sv"])
    await caller.send({"type": "start", "line": line, "lang": "en"})
    assert (await caller.expect("error"))["code"] == "unsupported_language"
    await caller.send({"type": "start", "line": line, "lang": "sv", "token": "short"})
    assert (await caller.expect("error"))["code"] == "bad_frame"


async def test_start_twice_on_one_socket_is_refused(running: Running) -> None:
    caller = await started_caller(running)
    await caller.send({"type": "start", "line": "adults", "lang": "sv"})
    assert (await caller.expect("error"))["code"] == "already_started"


async def test_parallel_starts_with_one_token_make_one_conversation(running: Running) -> None:
    line = await running.line()
    token = "T" * 30
    callers = [await running.caller() for _ in range(10)]
    import asyncio

    await asyncio.gather(
        *(c.send({"type": "start", "line": line, "lang": "sv", "token": token}) for c in callers)
    )
    started = [await c.expect("started") for c in callers]
    assert len({s["conversation"] for s in started}) == 1


async def test_counsellor_cannot_write_into_a_conversation_they_do_not_hold(
    running: Running,
) -> None:
    line = await running.line()
    holder = await running.counsellor(line)
    caller = await running.caller()
    await caller.start(line)
    conv = await holder.take_next()
    other = await running.counsellor(line)
    await other.send({"type": "send", "conversation": conv, "id": "x1", "text": "hi"})
    error = await other.expect("error")
    assert (error["code"], error["ref"]) == ("not_participant", "x1")
    await other.send({"type": "sync", "conversation": conv, "last_seq": 0})
    assert (await other.expect("error"))["code"] == "not_participant"
    await other.send({"type": "accept", "conversation": conv})
    assert (await other.expect("error"))["code"] == "offer_gone"
    await other.send({"type": "send", "id": "x2", "text": "hi"})
    assert (await other.expect("error"))["code"] == "bad_frame"
    assert await running.store.messages_after(uuid.UUID(conv), 0) == []


async def test_staff_socket_needs_a_session(running: Running) -> None:
    async with connect(f"{running.ws}/ws/staff") as ws:
        frame = json.loads(await ws.recv())
        assert frame["code"] == "unauthenticated"
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        assert ws.close_code == 4401


async def test_foreign_origin_is_refused(running: Running) -> None:
    with pytest.raises(InvalidStatus):
        await connect(f"{running.ws}/ws/caller", origin="https://evil.example")  # type: ignore[arg-type]
    own = await connect(f"{running.ws}/ws/caller", origin=running.http)  # type: ignore[arg-type]
    await own.close()


async def test_login_failures_lock_the_account(make_server: ServerFactory) -> None:
    running = await make_server(login_max_failures=3)
    member = await running.staff(await running.line())
    async with httpx.AsyncClient(base_url=running.http) as http:
        for _ in range(3):
            bad = await http.post(
                "/api/login", json={"username": member.username, "password": "wrong"}
            )
            assert bad.status_code == 401
        locked = await http.post(
            "/api/login", json={"username": member.username, "password": running.password}
        )
        assert locked.status_code == 429
        garbage = await http.post("/api/login", content=b"{{{")
        assert garbage.status_code == 400
        foreign = await http.post(
            "/api/login",
            json={"username": "x", "password": "y"},
            headers={"origin": "https://evil.example"},
        )
        assert foreign.status_code == 403


async def test_logout_needs_the_csrf_token(running: Running) -> None:
    member = await running.staff(await running.line())
    async with httpx.AsyncClient(base_url=running.http) as http:
        login = await http.post(
            "/api/login", json={"username": member.username, "password": running.password}
        )
        csrf = login.json()["csrf_token"]
        assert (await http.post("/api/logout")).status_code == 403
        assert (await http.get("/api/me")).status_code == 200
        assert (await http.post("/api/logout", headers={"x-csrf-token": csrf})).status_code == 200
        assert (await http.get("/api/me")).status_code == 401


async def test_health_and_readiness(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.http) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        ready = await http.get("/readyz")
        assert ready.status_code == 200 and ready.json()["database"] == "ok"
        page = await http.get("/staff/")
        assert "default-src 'self'" in page.headers["content-security-policy"]


async def test_rate_limit_answers_with_an_error(make_server: ServerFactory) -> None:
    running = await make_server(frame_rate_per_s=2.0)
    caller = await running.caller()
    for _ in range(10):
        await caller.send({"type": "ping"})
    codes = [await caller.recv() for _ in range(10)]
    assert any(f.get("code") == "rate_limited" for f in codes)
