"""One contract, two backends: the in-process bus and the Redis bus behave the same.

The Redis backend runs against the real Redis named by REDIS_URL (CI sets it;
scripts/test sets it when the machine's Redis answers).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest

from server.bus import Bus, MemoryBus
from server.bus.redis import RedisBus


@pytest.fixture(params=["memory", "redis"])
async def bus_pair(
    request: pytest.FixtureRequest, redis_url: str | None
) -> AsyncIterator[tuple[Bus, Bus]]:
    """Two bus handles that stand for two server processes."""
    if request.param == "memory":
        shared = MemoryBus()
        yield shared, shared
        return
    if redis_url is None:
        pytest.skip("REDIS_URL not set (CI sets it; scripts/test sets it when Redis answers)")
    first, second = RedisBus(redis_url), RedisBus(redis_url)
    await first.start()
    await second.start()
    yield first, second
    await first.close()
    await second.close()


async def collect(received: list[dict[str, Any]], count: int, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while len(received) < count:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"got {len(received)} of {count}: {received[-3:]}")
        await asyncio.sleep(0.01)


def channel() -> str:
    return f"test:{secrets.token_hex(4)}"


async def test_events_reach_subscribers_in_another_process_in_order(
    bus_pair: tuple[Bus, Bus],
) -> None:
    publisher, subscriber = bus_pair
    name = channel()
    received: list[dict[str, Any]] = []
    unsubscribe = await subscriber.subscribe(name, received.append)
    for i in range(200):
        await publisher.publish(name, {"n": i})
    await collect(received, 200)
    assert [e["n"] for e in received] == list(range(200))
    await unsubscribe()


async def test_every_subscriber_gets_each_event_once(bus_pair: tuple[Bus, Bus]) -> None:
    publisher, subscriber = bus_pair
    name = channel()
    first: list[dict[str, Any]] = []
    second: list[dict[str, Any]] = []
    await subscriber.subscribe(name, first.append)
    await subscriber.subscribe(name, second.append)
    await publisher.publish(name, {"hello": "world"})
    await collect(first, 1)
    await collect(second, 1)
    await asyncio.sleep(0.1)
    assert first == second == [{"hello": "world"}]


async def test_unsubscribed_handlers_and_other_channels_get_nothing(
    bus_pair: tuple[Bus, Bus],
) -> None:
    publisher, subscriber = bus_pair
    name, other = channel(), channel()
    gone: list[dict[str, Any]] = []
    stays: list[dict[str, Any]] = []
    elsewhere: list[dict[str, Any]] = []
    unsubscribe = await subscriber.subscribe(name, gone.append)
    await subscriber.subscribe(name, stays.append)
    await subscriber.subscribe(other, elsewhere.append)
    await unsubscribe()
    await publisher.publish(name, {"n": 1})
    await collect(stays, 1)
    await asyncio.sleep(0.1)
    assert gone == [] and elsewhere == []


async def test_events_survive_json_round_trip(bus_pair: tuple[Bus, Bus]) -> None:
    publisher, subscriber = bus_pair
    name = channel()
    received: list[dict[str, Any]] = []
    await subscriber.subscribe(name, received.append)
    event = {"type": "message", "text": "hej då 👋 æøå", "seq": 7, "nested": {"ok": True}}
    await publisher.publish(name, event)
    await collect(received, 1)
    assert received == [event]
