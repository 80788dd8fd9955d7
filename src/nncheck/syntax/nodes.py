"""Questions about a node of either tree, Python's `ast` or libcst's, each answered in one place.

The pre-screen reads Python's ast and the rules read libcst's tree; where both must answer the same
question (is this a base `__init__` call, is this an empty list, what does this statement assign),
the answer is written once here, so the two can never disagree. Each function takes a node of
either tree and gives back nodes of the same tree.

Statements are seen as "units": a libcst line `a = 1; b = 2` is two units, as in ast, so an index
into a body means the same statement in both trees.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, TypeGuard, Union

import libcst as cst

Expr = Union[ast.expr, cst.BaseExpression]
Node = Union[ast.AST, cst.CSTNode]
Function = Union[ast.FunctionDef, ast.AsyncFunctionDef, cst.FunctionDef]
ClassNode = Union[ast.ClassDef, cst.ClassDef]
ContainerKind = Literal["list", "tuple", "set", "dict"]

_AST_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_AST_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_CST_SCOPES = (cst.FunctionDef, cst.Lambda, cst.ClassDef)
_AST_SCOPE_TYPES = frozenset(_AST_SCOPES)
_AST_SCOPE_STATEMENTS = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef})
_AST_BODIED = frozenset({ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef})
# The statements with blocks (TryStar from Python 3.11).
_AST_BLOCKED = frozenset({ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try, ast.Match,
                          *((ast.TryStar,) if hasattr(ast, "TryStar") else ())})
_CALLS = "_nncheck_calls"  # an ast node's attribute: the ast.Calls below it, itself left out (see calls_in)
_CALL = "_nncheck_call"  # an ast.Call's attribute: its arguments as a Call holds them (see as_call)
_SCOPES = "_nncheck_scopes"  # an ast.Module's attribute: its scopes (see scopes)
# No memo refers to the node that keeps it: a cycle would keep every tree alive until the garbage
# collector's full pass, whose passes over the growing heap took a quarter of a run's time.
_METHODS = "_nncheck_methods"  # an ast class's attribute: its methods by name (see methods)
# libcst's node classes are abstract base classes, slow to test an ast node against (the screens test
# millions): where a test names classes of both trees, an ast node is tested only against ast's.


# -- names -----------------------------------------------------------------------------------------

def dotted(expr: Node | None) -> list[str] | None:
    """["torch", "nn", "Module"] for `torch.nn.Module`; None for anything that is not a dotted name."""
    parts: list[str] = []
    if isinstance(expr, ast.AST):
        while isinstance(expr, ast.Attribute):
            parts.append(expr.attr)
            expr = expr.value
        if not isinstance(expr, ast.Name):
            return None
        parts.append(expr.id)
    else:
        while isinstance(expr, cst.Attribute):
            parts.append(expr.attr.value)
            expr = expr.value
        if not isinstance(expr, cst.Name):
            return None
        parts.append(expr.value)
    return parts[::-1]


def name_of(expr: Node | None) -> str | None:
    """The identifier, if `expr` is a plain name."""
    if isinstance(expr, ast.AST):
        return expr.id if isinstance(expr, ast.Name) else None
    if isinstance(expr, cst.Name):
        return expr.value
    return None


def attribute(expr: Node) -> tuple[Expr, str] | None:
    """(owner, name) for `owner.name`."""
    if isinstance(expr, ast.Attribute):
        return expr.value, expr.attr
    if not isinstance(expr, ast.AST) and isinstance(expr, cst.Attribute):
        return expr.value, expr.attr.value
    return None


def is_none(expr: Node) -> bool:
    if isinstance(expr, ast.Constant):
        return expr.value is None
    return not isinstance(expr, ast.AST) and isinstance(expr, cst.Name) and expr.value == "None"


def boolean(expr: Node) -> bool | None:
    """The value of a literal `True` or `False`."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, bool):
        return expr.value
    if isinstance(expr, cst.Name) and expr.value in ("True", "False"):
        return expr.value == "True"
    return None


