from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Generic, Union

import libcst as cst

from nncheck.model.base_init import broken_super, is_base_init_call
from nncheck.model.known_modules import STATELESS_LAYERS, torch_layer
from nncheck.model.methods import Unseen, find_method
from nncheck.model.views import C, FileModel, FileView, Screen
from nncheck.rule import FixAvailability, Report, Rule
from nncheck.syntax.nodes import (
    Call,
    Expr,
    Function,
    Node,
    Unit,
    as_call,
    assignment,
    attribute,
    blocks,
    boolean,
    calls_in,
    dotted,
    elements,
    first_parameter,
    is_none,
    is_scope,
    is_string,
    is_super_call,
    method_owner,
    name_of,
    simple_units,
    units,
)


_CONTAINERS = frozenset({"Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"})


class BaseInitTwice(Rule):
    """`nn.Module.__init__` runs a second time on the same object.

    **What it finds.** In an nn.Module subclass's `__init__`, a call that runs `nn.Module.__init__`
    when another such call has certainly run before it on the same path, and something may have been
    registered since: `super().__init__()` twice, `nn.Module.__init__(self)` twice,
    `super().__init__()` then `nn.Module.__init__(self)`, or `Encoder.__init__(self)` then
    `Decoder.__init__(self)` where both are module classes (a diamond: each reaches
    `nn.Module.__init__`). A call counts when it is a statement of its own and certainly reaches
    `nn.Module.__init__`: `nn.Module.__init__(self)`, `Base.__init__(self)` or `super().__init__()`
    (with the first base) where the class is a class of torch.nn, or a module class of this file whose
    own `__init__` (or the one it inherits here) makes such a call. Something may have been registered
    when the first call was not nn.Module's own (nor an empty container's), or when a statement in
    between assigns an attribute of the instance anything but a literal, calls one of its methods or
    hands it to a call. Not reported: calls in different branches of an `if`, in a `try` and its
    `except` (the second runs only if the first raised), after a `return` on another path, a call of a
    class that is no module (`Plain.__init__(self)`), and a call of a class defined in another file
    (whose MRO may reach a plain class's `__init__` first, which stops there:
    `class Prior(Distribution, nn.Module)`).

    **Why is this a bug.** `nn.Module.__init__` creates new, empty registries for submodules,
    parameters and buffers. Run again, it replaces them: every layer registered before it is gone.
    `parameters()` is empty, so the optimizer trains nothing, `state_dict()` saves nothing, and
    `self.fc` raises `AttributeError: 'Net' object has no attribute 'fc'` later (torch 2.13).

    **Example.**

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)
                super().__init__()

    **Instead.** Call it once, before the layers are assigned:

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)

    **Fix.** None: which call to keep (and with what arguments) is for a person to decide.
    """

    code = "NNC018"
    name = "base-init-twice"
    fix_availability = FixAvailability.NONE
    message = (
        "{cls}.__init__ runs nn.Module.__init__ again (it already ran on line {first}), which empties "
        "_modules, _parameters and _buffers: every layer registered before is lost; call it once"
    )

    valid = (
        """
from torch import nn

class Branches(nn.Module):
    def __init__(self, fast):
        if fast:
            super().__init__()
        else:
            nn.Module.__init__(self)
        self.fc = nn.Linear(2, 2)

class Plain:
    def __init__(self):
        self.log = []

class WithPlain(nn.Module, Plain):
    def __init__(self):
        nn.Module.__init__(self)
        Plain.__init__(self)

class Compatible(nn.Module):
    def __init__(self, **kwargs):
        try:
            super().__init__(**kwargs)
        except TypeError:
            super().__init__()

class EarlyReturn(nn.Module):
    def __init__(self, simple):
        if simple:
            super().__init__()
            return
        super().__init__()
        self.fc = nn.Linear(2, 2)
""",
        """
from torch import nn

class Mixin:
    def __init__(self):
        self.log = []

class MixinFirst(Mixin, nn.Module):
    def __init__(self):
        super().__init__()  # Mixin.__init__, which may not go on to nn.Module's
        nn.Module.__init__(self)

class Hooks(nn.Module):
    def __init__(self):  # sets attributes only: no nn.Module.__init__ here
        self.hooks = []

class WithHooks(nn.Module):
    def __init__(self):
        super().__init__()
        Hooks.__init__(self)

class Nested(nn.Module):
    def __init__(self):
        super().__init__()

        def reset():
            super(Nested, self).__init__()
        self.reset = reset

class Layers(nn.Sequential):
    def __init__(self, width):
        super().__init__()  # registers nothing: nothing is lost by the second call
        layers = [nn.Linear(width, width), nn.ReLU()]
        super().__init__(*layers)
""",
        """
from torch import nn
from torch.distributions import Distribution

class Prior(Distribution, nn.Module):  # super().__init__() in a subclass runs Distribution's only
    pass

class Normal(Prior):
    def __init__(self, loc):
        nn.Module.__init__(self)
        self.loc = loc
        super().__init__(validate_args=False)
""",
    )
    invalid = (
        """
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        super().__init__()  # NNC018

class Old(nn.Module):
    def __init__(self, deep):
        nn.Module.__init__(self)
        if deep:
            self.add_module("fc", nn.Linear(2, 2))
        nn.Module.__init__(self)  # NNC018
""",
        """
import torch.nn as nn

class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(2, 2)

class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.dec = nn.Linear(2, 2)

class AutoEncoder(Encoder, Decoder):
    def __init__(self):
        Encoder.__init__(self)
        Decoder.__init__(self)  # NNC018

class Guarded(nn.Module):
    def __init__(self, deep):
        if deep:
            super().__init__()
        else:
            super(Guarded, self).__init__()
        self.fc = nn.Linear(2, 2)
        nn.Module.__init__(self)  # NNC018
""",
    )

    @classmethod
    def might_report(cls, screen: Screen) -> bool:
        return screen.any_module(lambda node: bool(_repeated(screen, node)))

    def check(self, model: FileModel) -> Iterator[Report]:
        for cls in model.module_classes():
            for second, first in _repeated(model, cls):
                if isinstance(second.node, cst.Call) and isinstance(first.node, cst.Call):
                    yield self.report(second.node, cls=cls.qualname, first=first.node)


