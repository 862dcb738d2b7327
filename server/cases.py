"""Asynchronous cases and post-chat ratings: the caller widget's HTTP side (docs/widget.md).

A caller who cannot (or would rather not) wait for a live chat leaves a
question and gets a *case code* of three pronounceable words. With the code
they come back later, read the answer and follow up. We keep only a slow hash
of the code, and nothing that identifies the caller.

Ratings: after a chat has ended the widget may post a score (1-5) and a
comment, once per conversation, proven by the conversation token.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import asyncpg
import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.auth import origin_allowed
from server.http_api import error, json_body, services_of
from server.models import LANGUAGES, Staff
from server.ratelimit import TokenBucket
from server.services import Services
from server.staff_http import signed_in

log = structlog.get_logger(__name__)

# -- case codes ------------------------------------------------------------------

_CONSONANTS: Final = "bdfghklmnprstv"
_VOWELS: Final = "aeiou"
# Pseudo-words that read as rude or upsetting in Swedish, Danish or English
# (or a neighbouring language a caller may know) are never part of a code.
_DENIED: Final = frozenset(
    [
        "homo",
        "rape",
        "pule",
        "pula",
        "kuke",
        "kuka",
        "kuko",
        "puta",
        "pito",
        "piko",
        "pike",
        "fita",
        "fite",
        "kaki",
        "pisa",
        "pise",
        "pisi",
        "piso",
        "dode",
        "dodo",
        "muta",
        "mute",
        "lort",
        "sade",
        "dumi",
        "dumo",
        "kuse",
        "nigo",
        "nige",
        "sata",
        "sate",
        "tisi",
        "tise",
        "kuta",
        "bita",
        "bite",
    ]
)
WORDS_PER_CODE: Final = 3
# 2048 words: 11 bits each, 33 bits for three.
WORD_COUNT: Final = 2048


def _word_list() -> tuple[str, ...]:
    """2048 consonant-vowel-consonant-vowel words: no å/ä/ö/æ/ø, easy to write down.

    Chosen deterministically (ordered by a hash) so every process agrees; codes
    are stored as hashes of their text, so changing the list never breaks an
    existing code.
    """
    candidates = [
        c1 + v1 + c2 + v2
        for c1 in _CONSONANTS
        for v1 in _VOWELS
        for c2 in _CONSONANTS
        for v2 in _VOWELS
        if c1 + v1 + c2 + v2 not in _DENIED
    ]
    candidates.sort(key=lambda w: hashlib.sha256(w.encode()).digest())
    return tuple(sorted(candidates[:WORD_COUNT]))


WORDS: Final = _word_list()

# scrypt with a fixed salt: deterministic (so the hash can be looked up by an
# index) but ~50 ms per guess, so a leaked table cannot be reversed by trying
# all 2^33 codes in an afternoon. A uniqueness of the code is checked on insert.
_SCRYPT_SALT: Final = b"helpline-case-code-v1"
_SCRYPT_N: Final = 2**14


def new_code() -> str:
    return "-".join(secrets.choice(WORDS) for _ in range(WORDS_PER_CODE))


def normalise_code(raw: str) -> str | None:
    """Accept the code however it was written down: case, spaces, dots, dashes."""
    parts = [p for p in re.split(r"[^a-z]+", raw.strip().lower()) if p]
    if len(parts) != WORDS_PER_CODE or any(len(p) > 12 for p in parts):
        return None
    return "-".join(parts)


def hash_code(code: str) -> bytes:
    return hashlib.scrypt(code.encode(), salt=_SCRYPT_SALT, n=_SCRYPT_N, r=8, p=1, dklen=32)


async def hash_code_async(code: str) -> bytes:
    # scrypt is deliberately slow; keep it off the event loop.
    return await asyncio.to_thread(hash_code, code)


# -- rate limits -------------------------------------------------------------------

# Lookups guess at a 33-bit secret: allow a person a few tries, and cap the
# whole process so that even many addresses together guess slowly.
LOOKUP_PER_CLIENT_PER_S: Final = 10 / 60
LOOKUP_PER_CLIENT_BURST: Final = 10
LOOKUP_GLOBAL_PER_S: Final = 5.0
LOOKUP_GLOBAL_BURST: Final = 10
# Creating cases and ratings: generous for people, a wall for scripts.
WRITE_PER_CLIENT_PER_S: Final = 1.0
WRITE_PER_CLIENT_BURST: Final = 10
# Bounded memory: past this many tracked clients the table starts afresh.
MAX_TRACKED_CLIENTS: Final = 10_000
MAX_COMMENT_CHARS: Final = 2000


@dataclass
class CaseLimits:
    """Token buckets keyed by a salted hash of the client address, in memory only.

    The address is never stored or logged; the salt is per process, so the keys
    mean nothing outside it.
    """

    salt: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    lookup_global: TokenBucket = field(
        default_factory=lambda: TokenBucket(LOOKUP_GLOBAL_PER_S, LOOKUP_GLOBAL_BURST)
    )
    per_client: dict[tuple[str, bytes], TokenBucket] = field(default_factory=dict)

    def _key(self, request: Request) -> bytes:
        host = request.client.host if request.client else ""
        return hashlib.blake2b(host.encode(), key=self.salt, digest_size=16).digest()

    def allow(self, request: Request, kind: str) -> bool:
        now = time.monotonic()
        if len(self.per_client) > MAX_TRACKED_CLIENTS:
            self.per_client.clear()
        key = (kind, self._key(request))
        bucket = self.per_client.get(key)
        if bucket is None:
            if kind == "lookup":
                bucket = TokenBucket(LOOKUP_PER_CLIENT_PER_S, LOOKUP_PER_CLIENT_BURST)
            else:
                bucket = TokenBucket(WRITE_PER_CLIENT_PER_S, WRITE_PER_CLIENT_BURST)
            self.per_client[key] = bucket
        if not bucket.allow(now):
            return False
        return kind != "lookup" or self.lookup_global.allow(now)


def _limits(services: Services) -> CaseLimits:
    limits = services.extras.get("case_limits")
    if not isinstance(limits, CaseLimits):
        limits = CaseLimits()
        services.extras["case_limits"] = limits
    return limits


# -- storage -------------------------------------------------------------------------


class CaseClosed(Exception):
    pass


@dataclass(frozen=True)
class CaseMessage:
    seq: int
    sender: str
    body: str
    created_at: datetime

    def public(self) -> dict[str, Any]:
        # Staff are shown by role only: the caller never learns a name.
        return {
            "seq": self.seq,
            "from": self.sender,
            "text": self.body,
            "at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class Case:
    id: uuid.UUID
    line_id: str
    lang: str
    state: str
    created_at: datetime
    updated_at: datetime
    messages: list[CaseMessage]

    def public(self) -> dict[str, Any]:
        return {
            "line": self.line_id,
            "lang": self.lang,
            "state": self.state,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "messages": [m.public() for m in self.messages],
        }

    def for_staff(self) -> dict[str, Any]:
        return {"id": str(self.id), **self.public()}


class CaseStore:
    """Every SQL statement about cases and ratings."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def create(
        self, line_id: str, lang: str, code_hash: bytes, text: str
    ) -> uuid.UUID | None:
        """Insert a case with its first message; None if the code hash is taken."""
        async with self.pool.acquire() as conn, conn.transaction():
            case_id = await conn.fetchval(
                "INSERT INTO cases (line_id, lang, code_hash, last_seq) VALUES ($1, $2, $3, 1)"
                " ON CONFLICT (code_hash) DO NOTHING RETURNING id",
                line_id,
                lang,
                code_hash,
            )
            if case_id is None:
                return None
            await conn.execute(
                "INSERT INTO case_messages (case_id, seq, sender, body)"
                " VALUES ($1, 1, 'caller', $2)",
                case_id,
                text,
            )
            return uuid.UUID(str(case_id))

    async def _load(self, conn: asyncpg.Connection, row: asyncpg.Record) -> Case:
        rows = await conn.fetch(
            "SELECT seq, sender, body, created_at FROM case_messages WHERE case_id = $1"
            " ORDER BY seq",
            row["id"],
        )
        return Case(
            id=row["id"],
            line_id=row["line_id"],
            lang=row["lang"],
            state=row["state"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            messages=[CaseMessage(r["seq"], r["sender"], r["body"], r["created_at"]) for r in rows],
        )

    async def by_code_hash(self, code_hash: bytes) -> Case | None:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow("SELECT * FROM cases WHERE code_hash = $1", code_hash)
            return await self._load(conn, row) if row else None

    async def by_id(self, case_id: uuid.UUID) -> Case | None:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow("SELECT * FROM cases WHERE id = $1", case_id)
            return await self._load(conn, row) if row else None

    async def append(
        self,
        where: tuple[str, Any],
        sender: str,
        text: str,
        staff_id: int | None,
        new_state: str,
    ) -> Case | None:
        """Add a message under the case's row lock (gapless seq); None if no such case."""
        column, value = where
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                f"SELECT * FROM cases WHERE {column} = $1 FOR UPDATE",  # column is ours
                value,
            )
            if row is None:
                return None
            if row["state"] == "closed":
                raise CaseClosed(str(row["id"]))
            await conn.execute(
                "INSERT INTO case_messages (case_id, seq, sender, staff_id, body)"
                " VALUES ($1, $2, $3, $4, $5)",
                row["id"],
                row["last_seq"] + 1,
                sender,
                staff_id,
                text,
            )
            updated = await conn.fetchrow(
                "UPDATE cases SET last_seq = last_seq + 1, state = $2, updated_at = now()"
                " WHERE id = $1 RETURNING *",
                row["id"],
                new_state,
            )
            return await self._load(conn, updated)

    async def open_cases(self, staff: Staff, limit: int = 100) -> list[Case]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT * FROM cases WHERE state = 'open'"
                " AND (cardinality($1::text[]) = 0 OR line_id = ANY($1::text[]))"
                " ORDER BY updated_at LIMIT $2",
                staff.line_ids,
                limit,
            )
            return [await self._load(conn, r) for r in rows]

    async def rate(
        self, conversation_id: uuid.UUID, line_id: str, score: int | None, comment: str
    ) -> bool:
        """Store the conversation's one rating; False if it was already rated."""
        inserted = await self.pool.fetchval(
            "INSERT INTO ratings (conversation_id, line_id, score, comment)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (conversation_id) DO NOTHING"
            " RETURNING conversation_id",
            conversation_id,
            line_id,
            score,
            comment,
        )
        return inserted is not None


