from __future__ import annotations

import ast
from collections.abc import Iterator

import libcst as cst

from nncheck.fixes.fix import Fix
from nncheck.model.base_init import index_of_base_init
from nncheck.model.methods import reached_from
from nncheck.model.views import C, CstClass, FileModel, FileView, Screen, holds_line
from nncheck.rule import FixAvailability, Report, Rule, Sample
from nncheck.syntax.nodes import (
    Expr,
    Function,
    Unit,
    as_call,
    assignment,
    attribute,
    calls_in,
    dotted,
    first_parameter,
    mentions,
    name_of,
    pairs,
    simple_units,
    string_value,
    units,
    walk,
)

_GRAD = "requires_grad"
# Methods that take a value and keep it registered: what they are given is no plain attribute.
_REGISTERING = ("register_parameter", "register_buffer")
# A class defining these decides itself what its parameters are.
_OWN_PARAMETERS = ("parameters", "named_parameters")
# torch.optim's optimizers (and those named like them): a class that hands them the tensor trains it itself.
_OPTIMIZERS = frozenset({"SGD", "Adam", "AdamW", "Adagrad", "Adadelta", "Adamax", "ASGD", "LBFGS", "NAdam",
                         "RAdam", "RMSprop", "Rprop", "SparseAdam", "Adafactor"})


