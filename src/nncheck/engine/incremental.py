"""The table and the pre-screen of an edited text, from those of the text before the edit.

After reparse (engine.reparse), the top-level statements outside the edited lines are the same ast
objects as before. When the edit replaced class statements by class statements that bind the same
names the same way (the table built from them alone is the same, method lines aside), and no other
statement names those classes, the file's table keeps its meaning: the old table is kept (its
answers too), with each class's method lines brought up to date. The pre-screen's answer for an
unchanged statement can then change only through the file's text (some rules look at it first):
where those looks agree, each unchanged statement keeps its answer and the edited ones, with the
statements outside classes, are screened again (a rule that looks at several statements at once,
such as a class defined twice, looks at the whole tree). Keeping more than the screen would is safe:
the rules find nothing in a class the screen rules out. Anything else means the whole file is
tabled and screened.
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from nncheck.engine.focus import Focus, focus
from nncheck.model.base_init import _DYNAMIC_SUPER
from nncheck.model.build import _Walker
from nncheck.model.table import BindingKind, Table
from nncheck.model.views import AstClass, Screen
from nncheck.rules.nnc011_requires_grad_assigned import _ASSIGNED as _GRAD_ASSIGNED
from nncheck.rules.nnc013_method_not_called import _LINE
from nncheck.rules.nnc014_container_misuse import _CONTAINERS
from nncheck.rules.nnc015_result_discarded import _CELL
from nncheck.rules.nnc016_training_assigned import _ASSIGNED as _TRAINING_ASSIGNED
from nncheck.rules.nnc019_class_attribute_shadows_module import _REGISTERS_BY_NAME, _attributes_written
from nncheck.settings import Settings
from nncheck.syntax.nodes import first_line

__all__ = ["Kept", "keep", "update"]

# What the rules' screens look for in the whole text before walking the tree: an edit that changes
# any of these answers may change the screen's answer for statements it did not touch.
_PATTERNS = (_DYNAMIC_SUPER, _GRAD_ASSIGNED, _LINE, _CONTAINERS, _CELL, _TRAINING_ASSIGNED)
_WORDS = ("ropout", "requires_grad", _REGISTERS_BY_NAME)


def _looks(text: str) -> Hashable:
    return (tuple(p.search(text) is not None for p in _PATTERNS), tuple(w in text for w in _WORDS),
            _attributes_written(text))


@dataclass
class Kept:
    """What a check worked out about one text, for the check of the next."""

    settings: Settings
    context: object  # the project the table was resolved in (None without cross-file resolution)
    table: Table
    text: str
    body: list[ast.stmt]  # the top-level statements
    starts: list[int]  # the line each starts on
    classes: list[list[ast.ClassDef]]  # the class nodes of each (its own and nested ones, in order)
    wanted: list[bool]  # whether the screen keeps it in full
    anywhere: bool  # some rule may report anywhere, or the file has cells: nothing is kept per statement


def keep(settings: Settings, context: object, table: Table, tree: ast.Module, class_nodes: list[ast.ClassDef],
         where: Focus | None, text: str) -> Kept:
    """The state of a full check: its table, and its screen's answer per top-level statement."""
    body = tree.body
    starts = [first_line(statement) for statement in body]
    classes: list[list[ast.ClassDef]] = [[] for _ in body]
    for node in class_nodes:
        classes[max(bisect.bisect_right(starts, node.lineno) - 1, 0)].append(node)
    wanted = [False] * len(body)
    # A notebook's last statement of each cell is shown: whether one is, depends on the statements after it.
    anywhere = (where is not None and where.lines is None) or _CELL.search(text) is not None
    if where is not None and where.lines is not None:
        for line in where.lines:
            wanted[max(bisect.bisect_right(starts, line) - 1, 0)] = True
    return Kept(settings, context, table, text, list(body), starts, classes, wanted, anywhere)


