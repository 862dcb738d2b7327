"""What the app holds while it runs, passed explicitly (no module globals)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg

from server.bus import Bus
from server.config import Settings
from server.hub import Hub
from server.store import Store


@dataclass
class Services:
    settings: Settings
    pool: asyncpg.Pool
    store: Store
    bus: Bus
    hub: Hub
    # Keeps the embedded PostgreSQL alive for as long as the app runs.
    embedded: Any = None
    extras: dict[str, Any] = field(default_factory=dict)