class TensorNotRegistered(Rule):
    """A tensor that requires grad is assigned to a module as a plain attribute, not a parameter.

    **What it finds.** In the `__init__` of an nn.Module subclass, or in a method of the class that
    `__init__` calls on `self` (`self.reset_parameters()`) and `forward` does not, `self.<attr> =
    <value>` where the value is certainly a tensor made to require grad (see "What nncheck knows of
    a value" in the README): a torch factory called with `requires_grad=True` (`torch.ones`,
    `torch.zeros`, `torch.randn`, `torch.tensor`, `torch.empty`, ..., `t.new_zeros(...)`),
    `.requires_grad_()` or `.requires_grad_(True)` of a tensor, `Variable(t, requires_grad=True)`,
    or a local name bound to one of these. Not reported: `nn.Parameter(...)`, `requires_grad=False`
    or a variable; tensors in classes that are not modules or in plain functions; an attribute the
    class assigns anything else anywhere (`self.x = nn.Parameter(self.x)`, a hidden state replaced
    in `forward`), or hands to `register_parameter` or `register_buffer` (under its own name torch
    raises KeyError at once), to `nn.Parameter`, a torch container or an optimizer
    (`torch.optim.SGD([self.w], lr)`: the class trains it itself); a class that defines its own
    `parameters()` or `named_parameters()`.

    **Why is this a bug.** nn.Module registers a tensor only when it is an `nn.Parameter` (or goes
    through `register_parameter` or `register_buffer`); any other tensor is a plain attribute, even
    one that requires grad. It is not in `model.parameters()`, so an optimizer built from them never
    updates it; not in `state_dict()`, so it is never saved or loaded; and `model.to(device)`,
    `.cuda()`, `.double()` never convert it (torch 2.13).

    **Example.**

        class Scale(nn.Module):
            def __init__(self, dim):
                super().__init__()
                self.gain = torch.ones(dim, requires_grad=True)

    **Instead.**

        class Scale(nn.Module):
            def __init__(self, dim):
                super().__init__()
                self.gain = nn.Parameter(torch.ones(dim))

    **Fix.** Unsafe: `--fix --unsafe-fixes` wraps the value in `nn.Parameter(...)` (spelled through
    the file's own torch import) and drops what asked for the gradient (`requires_grad=True`,
    `.requires_grad_()`; `Variable(t, requires_grad=True)` becomes `nn.Parameter(t)`): the
    `state_dict` keys and the optimizer's parameters change. No fix when the file imports no torch
    to spell it with, when the statement comes before the base `__init__` call (torch refuses a
    parameter there) or when a comment would be lost.
    """

    code = "NNC021"
    name = "tensor-not-registered"
    fix_availability = FixAvailability.UNSAFE
    message = ("{target} is a tensor that requires grad but no parameter: parameters() (so the optimizer), "
               "state_dict() and .to() never see it; wrap it in {parameter}(...)")

    valid = (
        """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self, dim, flag):
        super().__init__()
        self.gain = nn.Parameter(torch.ones(dim, requires_grad=True))
        self.bias = nn.Parameter(torch.zeros(dim), requires_grad=True)
        self.register_buffer("mask", torch.ones(dim))
        self.register_parameter("scale", nn.Parameter(torch.ones(dim)))
        self.fixed = torch.ones(dim, requires_grad=False)
        self.maybe = torch.ones(dim, requires_grad=flag)
        self.plain = torch.ones(dim)
        self.frozen = torch.zeros(dim).requires_grad_(False)

class Wrapped(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.x = torch.ones(dim, requires_grad=True)
        self.x = nn.Parameter(self.x)
        self.y = torch.zeros(dim).requires_grad_()
        self.register_parameter("y", nn.Parameter(self.y))
        self.z = torch.zeros(dim, requires_grad=True)
        self.zs = nn.ParameterList([self.z])

class Recurrent(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.hidden = torch.zeros(1, dim, requires_grad=True)

    def forward(self, x):
        self.hidden = self.hidden.detach() + x
        return self.hidden

class Stateful(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim
        self.reset_state()

    def reset_state(self):
        self.state = torch.zeros(self.dim, requires_grad=True)

    def forward(self, x, fresh):
        if fresh:
            self.reset_state()
        return x * self.state

class Scratch(nn.Module):
    def __init__(self, dim, lr):
        super().__init__()
        self.w = torch.randn(dim, 1, requires_grad=True)
        self.b = torch.zeros(1, requires_grad=True)
        self.optimizer = torch.optim.SGD([self.w, self.b], lr=lr)

class OwnParameters(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.w = torch.randn(dim, requires_grad=True)

    def parameters(self, recurse=True):
        return iter([self.w])

class Plain:
    def __init__(self, dim):
        self.w = torch.ones(dim, requires_grad=True)

def make(dim):
    w = torch.ones(dim, requires_grad=True)
    return w
""",
    )
    invalid = (
        Sample(
            """
import torch
from torch import nn
from torch.autograd import Variable

class Scale(nn.Module):
    def __init__(self, dim, init):
        super().__init__()
        self.gain = torch.ones(dim, requires_grad=True)  # NNC021
        self.bias = torch.zeros(dim).requires_grad_()  # NNC021
        self.shift = Variable(init, requires_grad=True)  # NNC021
        w = torch.randn(dim, dim, requires_grad=True, device="cpu")
        self.w = w  # NNC021
        if dim > 1:
            self.extra: torch.Tensor = torch.empty(dim, requires_grad=True,)  # NNC021
        else:
            self.extra = torch.zeros(1, requires_grad=True)  # NNC021

    def forward(self, x):
        return (x @ self.w) * self.gain + self.bias + self.shift

class Reset(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim
        self.reset_parameters()

    def reset_parameters(self):
        self.weight = torch.randn(self.dim, requires_grad=True)  # NNC021
""",
            unsafe_fixed="""
import torch
from torch import nn
from torch.autograd import Variable

class Scale(nn.Module):
    def __init__(self, dim, init):
        super().__init__()
        self.gain = nn.Parameter(torch.ones(dim))  # NNC021
        self.bias = nn.Parameter(torch.zeros(dim))  # NNC021
        self.shift = nn.Parameter(init)  # NNC021
        w = torch.randn(dim, dim, requires_grad=True, device="cpu")
        self.w = nn.Parameter(w)  # NNC021
        if dim > 1:
            self.extra: torch.Tensor = nn.Parameter(torch.empty(dim,))  # NNC021
        else:
            self.extra = nn.Parameter(torch.zeros(1))  # NNC021

    def forward(self, x):
        return (x @ self.w) * self.gain + self.bias + self.shift

class Reset(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim
        self.reset_parameters()

    def reset_parameters(self):
        self.weight = nn.Parameter(torch.randn(self.dim))  # NNC021
""",
        ),
        """
import torch

class Early(torch.nn.Module):
    def __init__(self, dim):
        self.gain = torch.ones(dim, requires_grad=True)  # NNC021
        super().__init__()
""",
        """
from torch import ones
from torch.nn import Module

class Unspelled(Module):
    def __init__(self, dim):
        super().__init__()
        self.gain = ones(dim, requires_grad=True)  # NNC021
""",
    )

    @classmethod
    def might_report(cls, screen: Screen) -> bool:
        return _GRAD in screen.text and screen.any_module(lambda node: any(True for _ in _unregistered(screen, node)))

    def check(self, model: FileModel) -> Iterator[Report]:
        parameter = model.spelling_of("torch.nn.Parameter")
        for cls in model.module_classes():
            for method, unit, target, value in _unregistered(model, cls):
                if not isinstance(unit, (cst.Assign, cst.AnnAssign)) or not isinstance(value, cst.BaseExpression):
                    continue  # never: libcst's tree has libcst nodes
                fix = _fix(model, cls, method, unit, parameter) if parameter is not None else None
                yield self.report(unit, fix=fix, target=target, parameter=parameter or "nn.Parameter")


