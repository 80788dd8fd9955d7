from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence

import libcst as cst

from nncheck.model.known_modules import INSTANCE_NORMS, PARAMETERISED_LAYERS
from nncheck.model.methods import may_call_outside_init, reached_with_guards
from nncheck.model.views import AstClass, C, FileModel, FileView, Screen, holds_line
from nncheck.rule import FixAvailability, Report, Rule
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
    function_name,
    is_scope,
    name_of,
    units,
    walk,
)

# What a method may build that owns parameters: a layer, a Sequential holding one, a Parameter.
_BUILDING = PARAMETERISED_LAYERS | INSTANCE_NORMS | {"Sequential", "Parameter"}
_CONDITIONAL = ("If", "While")  # statement kinds under which an assignment to self is lazy initialisation


class LayerCreatedInForward(Rule):
    """A layer with parameters is created in `forward`.

    **What it finds.** In an nn.Module subclass, inside `forward` or a method that `forward` reaches
    through `self.<method>(...)` calls, a torch layer that owns parameters (`nn.Linear`, `nn.Conv2d`,
    the norms, `nn.Embedding`, the RNNs and their cells, `nn.MultiheadAttention`, the Transformer
    layers, `nn.PReLU`, `nn.InstanceNorm*` with `affine=True` or `track_running_stats=True`, or an
    `nn.Sequential` holding one) that is called at once (`nn.Linear(d, d)(x)`, also after
    `.to(...)`/`.cuda()`), bound to a local name that is then called, or assigned to `self.<attr>`
    outside any `if` or `while`; and `nn.Parameter(...)` assigned to `self.<attr>` there. Not
    reported: lazy initialisation under a guard (`if self.proj is None: self.proj = nn.Linear(...)`),
    classes whose forward-reachable code builds a `torch.optim` optimizer (fitting a fresh mask per
    call is their point), helpers reached only from `__init__`, layers without parameters
    (`nn.ReLU`, pooling, `nn.Identity`; `nn.Dropout` created there is NNC012's).

    **Why is this a bug.** The layer's weights are made again, at random, on every call, and never
    trained: the optimizer is built once from `model.parameters()`, which never holds them (a local
    layer is not even in `parameters()`; a `self.x` one is replaced on each call). Two identical
    calls give different outputs, even in `eval()` (torch 2.13).

    **Example.**

        class Head(nn.Module):
            def forward(self, x):
                return nn.Linear(x.shape[-1], 10)(x)

    **Instead.** Create the layer once, in `__init__`, and call it in `forward`:

        class Head(nn.Module):
            def __init__(self, dim):
                super().__init__()
                self.proj = nn.Linear(dim, 10)

            def forward(self, x):
                return self.proj(x)

    **Fix.** None: the layer's arguments often depend on the input, and only a person can move them
    to `__init__`.
    """

    code = "NNC009"
    name = "layer-created-in-forward"
    fix_availability = FixAvailability.NONE
    message = "{cls}.{method} creates a new nn.{layer} on every call, so its weights are never trained; {advice}"
    advice_local = "create it once in __init__"
    advice_attribute = "create {target} once in __init__ (or only when it is None)"

    valid = (
        """
import torch
from torch import nn

class Lazy(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = None
        self.initialized = False
        self.act = nn.ReLU()

    def forward(self, x):
        if self.proj is None:
            self.proj = nn.Linear(x.shape[-1], 4)
        if not self.initialized:
            self.norm = nn.LayerNorm(4)
            self.initialized = True
        x = nn.ReLU()(x)
        x = nn.MaxPool1d(2)(x)
        x = nn.InstanceNorm1d(4)(x)
        return self.act(self.proj(x))

class Built(nn.Module):
    def __init__(self):
        super().__init__()
        self.build_head(4)

    def build_head(self, dim):
        self.head = nn.Linear(dim, dim)

    def forward(self, x):
        return self.head(x)

class Explainer(nn.Module):
    def forward(self, x):
        mask = nn.Parameter(torch.ones_like(x))
        optimizer = torch.optim.Adam([mask], lr=0.1)
        layer = nn.Linear(4, 4)
        return layer(x * mask)

class Other(nn.Module):
    def forward(self, x):
        return Helper(4)(x)

class Sinusoidal(nn.Module):
    def forward(self, x):
        if x.shape[0] > self.weight.shape[0]:
            self.make_weight(x.shape[0])
        return x + self.weight

    def make_weight(self, size):
        self.weight = nn.Parameter(torch.zeros(size))
""",
        """
from torch import nn

def make(x):
    return nn.Linear(4, 4)(x)

class NotAModule:
    def forward(self, x):
        return nn.Linear(4, 4)(x)
""",
    )
    invalid = (
        """
import torch
from torch import nn

class Head(nn.Module):
    def forward(self, x):
        y = nn.Linear(x.shape[-1], 10)(x)  # NNC009@13
        mlp = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4))  # NNC009@15
        z = self.block(mlp(y))
        self.w = nn.Parameter(torch.zeros(4))  # NNC009@18
        return z * self.w

    def block(self, x):
        conv = nn.Conv1d(4, 4, 1).to(x.device)  # NNC009@16
        self.norm = nn.BatchNorm1d(4)  # NNC009@21
        norm = nn.InstanceNorm1d(4, affine=True)  # NNC009@16
        return norm(self.norm(conv(x)))
""",
    )

    @classmethod
    def might_report(cls, screen: Screen) -> bool:
        methods: _Found = {}
        return screen.any_module(lambda node: any(True for _ in _created(screen, node, methods)))

    def check(self, model: FileModel) -> Iterator[Report]:
        seen: set[int] = set()  # a subclass reaches its base's forward too: each layer is reported once
        methods: _Found = {}
        for cls in model.module_classes():
            for method, node, layer, target in _created(model, cls, methods):
                if not isinstance(node, cst.CSTNode) or id(node) in seen:
                    continue
                seen.add(id(node))
                advice = self.advice_attribute.format(target=target) if target else self.advice_local
                yield self.report(node, cls=cls.qualname, method=function_name(method), layer=layer, advice=advice)


