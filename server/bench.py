"""``helpline bench``: speed goals measured, never asserted in unit tests.

Each figure comes from a run on this machine at the time; where a goal is a
speed, it is shown next to a baseline measured in the same run (a ratio),
because the machines are shared and absolute times drift.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import structlog

from server.matching import CounsellorState, MatchPolicy, WaitingConversation, plan_offers
from server.models import RiskTier

WS_IMPL = "websockets-sansio"


def bench_matching(waiting_count: int = 1000, counsellor_count: int = 200) -> dict[str, Any]:
    """One matching round over a large backlog, against sorting that backlog (baseline)."""
    rng = secrets.SystemRandom()
    waiting = [
        WaitingConversation(
            f"c{i}", f"line{i % 10}", RiskTier(rng.randrange(5)), rng.random() * 1e4
        )
        for i in range(waiting_count)
    ]
    counsellors = [
        CounsellorState(
            i,
            frozenset({f"line{i % 10}"}),
            True,
            True,
            2,
            rng.choice([0.0, 1.0]),
            rng.random() * 1e4,
        )
        for i in range(counsellor_count)
    ]
    policy = MatchPolicy()
    rounds, baseline = [], []
    for _ in range(20):
        start = time.perf_counter()
        sorted(waiting, key=lambda w: (-w.tier, w.queued_at))
        baseline.append(time.perf_counter() - start)
        start = time.perf_counter()
        plan_offers(waiting, counsellors, {}, {}, policy, 1e4)
        rounds.append(time.perf_counter() - start)
    return {
        "waiting": waiting_count,
        "counsellors": counsellor_count,
        "round_ms_median": round(statistics.median(rounds) * 1000, 3),
        "baseline_sort_ms_median": round(statistics.median(baseline) * 1000, 3),
        "ratio_to_sort": round(statistics.median(rounds) / statistics.median(baseline), 1),
    }


async def _chat(callers: int, messages: int, database_url: str | None) -> dict[str, Any]:
    import asyncpg
    import uvicorn
    from websockets.asyncio.client import connect

    from server.app import create_app, open_services
    from server.config import Settings
    from server.models import Line

    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(
            database_url=database_url,
            data_dir=Path(data_dir),
            port=0,
            frame_rate_per_s=1000.0,
            triage_enabled=True,
        )
        services = await open_services(settings)
        line_id = f"bench-{secrets.token_hex(3)}"
        await services.store.upsert_line(
            Line(
                line_id, {"en": "bench"}, {"en": "bench"}, ["en"], "UTC", {}, "https://example.org/"
            )
        )
        app = create_app(settings, services)
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_config=None, ws="websockets-sansio", lifespan="on"
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]

        # Baseline: a bare, durable (committed, WAL-flushed) single-row INSERT on
        # the same database: the floor for "acknowledged only once stored".
        conn = await asyncpg.connect(services.extras["database_url"])
        table = f"bench_baseline_{secrets.token_hex(4)}"
        await conn.execute(f"CREATE TABLE {table} (n int, body text)")
        baseline = []
        for i in range(200):
            start = time.perf_counter()
            await conn.execute(f"INSERT INTO {table} VALUES ($1, $2)", i, "x" * 100)
            baseline.append(time.perf_counter() - start)
        await conn.execute(f"DROP TABLE {table}")
        await conn.close()

        latencies: list[float] = []

        async def one_caller(n: int) -> None:
            async with connect(f"ws://127.0.0.1:{port}/ws/caller") as ws:
                await ws.send(json.dumps({"type": "start", "line": line_id, "lang": "en"}))
                while json.loads(await ws.recv())["type"] != "started":
                    pass
                for i in range(messages):
                    start = time.perf_counter()
                    await ws.send(
                        json.dumps(
                            {
                                "type": "send",
                                "id": f"b{n}-{i}",
                                "text": "I feel a bit low today and wanted to talk " * 2,
                            }
                        )
                    )
                    while True:
                        frame = json.loads(await ws.recv())
                        if frame["type"] == "ack":
                            break
                    latencies.append(time.perf_counter() - start)

        start = time.perf_counter()
        await asyncio.gather(*(one_caller(n) for n in range(callers)))
        elapsed = time.perf_counter() - start
        server.should_exit = True
        await task
        await services.bus.close()
        await services.pool.close()
    latencies.sort()
    base = statistics.median(baseline)
    return {
        "callers": callers,
        "messages_each": messages,
        "acked_per_second": round(len(latencies) / elapsed, 1),
        "ack_ms_p50": round(statistics.median(latencies) * 1000, 2),
        "ack_ms_p99": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "baseline_durable_insert_ms_p50": round(base * 1000, 3),
        "ack_p50_ratio_to_durable_insert": round(statistics.median(latencies) / base, 1),
        "database": "configured" if database_url else "embedded",
    }


def run(only: set[str], quick: bool, database_url: str | None) -> dict[str, Any]:
    results: dict[str, Any] = {}
    if "triage" in only:
        from triage.bench import run_benchmark as triage_bench

        results["triage"] = triage_bench(seconds=1.0 if quick else 3.0)
    if "semantic" in only:
        from triage.semantic_bench import run_benchmark as semantic_bench

        results["triage_semantic"] = semantic_bench(rounds=5 if quick else 20, threads=1)
    if "rota" in only:
        from rota.bench import run_benchmark as rota_bench

        results["rota"] = rota_bench()
    if "matching" in only:
        results["matching"] = bench_matching()
    if "chat" in only:
        # Logs would measure the terminal, not the server.
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
        results["chat_one_caller"] = asyncio.run(_chat(1, 50 if quick else 200, database_url))
        callers, messages = (10, 20) if quick else (50, 100)
        results["chat_concurrent"] = asyncio.run(_chat(callers, messages, database_url))
    return results
