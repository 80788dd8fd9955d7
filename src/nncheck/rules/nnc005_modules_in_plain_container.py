from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from typing import Literal

import libcst as cst

from nncheck.fixes.fix import Fix
from nncheck.model.known_modules import DROPOUT_LAYERS
from nncheck.model.values import Kind
from nncheck.syntax.expressions import is_slice
from nncheck.model.views import C, FileModel, FileView, Screen
from nncheck.rule import FixAvailability, Report, Rule, Sample
from nncheck.syntax.nodes import (
    Call,
    ContainerKind,
    Expr,
    Function,
    Unit,
    added,
    assignment,
    attribute,
    augmented,
    blocks,
    conditional,
    calls_in,
    display,
    dotted,
    empty_container,
    first_parameter,
    is_none,
    is_scope,
    loops_in,
    mentions,
    method_owner,
    name_of,
    parameters,
    simple_units,
    subscript_owner,
    units,
    unpacked_elements,
    walk,
)

_FILLING_METHODS = ("append", "extend", "insert")
_REGISTERING_METHODS = ("add_module", "register_module", "register_parameter", "register_buffer", "set_submodule")


class ModulesInPlainContainer(Rule):
    """Submodules are kept in a plain list, tuple, dict or set.

    **What it finds.** In an nn.Module subclass's `__init__`, `self.<attr>` is assigned a list, tuple,
    dict or set display or comprehension whose elements are certainly Modules (calls of torch.nn
    classes or of module classes known to nncheck, also followed by `.to(...)`, `.cuda()` and the
    like, or local names bound to them: see "What nncheck knows of a value" in the README) or
    `nn.Parameter`s, or an empty list or dict that `__init__` then fills with such values
    (`.append`, `.extend`, `+=`, `self.x = self.x + [...]`, item assignment, and the same on an inner
    list, `self.x[i].append(...)`); and the class never wraps the attribute (`nn.ModuleList(self.x)`,
    `nn.Sequential(*self.x)`, ...), registers its items (`self.add_module(name, layer)`, `register_parameter`,
    `register_module`, `setattr(self, name, layer)`, `net.set_submodule(path, layer)` or a helper whose
    name says it sets a module (`set_module_by_path(net, path, layer)`), for the appended `layer`, one
    put in as an item (`self.x[key] = layer`), an item `self.x[-1]` or in a loop over it) or assigns it
    again. Modules that have nothing to lose are not reported:
    activations, pooling, `nn.Identity`, `nn.Flatten`, `nn.Upsample`, losses given no weights and the
    like (no parameters, no buffers, no train/eval behaviour).

    **Why is this a bug.** nn.Module only registers submodules assigned directly or held in its own
    containers. Modules in a plain container are invisible to `parameters()`, `state_dict()`,
    `.to(device)`, `.train()`/`.eval()` and the optimizer: they are never trained, saved or moved
    (torch 2.13: zero parameters, empty state_dict). A plain list of `nn.Dropout`s is never switched
    off by `model.eval()`: dropout stays on at inference. Parameters in a plain list are lost the same
    way: use `nn.ParameterList`.

    **Example.**

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.blocks = [nn.Linear(4, 4) for _ in range(3)]

    **Instead.**

        self.blocks = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])

    Items written `self.<attr>` are registered there already and do not count; `self.x = [module]`
    of one module the caller passed to `__init__` keeps it out of this module on purpose (espnet's
    `self.discriminator = [discriminator]`) and is not reported.
    Use `nn.ModuleDict` for a dict. A module kept out of registration on purpose can say so with
    `# noqa: NNC005`.

    **Fix.** Unsafe (it changes the `state_dict` keys): `--fix --unsafe-fixes` wraps the value in
    `nn.ModuleList(...)` or `nn.ModuleDict(...)` (`nn.ParameterList(...)` or `nn.ParameterDict(...)`
    for parameters), spelled through the file's own torch import.
    """

    code = "NNC005"
    name = "modules-in-plain-container"
    fix_availability = FixAvailability.UNSAFE
    message = (
        "{target} holds nn.Modules in a plain {kind}: their parameters are invisible to parameters(), "
        "state_dict() and .to(); use nn.{container}"
    )
    message_dropout = (
        "{target} holds dropout modules in a plain {kind}: model.eval() never reaches them, so dropout "
        "stays on at inference; use nn.{container}"
    )
    message_parameters = (
        "{target} holds nn.Parameters in a plain {kind}: they are invisible to parameters(), state_dict() "
        "and .to(); use nn.{container}"
    )

    valid = (
        """
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.sizes = [1, 2, 3]
        self.blocks = nn.ModuleList([nn.Linear(2, 2)])
        self.wrapped = [nn.Linear(2, 2)]
        self.seq = nn.Sequential(*self.wrapped)
        self.heads = {}
        self.heads["a"] = 3
""",
        """
from torch import nn

class Registered(nn.Module):
    def __init__(self):
        super().__init__()
        self.parts = [nn.Linear(2, 2), nn.ReLU()]
        for index, part in enumerate(self.parts):
            self.add_module(str(index), part)
""",
        """
import torch
from torch import nn

class SemSegHead(nn.Module):
    def __init__(self, features):
        super().__init__()
        self.scale_heads = []
        for name in features:
            self.scale_heads.append(nn.Sequential(nn.Conv2d(2, 2, 1)))
            self.add_module(name, self.scale_heads[-1])
        self.blocks = []
        for index in range(3):
            block = nn.Linear(2, 2)
            self.blocks.append(block)
            setattr(self, f"block{index}", block)

class Sliced(nn.Module):
    def __init__(self):
        super().__init__()
        self.parts = [nn.Linear(2, 2), nn.Linear(2, 2)]
        self.tail = nn.Sequential(*self.parts[1:])
        self.head = nn.ModuleList(self.parts[:1])

class Stateless(nn.Module):
    def __init__(self):
        super().__init__()
        self.losses = {"l2": nn.SmoothL1Loss(reduction="none"), "ce": nn.CrossEntropyLoss()}
        self.sigma = [nn.Parameter(torch.ones(1)) for _ in range(2)]
        for index, parameter in enumerate(self.sigma):
            self.register_parameter(f"sigma_{index}", parameter)
        self.acts = [nn.ReLU(), nn.GELU()]
        self.pools = []
        for _ in range(3):
            self.pools.append(nn.MaxPool2d(2))
""",
    )
    invalid = (
        Sample(
            """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = [nn.Linear(2, 2) for _ in range(3)]  # NNC005
        self.heads = {"a": nn.Linear(2, 1), "b": nn.Linear(2, 1)}  # NNC005
""",
            unsafe_fixed="""
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])  # NNC005
        self.heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Linear(2, 1)})  # NNC005
""",
        ),
        Sample(
            """
from torch import nn

class Filled(nn.Module):
    def __init__(self, depth):
        super().__init__()
        self.layers = []  # NNC005
        for _ in range(depth):
            self.layers.append(nn.Linear(2, 2))
""",
            unsafe_fixed="""
from torch import nn

class Filled(nn.Module):
    def __init__(self, depth):
        super().__init__()
        self.layers = nn.ModuleList()  # NNC005
        for _ in range(depth):
            self.layers.append(nn.Linear(2, 2))
""",
        ),
        Sample(
            """
import torch
from torch import nn

class Mixed(nn.Module):
    def __init__(self, device):
        super().__init__()
        self.drops = [nn.Dropout(0.1), nn.Dropout(0.2)]  # NNC005
        self.weights = [nn.Parameter(torch.zeros(2)), nn.Parameter(torch.ones(2))]  # NNC005
        self.layers = []  # NNC005
        for _ in range(2):
            self.layers = self.layers + [nn.Linear(2, 2).to(device)]
        self.convs = []  # NNC005
        for i in range(2):
            self.convs.append([])
            self.convs[i].append(nn.Conv2d(2, 2, 1).cuda())
        self.norms = []  # NNC005
        for i in range(2):
            self.norms.append([])
            tmp = nn.BatchNorm2d(2)
            self.norms[i].append(tmp)
""",
            unsafe_fixed="""
import torch
from torch import nn

class Mixed(nn.Module):
    def __init__(self, device):
        super().__init__()
        self.drops = nn.ModuleList([nn.Dropout(0.1), nn.Dropout(0.2)])  # NNC005
        self.weights = nn.ParameterList([nn.Parameter(torch.zeros(2)), nn.Parameter(torch.ones(2))])  # NNC005
        self.layers = nn.ModuleList()  # NNC005
        for _ in range(2):
            self.layers = self.layers + [nn.Linear(2, 2).to(device)]
        self.convs = []  # NNC005
        for i in range(2):
            self.convs.append([])
            self.convs[i].append(nn.Conv2d(2, 2, 1).cuda())
        self.norms = []  # NNC005
        for i in range(2):
            self.norms.append([])
            tmp = nn.BatchNorm2d(2)
            self.norms[i].append(tmp)
""",
        ),
        Sample(
            """
from torch import nn

class Branches(nn.Module):
    def __init__(self, drop, dims):
        super().__init__()
        if drop:
            self.layers = LayerDropModuleList(p=drop)
        else:
            self.layers = []  # NNC005
        self.layers.extend([nn.Linear(2, 2) for _ in dims])
        self.norms = [*[nn.LayerNorm(d) for d in dims], nn.LayerNorm(2)]  # NNC005
        if drop:
            self.heads = [nn.Linear(2, 2)]  # NNC005
        else:
            self.heads = None
        self.merged = nn.Linear(self.norms[0].normalized_shape[0], 2)
""",
            unsafe_fixed="""
from torch import nn

class Branches(nn.Module):
    def __init__(self, drop, dims):
        super().__init__()
        if drop:
            self.layers = LayerDropModuleList(p=drop)
        else:
            self.layers = nn.ModuleList()  # NNC005
        self.layers.extend([nn.Linear(2, 2) for _ in dims])
        self.norms = nn.ModuleList([*[nn.LayerNorm(d) for d in dims], nn.LayerNorm(2)])  # NNC005
        if drop:
            self.heads = nn.ModuleList([nn.Linear(2, 2)])  # NNC005
        else:
            self.heads = None
        self.merged = nn.Linear(self.norms[0].normalized_shape[0], 2)
""",
        ),
    )

    @classmethod
    def might_report(cls, screen: Screen) -> bool:
        return screen.any_module(lambda node: any(True for _ in _plain_containers(screen, node)))

    def check(self, model: FileModel) -> Iterator[Report]:
        for cls in model.module_classes():
            for target, statement, value, kind, holding, nested in _plain_containers(model, cls):
                if not (isinstance(statement, cst.Assign) and isinstance(value, cst.BaseExpression)):
                    continue  # never: a libcst class has libcst statements
                prefix = "Parameter" if holding == "parameters" else "Module"
                container = f"{prefix}Dict" if kind == "dict" else f"{prefix}List"
                template = {"modules": self.message, "dropout": self.message_dropout,
                            "parameters": self.message_parameters}[holding]
                yield self.report(
                    statement,
                    template,
                    # Lists inside the list would need their own containers: a person must do it.
                    fix=None if nested else _wrap_fix(model, statement, value, container, kind),
                    target=target,
                    kind=kind,
                    container=container,
                )


