"""Background jobs that run every N seconds in each server process.

A failing round is logged and the next one tries again: a dead database must
not end the job. Jobs that send something use ``raise_alert`` (or idempotent
SQL) so that several processes running the same job do no harm.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

from server.errors import STORE_DOWN

log = structlog.get_logger(__name__)


async def _every(name: str, interval_s: float, work: Callable[[], Awaitable[object]]) -> None:
    while True:
        try:
            await work()
        except asyncio.CancelledError:
            raise
        except STORE_DOWN:
            log.warning("job_store_unavailable", job=name)
        except Exception:
            log.exception("job_failed", job=name)
        await asyncio.sleep(interval_s)


def start(
    name: str, interval_s: float, work: Callable[[], Awaitable[object]]
) -> asyncio.Task[None]:
    return asyncio.create_task(_every(name, interval_s, work), name=f"job:{name}")


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
