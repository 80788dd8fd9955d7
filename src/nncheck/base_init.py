"""Where an nn.Module's `__init__` runs a base class's `__init__` (NNC002, NNC004 and their fixes)."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from nncheck.cst_helpers import (
    calls_in,
    dotted_name,
    first_arg_is,
    first_parameter,
    has_decorator,
    is_super_call,
    method_call_parts,
)
from nncheck.known_modules import is_known_module, module_methods
from nncheck.model import ClassInfo, FileModel


def is_base_init_call(call: cst.Call, self_name: str | None) -> bool:
    """`super().__init__(...)`, `super(Cls, self).__init__(...)` or `Some.Base.__init__(self, ...)`."""
    owner = method_call_parts(call, "__init__")
    if owner is None:
        return False
    if is_super_call(owner):
        return True
    parts = dotted_name(owner)
    # `super.__init__(self)` (no parentheses) raises TypeError: it initialises nothing.
    return parts is not None and parts != ["super"] and first_arg_is(call, self_name)


def init_call_without_self(func: cst.FunctionDef) -> str | None:
    """`nn.Module.__init__()`: a base named explicitly but not given the instance (Python raises
    TypeError). Returns the base."""
    self_name = first_parameter(func)
    for call in calls_in([func.body]):
        owner = method_call_parts(call, "__init__")
        parts = dotted_name(owner) if owner is not None else None
        if parts and parts != ["super"] and not first_arg_is(call, self_name):
            return ".".join(parts)
    return None


def index_of_base_init(
    model: FileModel, cls: ClassInfo, func: cst.FunctionDef, *, unseen_counts: bool = True
) -> int | None:
    """Which top-level statement of `func` first runs a base `__init__` (in any branch), if any.
    A call of a method that itself runs it (`self._setup()`) counts, followed through the class and
    its bases in this file; a method nncheck cannot see (defined in another file) is assumed to."""
    self_name = first_parameter(func)
    for index, statement in enumerate(func.body.body):
        if _runs_base_init(model, cls, [statement], self_name, {func.name.value}, unseen_counts):
            return index
    return None


def _runs_base_init(
    model: FileModel,
    cls: ClassInfo,
    nodes: Sequence[cst.CSTNode],
    self_name: str | None,
    seen: set[str],
    unseen_counts: bool,
) -> bool:
    for call in calls_in(nodes):
        if is_base_init_call(call, self_name):
            return True
        helper = _helper(model, cls, call, self_name)
        if helper is _UNSEEN and unseen_counts:
            return True
        if isinstance(helper, cst.FunctionDef) and helper.name.value not in seen:
            seen.add(helper.name.value)
            instance = _instance_parameter(helper, call, self_name)
            if _runs_base_init(model, cls, [helper.body], instance, seen, unseen_counts):
                return True
    return False


_UNSEEN = object()  # a method defined somewhere nncheck does not read


def _helper(model: FileModel, cls: ClassInfo, call: cst.Call, self_name: str | None) -> object:
    """The method that `self.<name>(...)` calls, _UNSEEN if it may be defined out of sight, or None."""
    func = call.func
    if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == self_name):
        return None
    name = func.attr.value
    if name in module_methods():
        return None  # nn.Module's own methods never run a base __init__
    return _find_method(model, cls, name, set())


def _find_method(model: FileModel, cls: ClassInfo, name: str, visited: set[int]) -> object:
    if id(cls) in visited:
        return None
    visited.add(id(cls))
    methods = cls.methods(name)
    if methods:
        return methods[-1]
    unseen = False
    for parts in cls.base_names:
        target = model.resolve_parts(parts) if parts else None
        if isinstance(target, list) and target:
            for base in target:
                found = _find_method(model, base, name, visited)
                if found is not None:
                    return found
        elif not (isinstance(target, str) and is_known_module(target, model.extra_bases)):
            unseen = True  # another file's class, or an unknown one
    return _UNSEEN if unseen else None


def _instance_parameter(helper: cst.FunctionDef, call: cst.Call, self_name: str | None) -> str | None:
    """The helper's parameter that receives the instance: its first for a plain method; for a
    classmethod or staticmethod, the one the instance is passed to (`cls._build(self, ...)`)."""
    params = [p.name.value for p in [*helper.params.posonly_params, *helper.params.params]]
    static, klass = has_decorator(helper, "staticmethod"), has_decorator(helper, "classmethod")
    if not (static or klass):
        return params[0] if params else None
    offset = 1 if klass else 0
    for position, arg in enumerate(call.args):
        if isinstance(arg.value, cst.Name) and arg.value.value == self_name and not arg.star:
            if arg.keyword is not None:
                return arg.keyword.value
            if offset + position < len(params):
                return params[offset + position]
    return None
