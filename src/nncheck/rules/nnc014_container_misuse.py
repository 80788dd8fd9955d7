from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Sequence

import libcst as cst

from nncheck.fixes.fix import Fix
from nncheck.model.values import Kind
from nncheck.model.views import C, FileModel, FileView, Screen, holds_line
from nncheck.rule import FixAvailability, Report, Rule, Sample
from nncheck.syntax.nodes import Call, Expr, Unit, blocks, calls_in, display, heads, is_scope, scopes

# What the language server compares before keeping the screens' answers (engine.incremental).
_CONTAINERS = re.compile(r"(?:Sequential|ModuleList|ModuleDict|ParameterList)\s*\(")
# What iterating gives modules: a ModuleList can be built from these.
_CONTAINER_NAMES = frozenset({"Sequential", "ModuleList", "ModuleDict", "ParameterList"})
_ITERATES_MODULES = frozenset({"Sequential", "ModuleList"})
_GENERATORS = (ast.GeneratorExp, cst.GeneratorExp)
_SEQUENCES = (Kind.LIST, Kind.TUPLE, Kind.SET, Kind.ITERABLE)

# The call, what is wrong, the list to unpack for Sequential, the torch class of the one module given.
Misuse = tuple[Call, str, Expr | None, str | None]


class ContainerMisuse(Rule):
    """An nn container is given the wrong kind of argument.

    **What it finds.** Calls of torch's containers that raise when the model is built:
    `nn.Sequential([a, b])` (or a tuple, a comprehension, or a name that is certainly a list or a
    tuple: `layers = []` then `layers.append(...)`, `list(...)`) where the modules should be
    unpacked; `nn.ModuleList(a, b)` with several
    positional arguments; `nn.ModuleList(nn.Linear(...))` with one module that does not iterate into
    modules (only `nn.Sequential` and `nn.ModuleList` do; a parameter annotated `nn.Module` may be one of
    them, and is not reported); `nn.ModuleDict([m1, m2])` with a list of
    modules instead of names and modules; `nn.ParameterList(p1, p2)` with several positional
    arguments. `nn.ModuleList(d.values())`, `nn.ModuleList(generator)`,
    `nn.Sequential(OrderedDict(...))`, `nn.Sequential(*layers)` and `nn.ModuleDict(pairs)` are right
    and never reported.

    **Why is this a bug.** torch raises when the line runs: `TypeError: list is not a Module subclass`
    for `Sequential([...])`, `TypeError: ModuleList.__init__() takes from 1 to 2 positional arguments`
    for several modules, `TypeError: ModuleList.extend should be called with an iterable, but got
    Linear` for one, `ModuleDict update sequence element #0 should be Iterable` (torch 2.13).

    **Example.**

        self.body = nn.Sequential([nn.Linear(4, 4), nn.ReLU()])

    **Instead.**

        self.body = nn.Sequential(nn.Linear(4, 4), nn.ReLU())

    **Fix.** Safe, for `nn.Sequential` given one list: `--fix` unpacks it, `nn.Sequential(*[...])`.
    None for the others: a person must say how the modules are grouped.
    """

    code = "NNC014"
    name = "container-misuse"
    fix_availability = FixAvailability.SAFE
    message = "{call} raises TypeError: {problem}"
    problems = {
        "sequential": "nn.Sequential takes modules, not a list of them; unpack it with *",
        "several": "{container} takes one iterable, not several arguments; put them in a list",
        "one module": "{container} needs an iterable of modules, and one {layer} is not; put it in a list",
        "module dict": "nn.ModuleDict takes names and modules, not a list of modules; give a dict",
    }

    valid = (
        """
from collections import OrderedDict
from torch import nn

layers = [nn.Linear(2, 2), nn.ReLU()]
heads = {"a": nn.Linear(2, 2)}
a = nn.Sequential(*layers)
b = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2))]))
c = nn.ModuleList(heads.values())
d = nn.ModuleList(nn.Linear(2, 2) for _ in range(3))
e = nn.ModuleList(nn.Sequential(nn.Linear(2, 2)))
f = nn.ModuleDict(heads)
g = nn.ModuleDict([("fc", nn.Linear(2, 2))])
h = nn.ModuleList([nn.Linear(2, 2)])

def build(blocks):
    return nn.Sequential(blocks)
""",
    )
    invalid = (
        Sample(
            """
import torch
from torch import nn

a = nn.Sequential([nn.Linear(2, 2), nn.ReLU()])  # NNC014@5
blocks = [nn.Linear(2, 2) for _ in range(3)]
b = nn.Sequential(blocks)  # NNC014@5
c = nn.ModuleList(nn.Linear(2, 2), nn.ReLU())  # NNC014@5
d = nn.ModuleList(nn.Linear(2, 2))  # NNC014@5
e = nn.ModuleDict([nn.Linear(2, 2), nn.ReLU()])  # NNC014@5
f = nn.ParameterList(nn.Parameter(torch.zeros(2)), nn.Parameter(torch.ones(2)))  # NNC014@5
""",
            fixed="""
import torch
from torch import nn

a = nn.Sequential(*[nn.Linear(2, 2), nn.ReLU()])  # NNC014@5
blocks = [nn.Linear(2, 2) for _ in range(3)]
b = nn.Sequential(*blocks)  # NNC014@5
c = nn.ModuleList(nn.Linear(2, 2), nn.ReLU())  # NNC014@5
d = nn.ModuleList(nn.Linear(2, 2))  # NNC014@5
e = nn.ModuleDict([nn.Linear(2, 2), nn.ReLU()])  # NNC014@5
f = nn.ParameterList(nn.Parameter(torch.zeros(2)), nn.Parameter(torch.ones(2)))  # NNC014@5
""",
        ),
        Sample(
            """
from torch import nn

class Aggregator(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.conv_layers = []
        for dim in dims:
            self.conv_layers.append(nn.Conv1d(dim, dim, 3))
        self.conv_layers = nn.Sequential(self.conv_layers)  # NNC014@28
        layers = []
        for dim in dims:
            layers.append(nn.Linear(dim, dim))
        layers = layers[1:]
        self.head = nn.Sequential(layers)  # NNC014@21
""",
            fixed="""
from torch import nn

class Aggregator(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.conv_layers = []
        for dim in dims:
            self.conv_layers.append(nn.Conv1d(dim, dim, 3))
        self.conv_layers = nn.Sequential(*self.conv_layers)  # NNC014@28
        layers = []
        for dim in dims:
            layers.append(nn.Linear(dim, dim))
        layers = layers[1:]
        self.head = nn.Sequential(*layers)  # NNC014@21
""",
        ),
    )

    @classmethod
    def might_report(cls, screen: Screen) -> bool:
        # A container's name (or a name bound to one) called somewhere: a look at the text first.
        found = (call.node for call, _, _, _ in _misuses(screen))
        return bool(screen.call_lines(_CONTAINER_NAMES)) and screen.found(found)

    def check(self, model: FileModel) -> Iterator[Report]:
        for call, kind, unpack, layer in _misuses(model):
            if not isinstance(call.node, cst.Call):
                continue  # never: libcst's tree has libcst nodes
            container = cst.Module([]).code_for_node(call.node.func)
            problem = self.problems[kind].format(container=container, layer=layer)
            fix = None
            if isinstance(unpack, cst.BaseExpression):
                fix = Fix(safe=True, title="Unpack the list", edits=((call.node, _unpack),))
            yield self.report(call.node, fix=fix, call=f"{container}(...)", problem=problem)


