from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence

import libcst as cst

from nncheck.base_init import index_of_base_init, is_base_init_call
from nncheck.cst_helpers import blocks_of, calls_in, changed_in, first_parameter, method_call_parts, references
from nncheck.edits import move_statement
from nncheck.fix import Fix
from nncheck.known_modules import PARAMETER_CLASSES
from nncheck.model import ClassInfo, FileModel
from nncheck.ast_helpers import first_super_init, methods, walk_here
from nncheck.rule import Report, Rule, Screen

_NEW_SCOPE = (cst.FunctionDef, cst.ClassDef)
_REGISTERING_METHODS = ("register_buffer", "register_parameter", "add_module", "register_module")


class StateBeforeBaseInit(Rule):
    """Module state is assigned before the base `__init__` runs.

    **What it finds.** In an nn.Module subclass's `__init__` that does call a base `__init__`, a
    statement before that call which assigns `self.<attr>` a value that is certainly a Module or
    Parameter (a call of a torch.nn class, `nn.Parameter(...)`, `nn.Buffer(...)`, or a class this
    file knows is an nn.Module), or calls `self.register_buffer`, `self.register_parameter`,
    `self.add_module` or `self.register_module`. Statements nested in an `if`, `for`, `with` or
    `try` before the call count too. Plain values (`self.dim = dim`, a tensor, a config) are fine
    before the call and are never reported. Only the first offending statement is reported.

    **Why is this a bug.** Until `nn.Module.__init__` has run there is nowhere to register the
    value: torch raises `AttributeError: cannot assign module before Module.__init__() call` (or
    `cannot assign parameter ...`, or `AttributeError: ... has no attribute '_buffers'` for the
    register methods) the first time the class is built (torch 2.13).

    **Example.**

        class Net(nn.Module):
            def __init__(self):
                self.fc = nn.Linear(4, 4)
                super().__init__()

    **Instead.** Call the base `__init__` first:

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)

    **Fix.** `--fix` moves the base `__init__` call up to just before the offending statement, when
    that call is a statement of its own and its arguments use nothing that the statements it moves
    past assign or change. Safe when the only base is `nn.Module` itself (whose `__init__` reads
    nothing of the instance); unsafe otherwise. No fix when the call sits in a branch or a helper.
    """

    code = "NNC004"
    name = "state-before-base-init"
    fix_safety = "safe or unsafe"
    message = (
        "{what} before the base __init__ call in {cls}.__init__ (torch raises AttributeError); "
        "call super().__init__() first"
    )

    valid = (
        """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self, dim, config):
        self.dim = dim
        self.config = config
        self.table = torch.zeros(dim)
        self.maybe = nn.Linear(dim, dim) if config else None
        self.a, self.b = 1, nn.Linear
        super().__init__()
        self.fc = nn.Linear(dim, dim)
        self.register_buffer("mask", torch.ones(dim))
""",
        """
from torch import nn

class NoInit(nn.Module):
    def __init__(self):  # NNC002 is the right report here, not NNC004
        self.fc = nn.Linear(2, 2)
""",
    )
    invalid = (
        """
from torch import nn

class Net(nn.Module):
    def __init__(self, dim):
        self.dim = dim
        self.fc = nn.Linear(dim, dim)  # NNC004
        self.w = nn.Parameter(None)
        super().__init__()
""",
        """
import torch
import torch.nn as nn

class Block(nn.Module):
    pass

class Net(nn.Module):
    def __init__(self, cached):
        if cached:
            self.register_buffer("cache", torch.zeros(1))  # NNC004
        nn.Module.__init__(self)

class Outer(nn.Module):
    def __init__(self):
        self.block: Block = Block()  # NNC004
        super().__init__()

class Pair(nn.Module):
    def __init__(self, deep):
        self.a, self.b = nn.Linear(2, 2), 3  # NNC004
        super().__init__()

class Choice(nn.Module):
    def __init__(self, deep):
        self.act = nn.GELU() if deep else nn.Identity()  # NNC004
        super().__init__()
""",
    )

    @classmethod
    def might_report(cls, screen: Screen) -> bool:
        return screen.any_module(lambda node: _init_may_offend(screen, node))

    def check(self, model: FileModel) -> Iterator[Report]:
        for cls in model.module_classes():
            for init in cls.methods("__init__"):
                index = index_of_base_init(model, cls, init)
                if not index or index != index_of_base_init(model, cls, init, unseen_counts=False):
                    continue  # no call (NNC002's case), nothing before it, or only a helper nncheck cannot see
                self_name = first_parameter(init)
                for position, statement in enumerate(init.body.body[:index]):
                    found = _first_offence(model, [statement], self_name)
                    if found is not None:
                        node, what = found
                        fix = _move_fix(model, cls, init, index, position)
                        yield self.report(node, fix=fix, what=what, cls=cls.qualname)
                        break


