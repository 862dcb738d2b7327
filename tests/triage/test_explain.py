"""The counsellor-facing explanation table (triage/explain.py, lexicons/explain.toml)."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.engine import Engine
from triage.explain import (
    EFFECTS,
    LANGUAGES,
    ExplainError,
    Explanations,
    default_explanations,
    group_key,
    load_explanations,
)
from triage.lexicon import load_lexicon
from triage.model import Evidence, RiskTier
from triage.semantic import RULE_ID as SEMANTIC_RULE
from triage.semantic import SIGNAL as SEMANTIC_SIGNAL


@pytest.fixture(scope="module")
def table() -> Explanations:
    return load_explanations()


def _complete(table: Explanations, kind: str, key: str) -> None:
    entry = getattr(table, kind).get(key)
    assert entry is not None, f"explain.toml has no [{kind}.{key}]"
    for lang in LANGUAGES:
        assert entry.get(lang, "").strip(), f"[{kind}.{key}] has no {lang!r} text"
    # A copied English text is not a translation.
    assert entry["en"] not in (entry["sv"], entry["da"]), f"[{kind}.{key}] is not translated"


def test_every_lexicon_signal_and_rule_has_all_languages(table: Explanations) -> None:
    lexicon = load_lexicon()
    signals = {p.group.signal for p in lexicon.patterns if p.group.kind == "signal"}
    assert len(signals) > 40
    for signal in sorted(signals | {SEMANTIC_SIGNAL}):
        _complete(table, "signal", signal)
    rules = {combo.id for combo in lexicon.combos}
    assert len(rules) > 20
    for rule in sorted(rules | {SEMANTIC_RULE}):
        _complete(table, "rule", rule)
    for effect in EFFECTS:
        _complete(table, "effect", effect)
    # No stale entries: every key names something the engine can report.
    groups = {group_key(p.group.id) for p in lexicon.patterns}
    assert set(table.signal) <= signals | {SEMANTIC_SIGNAL}
    assert set(table.rule) <= rules | {SEMANTIC_RULE}
    assert set(table.effect) == set(EFFECTS)
    for key in table.group:
        assert key in groups, f"[group.{key}] names no lexicon group"
        _complete(table, "group", key)


def _evidence(rule_id: str, signal: str, reason: str = "the engine's reason") -> Evidence:
    return Evidence(0, 3, "tog", rule_id, signal, None, RiskTier.NONE, "counted", reason, "sv")


def test_texts_in_the_asked_language(table: Explanations) -> None:
    intent = _evidence("sv.suicide.intent#1", "suicide_intent")
    assert table.for_evidence(intent, "sv") == "uttrycker en önskan eller avsikt att ta sitt liv"
    assert table.for_evidence(intent, "da").startswith("udtrykker et ønske")
    assert table.for_evidence(intent, "en") == "states a wish or intent to kill oneself"
    # The JSON form of evidence (as stored and sent to the console) works the same.
    assert table.for_evidence(intent.to_json(), "sv") == table.for_evidence(intent, "sv")
    assert table.for_rule("combo.overdose_taken", "sv") == "har tagit en stor mängd läkemedel"
    assert table.for_rule("combo.overdose_taken", "da") == "har taget en stor mængde medicin"
    assert table.for_effect("idiom", "sv") == "bildligt uttryck"
    assert table.for_effect("levity", "da") == "sagt for sjov"


def test_a_narrower_group_and_the_semantic_rule_come_before_the_signal(
    table: Explanations,
) -> None:
    hoarded = _evidence("da.means.hoarded#2", "means")
    general = _evidence("da.means.general#1", "means")
    assert table.for_evidence(hoarded, "da") == "opsparet eller hamstret medicin"
    assert table.for_evidence(general, "da") == "midler til at tage sit liv"
    semantic = _evidence(SEMANTIC_RULE, SEMANTIC_SIGNAL, "reads like known high-risk messages")
    assert table.for_evidence(semantic, "sv") == table.for_rule(SEMANTIC_RULE, "sv")
    assert group_key("sv.means.hoarded#12") == "means.hoarded"
    assert group_key("semantic.nearest") == "semantic.nearest"
    assert group_key("combo.overdose_taken") == "combo.overdose_taken"


def test_fallback_to_english_then_to_the_engines_reason(tmp_path: Path) -> None:
    path = tmp_path / "explain.toml"
    path.write_text(
        '[signal.ingest]\nen = "took something"\nsv = "har tagit något"\n'
        '[rule."combo.x"]\nen = "a rule"\n',
        encoding="utf-8",
    )
    table = load_explanations(path)
    ingest = _evidence("da.substance.ingest#1", "ingest", "engine text")
    assert table.for_evidence(ingest, "sv") == "har tagit något"
    assert table.for_evidence(ingest, "da") == "took something"  # no Danish: English
    assert table.for_evidence(ingest, "fi") == "took something"  # unknown language
    assert table.for_evidence(ingest, None) == "took something"
    unknown = _evidence("da.new.group#1", "brand_new_signal", "engine text")
    assert table.for_evidence(unknown, "da") == "engine text"  # then the engine's reason
    assert table.for_rule("combo.x", "sv") == "a rule"
    assert table.for_rule("combo.unknown", "sv", default="fallback") == "fallback"
    assert table.for_effect("new_effect", "sv") == "new_effect"
    assert table.text("signal", "nothing", "sv") is None


def test_malformed_tables_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "explain.toml"
    for text, message in [
        ('[signal.x]\nsv = "bara svenska"\n', "no 'en' text"),
        ('[signal.x]\nen = "x"\nfi = "y"\n', "unknown languages"),
        ('[signal.x]\nen = ""\n', "non-empty"),
        ('[signals.x]\nen = "x"\n', "unknown sections"),
    ]:
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ExplainError, match=message):
            load_explanations(path)


def test_real_evidence_is_explained_in_every_language(engine: Engine) -> None:
    table = default_explanations()
    assessment = engine.assess("jag har tagit 30 alvedon och vill dö", "sv")
    assert "combo.overdose_taken" in assessment.rules_fired
    for evidence in assessment.evidence:
        texts = {lang: table.for_evidence(evidence, lang) for lang in LANGUAGES}
        assert texts["en"] and texts["sv"] != texts["en"] and texts["da"] != texts["en"]
    as_json = table.to_json()
    assert set(as_json) == {"signal", "group", "rule", "effect"}
    assert as_json["rule"]["combo.overdose_taken"]["sv"] == "har tagit en stor mängd läkemedel"