def is_string(expr: Node) -> bool:
    if isinstance(expr, ast.Constant):
        return isinstance(expr.value, str)
    return isinstance(expr, (ast.JoinedStr, cst.SimpleString, cst.ConcatenatedString, cst.FormattedString))


def subscript_owner(expr: Node) -> Expr | None:
    """`x` for `x[...]`."""
    if isinstance(expr, (ast.Subscript, cst.Subscript)):
        return expr.value
    return None


def added(expr: Node) -> tuple[Expr, Expr] | None:
    """(left, right) of `left + right`."""
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return expr.left, expr.right
    if not isinstance(expr, ast.AST) and isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
        return expr.left, expr.right
    return None


def conditional(expr: Node) -> tuple[Expr, Expr] | None:
    """(value if true, value if false) of `a if c else b`."""
    if isinstance(expr, ast.IfExp) or (not isinstance(expr, ast.AST) and isinstance(expr, cst.IfExp)):
        return expr.body, expr.orelse
    return None


# -- calls -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Call:
    """A call in either tree: what is called, its positional arguments (value, starred) and its
    keyword arguments (name, value; name None for `**kwargs`)."""

    node: ast.Call | cst.Call
    func: Expr
    positional: tuple[tuple[Expr, bool], ...]
    keywords: tuple[tuple[str | None, Expr], ...]


def as_call(expr: Node | None) -> Call | None:
    if isinstance(expr, ast.AST):  # tested first: libcst's node classes are slower to test against
        return _ast_call(expr) if isinstance(expr, ast.Call) else None
    if isinstance(expr, cst.Call):
        args = [a for a in expr.args if a.keyword is None and a.star != "**"]
        keywords = tuple(
            (a.keyword.value if a.keyword is not None else None, a.value)
            for a in expr.args if a.keyword is not None or a.star == "**"
        )
        return Call(expr, expr.func, tuple((a.value, a.star == "*") for a in args), keywords)
    return None


def _ast_call(expr: ast.Call) -> Call:
    # The arguments are kept on the node: the screens ask for the same calls many times.
    arguments: tuple[tuple[tuple[Expr, bool], ...], tuple[tuple[str | None, Expr], ...]] | None
    arguments = expr.__dict__.get(_CALL)
    if arguments is None:
        positional = tuple((a.value, True) if isinstance(a, ast.Starred) else (a, False) for a in expr.args)
        arguments = positional, tuple((k.arg, k.value) for k in expr.keywords)
        setattr(expr, _CALL, arguments)
    return Call(expr, expr.func, *arguments)


def unchained(expr: Expr, methods: frozenset[str]) -> Expr:
    """`x` for `x.to(device).cuda()` when the chained calls are all of `methods`."""
    while True:
        call = as_call(expr)
        owner = attribute(call.func) if call is not None else None
        if owner is None or owner[1] not in methods:
            return expr
        expr = owner[0]


def is_super_call(expr: Node | None) -> bool:
    """`super()` or `super(Cls, obj)`."""
    call = as_call(expr)
    return call is not None and name_of(call.func) == "super"


def method_owner(call: Call, method: str) -> Expr | None:
    """For `<owner>.<method>(...)`, the owner."""
    parts = attribute(call.func)
    return parts[0] if parts is not None and parts[1] == method else None


def passes_first(call: Call, name: str | None) -> bool:
    """The call passes the name `name` first, or as the keyword of that name (`f(self=self)`)."""
    if name is None:
        return False
    if call.positional:
        value, starred = call.positional[0]
        return not starred and name_of(value) == name
    return any(keyword == name and name_of(value) == name for keyword, value in call.keywords)


# -- walking ---------------------------------------------------------------------------------------

