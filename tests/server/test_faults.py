"""Faults against real processes: restarts, races, SIGTERM, PostgreSQL and Redis outages."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from server.models import Line
from server.store import Store
from tests.server.clients import Caller, Counsellor
from tests.server.conftest import Running, ServerFactory
from tests.server.procs import PrivatePostgres, PrivateRedis, ServerProcess


async def make_line(database_url: str) -> str:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    assert pool is not None
    line_id = f"f-{uuid.uuid4().hex[:8]}"
    await Store(pool).upsert_line(
        Line(line_id, {"en": "fault"}, {"en": "fault"}, ["en"], "UTC", {}, "https://example.org/")
    )
    await pool.close()
    return line_id


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    redis = PrivateRedis()
    redis.start()
    yield redis
    redis.stop()


async def test_resent_id_after_a_full_restart_gets_the_same_sequence_number(
    database_url: str,
) -> None:
    line = await make_line(database_url)
    server = ServerProcess({"DATABASE_URL": database_url})
    server.start()
    try:
        caller = await Caller.open(server.ws)
        await caller.start(line, "en")
        await caller.say("first")
        ack = await caller.say("the one that matters", client_id="where-i-am")
        server.kill9()
        server.start()
        again = await Caller.open(server.ws)
        await again.send({"type": "resume", "token": caller.token, "last_seq": 0})
        await again.expect("resumed")
        repeat = await again.say("the one that matters", client_id="where-i-am")
        assert (repeat["seq"], repeat["duplicate"]) == (ack["seq"], True)
        await again.close()
    finally:
        server.stop()


async def test_a_hundred_claims_on_one_conversation_have_one_winner(running: Running) -> None:
    line = await running.line()
    caller = await running.caller()
    await caller.start(line)
    staff = [
        await running.store.create_staff(
            f"race-{uuid.uuid4().hex[:8]}",
            "R",
            __import__("server.models").models.StaffRole.COUNSELLOR,
            "x",
        )
        for _ in range(100)
    ]
    conv_id = uuid.UUID(caller.conversation)
    results = await asyncio.gather(*(running.store.claim(conv_id, s.id) for s in staff))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    stored = await running.store.get_conversation(conv_id)
    assert stored.counsellor_id == winners[0].counsellor_id


async def test_a_hundred_parallel_starts_from_one_caller_make_one_conversation(
    running: Running,
) -> None:
    line = await running.line()
    token = uuid.uuid4().hex + uuid.uuid4().hex[:8]
    callers = [await running.caller() for _ in range(100)]
    await asyncio.gather(
        *(c.send({"type": "start", "line": line, "lang": "en", "token": token}) for c in callers)
    )
    started = [await c.expect("started") for c in callers]
    assert len({s["conversation"] for s in started}) == 1
    count = await running.store.pool.fetchval(
        "SELECT count(*) FROM conversations WHERE line_id = $1", line
    )
    assert count == 1
    await asyncio.gather(*(c.close() for c in callers))


async def test_sigterm_closes_sockets_with_1012_and_exits_within_the_drain_time(
    database_url: str,
) -> None:
    line = await make_line(database_url)
    server = ServerProcess({"DATABASE_URL": database_url}, drain_s=3.0)
    server.start()
    try:
        caller = await Caller.open(server.ws)
        await caller.start(line, "en")
        ack = await caller.say("stored before the restart")
        started = time.monotonic()
        server.terminate()
        with pytest.raises(ConnectionClosed):
            while True:
                await caller.recv(timeout=10)
        assert caller.ws.close_code == 1012
        assert server.proc is not None
        await asyncio.to_thread(server.proc.wait, 15)
        assert time.monotonic() - started < 3.0 + 5.0
        with pytest.raises(OSError):
            await connect(f"{server.ws}/ws/caller", open_timeout=2)
        pool = await asyncpg.connect(database_url)
        body = await pool.fetchval(
            "SELECT body FROM messages WHERE conversation_id = $1 AND seq = $2",
            uuid.UUID(caller.conversation),
            ack["seq"],
        )
        await pool.close()
        assert body == "stored before the restart"
    finally:
        server.stop()


async def test_postgres_unreachable_for_ten_seconds_loses_nothing(tmp_path: Path) -> None:
    database = PrivatePostgres(tmp_path)
    server = ServerProcess({"DATABASE_URL": database.url})
    server.start()
    try:
        line = await make_line(database.url)
        caller = await Caller.open(server.ws)
        await caller.start(line, "en")
        await caller.say("before")
        database.stop()
        outage_started = time.monotonic()
        texts = [f"during {i}" for i in range(5)]
        pending = {f"d{i}": text for i, text in enumerate(texts)}
        refused = 0
        for client_id, text in pending.items():
            await caller.send({"type": "send", "id": client_id, "text": text})
            frame = await caller.expect("error", ref=client_id, timeout=20)
            assert frame["code"] == "store_unavailable"  # visibly not sent
            refused += 1
        assert refused == 5
        await asyncio.sleep(max(0.0, 10.0 - (time.monotonic() - outage_started)))
        database.start()
        # The client retries with the same ids until each is acknowledged.
        acked: dict[str, int] = {}
        deadline = time.monotonic() + 30
        while len(acked) < len(pending) and time.monotonic() < deadline:
            for client_id, text in pending.items():
                if client_id in acked:
                    continue
                await caller.send({"type": "send", "id": client_id, "text": text})
                frame = await caller.recv()
                while frame.get("type") not in ("ack", "error"):
                    frame = await caller.recv()
                if frame["type"] == "ack":
                    acked[frame["id"]] = frame["seq"]
                else:
                    await asyncio.sleep(0.5)
        assert sorted(acked.values()) == [2, 3, 4, 5, 6]
        conn = await asyncpg.connect(database.url)
        bodies = await conn.fetch(
            "SELECT body FROM messages WHERE conversation_id = $1 ORDER BY seq",
            uuid.UUID(caller.conversation),
        )
        await conn.close()
        assert [b["body"] for b in bodies] == ["before", *texts]
    finally:
        server.stop()
        database.stop()


async def test_redis_restart_degrades_and_recovers(
    database_url: str, private_redis: PrivateRedis
) -> None:
    line = await make_line(database_url)
    env = {"DATABASE_URL": database_url, "REDIS_URL": private_redis.url}
    first, second = ServerProcess(env), ServerProcess(env)
    first.start()
    second.start()
    try:
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
        assert pool is not None
        from server.auth import hash_password
        from server.models import StaffRole

        username = f"r-{uuid.uuid4().hex[:8]}"
        await Store(pool).create_staff(
            username, "R", StaffRole.COUNSELLOR, hash_password("pw-redis-test"), 2, [line]
        )
        await pool.close()
        counsellor = await Counsellor.open(second.http, username, "pw-redis-test")
        await counsellor.clock_in()
        caller = await Caller.open(first.ws)
        await caller.start(line, "en")
        conv = await counsellor.take_next()
        await caller.say("across processes")
        await counsellor.has_message(1)

        private_redis.stop()
        await caller.say("while redis is down")  # stored and acknowledged all the same
        await caller.has_frame("service", timeout=10, status="degraded")

        private_redis.start()
        await caller.has_frame("service", timeout=20, status="ok")
        await asyncio.sleep(1.0)  # the other process notices too
        await caller.say("after redis is back")
        # The message missed during the outage arrives first: the gap is filled from PostgreSQL.
        for seq in (2, 3):
            await counsellor.has_message(seq, timeout=15)
        await counsellor.say(conv, "still here")
        await caller.has_message(4, timeout=15)
    finally:
        first.stop()
        second.stop()


async def test_a_stalled_reader_is_cut_off_without_slowing_others(
    make_server: ServerFactory,
) -> None:
    running = await make_server(frame_rate_per_s=10_000.0, outbox_limit=50, max_text_chars=16_000)
    line = await running.line()
    counsellor = await running.counsellor(line)
    caller = await running.caller()
    await caller.start(line)
    conv = await counsellor.take_next()
    # A raw socket on the same conversation that says "resume" and never reads again.
    port = int(running.http.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection(
        "127.0.0.1",
        port,
        limit=2**16,
        sock=None,
    )
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET /ws/caller HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    await reader.readuntil(b"\r\n\r\n")
    writer.write(
        _masked_text_frame(json.dumps({"type": "resume", "token": caller.token, "last_seq": 0}))
    )
    await writer.drain()
    writer.transport.pause_reading()
    # 1,000 of these (16 MB): more than the kernel's socket buffers on both ends hold.
    big = "x" * 15_990
    # The well-behaved caller keeps reading throughout.
    caller_reading = asyncio.create_task(caller.has_message(1000, timeout=120))
    latencies = []
    for i in range(1000):
        started = time.monotonic()
        await counsellor.say(conv, f"{i} {big}", client_id=f"flood-{i}")
        latencies.append(time.monotonic() - started)
    writer.transport.resume_reading()
    received = b""
    close_1013 = b"\x88\x02\x03\xf5"
    while close_1013 not in received[-4096:]:  # read what was buffered, up to the close frame
        chunk = await asyncio.wait_for(reader.read(1 << 20), 30)
        assert chunk, "connection ended without a 1013 close frame"
        received += chunk
    writer.close()
    # Cut off: far less than everything was delivered, and the last frame is close 1013.
    assert len(received) < 1000 * 16_000
    assert received.endswith(close_1013)
    # The reading caller got every message, in order, once.
    await caller_reading
    assert [m["seq"] for m in caller.messages()] == list(range(1, 1001))
    latencies.sort()
    # A sanity bound, not a benchmark: the sender never waited on the stalled socket.
    assert latencies[len(latencies) // 2] < 1.0


def _masked_text_frame(text: str) -> bytes:
    payload = text.encode()
    mask = os.urandom(4)
    header = (
        bytes([0x81, 0x80 | 126]) + len(payload).to_bytes(2, "big")
        if len(payload) > 125
        else bytes([0x81, 0x80 | len(payload)])
    )
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
