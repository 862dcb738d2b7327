"""Value types of the triage engine: tiers, evidence and assessments (docs/triage.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
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
        return _TIER_LABELS[self]

    @classmethod
    def parse(cls, label: str) -> RiskTier:
        """The tier named `label` (case-insensitive); raises ValueError for unknown names."""
        try:
            return cls[label.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown risk tier {label!r}") from None


# `RiskTier.label` of each tier, by value (read for every evidence turned into JSON).
_TIER_LABELS: tuple[str, ...] = tuple(tier.name.lower() for tier in RiskTier)


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

    # Written out instead of generated (a dataclass keeps a class's own __init__): the
    # generated one sets each field with `object.__setattr__`, the slot descriptors
    # set them in about half the time, and a risky message has several of these.
    def __init__(
        self,
        start: int,
        end: int,
        text: str,
        rule_id: str,
        signal: str,
        category: str | None,
        tier: RiskTier,
        effect: str,
        reason: str,
        lang: str,
        source: int | None = None,
    ) -> None:
        (
            set_start,
            set_end,
            set_text,
            set_rule_id,
            set_signal,
            set_category,
            set_tier,
            set_effect,
            set_reason,
            set_lang,
            set_source,
        ) = _EVIDENCE_SETTERS
        set_start(self, start)
        set_end(self, end)
        set_text(self, text)
        set_rule_id(self, rule_id)
        set_signal(self, signal)
        set_category(self, category)
        set_tier(self, tier)
        set_effect(self, effect)
        set_reason(self, reason)
        set_lang(self, lang)
        set_source(self, source)

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict; `tier` as its label."""
        return {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "rule_id": self.rule_id,
            "signal": self.signal,
            "category": self.category,
            "tier": _TIER_LABELS[self.tier],
            "effect": self.effect,
            "reason": self.reason,
            "lang": self.lang,
            "source": self.source,
        }


# The slot descriptors' setters of Evidence's fields, in field order (its __init__).
_EVIDENCE_SETTERS: tuple[Callable[[Evidence, object], None], ...] = tuple(
    getattr(Evidence, f.name).__set__ for f in fields(Evidence)
)


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
        # Through the slot descriptors' setters, as in Evidence.__init__.
        set_tier, set_score, set_categories, set_language, set_rules_fired = _ASSESSMENT_SETTERS
        set_tier(assessment, tier)
        set_score(assessment, score)
        set_categories(assessment, categories)
        set_language(assessment, language)
        set_rules_fired(assessment, rules_fired)
        set_explanation, set_evidence, set_reasons = _ON_DEMAND_SETTERS
        set_explanation(assessment, explanation)
        set_evidence(assessment, None)
        set_reasons(assessment, None)
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


# The slot descriptors' setters used by `ExplainedOnDemand.create`.
_ASSESSMENT_SETTERS: tuple[Callable[[Assessment, object], None], ...] = tuple(
    getattr(Assessment, name).__set__
    for name in ("tier", "score", "categories", "language", "rules_fired")
)
_ON_DEMAND_SETTERS: tuple[Callable[[ExplainedOnDemand, object], None], ...] = tuple(
    getattr(ExplainedOnDemand, name).__set__ for name in ("_explanation", "_evidence", "_reasons")
)
