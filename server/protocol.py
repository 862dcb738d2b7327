"""Wire protocol v1: parsing and validating JSON frames (docs/protocol.md).

Pure: text in, a validated frame or a ``ProtocolError`` with a stable code out.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final

PROTOCOL_VERSION: Final = 1

# Stable error codes; clients switch on these, so never rename one.
BAD_JSON: Final = "bad_json"
BAD_FRAME: Final = "bad_frame"
UNKNOWN_TYPE: Final = "unknown_type"
UNSUPPORTED_VERSION: Final = "unsupported_version"
TOO_LARGE: Final = "too_large"
RATE_LIMITED: Final = "rate_limited"
UNKNOWN_LINE: Final = "unknown_line"
UNSUPPORTED_LANGUAGE: Final = "unsupported_language"
UNKNOWN_TOKEN: Final = "unknown_token"
NOT_STARTED: Final = "not_started"
ALREADY_STARTED: Final = "already_started"
CONVERSATION_CLOSED: Final = "conversation_closed"
NOT_PARTICIPANT: Final = "not_participant"
FORBIDDEN: Final = "forbidden"
NOT_ON_SHIFT: Final = "not_on_shift"
OFFER_GONE: Final = "offer_gone"
STORE_UNAVAILABLE: Final = "store_unavailable"
LINE_CLOSED: Final = "line_closed"
# Console and supervision (docs/console.md).
TRANSFER_REFUSED: Final = "transfer_refused"
UNKNOWN_ALERT: Final = "unknown_alert"

CALLER_TYPES: Final = frozenset({"start", "resume", "send", "typing", "end", "ping"})
# Console and supervision frames (docs/console.md); validated in ``_validate_console``.
CONSOLE_TYPES: Final = frozenset(
    {
        "reassess",
        "note",
        "transfer",
        "help",
        "whisper",
        "monitor",
        "join",
        "leave",
        "take_over",
        "ack_alert",
    }
)
# Frames whose subject is one conversation.
_CONVERSATION_FRAMES: Final = frozenset(
    {"reassess", "note", "transfer", "help", "whisper", "join", "leave", "take_over"}
)
TIERS: Final = ("none", "low", "medium", "high", "imminent")
OUTCOMES: Final = ("advice_given", "referred", "appointment_booked", "emergency_services")
# Staff-only texts (notes, whispers, reasons) are bounded like messages.
_REASON_CHARS: Final = 500
_TOPIC_ID = re.compile(r"^[a-z0-9_-]{1,40}$")
_LINE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
STAFF_TYPES: Final = frozenset(
    {
        "availability",
        "clock_in",
        "clock_out",
        "accept",
        "decline",
        "send",
        "typing",
        "end",
        "sync",
        "ping",
    }
    # Console and supervision frames (docs/console.md).
    | CONSOLE_TYPES
)
ALL_TYPES: Final = CALLER_TYPES | STAFF_TYPES

AVAILABILITY: Final = ("available", "paused", "away")
# Why a caller ended; a quick exit may mean someone walked in on them.
CALLER_END_REASONS: Final = ("caller", "quick_exit")

# Client message ids are opaque to us but bounded so they cannot bloat storage.
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_CONVERSATION_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# A caller-made token must carry at least 128 bits: 22 base64url characters.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{22,128}$")


@dataclass
class ProtocolError(Exception):
    code: str
    message: str
    ref: str | None = None
    # Extra fields for the client, e.g. a closed line's opening hours.
    detail: dict[str, Any] | None = None

    def frame(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "error", "code": self.code, "message": self.message}
        if self.ref is not None:
            out["ref"] = self.ref
        if self.detail:
            out.update(self.detail)
        return out


def parse_frame(raw: str | bytes, allowed: frozenset[str], max_text_chars: int) -> dict[str, Any]:
    """Decode and validate one frame; raise ``ProtocolError`` for anything wrong."""
    try:
        frame = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(BAD_JSON, "frame is not valid JSON") from exc
    if not isinstance(frame, dict):
        raise ProtocolError(BAD_FRAME, "frame must be a JSON object")
    ref = frame.get("id") if isinstance(frame.get("id"), str) else None
    version = frame.get("v", PROTOCOL_VERSION)
    if version != PROTOCOL_VERSION:
        raise ProtocolError(UNSUPPORTED_VERSION, f"protocol version {PROTOCOL_VERSION} only", ref)
    kind = frame.get("type")
    if not isinstance(kind, str):
        raise ProtocolError(BAD_FRAME, "frame needs a string 'type'", ref)
    if kind not in allowed:
        if kind in ALL_TYPES:
            raise ProtocolError(FORBIDDEN, f"'{kind}' is not allowed on this connection", ref)
        raise ProtocolError(UNKNOWN_TYPE, f"unknown frame type '{kind[:40]}'", ref)
    _validate(kind, frame, max_text_chars, ref)
    return frame


def _require_str(frame: dict[str, Any], key: str, ref: str | None) -> str:
    value = frame.get(key)
    if not isinstance(value, str) or not value:
        raise ProtocolError(BAD_FRAME, f"'{key}' must be a non-empty string", ref)
    return value


def _validate(kind: str, frame: dict[str, Any], max_text_chars: int, ref: str | None) -> None:
    if kind == "send":
        client_id = _require_str(frame, "id", ref)
        if not _CLIENT_ID.match(client_id):
            raise ProtocolError(BAD_FRAME, "'id' must be 1-64 of A-Z a-z 0-9 _ . : -", None)
        text = frame.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ProtocolError(BAD_FRAME, "'text' must be a non-empty string", ref)
        if len(text) > max_text_chars:
            raise ProtocolError(TOO_LARGE, f"text is over {max_text_chars} characters", ref)
    if kind == "start":
        _require_str(frame, "line", ref)
        _require_str(frame, "lang", ref)
        token = frame.get("token")
        if token is not None and (not isinstance(token, str) or not _TOKEN.match(token)):
            raise ProtocolError(BAD_FRAME, "'token' must be 22-128 base64url characters", ref)
    if kind == "resume":
        _require_str(frame, "token", ref)
        _nonneg_int(frame, "last_seq", ref)
    if kind == "end" and frame.get("reason", "caller") not in CALLER_END_REASONS:
        raise ProtocolError(BAD_FRAME, "'reason' must be caller or quick_exit", ref)
    if kind == "typing" and not isinstance(frame.get("on"), bool):
        raise ProtocolError(BAD_FRAME, "'on' must be true or false", ref)
    if kind == "availability" and frame.get("status") not in AVAILABILITY:
        raise ProtocolError(BAD_FRAME, f"'status' must be one of {', '.join(AVAILABILITY)}", ref)
    if kind in {"accept", "decline", "sync"} or (
        kind in {"send", "typing", "end"} and "conversation" in frame
    ):
        conv = frame.get("conversation")
        if not isinstance(conv, str) or not _CONVERSATION_ID.match(conv):
            raise ProtocolError(BAD_FRAME, "'conversation' must be a conversation id", ref)
    if kind == "sync":
        _nonneg_int(frame, "last_seq", ref)
    if kind == "end":
        _validate_wrap_up(frame, ref)
    if kind in CONSOLE_TYPES:
        _validate_console(kind, frame, max_text_chars, ref)


def _validate_wrap_up(frame: dict[str, Any], ref: str | None) -> None:
    """``end`` may carry the wrap-up: topics, outcome, the counsellor's risk tier."""
    topics = frame.get("topics", [])
    if not isinstance(topics, list) or len(topics) > 20:
        raise ProtocolError(BAD_FRAME, "'topics' must be a list of topic ids", ref)
    for topic in topics:
        if not isinstance(topic, str) or not _TOPIC_ID.match(topic):
            raise ProtocolError(BAD_FRAME, "'topics' must be a list of topic ids", ref)
    outcome = frame.get("outcome")
    # Older clients send a free-form outcome; only the console's fields are strict.
    if "topics" in frame and outcome is not None and outcome not in OUTCOMES:
        raise ProtocolError(BAD_FRAME, f"'outcome' must be one of {', '.join(OUTCOMES)}", ref)
    tier = frame.get("risk_tier")
    if tier is not None and tier not in TIERS:
        raise ProtocolError(BAD_FRAME, f"'risk_tier' must be one of {', '.join(TIERS)}", ref)


