"""Which method a `self.<name>(...)` call runs, and which methods run when `forward` runs. Written once
for both trees (see syntax/nodes.py)."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence

from nncheck.model.known_modules import is_known_module
from nncheck.model.views import AstClass, C, FileView, Screen, holds_line

from nncheck.syntax.nodes import (
    Call,
    Function,
    Unit,
    attribute,
    blocks,
    calls_in,
    first_parameter,
    is_scope,
    name_of,
    units,
)

_INIT = frozenset({"__init__"})
_GUARDS = ("If", "While")  # statements whose body may not run on every call
_SELF_CALLS = "_nncheck_self_calls"  # an ast function's attribute (see _self_calls)


class Unseen:
    """A method defined somewhere nncheck does not read."""


UNSEEN = Unseen()


def find_method(view: FileView[C], cls: C, name: str, visited: set[int] | None = None) -> Function | Unseen | None:
    """The method `name` of `cls`: its own last definition, else the first found through its bases in
    this file (depth first, as a simple MRO); UNSEEN if a base nncheck cannot read may define it."""
    visited = set() if visited is None else visited
    if id(cls) in visited:
        return None
    visited.add(id(cls))
    found = cls.methods(name)
    if found:
        return found[-1]
    unseen = False
    for parts in cls.info.base_names:
        target = view.resolve_parts(parts) if parts else None
        if isinstance(target, list) and target:
            for base in target:
                method = find_method(view, base, name, visited)
                if method is not None:
                    return method
        elif not (isinstance(target, str) and is_known_module(target, view.extra_bases)):
            unseen = True  # another file's class, or an unknown one
    return UNSEEN if unseen else None


def reached_from(view: FileView[C], cls: C, start: str = "forward") -> list[Function]:
    """The methods that run when `start` runs: it, and the methods it calls as `self.<name>(...)`,
    transitively, as this file defines them for an instance of `cls`."""
    return [method for method, _ in reached_with_guards(view, cls, start)]


def reached_with_guards(view: FileView[C], cls: C, start: str = "forward") -> list[tuple[Function, bool]]:
    """As reached_from, with whether each method is only reached through calls under an `if` or a
    `while` (`if n > len(self.table): self.extend(n)`), so that it may not run on every call."""
    key = (id(cls.node), start)
    if key not in view.reached:  # NNC009 and NNC012 both ask, in the screen and in the rules
        view.reached[key] = _reached_with_guards(view, cls, start)
    return view.reached[key]


def _reached_with_guards(view: FileView[C], cls: C, start: str) -> list[tuple[Function, bool]]:
    first = find_method(view, cls, start)
    if first is None or isinstance(first, Unseen):
        return []
    guarded: dict[int, bool] = {}
    order: list[Function] = []
    todo: list[tuple[Function, bool]] = [(first, False)]
    while todo:
        method, under_guard = todo.pop()
        known = guarded.get(id(method))
        if known is not None and (known is False or under_guard):
            continue  # already reached at least as directly
        if known is None:
            order.append(method)
        guarded[id(method)] = under_guard
        for name, guard in _self_calls(method):
            called = find_method(view, cls, name)
            if called is not None and not isinstance(called, Unseen):
                todo.append((called, under_guard or guard))
    return [(method, guarded[id(method)]) for method in order]


def _self_calls(method: Function) -> list[tuple[str, bool]]:
    """The name of each `self.<name>(...)` the method calls, with whether an `if` or a `while` holds it."""
    found: list[tuple[str, bool]] | None = method.__dict__.get(_SELF_CALLS) if isinstance(method, ast.AST) else None
    if found is None:
        self_name = first_parameter(method)
        found = [
            (parts[1], guard) for call, guard in guarded_calls(units(method))
            if self_name is not None and (parts := attribute(call.func)) is not None and name_of(parts[0]) == self_name
        ]
        if isinstance(method, ast.AST):  # kept: a base's methods are reached from each subclass
            setattr(method, _SELF_CALLS, found)
    return found


def guarded_calls(body: Sequence[Unit], guarded: bool = False) -> Iterator[tuple[Call, bool]]:
    """Each call in `body` (not in nested scopes), with whether an `if` or a `while` holds it."""
    for unit in body:
        inner = blocks(unit)
        if inner:
            inside = guarded or type(unit).__name__ in _GUARDS
            for block in inner:
                yield from guarded_calls(block, inside)
            # The test or iterable of the statement itself runs where it stands.
            head = getattr(unit, "test", None) or getattr(unit, "iter", None)
            if head is not None:
                yield from ((call, guarded) for call in calls_in([head]))
        elif not is_scope(unit):
            yield from ((call, guarded) for call in calls_in([unit]))


def may_call_outside_init(screen: Screen, cls: AstClass, names: frozenset[str]) -> bool:
    """A look at the lines: a method of the class or of a base of this file other than `__init__`
    (which `forward` reaches only through another method calling it again, and then this says yes)
    may call something whose name ends in one of `names` (see Screen.call_lines)."""
    lines = screen.call_lines(names)
    if not lines:
        return False
    inits = screen.call_lines(_INIT)
    todo, seen = [cls], set()
    while todo:
        klass = todo.pop()
        if id(klass) in seen:
            continue
        seen.add(id(klass))
        for method in klass.methods():
            if method.name != "__init__" and (holds_line(method, lines) or holds_line(method, inits)):
                return True
        for parts in klass.info.base_names:
            bases = screen.resolve_parts(parts) if parts else None
            if isinstance(bases, list):
                todo.extend(bases)
    return False