class _CstWalk(cst.CSTVisitor):
    def __init__(self, enter_scopes: bool) -> None:
        self.found: list[cst.CSTNode] = []
        self._enter_scopes = enter_scopes

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.found.append(node)
        return self._enter_scopes or not isinstance(node, _CST_SCOPES)


def walk(nodes: Iterable[Node], enter_scopes: bool = False) -> Iterator[Node]:
    """Every node inside `nodes` (themselves included), in source order. Without enter_scopes, not
    into functions, lambdas and classes (a body's nested `def` among them), whose code runs later than
    where it is written: pass a function's units, not the function, to walk its body."""
    for start in nodes:
        if not isinstance(start, ast.AST):
            walker = _CstWalk(enter_scopes)
            start.visit(walker)
            yield from walker.found
            continue
        # ast.iter_child_nodes inlined: the screens walk every method body, and this is twice as fast.
        todo: list[ast.AST] = [start]
        while todo:
            node = todo.pop()
            yield node
            kind = node.__class__
            if enter_scopes or kind not in _AST_SCOPE_TYPES:
                _push_children(node, kind, todo)


def _push_children(node: ast.AST, kind: type[ast.AST], todo: list[ast.AST]) -> None:
    """Put the node's children on the stack, last first, so that they are popped in source order."""
    fields = _CHILD_FIELDS.get(kind) or _child_fields(kind)
    for field in fields:
        value = getattr(node, field, None)
        if value.__class__ is list:
            for item in reversed(value):
                if isinstance(item, ast.AST):
                    todo.append(item)
        elif isinstance(value, ast.AST):
            todo.append(value)


# Fields that hold only operators and contexts (`Add`, `Eq`, `Load`): nothing any question looks for.
_HOLLOW_FIELDS = frozenset({"ctx", "op", "ops"})
_CHILD_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {}


def _child_fields(kind: type[ast.AST]) -> tuple[str, ...]:
    # Last first; a class without children (`Name`) is asked again each time, which costs little.
    fields = _CHILD_FIELDS[kind] = tuple(reversed([f for f in kind._fields if f not in _HOLLOW_FIELDS]))
    return fields


class _CstCalls(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: list[cst.Call] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Call):
            self.found.append(node)
        return not isinstance(node, _CST_SCOPES)


def calls_in(nodes: Iterable[Node]) -> list[Call]:
    """Every call inside `nodes`, in source order, but not in nested functions, lambdas and classes."""
    found: list[Call] = []
    for start in nodes:
        if isinstance(start, ast.AST):
            # Kept on the node: several rules' screens ask for the calls of the same method bodies.
            calls: list[ast.Call] | None = start.__dict__.get(_CALLS)
            if calls is None:
                calls = _ast_calls(start)
                setattr(start, _CALLS, calls)
            if isinstance(start, ast.Call):
                found.append(_ast_call(start))
            found.extend(_ast_call(call) for call in calls)
        else:
            collector = _CstCalls()
            start.visit(collector)
            found.extend(c for call in collector.found if (c := as_call(call)) is not None)
    return found


def _ast_calls(start: ast.AST) -> list[ast.Call]:
    # walk([start]) with the test for a call inside, start itself left out: the screens ask this of
    # every statement.
    found: list[ast.Call] = []
    todo: list[ast.AST] = []
    if start.__class__ not in _AST_SCOPE_TYPES:
        _push_children(start, start.__class__, todo)
    while todo:
        node = todo.pop()
        kind = node.__class__
        if kind is ast.Call:
            found.append(node)  # type: ignore[arg-type]
        elif kind in _AST_SCOPE_TYPES:
            continue
        _push_children(node, kind, todo)
    return found


def attributes_in(nodes: Iterable[Node]) -> list[tuple[Expr, str]]:
    """Every `owner.name` inside `nodes`, nested scopes included."""
    return [found for node in walk(nodes, enter_scopes=True) if (found := attribute(node)) is not None]


