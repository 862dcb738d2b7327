from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from triage.normalise import build_fold_table, token_key, tokenise

FOLD = build_fold_table()


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("Jag TÄNKER", ("jag", "tanker")),
        ("tank", ("tank",)),  # "tänk" typed without the key meets "tänk"
        ("død", ("dod",)),
        ("dod", ("dod",)),
        ("græder", ("graeder",)),
        ("graeder", ("graeder",)),
        ("döööö", ("do",)),
        ("pleeeease", ("please",)),
        ("k1ll mys3lf", ("kil", "myself")),
        ("30 alvedon", ("30", "alvedon")),
        ("don't", ("dont",)),
        ("rope’s tied", ("ropes", "tied")),
        ("hej!! hur mår du?", ("hej", ".", "hur", "mar", "du", ".")),
        ("ja, nej", ("ja", ",", "nej")),
        ("💊💊💊", ("💊", "💊", "💊")),
        ("🗑️🗑️", ("🗑", "🗑")),
        ("ta\u0308nker", ("tanker",)),  # decomposed ä (NFD)
        ("kill_myself", ("kil", "myself")),
    ],
)
def test_keys(text: str, keys: tuple[str, ...]) -> None:
    assert tokenise(text, FOLD).keys == keys


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        ("Jag VILL dö", [(0, 3), (4, 8), (9, 11)]),
        ("döööö nu", [(0, 5), (6, 8)]),
        ("græder!", [(0, 6), (6, 7)]),
        ("ta\u0308nker x", [(0, 7), (8, 9)]),
    ],
)
def test_spans_point_into_original(text: str, spans: list[tuple[int, int]]) -> None:
    assert tokenise(text, FOLD).spans() == spans


def test_lexicon_words_normalise_like_messages() -> None:
    assert token_key("Självmord", FOLD) == tokenise("sjalvmord", FOLD).keys[0]
    assert token_key("tabletter", FOLD) == token_key("tabletterrr", FOLD)


@given(st.text(max_size=300))
def test_keys_and_spans_align(text: str) -> None:
    tokens = tokenise(text, FOLD)
    spans = tokens.spans()
    for start, end in spans:
        assert 0 <= start < end <= len(text)
    # Rewriting stays inside tokens, so there is one span per key.
    assert len(spans) == len(tokens.keys)
