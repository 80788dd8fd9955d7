"""The class and import table of another file of the project, read with Python's own `ast`.

Base classes imported from other files only need this table, never the rules, so the cheaper
parser is used for them (ast.parse is about four times faster than libcst's). The binding policy
is the same object the libcst collector uses (model.Table), so the two read names alike.
"""

from __future__ import annotations

import ast
import warnings

from nncheck.model import Table, imported_name
from nncheck.recursion import python_parser_limit


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


class AstTable(Table):
    """The table from Python's ast: statements only, walked as the libcst collector walks them.
    `class_nodes` maps each class to its ast node, for the pre-screen."""

    def __init__(self) -> None:
        super().__init__()
        self.class_nodes: dict[int, ast.ClassDef] = {}

    def statements(self, body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.bind_import(alias.asname, alias.name)
                    else:
                        self.bind_import(alias.name.split(".")[0], alias.name.split(".")[0])
            elif isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name != "*":
                        qualname = imported_name("." * node.level, node.module or "", alias.name)
                        self.bind_import(alias.asname or alias.name, qualname)
            elif isinstance(node, ast.ClassDef):
                bases = [None if isinstance(base, ast.Starred) else _dotted(base) for base in node.bases]
                self.enter_class(node.name, bases, None)
                self.class_nodes[id(self.classes[-1])] = node
                self.statements(node.body)
                self.leave_scope()
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = node.args
                every = [*args.posonlyargs, *args.args, *args.kwonlyargs, *(a for a in (args.vararg, args.kwarg) if a)]
                self.enter_function(node.name, [a.arg for a in every])
                self.statements(node.body)
                self.leave_scope()
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    self._assignment(target, node.value)
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                self._assignment(node.target, node.value)
            elif isinstance(node, ast.AugAssign):
                self.bind_other(_names(node.target))
            else:
                self._compound(node)

    def _compound(self, node: ast.stmt) -> None:
        if isinstance(node, (ast.For, ast.AsyncFor)):
            self.bind_other(_names(node.target))
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    self.bind_other(_names(item.optional_vars))
        handlers = getattr(node, "handlers", [])
        for handler in handlers:
            if handler.name:
                self.bind_other([handler.name])
        # The blocks in source order, as cst_helpers.blocks_of gives them.
        for block in (getattr(node, "body", None), *(h.body for h in handlers),
                      *(c.body for c in getattr(node, "cases", [])),
                      getattr(node, "orelse", None), getattr(node, "finalbody", None)):
            if isinstance(block, list):
                self.statements(block)

    def _assignment(self, target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, ast.Name):
            is_none = isinstance(value, ast.Constant) and value.value is None
            self.bind_assignment(target.id, _dotted(value), is_none)
        else:
            self.bind_other(_names(target))


def table_of(tree: ast.Module) -> AstTable:
    table = AstTable()
    table.statements(tree.body)
    return table


def read_table(text: str) -> Table:
    """The table of `text`; raises SyntaxError, ValueError or RecursionError if Python cannot parse it."""
    with warnings.catch_warnings(), python_parser_limit():
        warnings.simplefilter("ignore")  # invalid escape sequences and the like are not ours to report
        tree = ast.parse(text)
    return table_of(tree)
