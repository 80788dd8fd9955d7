"""The class and import table of another file of the project, read with Python's own `ast`.

Base classes imported from other files only need this table, never the rules, so the cheaper
parser is used for them (ast.parse is about four times faster than libcst's). The binding policy
is the same object the libcst collector uses (model.Table), so the two read names alike.
"""

from __future__ import annotations

import ast
import warnings

from nncheck.model import Table, imported_name


def _dotted(expr: ast.expr) -> list[str] | None:
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None
    parts.append(expr.id)
    return parts[::-1]


def _names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for element in target.elts for name in _names(element)]
    if isinstance(target, ast.Starred):
        return _names(target.value)
    return []


class _AstCollector(Table, ast.NodeVisitor):
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.bind_import(alias.asname, alias.name)
            else:
                self.bind_import(alias.name.split(".")[0], alias.name.split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name != "*":
                qualname = imported_name("." * node.level, node.module or "", alias.name)
                self.bind_import(alias.asname or alias.name, qualname)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expr in [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]:
            self.visit(expr)
        bases = [_dotted(base) if not isinstance(base, ast.Starred) else None for base in node.bases]
        self.enter_class(node.name, bases, None)
        for statement in node.body:
            self.visit(statement)
        self.leave_scope()

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for expr in [*node.decorator_list, *node.args.defaults, *(d for d in node.args.kw_defaults if d)]:
            self.visit(expr)
        args = node.args
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs, *(a for a in (args.vararg, args.kwarg) if a)]
        self.enter_function(node.name, [a.arg for a in every])
        for statement in node.body:
            self.visit(statement)
        self.leave_scope()

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._assignment(target, node.value)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._assignment(node.target, node.value)
        self.generic_visit(node)

    def _assignment(self, target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, ast.Name):
            is_none = isinstance(value, ast.Constant) and value.value is None
            self.bind_assignment(target.id, _dotted(value), is_none)
        else:
            self.bind_other(_names(target))

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.bind_other(_names(node.target))
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        self.bind_other(_names(node.target))
        self.generic_visit(node)

    def visit_AsyncFor(self, node: ast.AsyncFor) -> None:
        self.bind_other(_names(node.target))
        self.generic_visit(node)

    def visit_withitem(self, node: ast.withitem) -> None:
        if node.optional_vars is not None:
            self.bind_other(_names(node.optional_vars))
        self.generic_visit(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.bind_other([node.name])
        self.generic_visit(node)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.bind_other(_names(node.target))
        self.generic_visit(node)


def read_table(text: str) -> Table:
    """The table of `text`; raises SyntaxError, ValueError or RecursionError if Python cannot parse it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escape sequences and the like are not ours to report
        tree = ast.parse(text)
    collector = _AstCollector()
    collector.visit(tree)
    return collector
