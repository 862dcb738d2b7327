"""Plain records shared by the storage layer, the hub and the HTTP API."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# The one tier type, shared with the triage engine.
from triage.model import RiskTier as RiskTier


class ConversationState(enum.StrEnum):
    QUEUED = "queued"
    ACTIVE = "active"
    WRAPPED_UP = "wrapped_up"
    ABANDONED = "abandoned"

    @property
    def is_open(self) -> bool:
        return self in (ConversationState.QUEUED, ConversationState.ACTIVE)


class StaffRole(enum.StrEnum):
    COUNSELLOR = "counsellor"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Sender(enum.StrEnum):
    CALLER = "caller"
    COUNSELLOR = "counsellor"
    SUPERVISOR = "supervisor"
    SYSTEM = "system"


LANGUAGES = ("sv", "da", "en")


@dataclass(frozen=True)
class Line:
    id: str
    name: dict[str, str]
    audience: dict[str, str]
    languages: list[str]
    time_zone: str
    emergency: dict[str, Any]
    exit_url: str

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "audience": self.audience,
            "languages": self.languages,
            "time_zone": self.time_zone,
            "emergency": self.emergency,
            "exit_url": self.exit_url,
        }


@dataclass(frozen=True)
class Staff:
    id: int
    username: str
    display_name: str
    role: StaffRole
    capacity: int
    line_ids: list[str]

    def serves(self, line_id: str) -> bool:
        return not self.line_ids or line_id in self.line_ids

    @property
    def is_supervisor(self) -> bool:
        return self.role in (StaffRole.SUPERVISOR, StaffRole.ADMIN)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role.value,
            "capacity": self.capacity,
            "lines": self.line_ids,
        }


@dataclass(frozen=True)
class Conversation:
    id: uuid.UUID
    line_id: str
    lang: str
    state: ConversationState
    risk_tier: RiskTier
    counsellor_id: int | None
    last_seq: int
    queued_at: datetime
    accepted_at: datetime | None
    caller_ended_at: datetime | None
    ended_at: datetime | None


@dataclass(frozen=True)
class StoredMessage:
    conversation_id: uuid.UUID
    seq: int
    sender: Sender
    client_id: str | None
    body: str
    created_at: datetime
    duplicate: bool = False

    def frame(self) -> dict[str, Any]:
        return {
            "type": "message",
            "conversation": str(self.conversation_id),
            "seq": self.seq,
            "from": self.sender.value,
            "id": self.client_id,
            "text": self.body,
            "at": self.created_at.isoformat(),
        }
