"""Python's ast of an edited text, built from the ast of the text before the edit.

An editor sends a change per keystroke, and Python's parser takes about 15 µs a line: a third of a
check of a long file. Most keystrokes change one top-level statement, so only the lines from the end
of the last statement before the change to the start of the first one after it are parsed again;
the statements around them are kept (those after it moved by the lines the edit added or removed).
Kept statements keep what the screens worked out about them (syntax.nodes keeps it on the nodes).

The spliced tree is the tree Python would give the whole new text, or there is none: anything that
could make them differ (a chunk that does not parse alone, a line continued by a backslash into the
change, the one `__future__` import that changes what parses) means the caller parses the whole text.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any, cast

from nncheck.engine.noqa import lines_with_breaks
from nncheck.engine.parsing import python_parse
from nncheck.files.source import SourceError
from nncheck.syntax.nodes import first_line, walk

__all__ = ["reparse"]


def reparse(before: str, tree: ast.Module, after: str) -> ast.Module | None:
    """The ast of `after`, given `tree`, the ast of `before`; None if the whole text must be parsed.
    The statements kept from `tree` are moved in place: `tree` is not to be used afterwards."""
    if "barry_as_FLUFL" in after:
        return None  # the one future import that changes what parses (`<>`)
    old, new = lines_with_breaks(before), lines_with_breaks(after)
    common = min(len(old), len(new))
    same_start = 0
    while same_start < common and old[same_start] == new[same_start]:
        same_start += 1
    same_end = 0
    while same_end < common - same_start and old[-1 - same_end] == new[-1 - same_end]:
        same_end += 1
    first_changed, last_changed = same_start + 1, len(old) - same_end  # of `before`, 1-based
    moved = len(new) - len(old)
    body = tree.body
    starts = [first_line(statement) for statement in body]
    ends = [statement.end_lineno or statement.lineno for statement in body]

    def apart(index: int) -> bool:
        # Statement `index - 1` shares no line with the next one, and no backslash joins them.
        if index == 0:
            return True
        if index < len(body) and ends[index - 1] >= starts[index]:
            return False
        return not _continued(old[ends[index - 1] - 1])

    kept_before = sum(1 for end in ends if end < first_changed)
    while not apart(kept_before):
        kept_before -= 1
    kept_after = kept_before
    while kept_after < len(body) and not (starts[kept_after] > last_changed and apart(kept_after)):
        kept_after += 1
    chunk_first = ends[kept_before - 1] + 1 if kept_before else 1
    chunk_last = starts[kept_after] + moved - 1 if kept_after < len(body) else len(new)
    try:
        chunk = python_parse("".join(new[chunk_first - 1:chunk_last]))
    except SourceError:
        return None  # the whole text is parsed, and its error reported where Python puts it
    _move(chunk.body, chunk_first - 1)
    if moved:
        _move(body[kept_after:], moved)
    return ast.Module(body=body[:kept_before] + chunk.body + body[kept_after:], type_ignores=[])


def _continued(line: str) -> bool:
    return line.rstrip("\r\n").endswith("\\")


def _move(statements: list[ast.stmt], lines: int) -> None:
    nodes = cast(Iterator[Any], walk(statements, enter_scopes=True))  # ast in, ast out
    for node in nodes:
        if "lineno" in node._attributes:
            node.lineno += lines
            if node.end_lineno is not None:
                node.end_lineno += lines
