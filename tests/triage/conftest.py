from __future__ import annotations

from pathlib import Path

import pytest

from triage.engine import Engine, load_engine

DATA = Path(__file__).resolve().parent / "data"
SHARED_DEV = Path(__file__).resolve().parents[3] / "shared" / "triage" / "dev.jsonl"


def dev_path() -> Path:
    """The copy in the repository (CI has no ../shared), else the shared original."""
    local = DATA / "dev.jsonl"
    return local if local.exists() else SHARED_DEV


@pytest.fixture(scope="session")
def engine() -> Engine:
    return load_engine()