Holding = Literal["modules", "dropout", "parameters"]
# self.x, its assignment, the value, its kind, what it holds, whether inner lists hold it
Found = tuple[str, Unit, Expr, ContainerKind, Holding, bool]


def _plain_containers(view: FileView[C], cls: C) -> Iterator[Found]:
    """Each `self.x = <plain container of modules>` in the class's `__init__` (the screen asks this too)."""
    for init in cls.methods("__init__"):
        self_name = first_parameter(init)
        if self_name is None:
            continue
        assignments = _attribute_assignments(init, self_name)
        for attr, statement, value, arms in assignments:
            path = [self_name, attr]
            if _extends(value, path):
                continue
            # Assigned again (not `self.x = self.x + [...]`, which fills it, nor `self.x = None`, nor in
            # another arm of an `if`): the plain container may be replaced.
            if any(other_attr == attr and other is not statement and not _extends(other_value, path)
                   and not is_none(other_value) and not _exclusive(arms, other_arms)
                   for other_attr, other, other_value, other_arms in assignments):
                continue
            found = _displayed(value) or _filled(init, path, value)
            if found is None:
                continue
            kind, items, every, nested = found
            # `[self.a, self.b]`: modules assigned to attributes are registered there already.
            items = [item for item in items if not _instance_attribute(item[0], self_name)]
            if not items:
                continue
            if every and len(items) == 1 and name_of(items[0][0]) in parameters(init):
                continue  # `self.d = [discriminator]`: a module the caller owns, kept out of this one on purpose
            holding = _holding(view, init, items, every)
            if holding is not None and not _wrapped_or_registered(view, cls, path, _added_names(init, path)):
                yield f"{self_name}.{attr}", statement, value, kind, holding, nested


