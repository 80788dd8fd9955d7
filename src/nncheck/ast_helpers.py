"""Small questions about Python's ast nodes, for the rules' pre-screens."""

from __future__ import annotations

import ast
from collections.abc import Iterator

Function = (ast.FunctionDef, ast.AsyncFunctionDef)


def methods(cls: ast.ClassDef, name: str | None = None) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for statement in cls.body:
        if isinstance(statement, Function) and (name is None or statement.name == name):
            yield statement


def starts_with_super_init(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """`super().__init__(...)` is the first statement (after a docstring)."""
    body = func.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    if not body or not isinstance(body[0], ast.Expr) or not isinstance(body[0].value, ast.Call):
        return False
    callee = body[0].value.func
    return (
        isinstance(callee, ast.Attribute)
        and callee.attr == "__init__"
        and isinstance(callee.value, ast.Call)
        and isinstance(callee.value.func, ast.Name)
        and callee.value.func.id == "super"
    )
