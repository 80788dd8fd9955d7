from __future__ import annotations

from collections.abc import Iterator, Sequence

import libcst as cst

from nncheck.fixes.edits import move_statement
from nncheck.fixes.fix import Fix
from nncheck.model.base_init import index_of_base_init, is_base_init_call
from nncheck.model.values import Kind
from nncheck.model.views import C, CstClass, FileModel, FileView, Screen
from nncheck.rule import FixAvailability, Report, Rule, Sample
from nncheck.syntax.cst_queries import changed_in, references
from nncheck.syntax.nodes import (
    Expr,
    Function,
    Node,
    Unit,
    as_call,
    assignment,
    attribute,
    blocks,
    calls_in,
    first_parameter,
    is_scope,
    method_owner,
    name_of,
    pairs,
    units,
)

_REGISTERING_METHODS = ("register_buffer", "register_parameter", "add_module", "register_module")


class StateBeforeBaseInit(Rule):
    """Module state is assigned before the base `__init__` runs.

    **What it finds.** In an nn.Module subclass's `__init__` that does call a base `__init__`, a
    statement before that call which assigns `self.<attr>` a value that is certainly a Module or
    Parameter (a call of a torch.nn class, `nn.Parameter(...)`, `nn.Buffer(...)`, or a class this
    file knows is an nn.Module), or calls `self.register_buffer`, `self.register_parameter`,
    `self.add_module` or `self.register_module`. Statements nested in an `if`, `for`, `with` or
    `try` before the call count too. Plain values (`self.dim = dim`, a tensor, a config) are fine
    before the call and are never reported. Only the first offending statement is reported. A class
    whose base has a `metaclass=` other than `ABCMeta` (fastai's `Module`, whose metaclass runs
    `nn.Module.__init__` before the class's `__init__`) is not reported.

    **Why is this a bug.** Until `nn.Module.__init__` has run there is nowhere to register the
    value: torch raises `AttributeError: cannot assign module before Module.__init__() call` (or
    `cannot assign parameter ...`, or `AttributeError: ... has no attribute '_buffers'` for the
    register methods) the first time the class is built (torch 2.13).

    **Example.**

        class Net(nn.Module):
            def __init__(self):
                self.fc = nn.Linear(4, 4)
                super().__init__()

    **Instead.** Call the base `__init__` first:

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)

    **Fix.** `--fix` moves the base `__init__` call up to just before the offending statement, when
    that call is a statement of its own and its arguments use nothing that the statements it moves
    past assign or change. Safe when the only base is `nn.Module` itself (whose `__init__` reads
    nothing of the instance); unsafe otherwise. No fix when the call sits in a branch or a helper.
    """

    code = "NNC004"
    name = "state-before-base-init"
    fix_availability = FixAvailability.SAFE_OR_UNSAFE
    message = (
        "{what} before the base __init__ call in {cls}.__init__ (torch raises AttributeError); "
        "call super().__init__() first"
    )

    valid = (
        """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self, dim, config):
        self.dim = dim
        self.config = config
        self.table = torch.zeros(dim)
        self.maybe = nn.Linear(dim, dim) if config else None
        self.a, self.b = 1, nn.Linear
        super().__init__()
        self.fc = nn.Linear(dim, dim)
        self.register_buffer("mask", torch.ones(dim))
""",
        """
from torch import nn

class NoInit(nn.Module):
    def __init__(self):  # NNC002 is the right report here, not NNC004
        self.fc = nn.Linear(2, 2)
""",
    )
    invalid = (
        Sample(
            """
from torch import nn

class Base(nn.Module):
    pass

class Net(Base):
    def __init__(self):
        self.fc = nn.Linear(2, 2)  # NNC004
        super().__init__()
""",
            unsafe_fixed="""
from torch import nn

class Base(nn.Module):
    pass

class Net(Base):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)  # NNC004
""",
        ),
        Sample(
            """
from torch import nn

class Net(nn.Module):
    def __init__(self, dim):
        self.dim = dim
        self.fc = nn.Linear(dim, dim)  # NNC004
        self.w = nn.Parameter(None)
        super().__init__()
""",
            fixed="""
from torch import nn

class Net(nn.Module):
    def __init__(self, dim):
        self.dim = dim
        super().__init__()
        self.fc = nn.Linear(dim, dim)  # NNC004
        self.w = nn.Parameter(None)
""",
        ),
        Sample(
            """
import torch
import torch.nn as nn

class Block(nn.Module):
    pass

class Net(nn.Module):
    def __init__(self, cached):
        if cached:
            self.register_buffer("cache", torch.zeros(1))  # NNC004
        nn.Module.__init__(self)

class Outer(nn.Module):
    def __init__(self):
        self.block: Block = Block()  # NNC004
        super().__init__()

class Pair(nn.Module):
    def __init__(self, deep):
        self.a, self.b = nn.Linear(2, 2), 3  # NNC004
        super().__init__()

class Choice(nn.Module):
    def __init__(self, deep):
        self.act = nn.GELU() if deep else nn.Identity()  # NNC004
        super().__init__()
""",
            fixed="""
import torch
import torch.nn as nn

class Block(nn.Module):
    pass

class Net(nn.Module):
    def __init__(self, cached):
        nn.Module.__init__(self)
        if cached:
            self.register_buffer("cache", torch.zeros(1))  # NNC004

class Outer(nn.Module):
    def __init__(self):
        super().__init__()
        self.block: Block = Block()  # NNC004

class Pair(nn.Module):
    def __init__(self, deep):
        super().__init__()
        self.a, self.b = nn.Linear(2, 2), 3  # NNC004

class Choice(nn.Module):
    def __init__(self, deep):
        super().__init__()
        self.act = nn.GELU() if deep else nn.Identity()  # NNC004
""",
        ),
    )

    @classmethod
    def might_report(cls, screen: Screen) -> bool:
        return screen.any_module(lambda node: any(True for _ in _offences(screen, node)))

    def check(self, model: FileModel) -> Iterator[Report]:
        for cls in model.module_classes():
            for init, index, position, node, what in _offences(model, cls):
                if isinstance(init, cst.FunctionDef) and isinstance(node, cst.CSTNode):
                    fix = _move_fix(model, cls, init, index, position)
                    yield self.report(node, fix=fix, what=what, cls=cls.qualname)


