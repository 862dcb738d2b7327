from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from triage.cli import register
from triage.engine import Engine
from triage.evaluation import evaluate

KEYS = {
    "n",
    "recall_high",
    "recall_imminent",
    "false_alarm_rate",
    "idiom_false_alarm_rate",
    "confusion",
    "by_lang",
    "by_hard",
}


def test_shape_and_zero_denominators(engine: Engine) -> None:
    items = [
        {"id": "a", "lang": "en", "text": "what are your opening hours", "tier": "none"},
        {"id": "b", "lang": "en", "text": "i want to kill myself", "tier": "high"},
    ]
    result = evaluate(items, engine)
    assert set(result) == KEYS
    assert result["n"] == 2
    assert result["recall_high"] == 1.0
    assert result["recall_imminent"] == 0.0  # no imminent item: defined as 0.0
    assert result["idiom_false_alarm_rate"] == 0.0
    assert result["confusion"]["high"]["high"] == 1
    assert set(result["by_lang"]["en"]) == {
        "n",
        "recall_high",
        "recall_imminent",
        "false_alarm_rate",
        "idiom_false_alarm_rate",
    }
    assert result["by_hard"] == {}


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_cli_score_json(capsys: pytest.CaptureFixture[str]) -> None:
    args = _parse(["score", "tog 30 alvedon", "--lang", "sv", "--json"])
    assert args.func(args) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["tier"] == "imminent"


def test_cli_score_explains_in_the_chosen_language(capsys: pytest.CaptureFixture[str]) -> None:
    args = _parse(["score", "tog 30 alvedon", "--explain", "da"])
    assert args.func(args) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("tier: imminent")
    # The rule and each match by their Danish meaning, the caller's words quoted.
    assert "har taget en stor mængde medicin [combo.overdose_taken]" in shown
    assert "“alvedon”" in shown
    assert "a large amount of medication taken" not in shown


def test_cli_eval_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "items.jsonl"
    data.write_text(
        json.dumps({"id": "x", "lang": "sv", "text": "hej", "tier": "none", "hard": "idiom"})
        + "\n",
        encoding="utf-8",
    )
    args = _parse(["eval", str(data), "--json"])
    assert args.func(args) == 0
    shown = json.loads(capsys.readouterr().out)
    assert set(shown) == KEYS
    assert shown["by_hard"] == {"idiom": {"n": 1, "accuracy": 1.0}}
