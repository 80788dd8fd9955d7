"""Line and column of the nodes rules report, from the top-level statements that hold them only.

libcst works positions out by writing the tree back out as code, which costs as much as parsing it.
Python's ast already knows where each top-level statement starts, so each statement is written out
alone (without the blank lines and comments before it), and only until every reported node is found:
in a long file with a finding or two, that is a few statements, not the whole file.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from typing import Union

import libcst as cst
from libcst.metadata import CodeRange, CodePosition, MetadataWrapper, PositionProvider

from nncheck.syntax.nodes import first_line

__all__ = ["Misaligned", "positions_of"]

Statement = Union[cst.SimpleStatementLine, cst.BaseCompoundStatement]


class Misaligned(Exception):
    """A reduced tree (engine.focus) whose statements cannot be matched to the file's: check it whole."""


def positions_of(
    module: cst.Module, tree: ast.Module, lines: list[str], nodes: Iterable[cst.CSTNode],
    skip: frozenset[int] = frozenset(),
) -> dict[int, CodeRange]:
    """Each of `nodes` (by id) with its place in the file; `tree` is Python's ast of the same source,
    `lines` its lines. `skip`: the first lines of statements that hold none of the nodes (the stubs of
    a reduced tree, whose lines are not the file's: only the ast can place its statements)."""
    wanted = {id(node) for node in nodes}
    found: dict[int, CodeRange] = {}
    if not wanted:
        return found
    starts = _starts(module, tree, lines)
    if starts is None and skip:
        raise Misaligned("the reduced tree's statements do not line up with the file's")
    if starts is None:  # the trees disagree: write the whole module out instead
        return {key: value for key, value in _resolve(module).items() if key in wanted}
    for statement, start_line in starts:
        if start_line in skip:
            continue
        alone = statement.with_changes(leading_lines=())
        shift = start_line - 1
        for node, place in _resolve(cst.Module(body=[alone], header=[], footer=[],
                                               default_indent=module.default_indent,
                                               default_newline=module.default_newline)).items():
            key = id(statement) if node == id(alone) else node
            if key in wanted:
                found[key] = CodeRange(CodePosition(place.start.line + shift, place.start.column),
                                       CodePosition(place.end.line + shift, place.end.column))
        if len(found) == len(wanted):
            break
    return found


def _resolve(module: cst.Module) -> dict[int, CodeRange]:
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    return {id(node): place for node, place in positions.items()}


def _starts(module: cst.Module, tree: ast.Module, lines: list[str]) -> list[tuple[Statement, int]] | None:
    """Each top-level statement of libcst's tree with the line it starts on (its first decorator's),
    as Python's ast says; None if the two do not line up."""
    found: list[tuple[Statement, int]] = []
    body: Iterator[ast.stmt] = iter(tree.body)
    for statement in module.body:
        count = len(statement.body) if isinstance(statement, cst.SimpleStatementLine) else 1
        first = next(body, None)
        for _ in range(count - 1):
            next(body, None)
        if first is None:
            return None
        decorators = getattr(statement, "decorators", ())
        if decorators and decorators[0].leading_lines:
            return None  # lines between the statement's own start and its first decorator
        line = first_line(first)
        if decorators and not (line <= len(lines) and lines[line - 1].startswith("@")):
            return None  # a decorator whose expression starts on a later line than its @
        found.append((statement, line))
    return found if next(body, None) is None else None