def _unpack(call: cst.Call) -> cst.Call:
    return call.with_changes(args=[call.args[0].with_changes(star="*")])


def _misuses(view: FileView[C]) -> Iterator[Misuse]:
    """Each container call given the wrong kind of argument (the screen asks this too)."""
    # The screen walks only the statements on whose lines a container may be called.
    lines = view.call_lines(_CONTAINER_NAMES) if isinstance(view, Screen) else None
    for owner, body in scopes(view.tree):
        if lines is not None and isinstance(owner, ast.AST) and not holds_line(owner, lines):
            continue
        for unit, call in _calls_by_statement(body, lines):
            container = view.torch_layer(call.node) if view.qualified_name(call.func) is not None else None
            if container not in ("Sequential", "ModuleList", "ModuleDict", "ParameterList"):
                continue
            positional = [value for value, starred in call.positional if not starred]
            if len(positional) != len(call.positional) or call.keywords:
                continue  # *args or keywords: anything may come in
            if container in ("ModuleList", "ParameterList") and len(positional) > 1:
                yield call, "several", None, None
            elif len(positional) != 1:
                continue
            elif container == "Sequential":
                # A display says what it is: the knowledge of values is asked only of other expressions.
                shown = display(positional[0])
                if shown is not None:
                    wrong = shown.kind in ("list", "tuple", "set")
                else:
                    wrong = isinstance(positional[0], _GENERATORS) \
                        or view.values.of(positional[0], owner, at=unit).kind in _SEQUENCES
                if wrong:
                    yield call, "sequential", positional[0], None
            elif container == "ModuleList":
                if display(positional[0]) is not None or isinstance(positional[0], _GENERATORS):
                    continue  # `[...]`, `(... for ...)`: an iterable, as it should be
                value = view.values.of(positional[0], owner, at=unit)
                # Not `layers: nn.Module`: an nn.ModuleList or nn.Sequential is one too, and iterates.
                if value.is_module and value.layer is not None and value.layer not in _ITERATES_MODULES \
                        and value.layer != "Module":
                    yield call, "one module", None, value.layer
            elif container == "ModuleDict":
                shown = display(positional[0])
                if shown is not None and shown.kind in ("list", "tuple") and not shown.comprehension \
                        and shown.values and all(view.values.of(v, owner, at=unit).is_module for v in shown.values):
                    yield call, "module dict", None, None


def _calls_by_statement(body: Sequence[Unit], lines: list[int] | None) -> Iterator[tuple[Unit, Call]]:
    """Each call of the body (not in nested scopes), with the statement that holds it; with `lines`,
    only in the statements that hold one of them."""
    for unit in body:
        if lines is not None and isinstance(unit, ast.AST) and not holds_line(unit, lines):
            continue
        inner = blocks(unit)
        if inner:
            yield from ((unit, call) for call in calls_in(heads(unit)))
            for block in inner:
                yield from _calls_by_statement(block, lines)
        elif not is_scope(unit):
            yield from ((unit, call) for call in calls_in([unit]))
