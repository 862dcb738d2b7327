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
from server.staff_records import ALERT_COLUMNS, alert_frame, staff_text_frame


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


# Notes and whispers: staff-only texts beside a transcript, one table each.
STAFF_TEXT_TABLES = frozenset({"conversation_notes", "whispers"})


def _check_staff_text_table(table: str) -> None:
    # The name is interpolated into SQL: only these constants may pass.
    if table not in STAFF_TEXT_TABLES:
        raise ValueError(f"not a staff text table: {table!r}")


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

        One statement in the common case: it bumps the conversation's sequence
        number (which row-locks it, so numbers are gapless and ordered) and
        inserts the message. A concurrent send of the same client id loses on
        the unique index, rolls back whole (no gap), and reads the winner's copy.
        """
        try:
            row = await self.pool.fetchrow(
                "WITH next AS (UPDATE conversations SET last_seq = last_seq + 1"
                "  WHERE id = $1 AND state IN ('queued', 'active')"
                "  AND ($2 <> 'caller' OR caller_ended_at IS NULL)"
                "  AND NOT EXISTS (SELECT 1 FROM messages WHERE conversation_id = $1"
                "   AND sender = $2 AND client_id = $4)"
                "  RETURNING last_seq)"
                " INSERT INTO messages (conversation_id, seq, sender, staff_id, client_id, body)"
                " SELECT $1, next.last_seq, $2, $3, $4, $5 FROM next RETURNING *",
                conversation_id,
                sender.value,
                staff_id,
                client_id,
                body,
            )
        except asyncpg.UniqueViolationError:
            row = None
        if row is not None:
            return _message(row)
        return await self._why_not_appended(conversation_id, sender, client_id)

    async def _why_not_appended(
        self, conversation_id: uuid.UUID, sender: Sender, client_id: str | None
    ) -> StoredMessage:
        if client_id is not None:
            existing = await self.pool.fetchrow(
                "SELECT * FROM messages WHERE conversation_id = $1 AND sender = $2"
                " AND client_id = $3",
                conversation_id,
                sender.value,
                client_id,
            )
            if existing is not None:
                return _message(existing, duplicate=True)
        exists = await self.pool.fetchval(
            "SELECT true FROM conversations WHERE id = $1", conversation_id
        )
        if exists is None:
            raise UnknownConversation(str(conversation_id))
        raise ConversationClosed(str(conversation_id))

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
        """Assign a queued conversation; of many concurrent claims exactly one wins.

        The conversation's open offer goes in the same statement.
        """
        row = await self.pool.fetchrow(
            "WITH offer AS (DELETE FROM offers WHERE conversation_id = $1)"
            " UPDATE conversations SET state = 'active', counsellor_id = $2, accepted_at = now()"
            f" WHERE id = $1 AND state = 'queued' RETURNING {_CONV_COLUMNS}",
            conversation_id,
            staff_id,
        )
        return _conversation(row) if row else None

    async def place_offer(
        self, conversation_id: uuid.UUID, staff_id: int, expires_at: datetime
    ) -> bool:
        """Record an offer unless the caller is already offered (by any process)."""
        placed = await self.pool.fetchval(
            "INSERT INTO offers (conversation_id, staff_id, expires_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (conversation_id) DO NOTHING RETURNING true",
            conversation_id,
            staff_id,
            expires_at,
        )
        return bool(placed)

    async def drop_offer(self, conversation_id: uuid.UUID, staff_id: int) -> None:
        await self.pool.execute(
            "DELETE FROM offers WHERE conversation_id = $1 AND staff_id = $2",
            conversation_id,
            staff_id,
        )

    async def drop_offers_to(self, staff_id: int, keep: list[uuid.UUID]) -> None:
        await self.pool.execute(
            "DELETE FROM offers WHERE staff_id = $1 AND NOT (conversation_id = ANY($2::uuid[]))",
            staff_id,
            keep,
        )

    async def offered_elsewhere(self) -> set[uuid.UUID]:
        """Conversations with a live offer; expired ones (a dead process's) are removed."""
        await self.pool.execute("DELETE FROM offers WHERE expires_at < now()")
        rows = await self.pool.fetch("SELECT conversation_id FROM offers")
        return {r["conversation_id"] for r in rows}

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

    async def raise_risk_tier(
        self, conversation_id: uuid.UUID, tier: RiskTier
    ) -> tuple[RiskTier, RiskTier]:
        """Raise (never lower) the conversation's tier; return (previous, now in force)."""
        row = await self.pool.fetchrow(
            "UPDATE conversations c SET risk_tier = GREATEST(c.risk_tier, $2)"
            " FROM (SELECT id, risk_tier FROM conversations WHERE id = $1 FOR UPDATE) old"
            " WHERE c.id = old.id RETURNING old.risk_tier AS previous, c.risk_tier AS now",
            conversation_id,
            int(tier),
        )
        if row is None:
            raise UnknownConversation(str(conversation_id))
        return RiskTier(row["previous"]), RiskTier(row["now"])

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

    # -- triage -------------------------------------------------------------

    async def caller_texts_before(
        self, conversation_id: uuid.UUID, before_seq: int, limit: int = 3
    ) -> list[str]:
        """The caller's last ``limit`` messages before ``before_seq``, oldest first."""
        rows = await self.pool.fetch(
            "SELECT body FROM (SELECT seq, body FROM messages WHERE conversation_id = $1"
            " AND sender = 'caller' AND seq < $2 ORDER BY seq DESC LIMIT $3) recent ORDER BY seq",
            conversation_id,
            before_seq,
            limit,
        )
        return [r["body"] for r in rows]

    async def record_assessment(
        self,
        conversation_id: uuid.UUID,
        seq: int,
        tier: RiskTier,
        score: float,
        categories: Sequence[str],
        evidence: list[dict[str, Any]],
    ) -> tuple[RiskTier, RiskTier]:
        """Keep an assessment and raise (never lower) the conversation's tier, in one trip.

        A second assessment of the same message replaces the first only when its
        tier is higher (the semantic layer's raise after the rules'); a repeat is
        ignored. Returns (tier before, tier now in force).
        """
        row = await self.pool.fetchrow(
            "WITH saved AS (INSERT INTO risk_assessments"
            "  (conversation_id, seq, tier, score, categories, evidence)"
            "  VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (conversation_id, seq) DO UPDATE"
            "  SET tier = EXCLUDED.tier, score = EXCLUDED.score,"
            "  categories = EXCLUDED.categories, evidence = EXCLUDED.evidence"
            "  WHERE risk_assessments.tier < EXCLUDED.tier),"
            " old AS (SELECT risk_tier FROM conversations WHERE id = $1 FOR UPDATE)"
            " UPDATE conversations c SET risk_tier = GREATEST(c.risk_tier, $3) FROM old"
            " WHERE c.id = $1 RETURNING old.risk_tier AS previous, c.risk_tier AS now",
            conversation_id,
            seq,
            int(tier),
            score,
            list(categories),
            json.dumps(evidence),
        )
        if row is None:
            raise UnknownConversation(str(conversation_id))
        return RiskTier(row["previous"]), RiskTier(row["now"])

    async def claim_alert(self, key: str, kind: str) -> bool:
        """True for exactly one caller per key, across processes: that one sends it."""
        inserted = await self.pool.fetchval(
            "INSERT INTO sent_alerts (key, kind) VALUES ($1, $2) ON CONFLICT DO NOTHING"
            " RETURNING true",
            key,
            kind,
        )
        return bool(inserted)

    async def supervisor_emails(self, line_id: str | None = None) -> list[str]:
        rows = await self.pool.fetch(
            "SELECT email FROM staff WHERE role IN ('supervisor', 'admin') AND email IS NOT NULL"
            " AND ($1::text IS NULL OR line_ids = '{}' OR $1 = ANY(line_ids)) ORDER BY id",
            line_id,
        )
        return [r["email"] for r in rows]

    async def set_staff_email(self, staff_id: int, email: str | None) -> None:
        await self.pool.execute("UPDATE staff SET email = $2 WHERE id = $1", staff_id, email)

    # -- rota -----------------------------------------------------------------

    async def save_rota(self, source: str, imported_by: int | None) -> int:
        value = await self.pool.fetchval(
            "INSERT INTO rota_documents (source, imported_by) VALUES ($1, $2) RETURNING id",
            source,
            imported_by,
        )
        return int(value)

    async def current_rota_source(self) -> tuple[int, str] | None:
        row = await self.pool.fetchrow(
            "SELECT id, source FROM rota_documents ORDER BY id DESC LIMIT 1"
        )
        return (row["id"], row["source"]) if row else None

    async def staff_by_username(self, username: str) -> Staff | None:
        row = await self.pool.fetchrow("SELECT * FROM staff WHERE username = $1", username)
        return _staff(row) if row else None

    # -- console and supervision (docs/console.md) --------------------------------
    # Staff-only material (notes, whispers, alerts, wrap-ups) lives in its own
    # tables, never in ``messages``: the caller's sequence stays gapless.

    async def insert_alert(
        self,
        kind: str,
        *,
        line_id: str | None = None,
        conversation_id: uuid.UUID | None = None,
        tier: str | None = None,
        reason: str = "",
        why: dict[str, Any] | None = None,
        key: str | None = None,
        raised_by: int | None = None,
    ) -> uuid.UUID | None:
        """Store an alert for supervisors to acknowledge; return its id.

        ``why`` is ``{"code", "params"}`` for the monitor to word in the
        supervisor's language; ``reason`` is the English text.
        With a ``key`` the alert is stored once: a repeat (another process, the
        next periodic check) returns None, so only the first raiser publishes.
        """
        value = await self.pool.fetchval(
            "INSERT INTO alerts (kind, line_id, conversation_id, tier, reason, why, key, raised_by)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING id",
            kind,
            line_id,
            conversation_id,
            tier,
            reason[:500],
            json.dumps(why) if why is not None else None,
            key,
            raised_by,
        )
        return value if isinstance(value, uuid.UUID) else None

    async def alert(self, alert_id: uuid.UUID) -> dict[str, Any] | None:
        """One alert as the ``alert`` frame supervisors receive."""
        row = await self.pool.fetchrow(
            f"SELECT {ALERT_COLUMNS} FROM alerts a WHERE id = $1", alert_id
        )
        return alert_frame(row) if row else None

    async def risk_assessments(self, conversation_id: uuid.UUID) -> list[dict[str, Any]]:
        """Stored triage results of a conversation, as ``risk`` frames (for a reload)."""
        rows = await self.pool.fetch(
            "SELECT seq, tier, score, categories, evidence FROM risk_assessments"
            " WHERE conversation_id = $1 ORDER BY seq",
            conversation_id,
        )
        return [
            {
                "type": "risk",
                "conversation": str(conversation_id),
                "seq": r["seq"],
                "message_tier": RiskTier(r["tier"]).label,
                "score": r["score"],
                "categories": list(r["categories"]),
                "evidence": json.loads(r["evidence"]),
            }
            for r in rows
        ]

    async def recent_alerts(self, limit: int = 50) -> list[dict[str, Any]]:
        """Unacknowledged alerts first, then the latest acknowledged ones."""
        rows = await self.pool.fetch(
            f"SELECT {ALERT_COLUMNS} FROM alerts a"
            " WHERE acknowledged_at IS NULL OR acknowledged_at > now() - interval '12 hours'"
            " ORDER BY acknowledged_at IS NOT NULL, created_at DESC LIMIT $1",
            limit,
        )
        return [alert_frame(r) for r in rows]

    async def acknowledge_alert(self, alert_id: uuid.UUID, staff_id: int) -> dict[str, Any] | None:
        """Acknowledge once (the first supervisor wins); None for an unknown alert."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "UPDATE alerts SET acknowledged_by = $2, acknowledged_at = now()"
                " WHERE id = $1 AND acknowledged_at IS NULL RETURNING id",
                alert_id,
                staff_id,
            )
            if row is not None:
                await conn.execute(
                    "INSERT INTO audit_log (staff_id, action, detail) VALUES ($1, $2, $3)",
                    staff_id,
                    "alert_acknowledged",
                    json.dumps({"alert": str(alert_id)}),
                )
            found = await conn.fetchrow(
                f"SELECT {ALERT_COLUMNS} FROM alerts a WHERE id = $1", alert_id
            )
        return alert_frame(found) if found else None

    async def reassess_risk(
        self, conversation_id: uuid.UUID, tier: RiskTier, staff_id: int, reason: str
    ) -> tuple[RiskTier, RiskTier] | None:
        """Set the tier (raise or lower) with an audit row; (previous, new) or None.

        The only way a tier goes down: an explicit, reasoned, audited act.
        """
        async with self.pool.acquire() as conn, conn.transaction():
            previous = await conn.fetchval(
                "SELECT risk_tier FROM conversations WHERE id = $1 FOR UPDATE", conversation_id
            )
            if previous is None:
                return None
            await conn.execute(
                "UPDATE conversations SET risk_tier = $2 WHERE id = $1", conversation_id, int(tier)
            )
            await conn.execute(
                "INSERT INTO audit_log (staff_id, action, conversation_id, detail)"
                " VALUES ($1, 'risk_reassessed', $2, $3)",
                staff_id,
                conversation_id,
                json.dumps({"from": RiskTier(previous).label, "to": tier.label, "reason": reason}),
            )
        return RiskTier(previous), tier

    async def add_note(
        self, conversation_id: uuid.UUID, staff_id: int, body: str
    ) -> dict[str, Any]:
        return await self._add_staff_text("conversation_notes", conversation_id, staff_id, body)

    async def notes(self, conversation_id: uuid.UUID) -> list[dict[str, Any]]:
        return await self._staff_texts("conversation_notes", conversation_id)

    async def add_whisper(
        self, conversation_id: uuid.UUID, staff_id: int, body: str
    ) -> dict[str, Any]:
        return await self._add_staff_text("whispers", conversation_id, staff_id, body)

    async def whispers(self, conversation_id: uuid.UUID) -> list[dict[str, Any]]:
        return await self._staff_texts("whispers", conversation_id)

    async def _add_staff_text(
        self, table: str, conversation_id: uuid.UUID, staff_id: int, body: str
    ) -> dict[str, Any]:
        _check_staff_text_table(table)
        row = await self.pool.fetchrow(
            f"WITH t AS (INSERT INTO {table} (conversation_id, staff_id, body)"
            " VALUES ($1, $2, $3) RETURNING *)"
            " SELECT t.*, s.display_name FROM t JOIN staff s ON s.id = t.staff_id",
            conversation_id,
            staff_id,
            body,
        )
        assert row is not None
        return staff_text_frame(row)

    async def _staff_texts(self, table: str, conversation_id: uuid.UUID) -> list[dict[str, Any]]:
        _check_staff_text_table(table)
        rows = await self.pool.fetch(
            f"SELECT t.*, s.display_name FROM {table} t JOIN staff s"
            " ON s.id = t.staff_id WHERE conversation_id = $1 ORDER BY t.id",
            conversation_id,
        )
        return [staff_text_frame(r) for r in rows]

    async def canned_responses(self, line_id: str, lang: str | None = None) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            "SELECT id, line_id, lang, shortcut, title, body FROM canned_responses"
            " WHERE line_id = $1 AND ($2::text IS NULL OR lang = $2) ORDER BY lang, shortcut",
            line_id,
            lang,
        )
        return [dict(r) for r in rows]

    async def canned_response(self, canned_id: int) -> dict[str, Any] | None:
        row = await self.pool.fetchrow(
            "SELECT id, line_id, lang, shortcut, title, body FROM canned_responses WHERE id = $1",
            canned_id,
        )
        return dict(row) if row else None

    async def save_canned_response(
        self,
        staff_id: int,
        line_id: str,
        lang: str,
        shortcut: str,
        title: str,
        body: str,
        canned_id: int | None = None,
    ) -> dict[str, Any] | None:
        """Create (no ``canned_id``) or update; None when the shortcut is taken."""
        try:
            if canned_id is None:
                row = await self.pool.fetchrow(
                    "INSERT INTO canned_responses (line_id, lang, shortcut, title, body,"
                    " updated_by) VALUES ($1, $2, $3, $4, $5, $6)"
                    " RETURNING id, line_id, lang, shortcut, title, body",
                    line_id,
                    lang,
                    shortcut,
                    title,
                    body,
                    staff_id,
                )
            else:
                row = await self.pool.fetchrow(
                    "UPDATE canned_responses SET line_id = $1, lang = $2, shortcut = $3,"
                    " title = $4, body = $5, updated_by = $6, updated_at = now() WHERE id = $7"
                    " RETURNING id, line_id, lang, shortcut, title, body",
                    line_id,
                    lang,
                    shortcut,
                    title,
                    body,
                    staff_id,
                    canned_id,
                )
        except asyncpg.UniqueViolationError:
            return None
        return dict(row) if row else None

    async def delete_canned_response(self, canned_id: int) -> bool:
        deleted = await self.pool.fetchval(
            "DELETE FROM canned_responses WHERE id = $1 RETURNING id", canned_id
        )
        return deleted is not None

    async def referrals(self, line_id: str) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            "SELECT id, line_id, category, name, description, phone, url FROM referrals"
            " WHERE line_id = $1 ORDER BY sort, id",
            line_id,
        )
        return [
            {**dict(r), "name": json.loads(r["name"]), "description": json.loads(r["description"])}
            for r in rows
        ]

    async def add_referral(
        self,
        line_id: str,
        category: str,
        name: dict[str, str],
        description: dict[str, str],
        phone: str | None,
        url: str | None,
        sort: int = 0,
    ) -> int:
        value = await self.pool.fetchval(
            "INSERT INTO referrals (line_id, category, name, description, phone, url, sort)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            line_id,
            category,
            json.dumps(name),
            json.dumps(description),
            phone,
            url,
            sort,
        )
        return int(value)

    async def wrap_up_topics(self, line_id: str) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            "SELECT id, label FROM wrap_up_topics WHERE line_id = $1 ORDER BY sort, id", line_id
        )
        return [{"id": r["id"], "label": json.loads(r["label"])} for r in rows]

    async def set_wrap_up_topics(self, line_id: str, topics: Sequence[dict[str, Any]]) -> None:
        """Replace a line's topic categories (past wrap-ups keep their topic ids)."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM wrap_up_topics WHERE line_id = $1", line_id)
            await conn.executemany(
                "INSERT INTO wrap_up_topics (line_id, id, label, sort) VALUES ($1, $2, $3, $4)",
                [(line_id, t["id"], json.dumps(t["label"]), n) for n, t in enumerate(topics)],
            )

    async def wrap_up_with_summary(
        self,
        conversation_id: uuid.UUID,
        staff_id: int,
        reason: str,
        topics: Sequence[str],
        outcome: str | None,
        risk_tier: RiskTier | None,
    ) -> Conversation | None:
        """End an active conversation and keep the counsellor's wrap-up, atomically."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "UPDATE conversations SET state = 'wrapped_up', ended_at = now(), end_reason = $3"
                " WHERE id = $1 AND state = 'active' AND counsellor_id = $2"
                f" RETURNING {_CONV_COLUMNS}",
                conversation_id,
                staff_id,
                reason,
            )
            if row is None:
                return None
            await conn.execute(
                "INSERT INTO wrap_ups (conversation_id, staff_id, topics, outcome, risk_tier)"
                " VALUES ($1, $2, $3, $4, $5)",
                conversation_id,
                staff_id,
                list(topics),
                outcome,
                None if risk_tier is None else int(risk_tier),
            )
        return _conversation(row)

    async def wrap_up_record(self, conversation_id: uuid.UUID) -> dict[str, Any] | None:
        row = await self.pool.fetchrow(
            "SELECT staff_id, topics, outcome, risk_tier, created_at FROM wrap_ups"
            " WHERE conversation_id = $1",
            conversation_id,
        )
        return dict(row) if row else None

    async def reassign(
        self, conversation_id: uuid.UUID, to_staff_id: int, from_staff_id: int | None = None
    ) -> tuple[Conversation, int | None] | None:
        """Give an active conversation to ``to_staff_id``; (conversation, previous holder).

        With ``from_staff_id`` only if that person still holds it (a transfer);
        without, whoever holds it (a supervisor taking over).
        """
        async with self.pool.acquire() as conn, conn.transaction():
            previous = await conn.fetchrow(
                "SELECT counsellor_id FROM conversations WHERE id = $1 AND state = 'active'"
                " FOR UPDATE",
                conversation_id,
            )
            if previous is None or (
                from_staff_id is not None and previous["counsellor_id"] != from_staff_id
            ):
                return None
            row = await conn.fetchrow(
                f"UPDATE conversations SET counsellor_id = $2 WHERE id = $1"
                f" RETURNING {_CONV_COLUMNS}",
                conversation_id,
                to_staff_id,
            )
        assert row is not None
        return _conversation(row), previous["counsellor_id"]

    async def requeue(
        self, conversation_id: uuid.UUID, from_staff_id: int, line_id: str
    ) -> Conversation | None:
        """Put an active conversation back in the queue, possibly of another line.

        It keeps its arrival time, so the caller is not sent to the back.
        """
        row = await self.pool.fetchrow(
            "UPDATE conversations SET state = 'queued', counsellor_id = NULL, accepted_at = NULL,"
            " line_id = $3 WHERE id = $1 AND state = 'active' AND counsellor_id = $2"
            f" AND caller_ended_at IS NULL RETURNING {_CONV_COLUMNS}",
            conversation_id,
            from_staff_id,
            line_id,
        )
        return _conversation(row) if row else None

    async def active_conversations(self) -> list[tuple[Conversation, str | None]]:
        """Every active conversation with its counsellor's display name."""
        rows = await self.pool.fetch(
            f"SELECT {', '.join('c.' + c.strip() for c in _CONV_COLUMNS.split(','))},"
            " s.display_name FROM conversations c LEFT JOIN staff s ON s.id = c.counsellor_id"
            " WHERE c.state = 'active' ORDER BY c.risk_tier DESC, c.accepted_at"
        )
        return [(_conversation(r), r["display_name"]) for r in rows]

    async def line_settings(self) -> dict[str, dict[str, Any]]:
        rows = await self.pool.fetch("SELECT id, settings FROM lines ORDER BY id")
        return {r["id"]: json.loads(r["settings"]) for r in rows}