def _repeated(view: FileView[C], cls: C) -> list[tuple[Call, Call]]:
    """(second, first) for each call in the class's `__init__` that runs nn.Module.__init__ again after
    something may have been registered."""
    found: list[tuple[Call, Call]] = []
    for init in cls.methods("__init__"):
        # The cheap look first: most make one such call. Python's ast keeps each statement's calls
        # (other screens ask for them too); libcst's would be walked afresh, so only statements are.
        if isinstance(init, ast.AST):
            if isinstance(view, Screen):
                # The text first: `def __init__` and two calls of some `__init__` spell it three times.
                written = view.count_between("__init__", init.lineno, init.end_lineno or init.lineno)
                if written is not None and written < 3:
                    continue
            calls: Iterable[Call | None] = calls_in(units(init))
        else:
            calls = (_statement_call(unit) for unit in simple_units(units(init)))
        if sum(1 for call in calls if call is not None and method_owner(call, "__init__") is not None) < 2:
            continue
        walk = _Walk(view, cls, first_parameter(init))
        walk.body(units(init), None)
        found.extend(walk.found)
    return found


# What is known at a statement: the call that has certainly run nn.Module.__init__ already, and whether
# something may have been registered since on some path; None if on some path none has run.
State = Union[tuple[Call, bool], None]


def _join(states: list[State]) -> State:
    if any(state is None for state in states):
        return None
    known = [state for state in states if state is not None]
    return (known[0][0], any(registered for _, registered in known)) if known else None


