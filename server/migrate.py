"""Numbered SQL migrations applied in order at start, recorded in ``schema_migrations``.

Several processes may start at once: a transaction-level advisory lock makes
exactly one of them apply the pending files.
"""

from __future__ import annotations

from importlib import resources

import asyncpg

# Any fixed 64-bit number works; it only has to be the same in every process.
MIGRATION_LOCK_KEY = 7_431_001


def migration_files() -> list[tuple[int, str, str]]:
    folder = resources.files("server") / "migrations"
    found: list[tuple[int, str, str]] = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            number = int(entry.name.split("_", 1)[0])
            found.append((number, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


async def apply_migrations(conn: asyncpg.Connection) -> list[str]:
    """Apply what is pending; return the names applied."""
    applied_now: list[str] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for number, name, sql in migration_files():
            if number in done:
                continue
            await conn.execute(sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", number, name
            )
            applied_now.append(name)
    return applied_now
