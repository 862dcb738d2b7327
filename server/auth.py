"""Staff authentication: argon2id passwords, session cookies, CSRF tokens, Origin checks."""

from __future__ import annotations

import asyncio
import hmac
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.datastructures import Headers

from server.config import Settings
from server.models import Staff
from server.store import Store

SESSION_COOKIE: Final = "helpline_session"
CSRF_HEADER: Final = "x-csrf-token"

# argon2-cffi's defaults are argon2id with RFC 9106's low-memory profile.
_hasher = PasswordHasher()
# Verified against when the username is unknown, so both paths cost the same.
_DUMMY_HASH: Final = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def check() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False

    # argon2 is deliberately slow; keep it off the event loop.
    return await asyncio.to_thread(check)


def origin_allowed(headers: Headers, scheme: str, settings: Settings) -> bool:
    """Browsers always send Origin on websockets and cross-site posts; check it.

    A request without Origin comes from a non-browser client (an SMS gateway,
    a test), which cannot be tricked into riding a staff member's cookie.
    """
    origin = headers.get("origin")
    if origin is None:
        return True
    if settings.allowed_origins:
        return origin in settings.allowed_origins
    host = headers.get("host", "")
    http_scheme = {"ws": "http", "wss": "https"}.get(scheme, scheme)
    return origin == f"{http_scheme}://{host}"


async def staff_from_cookie(store: Store, cookies: dict[str, str]) -> tuple[Staff, str] | None:
    token = cookies.get(SESSION_COOKIE)
    if not token or len(token) > 200:
        return None
    return await store.session(token)


def csrf_ok(expected: str, headers: Headers) -> bool:
    supplied = headers.get(CSRF_HEADER, "")
    return hmac.compare_digest(expected.encode(), supplied.encode())
