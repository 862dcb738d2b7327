"""False alarms on everyday chat (`data/everyday.jsonl`).

`everyday.jsonl` (40 none/low messages a language: opening hours, booking, dosing
questions from parents, commutes over bridges, barbecues on roofs, sport, idioms,
plans with "ikväll"/"i aften"/"tonight") was written before the engine was run on
it, but the lexicon round that followed was TUNED on its false alarms. Passing here
shows the fixes hold; the first-run figures in docs/triage.md are the honest ones.
"""

from __future__ import annotations

import pytest

from tests.triage.conftest import DATA
from triage.engine import Engine
from triage.evaluation import evaluate, read_items
from triage.model import RiskTier

EVERYDAY = DATA / "everyday.jsonl"


@pytest.fixture(scope="module")
def everyday_figures(engine: Engine) -> dict[str, object]:
    return evaluate(read_items(EVERYDAY), engine)


def test_everyday_set_is_only_none_or_low() -> None:
    items = read_items(EVERYDAY)
    assert {item["tier"] for item in items} <= {"none", "low"}
    assert len({item["id"] for item in items}) == len(items)


@pytest.mark.parametrize("lang", ["sv", "da", "en"])
def test_everyday_false_alarm_rate(everyday_figures: dict[str, object], lang: str) -> None:
    by_lang = everyday_figures["by_lang"]
    assert isinstance(by_lang, dict)
    figures = by_lang[lang]
    assert figures["n"] >= 35
    # Tuned on (see the module docstring): a regression guard, not a generalisation figure.
    assert figures["false_alarm_rate"] <= 0.05, figures
    assert figures["idiom_false_alarm_rate"] <= 0.10, figures


# The same everyday words next to a real risk signal must still escalate: benign
# frames, plan idioms and the stricter medicine + time rule only calm the ordinary use.
STILL_RISKY = [
    ("sv", "står på bron, vill inte leva längre", RiskTier.IMMINENT),
    ("sv", "sitter på taket ikväll och vill dö", RiskTier.IMMINENT),
    ("sv", "har sparat tabletter och tar dem ikväll", RiskTier.IMMINENT),
    ("sv", "har en plan för ikväll, tabletterna ligger framme", RiskTier.IMMINENT),
    ("sv", "ikväll tar jag alla mina sömntabletter", RiskTier.IMMINENT),
    ("da", "jeg har gemt piller og tager dem i aften", RiskTier.IMMINENT),
    ("da", "min søn har taget 20 panodil", RiskTier.IMMINENT),
    ("da", "han slår dem ihjel", RiskTier.HIGH),
    ("en", "i'm on the bridge and i want to jump", RiskTier.IMMINENT),
    ("en", "on the bridge, stuck in traffic, i want to die", RiskTier.IMMINENT),
    ("sv", "står på bron i trafiken och vill dö", RiskTier.IMMINENT),
    ("en", "on the roof tonight, no one will miss me", RiskTier.IMMINENT),
    ("en", "i have a plan for tonight. pills are ready", RiskTier.IMMINENT),
    ("en", "like always nobody cares, i'm taking all my pills tonight", RiskTier.IMMINENT),
    ("en", "i've saved up pills and i'm taking them tonight", RiskTier.IMMINENT),
]


@pytest.mark.parametrize(("lang", "text", "at_least"), STILL_RISKY)
def test_everyday_words_with_risk_still_escalate(
    engine: Engine, lang: str, text: str, at_least: RiskTier
) -> None:
    assert engine.assess(text, lang).tier >= at_least