def _instance_attribute(expr: Expr, self_name: str) -> bool:
    parts = dotted(expr)
    return parts is not None and len(parts) == 2 and parts[0] == self_name


Arms = tuple[tuple[int, int], ...]  # the `if` statements holding a statement: (id of the if, which arm)


def _attribute_assignments(init: Function, self_name: str) -> list[tuple[str, Unit, Expr, Arms]]:
    """(x, statement, value, arms) of each `self.x = value` in the body, its blocks included."""
    found = []
    for unit, arms in _with_arms(units(init), ()):
        assigned = assignment(unit, annotated=False)
        if assigned is not None and len(assigned[0]) == 1:
            owner = attribute(assigned[0][0])
            if owner is not None and name_of(owner[0]) == self_name:
                found.append((owner[1], unit, assigned[1], arms))
    return found


def _with_arms(body: Sequence[Unit], arms: Arms) -> Iterator[tuple[Unit, Arms]]:
    """Every simple statement of the body, with the arms of the `if` statements that hold it."""
    for unit in body:
        inner = blocks(unit)
        if inner:
            branching = isinstance(unit, (ast.If, cst.If))
            for index, block in enumerate(inner):
                yield from _with_arms(block, arms + ((id(unit), index),) if branching else arms)
        elif not is_scope(unit):
            yield unit, arms


