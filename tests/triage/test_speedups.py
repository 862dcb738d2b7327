"""The speed-ups change nothing observable (docs/triage.md, "Measured"): the token
and chunk memos, the per-token keys, the pattern index prechecks and the hand-written
constructors are checked against the plain definitions they replace."""

from __future__ import annotations

import dataclasses
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage import engine as engine_module
from triage.bench import TYPICAL_MESSAGES
from triage.engine import Engine
from triage.lexicon import Lexicon, Match, _match
from triage.model import Assessment, Evidence, RiskTier
from triage.normalise import (
    _DOUBLES,
    CHUNK_SEPARATOR,
    NORDIC_PLAIN,
    TOKEN_RE,
    _collapse,
    build_fold_table,
    fold_text,
    normalise_token,
    split_chunk,
    tokenise,
)

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
    # Scandinavian vowels: a word the lexicon has with them, one it has without, a typo.
    "jag är på tåget, jeg står på taget, selvmårdstanker, min søn dør",
    *TYPICAL_MESSAGES,
    # Spaces, tabs, a no-break space and a chunk longer than CHUNK_MEMO_MAX_CHARS.
    "jag  vill\tdö,\u00a0nu ikväll...tog 30 alvedon,,och.ta_livet_av_mig_innan_ikväll_nu",
]
# Text with white space of several kinds, for the chunked tokeniser.
SPACED = st.text(st.sampled_from([*"aeiklmnorst dkj'’.,!?;:_\u0301ÅÄæø01💊-", " ", "\t", "\u00a0"]))


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


def _plain_collapse(text: str) -> str:
    for double, single in _DOUBLES:
        while double in text:
            text = text.replace(double, single)
    return text


@given(st.text(st.sampled_from(list("aabbkl.,..,,x")), max_size=30))
def test_collapse_shortcut_equals_the_loop(text: str) -> None:
    assert _collapse(text) == _plain_collapse(text)


@given(SPACED)
def test_chunks_tokenise_like_the_whole_text(text: str) -> None:
    folded = text.translate(FOLD)
    tokens: list[str] = []
    spans: list[tuple[int, int]] = []
    base = 0
    for chunk in folded.split(CHUNK_SEPARATOR):
        chunk_tokens, starts, ends = split_chunk(chunk)
        if chunk.isalnum():
            # The engine's shortcut for a one-word chunk.
            assert (chunk_tokens, starts, ends) == ([chunk], [0], [len(chunk)])
        tokens.extend(chunk_tokens)
        spans.extend((base + start, base + end) for start, end in zip(starts, ends, strict=True))
        base += len(chunk) + 1
    assert tokens == TOKEN_RE.findall(folded)
    assert spans == [m.span() for m in TOKEN_RE.finditer(folded)]


@settings(max_examples=200, deadline=None)
@given(SPACED | st.sampled_from(SAMPLES))
def test_engine_keys_and_offsets_equal_the_plain_definition(engine: Engine, text: str) -> None:
    lexicon = engine.lexicon
    folded = fold_text(text, lexicon.text_fold, lexicon.ascii_fold, lexicon.text_latin1_fold)
    chunks = folded.split(CHUNK_SEPARATOR)
    engine._learn(chunks)
    keys = " ".join(map(engine._keys_of, chunks)).split()
    found = TOKEN_RE.finditer(folded)
    assert keys == [_plain_key(lexicon, m.group()) for m in found]
    assert all(key and key.split() == [key] for key in keys)
    assert [engine._key_starts[key] for key in keys] == [
        None if lexicon.singles(k) is None else lexicon.starts(lexicon.singles(k) or (), 1)
        for k in keys
    ]
    spans = engine_module._Spans(chunks, engine._spans_of(chunks))
    plain = [m.span() for m in TOKEN_RE.finditer(folded)]
    for i in range(len(plain)):
        for j in range(i + 1, min(len(plain), i + 4) + 1):
            assert spans.char_span(i, j) == (plain[i][0], plain[j - 1][1])


def test_unmixed_starts_are_in_pattern_order(engine: Engine) -> None:
    lexicon = engine.lexicon
    every = [*lexicon.pair_starts.values()]
    every += [s for s in map(lexicon.starts, lexicon.first_exact.values(), [1] * 9999) if s]
    for at_once, by_next, rest, mixed in every:
        if not mixed:
            order = [*at_once]
            order += sorted({pid for found in by_next.values() for pid, _, _ in found})
            order += [pid for pid, _, _ in rest]
            assert order == sorted(order) or not (at_once or by_next)


def test_chunk_memo_is_bounded_and_never_changes_a_result(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "CHUNK_MEMO_MAX", 3)
    monkeypatch.setattr(engine_module, "CHUNK_MEMO_MAX_CHARS", 4)
    small = Engine(engine.lexicon)
    for text in SAMPLES * 2:
        assert small.assess(text, None, ("jag vill dö",)).to_json() == (
            engine.assess(text, None, ("jag vill dö",)).to_json()
        )
        assert len(small._chunk_keys) <= max(3, len(text.split(CHUNK_SEPARATOR)))
        assert all(len(chunk) <= 4 for chunk in small._chunk_keys)


EVIDENCE_FIELDS = st.tuples(
    st.integers(),
    st.integers(),
    st.text(max_size=5),
    st.text(max_size=5),
    st.text(max_size=5),
    st.none() | st.text(max_size=5),
    st.sampled_from(list(RiskTier)),
    st.text(max_size=5),
    st.text(max_size=5),
    st.text(max_size=5),
    st.none() | st.integers(),
)


@dataclasses.dataclass(frozen=True, slots=True)
class _PlainEvidence:
    """Evidence with the generated __init__ (the definition Evidence's replaces)."""

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


@given(EVIDENCE_FIELDS)
def test_evidence_init_equals_the_generated_one(values: tuple[object, ...]) -> None:
    evidence = Evidence(*values)  # type: ignore[arg-type]
    plain = _PlainEvidence(*values)  # type: ignore[arg-type]
    assert dataclasses.astuple(evidence) == dataclasses.astuple(plain) == values
    assert repr(evidence) == repr(plain).replace("_PlainEvidence", "Evidence")
    names = [field.name for field in dataclasses.fields(Evidence)]
    assert Evidence(**dict(zip(names, values, strict=True))) == evidence
    assert Evidence(*values[:-1]).source is None  # type: ignore[arg-type]
    assert pickle.loads(pickle.dumps(evidence)) == evidence
    assert dataclasses.replace(evidence, start=0).start == 0
    assert evidence.to_json()["tier"] == evidence.tier.name.lower()
    with pytest.raises(dataclasses.FrozenInstanceError):
        evidence.start = 1  # type: ignore[misc]


def test_tier_labels_are_the_lower_case_names() -> None:
    assert [tier.label for tier in RiskTier] == [tier.name.lower() for tier in RiskTier]


def _plain_key(lexicon: Lexicon, token: str) -> str:
    """A token's key by the definition (docs/triage.md, "Normalisation"): the word
    the lexicon has with å ä ö as typed, or else the plain key, corrected."""
    nordic = normalise_token(token)
    if token.translate(NORDIC_PLAIN) != token and lexicon.knows_nordic(nordic):
        return nordic
    return lexicon.correct(normalise_token(token.translate(NORDIC_PLAIN)))
