from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from nncheck.fixes.edits import without_statement
from nncheck.fixes.fix import Fix
from nncheck.model.views import C, CstClass, FileModel, FileView, Screen
from nncheck.rule import FixAvailability, Report, Rule, Sample
from nncheck.syntax.nodes import (
    Expr,
    Node,
    Unit,
    as_call,
    assignment,
    attribute,
    boolean,
    conditional,
    first_parameter,
    has_decorator,
    is_function,
    is_none,
    is_string,
    name_of,
    pairs,
    simple_units,
    units,
)

_REGISTERING = ("add_module", "register_module")
_REGISTERS_BY_NAME = "_module("  # in the text of a file that calls either
_WRITTEN = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)\s*(?:=(?!=)|:|,)")


class ClassAttributeShadowsModule(Rule):
    """A class-level value hides the submodule of the same name.

    **What it finds.** In an nn.Module subclass, a class-level binding with a value (`head = None`,
    `proj: Optional[nn.Module] = None`, `norm = nn.Identity()`, a literal) whose name is also that of
    a submodule the class assigns to `self` in one of its methods (`self.head = nn.Linear(...)`, also
    in a branch, or `self.add_module("head", ...)`). A submodule is a value that certainly builds an
    nn.Module. Annotations without a value (`head: nn.Linear`), class attributes whose instance value
    is a plain value (`dim = 4` then `self.dim = 8`), dunder names such as `__constants__` and classes
    that are not modules are never reported.

    **Why is this a bug.** `nn.Module.__setattr__` stores a submodule in `self._modules`, not in the
    instance's `__dict__`, and `nn.Module.__getattr__`, which looks there, is only asked when normal
    attribute lookup fails. A class attribute of the same name does not fail: `self.head` returns the
    class's `None` (so `if self.head is not None:` is silently skipped), while the submodule is
    registered, counted in `parameters()` and trained for nothing (torch 2.13).

    **Example.**

        class Net(nn.Module):
            head = None

            def __init__(self, classes):
                super().__init__()
                if classes:
                    self.head = nn.Linear(4, classes)

    **Instead.** Set the attribute on every path, without a class-level value:

        class Net(nn.Module):
            def __init__(self, classes):
                super().__init__()
                self.head = nn.Linear(4, classes) if classes else None

    **Fix.** Deletes the class-level value: a plain binding goes, an annotated one keeps its
    annotation (`proj: Optional[nn.Module]`). Safe when the value is `None` and `__init__` assigns
    the attribute on every path (a statement of its body, not of a branch); unsafe otherwise (where
    `__init__` may leave it unset, reading it then raises AttributeError instead of giving `None`).
    Comments on the deleted line are kept, on lines of their own. No fix for a statement that binds
    several names or shares its line with another.
    """

    code = "NNC019"
    name = "class-attribute-shadows-module"
    fix_availability = FixAvailability.SAFE_OR_UNSAFE
    message = (
        "class attribute {name} of {cls} hides the submodule self.{name} assigned on line {line}: "
        "self.{name} gives the class's value, not the registered module; delete the class-level value"
    )

    valid = (
        """
from torch import nn

class Net(nn.Module):
    head: nn.Linear
    dim = 4
    activation = None
    __constants__ = ["head"]

    def __init__(self):
        super().__init__()
        self.head = nn.Linear(2, 2)
        self.dim = 8
        self.activation = "relu"

class Plain:
    head = None

    def __init__(self):
        self.head = nn.Linear(2, 2)
""",
        """
from torch import nn

class Net(nn.Module):
    norm = property(lambda self: self._modules["norm"])

    def __init__(self, make):
        super().__init__()
        self.norm = nn.LayerNorm(4)
        self.head = make()

    head = None

    @classmethod
    def configure(cls):
        cls.norm = nn.Identity()
""",
    )
    invalid = (
        Sample(
            """
from typing import Optional
from torch import nn

class Net(nn.Module):
    head = None  # NNC019
    proj: Optional[nn.Module] = None  # NNC019

    def __init__(self, classes):
        super().__init__()
        self.head = nn.Linear(4, classes)
        self.proj = nn.Linear(4, 4) if classes else None
""",
            fixed="""
from typing import Optional
from torch import nn

class Net(nn.Module):
    # NNC019
    proj: Optional[nn.Module]  # NNC019

    def __init__(self, classes):
        super().__init__()
        self.head = nn.Linear(4, classes)
        self.proj = nn.Linear(4, 4) if classes else None
""",
        ),
        Sample(
            """
from torch import nn

class Norms(nn.Module):
    norm = nn.Identity()  # NNC019
    pool = None  # NNC019

    def __init__(self, dim, pooled):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        if pooled:
            self.pool = nn.AdaptiveAvgPool1d(1)

    def forward(self, x):
        x = self.norm(x)
        return self.pool(x) if self.pool is not None else x
""",
            unsafe_fixed="""
from torch import nn

class Norms(nn.Module):
    # NNC019
    # NNC019

    def __init__(self, dim, pooled):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        if pooled:
            self.pool = nn.AdaptiveAvgPool1d(1)

    def forward(self, x):
        x = self.norm(x)
        return self.pool(x) if self.pool is not None else x
""",
        ),
    )

    @classmethod
    def might_report(cls, screen: Screen) -> bool:
        return screen.any_module(lambda node: bool(_shadows(screen, node)))

    def check(self, model: FileModel) -> Iterator[Report]:
        for cls in model.module_classes():
            for shadow in _shadows(model, cls):
                if isinstance(shadow.binding, cst.CSTNode) and isinstance(shadow.assigned, cst.CSTNode):
                    yield self.report(shadow.binding, fix=_fix(model, cls, shadow), cls=cls.qualname,
                                      name=shadow.name, line=shadow.assigned)