def update(kept: Kept, settings: Settings, context: object, tree: ast.Module, text: str
           ) -> tuple[Table, list[ast.ClassDef], Focus | None, Kept] | None:
    """The table, class nodes and screen answer of the edited text (as a full check would give), and
    the state for the next; None if the whole file must be worked out."""
    if kept.anywhere or kept.settings != settings or kept.context is not context:
        return None
    old_index = {id(statement): i for i, statement in enumerate(kept.body)}
    new_ids = {id(statement) for statement in tree.body}
    removed = [s for s in kept.body if id(s) not in new_ids]
    added = [s for s in tree.body if id(s) not in old_index]
    if not all(isinstance(s, ast.ClassDef) for s in removed + added) or len(removed) != len(added):
        return None
    # The statements kept are the same text: the looks at the whole text agree where those at the rest do.
    kept_old = [(kept.starts[old_index[id(s)]], s) for s in tree.body if id(s) in old_index]
    kept_new = [(first_line(s), s) for s in tree.body if id(s) in old_index]
    if _looks(_outside(kept_old, kept.text)) != _looks(_outside(kept_new, text)):
        return None
    old_table, new_table = _table_of(removed), _table_of(added)
    if _signature(old_table) != _signature(new_table) or _named_elsewhere(new_table, added, text):
        return None
    fresh = iter(_class_nodes(added))
    added_ids = {id(statement) for statement in added}
    classes: list[list[ast.ClassDef]] = []
    wanted: list[bool] = []
    starts: list[int] = []
    moved: list[bool] = []
    for statement in tree.body:
        index = old_index.get(id(statement))
        starts.append(first_line(statement))
        if index is None:
            classes.append(next(fresh))
            wanted.append(False)  # screened below
        else:
            classes.append(kept.classes[index])
            # Statements outside classes are screened again below (they are never left out of libcst).
            wanted.append(kept.wanted[index] and isinstance(statement, ast.ClassDef))
        moved.append(index is None or kept.starts[index] != starts[-1])
    class_nodes = [node for nodes in classes for node in nodes]
    table = kept.table
    infos = iter(table.classes)
    for nodes, changed in zip(classes, moved):
        for node, info in zip(nodes, infos):
            if changed:
                info.method_lines = _method_lines(node)  # the rest of its entry is the same
    edited = {id(node) for nodes, statement in zip(classes, tree.body) if id(statement) in added_ids
              for node in nodes}
    screened = [s for s in tree.body if not isinstance(s, ast.ClassDef) or id(s) in added_ids]
    part = _Part(Screen(table, tree, class_nodes, text), screened, edited)
    where = focus(part, settings)
    if where is not None and where.lines is None:
        return None  # a rule that may report anywhere: the whole file is screened
    for line in where.lines or () if where is not None else ():
        wanted[max(bisect.bisect_right(starts, line) - 1, 0)] = True
    lines = frozenset(start for start, want in zip(starts, wanted) if want)
    state = Kept(settings, context, table, text, list(tree.body), starts, classes, wanted, False)
    return table, class_nodes, (Focus(lines) if lines else None), state


def _outside(statements: list[tuple[int, ast.stmt]], text: str) -> str:
    """The lines of the text outside the statements (each given with the line it starts on there)."""
    lines = text.splitlines(keepends=True)
    parts, line = [], 1
    for start, statement in statements:
        parts.extend(lines[line - 1:start - 1])
        line = start + (statement.end_lineno or statement.lineno) - first_line(statement) + 1
    parts.extend(lines[line - 1:])
    return "".join(parts)


def _lines_of(statements: list[ast.stmt], text: str) -> str:
    lines = text.splitlines(keepends=True)
    return "".join("".join(lines[first_line(s) - 1:s.end_lineno or s.lineno]) for s in statements)


class _Part(Screen):
    """The file as the screen sees it, but only the edited classes and the statements outside classes
    to look at: what the screen asks of the rest (values, bases, other classes) is the whole file's."""

    def __init__(self, whole: Screen, body: list[ast.stmt], tested: set[int]) -> None:
        super().__init__(whole.table, ast.Module(body=body, type_ignores=[]), [], whole.text)
        self._whole = whole  # the values' answers hold it weakly
        self.whole_tree = whole.tree
        self.classes = whole.classes
        self._views = whole._views
        self._values = whole.values
        self._tested = [cls for cls in whole.classes if id(cls.node) in tested]

    def any_module(self, test: Callable[[AstClass], bool]) -> bool:
        classes = [cls for cls in self._tested if not self.table.known_not_module(cls.info)]
        if self.hits is None:
            return any(self.is_module_class(cls) and test(cls) for cls in classes)
        return self.found(cls.node for cls in classes if self.is_module_class(cls) and test(cls))


def _table_of(statements: list[ast.stmt]) -> Table:
    walker = _Walker(keep_nodes=False)
    walker.statements(statements)
    return walker.builder.table()


def _class_nodes(statements: list[ast.stmt]) -> list[list[ast.ClassDef]]:
    found = []
    for statement in statements:
        walker = _Walker(keep_nodes=True)
        walker.statements([statement])
        found.append(walker.class_nodes or [])
    return found


def _method_lines(node: ast.ClassDef) -> dict[str, tuple[int, int]]:
    return {method.name: (method.lineno, method.end_lineno or method.lineno)
            for method in node.body if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _signature(table: Table) -> Hashable:
    """All the table holds but the lines of methods, classes by their place in it."""
    place = {id(info): i for i, info in enumerate(table.classes)}
    classes = tuple(
        (info.name, place[id(info.parent)] if info.parent else None, repr(info.base_names), repr(info.subscripted),
         info.init, info.init_sets, info.call_super_init, info.metaclass, tuple(info.method_lines),
         tuple((name, tuple(place[id(c)] for c in inner)) for name, inner in info.nested.items()))
        for info in table.classes
    )
    bindings = tuple(
        (name, tuple((b.kind, b.qualname, b.parts, place[id(b.cls)] if b.cls else None) for b in found))
        for name, found in table.bindings.items()
    )
    return classes, bindings, table.stars, table.exports


def _named_elsewhere(table: Table, added: list[ast.stmt], text: str) -> bool:
    """A class the edited statements define is named outside them (a subclass, a use): the table's
    answers for other statements, or the screen's, may depend on it. (Their other bindings, the
    same as before, mean what they meant.)"""
    inside = _lines_of(added, text)
    for name, bindings in table.bindings.items():
        if not any(b.kind is BindingKind.CLASS for b in bindings) or text.count(name) == inside.count(name):
            continue  # (counting first: a search of the whole text for the name as a word is slower)
        pattern = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")
        if len(pattern.findall(text)) != len(pattern.findall(inside)):
            return True
    return False
