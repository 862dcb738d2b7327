"""The semantic layer (triage/semantic.py): the vote, the raise-only combination,
and the real bundled model with the stored exemplar bank."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from triage.engine import load_engine
from triage.evaluation import evaluate, read_items
from triage.model import RiskTier
from triage.semantic import (
    RULE_ID,
    Exemplar,
    ExemplarIndex,
    LayeredEngine,
    SemanticSettings,
    Vectors,
    combine,
)
from triage.semantic_model import (
    BANK,
    SemanticUnavailable,
    fingerprint,
    load_index,
    load_semantic_engine,
    read_bank,
)

DATA = Path(__file__).parent / "data"


def _unit(*values: float) -> Vectors:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def _index() -> ExemplarIndex:
    exemplars = [
        Exemplar("u1", "en", "urgent one", RiskTier.HIGH, ("suicide",)),
        Exemplar("u2", "en", "urgent two", RiskTier.IMMINENT, ("overdose",)),
        Exemplar("c1", "en", "calm one", RiskTier.NONE, ()),
    ]
    vectors = np.stack([_unit(1, 0.05, 0), _unit(1, 0, 0.05), _unit(0, 0, 1)])
    return ExemplarIndex(exemplars, vectors)


def test_urgent_neighbours_vote_high_and_far_messages_get_no_opinion() -> None:
    settings = SemanticSettings(k=2, min_similarity=0.9, urgent_share=0.6, imminent_share=0.67)
    near_urgent = _index().verdict(_unit(1, 0.02, 0.02), settings)
    assert near_urgent.tier == RiskTier.HIGH  # half the weight is imminent, below 0.67
    imminent = SemanticSettings(k=2, min_similarity=0.9, imminent_share=0.5)
    assert _index().verdict(_unit(1, 0.02, 0.02), imminent).tier == RiskTier.IMMINENT
    assert {e.id for e, _ in near_urgent.neighbours} == {"u1", "u2"}
    assert near_urgent.urgent_share == pytest.approx(1.0)

    near_calm = _index().verdict(_unit(0, 0.01, 1), settings)
    assert near_calm.tier == RiskTier.NONE
    far = _index().verdict(_unit(0, 1, 0), settings)  # similarity 0.05 at best
    assert far.tier == RiskTier.NONE and far.similarity < 0.9


def test_combination_only_raises_and_explains_the_raise() -> None:
    rules = load_engine()
    text = "i sorted out who gets my cat"
    calm = rules.assess(text, "en")
    assert calm.tier < RiskTier.HIGH
    verdict = _index().verdict(_unit(1, 0.02, 0.02), SemanticSettings(k=2, imminent_share=0.67))
    raised = combine(calm, verdict, text)
    assert raised.tier == RiskTier.HIGH
    assert RULE_ID in raised.rules_fired
    assert set(raised.categories) >= {"suicide", "overdose"}
    last = raised.evidence[-1]
    assert (last.start, last.end, last.rule_id) == (0, len(text), RULE_ID)
    assert "u1" in raised.reasons[-1] and "u2" in raised.reasons[-1]
    assert not any(r.startswith("none:") for r in raised.reasons)
    # The nearest exemplars are quoted, for the console to show what it resembled.
    assert "“urgent one” (" in last.reason and "“urgent two” (" in last.reason

    urgent = rules.assess("jag har laddat pappas jaktgevär och ska skjuta mig ikväll", "sv")
    calm_verdict = _index().verdict(_unit(0, 0, 1), SemanticSettings(k=2))
    assert combine(urgent, calm_verdict, "x") is urgent  # never lowered


def test_layered_engine_embeds_only_what_the_rules_found_below_imminent() -> None:
    embedded: list[str] = []

    def embed(texts: Sequence[str]) -> Vectors:
        embedded.extend(texts)
        return np.stack([_unit(1, 0.02, 0.02) for _ in texts])

    settings = SemanticSettings(k=2, imminent_share=0.67)
    layered = LayeredEngine(load_engine(), embed, _index(), settings)
    urgent = layered.assess("tog 40 alvedon nyss och vill dö", "sv")
    assert urgent.tier == RiskTier.IMMINENT and embedded == []
    assert layered.assess("...", "sv").tier == RiskTier.NONE and embedded == []
    assert layered.assess("i sorted out who gets my cat", "en").tier == RiskTier.HIGH
    assert embedded == ["i sorted out who gets my cat"]

    # What the rules call high may still read as imminent.
    eager = LayeredEngine(load_engine(), embed, _index(), SemanticSettings(k=2, imminent_share=0.5))
    high = "jag vill ta livet av mig"
    assert eager.rules.assess(high, "sv").tier == RiskTier.HIGH
    raised = eager.assess(high, "sv")
    assert raised.tier == RiskTier.IMMINENT and embedded[-1] == high
    assert raised.rules_fired[-1] == RULE_ID


# The real model and bank: slower (tens of milliseconds a message), so few messages.


@pytest.fixture(scope="module")
def layered() -> LayeredEngine:
    return load_semantic_engine(threads=1)


def test_stored_vectors_belong_to_the_bank_and_to_the_model(layered: LayeredEngine) -> None:
    exemplars = read_bank()
    assert len(exemplars) == len(layered.index.exemplars) >= 300
    ids = [e.id for e in exemplars]
    assert len(set(ids)) == len(ids)
    dev_texts = {str(item["text"]) for item in read_items(DATA / "dev.jsonl")}
    for name in (
        "blind_b",
        "blind_c",
        "blind_d",
        "blind_e",
        "blind_f",
        "blind_g",
        "blind_h",
        "blind_i",
    ):
        dev_texts |= {str(item["text"]) for item in read_items(DATA / f"{name}.jsonl")}
    assert not dev_texts & {e.text for e in exemplars}, "dev and blind B-I stay out of the bank"
    # Re-embedding a few exemplars gives the stored vectors (float16 storage aside).
    sample = [0, len(exemplars) // 2, len(exemplars) - 1]
    fresh = layered.embed([exemplars[i].text for i in sample])
    stored = layered.index.vectors[sample]
    assert np.allclose(np.linalg.norm(fresh, axis=1), 1.0, atol=1e-3)
    assert (np.sum(fresh * stored, axis=1) > 0.999).all()


def test_a_stale_vector_file_is_refused(tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    bank.mkdir()
    for path in BANK.glob("*.jsonl"):
        lines = path.read_text(encoding="utf-8").splitlines()
        (bank / path.name).write_text("\n".join(lines[1:]) + "\n", encoding="utf-8")
    assert fingerprint(read_bank(bank)) != fingerprint(read_bank())
    with pytest.raises(SemanticUnavailable, match="does not match"):
        load_index(bank=bank)
    with pytest.raises(SemanticUnavailable, match="missing"):
        load_index(path=tmp_path / "absent.npz")


def test_real_model_reads_meaning_across_languages(layered: LayeredEngine) -> None:
    farewell = layered.embed(
        ["i've said goodbye to everyone, this is the last time you hear from me"]
    )
    farewell_sv = layered.embed(
        ["jag har sagt hejdå till alla, det här är sista gången ni hör av mig"]
    )
    opening = layered.embed(["what are your opening hours on sunday?"])
    assert float(farewell[0] @ farewell_sv[0]) > float(farewell[0] @ opening[0])


def test_development_set_targets_hold_with_the_layer_on(layered: LayeredEngine) -> None:
    """The bank holds no development item, so this is the layer's cost on unseen text:
    it must not push false alarms past the targets the rules meet."""
    result = evaluate(read_items(DATA / "dev.jsonl"), layered)
    for lang, figures in result["by_lang"].items():
        assert figures["recall_high"] >= 0.95, lang
        assert figures["recall_imminent"] >= 0.85, lang
        assert figures["false_alarm_rate"] <= 0.05, (lang, figures)
        assert figures["idiom_false_alarm_rate"] <= 0.10, (lang, figures)


def test_bank_items_with_context_are_skipped(tmp_path: Path) -> None:
    lines = [
        '{"id": "a", "lang": "sv", "text": "nu hör jag bilen", "tier": "high",'
        ' "categories": ["violence"], "context": ["han slog mig igår"]}',
        '{"id": "b", "lang": "sv", "text": "hej", "tier": "none", "categories": ["none"]}',
    ]
    (tmp_path / "corrections.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert [e.id for e in read_bank(tmp_path)] == ["b"]
    assert read_bank(tmp_path)[0].categories == ()


def test_corrections_are_never_quoted() -> None:
    """A counsellor's correction in the bank is a caller's words: a raise names it
    by id only, while the team's exemplars are quoted."""
    exemplars = [
        Exemplar("correction-7", "sv", "callers own words", RiskTier.HIGH, (), quotable=False),
        Exemplar("u2", "en", "urgent two", RiskTier.IMMINENT, ("overdose",)),
        Exemplar("c1", "en", "calm one", RiskTier.NONE, ()),
    ]
    vectors = np.stack([_unit(1, 0.05, 0), _unit(1, 0, 0.05), _unit(0, 0, 1)])
    index = ExemplarIndex(exemplars, vectors)
    verdict = index.verdict(_unit(1, 0.02, 0.02), SemanticSettings(k=2))
    raised = combine(load_engine().assess("x", "en"), verdict, "x")
    reason = raised.evidence[-1].reason
    assert "correction-7 (" in reason and "callers own words" not in reason
    assert "“urgent two”" in reason