def _staff_text(frame: dict[str, Any], key: str, limit: int, ref: str | None) -> None:
    value = frame.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ProtocolError(BAD_FRAME, f"'{key}' must be a non-empty string", ref)
    if len(value) > limit:
        raise ProtocolError(TOO_LARGE, f"'{key}' is over {limit} characters", ref)


def _validate_console(
    kind: str, frame: dict[str, Any], max_text_chars: int, ref: str | None
) -> None:
    if kind in _CONVERSATION_FRAMES:
        conv = frame.get("conversation")
        if not isinstance(conv, str) or not _CONVERSATION_ID.match(conv):
            raise ProtocolError(BAD_FRAME, "'conversation' must be a conversation id", ref)
    if kind == "reassess":
        if frame.get("tier") not in TIERS:
            raise ProtocolError(BAD_FRAME, f"'tier' must be one of {', '.join(TIERS)}", ref)
        _staff_text(frame, "reason", _REASON_CHARS, ref)
    elif kind in {"note", "whisper"}:
        _staff_text(frame, "text", max_text_chars, ref)
    elif kind == "help":
        if "text" in frame:
            _staff_text(frame, "text", _REASON_CHARS, ref)
    elif kind == "transfer":
        to_staff, to_line = frame.get("to_staff"), frame.get("to_line")
        staff_ok = isinstance(to_staff, int) and not isinstance(to_staff, bool) and to_staff > 0
        line_ok = isinstance(to_line, str) and bool(_LINE_ID.match(to_line))
        if staff_ok == line_ok:
            raise ProtocolError(
                BAD_FRAME, "'transfer' needs either 'to_staff' (an id) or 'to_line'", ref
            )
    elif kind == "monitor":
        if not isinstance(frame.get("on"), bool):
            raise ProtocolError(BAD_FRAME, "'on' must be true or false", ref)
    elif kind == "ack_alert":
        alert = frame.get("alert")
        if not isinstance(alert, str) or not _CONVERSATION_ID.match(alert):
            raise ProtocolError(BAD_FRAME, "'alert' must be an alert id", ref)


def _nonneg_int(frame: dict[str, Any], key: str, ref: str | None) -> int:
    value = frame.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProtocolError(BAD_FRAME, f"'{key}' must be a non-negative integer", ref)
    return value
