"""Pure modules import no I/O framework and never read the clock (STYLE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_MODULES = {
    "starlette",
    "asyncpg",
    "redis",
    "asyncio",
    "websockets",
    "uvicorn",
    "time",
    "socket",
    "aiosmtplib",
}
PURE_FILES = ["server/matching.py", "server/protocol.py", "server/ratelimit.py", "server/models.py"]


@pytest.mark.parametrize("relative", PURE_FILES)
def test_pure_module_has_no_io_imports(relative: str) -> None:
    tree = ast.parse((ROOT / relative).read_text())
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            assert name.split(".")[0] not in FORBIDDEN_MODULES, f"{relative} imports {name}"
        if isinstance(node, ast.Attribute) and node.attr in {"now", "utcnow", "today"}:
            pytest.fail(f"{relative} reads the clock")
