"""Value types of the triage engine: tiers, evidence and assessments (docs/triage.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Protocol

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


class Explanation(Protocol):
    """What an engine hands to `ExplainedOnDemand` instead of ready-made evidence
    and reasons: it builds both when, and only when, someone reads one."""

    def build(self) -> tuple[tuple[Evidence, ...], tuple[str, ...]]: ...


class ExplainedOnDemand(Assessment):
    """An `Assessment` whose `evidence` and `reasons` are built on first access.

    Tier, score, categories, language and rules are decided eagerly; the
    explanation (a frozen object per match and a sentence per reason) is most of
    the cost of a risky message, and many callers (queue ordering, evaluation)
    never read it. It reads, compares, hashes, prints and pickles like an
    `Assessment` with the same field values (a pickled copy is a plain
    `Assessment`).
    """

    __slots__ = ("_evidence", "_explanation", "_reasons")

    _explanation: Explanation | None
    _evidence: tuple[Evidence, ...] | None
    _reasons: tuple[str, ...] | None

    @classmethod
    def create(
        cls,
        tier: RiskTier,
        score: float,
        categories: tuple[str, ...],
        language: str | None,
        rules_fired: tuple[str, ...],
        explanation: Explanation,
    ) -> ExplainedOnDemand:
        """The assessment, with `explanation.build()` deferred to the first read."""
        assessment = object.__new__(cls)
        init = object.__setattr__
        init(assessment, "tier", tier)
        init(assessment, "score", score)
        init(assessment, "categories", categories)
        init(assessment, "language", language)
        init(assessment, "rules_fired", rules_fired)
        init(assessment, "_explanation", explanation)
        init(assessment, "_evidence", None)
        init(assessment, "_reasons", None)
        return assessment

    def _explain(self) -> None:
        explanation = self._explanation
        if explanation is not None:
            evidence, reasons = explanation.build()
            init = object.__setattr__
            init(self, "_evidence", evidence)
            init(self, "_reasons", reasons)
            init(self, "_explanation", None)

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        """As `Assessment.evidence` (built on first access)."""
        if self._evidence is None:
            self._explain()
        assert self._evidence is not None
        return self._evidence

    @evidence.setter
    def evidence(self, value: tuple[Evidence, ...]) -> None:
        # Reached only through object.__setattr__ (dataclasses.replace, unpickling):
        # the frozen dataclass's own __setattr__ still refuses ordinary assignment.
        object.__setattr__(self, "_evidence", value)

    @property
    def reasons(self) -> tuple[str, ...]:
        """As `Assessment.reasons` (built on first access)."""
        if self._reasons is None:
            self._explain()
        assert self._reasons is not None
        return self._reasons

    @reasons.setter
    def reasons(self, value: tuple[str, ...]) -> None:
        object.__setattr__(self, "_reasons", value)

    def _fields(self) -> tuple[object, ...]:
        return (
            self.tier,
            self.score,
            self.categories,
            self.evidence,
            self.reasons,
            self.language,
            self.rules_fired,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Assessment):
            return NotImplemented
        return self._fields() == (
            other.tier,
            other.score,
            other.categories,
            other.evidence,
            other.reasons,
            other.language,
            other.rules_fired,
        )

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return Assessment.__repr__(self).replace(type(self).__qualname__, "Assessment", 1)

    def __reduce__(self) -> tuple[type[Assessment], tuple[object, ...]]:
        return Assessment, self._fields()
