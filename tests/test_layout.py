"""The package's layout: subpackages by stage, no import cycles, nothing hidden in __init__.py."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "src" / "nncheck"
STAGES = {"files", "engine", "model", "syntax", "rules", "fixes", "frontends"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports_at_load(path: Path) -> set[str]:
    """The nncheck modules a module imports when it is loaded (not inside functions or TYPE_CHECKING)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for inner in ast.walk(node) if not isinstance(node, (ast.FunctionDef, ast.ClassDef)) else ():
            if isinstance(inner, ast.ImportFrom) and inner.module and inner.module.startswith("nncheck"):
                found.add(inner.module)
            elif isinstance(inner, ast.Import):
                found.update(a.name for a in inner.names if a.name.startswith("nncheck"))
    return found


def test_the_package_is_grouped_by_stage() -> None:
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == STAGES
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__.py", "__main__.py", "findings.py", "rule.py", "settings.py"]


def test_subpackage_inits_hold_nothing_but_a_docstring() -> None:
    for init in PACKAGE.glob("*/__init__.py"):
        body = ast.parse(init.read_text(encoding="utf-8")).body
        assert all(isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) for s in body), init


def test_no_import_cycles() -> None:
    graph = {_module_name(p): _imports_at_load(p) for p in PACKAGE.rglob("*.py")}
    # A package's __init__ runs before its modules: importing nncheck.x.y imports nncheck.x.
    for name in list(graph):
        parts = name.split(".")
        graph[name] |= {".".join(parts[:n]) for n in range(1, len(parts))} - {name}
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(name: str, path: list[str]) -> bool:
        state[name] = 1
        for target in sorted(graph.get(name, ())):
            if state.get(target) == 1:
                cycle.extend([*path, name, target])
                return True
            if target not in state and visit(target, [*path, name]):
                return True
        state[name] = 2
        return False

    assert not any(visit(name, []) for name in sorted(graph) if name not in state), " -> ".join(cycle)
