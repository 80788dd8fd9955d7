"""Where a finding is possible: the pre-screen's answer per top-level class, and the source libcst is
given when only some classes can report.

libcst costs about 70 µs a line to parse and as much again for the rules and positions; Python's ast,
which the screen reads, about a tenth of that. So a class statement that no rule can report on (and
that no class which can report inherits from) is replaced, before libcst sees the file, by a stub of
the same name on its first line, and the rest of its lines dropped (libcst pays for blank lines too).
Other statements move up, so their positions are taken per statement from Python's ast
(engine.positions). A rule that asks about a class that was stubbed makes the whole file checked
instead (`NeedsWholeFile`); so does any surprise in building the reduced source or placing its nodes.
"""

from __future__ import annotations

import ast
import bisect
from dataclasses import dataclass

from nncheck.engine.noqa import split_keeping_breaks
from nncheck.engine.rule_set import selected_rules
from nncheck.model.table import ClassInfo, Table
from nncheck.model.views import NeedsWholeFile, Screen
from nncheck.settings import Settings
from nncheck.syntax.nodes import first_line

__all__ = ["Focus", "NeedsWholeFile", "Reduced", "focus", "reduce"]


@dataclass(frozen=True)
class Focus:
    """The lines on which some rule may report, or None for anywhere in the file; and the rules whose
    screens found they report nothing on it, whose checks are not run."""

    lines: frozenset[int] | None
    quiet: frozenset[str] = frozenset()


def focus(screen: Screen, settings: Settings) -> Focus | None:
    """None when no rule can report on the file; otherwise where they may."""
    hits: list[int] = []
    screen.hits = hits
    anywhere = False
    quiet: set[str] = set()
    try:
        for rule in selected_rules(settings):
            before = len(hits)
            if rule.might_report(screen):
                if rule.whole_file or len(hits) == before:
                    # A rule that cannot say where (or whose findings depend on the whole file).
                    anywhere = True
                    break
            else:
                quiet.add(rule.code)
    finally:
        screen.hits = None
    if anywhere:
        return Focus(None, frozenset(quiet))
    return Focus(frozenset(hits), frozenset(quiet)) if hits else None


@dataclass(frozen=True)
class Reduced:
    """The source libcst is given, and the classes (by their place in the table) it holds in full."""

    text: str
    kept: frozenset[int]
    stubs: frozenset[int]  # the lines the stubs are on


def reduce(text: str, tree: ast.Module, table: Table, class_nodes: list[ast.ClassDef], where: Focus) -> Reduced | None:
    """The text with each top-level class that cannot matter replaced by a stub; None to check it whole."""
    if where.lines is None or len(class_nodes) != len(table.classes):
        return None
    body = tree.body
    starts = [first_line(statement) for statement in body]
    owner = [bisect.bisect_right(starts, node.lineno) - 1 for node in class_nodes]  # top-level statement
    wanted = {bisect.bisect_right(starts, line) - 1 for line in where.lines}
    index_of = {id(info): i for i, info in enumerate(table.classes)}
    # The classes of a wanted statement need their bases from this file in full too (methods are inherited).
    pending = [i for i, statement in enumerate(owner) if statement in wanted]
    while pending:
        for base in _local_bases(table, table.classes[pending.pop()]):
            statement = owner[index_of[id(base)]]
            if statement not in wanted:
                wanted.add(statement)
                pending.extend(i for i, s in enumerate(owner) if s == statement)
    stubbed = [i for i, statement in enumerate(body) if isinstance(statement, ast.ClassDef) and i not in wanted]
    if not stubbed:
        return None
    parts = split_keeping_breaks(text)  # line n is parts[2 * (n - 1)]
    for index in stubbed:
        stub = body[index]
        assert isinstance(stub, ast.ClassDef)
        first, last = starts[index], stub.end_lineno or stub.lineno
        if not (1 <= first <= last <= (len(parts) + 1) // 2) or parts[2 * (first - 1)][:1] not in ("@", "c"):
            return None  # not where Python says: a decorator spread over lines, say
        # The same name keeps the module's bindings as they were, for the rules that read them.
        parts[2 * (first - 1)] = f"class {stub.name}: pass"
        for number in range(first, last):
            parts[2 * number - 1] = parts[2 * number] = ""
    kept = frozenset(i for i, statement in enumerate(owner) if statement in wanted)
    return Reduced("".join(parts), kept, frozenset(starts[index] for index in stubbed))


def _local_bases(table: Table, info: ClassInfo) -> list[ClassInfo]:
    found: list[ClassInfo] = []
    for parts in info.base_names:
        target = table.resolve_parts(parts) if parts else None
        if isinstance(target, list):
            found.extend(target)
    return found
