"""Where an nn.Module's `__init__` runs a base class's `__init__` (NNC002, NNC004, NNC008 and fixes).

Written once for both trees: the pre-screen asks these questions of Python's ast, the rules of
libcst's tree, and both get the same answers.
"""

from __future__ import annotations

from collections.abc import Sequence

from nncheck.model.known_modules import is_known_module, module_methods
from nncheck.model.views import C, FileView
from nncheck.syntax.nodes import (
    Call,
    Function,
    Node,
    attribute,
    calls_in,
    dotted,
    first_parameter,
    function_name,
    has_decorator,
    is_super_call,
    method_owner,
    name_of,
    passes_first,
    positional_parameters,
    units,
)


def is_base_init_call(call: Call, self_name: str | None) -> bool:
    """`super().__init__(...)`, `super(Cls, self).__init__(...)` or `Some.Base.__init__(self, ...)`."""
    owner = method_owner(call, "__init__")
    if owner is None:
        return False
    if is_super_call(owner):
        return True
    parts = dotted(owner)
    # `super.__init__(self)` (no parentheses) raises TypeError: it initialises nothing.
    return parts is not None and parts != ["super"] and passes_first(call, self_name)


def init_call_without_self(func: Function) -> str | None:
    """`nn.Module.__init__()`: a base named explicitly but not given the instance (Python raises
    TypeError). Returns the base."""
    self_name = first_parameter(func)
    for call in calls_in(units(func)):
        owner = method_owner(call, "__init__")
        parts = dotted(owner) if owner is not None else None
        if parts and parts != ["super"] and not passes_first(call, self_name):
            return ".".join(parts)
    return None


def index_of_base_init(view: FileView[C], cls: C, func: Function, *, unseen_counts: bool = True) -> int | None:
    """Which statement of `func`'s body (see nodes.units) first runs a base `__init__` (in any branch),
    if any. A call of a method that itself runs it (`self._setup()`) counts, followed through the class
    and its bases in this file; a method nncheck cannot see (defined in another file) is assumed to."""
    key = ("base init", id(func), unseen_counts)
    if key not in view.answers:
        self_name = first_parameter(func)
        view.answers[key] = next(
            (index for index, unit in enumerate(units(func))
             if _runs_base_init(view, cls, [unit], self_name, {function_name(func)}, unseen_counts)),
            None,
        )
    return view.answers[key]


def _runs_base_init(
    view: FileView[C], cls: C, nodes: Sequence[Node], self_name: str | None, seen: set[str], unseen_counts: bool
) -> bool:
    for call in calls_in(nodes):
        if is_base_init_call(call, self_name):
            return True
        helper = _helper(view, cls, call, self_name)
        if isinstance(helper, _Unseen):
            if unseen_counts:
                return True
        elif helper is not None and function_name(helper) not in seen:
            seen.add(function_name(helper))
            instance = _instance_parameter(helper, call, self_name)
            if _runs_base_init(view, cls, units(helper), instance, seen, unseen_counts):
                return True
    return False


class _Unseen:
    """A method defined somewhere nncheck does not read."""


_UNSEEN = _Unseen()


def _helper(view: FileView[C], cls: C, call: Call, self_name: str | None) -> Function | _Unseen | None:
    """The method that `self.<name>(...)` calls, _UNSEEN if it may be defined out of sight, or None."""
    parts = attribute(call.func)
    if parts is None or self_name is None or name_of(parts[0]) != self_name:
        return None
    if parts[1] in module_methods():
        return None  # nn.Module's own methods never run a base __init__
    return _find_method(view, cls, parts[1], set())


def _find_method(view: FileView[C], cls: C, name: str, visited: set[int]) -> Function | _Unseen | None:
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
                method = _find_method(view, base, name, visited)
                if method is not None:
                    return method
        elif not (isinstance(target, str) and is_known_module(target, view.extra_bases)):
            unseen = True  # another file's class, or an unknown one
    return _UNSEEN if unseen else None


def _instance_parameter(helper: Function, call: Call, self_name: str | None) -> str | None:
    """The helper's parameter that receives the instance: its first for a plain method; for a
    classmethod or staticmethod, the one the instance is passed to (`cls._build(self, ...)`)."""
    params = positional_parameters(helper)
    static, klass = has_decorator(helper, "staticmethod"), has_decorator(helper, "classmethod")
    if not (static or klass):
        return params[0] if params else None
    offset = 1 if klass else 0
    for position, (value, starred) in enumerate(call.positional):
        if not starred and name_of(value) == self_name:
            return params[offset + position] if offset + position < len(params) else None
    for keyword, value in call.keywords:
        if keyword is not None and name_of(value) == self_name:
            return keyword
    return None
