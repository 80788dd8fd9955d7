"""Build a file's table from Python's ast: the one walker over a file's bindings.

It walks statements only: expressions bind nothing the table needs (a walrus is not followed). The
checked file's table keeps each class's ast node, in the order of the classes; the tables of other
files (read only to resolve imported base classes) keep none.
"""

from __future__ import annotations

import ast
import warnings

from nncheck.engine.recursion import python_parser_limit
from nncheck.model.table import (
    ClassFinder,
    InitKind,
    Resolver,
    StarClassFinder,
    StarResolver,
    Table,
    TableBuilder,
    imported_name,
)
from nncheck.syntax.nodes import blocks, dotted, has_decorator, is_none, is_super_call, parameters


def _names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for element in target.elts for name in _names(element)]
    if isinstance(target, ast.Starred):
        return _names(target.value)
    return []


def _literal_names(value: ast.expr) -> list[str] | None:
    """The strings of a list or tuple literal (`[...] + [...]` too); None for anything else."""
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add):
        left, right = _literal_names(value.left), _literal_names(value.right)
        return None if left is None or right is None else left + right
    if isinstance(value, (ast.List, ast.Tuple)) and all(
        isinstance(e, ast.Constant) and isinstance(e.value, str) for e in value.elts
    ):
        return [e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return None


def _init_kind(body: list[ast.stmt]) -> tuple[InitKind, frozenset[str] | None]:
    """What the class body's own `__init__` does (its last definition, `@overload` stubs left out), and
    for one that only assigns attributes of the instance, their names. Asked of every class of every
    file read: a walk over statements only, stopping at the first that is more than an assignment."""
    init: ast.FunctionDef | ast.AsyncFunctionDef | None = None
    for node in body:
        if isinstance(node, _FUNCTIONS) and node.name == "__init__" \
                and not (node.decorator_list and has_decorator(node, "overload")):
            init = node
    if init is None:
        return InitKind.ABSENT, None
    arguments = [*init.args.posonlyargs, *init.args.args]
    names: set[str] = set()
    if not _assigns_only(init.body, arguments[0].arg if arguments else None, names):
        return InitKind.OWN, None
    return (InitKind.OWN, frozenset(names)) if names else (InitKind.PASSING, None)


_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_NOTHING = (ast.Pass, ast.Raise, ast.Return)
_ASSIGNS = (ast.Assign, ast.AnnAssign, ast.AugAssign)
_BLOCKS = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try)


def _assigns_only(body: list[ast.stmt], self_name: str | None, names: set[str]) -> bool:
    """`body` does nothing but assign local names and attributes of the instance (whose names it adds to
    `names`), and statements that set nothing (docstrings, `pass`, `raise`, `super().__init__(...)`)."""
    for statement in body:
        kind = statement.__class__
        if isinstance(statement, _ASSIGNS):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for target in targets:
                for element in target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]:
                    if isinstance(element, ast.Attribute) and isinstance(element.value, ast.Name) \
                            and element.value.id == self_name:
                        names.add(element.attr)
                    elif not isinstance(element, ast.Name):
                        return False  # `self.a.b = ...`, `x[0] = ...`: more than its own attributes
        elif kind in _NOTHING:
            continue
        elif isinstance(statement, ast.Expr):
            value = statement.value
            if isinstance(value, ast.Constant):
                continue  # a docstring or `...`
            if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                    and value.func.attr == "__init__" and is_super_call(value.func.value)):
                return False
        elif kind in _BLOCKS:
            for block in blocks(statement):
                if not _assigns_only([s for s in block if isinstance(s, ast.stmt)], self_name, names):
                    return False
        else:
            return False
    return True


def _initialising_metaclass(node: ast.ClassDef) -> bool:
    """`metaclass=` given, other than ABCMeta and `type`, which run no `__init__` of their own."""
    for keyword in node.keywords:
        if keyword.arg == "metaclass":
            parts = dotted(keyword.value)
            return parts is None or parts[-1] not in ("ABCMeta", "type")
    return False


def _sets_call_super_init(body: list[ast.stmt]) -> bool:
    return any(
        isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Constant)
        and node.value.value is True
        and any(isinstance(t, ast.Name) and t.id == "call_super_init"
                for t in (node.targets if isinstance(node, ast.Assign) else [node.target]))
        for node in body
    )


