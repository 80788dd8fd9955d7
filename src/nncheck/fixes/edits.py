"""Statement-level rewrites of a function body that fixes are built from."""

from __future__ import annotations

import libcst as cst

from nncheck.syntax.nodes import is_docstring

SUPER_INIT = "super().__init__()"


def _is_docstring(statement: cst.CSTNode) -> bool:
    if isinstance(statement, cst.SimpleStatementLine):
        return len(statement.body) == 1 and is_docstring(statement.body[0])
    return isinstance(statement, cst.BaseSmallStatement) and is_docstring(statement)


def insert_first(func: cst.FunctionDef, code: str) -> cst.FunctionDef:
    """Put the one-line statement `code` first in the body, after the docstring if there is one. The
    block's own indentation and the file's own line ending are used for it."""
    body = func.body
    at = 1 if body.body and _is_docstring(body.body[0]) else 0
    if isinstance(body, cst.IndentedBlock):
        line = cst.parse_statement(code)
        return func.with_changes(body=body.with_changes(body=[*body.body[:at], line, *body.body[at:]]))
    # `def __init__(self): pass` stays on one line: `def __init__(self): super().__init__(); pass`
    small = cst.Expr(cst.parse_expression(code))
    suite = body.with_changes(body=[*body.body[:at], small, *body.body[at:]])
    return func.with_changes(body=suite)


def move_statement(func: cst.FunctionDef, source: int, before: int) -> cst.FunctionDef:
    """Move top-level statement `source` of the body (with its comments) to just before `before`."""
    statements = list(func.body.body)
    moved = statements.pop(source)
    statements.insert(before, moved)
    return func.with_changes(body=func.body.with_changes(body=statements))


def without_statement(block: cst.IndentedBlock, index: int) -> cst.IndentedBlock:
    """The block without its statement number `index`; the comments above it and after it are kept,
    on lines of their own, before the next statement (or at the block's end)."""
    statements = list(block.body)
    removed = statements.pop(index)
    kept = list(getattr(removed, "leading_lines", ()))
    trailing = removed.trailing_whitespace if isinstance(removed, cst.SimpleStatementLine) else None
    if trailing is not None and trailing.comment is not None:
        kept.append(cst.EmptyLine(indent=True, comment=trailing.comment, newline=trailing.newline))
    if index < len(statements):
        following = statements[index]
        leading = list(getattr(following, "leading_lines", ()))
        statements[index] = following.with_changes(leading_lines=[*kept, *leading])
        return block.with_changes(body=statements)
    return block.with_changes(body=statements, footer=[*kept, *block.footer])
