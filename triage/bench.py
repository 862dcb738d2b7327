"""Throughput and latency benchmark (not a test): `python -m triage.bench`.

This module is the shell, so it may read the clock; the engine never does.
"""

from __future__ import annotations

import json
import time

from triage.engine import Engine, load_engine

# Typical caller messages of about 100 characters (100.5 on average, as the goal is
# stated) in the three languages, mixing calm and risky ones so that every stage of
# the pipeline is exercised.
TYPICAL_MESSAGES: tuple[str, ...] = (
    "hej, jag har mått rätt dåligt på jobbet sen i våras och vet inte "
    "riktigt vem jag ska prata med om det",
    "jeg har tænkt på at tage mit liv i et stykke tid nu, men jeg har ikke "
    "lagt nogen plan om det endnu",
    "my boss is killing me with these shifts lol, anyway are you open on "
    "sunday for a quick chat about it?",
    "tog 20 alvedon för en timme sen och nu har jag ont i magen och mår "
    "illa, vet inte vad jag ska göra nu",
    "min kæreste slår mig når han er fuld, i går fik jeg et blåt øje, og "
    "han kommer hjem klokken 6 i aften",
    "i don't want to be alive anymore but i would never actually do "
    "anything about it, i'm just too scared",
)


def _long_message() -> str:
    unit = "jag vet inte längre, allt känns tungt och jobbigt och ingen förstår mig. "
    text = (unit * (1000 // len(unit) + 1))[:960] + " tar alla piller ikväll"
    return text[:1000]


def _throughput(engine: Engine, seconds: float, mode: str) -> float:
    """Assessments per second over TYPICAL_MESSAGES for about `seconds`.

    `mode` is "warm" (the engine's per-token memos filled, as in a running server),
    "cold" (memos emptied before every message: no help from the benchmark repeating
    its six messages) or "explained" (warm, and the evidence and reasons are read
    and turned into JSON as server/risk.py does for every message with evidence).
    """
    count = 0
    deadline = time.perf_counter() + seconds
    begin = time.perf_counter()
    while time.perf_counter() < deadline:
        for message in TYPICAL_MESSAGES:
            if mode == "cold":
                engine.clear_memos()
            assessment = engine.assess(message)
            if mode == "explained" and assessment.evidence:
                [e.to_json() for e in assessment.evidence if e.source is None]
                list(assessment.reasons)
        count += len(TYPICAL_MESSAGES)
    return count / (time.perf_counter() - begin)


def run_benchmark(seconds: float = 2.0, engine: Engine | None = None) -> dict[str, float]:
    """Measure load time, throughput on ~100-character messages (warm, with memos
    emptied before every message, and with the explanation read) and p99 latency on
    messages up to 1,000 characters; about `seconds` in all."""
    started = time.perf_counter()
    loaded = load_engine()
    load_ms = (time.perf_counter() - started) * 1000.0
    engine = engine or loaded

    throughput = _throughput(engine, seconds / 4, "warm")
    cold = _throughput(engine, seconds / 8, "cold")
    explained = _throughput(engine, seconds / 8, "explained")

    samples = (*TYPICAL_MESSAGES, _long_message(), _long_message()[:500])
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds / 2
    while time.perf_counter() < deadline:
        for message in samples:
            t0 = time.perf_counter()
            engine.assess(message, context=("jag vill inte leva längre",))
            latencies.append(time.perf_counter() - t0)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return {
        "load_ms": round(load_ms, 2),
        "assessments_per_second": round(throughput, 1),
        "assessments_per_second_memos_emptied": round(cold, 1),
        "assessments_per_second_explanation_read": round(explained, 1),
        "p99_latency_ms_up_to_1000_chars": round(p99 * 1000.0, 4),
        "mean_message_chars": round(
            sum(len(m) for m in TYPICAL_MESSAGES) / len(TYPICAL_MESSAGES), 1
        ),
    }


if __name__ == "__main__":
    print(json.dumps(run_benchmark(), indent=2))
