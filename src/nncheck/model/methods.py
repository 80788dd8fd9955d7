"""Which method a `self.<name>(...)` call runs, and which methods run when `forward` runs. Written once
for both trees (see syntax/nodes.py)."""

from __future__ import annotations

from nncheck.model.known_modules import is_known_module
from nncheck.model.views import C, FileView
from nncheck.syntax.nodes import Function, attribute, calls_in, first_parameter, name_of, units


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
    first = find_method(view, cls, start)
    if first is None or isinstance(first, Unseen):
        return []
    found: list[Function] = []
    todo = [first]
    while todo:
        method = todo.pop()
        if any(method is seen for seen in found):
            continue
        found.append(method)
        self_name = first_parameter(method)
        for call in calls_in(units(method)):
            parts = attribute(call.func)
            if parts is not None and self_name is not None and name_of(parts[0]) == self_name:
                called = find_method(view, cls, parts[1])
                if called is not None and not isinstance(called, Unseen):
                    todo.append(called)
    return found