Offence = tuple[Function, int, int, Node, str]  # __init__, its base init's unit, the offending unit, node, what


def _offences(view: FileView[C], cls: C) -> Iterator[Offence]:
    """The first offending statement of each `__init__` of the class (the screen asks this too)."""
    for init in cls.methods("__init__"):
        index = index_of_base_init(view, cls, init)
        if not index or index != index_of_base_init(view, cls, init, unseen_counts=False):
            continue  # no call (NNC002's case), nothing before it, or only a helper nncheck cannot see
        self_name = first_parameter(init)
        for position, unit in enumerate(units(init)[:index]):
            found = _first_offence(view, init, [unit], self_name)
            if found is not None:
                # fastai's Module: its metaclass runs nn.Module.__init__ before this __init__.
                if not view.table.initialised_by_metaclass(cls.info):
                    yield init, index, position, found[0], found[1]
                break


def _first_offence(
    view: FileView[C], init: Function, body: Sequence[Unit], self_name: str | None
) -> tuple[Node, str] | None:
    for unit in body:
        inner = blocks(unit)
        if inner:
            for block in inner:
                found = _first_offence(view, init, block, self_name)
                if found:
                    return found
        elif not is_scope(unit):
            what = _offence(view, init, unit, self_name)
            if what:
                return unit, what
    return None


def _offence(view: FileView[C], init: Function, unit: Unit, self_name: str | None) -> str | None:
    if self_name is None:
        return None
    assigned = assignment(unit)
    found = [pair for target in assigned[0] for pair in pairs(target, assigned[1])] if assigned else []
    for target, value in found:
        owner = attribute(target)
        # Only the instance's attributes can offend: the value is worked out for those alone.
        if owner is not None and name_of(owner[0]) == self_name and (kind := _value_kind(view, init, unit, value)):
            return f"{self_name}.{owner[1]} is assigned a {kind}"
    for call in calls_in([unit]):
        for method in _REGISTERING_METHODS:
            registered_on = method_owner(call, method)
            if registered_on is not None and name_of(registered_on) == self_name:
                return f"{self_name}.{method}() is called"
    return None


def _value_kind(view: FileView[C], init: Function, unit: Unit, value: Expr) -> str | None:
    """"Module", "Parameter" or "Buffer" (the class torch refuses before its __init__) for a value
    that is certainly one (see model/values.py); None for anything else."""
    call = as_call(value)
    named = view.parameter_class(call.func) if call is not None else None
    if named:
        return named
    known = view.values.of(value, init, at=unit)
    return "Module" if known.is_module else "Parameter" if known.kind is Kind.PARAMETER else None


def _line_of(init: cst.FunctionDef, unit_index: int) -> tuple[int, bool]:
    """Which statement line of the body holds unit number `unit_index`, and whether it is alone there."""
    seen = 0
    for line_index, statement in enumerate(init.body.body):
        size = len(statement.body) if isinstance(statement, cst.SimpleStatementLine) else 1
        if unit_index < seen + size:
            return line_index, size == 1
        seen += size
    raise IndexError(unit_index)


def _move_fix(model: FileModel, cls: CstClass, init: cst.FunctionDef, index: int, position: int) -> Fix | None:
    """Move the base __init__ call up, if it is a statement of its own whose arguments use nothing
    that the statements it jumps over assign or change."""
    if not isinstance(init.body, cst.IndentedBlock):
        return None
    source, alone = _line_of(init, index)
    before = _line_of(init, position)[0]
    statement = init.body.body[source]
    if not (alone and isinstance(statement, cst.SimpleStatementLine)) or source == before:
        return None
    expr = statement.body[0]
    call = as_call(expr.value) if isinstance(expr, cst.Expr) else None
    if call is None or not isinstance(expr, cst.Expr) or not is_base_init_call(call, first_parameter(init)):
        return None  # the base __init__ runs inside a helper or a branch
    # The instance itself is what the call is for; what matters is which of its attributes and which
    # other names the arguments read.
    reads = set(references(expr.value)) - {first_parameter(init)}
    if reads & set(changed_in(init.body.body[before:source])):
        return None
    # nn.Module.__init__ reads nothing of the instance; another base's __init__ might read what the
    # statements it jumps over set, so moving it is then not certainly harmless.
    safe = len(cls.bases) == 1 and model.is_module_itself(cls.bases[0])
    edit = (init, lambda func: move_statement(func, source, before))
    return Fix(safe=safe, title="Move the base __init__ call up", edits=(edit,))
