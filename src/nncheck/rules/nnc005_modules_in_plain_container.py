from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence

import libcst as cst

from nncheck.cst_helpers import calls_in, dotted_name, first_parameter, method_call_parts, references
from nncheck.fix import Fix
from nncheck.model import ClassInfo, FileModel
from nncheck.ast_helpers import methods
from nncheck.rule import Report, Rule, Screen

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
    fix_safety = "unsafe"
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
        """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = [nn.Linear(2, 2) for _ in range(3)]  # NNC005
        self.heads = {"a": nn.Linear(2, 1), "b": nn.Linear(2, 1)}  # NNC005
""",
        """
from torch import nn

class Filled(nn.Module):
    def __init__(self, depth):
        super().__init__()
        self.layers = []  # NNC005
        for _ in range(depth):
            self.layers.append(nn.Linear(2, 2))
""",
    )

    @classmethod
    def might_report(cls, screen: Screen) -> bool:
        return screen.any_module(lambda node: _may_hold_modules(screen, node))

    def check(self, model: FileModel) -> Iterator[Report]:
        for cls in model.module_classes():
            for init in cls.methods("__init__"):
                self_name = first_parameter(init)
                if self_name is None:
                    continue
                yield from self._check_init(model, cls, init, self_name)

    def _check_init(self, model: FileModel, cls: ClassInfo, init: cst.FunctionDef, self_name: str) -> Iterator[Report]:
        assignments = _attribute_assignments(init, self_name)
        counts: dict[str, int] = {}
        for attr, _, _ in assignments:
            counts[attr] = counts.get(attr, 0) + 1
        for attr, statement, value in assignments:
            if counts[attr] != 1:
                continue  # assigned again: the plain container may be replaced
            kind = _container_kind(model, value) or _filled_kind(model, init, self_name, attr, value)
            if kind is None or _wrapped_or_registered(model, cls, self_name, attr):
                continue
            container = "ModuleDict" if kind == "dict" else "ModuleList"
            yield self.report(
                statement,
                fix=_wrap_fix(model, statement, value, container, kind),
                target=f"{self_name}.{attr}",
                kind=kind,
                container=container,
            )


def _attribute_assignments(
    init: cst.FunctionDef, self_name: str
) -> list[tuple[str, cst.Assign, cst.BaseExpression]]:
    found = []
    for node in _small_statements(init.body):
        if isinstance(node, cst.Assign) and len(node.targets) == 1:
            target = node.targets[0].target
            if isinstance(target, cst.Attribute) and _is(target.value, self_name):
                found.append((target.attr.value, node, node.value))
    return found


class _SmallStatements(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: list[cst.BaseSmallStatement] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.BaseSmallStatement):
            self.found.append(node)
            return False  # statements do not nest inside a small statement
        return not isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.BaseExpression))


def _small_statements(body: cst.BaseSuite) -> list[cst.BaseSmallStatement]:
    collector = _SmallStatements()
    body.visit(collector)
    return collector.found


def _is(expr: cst.BaseExpression, name: str) -> bool:
    return isinstance(expr, cst.Name) and expr.value == name


def _all_modules(model: FileModel, values: Sequence[cst.BaseExpression]) -> bool:
    return bool(values) and all(model.is_module_call(v) for v in values)


def _container_kind(model: FileModel, value: cst.BaseExpression) -> str | None:
    if isinstance(value, (cst.List, cst.Tuple, cst.Set)):
        elements = [e.value for e in value.elements]
        if any(isinstance(e, cst.StarredElement) for e in value.elements):
            return None
        kind = {cst.List: "list", cst.Tuple: "tuple", cst.Set: "set"}[type(value)]
        return kind if _all_modules(model, elements) else None
    if isinstance(value, cst.Dict):
        values = [e.value for e in value.elements if isinstance(e, cst.DictElement)]
        if len(values) != len(value.elements):
            return None
        return "dict" if _all_modules(model, values) else None
    if isinstance(value, (cst.ListComp, cst.SetComp)):
        kind = "list" if isinstance(value, cst.ListComp) else "set"
        return kind if model.is_module_call(value.elt) else None
    if isinstance(value, cst.DictComp):
        return "dict" if model.is_module_call(value.value) else None
    return None


def _is_empty(value: cst.BaseExpression) -> str | None:
    if isinstance(value, cst.List) and not value.elements:
        return "list"
    if isinstance(value, cst.Dict) and not value.elements:
        return "dict"
    if isinstance(value, cst.Call) and not value.args and isinstance(value.func, cst.Name):
        return {"list": "list", "dict": "dict"}.get(value.func.value)
    return None