@dataclass
class _Walk(Generic[C]):
    """Follows an `__init__` body path by path (see State)."""

    view: FileView[C]
    cls: C
    self_name: str | None
    found: list[tuple[Call, Call]] = field(default_factory=list)

    def body(self, body: Sequence[Unit], state: State) -> tuple[State, bool]:
        """The state after `body`, and whether every path through it leaves the function or the loop."""
        for unit in body:
            if is_scope(unit):
                continue
            state, ends = self.statement(unit, state)
            if ends:
                return state, True
        return state, False

    def statement(self, unit: Unit, state: State) -> tuple[State, bool]:
        kind = type(unit).__name__
        if kind in ("Return", "Raise", "Continue", "Break"):
            return state, True
        if kind == "If":
            return self.branches(unit, self.registering(_head(unit), state))
        if kind in ("Try", "TryStar"):
            return self.attempt(unit, state)
        inner = blocks(unit)
        if kind in ("With", "AsyncWith"):
            return self.body(inner[0], state)
        if inner:  # a loop or a match: each block may not run, or may run several times
            outs = [state]
            for block in inner:
                outs.append(self.body(block, state)[0])
            return _join(outs), False
        call = _statement_call(unit)
        if call is not None and self.certain(call):
            if state is not None and state[1]:
                self.found.append((call, state[0]))
            return (call, self.registers(call)), False
        return self.registering([unit], state), False

    def registering(self, nodes: Sequence[Node], state: State) -> State:
        """The state after `nodes`, which may register something on the instance."""
        if state is None or state[1] or not any(_may_register(node, self.self_name) for node in nodes):
            return state
        return state[0], True

    def branches(self, unit: Node, state: State) -> tuple[State, bool]:
        outs: list[State] = []
        for arm in _arms(unit):
            out, ends = self.body(arm, state)
            if not ends:
                outs.append(out)
        if not _exhaustive(unit):
            outs.append(state)
        if not outs:
            return state, True
        return _join(outs), False

    def attempt(self, unit: Node, state: State) -> tuple[State, bool]:
        body, handlers, orelse, final = _try_parts(unit)
        outs: list[State] = []
        out, ends = self.body(body, state)
        if not ends and orelse:
            out, ends = self.body(orelse, out)
        if not ends:
            outs.append(out)
        for handler in handlers:
            # A handler runs when the body raised, perhaps before its call: from the state before it,
            # and with whatever the body may have registered.
            handled, handler_ends = self.body(handler, _join([state, out]) if state is not None else None)
            if not handler_ends:
                outs.append(handled)
        joined = _join(outs) if outs else state
        if final:
            after, final_ends = self.body(final, joined)
            return after, final_ends or not outs
        return joined, not outs

    def registers(self, call: Call) -> bool:
        """The base `__init__` call may itself register something: it is not nn.Module's own, nor that of
        an empty torch container or a torch layer without state."""
        owner = method_owner(call, "__init__")
        if owner is None:
            return True
        initialised = (self.cls.bases[0] if self.cls.bases else None) if is_super_call(owner) else owner
        if initialised is None or self.view.is_module_itself(initialised):
            return False
        target = self.view.resolve(initialised)
        layer = torch_layer(target) if isinstance(target, str) else None
        if layer in STATELESS_LAYERS:
            return False
        return not (layer in _CONTAINERS and not call.positional and not call.keywords)

    def certain(self, call: Call) -> bool:
        """The call certainly runs nn.Module.__init__ on the instance."""
        view, cls = self.view, self.cls
        if not is_base_init_call(call, self.self_name) or broken_super(view, cls, call) is not None:
            return False
        owner = method_owner(call, "__init__")
        if owner is None:
            return False
        if is_super_call(owner):
            made = as_call(owner)
            if made is not None and made.positional and not _names_the_class(made.positional[0][0], cls.name,
                                                                             self.self_name):
                return False  # super(Parent, self): from further along the MRO, wherever that is
            return bool(cls.bases) and _runs_module_init(view, cls.bases[0], set())
        return _runs_module_init(view, owner, set())


def _names_the_class(expr: Expr, name: str, self_name: str | None) -> bool:
    """`Net` in class Net, or `type(self)` / `self.__class__` (the class itself, for an instance of it)."""
    if dotted(expr) == [name]:
        return True
    owner = attribute(expr)
    if owner is not None and owner[1] == "__class__" and name_of(owner[0]) == self_name:
        return True
    call = as_call(expr)
    return call is not None and name_of(call.func) == "type" and len(call.positional) == 1 \
        and name_of(call.positional[0][0]) == self_name


def _runs_module_init(view: FileView[C], expr: Expr, seen: set[int]) -> bool:
    """Running the `__init__` of the class `expr` names certainly runs nn.Module.__init__: nn.Module
    itself, a class of torch.nn, or a module class of this file whose `__init__` (its own or the one
    it inherits) calls a base `__init__` that does. A class defined elsewhere may run another class's
    `__init__` first that stops there (`class Prior(Distribution, nn.Module)`): not certain."""
    if view.is_module_itself(expr):
        return True
    target = view.resolve(expr)
    if isinstance(target, str):
        return torch_layer(target) is not None
    if not target or not view.is_module_expr(expr):
        return False
    for cls in target:
        if id(cls) in seen:
            return False
        seen.add(id(cls))
        init = find_method(view, cls, "__init__")
        if init is None:  # inherited from the first base, all of this file's classes seen
            if not (cls.bases and _runs_module_init(view, cls.bases[0], seen)):
                return False
        elif isinstance(init, Unseen) or not _init_runs_module_init(view, cls, init, seen):
            return False
    return True


