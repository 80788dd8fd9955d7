from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from nncheck.fixes.fix import Fix
from nncheck.model.views import C, FileModel, FileView, Screen
from nncheck.rule import FixAvailability, Report, Rule, Sample
from nncheck.syntax.nodes import (
    ContainerKind,
    Expr,
    Function,
    Unit,
    assignment,
    attribute,
    augmented,
    calls_in,
    display,
    dotted,
    elements,
    empty_container,
    first_parameter,
    loops_in,
    mentions,
    method_owner,
    name_of,
    simple_units,
    subscript_owner,
    units,
)

_FILLING_METHODS = ("append", "extend", "insert")
_REGISTERING_METHODS = ("add_module", "register_module")


class ModulesInPlainContainer(Rule):
    """Submodules are kept in a plain list, tuple, dict or set.

    **What it finds.** In an nn.Module subclass's `__init__`, `self.<attr>` is assigned a list, tuple,
    dict or set display or comprehension whose elements are certainly Modules (calls of torch.nn
    classes or of module classes known to nncheck), or an empty list or dict that `__init__` then
    fills with such calls (`.append`, `.extend`, `+=`, item assignment); and the class never wraps
    the attribute (`nn.ModuleList(self.x)`, `nn.Sequential(*self.x)`, ...), registers its items
    (`add_module`/`register_module` in a loop over it) or assigns it again.

    **Why is this a bug.** nn.Module only registers submodules assigned directly or held in its own
    containers. Modules in a plain container are invisible to `parameters()`, `state_dict()`,
    `.to(device)`, `.train()`/`.eval()` and the optimizer: they are never trained, saved or moved
    (torch 2.13: zero parameters, empty state_dict).

    **Example.**

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.blocks = [nn.Linear(4, 4) for _ in range(3)]

    **Instead.**

        self.blocks = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])

    Use `nn.ModuleDict` for a dict. A module kept out of registration on purpose can say so with
    `# noqa: NNC005`.

    **Fix.** Unsafe (it changes the `state_dict` keys): `--fix --unsafe-fixes` wraps the value in
    `nn.ModuleList(...)` or `nn.ModuleDict(...)`, spelled through the file's own torch import.
    """

    code = "NNC005"
    name = "modules-in-plain-container"
    fix_availability = FixAvailability.UNSAFE
    message = (
        "{target} holds nn.Modules in a plain {kind}: their parameters are invisible to parameters(), "
        "state_dict() and .to(); use nn.{container}"
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
    )

    @classmethod
    def might_report(cls, screen: Screen) -> bool:
        return screen.any_module(lambda node: any(True for _ in _plain_containers(screen, node)))

    def check(self, model: FileModel) -> Iterator[Report]:
        for cls in model.module_classes():
            for target, statement, value, kind in _plain_containers(model, cls):
                if not (isinstance(statement, cst.Assign) and isinstance(value, cst.BaseExpression)):
                    continue  # never: a libcst class has libcst statements
                container = "ModuleDict" if kind == "dict" else "ModuleList"
                yield self.report(
                    statement,
                    fix=_wrap_fix(model, statement, value, container, kind),
                    target=target,
                    kind=kind,
                    container=container,
                )


Found = tuple[str, Unit, Expr, ContainerKind]  # self.x, its assignment, the value, the container's kind


def _plain_containers(view: FileView[C], cls: C) -> Iterator[Found]:
    """Each `self.x = <plain container of modules>` in the class's `__init__` (the screen asks this too)."""
    for init in cls.methods("__init__"):
        self_name = first_parameter(init)
        if self_name is None:
            continue
        assignments = _attribute_assignments(init, self_name)
        counts: dict[str, int] = {}
        for attr, _, _ in assignments:
            counts[attr] = counts.get(attr, 0) + 1
        for attr, statement, value in assignments:
            if counts[attr] != 1:
                continue  # assigned again: the plain container may be replaced
            kind = _container_kind(view, value) or _filled_kind(view, init, [self_name, attr], value)
            if kind is not None and not _wrapped_or_registered(view, cls, [self_name, attr]):
                yield f"{self_name}.{attr}", statement, value, kind


def _attribute_assignments(init: Function, self_name: str) -> list[tuple[str, Unit, Expr]]:
    """(x, statement, value) of each `self.x = value` in the body, its blocks included."""
    found = []
    for unit in simple_units(units(init)):
        assigned = assignment(unit, annotated=False)
        if assigned is not None and len(assigned[0]) == 1:
            owner = attribute(assigned[0][0])
            if owner is not None and name_of(owner[0]) == self_name:
                found.append((owner[1], unit, assigned[1]))
    return found


def _container_kind(view: FileView[C], value: Expr) -> ContainerKind | None:
    """A display or comprehension all of whose elements are certainly modules."""
    shown = display(value)
    if shown is None or shown.unpacks or not shown.values:
        return None
    return shown.kind if all(view.is_module_call(v) for v in shown.values) else None


def _filled_kind(view: FileView[C], init: Function, path: list[str], value: Expr) -> ContainerKind | None:
    """An empty list or dict that `__init__` fills with modules: `.append(module)`, `.extend([module])`,
    `+= [module]`, `[key] = module`."""
    kind = empty_container(value)
    if kind is None:
        return None
    for call in calls_in(units(init)):
        arguments = [v for v, _ in call.positional] + [v for _, v in call.keywords]
        for method in _FILLING_METHODS:
            owner = method_owner(call, method)
            if owner is not None and dotted(owner) == path and arguments:
                added = arguments[-1]
                if any(view.is_module_call(item) for item in elements(added) or [added]):
                    return kind
    for unit in simple_units(units(init)):
        grown = augmented(unit)
        if grown is not None and dotted(grown[0]) == path:
            if any(view.is_module_call(item) for item in elements(grown[1]) or []):
                return kind
        assigned = assignment(unit, annotated=False)
        if assigned is not None and view.is_module_call(assigned[1]):
            for target in assigned[0]:
                if dotted(subscript_owner(target)) == path:
                    return kind
    return None


def _wrapped_or_registered(view: FileView[C], cls: C, path: list[str]) -> bool:
    """Anywhere in the class: the attribute handed to a module class (`nn.ModuleList(self.x)`,
    `nn.Sequential(*self.x)`), or its items registered in a loop over it."""
    calls = calls_in(units(cls.node)) + [c for m in cls.methods() for c in calls_in(units(m))]
    for call in calls:
        arguments = [v for v, _ in call.positional] + [v for _, v in call.keywords]
        if view.is_module_expr(call.func) and any(mentions([arg], path) for arg in arguments):
            return True
    for method in cls.methods():
        for _, iterated, body in loops_in(units(method)):
            if mentions([iterated], path) and any(
                method_owner(call, m) is not None for call in calls_in(body) for m in _REGISTERING_METHODS
            ):
                return True
    return False


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
