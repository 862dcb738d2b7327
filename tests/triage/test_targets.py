"""The targets of the issue, per language, on the development and held-out sets."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.triage.conftest import DATA, dev_path
from triage.engine import Engine
from triage.evaluation import evaluate, read_items
from triage.model import RiskTier

SETS = {"dev": dev_path(), "heldout": DATA / "heldout.jsonl"}


@pytest.fixture(scope="module", params=sorted(SETS))
def measured(request: pytest.FixtureRequest, engine: Engine) -> tuple[str, dict[str, object]]:
    path: Path = SETS[request.param]
    return request.param, evaluate(read_items(path), engine)


@pytest.mark.parametrize("lang", ["sv", "da", "en"])
def test_targets_per_language(measured: tuple[str, dict[str, object]], lang: str) -> None:
    name, result = measured
    by_lang = result["by_lang"]
    assert isinstance(by_lang, dict)
    figures = by_lang[lang]
    assert figures["n"] >= 50, name
    assert figures["recall_high"] >= 0.95, (name, figures)
    assert figures["recall_imminent"] >= 0.85, (name, figures)
    assert figures["false_alarm_rate"] <= 0.05, (name, figures)
    assert figures["idiom_false_alarm_rate"] <= 0.10, (name, figures)


def test_no_imminent_message_below_medium(engine: Engine) -> None:
    for path in SETS.values():
        for item in read_items(path):
            if item["tier"] != "imminent":
                continue
            got = engine.assess(item["text"], item["lang"], tuple(item.get("context") or ()))
            assert got.tier >= RiskTier.MEDIUM, (item["id"], got.reasons)