# -- live hints to staff -------------------------------------------------------------

# Every staff socket listens here (server/staff_ws.py) and forwards the events
# of the lines its staff member serves. Only a hint: no caller text crosses the
# bus; the console fetches GET /api/staff/cases when one arrives.
CASES_CHANNEL: Final = "cases"


async def _announce(
    services: Services, case_id: uuid.UUID, line_id: str, lang: str, state: str, change: str
) -> None:
    """Tell staff that a case appeared, was followed up, answered or closed."""
    await services.bus.publish(
        CASES_CHANNEL,
        {
            "type": "case",
            "case": str(case_id),
            "line": line_id,
            "lang": lang,
            "state": state,
            "change": change,
        },
    )


# -- HTTP ---------------------------------------------------------------------------


def _text(body: dict[str, Any], max_chars: int) -> str | None:
    text = body.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > max_chars:
        return None
    return text


async def _caller_request(
    request: Request, kind: str
) -> tuple[Services, dict[str, Any]] | JSONResponse:
    """Origin check, rate limit and JSON body shared by the caller endpoints."""
    services = services_of(request)
    if not origin_allowed(request.headers, request.url.scheme, services.settings):
        return error(403, "bad_origin", "request from a foreign origin")
    if not _limits(services).allow(request, kind):
        return error(429, "rate_limited", "too many attempts; wait a minute and try again")
    body = await json_body(request, limit=64 * 1024)
    if body is None:
        return error(400, "bad_request", "send a JSON object")
    return services, body


