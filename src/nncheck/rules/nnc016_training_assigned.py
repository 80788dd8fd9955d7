from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Sequence

import libcst as cst

from nncheck.fixes.fix import Fix
from nncheck.model.base_init import index_of_base_init
from nncheck.model.methods import find_method
from nncheck.model.table import ClassInfo
from nncheck.model.views import C, FileModel, FileView, Screen
from nncheck.rule import FixAvailability, Report, Rule, Sample
from nncheck.syntax.nodes import (
    Expr,
    Node,
    Unit,
    as_call,
    assignment,
    attribute,
    blocks,
    boolean,
    calls_in,
    dotted,
    first_parameter,
    function_name,
    is_function,
    method_owner,
    name_of,
    scopes,
    simple_units,
    subscript_owner,
    units,
)

_ASSIGNED = re.compile(r"\.training\s*=[^=]")
# Methods that switch the mode: an override sets its own flag, then the children's.
_MODE_SWITCHES = ("train", "eval")


class TrainingAssigned(Rule):
    """`training` is assigned on a module that holds submodules, which stay in their mode.

    **What it finds.** `<module>.training = <value>` where the receiver is certainly an nn.Module
    (see "What nncheck knows of a value" in the README) that certainly holds submodules: a torch
    container given modules (`nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))`), torch's transformer
    layers, a model from `timm.create_model`, a torchvision builder or `from_pretrained`, or an
    instance of a module class whose `__init__` assigns a submodule to `self`: `self` in the class's
    methods, `self.encoder` in another method, `model = Net()`. Not reported: inside an overridden
    `train` or `eval` (that is how they are written: `self.training = mode`, then the children); a
    module nncheck does not know to hold submodules (its own flag is all there is: a `Linear`, the
    modules a loop over `model.modules()` or `model.children()` sets one by one); objects that are
    not certainly modules (`cfg.training = False`, `trainer.training = True`); classes that define
    `training` themselves (a property whose setter may switch the children); `self.training = True`
    in `__init__`, where every module is in training mode already. Nor where the function sets one
    module's own flag on purpose: it saves the flag and puts it back (`training = self.training`,
    `self.training = False`, ..., `self.training = training`), or it also calls `train()` or
    `eval()` on a module the receiver is part of (`model.eval()`, then `model.head.training =
    True`: a mixed state). Nor next to a statement that switches the same module all the same
    (`self.training = False`, then `self.eval()`).

    **Why is this a bug.** `training` is a plain attribute of each module: `model.eval()` and
    `model.train(mode)` set it on the module and on every submodule. Assigning it sets the flag of
    that one module: the submodules keep their own, so dropout keeps dropping and batch norm keeps
    using and updating the batch statistics. After `nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))`
    then `.training = False`, the Dropout still zeroes half its inputs (torch 2.13).

    **Example.**

        model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
        model.training = False

    **Instead.**

        model.eval()

    **Fix.** Unsafe: `--fix --unsafe-fixes` rewrites `x.training = False` as `x.eval()`,
    `x.training = True` as `x.train()` and `x.training = value` as `x.train(value)`. The submodules
    then change mode too, which is the point, and an overridden `train()` now runs (torch's own
    raises ValueError for a value that is not a bool). No fix in `__init__` before the base
    `__init__` call (`eval()` needs it), nor where a comment in the value would be lost.
    """

    code = "NNC016"
    name = "training-assigned"
    fix_availability = FixAvailability.UNSAFE
    message = ("{target}.training = ... sets the flag of {target} alone: its submodules keep their mode "
               "(dropout, batch norm); call {call}")

    valid = (
        """
import torch
from torch import nn

class Config:
    def __init__(self):
        self.training = True

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
        self.head = nn.Linear(2, 2)

    def train(self, mode=True):
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        self.training = False
        self.encoder.training = False
        self.encoder.eval()
        return self

    def freeze(self):
        for module in self.modules():
            module.training = False
        for name, child in self.encoder.named_children():
            child.training = False
        self.head.training = False

    def evaluate(self, x):
        self.training = False
        self.eval()
        return self(x)

    def strides(self, x):
        self.eval()
        self.encoder.training = True
        return self.encoder(x)

    def predict(self, x):
        training = self.training
        self.training = False
        try:
            return self(x)
        finally:
            self.training = training

class Fresh(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
        self.training = True

class Leaf(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(2))

    def freeze(self):
        self.training = False

class Switch(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))

    @property
    def training(self):
        return self.__dict__.get("_mode", True)

    @training.setter
    def training(self, mode):
        self.__dict__["_mode"] = mode
        for child in self.__dict__.get("_modules", {}).values():
            child.train(mode)

    def freeze(self):
        self.training = False

cfg = Config()
cfg.training = False

def fit(trainer, model, x):
    trainer.training = True
    model.training = True
    layer = nn.Linear(2, 2)
    layer.training = False
    return model(x)
""",
    )
    invalid = (
        Sample(
            """
import timm
from torch import nn

class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))

    def freeze(self):
        self.training = False  # NNC016

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()

    def set_mode(self, mode):
        self.encoder.training = mode  # NNC016

model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
model.training = False  # NNC016
backbone = timm.create_model("resnet18").to("cpu")
backbone.training = True  # NNC016
net = Net()
net.training = not backbone.training  # NNC016
""",
            unsafe_fixed="""
import timm
from torch import nn

class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))

    def freeze(self):
        self.eval()  # NNC016

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()

    def set_mode(self, mode):
        self.encoder.train(mode)  # NNC016

model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
model.eval()  # NNC016
backbone = timm.create_model("resnet18").to("cpu")
backbone.train()  # NNC016
net = Net()
net.train(not backbone.training)  # NNC016
""",
        ),
    )

    @classmethod
    def might_report(cls, screen: Screen) -> bool:
        if _ASSIGNED.search(screen.text) is None:
            return False
        return screen.found(unit for _, unit, _, _ in _assignments(screen))

    def check(self, model: FileModel) -> Iterator[Report]:
        for owner, unit, receiver, value in _assignments(model):
            if not isinstance(unit, cst.Assign) or not isinstance(receiver, cst.BaseExpression):
                continue  # never: libcst's tree has libcst nodes
            target = _code(receiver)
            method, argument = _call_for(value)
            shown = _code(value) if argument and "\n" not in _code(value) else "..."
            call = f"{target}.{method}({shown if argument else ''})"
            fix = None if _before_base_init(model, owner, unit) else _fix(unit, method, argument)
            yield self.report(unit, fix=fix, target=target, call=call)


