"""PostgreSQL storage: the durable truth for lines, staff, conversations and messages.

Every method is one short transaction. Idempotency and claim races are settled
here, by constraints and row locks, never by process memory, so that any
number of server processes can run side by side.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from server.models import (
    Conversation,
    ConversationState,
    Line,
    RiskTier,
    Sender,
    Staff,
    StaffRole,
    StoredMessage,
)


class ConversationClosed(Exception):
    """The conversation no longer accepts messages."""


class UnknownConversation(Exception):
    pass


def hash_token(token: str) -> bytes:
    # Tokens carry >= 128 bits of randomness, so a plain SHA-256 is enough:
    # there is nothing to brute-force, unlike a password.
    return hashlib.sha256(token.encode("utf-8")).digest()


def new_token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits


def _line(row: asyncpg.Record) -> Line:
    return Line(
        id=row["id"],
        name=json.loads(row["name"]),
        audience=json.loads(row["audience"]),
        languages=list(row["languages"]),
        time_zone=row["time_zone"],
        emergency=json.loads(row["emergency"]),
        exit_url=row["exit_url"],
    )


def _staff(row: asyncpg.Record) -> Staff:
    return Staff(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        role=StaffRole(row["role"]),
        capacity=row["capacity"],
        line_ids=list(row["line_ids"]),
    )


def _conversation(row: asyncpg.Record) -> Conversation:
    return Conversation(
        id=row["id"],
        line_id=row["line_id"],
        lang=row["lang"],
        state=ConversationState(row["state"]),
        risk_tier=RiskTier(row["risk_tier"]),
        counsellor_id=row["counsellor_id"],
        last_seq=row["last_seq"],
        queued_at=row["queued_at"],
        accepted_at=row["accepted_at"],
        caller_ended_at=row["caller_ended_at"],
        ended_at=row["ended_at"],
    )


def _message(row: asyncpg.Record, duplicate: bool = False) -> StoredMessage:
    return StoredMessage(
        conversation_id=row["conversation_id"],
        seq=row["seq"],
        sender=Sender(row["sender"]),
        client_id=row["client_id"],
        body=row["body"],
        created_at=row["created_at"],
        duplicate=duplicate,
    )


_CONV_COLUMNS = (
    "id, line_id, lang, state, risk_tier, counsellor_id, last_seq, queued_at,"
    " accepted_at, caller_ended_at, ended_at"
)


class Store:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def ping(self) -> None:
        async with self.pool.acquire(timeout=2) as conn:
            await conn.fetchval("SELECT 1")

    # -- lines -------------------------------------------------------------

    async def upsert_line(self, line: Line) -> None:
        await self.pool.execute(
            "INSERT INTO lines (id, name, audience, languages, time_zone, emergency, exit_url)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT (id) DO UPDATE SET name = $2, audience = $3, languages = $4,"
            " time_zone = $5, emergency = $6, exit_url = $7",
            line.id,
            json.dumps(line.name),
            json.dumps(line.audience),
            line.languages,
            line.time_zone,
            json.dumps(line.emergency),
            line.exit_url,
        )

    async def get_line(self, line_id: str) -> Line | None:
        row = await self.pool.fetchrow("SELECT * FROM lines WHERE id = $1", line_id)
        return _line(row) if row else None

    async def list_lines(self) -> list[Line]:
        return [_line(r) for r in await self.pool.fetch("SELECT * FROM lines ORDER BY id")]

    # -- staff and sessions --------------------------------------------------

    async def create_staff(
        self,
        username: str,
        display_name: str,
        role: StaffRole,
        password_hash: str,
        capacity: int = 2,
        line_ids: Sequence[str] = (),
    ) -> Staff:
        row = await self.pool.fetchrow(
            "INSERT INTO staff (username, display_name, role, password_hash, capacity, line_ids)"
            " VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
            username,
            display_name,
            role.value,
            password_hash,
            capacity,
            list(line_ids),
        )
        assert row is not None
        return _staff(row)

    async def staff_count(self) -> int:
        return int(await self.pool.fetchval("SELECT count(*) FROM staff"))

    async def staff_by_id(self, staff_id: int) -> Staff | None:
        row = await self.pool.fetchrow("SELECT * FROM staff WHERE id = $1", staff_id)
        return _staff(row) if row else None

    async def login_record(self, username: str) -> asyncpg.Record | None:
        return await self.pool.fetchrow("SELECT * FROM staff WHERE username = $1", username)

    async def record_login_failure(
        self, staff_id: int, max_failures: int, lockout_s: float
    ) -> None:
        await self.pool.execute(
            "UPDATE staff SET failed_logins = failed_logins + 1,"
            " locked_until = CASE WHEN failed_logins + 1 >= $2"
            "   THEN now() + make_interval(secs => $3) ELSE locked_until END"
            " WHERE id = $1",
            staff_id,
            max_failures,
            lockout_s,
        )

    async def record_login_success(self, staff_id: int) -> None:
        await self.pool.execute(
            "UPDATE staff SET failed_logins = 0, locked_until = NULL WHERE id = $1", staff_id
        )

    async def create_session(self, staff_id: int, ttl_s: float) -> tuple[str, str]:
        token, csrf = new_token(), new_token()
        await self.pool.execute(
            "INSERT INTO staff_sessions (token_hash, staff_id, csrf_token, expires_at)"
            " VALUES ($1, $2, $3, $4)",
            hash_token(token),
            staff_id,
            csrf,
            datetime.now(UTC) + timedelta(seconds=ttl_s),
        )
        return token, csrf

    async def session(self, token: str) -> tuple[Staff, str] | None:
        row = await self.pool.fetchrow(
            "SELECT s.*, ss.csrf_token FROM staff_sessions ss JOIN staff s ON s.id = ss.staff_id"
            " WHERE ss.token_hash = $1 AND ss.expires_at > now()",
            hash_token(token),
        )
        return (_staff(row), row["csrf_token"]) if row else None

    async def delete_session(self, token: str) -> None:
        await self.pool.execute(
            "DELETE FROM staff_sessions WHERE token_hash = $1", hash_token(token)
        )

    # -- conversations ---------------------------------------------------------

    async def start_conversation(
        self, line_id: str, lang: str, token: str
    ) -> tuple[Conversation, bool]:
        """Create the conversation for ``token``, or return the one it already has.

        Returns the conversation and whether it was created now: parallel starts
        with one token settle on the unique index to a single conversation.
        """
        token_hash = hash_token(token)
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                "INSERT INTO conversations (line_id, lang, token_hash) VALUES ($1, $2, $3)"
                f" ON CONFLICT (token_hash) DO NOTHING RETURNING {_CONV_COLUMNS}",
                line_id,
                lang,
                token_hash,
            )
            if row is not None:
                return _conversation(row), True
            row = await conn.fetchrow(
                f"SELECT {_CONV_COLUMNS} FROM conversations WHERE token_hash = $1", token_hash
            )
            assert row is not None
            return _conversation(row), False

    async def conversation_by_token(self, token: str) -> Conversation | None:
        row = await self.pool.fetchrow(
            f"SELECT {_CONV_COLUMNS} FROM conversations WHERE token_hash = $1", hash_token(token)
        )
        return _conversation(row) if row else None

    async def get_conversation(self, conversation_id: uuid.UUID) -> Conversation | None:
        row = await self.pool.fetchrow(
            f"SELECT {_CONV_COLUMNS} FROM conversations WHERE id = $1", conversation_id
        )
        return _conversation(row) if row else None

    async def append_message(
        self,
        conversation_id: uuid.UUID,
        sender: Sender,
        body: str,
        client_id: str | None,
        staff_id: int | None = None,
    ) -> StoredMessage:
        """Store a message once; a repeated ``client_id`` returns the first copy.

        The conversation row is locked first so that sequence numbers are gapless
        and two concurrent sends of one client id cannot both insert.
        """
        async with self.pool.acquire() as conn, conn.transaction():
            conv = await conn.fetchrow(
                "SELECT state, caller_ended_at FROM conversations WHERE id = $1 FOR UPDATE",
                conversation_id,
            )
            if conv is None:
                raise UnknownConversation(str(conversation_id))
            if client_id is not None:
                existing = await conn.fetchrow(
                    "SELECT * FROM messages WHERE conversation_id = $1 AND sender = $2"
                    " AND client_id = $3",
                    conversation_id,
                    sender.value,
                    client_id,
                )
                if existing is not None:
                    return _message(existing, duplicate=True)
            if not ConversationState(conv["state"]).is_open or (
                sender is Sender.CALLER and conv["caller_ended_at"] is not None
            ):
                raise ConversationClosed(str(conversation_id))
            row = await conn.fetchrow(
                "WITH next AS (UPDATE conversations SET last_seq = last_seq + 1 WHERE id = $1"
                "  RETURNING last_seq)"
                " INSERT INTO messages (conversation_id, seq, sender, staff_id, client_id, body)"
                " SELECT $1, next.last_seq, $2, $3, $4, $5 FROM next RETURNING *",
                conversation_id,
                sender.value,
                staff_id,
                client_id,
                body,
            )
            assert row is not None
            return _message(row)

    async def messages_after(
        self, conversation_id: uuid.UUID, after_seq: int, limit: int = 1000
    ) -> list[StoredMessage]:
        rows = await self.pool.fetch(
            "SELECT * FROM messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            conversation_id,
            after_seq,
            limit,
        )
        return [_message(r) for r in rows]

    async def queued_conversations(self) -> list[Conversation]:
        rows = await self.pool.fetch(
            f"SELECT {_CONV_COLUMNS} FROM conversations WHERE state = 'queued'"
            " ORDER BY risk_tier DESC, queued_at"
        )
        return [_conversation(r) for r in rows]

    async def active_for_counsellor(self, staff_id: int) -> list[Conversation]:
        rows = await self.pool.fetch(
            f"SELECT {_CONV_COLUMNS} FROM conversations WHERE state = 'active'"
            " AND counsellor_id = $1 ORDER BY accepted_at",
            staff_id,
        )
        return [_conversation(r) for r in rows]

    async def claim(self, conversation_id: uuid.UUID, staff_id: int) -> Conversation | None:
        """Assign a queued conversation; of many concurrent claims exactly one wins."""
        row = await self.pool.fetchrow(
            "UPDATE conversations SET state = 'active', counsellor_id = $2, accepted_at = now()"
            f" WHERE id = $1 AND state = 'queued' RETURNING {_CONV_COLUMNS}",
            conversation_id,
            staff_id,
        )
        return _conversation(row) if row else None

    async def caller_end(self, conversation_id: uuid.UUID) -> Conversation | None:
        """The caller leaves: a queued conversation is abandoned, an active one awaits wrap-up."""
        row = await self.pool.fetchrow(
            "UPDATE conversations SET"
            " state = CASE WHEN state = 'queued' THEN 'abandoned' ELSE state END,"
            " ended_at = CASE WHEN state = 'queued' THEN now() ELSE ended_at END,"
            " end_reason = CASE WHEN state = 'queued' THEN 'caller_left' ELSE end_reason END,"
            " caller_ended_at = now()"
            " WHERE id = $1 AND state IN ('queued', 'active') AND caller_ended_at IS NULL"
            f" RETURNING {_CONV_COLUMNS}",
            conversation_id,
        )
        return _conversation(row) if row else None

    async def wrap_up(
        self, conversation_id: uuid.UUID, staff_id: int, reason: str
    ) -> Conversation | None:
        row = await self.pool.fetchrow(
            "UPDATE conversations SET state = 'wrapped_up', ended_at = now(), end_reason = $3"
            " WHERE id = $1 AND state = 'active' AND counsellor_id = $2"
            f" RETURNING {_CONV_COLUMNS}",
            conversation_id,
            staff_id,
            reason,
        )
        return _conversation(row) if row else None

    async def mark_caller_disconnected(self, conversation_id: uuid.UUID, gone: bool) -> None:
        await self.pool.execute(
            "UPDATE conversations SET caller_disconnected_at = CASE WHEN $2 THEN now() END"
            " WHERE id = $1",
            conversation_id,
            gone,
        )

    async def abandon_gone_callers(self, grace_s: float) -> list[Conversation]:
        """Queued conversations whose caller left longer than ``grace_s`` ago become abandoned."""
        rows = await self.pool.fetch(
            "UPDATE conversations SET state = 'abandoned', ended_at = now(),"
            " end_reason = 'caller_gone'"
            " WHERE state = 'queued' AND caller_disconnected_at IS NOT NULL"
            " AND caller_disconnected_at < now() - make_interval(secs => $1)"
            f" RETURNING {_CONV_COLUMNS}",
            grace_s,
        )
        return [_conversation(r) for r in rows]

    async def raise_risk_tier(self, conversation_id: uuid.UUID, tier: RiskTier) -> RiskTier:
        """Raise (never lower) the conversation's tier; return the tier now in force."""
        value = await self.pool.fetchval(
            "UPDATE conversations SET risk_tier = GREATEST(risk_tier, $2) WHERE id = $1"
            " RETURNING risk_tier",
            conversation_id,
            int(tier),
        )
        return RiskTier(value)

    async def mean_handle_seconds(self, sample: int = 50) -> float | None:
        value = await self.pool.fetchval(
            "SELECT avg(extract(epoch FROM ended_at - accepted_at)) FROM ("
            " SELECT ended_at, accepted_at FROM conversations WHERE state = 'wrapped_up'"
            " AND accepted_at IS NOT NULL ORDER BY ended_at DESC LIMIT $1) recent",
            sample,
        )
        return float(value) if value is not None else None

    async def audit(
        self,
        staff_id: int | None,
        action: str,
        conversation_id: uuid.UUID | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        await self.pool.execute(
            "INSERT INTO audit_log (staff_id, action, conversation_id, detail)"
            " VALUES ($1, $2, $3, $4)",
            staff_id,
            action,
            conversation_id,
            json.dumps(detail or {}),
        )
