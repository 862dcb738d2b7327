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


# Lexicon round 5 (docs/triage.md, "Blind sets"): everyday sentences around the new
# word families (knives in a kitchen, belts, garages, platforms, roof work, morphine
# after surgery, times like "efter skolan"), none of them taken from a data set.
BENIGN_ROUND5 = [
    ("sv", "pappa håller i en kniv och skär upp tårtan"),
    ("sv", "pappa lagar taket efter jobbet, sitter på taket och byter pannor"),
    ("sv", "pappa har ett jaktgevär, vi ska på älgjakt efter skolan"),
    ("sv", "förlåt allihop att jag är sen med svaret"),
    ("sv", "mitt ex slog mig i tennis varje gång"),
    ("da", "købte et nyt bælte i dag til festen i aften"),
    ("da", "fik morfin efter operationen, tager den efter aftensmaden"),
    ("da", "den boss har dræbt mig 20 gange haha"),
    ("da", "har drukket øl og er helt væk efter en lang uge haha"),
    ("en", "i'm holding the knife wrong when i chop onions"),
    ("en", "car's running in the garage warming up, it's freezing"),
    ("en", "learned a chokehold in judo today"),
    ("en", "as i said in my last message, i take my meds at night"),
    ("en", "it feels like banging my head against a brick wall"),
    # A laughing idiom with a "constantly" marker stays an idiom.
    ("da", "jeg vil dø af grin hele tiden"),
    ("sv", "jag vill dö av skam hela tiden haha"),
    ("en", "i want to die of embarrassment every time lol"),
]


@pytest.mark.parametrize(("lang", "text"), BENIGN_ROUND5)
def test_round5_everyday_phrase_is_not_an_alarm(engine: Engine, lang: str, text: str) -> None:
    assert engine.assess(text, lang).tier < RiskTier.HIGH


RISKY_ROUND5 = [
    ("sv", "hon håller i en kniv och skriker att hon ska döda oss", RiskTier.IMMINENT),
    ("sv", "har ett rep i garaget och väntar på att pappa ska åka", RiskTier.IMMINENT),
    ("sv", "pappa slår mamma när han dricker", RiskTier.HIGH),
    ("da", "min kæreste tager kvælertag på mig når han drikker", RiskTier.HIGH),
    ("da", "sidder i bilen i en lukket garage med motoren kørende", RiskTier.IMMINENT),
    ("da", "jeg vil dø for alvor", RiskTier.HIGH),
    ("en", "took a load of pills an hour ago and now it's hard to breathe", RiskTier.IMMINENT),
    ("en", "going to jump off the roof after school", RiskTier.IMMINENT),
    ("en", "i think someone spiked my drink, everything is spinning", RiskTier.HIGH),
    # combo.death_wish_earnest: across a sentence end, and "can't stop" is no negation.
    ("sv", "vill bara dö. menar allvar", RiskTier.HIGH),
    ("en", "i want to die. i'm not joking. every single day", RiskTier.HIGH),
    ("sv", "jag kan inte sluta tänka på självmord", RiskTier.HIGH),
    ("da", "jeg er begyndt at tænke på selvmord igen", RiskTier.HIGH),
]


@pytest.mark.parametrize(("lang", "text", "at_least"), RISKY_ROUND5)
def test_round5_risk_is_kept(engine: Engine, lang: str, text: str, at_least: RiskTier) -> None:
    assert engine.assess(text, lang).tier >= at_least