def _move_fix(model: FileModel, cls: ClassInfo, init: cst.FunctionDef, source: int, before: int) -> Fix | None:
    """Move the base __init__ call up, if it is a statement of its own whose arguments use nothing
    that the statements it jumps over assign or change."""
    statement = init.body.body[source]
    if not (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1):
        return None
    expr = statement.body[0]
    if not (isinstance(expr, cst.Expr) and isinstance(expr.value, cst.Call)):
        return None
    if not is_base_init_call(expr.value, first_parameter(init)):
        return None  # the base __init__ runs inside a helper or a branch
    # The instance itself is what the call is for; what matters is which of its attributes and which
    # other names the arguments read.
    reads = set(references(expr.value)) - {first_parameter(init)}
    if reads & set(changed_in(init.body.body[before:source])):
        return None
    # nn.Module.__init__ reads nothing of the instance; another base's __init__ might read what the
    # statements it jumps over set, so moving it is then not certainly harmless.
    safe = len(cls.bases) == 1 and model.is_module_itself(cls.bases[0])
    return Fix(safe=safe, edits=((init, lambda func: move_statement(func, source, before)),))


def _first_offence(
    model: FileModel, statements: Sequence[cst.CSTNode], self_name: str | None
) -> tuple[cst.CSTNode, str] | None:
    for statement in statements:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                what = _offence(model, small, self_name)
                if what:
                    return small, what
        elif isinstance(statement, cst.BaseSmallStatement):
            what = _offence(model, statement, self_name)
            if what:
                return statement, what
        elif isinstance(statement, cst.BaseCompoundStatement) and not isinstance(statement, _NEW_SCOPE):
            for block in blocks_of(statement):
                found = _first_offence(model, block.body, self_name)
                if found:
                    return found
    return None


def _offence(model: FileModel, small: cst.BaseSmallStatement, self_name: str | None) -> str | None:
    if self_name is None:
        return None
    if isinstance(small, cst.Assign):
        pairs = [pair for t in small.targets for pair in _pairs(t.target, small.value)]
    elif isinstance(small, cst.AnnAssign) and small.value is not None:
        pairs = _pairs(small.target, small.value)
    else:
        pairs = []
    for target, value in pairs:
        kind = _value_kind(model, value)
        if kind and isinstance(target, cst.Attribute) and _is_name(target.value, self_name):
            return f"{self_name}.{target.attr.value} is assigned a {kind}"
    for call in calls_in([small]):
        for method in _REGISTERING_METHODS:
            owner = method_call_parts(call, method)
            if owner is not None and _is_name(owner, self_name):
                return f"{self_name}.{method}() is called"
    return None


def _pairs(target: cst.BaseExpression, value: cst.BaseExpression) -> list[tuple[cst.BaseExpression, ...]]:
    """`self.a, self.b = x, y` assigns x to self.a and y to self.b."""
    if isinstance(target, (cst.Tuple, cst.List)) and isinstance(value, (cst.Tuple, cst.List)):
        if len(target.elements) == len(value.elements):
            return [pair for t, v in zip(target.elements, value.elements) for pair in _pairs(t.value, v.value)]
        return []
    return [(target, value)]


def _value_kind(model: FileModel, value: cst.BaseExpression) -> str | None:
    if isinstance(value, cst.IfExp):
        # Certain only when both branches are.
        body, orelse = _value_kind(model, value.body), _value_kind(model, value.orelse)
        return body if body and orelse else None
    if not isinstance(value, cst.Call):
        return None
    parameter_class = model.parameter_class(value.func)
    if parameter_class:
        return parameter_class
    if model.is_module_expr(value.func):
        return "Module"
    return None


def _is_name(expr: cst.BaseExpression, name: str) -> bool:
    return isinstance(expr, cst.Name) and expr.value == name


def _may_offend(screen: Screen, node: ast.AST) -> bool:
    """An attribute assigned a module or parameter built right there, or a registering method called."""
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        has_attribute = any(isinstance(t, (ast.Attribute, ast.Tuple, ast.List)) for t in targets)
        return has_attribute and any(
            isinstance(n, ast.Call) and (screen.builds_module(n) or screen.resolve(n.func) in PARAMETER_CLASSES)
            for n in ast.walk(node.value)
        )
    if not isinstance(node, ast.Call):
        return False
    return isinstance(node.func, ast.Attribute) and node.func.attr in _REGISTERING_METHODS


def _init_may_offend(screen: Screen, node: ast.ClassDef) -> bool:
    for init in methods(node, "__init__"):
        index = first_super_init(init)
        before = init.body if index is None else init.body[:index]  # none found: maybe through a helper
        if any(_may_offend(screen, n) for statement in before for n in walk_here(statement)):
            return True
    return False