def _assignments(view: FileView[C]) -> Iterator[tuple[Node | None, Unit, Expr, Expr]]:
    """Each `<module with children>.training = value` of the file: the scope, the statement, the
    receiver, the value."""
    switches: set[int] | None = None
    for owner, body in scopes(view.tree):
        assigned = list(_training_set(body))
        if not assigned or (owner is not None and not is_function(owner)):
            continue  # most scopes; and a class body, whose `x.training = ...` runs once, at import
        if switches is None:
            switches = {id(method) for cls in view.classes for method in cls.methods()
                        if function_name(method) in _MODE_SWITCHES}
        if owner is not None and id(owner) in switches:
            continue
        restored = _restored(body)
        switched = _switched(body)
        # In __init__, everything is in training mode already: `self.training = True` changes nothing.
        building = first_parameter(owner) if is_function(owner) and function_name(owner) == "__init__" else None
        for unit, receiver, value in assigned:
            path = tuple(dotted(receiver) or ())
            if path in restored or (switched and _inside(receiver, switched, body)):
                continue
            if building is not None and path == (building,) and boolean(value) is True:
                continue
            known = view.values.of(receiver, owner, at=unit)
            if known.is_module and view.values.has_children(known) and not _own_training(view, known.classes):
                yield owner, unit, receiver, value


def _own_training(view: FileView[C], classes: tuple[ClassInfo, ...]) -> bool:
    """A class of the file that defines `training` itself (a property whose setter may reach the children)."""
    return any(isinstance(find_method(view, cls, "training"), (ast.FunctionDef, ast.AsyncFunctionDef, cst.FunctionDef))
               for cls in view.classes if any(cls.info is info for info in classes))


def _training_set(body: Sequence[Unit]) -> Iterator[tuple[Unit, Expr, Expr]]:
    """Each `a.b.training = value` of the body (its blocks included), with its receiver and value; but
    not one next to a call that switches the same module (`self.training = False`, then `self.eval()`)."""
    for index, unit in enumerate(body):
        for block in blocks(unit):
            yield from _training_set(block)
        assigned = assignment(unit, annotated=False)
        if assigned is None or len(assigned[0]) != 1:
            continue
        parts = attribute(assigned[0][0])
        if parts is None or parts[1] != "training":
            continue
        path = dotted(parts[0])
        neighbours = [*body[max(index - 1, 0):index], *body[index + 1:index + 2]]
        if path is None or not any(_switches(neighbour) == path for neighbour in neighbours):
            yield unit, parts[0], assigned[1]