def _unregistered(view: FileView[C], cls: C) -> Iterator[tuple[Function, Unit, str, Expr]]:
    """Each `self.x = <tensor that requires grad>` that runs when the class is built (in `__init__`, or
    in a method of the class it calls, such as `self.reset_parameters()`) and that nothing registers
    (the screen asks this too): the method, the statement, `self.x`, the value."""
    if not cls.methods("__init__") or any(cls.methods(name) for name in _OWN_PARAMETERS):
        return
    # A look at the lines first: the methods are the class's own, and one that asks for a gradient says so.
    node = cls.node
    lines = view.word_lines(_GRAD) if isinstance(view, Screen) and isinstance(node, ast.AST) else None
    if lines is not None and isinstance(node, ast.AST) and not holds_line(node, lines):
        return
    for method in _building(view, cls):
        self_name = first_parameter(method)
        body = units(method)
        if lines is not None and isinstance(method, ast.AST) and not holds_line(method, lines):
            continue
        if self_name is None or not _asks_for_grad(body):
            continue  # most methods: nothing in them asks for a gradient
        for unit in simple_units(body):
            assigned = assignment(unit)
            if assigned is None or len(assigned[0]) != 1:
                continue
            owner = attribute(assigned[0][0])
            if owner is None or name_of(owner[0]) != self_name:
                continue
            if view.values.of(assigned[1], method, at=unit).requires_grad \
                    and not _kept(view, cls, owner[1], unit):
                yield method, unit, f"{self_name}.{owner[1]}", assigned[1]


def _building(view: FileView[C], cls: C) -> list[Function]:
    """The class's own methods that run when it is built: `__init__`, and those it calls on self,
    but not those `forward` calls too (they reset a state on every call)."""
    own = {id(method) for method in cls.methods()}
    running = {id(method) for method in reached_from(view, cls, "forward")}
    return [method for method in reached_from(view, cls, "__init__")
            if id(method) in own and id(method) not in running]


def _asks_for_grad(body: list[Unit]) -> bool:
    """A `requires_grad=` keyword or a `.requires_grad_` somewhere in the body."""
    for node in walk(body):
        if isinstance(node, ast.AST):
            if (isinstance(node, ast.keyword) and node.arg == _GRAD) or (
                    isinstance(node, ast.Attribute) and node.attr == "requires_grad_"):
                return True
        elif (isinstance(node, cst.Arg) and node.keyword is not None and node.keyword.value == _GRAD) or (
                isinstance(node, cst.Attribute) and node.attr.value == "requires_grad_"):
            return True
    return False


