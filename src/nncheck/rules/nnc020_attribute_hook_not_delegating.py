from __future__ import annotations

import ast
from collections.abc import Iterator

import libcst as cst

from nncheck.model.known_modules import MODULE_ITSELF, PARAMETERISED_LAYERS, STATELESS_LAYERS, torch_layer
from nncheck.model.methods import Unseen, find_method
from nncheck.model.values import Kind
from nncheck.model.views import C, FileModel, FileView, Screen
from nncheck.rule import FixAvailability, Report, Rule
from nncheck.syntax.nodes import (
    Expr,
    Function,
    Node,
    as_call,
    assignment,
    attribute,
    attributes_in,
    calls_in,
    conditional,
    dotted,
    first_parameter,
    function_name,
    has_decorator,
    is_string,
    is_super_call,
    method_owner,
    name_of,
    only_raises,
    pairs,
    simple_units,
    string_value,
    units,
    walk,
)

_HOOKS = ("__setattr__", "__getattr__")
_REGISTRIES = frozenset({"_modules", "_parameters", "_buffers"})
_REGISTERING = frozenset({"register_buffer", "register_parameter", "add_module", "register_module"})


class AttributeHookNotDelegating(Rule):
    """A module's `__setattr__` or `__getattr__` never reaches nn.Module's.

    **What it finds.** In an nn.Module subclass that has something to register (a method assigns a
    submodule or a Parameter to `self`, or registers a buffer, or a base is a torch layer with
    parameters; for `__getattr__`, any torch.nn class with state, such as `nn.DataParallel`), a
    `__setattr__` that on no path calls the base class's (`super().__setattr__(...)`,
    `nn.Module.__setattr__(self, ...)` or another base's), for instance one that only calls
    `object.__setattr__` or writes `self.__dict__`; and a `__getattr__` that on no path calls the base
    class's `__getattr__` and never raises `AttributeError`. A call of one of the class's own methods
    that does either counts (followed through this file; a method defined elsewhere is assumed to).
    Not reported: overrides that handle some names themselves and delegate the rest, a `__getattr__`
    that tries `super().__getattr__(name)` first and falls back, hooks that read `self._modules`,
    `_parameters` or `_buffers` themselves (also as `self.__dict__["_modules"]`), bodies that only
    raise, classes that register nothing (skipping nn.Module's checks on purpose, for speed), and
    classes that are not modules.

    **Why is this a bug.** nn.Module registers layers, parameters and buffers in its own
    `__setattr__`: one that never reaches it leaves them out, so a module whose `__init__` then assigns
    `self.fc = nn.Linear(...)` has no parameters, `state_dict()` is empty and `.to()` moves nothing.
    Registered submodules, parameters and buffers live in `_modules`, `_parameters` and `_buffers`,
    found only by nn.Module's `__getattr__`: one that never reaches it and never raises
    AttributeError hides them all, and `self.fc` gives whatever it returns (`None`); in a subclass of
    `nn.DataParallel` that forwards to `getattr(self.module, name)`, `self.module` itself is looked up
    there, endlessly (`RecursionError`) (torch 2.13).

    **Example.**

        class Frozen(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)

            def __setattr__(self, name, value):
                object.__setattr__(self, name, value)

    **Instead.** Handle the special names, and hand everything else to nn.Module:

        class Frozen(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)

            def __setattr__(self, name, value):
                if name == "frozen":
                    object.__setattr__(self, name, value)
                    return
                super().__setattr__(name, value)

    **Fix.** None: what the override is for is for a person to see.
    """

    code = "NNC020"
    name = "attribute-hook-not-delegating"
    fix_availability = FixAvailability.NONE
    message = (
        "{cls}.{hook} never calls nn.Module.{hook}{why}; call super().{hook}(...) for the names it does not handle"
    )
    why_set = ", so the layers, parameters and buffers assigned to the module are never registered"
    why_get = " nor raises AttributeError, so it hides every submodule, parameter and buffer"

    valid = (
        """
from torch import nn

class Frozen(nn.Module):
    def __setattr__(self, name, value):
        if name == "frozen":
            object.__setattr__(self, name, value)
            return
        super().__setattr__(name, value)

class Fallback(nn.Module):
    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.inner, name)

class Named(nn.Module):
    def __setattr__(self, name, value):
        nn.Module.__setattr__(self, name, value)

    def __getattr__(self, name):
        if name.startswith("cfg_"):
            return self.config[name[4:]]
        raise AttributeError(name)

class Plain:
    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)

    def __getattr__(self, name):
        return None
""",
        """
from torch import nn

class Base(nn.Module):
    def __setattr__(self, name, value):
        super().__setattr__(name, value)

class Child(Base):
    def __setattr__(self, name, value):
        self._record(name)
        Base.__setattr__(self, name, value)

    def _record(self, name):
        self.__dict__.setdefault("seen", []).append(name)

class Helper(nn.Module):
    def __setattr__(self, name, value):
        self._store(name, value)

    def _store(self, name, value):
        super().__setattr__(name, value)

class ReadOnly(nn.Module):
    def __setattr__(self, name, value):
        raise TypeError("read-only")
""",
        """
import torch
from torch import nn

class Fast(nn.Module):  # registers nothing: skipping nn.Module's checks is on purpose
    def __init__(self):
        super().__init__()
        self.total = torch.zeros(1)

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)

class Proxy(nn.Module):  # handles its one submodule itself
    def __init__(self, model):
        super().__init__()
        self.model = nn.Sequential(model)

    def __getattr__(self, name):
        return self._modules["model"] if name == "model" else getattr(self.model, name)
""",
    )
    invalid = (
        """
import torch
from torch import nn

class Frozen(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def __setattr__(self, name, value):  # NNC020
        object.__setattr__(self, name, value)

class Direct(nn.Linear):
    def __setattr__(self, name, value):  # NNC020
        self.__dict__[name] = value

class Passthrough(nn.DataParallel):
    def __getattr__(self, name):  # NNC020
        return getattr(self.module, name)

class Config(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.register_buffer("scale", torch.ones(1))

    def __getattr__(self, name):  # NNC020
        return self.__dict__["config"].get(name)
""",
    )

    @classmethod
    def might_report(cls, screen: Screen) -> bool:
        return screen.any_module(lambda node: bool(_not_delegating(screen, node)))

    def check(self, model: FileModel) -> Iterator[Report]:
        for cls in model.module_classes():
            for hook in _not_delegating(model, cls):
                if isinstance(hook, cst.FunctionDef):
                    name = function_name(hook)
                    why = self.why_set if name == "__setattr__" else self.why_get
                    yield self.report(hook, cls=cls.qualname, hook=name, why=why)


