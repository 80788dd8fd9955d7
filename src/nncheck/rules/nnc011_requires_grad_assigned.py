from __future__ import annotations

import ast
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
    blocks,
    first_parameter,
    function_name,
    is_function,
    is_scope,
    name_of,
    parameters,
    scopes,
    units,
)

_ASSIGNED = re.compile(r"\.requires_grad\s*=[^=]")


class RequiresGradAssigned(Rule):
    """`requires_grad` is assigned on a module, which freezes nothing.

    **What it finds.** `<module>.requires_grad = <value>` where the receiver is certainly an
    nn.Module (see "What nncheck knows of a value" in the README): `self` in a method of an nn.Module
    subclass (but `__init__`, where `self.requires_grad = requires_grad` keeps an option, and any method
    that assigns it one of its own parameters),
    `self.<attr>` that the class only ever assigns modules, or a name every binding of which is a
    module: a call of a module class (`model = Net()`), `from_pretrained(...)` of a module class or
    of transformers' `AutoModel*`, `timm.create_model(...)` or a torchvision model builder, also
    through `.to(device)`, `.eval()` and the other methods that return the module itself; or a
    name bound by a call nncheck cannot follow (`model = task.build_model(cfg)`) on which the code
    calls a method only modules have (`model.eval()`, `model.parameters()`); or a name an enclosing
    `if isinstance(m, nn.Linear):` proves a module (every class it names is a module). Tensors and
    parameters are never reported: `p.requires_grad = False` is right, also under
    `if isinstance(x, nn.Parameter):` or `if torch.is_tensor(x):` for a name that holds modules elsewhere.

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
        frozen = list(_requires_grad_set(view, body, _NOTHING_TESTED))
        if not frozen:
            continue  # most scopes: what their names hold is not worth working out
        if module_bodies is None:
            module_bodies = {id(cls.node) for cls in view.module_classes()}
        if owner is not None and id(owner) in module_bodies:
            continue  # a class body
        # In __init__, `self.requires_grad = requires_grad` keeps an option (PyG's AGNNConv).
        option_holder = first_parameter(owner) if is_function(owner) and function_name(owner) == "__init__" else None
        # Elsewhere, `self.requires_grad = requires_grad` of a parameter keeps an option too (torchrl's envs).
        options = set(parameters(owner)) if is_function(owner) else set()
        instance = first_parameter(owner) if is_function(owner) else None
        for unit, receiver, tested in frozen:
            if option_holder is not None and name_of(receiver) == option_holder:
                continue
            assigned = assignment(unit, annotated=False)
            if instance is not None and name_of(receiver) == instance and assigned is not None \
                    and name_of(assigned[1]) in options:
                continue
            if tested or view.values.of(receiver, owner, at=unit).is_module:
                yield unit, receiver


# Names an enclosing `if` tests: (proved modules, proved something else: a parameter, a tensor).
Tested = tuple[frozenset[str], frozenset[str]]
_NOTHING_TESTED: Tested = (frozenset(), frozenset())


def _requires_grad_set(view: FileView[C], body: Sequence[Unit], tested: Tested) -> Iterator[tuple[Unit, Expr, bool]]:
    """Each `a.b.requires_grad = ...` of the body, with its receiver and whether an enclosing
    `if isinstance(name, nn.Linear):` proves it a module; not a name one proves something else
    (`if isinstance(x, nn.Parameter):`)."""
    for unit in body:
        if isinstance(unit, (ast.If, cst.If)):
            yield from _in_if(view, unit, tested)
            continue
        inner = blocks(unit)
        if inner:
            for block in inner:
                yield from _requires_grad_set(view, block, tested)
            continue
        if is_scope(unit):
            continue
        assigned = assignment(unit, annotated=False)
        if assigned is None or len(assigned[0]) != 1:
            continue
        parts = attribute(assigned[0][0])
        if parts is not None and parts[1] == "requires_grad":
            name = name_of(parts[0])
            if name not in tested[1]:
                yield unit, parts[0], name in tested[0]


def _in_if(view: FileView[C], unit: ast.If | cst.If, tested: Tested) -> Iterator[tuple[Unit, Expr, bool]]:
    # An `elif` is a nested ast.If in the `else` block of Python's ast, and libcst's If.orelse.
    found = _isinstance_test(view, unit.test)
    inside = tested
    if found is not None:
        name, module = found
        inside = (tested[0] | {name}, tested[1] - {name}) if module else (tested[0] - {name}, tested[1] | {name})
    yield from _requires_grad_set(view, units(unit.body), inside)
    if isinstance(unit, ast.If):
        yield from _requires_grad_set(view, unit.orelse, tested)
    elif isinstance(unit.orelse, cst.If):
        yield from _in_if(view, unit.orelse, tested)
    elif isinstance(unit.orelse, cst.Else):
        yield from _requires_grad_set(view, units(unit.orelse.body), tested)


def _isinstance_test(view: FileView[C], test: Node) -> tuple[str, bool] | None:
    """(`x`, True) for `isinstance(x, nn.Linear)` (every class named a known module); (`x`, False) for
    classes known to be no modules (`nn.Parameter`, builtins) and for `torch.is_tensor(x)`."""
    found = view.type_test(test)
    if found is None:
        return None
    name, kinds = found
    if name is None:
        return None
    if kinds is None:
        return name, False
    if all(view.is_module_expr(kind) for kind in kinds):
        return name, True
    # Only classes known to be no modules: `isinstance(m, BaseTunerLayer)` (a mixin) holds for a module too.
    if all(view.qualified_name(kind) in _NO_MODULES
           or (name_of(kind) in _BUILTINS and view.qualified_name(kind) is None) for kind in kinds):
        return name, False
    return None


_NO_MODULES = frozenset({
    "torch.Tensor", "torch.nn.Parameter", "torch.nn.parameter.Parameter", "torch.nn.Buffer",
    "torch.nn.parameter.Buffer", "torch.nn.parameter.UninitializedParameter", "numpy.ndarray",
})
_BUILTINS = frozenset({"list", "tuple", "dict", "set", "int", "float", "bool", "str"})  # when not imported
