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


def is_explicit_init_call(node: ast.AST, self_name: str | None) -> bool:
    """`Some.Base.__init__(self, ...)` (as base_init.is_base_init_call reads it)."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "__init__"):
        return False
    owner = node.func.value
    while isinstance(owner, ast.Attribute):
        owner = owner.value
    if not isinstance(owner, ast.Name) or (owner.id == "super" and isinstance(node.func.value, ast.Name)):
        return False
    first = node.args[0] if node.args else None
    by_keyword = any(k.arg == self_name and isinstance(k.value, ast.Name) and k.value.id == self_name
                     for k in node.keywords)
    return by_keyword or (isinstance(first, ast.Name) and first.id == self_name)


def first_super_init(func: ast.FunctionDef | ast.AsyncFunctionDef) -> int | None:
    """The index of the first top-level statement that calls a base `__init__` directly, as
    `super().__init__(...)` or `Base.__init__(self, ...)` (in any branch)."""
    params = [*func.args.posonlyargs, *func.args.args]
    self_name = params[0].arg if params else None
    for index, statement in enumerate(func.body):
        if any(is_super_init_call(n) or is_explicit_init_call(n, self_name) for n in walk_here(statement)):
            return index
    return None
