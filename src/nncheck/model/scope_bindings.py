"""How a scope binds its names, and which of those bindings may reach a statement.

Each binding keeps the statement that makes it; each statement its place in source order, its path
through the blocks that hold it and the loops around it, so that the value of a name at a statement
is the join of the bindings that may reach it: the last one that always runs before it, those after
that one, and those a loop around it brings round again.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import TYPE_CHECKING

import libcst as cst

from nncheck.model.table import ClassInfo
from nncheck.syntax.nodes import (
    Expr,
    Function,
    Node,
    Unit,
    as_call,
    assignment,
    augmented,
    blocks,
    class_name,
    dotted,
    elements,
    function_name,
    heads,
    is_function,
    loop,
    name_of,
    pairs,
    walk,
    walrus,
    with_items,
)

if TYPE_CHECKING:
    from nncheck.model.knowledge import Evidence, Owner


class Strength(Enum):
    """How far the uses of a name may settle a binding that leaves it unknown."""

    CLOSED = 0  # an import, a def, a class, `global`, an exception: uses settle nothing
    CALL = 1  # assigned the result of a call nncheck cannot follow: only module evidence counts
    OPEN = 2  # a parameter without annotation, a loop, `with` or unpacking target: any evidence counts


@dataclass(frozen=True)
class Binding:
    """One way a scope binds a name."""

    how: str  # "value", "loop", "unpack", "with", "parameter", "augmented", "other"
    expr: Expr | None = None  # the value, iterable or annotation (or the other operand, for augmented)
    path: tuple[int, ...] = ()  # where the name sits in an unpacking target: (1, 0) for `i, (x, y)`
    sizes: tuple[int, ...] = ()  # the length of the target at each step of path
    instance_of: ClassInfo | None = None  # for the first parameter of a method
    function: Function | None = None  # for a def
    statement: int = 0  # the id of the statement that binds it (0: a parameter, bound on entry)


@dataclass
class Scope:
    owner: Owner
    bindings: dict[str, list[Binding]]
    globals: set[str]
    positions: dict[int, Position]  # each statement of the body, by id
    evidence: Evidence | None = None
    forward: bool = False  # a module class's forward, whose arguments are its inputs


@dataclass(frozen=True)
class Position:
    """Where a statement is: its place in source order, its path of indices through the blocks that
    hold it (statement, block, statement, ...), and the loops around it."""

    order: int
    path: tuple[int, ...]
    loops: tuple[int, ...]


ENTRY = Position(-1, (), ())  # where parameters are bound


def reaching(positions: dict[int, Position], bindings: list[Binding], point: int) -> list[Binding]:
    """The bindings that may reach the statement `point`: the last one that always runs before it,
    those between it and the point, and those in a loop around the point that come round again."""
    here = positions.get(point)
    if here is None:
        return bindings
    placed = [(binding, positions.get(binding.statement, ENTRY)) for binding in bindings]

    def before(at: Position) -> bool:
        return at.order < here.order or holds(at, here)

    def dominates(at: Position) -> bool:
        if at is ENTRY or holds(at, here):
            return True
        depth = len(at.path) - 1
        return depth < len(here.path) and here.path[:depth] == at.path[:depth] and at.path[depth] < here.path[depth]

    # `x += y` adds to what x held: it never hides the bindings before it.
    last = max((at for binding, at in placed if before(at) and dominates(at) and binding.how != "augmented"),
               key=lambda at: at.order, default=None)
    found = []
    for binding, at in placed:
        if before(at) and (last is None or at.order >= last.order):
            found.append(binding)
        elif not before(at) and any(loop in here.loops and (last is None or loop not in last.loops)
                                    for loop in at.loops):
            found.append(binding)  # a loop comes round to the point again
    return found


def holds(outer: Position, inner: Position) -> bool:
    """`outer` is a compound statement (a loop's head, a `with`) whose blocks hold `inner`."""
    return len(outer.path) < len(inner.path) and inner.path[:len(outer.path)] == outer.path


Bind = Callable[[str, Binding], None]


class Collector:
    """A scope's bindings, each with the statement that makes it, and where each statement is."""

    def __init__(self, walrus: bool = True) -> None:
        # False when the text holds no `:=`: then no expression binds a name, and none is walked.
        self._walrus = walrus
        self.bindings: dict[str, list[Binding]] = {}
        self.global_names: set[str] = set()
        self.positions: dict[int, Position] = {}
        self.statement = 0  # the statement being read (0: the entry, where parameters are bound)

    def bind(self, name: str, binding: Binding) -> None:
        self.bindings.setdefault(name, []).append(replace(binding, statement=self.statement))

    def visit(self, block: Sequence[Unit], prefix: tuple[int, ...], loops: tuple[int, ...]) -> None:
        for index, unit in enumerate(block):
            self.statement = here = id(unit)
            path = prefix + (index,)
            self.positions[here] = Position(len(self.positions), path, loops)
            if is_function(unit):
                self.bind(function_name(unit), Binding("other", function=unit))
                continue
            if isinstance(unit, (ast.ClassDef, cst.ClassDef)):
                self.bind(class_name(unit), Binding("other"))
                continue
            inner = blocks(unit)
            if not inner:
                self._read([unit])
                continue
            collect_node(unit, self.bind, self.global_names)  # a loop's target, a `with`'s names
            self._read(heads(unit))
            looping = loop(unit) is not None or isinstance(unit, (ast.While, cst.While))
            for number, part in enumerate(inner):
                self.visit(part, path + (number,), loops + (here,) if looping else loops)
                self.statement = here

    def _read(self, nodes: Sequence[Node]) -> None:
        if not self._walrus:
            for node in nodes:
                if isinstance(node, (ast.stmt, ast.ExceptHandler)):
                    collect_node(node, self.bind, self.global_names)  # its parts are expressions
                elif not isinstance(node, ast.expr):
                    self._read_all([node])  # a pattern (`case [x, *rest]`) nests its captures
            return
        self._read_all(nodes)

    def _read_all(self, nodes: Sequence[Node]) -> None:
        for node in walk(nodes):
            if not isinstance(node, (ast.Lambda, cst.Lambda)):
                collect_node(node, self.bind, self.global_names)


def collect_node(node: Node, bind: Bind, global_names: set[str]) -> None:
    """The bindings one node of a scope's body makes (an annotation adds nothing a value lacks)."""
    plain = assignment(node)
    if plain is not None:
        targets, value = plain
        for target in targets:
            for one, part in pairs(target, value) or [(target, value)]:
                bind_value(one, part, bind)
        return
    grown = augmented(node)
    if grown is not None:
        name = name_of(grown[0])
        if name is not None:
            bind(name, Binding("augmented", grown[1]))
        return
    looped = loop(node)
    if looped is not None:
        for name, path, sizes in target_paths(looped[0]):
            bind(name, Binding("loop", looped[1], path, sizes))
        return
    for _, held in with_items(node):
        if held is not None:
            for name, _, _ in target_paths(held):
                bind(name, Binding("with"))
    named = walrus(node)
    if named is not None and (name := name_of(named[0])) is not None:
        bind(name, Binding("value", named[1]))
        return
    if isinstance(node, (ast.Global, cst.Global)):
        global_names.update(node.names if isinstance(node, ast.Global) else [n.name.value for n in node.names])
        return
    for name in other_names(node):
        bind(name, Binding("other"))


def bind_value(target: Expr, value: Expr, bind: Bind) -> None:
    name = name_of(target)
    if name is not None:
        bind(name, Binding("value", value))
        return
    for found, path, sizes in target_paths(target):
        bind(found, Binding("unpack", value, path, sizes))


def target_paths(target: Expr) -> Iterator[tuple[str, tuple[int, ...], tuple[int, ...]]]:
    """Each name of an assignment target, with where it sits: `i, (x, y)` gives i (0,), x (1, 0), y (1, 1)."""
    name = name_of(target)
    if name is not None:
        yield name, (), ()
        return
    if isinstance(target, (ast.Starred, cst.StarredElement)):
        for found, _, _ in target_paths(target.value):
            yield found, (-1,), (0,)  # a starred name takes a list of what is left: not followed
        return
    parts = elements(target)
    if parts is None:
        return
    for index, part in enumerate(parts):
        for found, path, sizes in target_paths(part):
            yield found, (index, *path), (len(parts), *sizes)


def other_names(node: Node) -> list[str]:
    """Names bound by imports, `except ... as`, `match` captures and `nonlocal`: nothing to follow."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    if isinstance(node, (cst.Import, cst.ImportFrom)):
        if isinstance(node.names, cst.ImportStar):
            return []
        return [(dotted(a.asname.name if a.asname else a.name) or [""])[0] for a in node.names]
    if isinstance(node, ast.ExceptHandler):
        return [node.name] if node.name else []
    if isinstance(node, cst.ExceptHandler) and node.name is not None:
        return [n for n in [name_of(node.name.name)] if n]
    if isinstance(node, (ast.MatchAs, ast.MatchStar)):
        return [node.name] if node.name else []
    if isinstance(node, (cst.MatchAs, cst.MatchStar)) and node.name is not None:
        return [n for n in [name_of(node.name)] if n]
    if isinstance(node, ast.Nonlocal):
        return list(node.names)
    if isinstance(node, cst.Nonlocal):
        return [n.name.value for n in node.names]
    return []


def strength(binding: Binding) -> Strength:
    if binding.how in ("loop", "unpack", "with"):
        return Strength.OPEN
    if binding.how == "parameter":
        # An annotation nncheck cannot read (`int`, `Optional[Tensor]`) says it may be something else.
        return Strength.OPEN if binding.expr is None and binding.instance_of is None else Strength.CLOSED
    if binding.how == "value":
        return Strength.CALL if binding.expr is not None and as_call(binding.expr) is not None else Strength.CLOSED
    return Strength.CLOSED
