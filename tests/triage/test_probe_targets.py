"""Targets on the probe set, and everyday phrases that must not raise an alarm.

`heldout_probe.jsonl` was written before the engine was run on it, but the
lexicon round of 2026-11 was then TUNED on its misses: passing here shows the
fixes hold, not that the engine generalises. The generalisation figure is the
first run of each probe set in docs/triage.md; `heldout_probe2.jsonl` is only
reported there, never asserted, so that it keeps telling the truth.
"""

from __future__ import annotations

import pytest

from tests.triage.conftest import DATA
from triage.engine import Engine
from triage.evaluation import evaluate, read_items
from triage.model import RiskTier

PROBE = DATA / "heldout_probe.jsonl"


@pytest.fixture(scope="module")
def probe_figures(engine: Engine) -> dict[str, object]:
    return evaluate(read_items(PROBE), engine)


@pytest.mark.parametrize("lang", ["sv", "da", "en"])
def test_probe_targets_per_language(probe_figures: dict[str, object], lang: str) -> None:
    by_lang = probe_figures["by_lang"]
    assert isinstance(by_lang, dict)
    figures = by_lang[lang]
    assert figures["n"] >= 45
    assert figures["recall_high"] >= 0.95, figures
    assert figures["recall_imminent"] >= 0.85, figures
    assert figures["false_alarm_rate"] <= 0.05, figures
    assert figures["idiom_false_alarm_rate"] <= 0.10, figures


def test_probe_no_imminent_message_below_medium(engine: Engine) -> None:
    for item in read_items(PROBE):
        if item["tier"] != "imminent":
            continue
        got = engine.assess(item["text"], item["lang"], tuple(item.get("context") or ()))
        assert got.tier >= RiskTier.MEDIUM, (item["id"], got.reasons)


# Everyday phrases near the new entries (idioms of "<thing> kills me", means lying
# about, places, game talk, kitchen knives). Each one must stay below HIGH.
BENIGN = [
    ("sv", "jobbet dödar mig den här veckan"),
    ("sv", "mamma kommer döda mig om jag missar bussen"),
    ("sv", "min bror slår mig alltid i schack"),
    ("sv", "hon har en kniv i köket som är jättevass"),
    ("sv", "tabletterna ligger framme på bordet, ska ta dem till frukost"),
    ("sv", "sitter vid kanten av poolen"),
    ("sv", "ska lägga mig på soffan och kolla film"),
    ("da", "eksamen dræber mig"),
    ("da", "jeg kaster mig ud i det nye job"),
    ("da", "pillerne står fremme på bordet så jeg husker dem"),
    ("da", "hun har en kniv i køkkenet"),
    ("da", "er på broen, kommer om fem minutter"),
    ("da", "jeg døde af grin"),
    ("en", "my exam is going to kill me lol"),
    ("en", "my mum will kill me if i miss the bus"),
    ("en", "my meds are on my desk so i remember them"),
    ("en", "my brother always beats me at chess"),
    ("en", "sitting on the edge of my bed"),
    ("en", "i'm on the edge of my seat"),
]


@pytest.mark.parametrize(("lang", "text"), BENIGN)
def test_everyday_phrase_is_not_an_alarm(engine: Engine, lang: str, text: str) -> None:
    assert engine.assess(text, lang).tier < RiskTier.HIGH


# The counterparts: the same words when a person threatens or a place is reached.
RISKY = [
    ("sv", "han kommer döda mig om jag lämnar honom", RiskTier.HIGH),
    ("sv", "min pojkvän dödar mig om han får veta", RiskTier.HIGH),
    ("sv", "sitter på tågspåret", RiskTier.IMMINENT),
    ("da", "min kæreste slår mig ihjel hvis jeg går", RiskTier.HIGH),
    ("da", "har skrevet et brev til min mor og lagt pillerne frem", RiskTier.IMMINENT),
    ("en", "he's going to kill me when he gets home", RiskTier.HIGH),
    ("en", "i'm on the bridge", RiskTier.HIGH),
    ("en", "my dad beats my little brother", RiskTier.HIGH),
]


@pytest.mark.parametrize(("lang", "text", "at_least"), RISKY)
def test_person_or_place_keeps_the_risk(
    engine: Engine, lang: str, text: str, at_least: RiskTier
) -> None:
    assert engine.assess(text, lang).tier >= at_least
