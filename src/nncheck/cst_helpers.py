"""Small questions about libcst nodes that several rules ask."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import libcst as cst

_Scope = (cst.FunctionDef, cst.Lambda, cst.ClassDef)


def dotted_name(expr: cst.BaseExpression | None) -> list[str] | None:
    """["torch", "nn", "Module"] for `torch.nn.Module`; None for anything that is not a dotted name."""
    parts: list[str] = []
    while isinstance(expr, cst.Attribute):
        parts.append(expr.attr.value)
        expr = expr.value
    if not isinstance(expr, cst.Name):
        return None
    parts.append(expr.value)
    return parts[::-1]


def direct_statements(body: cst.BaseSuite) -> Sequence[cst.BaseStatement | cst.BaseSmallStatement]:
    """The statements written directly in a block (`class A: pass` has a one-line suite)."""
    return body.body


def first_parameter(func: cst.FunctionDef) -> str | None:
    params = [*func.params.posonly_params, *func.params.params]
    return params[0].name.value if params else None


def has_decorator(func: cst.FunctionDef | cst.ClassDef, name: str) -> bool:
    """`@name` or `@anything.name`, called or not."""
    for decorator in func.decorators:
        expr = decorator.decorator
        if isinstance(expr, cst.Call):
            expr = expr.func
        parts = dotted_name(expr)
        if parts and parts[-1] == name:
            return True
    return False


class _CallCollector(cst.CSTVisitor):
    def __init__(self, enter_scopes: bool) -> None:
        self.calls: list[cst.Call] = []
        self._enter_scopes = enter_scopes

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Call):
            self.calls.append(node)
        return self._enter_scopes or not isinstance(node, _Scope)


def calls_in(nodes: Sequence[cst.CSTNode], enter_scopes: bool = False) -> list[cst.Call]:
    """Every call inside `nodes`, in source order; by default not those inside nested functions,
    lambdas and classes, which do not run when the enclosing code runs."""
    collector = _CallCollector(enter_scopes)
    for node in nodes:
        node.visit(collector)
    return collector.calls


def is_super_call(expr: cst.BaseExpression) -> bool:
    """`super()` or `super(Cls, obj)`."""
    return isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value == "super"


def method_call_parts(call: cst.Call, method: str) -> cst.BaseExpression | None:
    """For `<owner>.<method>(...)` return `<owner>`."""
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value == method:
        return func.value
    return None


def first_arg_is(call: cst.Call, name: str | None) -> bool:
    if name is None or not call.args:
        return False
    arg = call.args[0]
    return arg.keyword is None and not arg.star and isinstance(arg.value, cst.Name) and arg.value.value == name


def names_in(nodes: Sequence[cst.CSTNode]) -> Iterator[str]:
    """Every identifier used anywhere inside `nodes`, nested scopes included."""
    collector = _NameCollector()
    for node in nodes:
        node.visit(collector)
    return iter(collector.names)


class _NameCollector(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: list[str] = []

    def visit_Name(self, node: cst.Name) -> None:
        self.names.append(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        # `obj.X` does not use a name X; only the object is visited.
        node.value.visit(self)
        return False


def is_base_init_call(call: cst.Call, self_name: str | None) -> bool:
    """`super().__init__(...)`, `super(Cls, self).__init__(...)` or `Some.Base.__init__(self, ...)`."""
    owner = method_call_parts(call, "__init__")
    if owner is None:
        return False
    return is_super_call(owner) or (dotted_name(owner) is not None and first_arg_is(call, self_name))


def index_of_base_init(func: cst.FunctionDef) -> int | None:
    """Which top-level statement of `func` first calls a base `__init__` (in any branch), if any."""
    self_name = first_parameter(func)
    for index, statement in enumerate(func.body.body):
        if any(is_base_init_call(call, self_name) for call in calls_in([statement])):
            return index
    return None