def _exclusive(a: Arms, b: Arms) -> bool:
    """Two statements in different arms of one `if`: never both run."""
    taken = dict(a)
    return any(node in taken and taken[node] != arm for node, arm in b)


def _extends(value: Expr, path: list[str]) -> bool:
    parts = added(value)
    return parts is not None and dotted(parts[0]) == path


# An item: an expression the container holds, or (each=True) one whose items it holds (`.extend(x)`).
Item = tuple[Expr, bool]
Contents = tuple[ContainerKind, list[Item], bool, bool]  # kind, items, all must count, held by inner lists


def _displayed(value: Expr) -> Contents | None:
    """A display or comprehension: its kind and elements, all of which must hold what is reported."""
    shown = display(value)
    if shown is None or not shown.values:
        return None
    if shown.unpacks:  # `[*[LayerNorm(d) for d in dims], Head()]`: each unpacked item counts
        elements = unpacked_elements(value)
        return (shown.kind, elements, True, False) if elements is not None else None
    return shown.kind, [(item, False) for item in shown.values], True, False


def _filled(init: Function, path: list[str], value: Expr) -> Contents | None:
    """An empty list or dict that `__init__` then fills: `.append(x)`, `.extend([x])`, `+= [x]`,
    `[key] = x`, `self.x = self.x + [x]`, and the same on an inner list (`self.x[i].append(x)`)."""
    kind = empty_container(value)
    if kind is None:
        return None
    items: list[Item] = []
    nested = False
    for call in calls_in(units(init)):
        arguments = [v for v, _ in call.positional] + [v for _, v in call.keywords]
        for method in _FILLING_METHODS:
            owner = method_owner(call, method)
            if owner is not None and _is_or_holds(owner, path) and arguments:
                items.extend(_added_items(arguments[-1], method))
                nested = nested or dotted(owner) != path
    for unit in simple_units(units(init)):
        grown = augmented(unit)
        if grown is not None and _is_or_holds(grown[0], path):
            items.extend(_added_items(grown[1], "extend"))
        assigned = assignment(unit, annotated=False)
        if assigned is not None:
            if any(dotted(subscript_owner(target)) == path for target in assigned[0]):
                items.append((assigned[1], False))
            parts = added(assigned[1])
            if parts is not None and dotted(parts[0]) == path:
                items.extend(_added_items(parts[1], "extend"))
    return (kind, items, False, nested) if items else None


def _added_items(argument: Expr, method: str) -> list[Item]:
    """What `.append(x)` adds (x), or `.extend(x)` (the elements of a display, else x's items)."""
    if method != "extend":
        return [(argument, False)]
    shown = display(argument)
    if shown is not None and not shown.comprehension:
        return [(value, False) for value in shown.values]
    return [(argument, True)]


def _is_or_holds(expr: Expr, path: list[str]) -> bool:
    """`self.x`, or an item of it (`self.x[i]`)."""
    return dotted(expr) == path or dotted(subscript_owner(expr)) == path


def _holding(view: FileView[C], init: Function, items: list[Item], every: bool) -> Holding | None:
    """What the container certainly holds, if it loses something by being plain: modules with state,
    dropout modules (whose train/eval switch is lost), or parameters. For a display every element must
    be one; for a filled container, some added item."""
    values = []
    for item, each in _optional_branches(items, every):
        value = view.values.iterated(view.values.of(item, init)) if each else view.values.of(item, init)
        if every and value.kind is not Kind.PARAMETER and not value.is_module:
            return None  # every element must be one: the rest need not be worked out
        values.append(value)
    parameters = [value for value in values if value.kind is Kind.PARAMETER]
    if parameters and (len(parameters) == len(items) or not every):
        return "parameters"
    modules = [value for value in values if value.is_module]
    if not modules or (every and len(modules) != len(items)):
        return None
    if all(value.stateless for value in modules):
        return None  # nothing to lose: no parameters, no buffers, no train/eval behaviour
    if all(value.stateless or value.layer in DROPOUT_LAYERS for value in modules):
        return "dropout"
    return "modules"