def _switches(unit: Unit) -> list[str] | None:
    """The module a statement `x.train(...)` or `x.eval()` switches."""
    call = as_call(unit.value) if isinstance(unit, (ast.Expr, cst.Expr)) else None
    owner = attribute(call.func) if call is not None else None
    return dotted(owner[0]) if owner is not None and owner[1] in _MODE_SWITCHES else None


def _restored(body: Sequence[Unit]) -> set[tuple[str, ...]]:
    """The receivers whose flag the body saves (`was = x.training`) and puts back (`x.training = was`)."""
    saved: dict[str, tuple[str, ...]] = {}
    found: set[tuple[str, ...]] = set()
    for unit in simple_units(body):
        assigned = assignment(unit, annotated=False)
        if assigned is None or len(assigned[0]) != 1:
            continue
        target, value = assigned[0][0], assigned[1]
        read, written = attribute(value), attribute(target)
        name = name_of(target)
        if name is not None and read is not None and read[1] == "training":
            saved[name] = tuple(dotted(read[0]) or ())
        elif written is not None and written[1] == "training":
            was = saved.get(name_of(value) or "")
            if was and was == tuple(dotted(written[0]) or ()):
                found.add(was)
    return found


def _switched(body: Sequence[Unit]) -> set[tuple[str, ...]]:
    """The modules the body's `.train(...)` and `.eval()` calls switch (dotted names only)."""
    found: set[tuple[str, ...]] = set()
    for call in calls_in(body):
        for method in _MODE_SWITCHES:
            owner = method_owner(call, method)
            path = dotted(owner) if owner is not None else None
            if path is not None:
                found.add(tuple(path))
    return found


def _inside(receiver: Expr, switched: set[tuple[str, ...]], body: Sequence[Unit]) -> bool:
    """The receiver is a part of a module the body switches: `model.head` after `model.eval()`, or a
    name the body binds to one (`m = self.model[-1]` after `self.model.eval()`)."""
    name = name_of(receiver)
    sources = [receiver]
    if name is not None:
        sources = [assigned[1] for unit in simple_units(body) if (assigned := assignment(unit, annotated=False))
                   and any(name_of(target) == name for target in assigned[0])]
    return any(_within(source, path) for source in sources for path in switched)


def _within(expr: Expr, path: tuple[str, ...]) -> bool:
    """`expr` reads a part of `path`: `path.x`, `path[i]`, `path.x[i].y`."""
    inner: Expr | None = expr
    while inner is not None:
        owner = subscript_owner(inner)
        parts = attribute(inner) if owner is None else None
        inner = owner if owner is not None else parts[0] if parts is not None else None
        if inner is not None and tuple(dotted(inner) or ()) == path:
            return True
    return False


def _before_base_init(model: FileModel, owner: Node | None, unit: Unit) -> bool:
    """A statement of an `__init__` that may run before the base `__init__` (which `eval()` needs)."""
    if not is_function(owner) or function_name(owner) != "__init__":
        return False
    for cls in model.classes:
        if any(method is owner for method in cls.methods()):
            index = index_of_base_init(model, cls, owner, unseen_counts=False)
            return index is None or not any(
                position > index for position, top in enumerate(units(owner))
                if any(inner is unit for inner in simple_units([top])))
    return True


def _call_for(value: Expr) -> tuple[str, bool]:
    """The method to call instead, and whether it takes the value."""
    flag = boolean(value)
    if flag is None:
        return "train", True
    return ("train" if flag else "eval"), False


def _fix(assign: cst.Assign, method: str, argument: bool) -> Fix | None:
    if not argument and "#" in _code(assign.value):
        return None  # the value, which the call drops, holds a comment
    title = f"Call {method}() instead"

    def edit(node: cst.Assign) -> cst.Expr:
        target = node.targets[0].target
        assert isinstance(target, cst.Attribute)
        call = cst.Call(func=target.with_changes(attr=cst.Name(method)),
                        args=[cst.Arg(node.value)] if argument else [])
        return cst.Expr(call, semicolon=node.semicolon)

    return Fix(safe=False, title=title, edits=((assign, edit),))


def _code(node: Node) -> str:
    assert isinstance(node, cst.CSTNode)
    return cst.Module([]).code_for_node(node)