def mentions(nodes: Iterable[Node], path: Sequence[str]) -> bool:
    """Some expression inside `nodes` reads the dotted name `path` (`self.blocks`), or a part of it."""
    return any(dotted(node) == list(path) for node in walk(nodes, enter_scopes=True))


# -- functions and classes -------------------------------------------------------------------------

def is_function(node: Node | None) -> TypeGuard[Function]:
    return isinstance(node, _AST_FUNCTIONS) or (not isinstance(node, ast.AST) and isinstance(node, cst.FunctionDef))


def function_name(func: Function) -> str:
    return func.name if isinstance(func, ast.AST) else func.name.value


def positional_parameters(func: Function) -> list[str]:
    if isinstance(func, ast.AST):
        return [a.arg for a in (*func.args.posonlyargs, *func.args.args)]
    return [p.name.value for p in (*func.params.posonly_params, *func.params.params)]


def parameters(func: Function) -> list[str]:
    """Every parameter name, `*args` and `**kwargs` included."""
    if isinstance(func, ast.AST):
        args = func.args
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs, *(a for a in (args.vararg, args.kwarg) if a)]
        return [a.arg for a in every]
    params = func.params
    names = [p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)]
    names += [star.name.value for star in (params.star_arg, params.star_kwarg) if isinstance(star, cst.Param)]
    return names


def first_parameter(func: Function) -> str | None:
    """The parameter that receives the instance in a plain method."""
    names = positional_parameters(func)
    return names[0] if names else None


def decorators(node: Function | ClassNode) -> list[Expr]:
    if isinstance(node, ast.AST):
        return list(node.decorator_list)
    return [d.decorator for d in node.decorators]


def has_decorator(node: Function | ClassNode, name: str) -> bool:
    """`@name` or `@anything.name`, called or not."""
    for expr in decorators(node):
        call = as_call(expr)
        parts = dotted(call.func if call is not None else expr)
        if parts and parts[-1] == name:
            return True
    return False


def class_name(node: ClassNode) -> str:
    return node.name if isinstance(node, ast.ClassDef) else node.name.value


def class_bases(node: ClassNode) -> list[Expr]:
    """The positional bases, as written (`*bases` left out)."""
    if isinstance(node, ast.ClassDef):
        return [base for base in node.bases if not isinstance(base, ast.Starred)]
    return [arg.value for arg in node.bases if arg.keyword is None and not arg.star]


def has_class_keywords(node: ClassNode) -> bool:
    """`class A(Base, metaclass=M)` or any other keyword."""
    return bool(node.keywords)


def methods(node: ClassNode, name: str | None = None) -> list[Function]:
    """The functions defined directly in the class body (those named `name`, if given)."""
    if not isinstance(node, ast.AST):
        return [unit for unit in units(node) if is_function(unit) and name in (None, function_name(unit))]
    # Kept on the node, by name (None: all of them): rules look up methods through every subclass.
    by_name: dict[str | None, list[Function]] | None = node.__dict__.get(_METHODS)
    if by_name is None:
        by_name = {None: [unit for unit in units(node) if is_function(unit)]}
        for unit in by_name[None]:
            by_name.setdefault(function_name(unit), []).append(unit)
        setattr(node, _METHODS, by_name)
    return list(by_name.get(name, ()))


# -- statements ------------------------------------------------------------------------------------


def first_line(statement: ast.stmt) -> int:
    """The line an ast statement starts on: its first decorator's, if it has any (ast's own lineno
    is the `def` or `class` line)."""
    decorators: list[ast.expr] = getattr(statement, "decorator_list", None) or []
    return min([statement.lineno, *(d.lineno for d in decorators)])


Unit = Union[ast.stmt, cst.BaseSmallStatement, cst.BaseCompoundStatement]


