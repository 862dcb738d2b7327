"""The rota is a pure core: no I/O frameworks, no clock, no mutable globals."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import rota

PACKAGE = Path(rota.__file__).parent
SOURCES = sorted(PACKAGE.glob("*.py"))
FORBIDDEN_IMPORTS = {"starlette", "asyncpg", "redis", "asyncio", "aiosmtplib", "uvicorn"}
# The shell may read the clock; everything else takes `now` as an argument.
CLOCK_ALLOWED = {"cli.py"}
CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("date", "today"), ("time", "time")}


def imported_modules(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_io_framework_imports(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert not imported_modules(tree) & FORBIDDEN_IMPORTS


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_clock_reads_outside_the_cli(path: Path) -> None:
    if path.name in CLOCK_ALLOWED:
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            assert (node.value.id, node.attr) not in CLOCK_CALLS, f"{path.name}:{node.lineno}"
        if isinstance(node, ast.ImportFrom) and node.module == "time":
            assert "time" not in {a.name for a in node.names}, path.name


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_mutable_module_globals(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            value = node.value
            assert not isinstance(value, ast.List | ast.Dict | ast.Set), (
                f"{path.name}:{node.lineno}"
            )
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
                assert value.func.id not in {"list", "dict", "set", "defaultdict"}, path.name


def test_future_annotations_everywhere() -> None:
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        if text.strip():
            assert "from __future__ import annotations" in text, path.name
