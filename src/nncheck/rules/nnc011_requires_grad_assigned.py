from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

import libcst as cst

from nncheck.fixes.fix import Fix
from nncheck.model.views import C, FileModel, FileView, Screen
from nncheck.rule import FixAvailability, Report, Rule, Sample
from nncheck.syntax.nodes import (
    Expr,
    Node,
    Unit,
    assignment,
    attribute,
    dotted,
    first_parameter,
    function_name,
    is_function,
    scope_values,
    scopes,
    simple_units,
    units,
)

_ASSIGNED = re.compile(r"\.requires_grad\s*=[^=]")


class RequiresGradAssigned(Rule):
    """`requires_grad` is assigned on a module, which freezes nothing.

    **What it finds.** `<module>.requires_grad = <value>` where the receiver is certainly an
    nn.Module: `self` in a method of an nn.Module subclass (but `__init__`, where
    `self.requires_grad = requires_grad` keeps an option), `self.<attr>` that the class only ever
    assigns modules, or a name whose only assignment in its scope is a call of a module class
    (`model = Net()`), of `<module class>.from_pretrained(...)`, of `timm.create_model(...)` or of a
    torchvision model builder (`torchvision.models.resnet50(...)`). Tensors and parameters are never
    reported: `p.requires_grad = False` is right.

    **Why is this a bug.** `requires_grad` is not a property of nn.Module: the assignment makes a new
    plain attribute of that name, and every parameter still requires grad, so the "frozen" layers go
    on training (torch 2.13).

    **Example.**

        model = Net()
        model.backbone.requires_grad = False
        model.requires_grad = False

    **Instead.** `requires_grad_()` sets it on every parameter:

        model.requires_grad_(False)

    **Fix.** Safe: `--fix` rewrites `x.requires_grad = value` as `x.requires_grad_(value)`.
    """

    code = "NNC011"
    name = "requires-grad-assigned"
    fix_availability = FixAvailability.SAFE
    message = "{target}.requires_grad = ... sets a plain attribute on a module and freezes nothing; " \
        "call {target}.requires_grad_(...)"

    valid = (
        """
import torch
from torch import nn

class Config:
    def __init__(self, flag):
        self.requires_grad = flag

class AGNNConv(nn.Module):
    def __init__(self, requires_grad=True):
        super().__init__()
        self.requires_grad = requires_grad

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.scale = torch.ones(2)

    def freeze(self):
        for p in self.parameters():
            p.requires_grad = False
        self.scale.requires_grad = False

weights = torch.zeros(2)
weights.requires_grad = True
model = Net()
model = model.half()
model.requires_grad = False
""",
    )
    invalid = (
        Sample(
            """
import timm
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Linear(2, 2)

    def freeze(self):
        self.backbone.requires_grad = False  # NNC011
        self.requires_grad = False  # NNC011

model = Net()
model.requires_grad = False  # NNC011

def build():
    encoder = timm.create_model("resnet18")
    encoder.requires_grad = False  # NNC011
    return encoder
""",
            fixed="""
import timm
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Linear(2, 2)

    def freeze(self):
        self.backbone.requires_grad_(False)  # NNC011
        self.requires_grad_(False)  # NNC011

model = Net()
model.requires_grad_(False)  # NNC011

def build():
    encoder = timm.create_model("resnet18")
    encoder.requires_grad_(False)  # NNC011
    return encoder
""",
        ),
    )

    @classmethod
    def might_report(cls, screen: Screen) -> bool:
        return _ASSIGNED.search(screen.text) is not None and screen.found(unit for unit, _ in _assignments(screen))

    def check(self, model: FileModel) -> Iterator[Report]:
        for unit, owner in _assignments(model):
            if not isinstance(unit, cst.Assign) or not isinstance(owner, cst.BaseExpression):
                continue  # never: libcst's tree has libcst nodes
            target = cst.Module([]).code_for_node(owner)
            fix = Fix(safe=True, title="Call requires_grad_() instead", edits=((unit, _call_requires_grad_),))
            yield self.report(unit, fix=fix, target=target)


def _call_requires_grad_(assign: cst.Assign) -> cst.Expr:
    target = assign.targets[0].target
    assert isinstance(target, cst.Attribute)
    call = cst.Call(func=target.with_changes(attr=cst.Name("requires_grad_")), args=[cst.Arg(assign.value)])
    return cst.Expr(call, semicolon=assign.semicolon)


def _assignments(view: FileView[C]) -> Iterator[tuple[Node, Expr]]:
    """Each `<module>.requires_grad = ...` statement of the file, with its receiver."""
    modules_by_class = {id(cls.node): cls for cls in view.module_classes()}
    methods = {id(m): cls for cls in view.module_classes() for m in cls.methods()}
    attributes: dict[int, set[str]] = {}  # worked out for a class only when one of its methods needs it
    for owner, body in scopes(view.tree):
        if owner is not None and id(owner) in modules_by_class:
            continue  # a class body
        frozen = list(_requires_grad_set(body))
        if not frozen:
            continue  # most scopes: what their names hold is not worth working out
        values = scope_values((owner, body))
        names = {name for name, found in values.items() if found is not None and len(found) == 1
                 and view.builds_model(found[0])}
        function = owner if is_function(owner) else None
        cls = methods.get(id(function)) if function is not None else None
        self_name = first_parameter(function) if function is not None else None
        for unit, receiver, path in frozen:
            if len(path) == 1 and path[0] in names:
                yield unit, receiver
            elif function is None or cls is None or self_name is None or path[0] != self_name:
                continue
            elif len(path) == 2 and path[1] in _cached(attributes, cls, lambda: _module_attributes(view, cls)):
                yield unit, receiver
            elif len(path) == 1 and function_name(function) != "__init__":
                # In __init__, `self.requires_grad = requires_grad` keeps an option (PyG's AGNNConv).
                yield unit, receiver


def _cached(found: dict[int, set[str]], cls: C, work: Callable[[], set[str]]) -> set[str]:
    if id(cls) not in found:
        found[id(cls)] = work()
    return found[id(cls)]


def _requires_grad_set(body: Sequence[Unit]) -> Iterator[tuple[Unit, Expr, list[str]]]:
    """Each `a.b.requires_grad = ...` of the body, with its receiver and the receiver's dotted path."""
    for unit in simple_units(body):
        assigned = assignment(unit, annotated=False)
        if assigned is None or len(assigned[0]) != 1:
            continue
        parts = attribute(assigned[0][0])
        if parts is None or parts[1] != "requires_grad":
            continue
        path = dotted(parts[0])
        if path is not None:
            yield unit, parts[0], path


def _module_attributes(view: FileView[C], cls: C) -> set[str]:
    """The attributes that the class's methods only ever assign modules."""
    values: dict[str, list[bool]] = {}
    for method in cls.methods():
        self_name = first_parameter(method)
        for unit in simple_units(units(method)):
            assigned = assignment(unit)
            if assigned is None:
                continue
            for target in assigned[0]:
                path = dotted(target)
                if path is not None and len(path) == 2 and path[0] == self_name:
                    values.setdefault(path[1], []).append(view.is_module_call(assigned[1]))
    return {name for name, kinds in values.items() if all(kinds)}