def units(
    node: Function | ClassNode | cst.BaseSuite | cst.Module | ast.Module | Sequence[ast.stmt],
) -> list[Unit]:
    """The statements of a body, a libcst line of several `;`-separated statements counted as several."""
    if node.__class__ in _AST_BODIED:  # (ast's classes are never subclassed: a set lookup is enough)
        return _as_units(node.body)  # type: ignore[union-attr, arg-type]
    if not isinstance(node, cst.CSTNode):
        return _as_units(node)  # type: ignore[arg-type]  # a list of statements
    suite = node.body if isinstance(node, (cst.FunctionDef, cst.ClassDef)) else node
    if isinstance(suite, cst.SimpleStatementSuite):
        return list(suite.body)
    found: list[Unit] = []
    for statement in suite.body:
        if isinstance(statement, cst.SimpleStatementLine):
            found.extend(statement.body)
        elif isinstance(statement, cst.BaseCompoundStatement):
            found.append(statement)
    return found


def is_scope(unit: Node) -> TypeGuard[Union[Function, ClassNode]]:
    """A function or class definition: its body does not run where it is written."""
    if isinstance(unit, ast.AST):
        return unit.__class__ in _AST_SCOPE_STATEMENTS
    return isinstance(unit, (cst.FunctionDef, cst.ClassDef))


def blocks(unit: Node) -> list[list[Unit]]:
    """The blocks of an if/for/while/with/try/match statement, in source order (none for others)."""
    if isinstance(unit, ast.AST):
        kind = unit.__class__
        if kind not in _AST_BLOCKED:
            return []
        if kind is ast.Match:
            return [_as_units(case.body) for case in unit.cases]  # type: ignore[attr-defined]
        found = [_as_units(getattr(unit, "body"))]
        found.extend(_as_units(handler.body) for handler in getattr(unit, "handlers", ()))
        for attribute_name in ("orelse", "finalbody"):
            block = getattr(unit, attribute_name, None)
            if block:
                found.append(_as_units(block))
        return found
    if not isinstance(unit, cst.BaseCompoundStatement) or is_scope(unit):
        return []
    suites: list[cst.BaseSuite] = []
    if not isinstance(unit, cst.Match):  # a match statement has only its cases
        suites.append(unit.body)
    for attribute_name in ("handlers", "cases"):
        suites.extend(part.body for part in getattr(unit, attribute_name, ()))
    for attribute_name in ("orelse", "finalbody"):
        part = getattr(unit, attribute_name, None)
        while part is not None:
            suites.append(part.body)
            part = getattr(part, "orelse", None) if isinstance(part, cst.If) else None
    return [units(suite) for suite in suites]


def _as_units(statements: Iterable[Unit]) -> list[Unit]:
    return list(statements)


def _try_star() -> tuple[type[ast.AST], ...]:
    star = getattr(ast, "TryStar", None)  # Python 3.11+
    return (star,) if star is not None else ()


def heads(unit: Node) -> list[Node]:
    """The parts of a compound statement outside its blocks: a loop's target and iterable, a test, a
    `with`'s items, an `except`'s clauses (with their names), a `match`'s subject and patterns."""
    if isinstance(unit, ast.AST):
        if isinstance(unit, (ast.For, ast.AsyncFor)):
            return [unit.target, unit.iter]
        if isinstance(unit, (ast.If, ast.While)):
            return [unit.test]
        if isinstance(unit, (ast.With, ast.AsyncWith)):
            return list(unit.items)
        if isinstance(unit, ast.Match):
            return [unit.subject, *(p for case in unit.cases for p in (case.pattern, case.guard) if p is not None)]
        found: list[Node] = []
        for handler in getattr(unit, "handlers", ()):  # try: the handler's type, and its name
            if handler.type is not None:
                found.append(handler.type)
            found.append(ast.ExceptHandler(type=None, name=handler.name, body=[]))
        return found
    if isinstance(unit, cst.For):
        return [unit.target, unit.iter]
    if isinstance(unit, (cst.If, cst.While)):
        return [unit.test]
    if isinstance(unit, cst.With):
        return list(unit.items)
    if isinstance(unit, cst.Match):
        return [unit.subject, *(p for case in unit.cases for p in (case.pattern, case.guard) if p is not None)]
    if isinstance(unit, (cst.Try, cst.TryStar)):
        return [handler.with_changes(body=cst.IndentedBlock(body=[])) for handler in unit.handlers]
    return []