def _optional_branches(items: list[Item], every: bool) -> list[Item]:
    """In a filled container, `Linear(...) if c else None` adds a Linear when it adds anything."""
    if every:
        return items
    found: list[Item] = []
    for item, each in items:
        branches = conditional(item)
        if branches is not None and not each and is_none(branches[1]):
            found.append((branches[0], False))
        elif branches is not None and not each and is_none(branches[0]):
            found.append((branches[1], False))
        else:
            found.append((item, each))
    return found


def _added_names(init: Function, path: list[str]) -> set[str]:
    """Local names put in the container: `layer` in `self.x.append(layer)` and `self.x[key] = layer`."""
    names = set()
    for call in calls_in(units(init)):
        owner = method_owner(call, "append")
        if owner is not None and _is_or_holds(owner, path) and call.positional:
            name = name_of(call.positional[-1][0])
            if name is not None:
                names.add(name)
    for unit in simple_units(units(init)):
        assigned = assignment(unit, annotated=False)
        if assigned is not None and any(dotted(subscript_owner(target)) == path for target in assigned[0]):
            name = name_of(assigned[1])
            if name is not None:
                names.add(name)
    return names


def _wrapped_or_registered(view: FileView[C], cls: C, path: list[str], added_names: set[str]) -> bool:
    """Anywhere in the class: the attribute handed to a module class (`nn.ModuleList(self.x)`,
    `nn.Sequential(*self.x)`), or its items registered (`self.add_module(name, layer)`, also of an
    appended `layer` or an item `self.x[-1]`, `setattr(self, name, layer)`, in a loop over it or not)."""
    calls = calls_in(units(cls.node)) + [c for m in cls.methods() for c in calls_in(units(m))]
    for call in calls:
        arguments = [v for v, _ in call.positional] + [v for _, v in call.keywords]
        if view.is_module_expr(call.func) and any(_hands_over(arg, path) for arg in arguments):
            return True
        if _registers(call) and any(mentions([arg], path) or name_of(arg) in added_names for arg in arguments[1:]):
            return True
    for method in cls.methods():
        for loop_target, iterated, body in loops_in(units(method)):
            if mentions([iterated], path) and any(_registers(call) for call in calls_in(body)):
                return True
    return False


def _registers(call: Call) -> bool:
    """`self.add_module(...)` and the like, `setattr(...)`, or a helper that puts a module at a path of
    another (`set_module_by_path(net, path, wrapper)`, x-transformers): the items are registered there."""
    if name_of(call.func) == "setattr" or any(method_owner(call, m) is not None for m in _REGISTERING_METHODS):
        return True
    parts = attribute(call.func)
    called = parts[1] if parts is not None else name_of(call.func)
    return called is not None and "set_module" in called


def _wrap_fix(
    model: FileModel, statement: cst.Assign, value: cst.BaseExpression, container: str, kind: str
) -> Fix | None:
    spelled = model.spelling_of(f"torch.nn.{container}")
    if spelled is None or kind == "set":
        return None  # no torch import to spell it with; a set has no order to keep
    string_keys = all(
        isinstance(e, cst.DictElement) and isinstance(e.key, (cst.SimpleString, cst.FormattedString))
        for e in getattr(value, "elements", ())
    )
    if isinstance(value, cst.Dict) and not string_keys:
        return None  # ModuleDict keys must be strings
    empty = empty_container(value) is not None
    replacement = cst.parse_expression(f"{spelled}()") if empty else cst.Call(
        func=cst.parse_expression(spelled), args=[cst.Arg(value)]
    )
    edit = (statement, lambda node: node.with_changes(value=replacement))
    return Fix(safe=False, title=f"Wrap it in {spelled}", edits=(edit,))


def _hands_over(argument: Expr, path: list[str]) -> bool:
    """The argument gives the container itself (`self.x`, `*self.x`, `[m for m in self.x]`), not
    something read from one of its items (`self.x[0].conv.in_channels`)."""
    whole = items = 0
    for node in walk([argument], enter_scopes=True):
        if dotted(node) == path:
            whole += 1
        inner = attribute(node)
        owner = inner[0] if inner is not None else None if is_slice(node) else subscript_owner(node)
        if owner is not None and dotted(owner) == path:
            items += 1  # `self.x[0]`, `self.x[0].conv`: an item's, not the container (a slice still is)
    return whole > items