async def create_case(request: Request) -> Response:
    """``POST /api/cases`` {line, lang, text} -> {code}: leave a question."""
    checked = await _caller_request(request, "write")
    if isinstance(checked, JSONResponse):
        return checked
    services, body = checked
    line_id, lang = body.get("line"), body.get("lang")
    text = _text(body, services.settings.max_text_chars)
    if not isinstance(line_id, str) or not isinstance(lang, str) or text is None:
        return error(400, "bad_request", "send line, lang and a text within the limit")
    line = await services.store.get_line(line_id)
    if line is None:
        return error(404, "unknown_line", "no such line")
    if lang not in line.languages or lang not in LANGUAGES:
        return error(400, "unsupported_language", "this line does not speak that language")
    cases = CaseStore(services.pool)
    for _ in range(5):  # a collision in 2^33 is rare; five in a row is a bug
        code = new_code()
        case_id = await cases.create(line.id, lang, await hash_code_async(code), text)
        if case_id is not None:
            log.info("case_created", line=line.id, lang=lang)
            await _announce(services, case_id, line.id, lang, "open", "created")
            return JSONResponse({"code": code}, status_code=201)
    return error(503, "try_again", "could not make a code; try again")


async def lookup_case(request: Request) -> Response:
    """``POST /api/cases/lookup`` {code} -> the case and its messages."""
    checked = await _caller_request(request, "lookup")
    if isinstance(checked, JSONResponse):
        return checked
    services, body = checked
    raw = body.get("code")
    code = normalise_code(raw) if isinstance(raw, str) else None
    if code is None:
        return error(400, "bad_code", "a code is three words")
    case = await CaseStore(services.pool).by_code_hash(await hash_code_async(code))
    if case is None:
        return error(404, "unknown_code", "no case with that code")
    return JSONResponse({"case": case.public()})


