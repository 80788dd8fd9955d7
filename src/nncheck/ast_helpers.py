"""Small questions about Python's ast nodes, for the rules' pre-screens."""

from __future__ import annotations

import ast
from collections.abc import Iterator

Function = (ast.FunctionDef, ast.AsyncFunctionDef)


def methods(cls: ast.ClassDef, name: str | None = None) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for statement in cls.body:
        if isinstance(statement, Function) and (name is None or statement.name == name):
            yield statement


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def walk_here(node: ast.AST) -> Iterator[ast.AST]:
    """ast.walk without entering nested functions, lambdas and classes (their code runs later)."""
    todo = [node]
    while todo:
        current = todo.pop()
        yield current
        todo.extend(child for child in ast.iter_child_nodes(current) if not isinstance(child, _SCOPES))


def is_super_init_call(node: ast.AST) -> bool:
    """`super().__init__(...)` or `super(Cls, self).__init__(...)`."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "__init__"
        and isinstance(node.func.value, ast.Call)
        and isinstance(node.func.value.func, ast.Name)
        and node.func.value.func.id == "super"
    )


def first_super_init(func: ast.FunctionDef | ast.AsyncFunctionDef) -> int | None:
    """The index of the first top-level statement that calls `super().__init__` (in any branch)."""
    for index, statement in enumerate(func.body):
        if any(is_super_init_call(node) for node in walk_here(statement)):
            return index
    return None
