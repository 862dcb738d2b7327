"""Which exceptions mean "the database is unreachable right now"."""

from __future__ import annotations

import asyncpg

# A caller's message hit one of these: it is not stored, and the caller is told
# so (``store_unavailable``) and retries with the same client id.
STORE_DOWN: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
)
