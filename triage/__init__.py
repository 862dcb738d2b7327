"""Crisis triage: assess a caller's message for risk, with reasons (docs/triage.md).

Pure core: no I/O at assessment time, no clock, no module state. Typical use::

    engine = load_engine()          # reads triage/lexicons/*.toml once
    assessment = engine.assess(text, lang="sv", context=earlier_messages)
"""

from __future__ import annotations

from triage.engine import Engine, assess, default_engine, load_engine
from triage.model import Assessment, Evidence, RiskTier

__all__ = [
    "Assessment",
    "Engine",
    "Evidence",
    "RiskTier",
    "assess",
    "default_engine",
    "load_engine",
]