def _filled_kind(
    model: FileModel, init: cst.FunctionDef, self_name: str, attr: str, value: cst.BaseExpression
) -> str | None:
    kind = _is_empty(value)
    if kind is None:
        return None
    path = [self_name, attr]
    for call in calls_in([init.body]):
        for method in _FILLING_METHODS:
            owner = method_call_parts(call, method)
            if owner is not None and dotted_name(owner) == path and call.args:
                added = call.args[-1].value
                items = [e.value for e in added.elements] if isinstance(added, (cst.List, cst.Tuple)) else [added]
                if any(model.is_module_call(item) for item in items):
                    return kind
    for node in _small_statements(init.body):
        if isinstance(node, cst.AugAssign) and dotted_name(node.target) == path:
            added = node.value
            if isinstance(added, (cst.List, cst.Tuple)) and any(model.is_module_call(e.value) for e in added.elements):
                return kind
        if isinstance(node, cst.Assign):
            for target in node.targets:
                if (isinstance(target.target, cst.Subscript) and dotted_name(target.target.value) == path
                        and model.is_module_call(node.value)):
                    return kind
    return None


def _mentions(node: cst.CSTNode, path: list[str]) -> bool:
    return ".".join(path) in references(node)


def _wrapped_or_registered(model: FileModel, cls: ClassInfo, self_name: str, attr: str) -> bool:
    """Anywhere in the class: the attribute handed to a module class (`nn.ModuleList(self.x)`,
    `nn.Sequential(*self.x)`), or its items registered in a loop over it."""
    path = [self_name, attr]
    for call in calls_in([cls.definition.body]) + [c for m in cls.methods() for c in calls_in([m.body])]:
        if model.is_module_expr(call.func) and any(_mentions(arg.value, path) for arg in call.args):
            return True
    for method in cls.methods():
        for loop in _loops(method):
            if _mentions(loop.iter, path) and any(
                method_call_parts(call, m) is not None for call in calls_in([loop.body]) for m in _REGISTERING_METHODS
            ):
                return True
    return False


def _loops(func: cst.FunctionDef) -> list[cst.For]:
    loops: list[cst.For] = []

    class _Loops(cst.CSTVisitor):
        def visit_For(self, node: cst.For) -> None:
            loops.append(node)

    func.body.visit(_Loops())
    return loops


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
    empty = _is_empty(value) is not None
    replacement = cst.parse_expression(f"{spelled}()") if empty else cst.Call(
        func=cst.parse_expression(spelled), args=[cst.Arg(value)]
    )
    return Fix(safe=False, edits=((statement, lambda node: node.with_changes(value=replacement)),))


def _to_attribute(node: ast.Assign) -> bool:
    return any(isinstance(target, ast.Attribute) for target in node.targets)


def _holds_modules(screen: Screen, value: ast.expr) -> bool:
    """A display or comprehension some element of which is certainly a module."""
    if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
        return any(screen.builds_module(e) for e in value.elts)
    if isinstance(value, ast.Dict):
        return any(screen.builds_module(v) for v in value.values)
    if isinstance(value, (ast.ListComp, ast.SetComp)):
        return screen.builds_module(value.elt)
    if isinstance(value, ast.DictComp):
        return screen.builds_module(value.value)
    return False


def _is_empty_display(value: ast.expr) -> bool:
    if isinstance(value, (ast.List, ast.Dict)):
        return not (value.elts if isinstance(value, ast.List) else value.keys)
    return isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in ("list", "dict") \
        and not value.args


def _fills(screen: Screen, node: ast.AST, empty: set[str]) -> bool:
    """`self.x.append(module)`, `.extend([module])`, `self.x += [module]` or `self.x[k] = module`, for an
    attribute `self.x` (as written in `empty`) that was assigned an empty list or dict."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _FILLING_METHODS:
        return ast.unparse(node.func.value) in empty and any(
            screen.builds_module(n) for arg in node.args for n in ast.walk(arg) if isinstance(n, ast.expr)
        )
    if isinstance(node, ast.AugAssign):
        return ast.unparse(node.target) in empty and any(
            screen.builds_module(n) for n in ast.walk(node.value) if isinstance(n, ast.expr)
        )
    if isinstance(node, ast.Assign):
        return any(
            isinstance(t, ast.Subscript) and ast.unparse(t.value) in empty for t in node.targets
        ) and screen.builds_module(node.value)
    return False


def _may_hold_modules(screen: Screen, node: ast.ClassDef) -> bool:
    """An __init__ assigns an attribute a display of modules, or an empty list/dict it fills with them."""
    for init in methods(node, "__init__"):
        nodes = list(ast.walk(init))
        to_attributes = [n for n in nodes if isinstance(n, ast.Assign) and _to_attribute(n)]
        if any(_holds_modules(screen, n.value) for n in to_attributes):
            return True
        empty = {ast.unparse(t) for n in to_attributes if _is_empty_display(n.value) for t in n.targets}
        if empty and any(_fills(screen, n, empty) for n in nodes):
            return True
    return False