def _not_delegating(view: FileView[C], cls: C) -> list[Function]:
    found: list[Function] = []
    for hook in _HOOKS:
        for method in cls.methods(hook):
            if has_decorator(method, "overload") or only_raises(method) or _reads_registries(method):
                continue
            if not _delegates(view, cls, method, hook, set()) and _registers(view, cls, hook):
                found.append(method)
    return found


def _reads_registries(method: Function) -> bool:
    """The hook handles registered values itself (`self._modules[name]`, or avalanche's
    `self.__dict__["_modules"][name]`)."""
    return any(name in _REGISTRIES for _, name in attributes_in(units(method))) or any(
        string_value(node) in _REGISTRIES for node in walk(units(method)) if is_string(node)
    )


def _registers(view: FileView[C], cls: C, hook: str) -> bool:
    """The class certainly has something registered that the hook mishandles: a method of it assigns
    a submodule or a Parameter to an attribute of the instance (for __getattr__, or registers one with
    `register_buffer` and the like), or a base is a torch layer with parameters (for __getattr__, any
    torch.nn class with state: `nn.DataParallel` holds its `module`)."""
    for base in cls.bases:
        named = view.resolve(base)
        layer = torch_layer(named) if isinstance(named, str) and named not in MODULE_ITSELF else None
        if layer in PARAMETERISED_LAYERS:
            return True  # its __init__ assigns its parameters through __setattr__
        if hook == "__getattr__" and layer is not None and layer not in STATELESS_LAYERS:
            return True  # a torch class with state, such as nn.DataParallel's `module`, looked up there

    for method in cls.methods():
        self_name = first_parameter(method)
        for unit in simple_units(units(method)):
            bound = assignment(unit)
            for target, value in [p for t in bound[0] for p in pairs(t, bound[1])] if bound else []:
                owner = attribute(target)
                if owner is not None and name_of(owner[0]) == self_name and _is_state(view, value, method, unit):
                    return True
            if hook == "__getattr__":
                for call in calls_in([unit]):
                    called = attribute(call.func)
                    if called is not None and called[1] in _REGISTERING and name_of(called[0]) == self_name:
                        return True
    return False


def _is_state(view: FileView[C], value: Expr, method: Function, at: Node) -> bool:
    """`value` certainly makes a submodule or a Parameter (or buffer)."""
    branches = conditional(value)
    if branches is not None:
        return any(_is_state(view, branch, method, at) for branch in branches)
    call = as_call(value)
    known = view.values.of(value, method, at=at)
    return known.is_module or known.kind is Kind.PARAMETER or (
        call is not None and view.parameter_class(call.func) is not None)


def _delegates(view: FileView[C], cls: C, method: Function, hook: str, seen: set[str]) -> bool:
    """Some path of `method` calls the base class's `hook`, or (for __getattr__) raises AttributeError."""
    self_name = first_parameter(method)
    seen.add(function_name(method))
    for call in calls_in(units(method)):
        owner = method_owner(call, hook)
        if owner is not None and _is_base(view, owner, self_name):
            return True
        called = attribute(call.func)
        if called is not None and self_name is not None and name_of(called[0]) == self_name \
                and called[1] not in seen and called[1] not in _HOOKS:
            helper = find_method(view, cls, called[1])
            if isinstance(helper, Unseen) or (helper is not None and _delegates(view, cls, helper, hook, seen)):
                return True
    return hook == "__getattr__" and _raises_attribute_error(method)


def _is_base(view: FileView[C], owner: Expr, self_name: str | None) -> bool:
    """`super()`, `super(...)`, or a class named explicitly that is not `object` (nor the instance)."""
    if is_super_call(owner):
        made = as_call(owner)
        # super(nn.Module, self) starts after nn.Module: it reaches object's
        return made is None or not made.positional or not view.is_module_itself(made.positional[0][0])
    parts = dotted(owner)
    return parts is not None and parts not in (["object"], ["builtins", "object"]) and parts[0] != self_name


def _raises_attribute_error(method: Function) -> bool:
    for unit in simple_units(units(method)):
        if isinstance(unit, ast.Raise) or (not isinstance(unit, ast.AST) and isinstance(unit, cst.Raise)):
            raised = unit.exc
            made = as_call(raised)
            parts = dotted(made.func if made is not None else raised)
            if parts and parts[-1] == "AttributeError":
                return True
    return False