def test_a_short_follow_up_is_embedded_with_the_previous_message() -> None:
    embedded: list[str] = []

    def embed(texts: Sequence[str]) -> Vectors:
        embedded.extend(texts)
        return np.stack([_unit(0, 0, 1) for _ in texts])

    settings = SemanticSettings(context_below_words=6)
    layered = LayeredEngine(load_engine(), embed, _index(), settings)
    layered.assess("ok då gör jag så", "sv", ("hej", "kan jag ringa er imorgon?"))
    layered.assess("jag har haft en lång dag på jobbet och vill bara prata lite", "sv", ("hej",))
    layered.assess("kort", "sv")
    assert embedded == [
        "kan jag ringa er imorgon? ok då gör jag så",
        "jag har haft en lång dag på jobbet och vill bara prata lite",
        "kort",
    ]


@pytest.mark.parametrize(
    ("name", "recall_high", "recall_imminent", "false_alarms", "imminent_below_medium"),
    [
        ("blind_b", 0.9, 0.65, 0.25, 2),
        ("blind_c", 0.9, 0.65, 0.25, 2),
        ("blind_f", 0.85, 0.7, 0.2, 2),
        ("blind_g", 0.85, 0.55, 0.15, 4),
        ("blind_h", 0.9, 0.8, 0.1, 1),
        ("blind_i", 0.85, 0.7, 0.15, 1),
    ],
)
def test_blind_sets_keep_what_the_layer_gained(
    layered: LayeredEngine,
    name: str,
    recall_high: float,
    recall_imminent: float,
    false_alarms: float,
    imminent_below_medium: int,
) -> None:
    """Regression floors, not the issue's targets (which these sets do not meet;
    docs/triage.md, "Semantic layer"): blind B, C, F, G, H and I were never tuned on,
    and with the layer they reached recall_high 0.875-1.00 where the rules alone had
    0.46-0.92 (floors a little under what each set measured)."""
    items = read_items(DATA / f"{name}.jsonl")
    rules = evaluate(items, layered.rules)
    both = evaluate(items, layered)
    for lang, figures in both["by_lang"].items():
        assert figures["recall_high"] >= recall_high, (lang, figures)
        assert figures["recall_high"] > rules["by_lang"][lang]["recall_high"], lang
        assert figures["recall_imminent"] >= recall_imminent, (lang, figures)
        assert figures["false_alarm_rate"] <= false_alarms, (lang, figures)
    below_medium = sum(both["confusion"]["imminent"][t] for t in ("none", "low"))
    assert below_medium <= imminent_below_medium