async def reply_case(request: Request) -> Response:
    """``POST /api/cases/reply`` {code, text}: the caller follows up."""
    checked = await _caller_request(request, "lookup")
    if isinstance(checked, JSONResponse):
        return checked
    services, body = checked
    raw = body.get("code")
    code = normalise_code(raw) if isinstance(raw, str) else None
    text = _text(body, services.settings.max_text_chars)
    if code is None or text is None:
        return error(400, "bad_request", "send the code and a text within the limit")
    code_hash = await hash_code_async(code)
    try:
        case = await CaseStore(services.pool).append(
            ("code_hash", code_hash), "caller", text, None, "open"
        )
    except CaseClosed:
        return error(409, "case_closed", "this case is closed")
    if case is None:
        return error(404, "unknown_code", "no case with that code")
    await _announce(services, case.id, case.line_id, case.lang, case.state, "followed_up")
    return JSONResponse({"case": case.public()})


async def staff_cases(request: Request) -> Response:
    """``GET /api/staff/cases``: open cases on the lines this staff member serves."""
    staff = await signed_in(request)
    if isinstance(staff, JSONResponse):
        return staff
    services = services_of(request)
    cases = await CaseStore(services.pool).open_cases(staff)
    await services.store.audit(staff.id, "cases_read", None, {"cases": len(cases)})
    return JSONResponse({"cases": [c.for_staff() for c in cases]})


async def staff_answer(request: Request) -> Response:
    """``POST /api/staff/cases/{id}/answer`` {text, close?}: answer a case."""
    staff = await signed_in(request)
    if isinstance(staff, JSONResponse):
        return staff
    services = services_of(request)
    try:
        case_id = uuid.UUID(request.path_params["case_id"])
    except ValueError:
        return error(404, "unknown_case", "no such case")
    body = await json_body(request, limit=64 * 1024)
    text = _text(body, services.settings.max_text_chars) if body is not None else None
    if body is None or text is None:
        return error(400, "bad_request", "send a text within the limit")
    cases = CaseStore(services.pool)
    existing = await cases.by_id(case_id)
    if existing is None or not staff.serves(existing.line_id):
        return error(404, "unknown_case", "no such case")
    state = "closed" if body.get("close") is True else "answered"
    try:
        case = await cases.append(("id", case_id), "counsellor", text, staff.id, state)
    except CaseClosed:
        return error(409, "case_closed", "this case is closed")
    if case is None:
        return error(404, "unknown_case", "no such case")
    await services.store.audit(staff.id, "case_answered", None, {"case": str(case_id)})
    await _announce(services, case.id, case.line_id, case.lang, case.state, "answered")
    return JSONResponse({"case": case.for_staff()})


async def rate_conversation(request: Request) -> Response:
    """``POST /api/rating`` {token, score?, comment?}: once, after the chat ended."""
    checked = await _caller_request(request, "write")
    if isinstance(checked, JSONResponse):
        return checked
    services, body = checked
    token, score, comment = body.get("token"), body.get("score"), body.get("comment", "")
    if not isinstance(token, str) or not 22 <= len(token) <= 128:
        return error(400, "bad_request", "send the conversation token")
    if score is not None and (
        not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5
    ):
        return error(400, "bad_request", "score is a whole number from 1 to 5")
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT_CHARS:
        return error(400, "bad_request", f"comment is text of at most {MAX_COMMENT_CHARS}")
    if score is None and not comment.strip():
        return error(400, "bad_request", "send a score or a comment")
    conv = await services.store.conversation_by_token(token)
    if conv is None:
        return error(404, "unknown_token", "unknown conversation")
    if conv.state.is_open and conv.caller_ended_at is None:
        return error(409, "not_ended", "rate the chat after it has ended")
    stored = await CaseStore(services.pool).rate(conv.id, conv.line_id, score, comment.strip())
    if not stored:
        return error(409, "already_rated", "this chat has already been rated")
    return JSONResponse({"status": "thanks"}, status_code=201)
