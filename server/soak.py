"""``helpline soak``: many conversations over several server processes for a set time.

Counts the messages callers sent, the ones acknowledged, the ones found in the
transcripts and the ones counsellors received; all four must match. Optionally
kills a process now and then (``--kill-every``). Needs DATABASE_URL and
REDIS_URL: several processes share them.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
import uuid
from typing import Any

import asyncpg

from server.auth import hash_password
from server.loadgen import CallerRun, Cluster, CounsellorRun, ServerProcess
from server.models import Line, StaffRole
from server.store import Store


async def soak(
    database_url: str,
    redis_url: str,
    *,
    minutes: float,
    conversations: int,
    messages: int,
    processes: int,
    kill_every_s: float | None,
) -> dict[str, Any]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    assert pool is not None
    store = Store(pool)
    line = f"soak-{uuid.uuid4().hex[:6]}"
    await store.upsert_line(
        Line(line, {"en": "soak"}, {"en": "soak"}, ["en"], "UTC", {}, "https://example.org/")
    )
    password = secrets.token_urlsafe(12)
    password_hash = hash_password(password)
    counsellor_count = max(1, conversations // 4)
    names = [f"soak-{uuid.uuid4().hex[:6]}" for _ in range(counsellor_count)]
    for name in names:
        await store.create_staff(name, name, StaffRole.COUNSELLOR, password_hash, 4, [line])
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "HELPLINE_FRAME_RATE_PER_S": "1000",
        "HELPLINE_OFFER_TIMEOUT_S": "5",
    }
    cluster = Cluster([ServerProcess(env) for _ in range(processes)])
    for server in cluster.servers:
        server.start()
    stop = asyncio.Event()
    started_at = time.monotonic()
    kills = 0
    pause = max(0.0, minutes * 60.0 / messages)
    counsellors = [CounsellorRun(name, password, messages) for name in names]
    callers = [CallerRun(i, line, messages, pause_s=pause) for i in range(conversations)]
    try:
        counsellor_tasks = [asyncio.create_task(c.run(cluster, stop)) for c in counsellors]
        caller_tasks = [asyncio.create_task(c.run(cluster, None)) for c in callers]
        while not all(t.done() for t in caller_tasks):
            await asyncio.sleep(kill_every_s or 1.0)
            if kill_every_s and len(cluster.alive()) > 1:
                victim = random.choice(cluster.alive())
                victim.kill9()
                kills += 1
                await asyncio.to_thread(victim.start)
        deadline = time.monotonic() + 120
        while sum(len(c.finished) for c in counsellors) < conversations:
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
    finally:
        stop.set()
        for server in cluster.servers:
            server.stop()
    await asyncio.gather(*counsellor_tasks, return_exceptions=True)
    stored = await pool.fetchval(
        "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id"
        " WHERE c.line_id = $1 AND m.sender = 'caller'",
        line,
    )
    await pool.close()
    received = sum(len(set(seqs)) for c in counsellors for seqs in c.received.values())
    doubled = sum(len(seqs) - len(set(seqs)) for c in counsellors for seqs in c.received.values())
    result = {
        "processes": processes,
        "conversations": conversations,
        "seconds": round(time.monotonic() - started_at, 1),
        "kills": kills,
        "sent": conversations * messages,
        "acknowledged": sum(len(c.acked) for c in callers),
        "in_transcripts": int(stored),
        "received_by_counsellors": received,
        "received_twice": doubled,
        "caller_reconnects": sum(c.reconnects for c in callers),
    }
    result["ok"] = (
        result["sent"]
        == result["acknowledged"]
        == result["in_transcripts"]
        == result["received_by_counsellors"]
        and doubled == 0
    )
    return result