@dataclass(frozen=True)
class Shadow:
    name: str
    binding: Unit  # the class-level statement
    value: Expr  # its value
    assigned: Node  # the statement that assigns the submodule to self


def _shadows(view: FileView[C], cls: C) -> list[Shadow]:
    values = _class_values(cls)
    if not values or not cls.methods():  # a model output's dataclass fields: nothing assigned on self
        return []
    # The cheap look first: few of the names bound in class bodies are ever assigned on `self`.
    if _REGISTERS_BY_NAME not in view.text:
        values = {name: bound for name, bound in values.items() if name in _attributes_written(view.text)}
    bindings = {
        name: (unit, value) for name, (unit, value) in values.items()
        if is_none(value) or _is_literal(value) or _is_submodule(view, value, cls.node, unit)
    }
    if not bindings:
        return []
    assigned = _submodules(view, cls, set(bindings))
    return [Shadow(name, unit, value, assigned[name]) for name, (unit, value) in bindings.items() if name in assigned]


@functools.lru_cache(maxsize=1)
def _attributes_written(text: str) -> frozenset[str]:
    """Every `name` in the source written as `.name =`, `.name:` or `.name,` (a cheap look first: the
    screen asks of every class with class-level values, and few of their names are assigned on `self`;
    `self.name = ...`, `self.name: T = ...` and `self.name, self.other = ...` are among these)."""
    return frozenset(_WRITTEN.findall(text))


def _class_values(cls: C) -> dict[str, tuple[Unit, Expr]]:
    """The names bound with a value at the class's top level (not dunder names), first binding kept."""
    values: dict[str, tuple[Unit, Expr]] = {}
    for unit in units(cls.node):
        bound = assignment(unit)
        if bound is None:
            continue
        for target in bound[0]:
            name = name_of(target)
            if name is not None and not (name.startswith("__") and name.endswith("__")):
                values.setdefault(name, (unit, bound[1]))
    return values