def simple_units(body: Iterable[Unit]) -> Iterator[Unit]:
    """Every statement that is not a block, inside the blocks of `body` too, but not in nested scopes."""
    for unit in body:
        inner = blocks(unit)
        if inner:
            for block in inner:
                yield from simple_units(block)
        elif not is_scope(unit) and (isinstance(unit, ast.AST) or not isinstance(unit, cst.BaseCompoundStatement)):
            yield unit


def is_docstring(unit: Node) -> bool:
    if isinstance(unit, ast.Expr):
        return isinstance(unit.value, ast.Constant) and isinstance(unit.value.value, str)
    return (not isinstance(unit, ast.AST) and isinstance(unit, cst.Expr)
            and isinstance(unit.value, (cst.SimpleString, cst.ConcatenatedString)))


def only_raises(func: Function) -> bool:
    """The body is a docstring at most and `raise` statements: such a function never returns."""
    body = units(func)
    if any(blocks(u) or is_scope(u) or (not isinstance(u, ast.AST) and isinstance(u, cst.BaseCompoundStatement))
           for u in body):
        return False
    code = [u for u in body if not is_docstring(u)]
    return bool(code) and all(isinstance(u, (ast.Raise, cst.Raise)) for u in code)


def assignment(unit: Node, annotated: bool = True) -> tuple[list[Expr], Expr] | None:
    """(targets, value) of `a = b = value`, or (if `annotated`) of `a: T = value`."""
    if isinstance(unit, ast.AST):
        if isinstance(unit, ast.Assign):
            return list(unit.targets), unit.value
        if annotated and isinstance(unit, ast.AnnAssign) and unit.value is not None:
            return [unit.target], unit.value
        return None
    if isinstance(unit, cst.Assign):
        return [t.target for t in unit.targets], unit.value
    if annotated and isinstance(unit, cst.AnnAssign) and unit.value is not None:
        return [unit.target], unit.value
    return None


def augmented(unit: Node) -> tuple[Expr, Expr] | None:
    """(target, value) of `target += value` (any operator)."""
    if isinstance(unit, ast.AugAssign) or (not isinstance(unit, ast.AST) and isinstance(unit, cst.AugAssign)):
        return unit.target, unit.value
    return None


def elements(expr: Node) -> list[Expr] | None:
    """The elements of a tuple or list display, such as an assignment's target `a, b`."""
    if isinstance(expr, (ast.Tuple, ast.List)):
        return list(expr.elts)
    if isinstance(expr, (cst.Tuple, cst.List)):
        return [e.value for e in expr.elements]
    return None


def pairs(target: Expr, value: Expr) -> list[tuple[Expr, Expr]]:
    """`a, b = x, y` assigns x to a and y to b; anything else assigns value to target."""
    names, values = elements(target), elements(value)
    if names is not None and values is not None:
        if len(names) != len(values):
            return []
        return [pair for t, v in zip(names, values) for pair in pairs(t, v)]
    return [(target, value)]


@dataclass(frozen=True)
class Display:
    """A list, tuple, set or dict display or comprehension: its kind, the values it holds (a dict's
    values; a comprehension's one element), and whether it unpacks something (`*a`, `**b`)."""

    kind: ContainerKind
    values: list[Expr]
    unpacks: bool
    comprehension: bool