Created = tuple[Function, Node, str, str]  # the method, the layer's construction, the layer, self.x or ""


_Found = dict[tuple[int, bool], list[Created]]  # per method reached (and whether under a guard)


def _created(view: FileView[C], cls: C, methods: _Found) -> Iterator[Created]:
    """Each layer with parameters that forward (or what it reaches) makes anew (the screen asks this too).
    `methods` keeps what each method was found to create: subclasses reach their bases' methods too."""
    if isinstance(view, Screen) and isinstance(cls, AstClass) and not may_call_outside_init(view, cls, _BUILDING):
        return
    reached = reached_with_guards(view, cls)
    found = []
    for method, guarded in reached:
        key = (id(method), guarded)
        if key not in methods:
            methods[key] = list(_constructions(view, [(method, guarded)]))
        found.extend(methods[key])
    # Asked only when there is something to report: most classes create nothing in forward.
    if found and not any(_builds_optimizer(view, method) for method, _ in reached):
        yield from found


def _constructions(view: FileView[C], reached: list[tuple[Function, bool]]) -> Iterator[Created]:
    lines = view.call_lines(_BUILDING) if isinstance(view, Screen) else None
    for method, reached_under_guard in reached:
        if lines is not None and isinstance(method, ast.AST) and not holds_line(method, lines):
            continue  # nothing built there
        self_name = first_parameter(method)
        body = units(method)
        calls = calls_in(body)
        called = {name for call in calls if (name := name_of(call.func)) is not None}
        for call in calls:
            layer = view.owns_parameters(call.func)
            if layer is not None:  # nn.Linear(d, d)(x)
                construction = view.construction(call.func)
                if construction is not None:
                    yield method, construction.node, layer, ""
        for unit, guarded in _assignments(body, reached_under_guard):
            assigned = assignment(unit)
            if assigned is None or len(assigned[0]) != 1:
                continue
            target, value = assigned[0][0], assigned[1]
            layer = view.owns_parameters(value) or _parameter(view, value)
            construction = view.construction(value)
            if layer is None or construction is None:
                continue
            local = name_of(target)
            owner = attribute(target)
            if local is not None and local in called:
                yield method, construction.node, layer, ""
            elif owner is not None and self_name is not None and name_of(owner[0]) == self_name and not guarded:
                yield method, construction.node, layer, f"{self_name}.{owner[1]}"


def _parameter(view: FileView[C], value: Expr) -> str | None:
    call = as_call(value)
    return "Parameter" if call is not None and view.parameter_class(call.func) == "Parameter" else None


def _assignments(body: Sequence[Unit], guarded: bool) -> Iterator[tuple[Unit, bool]]:
    """Every statement of the body that is not a block, with whether an `if` or `while` holds it."""
    for unit in body:
        inner = blocks(unit)
        if inner:
            kind = type(unit).__name__
            for block in inner:
                yield from _assignments(block, guarded or kind in _CONDITIONAL)
        elif not is_scope(unit):
            yield unit, guarded


def _called_names(body: Sequence[Unit]) -> set[str]:
    return {name for call in calls_in(body) if (name := name_of(call.func)) is not None}


def _builds_optimizer(view: FileView[C], method: Function) -> bool:
    for node in walk(units(method)):
        call = as_call(node)
        target = view.qualified_name(call.func) if call is not None else None
        if target is not None and target.startswith("torch.optim."):
            return True
    return False