def _submodules(view: FileView[C], cls: C, names: set[str]) -> dict[str, Node]:
    """Of `names`, those a method of the class assigns a submodule to on `self` (or registers one with
    `self.add_module(...)` as a statement), with the statement."""
    found: dict[str, Node] = {}
    for method in cls.methods():
        if has_decorator(method, "staticmethod") or has_decorator(method, "classmethod"):
            continue
        self_name = first_parameter(method)
        if self_name is None:
            continue
        for unit in simple_units(units(method)):
            bound = assignment(unit)
            if bound is not None:
                for target, value in [p for t in bound[0] for p in pairs(t, bound[1])]:
                    owner = attribute(target)
                    if owner is not None and owner[1] in names and owner[1] not in found \
                            and name_of(owner[0]) == self_name and _is_submodule_value(view, value, method, unit):
                        found[owner[1]] = unit
                continue
            call = as_call(unit.value) if isinstance(unit, (ast.Expr, cst.Expr)) else None
            registered = attribute(call.func) if call is not None else None
            if call is None or registered is None or registered[1] not in _REGISTERING \
                    or name_of(registered[0]) != self_name or len(call.positional) < 2:
                continue
            name = _string(call.positional[0][0])
            if name in names and name not in found and not is_none(call.positional[1][0]):
                found[name] = unit
    return found


def _is_submodule_value(view: FileView[C], value: Expr, owner: Node, at: Node) -> bool:
    """A value assigned to `self` that is a submodule on some path: `nn.Linear(...)`, or
    `nn.Linear(...) if c else None`."""
    branches = conditional(value)
    if branches is None:
        return _is_submodule(view, value, owner, at)
    options = [branch for branch in branches if not is_none(branch)]
    return bool(options) and all(_is_submodule_value(view, branch, owner, at) for branch in options)


def _is_submodule(view: FileView[C], value: Expr, owner: Node, at: Node) -> bool:
    """`value`, written at the statement `at` of the scope `owner`, is certainly an nn.Module."""
    assert is_function(owner) or isinstance(owner, (ast.ClassDef, cst.ClassDef))
    return view.values.of(value, owner, at=at).is_module


def _is_literal(value: Expr) -> bool:
    if is_string(value) or boolean(value) is not None:
        return True
    if isinstance(value, ast.AST):
        return isinstance(value, ast.Constant)
    return isinstance(value, (cst.Integer, cst.Float, cst.Imaginary))


def _string(expr: Expr) -> str | None:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, cst.SimpleString):
        evaluated = expr.evaluated_value
        return evaluated if isinstance(evaluated, str) else None
    return None


def _fix(model: FileModel, cls: CstClass, shadow: Shadow) -> Fix | None:
    body = cls.node.body
    if not isinstance(body, cst.IndentedBlock):
        return None
    line = next((i for i, s in enumerate(body.body)
                 if isinstance(s, cst.SimpleStatementLine) and any(u is shadow.binding for u in s.body)), None)
    if line is None:
        return None
    statement = body.body[line]
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    safe = is_none(shadow.value) and _always_set(cls, shadow.name)
    unit = shadow.binding
    if isinstance(unit, cst.AnnAssign):
        edit = (unit, lambda node: node.with_changes(value=None, equal=cst.MaybeSentinel.DEFAULT))
        return Fix(safe=safe, title=f"Keep only the annotation of {shadow.name}", edits=(edit,))
    if isinstance(unit, cst.Assign) and len(unit.targets) == 1:
        return Fix(safe=safe, title=f"Delete the class attribute {shadow.name}",
                   edits=((body, lambda block: without_statement(block, line)),))
    return None


def _always_set(cls: CstClass, name: str) -> bool:
    """Some statement of `__init__`'s own body (not of a branch) assigns `self.<name>`."""
    for init in cls.methods("__init__"):
        self_name = first_parameter(init)
        for unit in units(init):
            bound = assignment(unit)
            for target in bound[0] if bound else []:
                owner = attribute(target)
                if owner is not None and owner[1] == name and name_of(owner[0]) == self_name:
                    return True
    return False
