"""Where an nn.Module's `__init__` runs a base class's `__init__` (NNC002, NNC004 and their fixes)."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from nncheck.cst_helpers import calls_in, dotted_name, first_arg_is, first_parameter, is_super_call, method_call_parts
from nncheck.model import ClassInfo


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
    """`nn.Module.__init__()`: a base named explicitly but not given the instance. Returns the base."""
    self_name = first_parameter(func)
    for call in calls_in([func.body]):
        owner = method_call_parts(call, "__init__")
        parts = dotted_name(owner) if owner is not None else None
        if parts and parts != ["super"] and not first_arg_is(call, self_name):
            return ".".join(parts)
    return None


def index_of_base_init(cls: ClassInfo, func: cst.FunctionDef) -> int | None:
    """Which top-level statement of `func` first runs a base `__init__` (in any branch), if any.
    A call of a method of the same class that itself runs it (`self._setup()`) counts."""
    self_name = first_parameter(func)
    for index, statement in enumerate(func.body.body):
        if _runs_base_init(cls, [statement], self_name, {func.name.value}):
            return index
    return None


def _runs_base_init(cls: ClassInfo, nodes: Sequence[cst.CSTNode], self_name: str | None, seen: set[str]) -> bool:
    for call in calls_in(nodes):
        if is_base_init_call(call, self_name):
            return True
        helper = _own_method_called(cls, call, self_name, seen)
        if helper is not None:
            seen.add(helper.name.value)
            if _runs_base_init(cls, [helper.body], first_parameter(helper), seen):
                return True
    return False


def _own_method_called(cls: ClassInfo, call: cst.Call, self_name: str | None, seen: set[str]) -> cst.FunctionDef | None:
    func = call.func
    if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == self_name):
        return None
    name = func.attr.value
    methods = cls.methods(name) if name not in seen else []
    return methods[-1] if methods else None
