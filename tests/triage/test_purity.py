"""The triage core is pure (STYLE.md §1): no server, database, event loop or clock."""

from __future__ import annotations

import ast
from pathlib import Path

import triage

FORBIDDEN_MODULES = {"starlette", "asyncpg", "redis", "asyncio", "time", "datetime", "random"}
# The benchmarks are shells around the engine and must read the clock.
SHELL_MODULES = {"bench.py", "semantic_bench.py"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_core_imports_nothing_impure() -> None:
    package = Path(triage.__file__).resolve().parent
    sources = [p for p in package.glob("*.py") if p.name not in SHELL_MODULES]
    assert sources
    for source in sources:
        bad = _imports(source) & FORBIDDEN_MODULES
        assert not bad, f"{source.name} imports {sorted(bad)}"


def test_no_mutable_module_globals() -> None:
    package = Path(triage.__file__).resolve().parent
    for source in package.glob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if all(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                    continue  # the export list is conventionally a list
                value = node.value
                assert not isinstance(value, ast.List | ast.Dict | ast.Set), (
                    f"{source.name}:{node.lineno} mutable module-level value"
                )