# Statements that bind no name and hold no block: most of a function's body.
_INERT = frozenset({ast.Expr, ast.Return, ast.Pass, ast.Break, ast.Continue, ast.Raise, ast.Assert, ast.Delete,
                    ast.Global, ast.Nonlocal})
# Statements that bind only local names when in a function (TableBuilder keeps none of those).
_ASSIGNMENTS = frozenset({ast.Assign, ast.AnnAssign, ast.AugAssign})


class _Walker:
    def __init__(self, keep_nodes: bool) -> None:
        self.builder = TableBuilder()
        self.class_nodes: list[ast.ClassDef] | None = [] if keep_nodes else None

    def statements(self, body: list[ast.stmt], in_function: bool = False) -> None:
        builder = self.builder
        for node in body:
            kind = node.__class__
            if kind in _INERT or (in_function and kind in _ASSIGNMENTS):
                continue  # in a function an assignment binds nothing the table keeps (see TableBuilder)
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        builder.bind_import(alias.asname, alias.name)
                    else:
                        top = alias.name.split(".")[0]
                        builder.bind_import(top, top)
            elif isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name == "*":
                        builder.star_import("." * node.level + (node.module or ""))
                    else:
                        qualname = imported_name("." * node.level, node.module or "", alias.name)
                        builder.bind_import(alias.asname or alias.name, qualname)
            elif isinstance(node, ast.ClassDef):
                bases = [None if isinstance(base, ast.Starred) else dotted(base) for base in node.bases]
                subscripted = [dotted(base.value) if isinstance(base, ast.Subscript) else None for base in node.bases]
                info = builder.enter_class(
                    node.name, bases, subscripted, _init_kind(node.body), _sets_call_super_init(node.body),
                    _initialising_metaclass(node),
                )
                info.method_lines = {
                    method.name: (method.lineno, method.end_lineno or method.lineno)
                    for method in node.body if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef))
                }
                if self.class_nodes is not None:
                    self.class_nodes.append(node)
                self.statements(node.body, in_function)
                builder.leave_scope()
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                builder.enter_function(node.name, parameters(node))
                self.statements(node.body, True)
                builder.leave_scope()
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    self._assignment(target, node.value)
                    if isinstance(target, ast.Name) and target.id == "__all__":
                        builder.bind_exports(_literal_names(node.value), extend=False)
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                self._assignment(node.target, node.value)
            elif isinstance(node, ast.AugAssign):
                builder.bind_other(_names(node.target))
                if isinstance(node.target, ast.Name) and node.target.id == "__all__":
                    builder.bind_exports(_literal_names(node.value), extend=True)
            else:
                self._compound(node, in_function)

    def _compound(self, node: ast.stmt, in_function: bool) -> None:
        if isinstance(node, (ast.For, ast.AsyncFor)):
            self.builder.bind_other(_names(node.target))
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    self.builder.bind_other(_names(item.optional_vars))
        for handler in getattr(node, "handlers", ()):
            if handler.name:
                self.builder.bind_other([handler.name])
        for block in blocks(node):
            self.statements([statement for statement in block if isinstance(statement, ast.stmt)], in_function)

    def _assignment(self, target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, ast.Name):
            self.builder.bind_assignment(target.id, dotted(value), is_none(value))
        else:
            self.builder.bind_other(_names(target))


def build(
    tree: ast.Module,
    extra_bases: frozenset[str] = frozenset(),
    resolver: Resolver | None = None,
    keep_nodes: bool = True,
    star_resolver: StarResolver | None = None,
    finders: tuple[ClassFinder, StarClassFinder] | None = None,
) -> tuple[Table, list[ast.ClassDef]]:
    """The table of a parsed file, and (with keep_nodes) each class's ast node, in the table's order."""
    walker = _Walker(keep_nodes)
    walker.statements(tree.body)
    return walker.builder.table(extra_bases, resolver, star_resolver, finders), walker.class_nodes or []


def read_table(
    text: str, extra_bases: frozenset[str] = frozenset(), resolver: Resolver | None = None,
    star_resolver: StarResolver | None = None, finders: tuple[ClassFinder, StarClassFinder] | None = None,
) -> Table:
    """The table of another file's text; raises SyntaxError, ValueError or RecursionError if Python
    cannot parse it."""
    with warnings.catch_warnings(), python_parser_limit():
        warnings.simplefilter("ignore")  # invalid escape sequences and the like are not ours to report
        tree = ast.parse(text)
    return build(tree, extra_bases, resolver, keep_nodes=False, star_resolver=star_resolver, finders=finders)[0]
