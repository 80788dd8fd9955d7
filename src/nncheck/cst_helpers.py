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
    def __init__(self) -> None:
        self.calls: list[cst.Call] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Call):
            self.calls.append(node)
        return not isinstance(node, _Scope)


def calls_in(nodes: Sequence[cst.CSTNode]) -> list[cst.Call]:
    """Every call inside `nodes`, in source order, but not those inside nested functions, lambdas and
    classes, which do not run when the enclosing code runs."""
    collector = _CallCollector()
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
    """The call passes the name `name` first, or as a keyword of that name (`f(self=self)`)."""
    if name is None or not call.args:
        return False
    first = call.args[0]
    if first.keyword is None and not first.star:
        return _is_name(first.value, name)
    return any(arg.keyword is not None and arg.keyword.value == name and _is_name(arg.value, name) for arg in call.args)


def _is_name(expr: cst.BaseExpression, name: str) -> bool:
    return isinstance(expr, cst.Name) and expr.value == name


def names_in(nodes: Sequence[cst.CSTNode], enter_functions: bool = True) -> Iterator[str]:
    """Every identifier used inside `nodes`; with enter_functions=False, not those in function and
    lambda bodies, which run later rather than where they are written."""
    collector = _NameCollector(enter_functions)
    for node in nodes:
        node.visit(collector)
    return iter(collector.names)


class _NameCollector(cst.CSTVisitor):
    def __init__(self, enter_functions: bool) -> None:
        self.names: list[str] = []
        self._enter_functions = enter_functions

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return self._enter_functions

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return self._enter_functions

    def visit_Name(self, node: cst.Name) -> None:
        self.names.append(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        # `obj.X` does not use a name X; only the object is visited.
        node.value.visit(self)
        return False


class _AttributeCollector(cst.CSTVisitor):
    def __init__(self) -> None:
        self.attributes: list[cst.Attribute] = []

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.attributes.append(node)


def attributes_in(nodes: Sequence[cst.CSTNode]) -> list[cst.Attribute]:
    """Every `x.y` inside `nodes`, nested scopes included."""
    collector = _AttributeCollector()
    for node in nodes:
        node.visit(collector)
    return collector.attributes


def _path(expr: cst.BaseExpression) -> str | None:
    parts = dotted_name(expr)
    return ".".join(parts) if parts else None


class _ReferenceCollector(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: list[str] = []

    def visit_Name(self, node: cst.Name) -> None:
        self.found.append(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        path = _path(node)
        if path:
            self.found.append(path)


def references(node: cst.CSTNode) -> list[str]:
    """Names and dotted names (`self.dim`) that `node` reads."""
    collector = _ReferenceCollector()
    node.visit(collector)
    return collector.found


class _ChangeCollector(cst.CSTVisitor):
    """Names and dotted names that are assigned, deleted or possibly mutated (`x.update()`, `x[0] = 1`)."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def _target(self, target: cst.BaseExpression) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._target(element.value)
            return
        if isinstance(target, cst.StarredElement):
            self._target(target.value)
            return
        while isinstance(target, cst.Subscript):
            target = target.value
        path = _path(target)
        if path:
            # Assigning `self.cfg.x` changes `self.cfg` and `self` as seen by anything that reads them.
            parts = path.split(".")
            self.found.extend(".".join(parts[:n]) for n in range(1, len(parts) + 1))

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._target(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._target(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._target(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._target(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        self._target(node.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._target(node.target)

    def visit_Del(self, node: cst.Del) -> None:
        self._target(node.target)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute):
            self._target(node.func.value)
        for arg in node.args:
            self._target(arg.value)  # a callee may change what it is given

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.found.append(node.name.value)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.found.append(node.name.value)

    def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
        path = _path(node.asname.name if node.asname and isinstance(node.asname.name, cst.Name) else node.name)
        if path:
            self.found.append(path.split(".")[0])


def changed_in(nodes: Sequence[cst.CSTNode]) -> list[str]:
    collector = _ChangeCollector()
    for node in nodes:
        node.visit(collector)
    return collector.found


def blocks_of(statement: cst.BaseCompoundStatement) -> Iterator[cst.BaseSuite]:
    """Every block of an if/for/while/with/try/match statement, in source order."""
    if not isinstance(statement, cst.Match):  # a match statement has only its cases
        yield statement.body
    for attribute in ("handlers", "cases"):
        for part in getattr(statement, attribute, ()):
            yield part.body
    for attribute in ("orelse", "finalbody"):
        part = getattr(statement, attribute, None)
        while part is not None:
            yield part.body
            part = getattr(part, "orelse", None) if isinstance(part, cst.If) else None


def only_raises(func: cst.FunctionDef) -> bool:
    """The body is a docstring at most and `raise` statements: such a method never returns."""
    small: list[cst.BaseSmallStatement] = []
    for statement in func.body.body:
        if isinstance(statement, cst.BaseSmallStatement):
            small.append(statement)
        elif isinstance(statement, cst.SimpleStatementLine):
            small.extend(statement.body)
        else:
            return False
    code = [s for s in small if not is_docstring(s)]
    return bool(code) and all(isinstance(s, cst.Raise) for s in code)


def is_docstring(statement: cst.BaseSmallStatement) -> bool:
    return isinstance(statement, cst.Expr) and isinstance(statement.value, (cst.SimpleString, cst.ConcatenatedString))