def display(expr: Node) -> Display | None:
    if isinstance(expr, ast.AST):
        if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
            kind: ContainerKind = "list" if isinstance(expr, ast.List) else "tuple" if isinstance(expr, ast.Tuple) \
                else "set"
            unpacks = any(isinstance(e, ast.Starred) for e in expr.elts)
            return Display(kind, list(expr.elts), unpacks, False)
        if isinstance(expr, ast.Dict):
            return Display("dict", list(expr.values), any(k is None for k in expr.keys), False)
        if isinstance(expr, (ast.ListComp, ast.SetComp)):
            return Display("list" if isinstance(expr, ast.ListComp) else "set", [expr.elt], False, True)
        if isinstance(expr, ast.DictComp):
            return Display("dict", [expr.value], False, True)
        return None
    if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
        kind = "list" if isinstance(expr, cst.List) else "tuple" if isinstance(expr, cst.Tuple) else "set"
        unpacks = any(isinstance(e, cst.StarredElement) for e in expr.elements)
        return Display(kind, [e.value for e in expr.elements], unpacks, False)
    if isinstance(expr, cst.Dict):
        values: list[Expr] = [e.value for e in expr.elements if isinstance(e, cst.DictElement)]
        return Display("dict", values, len(values) != len(expr.elements), False)
    if isinstance(expr, (cst.ListComp, cst.SetComp)):
        return Display("list" if isinstance(expr, cst.ListComp) else "set", [expr.elt], False, True)
    if isinstance(expr, cst.DictComp):
        return Display("dict", [expr.value], False, True)
    return None


def unpacked_elements(expr: Node) -> list[tuple[Expr, bool]] | None:
    """(value, starred) of each element of a list, tuple or set display: `[a, *b]` gives (a, False),
    (b, True)."""
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        return [(e.value, True) if isinstance(e, ast.Starred) else (e, False) for e in expr.elts]
    if not isinstance(expr, ast.AST) and isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
        return [(e.value, isinstance(e, cst.StarredElement)) for e in expr.elements]
    return None


def empty_container(expr: Node) -> Literal["list", "dict"] | None:
    """`[]`, `{}`, `list()` or `dict()`: the kind of the empty container it makes."""
    shown = display(expr)
    if shown is not None:
        if shown.values or shown.unpacks or shown.comprehension:
            return None
        return "list" if shown.kind == "list" else "dict" if shown.kind == "dict" else None
    call = as_call(expr)
    if call is None or call.positional or call.keywords:
        return None
    made = name_of(call.func)
    return "list" if made == "list" else "dict" if made == "dict" else None


def loops_in(nodes: Iterable[Node]) -> list[tuple[Expr, Expr, list[Unit]]]:
    """(target, iterable, body) of every `for` loop inside `nodes`, nested scopes included."""
    found: list[tuple[Expr, Expr, list[Unit]]] = []
    for node in walk(nodes, enter_scopes=True):
        if isinstance(node, (ast.For, ast.AsyncFor)):
            found.append((node.target, node.iter, list(node.body)))
        elif isinstance(node, cst.For):
            found.append((node.target, node.iter, units(node.body)))
    return found


# -- scopes ----------------------------------------------------------------------------------------

Scope = tuple[Union[Function, ClassNode, None], list[Unit]]  # (the def or class, None for the module; its body)


def statements(body: Sequence[Unit]) -> Iterator[Unit]:
    """Every statement in `body`, in blocks and in nested functions and classes too (statements only:
    cheaper than walking every expression)."""
    for unit in body:
        yield unit
        if is_scope(unit):
            yield from statements(units(unit))
        else:
            for block in blocks(unit):
                yield from statements(block)


def scopes(tree: ast.Module | cst.Module) -> list[Scope]:
    """The module's body, and the body of every class and function in it, however nested (a function
    defined in an expression, a lambda, is part of its scope)."""
    if isinstance(tree, ast.Module):
        # Kept on the tree: several screens ask. Nothing kept refers back to the tree (no cycle).
        kept: list[Scope] | None = tree.__dict__.get(_SCOPES)
        if kept is None:
            kept = _scopes(tree)
            setattr(tree, _SCOPES, kept)
        return kept
    return _scopes(tree)


