"""Behaviour of the engine, table-driven, plus property tests (docs/triage.md)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.engine import Engine
from triage.model import RiskTier

NONE, LOW, MEDIUM, HIGH, IMMINENT = (
    RiskTier.NONE,
    RiskTier.LOW,
    RiskTier.MEDIUM,
    RiskTier.HIGH,
    RiskTier.IMMINENT,
)


def tier(engine: Engine, text: str, context: tuple[str, ...] = ()) -> RiskTier:
    return engine.assess(text, None, context).tier


CASES: list[tuple[str, str, RiskTier, RiskTier]] = [
    # (kind, text, lowest acceptable tier, highest acceptable tier)
    ("plain", "jag vill ta livet av mig", HIGH, HIGH),
    ("plain", "hvornår har i åbent på lørdag?", NONE, NONE),
    ("plain", "what are your opening hours", NONE, NONE),
    ("negation", "jag tänker inte ta livet av mig, jag behöver bara prata", LOW, LOW),
    ("negation", "jeg vil ikke slå mig selv ihjel, jeg er bare ked af det", LOW, LOW),
    ("negation", "i'm not going to kill myself, i just need to vent", LOW, LOW),
    ("negation", "han slår mig inte, han är bara sur", NONE, LOW),
    # A cue before "stop" negates the stopping: the act goes on.
    ("negation", "kan inte sluta skada mig själv", HIGH, HIGH),
    ("negation", "jag kan inte låta bli att skära mig", HIGH, HIGH),
    ("negation", "jeg kan ikke lade være med at skære i mig selv", HIGH, HIGH),
    ("negation", "tog en massa tramadol, nu kan jag inte sluta krampa", IMMINENT, IMMINENT),
    ("negation", "jag ska inte sluta prata med er, jag mår bra nu", NONE, LOW),
    # A household poison swallowed is an overdose in progress; bought or used, it is not.
    ("means_time", "i drank bleach and my throat burns", IMMINENT, IMMINENT),
    ("third_party", "min bror har druckit propplösare", IMMINENT, IMMINENT),
    ("means_time", "har slugt afløbsrens", IMMINENT, IMMINENT),
    ("plain", "we drank coffee, then i cleaned the bathroom with bleach", NONE, LOW),
    ("negation", "i have not swallowed the bleach, i poured it away", NONE, LOW),
    ("plain", "jeg vil gerne slutte samtalen nu, tak for hjælpen", NONE, LOW),
    # Talk of ending it, then shut in behind a locked door: the act may be under way.
    (
        "third_party",
        "han har låst sig inde på badeværelset og sagde han vil tage sit liv",
        IMMINENT,
        IMMINENT,
    ),
    (
        "third_party",
        "my sister locked herself in her room, she said she'd end it all",
        IMMINENT,
        IMMINENT,
    ),
    ("plain", "jag har låst in mig på rummet för att plugga i lugn och ro", NONE, LOW),
    # Asking which height is enough is asking for a method, whatever the cover story.
    ("hypothetical", "vilken bro är tillräckligt hög, frågar för en kompis", HIGH, HIGH),
    ("hypothetical", "hvilket tag er højt nok, bare nysgerrig", HIGH, HIGH),
    ("plain", "is the shelf high enough for the tv?", NONE, LOW),
    # "asking" is not spell-corrected into "taking".
    ("plain", "i was just asking about your opening hours", NONE, NONE),
    # An opioid or sedative taken and breathing slowing down: it can stop.
    ("means_time", "took a load of morphine and my breathing is really slow", IMMINENT, IMMINENT),
    ("means_time", "tog sömntabletter, andningen har blivit väldigt långsam", IMMINENT, IMMINENT),
    ("means_time", "har taget metadon og vejrtrækningen er langsom", IMMINENT, IMMINENT),
    ("plain", "my baby's breathing is really slow when she sleeps, is that normal?", NONE, LOW),
    # Not expecting to see the morning is last words; being away tomorrow is not.
    ("indirect", "i'll be gone by morning", HIGH, IMMINENT),
    ("indirect", "jag finns inte kvar imorgon", HIGH, IMMINENT),
    ("indirect", "jeg er væk inden morgenen", HIGH, IMMINENT),
    ("plain", "jeg er ikke her i morgen, jeg er på arbejde", NONE, LOW),
    ("plain", "jag är borta imorgon, på konferens", NONE, LOW),
    # A story about someone else is not the caller's intent; the caller's own is.
    ("hypothetical", "we're making a podcast about a man who wants to end his life", NONE, LOW),
    ("hypothetical", "vi spelar in en film om en tjej som vill ta livet av sig", NONE, LOW),
    ("hypothetical", "en film hvor hovedpersonen tager sit liv", NONE, LOW),
    ("plain", "jag skriver en bok och jag vill ta livet av mig", HIGH, HIGH),
    # How long until someone finds you is planning, whatever the cover.
    ("hypothetical", "how long before anyone finds my body? just curious", HIGH, HIGH),
    ("hypothetical", "hvor lang tid går der før nogen finder en", HIGH, HIGH),
    ("plain", "hur lång tid tar det innan ni svarar?", NONE, NONE),
    # A bare plea is someone to answer now; help asked for something is not.
    ("plain", "HJÄLP!!", MEDIUM, MEDIUM),
    ("plain", "someone help me", MEDIUM, MEDIUM),
    ("plain", "behöver hjälp med schemat", NONE, NONE),
    ("plain", "can you help me with my booking?", NONE, NONE),
    ("slang", "jeg kan ikke holde ud at leve mere", MEDIUM, MEDIUM),
    ("slang", "i can't bear to live like this anymore", MEDIUM, MEDIUM),
    ("plain", "i can't stand living with my mum, she snores", NONE, LOW),
    ("idiom", "tentan tar livet av mig", NONE, LOW),
    ("idiom", "tentan tar livet av mig och jag vill dö", MEDIUM, IMMINENT),
    ("idiom", "jeg dør af grin over den video", NONE, LOW),
    ("idiom", "this commute is killing me", NONE, LOW),
    ("idiom", "i'd kill for a burger right now", NONE, LOW),
    ("idiom", "jag kommer ta livet av mig ikväll", IMMINENT, IMMINENT),
    ("past", "tried to kill myself five years ago, doing ok but struggling lately", MEDIUM, MEDIUM),
    ("past", "försökte ta livet av mig för sju år sen men mår bra nu", LOW, LOW),
    ("past", "skar mig när jag gick i gymnasiet", MEDIUM, MEDIUM),
    ("past", "skar mig igår kväll igen", HIGH, HIGH),
    ("third_party", "my friend says she wants to kill herself tonight", IMMINENT, IMMINENT),
    ("third_party", "min ven har taget G og vågner ikke", IMMINENT, IMMINENT),
    ("third_party", "min kompis vill ta livet av sig", HIGH, HIGH),
    ("hypothetical", "if i ever felt suicidal, could i write here?", NONE, LOW),
    ("hypothetical", "just curious, how many pills would it take to die", HIGH, HIGH),
    ("emoji", "💊💊💊", MEDIUM, MEDIUM),
    ("emoji", "took them all 💊💊", IMMINENT, IMMINENT),
    ("misspelling", "jag tänker på sjävmord hela tiden", HIGH, HIGH),
    ("misspelling", "i think about suiside every day", HIGH, HIGH),
    ("misspelling", "VILL BARA DÖÖÖÖ", MEDIUM, MEDIUM),
    ("slang", "vill kms asså", HIGH, HIGH),
    ("slang", "thinking about unaliving myself", HIGH, HIGH),
    ("slang", "jeg orker ikke mere, orker ikke livet", MEDIUM, MEDIUM),
    ("slang", "vill inte finnas", MEDIUM, MEDIUM),
    ("means_time", "har köpt ett rep, det blir ikväll", IMMINENT, IMMINENT),
    ("means_time", "tog 25 panodil for en time siden", IMMINENT, IMMINENT),
    ("violence", "he's kicking the door in and says he'll kill me", IMMINENT, IMMINENT),
    ("violence", "min man slår mig när han är full", HIGH, HIGH),
    ("frame", "this ranked match, i'm gonna kill him 😤", NONE, LOW),
    # Folding is one-way for å ä ö: Swedish "tåget" (the train) is not Danish "taget"
    # (the roof), but "taget" typed without them is both, and a typo still counts.
    ("nordic", "jag är på tåget nu, ringer sen", NONE, LOW),
    ("nordic", "sitter på tåget hem", NONE, LOW),
    ("nordic", "jeg står på taget nu", IMMINENT, IMMINENT),
    ("nordic", "JEG STÅR PÅ TAGET NU", IMMINENT, IMMINENT),
    ("nordic", "jeg star pa taget nu", IMMINENT, IMMINENT),
    ("nordic", "står framför tåget ikväll", IMMINENT, IMMINENT),
    ("nordic", "jeg har selvmårdstanker", HIGH, HIGH),
    ("nordic", "jeg vil dö", MEDIUM, MEDIUM),
    ("nordic", "jag vill dø", MEDIUM, MEDIUM),
    # A sedative with alcohol or another sedative is the mix that stops breathing;
    # a habit described is heavy use, not an acute mix.
    ("sedatives", "took benzos and vodka", HIGH, IMMINENT),
    # Thanks at the end of a chat that helped are not last words; alone they still are.
    ("thanks", "tack för allt, ni har hjälpt mig så mycket ikväll", NONE, LOW),
    ("thanks", "thanks for everything, this chat really helped", NONE, LOW),
    ("thanks", "tack för allt. förlåt.", HIGH, IMMINENT),
    ("thanks", "thanks for everything. i'm sorry for everything", IMMINENT, IMMINENT),
    # Odd breathing is an overdose sign only with something taken.
    ("overdose", "my baby is breathing weird, should I call the doctor?", NONE, MEDIUM),
    ("overdose", "took xanax and vodka, now he's breathing weird", IMMINENT, IMMINENT),
    ("fuzzy", "the chair is there, where do you want the table", NONE, LOW),
    ("levity", "weed makes me paranoid, everyone's after me lol", NONE, LOW),
    # Danish "mens" is "while" as often as it is a period: only "har mens" calms bleeding.
    ("bleeding", "det bløder stadig mens jeg sidder her og jeg er blevet svimmel", HIGH, IMMINENT),
    ("bleeding", "it's been bleeding for a long period and i feel faint", HIGH, IMMINENT),
    # The name of the subject is not a statement that someone is doing it now.
    ("self_harm_topic", "Do you offer training for teachers on spotting self-harm?", NONE, MEDIUM),
    ("self_harm_topic", "jeg har en podcast om unge og selvskade", NONE, MEDIUM),
    ("self_harm_topic", "i self harm every night", HIGH, HIGH),
    ("self_harm_topic", "my daughter self harms", HIGH, HIGH),
    ("self_harm_topic", "jag har självskadebeteende", HIGH, HIGH),
    ("self_harm_topic", "min selvskade er blevet værre", HIGH, HIGH),
    ("sedatives", "blandade xanor och lean för en timme sen", HIGH, IMMINENT),
    ("sedatives", "har taget stesolid og drukket en flaske vin", HIGH, IMMINENT),
    ("sedatives", "is it dangerous to mix xanax and alcohol?", NONE, MEDIUM),
    ("sedatives", "mixing xanax and alcohol most weekends", NONE, MEDIUM),
    ("means_time", "jeg har lige taget 40 panodiler", IMMINENT, IMMINENT),
    ("idiom", "grandad passed last month and it's hitting me way harder now", NONE, LOW),
    ("violence", "he's hitting me", HIGH, IMMINENT),
    # Round 6 word families: urgent phrasings and their calm look-alikes.
    ("threat_other", "om han rör henne igen så dödar jag honom", HIGH, HIGH),
    ("threat_other", "han siger han vil slå hendes eks ihjel", HIGH, HIGH),
    ("threat_other", "i'm taking my uncle's rifle into school tomorrow", HIGH, IMMINENT),
    ("suicide", "I've been thinking about ending it all week", HIGH, HIGH),
    ("suicide", "thinking about ending it with my girlfriend", NONE, LOW),
    ("suicide", "funderar på att avsluta det, orkar inte", HIGH, IMMINENT),
    ("suicide", "tænker på at afslutte det med min kæreste", NONE, LOW),
    ("suicide", "jeg har ikke lyst til at være her længere", MEDIUM, HIGH),
    ("suicide", "søger på måder at dø på om natten", HIGH, HIGH),
    ("suicide", "googling ways to die in minecraft", NONE, LOW),
    ("exhaust", "sitter i bilen i garaget och motorn är igång i garaget", IMMINENT, IMMINENT),
    ("exhaust", "sitting in the car, engine running in the garage", IMMINENT, IMMINENT),
    ("exhaust", "warming up the car in the garage with the engine running", NONE, LOW),
    ("means_ready", "rebet er bundet og stolen står klar", IMMINENT, IMMINENT),
    ("overdose", "vi drack och tog piller, hon är likblek och skakar", HIGH, IMMINENT),
    ("overdose", "tog bussen hem, helt blek efter gympan", NONE, LOW),
    ("overdose", "han har taget G og trækker vejret helt mærkeligt", IMMINENT, IMMINENT),
    ("overdose", "took two valium with gin and now i keep nodding off", IMMINENT, IMMINENT),
    ("overdose", "three days on a coke binge and i'm hearing voices", HIGH, IMMINENT),
    ("self_harm", "how do i hide the burns on my arm from my mum", HIGH, HIGH),
    ("self_harm", "snittet blöder fortfarande och jag är yr", IMMINENT, IMMINENT),
    ("self_harm", "my nose is still bleeding and i'm a bit dizzy", NONE, LOW),
    ("farewell", "hun skrev tak for alt og har slukket sin telefon", IMMINENT, IMMINENT),
    ("farewell", "har betalt alla räkningar och städat lägenheten 🖤", IMMINENT, IMMINENT),
    ("farewell", "paid the rent for next month and tidied the flat, party tonight", NONE, LOW),
    ("violence", "mamma håller på att slå min lillebror och jag gömmer mig", IMMINENT, IMMINENT),
    ("violence", "jeg skal slå græsset lige nu", NONE, LOW),
    ("abuse", "her stepdad sneaks into her room at night", HIGH, HIGH),
    ("neglect", "they leave the baby alone all night", HIGH, HIGH),
    ("neglect", "left the baby alone for a minute to get the post", NONE, LOW),
    ("idiom", "det her foredrag er så kedeligt at jeg kunne skyde mig selv haha", NONE, LOW),
]


@pytest.mark.parametrize(("kind", "text", "lowest", "highest"), CASES)
def test_tiers(engine: Engine, kind: str, text: str, lowest: RiskTier, highest: RiskTier) -> None:
    got = tier(engine, text)
    assert lowest <= got <= highest, (kind, text, engine.assess(text).reasons)


CONTEXT_CASES: list[tuple[tuple[str, ...], str, RiskTier]] = [
    (("jag vill inte leva längre",), "har sparat tabletter", IMMINENT),
    (("i don't want to be here anymore",), "i'm at the cliffs now", IMMINENT),
    (("han har slået mig to gange",), "i aften er jeg alene hjemme med ham", HIGH),
    (("nobody would miss me",), "i've started googling how to do it", HIGH),
    (("this ranked match is rigged", "my teammate keeps feeding"), "i'm gonna kill him", LOW),
]


@pytest.mark.parametrize(("context", "text", "expected"), CONTEXT_CASES)
def test_context(engine: Engine, context: tuple[str, ...], text: str, expected: RiskTier) -> None:
    got = engine.assess(text, None, context)
    assert got.tier == expected, got.reasons
    if expected > tier(engine, text):
        assert any("earlier" in reason for reason in got.reasons)


def test_idiom_suppresses_only_its_span(engine: Engine) -> None:
    text = "tentan tar livet av mig och jag vill dö"
    result = engine.assess(text)
    effects = {e.text: e.effect for e in result.evidence}
    assert effects["tar livet av mig"] == "idiom"
    assert effects["vill dö"] == "counted"


@pytest.mark.parametrize(
    "text",
    [
        "Jag VILL DÖÖÖ",
        "hej!! 💊💊 took them all, bye",
        "mi  amiga dice que   quiere  morir... jeg vil ikke leve mere",
        "ta\u0308nker pa\u030a sja\u0308lvmord",
    ],
)
def test_evidence_points_at_original_text(engine: Engine, text: str) -> None:
    result = engine.assess(text)
    assert result.evidence
    for evidence in result.evidence:
        assert text[evidence.start : evidence.end] == evidence.text
        assert evidence.text.strip() == evidence.text


def test_assessment_json_shape(engine: Engine) -> None:
    shown = engine.assess("tog 30 alvedon nyss", "sv").to_json()
    assert shown["tier"] == "imminent"
    assert set(shown) == {
        "version",
        "tier",
        "score",
        "categories",
        "language",
        "reasons",
        "rules_fired",
        "evidence",
    }
    assert "overdose" in shown["categories"]
    assert isinstance(shown["evidence"], list)


def test_language_hint_does_not_change_tier(engine: Engine) -> None:
    text = "har taget alle mine piller"
    assert {engine.assess(text, lang).tier for lang in ("sv", "da", "en", None)} == {IMMINENT}


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400), st.lists(st.text(max_size=80), max_size=3))
def test_never_raises_and_spans_inside(engine: Engine, text: str, context: list[str]) -> None:
    result = engine.assess(text, None, tuple(context))
    assert 0.0 <= result.score <= 1.0
    for evidence in result.evidence:
        source = text if evidence.source is None else context[evidence.source]
        assert 0 <= evidence.start < evidence.end <= len(source)
        assert source[evidence.start : evidence.end] == evidence.text


RISK_STATEMENTS = [
    "jag vill inte leva längre",
    "jeg har tænkt på selvmord",
    "i want to kill myself",
    "he hits me when he's drunk",
    "skar mig igår",
    "har bestämt mig",
    "💊",
]
PROBES = [
    "har köpt ett rep",
    "i aften",
    "he's home now",
    "i've been reading about ways to do it",
    "ok",
    "tentan tar livet av mig",
    "i'm on the bridge",
]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(RISK_STATEMENTS), max_size=3),
    st.sampled_from(PROBES) | st.text(max_size=60),
)
def test_risky_context_never_lowers_the_tier(engine: Engine, context: list[str], text: str) -> None:
    # Earlier risk only raises what follows; only benign frames (games) may lower.
    assert tier(engine, text, tuple(context)) >= tier(engine, text)