def _kept(view: FileView[C], cls: C, attr: str, statement: Unit) -> bool:
    """Some method of the class assigns `self.<attr>` something else, or hands it to what registers or
    trains it."""
    for method in cls.methods():
        self_name = first_parameter(method)
        if self_name is None:
            continue
        path = [self_name, attr]
        for unit in simple_units(units(method)):
            assigned = assignment(unit)
            if unit is not statement and assigned is not None and any(
                    dotted(one) == path and not view.values.of(value, method, at=unit).requires_grad
                    for target in assigned[0] for one, value in pairs(target, assigned[1])):
                return True  # replaced by something else: a parameter, a state
        for call in calls_in(units(method)):
            arguments = [value for value, _ in call.positional] + [value for _, value in call.keywords]
            if not any(mentions([argument], path) for argument in arguments):
                if name_of(call.func) == "setattr" and len(arguments) > 1 and string_value(arguments[1]) == attr:
                    return True
                continue
            method_name = attribute(call.func)
            called = dotted(call.func) or []
            target = view.qualified_name(call.func) if called else None
            if view.parameter_class(call.func) or view.is_module_expr(call.func) \
                    or (method_name is not None and method_name[1] in _REGISTERING) \
                    or (target is not None and target.startswith("torch.optim.")) \
                    or (called and called[-1] in _OPTIMIZERS):
                return True
    return False


def _fix(model: FileModel, cls: CstClass, method: Function, unit: cst.Assign | cst.AnnAssign,
         parameter: str) -> Fix | None:
    if not _after_base_init(model, cls, method, unit):
        return None  # torch refuses a parameter before nn.Module.__init__ has run
    value = unit.value
    if value is None or _without_grad(model, value) is None:
        return None

    def edit(node: cst.Assign | cst.AnnAssign) -> cst.Assign | cst.AnnAssign:
        assert node.value is not None
        inner = _without_grad(model, node.value) or node.value
        return node.with_changes(value=cst.Call(func=cst.parse_expression(parameter), args=[cst.Arg(inner)]))

    return Fix(safe=False, title=f"Wrap it in {parameter}(...)", edits=((unit, edit),))


def _after_base_init(model: FileModel, cls: CstClass, method: Function, unit: Unit) -> bool:
    """The statement certainly runs after the base `__init__`: in `__init__`, a statement after the
    call; in a method `__init__` calls, when `__init__` calls nothing on self before the base's."""
    for init in cls.methods("__init__")[-1:]:
        index = index_of_base_init(model, cls, init, unseen_counts=False)
        if index is None:
            return False
        body = units(init)
        if method is not init:
            self_name = first_parameter(init)
            return not any((parts := attribute(call.func)) is not None and name_of(parts[0]) == self_name
                           for call in calls_in(body[:index]))
        for position, top in enumerate(body):
            if any(inner is unit for inner in simple_units([top])):
                return position > index
    return False


def _without_grad(model: FileModel, value: cst.BaseExpression) -> cst.BaseExpression | None:
    """The value without what asks for the gradient; None if that would drop a comment."""
    stripped = _stripped(model, value)
    return stripped if stripped is not None and _comments(stripped) == _comments(value) else None


def _stripped(model: FileModel, value: cst.BaseExpression) -> cst.BaseExpression | None:
    call = as_call(value)
    if call is None or not isinstance(value, cst.Call):
        return value  # a name bound elsewhere: wrapped as it is
    method = attribute(call.func)
    if method is not None and method[1] == "requires_grad_":
        receiver = method[0]
        assert isinstance(receiver, cst.BaseExpression)
        return receiver
    dropped = [arg for arg in value.args if arg.keyword is not None and arg.keyword.value == _GRAD]
    if not dropped:
        return value  # a call that gives such a tensor (a function of the file): wrapped as it is
    if len(dropped) != 1 or _comments(dropped[0]):
        return None  # a comment on requires_grad=True would end up on another argument
    kept = [arg for arg in value.args if arg is not dropped[0]]
    if kept and value.args[-1] is dropped[0] and not _comments(kept[-1].comma):
        # The last argument goes: the one before it ends the call as it did (trailing comma or not).
        kept[-1] = kept[-1].with_changes(comma=dropped[0].comma, whitespace_after_arg=dropped[0].whitespace_after_arg)
    target = model.qualified_name(value.func)
    if target is not None and target.endswith(".Variable") and len(kept) == 1 and kept[0].keyword is None \
            and not kept[0].star:
        return kept[0].value  # Variable(t) is t, as a new tensor
    return value.with_changes(args=kept)


def _comments(node: cst.CSTNode | cst.MaybeSentinel) -> list[str]:
    """The comments inside a node, in order."""
    if isinstance(node, cst.MaybeSentinel):
        return []
    return [found.value for found in walk([node]) if isinstance(found, cst.Comment)]