def _scopes(tree: ast.Module | cst.Module) -> list[Scope]:
    found: list[Scope] = [(None, units(tree))]
    for node in statements(units(tree)):
        if is_scope(node):
            found.append((node, units(node)))
    return found


# -- annotations and binding forms ------------------------------------------------------------------

def parameter_annotations(func: Function) -> dict[str, Expr]:
    """Each annotated parameter's annotation (`x: Tensor` gives {"x": Tensor}), `*args` left out."""
    if isinstance(func, ast.AST):
        args = func.args
        return {a.arg: a.annotation for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)
                if a.annotation is not None}
    params = func.params
    return {p.name.value: p.annotation.annotation for p in (*params.posonly_params, *params.params,
                                                            *params.kwonly_params) if p.annotation is not None}


def return_annotation(func: Function) -> Expr | None:
    if isinstance(func, ast.AST):
        return func.returns
    return func.returns.annotation if func.returns is not None else None


def declared(unit: Node) -> tuple[Expr, Expr] | None:
    """(target, annotation) of an annotation without a value, `head: nn.Linear`."""
    if isinstance(unit, ast.AnnAssign):
        return (unit.target, unit.annotation) if unit.value is None else None
    if not isinstance(unit, ast.AST) and isinstance(unit, cst.AnnAssign) and unit.value is None:
        return unit.target, unit.annotation.annotation
    return None


def loop(node: Node) -> tuple[Expr, Expr] | None:
    """(target, iterable) of a `for` statement."""
    if isinstance(node, (ast.For, ast.AsyncFor)) or (not isinstance(node, ast.AST) and isinstance(node, cst.For)):
        return node.target, node.iter
    return None


def with_items(node: Node) -> list[tuple[Expr, Expr | None]]:
    """(context expression, target or None) of each item of a `with` statement."""
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return [(item.context_expr, item.optional_vars) for item in node.items]
    if not isinstance(node, ast.AST) and isinstance(node, cst.With):
        return [(item.item, item.asname.name if item.asname is not None else None) for item in node.items]
    return []


def generators(expr: Node) -> list[tuple[Expr, Expr]] | None:
    """(target, iterable) of each `for` of a comprehension or generator expression."""
    if isinstance(expr, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
        return [(g.target, g.iter) for g in expr.generators]
    if not isinstance(expr, ast.AST) and isinstance(expr, (cst.ListComp, cst.SetComp, cst.GeneratorExp,
                                                           cst.DictComp)):
        found: list[tuple[Expr, Expr]] = []
        part: cst.CompFor | None = expr.for_in
        while part is not None:
            found.append((part.target, part.iter))
            part = part.inner_for_in
        return found
    return None


def negated_operand(expr: Node) -> Expr | None:
    """`x` for `-x`, `+x` or `~x` (not for `not x`)."""
    if isinstance(expr, ast.UnaryOp):
        return expr.operand if not isinstance(expr.op, ast.Not) else None
    if not isinstance(expr, ast.AST) and isinstance(expr, cst.UnaryOperation):
        return expr.expression if not isinstance(expr.operator, cst.Not) else None
    return None


def walrus(node: Node) -> tuple[Expr, Expr] | None:
    """(target, value) of `(target := value)`."""
    if isinstance(node, ast.NamedExpr) or (not isinstance(node, ast.AST) and isinstance(node, cst.NamedExpr)):
        return node.target, node.value
    return None


def string_value(expr: Node) -> str | None:
    """The text of a plain string literal."""
    if isinstance(expr, ast.Constant):
        return expr.value if isinstance(expr.value, str) else None
    if isinstance(expr, cst.SimpleString):
        value = expr.evaluated_value
        return value if isinstance(value, str) else None
    return None
