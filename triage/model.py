"""Value types of the triage engine: tiers, evidence and assessments (docs/triage.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

CATEGORIES: tuple[str, ...] = ("suicide", "self_harm", "overdose", "violence", "abuse")


class RiskTier(IntEnum):
    """How urgently a counsellor must act; ordered so that tiers compare with < and max()."""

    NONE = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    IMMINENT = 4

    @property
    def label(self) -> str:
        """The lower-case name used in data files and JSON (`"high"`)."""
        return self.name.lower()

    @classmethod
    def parse(cls, label: str) -> RiskTier:
        """The tier named `label` (case-insensitive); raises ValueError for unknown names."""
        try:
            return cls[label.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown risk tier {label!r}") from None


@dataclass(frozen=True, slots=True)
class Evidence:
    """One matched span and what the engine made of it.

    `start`/`end` are offsets into the original string (`text[start:end]`); `source`
    is None for the assessed message and `i` for `context[i]`. `effect` is
    `counted` when the match raised the tier, otherwise why it was discounted
    (`negated`, `idiom`, `past`, `hypothetical`, `levity`, `benign_frame`).
    """

    start: int
    end: int
    text: str
    rule_id: str
    signal: str
    category: str | None
    tier: RiskTier
    effect: str
    reason: str
    lang: str
    source: int | None = None

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict; `tier` as its label."""
        return {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "rule_id": self.rule_id,
            "signal": self.signal,
            "category": self.category,
            "tier": self.tier.label,
            "effect": self.effect,
            "reason": self.reason,
            "lang": self.lang,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class Assessment:
    """The engine's verdict on one message, with everything needed to explain it."""

    tier: RiskTier
    score: float
    categories: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    reasons: tuple[str, ...]
    language: str | None = None
    rules_fired: tuple[str, ...] = field(default=())

    @property
    def urgent(self) -> bool:
        """True when the message must jump the queue and alert a supervisor."""
        return self.tier >= RiskTier.HIGH

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict (version 1 of the documented shape in docs/triage.md)."""
        return {
            "version": 1,
            "tier": self.tier.label,
            "score": round(self.score, 4),
            "categories": list(self.categories),
            "language": self.language,
            "reasons": list(self.reasons),
            "rules_fired": list(self.rules_fired),
            "evidence": [e.to_json() for e in self.evidence],
        }
