"""Measuring the engine against labelled messages (format of shared/triage/dev.jsonl).

Every rate is 0.0 when its denominator is 0 (for example `idiom_false_alarm_rate`
for a language without idiom items), so that the result is always plain JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from triage.model import Assessment, RiskTier

Item = Mapping[str, Any]


class Assessor(Protocol):
    """The rule engine, or the rule engine with the semantic layer behind it."""

    def assess(
        self, text: str, lang: str | None = None, context: Sequence[str] = ()
    ) -> Assessment: ...


def read_items(path: Path) -> list[dict[str, Any]]:
    """Parse a JSON-lines file of labelled items (blank lines ignored)."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _rate(hits: int, total: int) -> float:
    return hits / total if total else 0.0


def _figures(pairs: Sequence[tuple[Item, RiskTier]]) -> dict[str, Any]:
    true_urgent = [(i, p) for i, p in pairs if RiskTier.parse(i["tier"]) >= RiskTier.HIGH]
    true_imminent = [(i, p) for i, p in pairs if RiskTier.parse(i["tier"]) == RiskTier.IMMINENT]
    true_calm = [(i, p) for i, p in pairs if RiskTier.parse(i["tier"]) <= RiskTier.LOW]
    idioms = [(i, p) for i, p in true_calm if i.get("hard") == "idiom"]
    return {
        "n": len(pairs),
        "recall_high": _rate(sum(p >= RiskTier.HIGH for _, p in true_urgent), len(true_urgent)),
        "recall_imminent": _rate(
            sum(p == RiskTier.IMMINENT for _, p in true_imminent), len(true_imminent)
        ),
        "false_alarm_rate": _rate(sum(p >= RiskTier.HIGH for _, p in true_calm), len(true_calm)),
        "idiom_false_alarm_rate": _rate(sum(p >= RiskTier.HIGH for _, p in idioms), len(idioms)),
    }


def evaluate(items: Iterable[Item], engine: Assessor) -> dict[str, Any]:
    """Score `engine` on labelled `items`; see the module docstring for the rates.

    `idiom_false_alarm_rate` is the false-alarm rate among items whose `hard` is
    "idiom" (idioms labelled none or low); `by_hard` gives, per kind of hard item,
    the share predicted at exactly the labelled tier.
    """
    pairs: list[tuple[Item, RiskTier]] = []
    for item in items:
        assessment = engine.assess(
            str(item["text"]), item.get("lang"), tuple(item.get("context") or ())
        )
        pairs.append((item, assessment.tier))
    confusion: dict[str, dict[str, int]] = {
        t.label: {p.label: 0 for p in RiskTier} for t in RiskTier
    }
    by_lang_pairs: dict[str, list[tuple[Item, RiskTier]]] = {}
    by_hard_pairs: dict[str, list[tuple[Item, RiskTier]]] = {}
    for item, predicted in pairs:
        confusion[RiskTier.parse(item["tier"]).label][predicted.label] += 1
        by_lang_pairs.setdefault(str(item.get("lang")), []).append((item, predicted))
        if item.get("hard"):
            by_hard_pairs.setdefault(str(item["hard"]), []).append((item, predicted))
    result = _figures(pairs)
    result["confusion"] = confusion
    result["by_lang"] = {lang: _figures(p) for lang, p in sorted(by_lang_pairs.items())}
    result["by_hard"] = {
        kind: {
            "n": len(p),
            "accuracy": _rate(sum(RiskTier.parse(i["tier"]) == t for i, t in p), len(p)),
        }
        for kind, p in sorted(by_hard_pairs.items())
    }
    return result
