from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

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
    first_parameter,
    function_name,
    is_function,
    name_of,
    scopes,
    simple_units,
)

_ASSIGNED = re.compile(r"\.requires_grad\s*=[^=]")


class RequiresGradAssigned(Rule):
    """`requires_grad` is assigned on a module, which freezes nothing.

    **What it finds.** `<module>.requires_grad = <value>` where the receiver is certainly an
    nn.Module (see "What nncheck knows of a value" in the README): `self` in a method of an nn.Module
    subclass (but `__init__`, where `self.requires_grad = requires_grad` keeps an option),
    `self.<attr>` that the class only ever assigns modules, or a name every binding of which is a
    module: a call of a module class (`model = Net()`), `from_pretrained(...)` of a module class or
    of transformers' `AutoModel*`, `timm.create_model(...)` or a torchvision model builder, also
    through `.to(device)`, `.eval()` and the other methods that return the module itself; or a
    name bound by a call nncheck cannot follow (`model = task.build_model(cfg)`) on which the code
    calls a method only modules have (`model.eval()`, `model.parameters()`). Tensors and parameters
    are never reported: `p.requires_grad = False` is right.

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
cfg = object()
cfg.requires_grad = False
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
    encoder = encoder.to("cpu")
    encoder.requires_grad = False  # NNC011
    return encoder

def load(task, cfg, small):
    model = task.build_model(cfg)
    model.eval()
    model.requires_grad = False  # NNC011
    if small:
        head = nn.Linear(2, 2)
    else:
        head = nn.Linear(4, 2)
    head.requires_grad = False  # NNC011
    vae = Net()
    vae.requires_grad = False  # NNC011
    del vae
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
    encoder = encoder.to("cpu")
    encoder.requires_grad_(False)  # NNC011
    return encoder

def load(task, cfg, small):
    model = task.build_model(cfg)
    model.eval()
    model.requires_grad_(False)  # NNC011
    if small:
        head = nn.Linear(2, 2)
    else:
        head = nn.Linear(4, 2)
    head.requires_grad_(False)  # NNC011
    vae = Net()
    vae.requires_grad_(False)  # NNC011
    del vae
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
    module_bodies: set[int] | None = None
    for owner, body in scopes(view.tree):
        frozen = list(_requires_grad_set(body))
        if not frozen:
            continue  # most scopes: what their names hold is not worth working out
        if module_bodies is None:
            module_bodies = {id(cls.node) for cls in view.module_classes()}
        if owner is not None and id(owner) in module_bodies:
            continue  # a class body
        # In __init__, `self.requires_grad = requires_grad` keeps an option (PyG's AGNNConv).
        option_holder = first_parameter(owner) if is_function(owner) and function_name(owner) == "__init__" else None
        for unit, receiver in frozen:
            if option_holder is not None and name_of(receiver) == option_holder:
                continue
            if view.values.of(receiver, owner, at=unit).is_module:
                yield unit, receiver


def _requires_grad_set(body: Sequence[Unit]) -> Iterator[tuple[Unit, Expr]]:
    """Each `a.b.requires_grad = ...` of the body, with its receiver."""
    for unit in simple_units(body):
        assigned = assignment(unit, annotated=False)
        if assigned is None or len(assigned[0]) != 1:
            continue
        parts = attribute(assigned[0][0])
        if parts is not None and parts[1] == "requires_grad":
            yield unit, parts[0]
