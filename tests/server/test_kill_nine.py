"""kill -9 one of two server processes, five times, in the middle of 50 conversations of
200 messages: every client reconnects to the survivor and resumes, nothing is lost or
doubled, and the queue is served in order.

Bounded: two processes on loopback, a private Redis, five kills, a 240 s deadline.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Iterator

import asyncpg
import pytest

from server.auth import hash_password
from server.loadgen import CallerRun, Cluster, CounsellorRun, ServerProcess
from server.models import Line, StaffRole
from server.store import Store
from tests.server.procs import PrivateRedis

CALLERS = 50
MESSAGES = 200
COUNSELLORS = 5
CAPACITY = 6  # 30 places for 50 callers: 20 of them have to queue
KILLS = 5
PAUSE_S = 0.15
DEADLINE_S = 240.0
PASSWORD = "kill-nine-password"


@pytest.fixture
def redis() -> Iterator[PrivateRedis]:
    private = PrivateRedis()
    private.start()
    yield private
    private.stop()


async def test_kill_nine_five_times_loses_nothing(database_url: str, redis: PrivateRedis) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    assert pool is not None
    store = Store(pool)
    line = f"k9-{uuid.uuid4().hex[:6]}"
    await store.upsert_line(
        Line(line, {"en": "k9"}, {"en": "k9"}, ["en"], "UTC", {}, "https://example.org/")
    )
    password_hash = hash_password(PASSWORD)
    names = [f"k9-{uuid.uuid4().hex[:6]}" for _ in range(COUNSELLORS)]
    for name in names:
        await store.create_staff(name, name, StaffRole.COUNSELLOR, password_hash, CAPACITY, [line])

    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis.url,
        "HELPLINE_OFFER_TIMEOUT_S": "4",
        "HELPLINE_DECLINE_COOLDOWN_S": "2",
        "HELPLINE_FRAME_RATE_PER_S": "2000",
        "HELPLINE_STAFF_GRACE_S": "30",
    }
    cluster = Cluster([ServerProcess(env), ServerProcess(env)])
    for server in cluster.servers:
        server.start()
    stop = asyncio.Event()
    try:
        counsellors = [CounsellorRun(name, PASSWORD, MESSAGES) for name in names]
        counsellor_tasks = [asyncio.create_task(c.run(cluster, stop)) for c in counsellors]
        # Paced so that the conversations outlast the five kills (~30 s): unpaced,
        # a fast run finished all 10,000 messages before the first kill.
        callers = [CallerRun(i, line, MESSAGES, pause_s=PAUSE_S) for i in range(CALLERS)]
        caller_tasks = []
        for caller in callers:  # one after another, so the queue order is known
            started = asyncio.Event()
            caller_tasks.append(asyncio.create_task(caller.run(cluster, started)))
            await asyncio.wait_for(started.wait(), 30)

        async def killer() -> int:
            kills = 0
            while kills < KILLS:
                await asyncio.sleep(random.uniform(2.0, 4.0))
                victim = random.choice(cluster.alive())
                victim.kill9()
                kills += 1
                await asyncio.sleep(1.0)
                await asyncio.to_thread(victim.start)
            return kills

        kills = await asyncio.wait_for(killer(), DEADLINE_S)
        await asyncio.wait_for(asyncio.gather(*caller_tasks), DEADLINE_S)

        async def all_finished() -> None:
            while sum(len(c.finished) for c in counsellors) < CALLERS:
                await asyncio.sleep(0.2)

        try:
            await asyncio.wait_for(all_finished(), DEADLINE_S)
        except TimeoutError:
            finished = set().union(*(c.finished for c in counsellors))
            stuck = [c.conversation for c in callers if c.conversation not in finished]
            states = await pool.fetch(
                "SELECT id, state, counsellor_id, last_seq FROM conversations"
                " WHERE id = ANY($1::uuid[])",
                [uuid.UUID(s) for s in stuck],
            )
            raise AssertionError(f"not wrapped up: {[dict(r) for r in states]}") from None
    finally:
        stop.set()
        for server in cluster.servers:
            server.stop()
    await asyncio.gather(*counsellor_tasks, return_exceptions=True)

    assert kills == KILLS
    # Every caller: 200 messages acknowledged with sequence numbers 1..200, in order.
    for caller in callers:
        assert [caller.acked[i] for i in range(MESSAGES)] == list(range(1, MESSAGES + 1))
    # The transcripts hold each message exactly once, in order.
    rows = await pool.fetch(
        "SELECT conversation_id, array_agg(body ORDER BY seq) AS bodies,"
        " array_agg(seq ORDER BY seq) AS seqs FROM messages m"
        " JOIN conversations c ON c.id = m.conversation_id WHERE c.line_id = $1"
        " GROUP BY conversation_id",
        line,
    )
    assert len(rows) == CALLERS
    for row in rows:
        assert list(row["bodies"]) == [f"m{i}" for i in range(MESSAGES)]
        assert list(row["seqs"]) == list(range(1, MESSAGES + 1))
    # Counsellors saw every caller message once, across all their reconnects.
    seen: dict[str, list[int]] = {}
    for counsellor in counsellors:
        for conv, seqs in counsellor.received.items():
            seen.setdefault(conv, []).extend(seqs)
    for caller in callers:
        assert sorted(seen[caller.conversation]) == list(range(1, MESSAGES + 1)), caller.index
    # Queue order: of the callers who had to wait, served in the order they arrived,
    # allowing only swaps between callers accepted within one offer timeout of each other
    # (an offer lost with a killed process is made again to someone else).
    order = await pool.fetch(
        "SELECT id, queued_at, accepted_at FROM conversations WHERE line_id = $1"
        " ORDER BY queued_at",
        line,
    )
    assert all(r["accepted_at"] is not None for r in order)
    late_inversions = [
        (a["id"], b["id"])
        for i, a in enumerate(order)
        for b in order[i + 1 :]
        # offer timeout (4 s) + an orphaned offer row's slack (5 s) + one sweep (5 s)
        if (a["accepted_at"] - b["accepted_at"]).total_seconds() > 4.0 + 5.0 + 5.0
    ]
    assert late_inversions == []
    reconnects = sum(c.reconnects for c in callers)
    assert reconnects >= 1  # the kills really hit the callers
    await pool.close()
