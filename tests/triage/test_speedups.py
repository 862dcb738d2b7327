"""The speed-ups change nothing observable (docs/triage.md, "Measured"): the token
memo, the per-token keys and the pattern index prechecks are checked against the
plain definitions they replace."""

from __future__ import annotations

import dataclasses
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage import engine as engine_module
from triage.engine import Engine
from triage.lexicon import Match, _match
from triage.model import Assessment
from triage.normalise import TOKEN_RE, build_fold_table, normalise_token, tokenise

FOLD = build_fold_table()
# Letters, marks and symbols that exercise folding, leetspeak, apostrophes,
# combining marks, emojis and sentence marks.
ALPHABET = st.sampled_from(list("aeiklmnorst dkj'’.,!?;:_\u0301\u0308ÅÄÖæøßÆ01345💊😂\ufe0f-"))
SAMPLES = [
    "tog 30 alvedon nyss",
    "jag vill inte leva längre",
    "tentan tar livet av mig",
    "I will NOT kill myself",
    "hej, hur mår du?",
    "min kæreste slår mig når han er fuld",
    "how many pills to die, asking for a friend",
    # Words that start patterns both as an exact word and through a stem.
    "hittade hans självmordsbrev efter självmordsförsöket",
]


@given(st.text(ALPHABET, max_size=60))
def test_token_by_token_keys_equal_tokenise(text: str) -> None:
    folded = text.translate(FOLD)
    keys = tuple(normalise_token(token) for token in TOKEN_RE.findall(folded))
    assert keys == tokenise(text, FOLD).keys


def _brute_force(engine: Engine, keys: list[str]) -> set[Match]:
    patterns = engine.lexicon.patterns
    found: set[Match] = set()
    for i, key in enumerate(keys):
        for pid, pattern in enumerate(patterns):
            if pattern.elems[0].accepts(key):
                end = _match(pattern.elems, keys, 1, i + 1)
                if end >= 0:
                    found.add((pid, i, end))
    return found


@pytest.mark.parametrize("text", SAMPLES)
def test_indexed_scan_equals_trying_every_pattern(engine: Engine, text: str) -> None:
    keys = [engine.lexicon.correct(k) for k in tokenise(text, FOLD).keys]
    assert set(engine.lexicon.scan(keys)) == _brute_force(engine, keys)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(SAMPLES) | st.text(ALPHABET, max_size=40), max_size=4))
def test_memo_never_changes_an_assessment(engine: Engine, messages: list[str]) -> None:
    fresh = Engine(engine.lexicon)
    for text in messages:
        warm = engine.assess(text, None, tuple(messages)).to_json()
        assert warm == Engine(engine.lexicon).assess(text, None, tuple(messages)).to_json()
        assert warm == fresh.assess(text, None, tuple(messages)).to_json()


def test_memo_is_bounded_and_refills(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "TOKEN_MEMO_MAX", 5)
    small = Engine(engine.lexicon)
    for text in SAMPLES * 2:
        assert small.assess(text).to_json() == engine.assess(text).to_json()
        assert len(small._token_keys) <= max(5, len(tokenise(text, FOLD).keys))


@pytest.mark.parametrize("text", SAMPLES)
def test_explanation_on_demand_reads_like_an_assessment(engine: Engine, text: str) -> None:
    lazy = engine.assess(text, "sv", ("jag vill inte leva",))
    eager = Assessment(
        tier=lazy.tier,
        score=lazy.score,
        categories=lazy.categories,
        evidence=lazy.evidence,
        reasons=lazy.reasons,
        language=lazy.language,
        rules_fired=lazy.rules_fired,
    )
    fresh = engine.assess(text, "sv", ("jag vill inte leva",))
    assert fresh == eager and eager == fresh and hash(fresh) == hash(eager)
    assert repr(fresh) == repr(eager)
    assert pickle.loads(pickle.dumps(fresh)) == eager
    assert dataclasses.asdict(fresh) == dataclasses.asdict(eager)
    assert dataclasses.replace(fresh, score=0.5).reasons == eager.reasons
    with pytest.raises(dataclasses.FrozenInstanceError):
        fresh.reasons = ()  # type: ignore[misc]