def _init_runs_module_init(view: FileView[C], cls: C, init: Function, seen: set[int]) -> bool:
    """`init` (a method of `cls` or of a base of it) makes a base `__init__` call that certainly runs
    nn.Module.__init__, as a statement of its own body."""
    self_name = first_parameter(init)
    owner_cls = _defining_class(view, cls, init)
    if owner_cls is None:
        return False
    for unit in units(init):
        call = _statement_call(unit)
        if call is None or not is_base_init_call(call, self_name) \
                or broken_super(view, owner_cls, call) is not None:
            continue
        target = method_owner(call, "__init__")
        if target is None:
            continue
        if is_super_call(target):
            made = as_call(target)
            if made is not None and made.positional and dotted(made.positional[0][0]) != [owner_cls.name]:
                return False
            return bool(owner_cls.bases) and _runs_module_init(view, owner_cls.bases[0], seen)
        return _runs_module_init(view, target, seen)
    return False


def _defining_class(view: FileView[C], cls: C, method: Function) -> C | None:
    """The class of this file, `cls` or one of its bases, whose body defines `method`."""
    if any(m is method for m in cls.methods("__init__")):
        return cls
    for parts in cls.info.base_names:
        target = view.resolve_parts(parts) if parts else None
        for base in target if isinstance(target, list) else ():
            found = _defining_class(view, base, method)
            if found is not None:
                return found
    return None


def _may_register(node: Node, self_name: str | None) -> bool:
    """`node` may register a submodule, parameter or buffer on the instance: it assigns an attribute of
    it something other than a literal, calls one of its methods, or hands the instance to a call."""
    bound = assignment(node)
    targets = bound[0] if bound else []
    for target in targets:
        for element in elements(target) or [target]:
            owner = attribute(element)
            if owner is not None and name_of(owner[0]) == self_name and bound is not None \
                    and not _literal(bound[1]):
                return True
    for call in calls_in([node]):
        owner = attribute(call.func)
        if owner is not None and name_of(owner[0]) == self_name:
            return True
        if any(name_of(value) == self_name for value, _ in call.positional) or \
                any(name_of(value) == self_name for _, value in call.keywords):
            return True
    return False


def _literal(expr: Expr) -> bool:
    if is_none(expr) or is_string(expr) or boolean(expr) is not None:
        return True
    if isinstance(expr, ast.AST):
        return isinstance(expr, ast.Constant)
    return isinstance(expr, (cst.Integer, cst.Float, cst.Imaginary))


def _head(unit: Node) -> list[Node]:
    """The test of an `if` statement: it runs before either branch."""
    test = getattr(unit, "test", None)
    return [test] if test is not None else []


def _statement_call(unit: Unit) -> Call | None:
    """The call that is the whole statement (`super().__init__()`), if it is one."""
    if isinstance(unit, ast.Expr) or (not isinstance(unit, ast.AST) and isinstance(unit, cst.Expr)):
        return as_call(unit.value)
    return None


def _arms(unit: Node) -> list[list[Unit]]:
    """The blocks of an if/elif/else chain, each arm's own statements (an elif is an arm, not a block
    holding an `if`)."""
    if isinstance(unit, ast.If):
        arms: list[list[Unit]] = [list(unit.body)]
        rest: list[ast.stmt] = unit.orelse
        while len(rest) == 1 and isinstance(rest[0], ast.If):
            arms.append(list(rest[0].body))
            rest = rest[0].orelse
        if rest:
            arms.append(list(rest))
        return arms
    return blocks(unit)


def _exhaustive(unit: Node) -> bool:
    """The if/elif chain ends in an `else`."""
    if isinstance(unit, ast.If):
        rest = unit.orelse
        while len(rest) == 1 and isinstance(rest[0], ast.If):
            rest = rest[0].orelse
        return bool(rest)
    part = getattr(unit, "orelse", None)
    while isinstance(part, cst.If):
        part = part.orelse
    return isinstance(part, cst.Else)


def _try_parts(unit: Node) -> tuple[list[Unit], list[list[Unit]], list[Unit], list[Unit]]:
    """(body, each handler's body, else, finally) of a try statement, in either tree."""
    if isinstance(unit, ast.AST):
        handlers = [list(h.body) for h in getattr(unit, "handlers", [])]
        return (list(getattr(unit, "body")), handlers, list(getattr(unit, "orelse", [])),
                list(getattr(unit, "finalbody", [])))
    assert isinstance(unit, (cst.Try, cst.TryStar))
    orelse = units(unit.orelse.body) if unit.orelse is not None else []
    final = units(unit.finalbody.body) if unit.finalbody is not None else []
    return units(unit.body), [units(h.body) for h in unit.handlers], orelse, final
