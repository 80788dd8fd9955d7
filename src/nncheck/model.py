"""The file's model: its name bindings, its classes, and which of them are nn.Modules.

Names are resolved through the file's own imports and assignments only (no suffix matching, no other
files). Scopes are flattened: a name means one thing in the whole file, and a name bound in
conflicting ways resolves to nothing. That costs some recall and never a false "is a module".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Union

import libcst as cst

from nncheck.cst_helpers import blocks_of, dotted_name
from nncheck.known_modules import MODULE_ITSELF, PARAMETER_CLASSES, is_known_module


@dataclass(eq=False)
class ClassInfo:
    name: str
    parent: ClassInfo | None  # the class whose body holds this one, if any
    base_names: list[list[str] | None]  # each positional base as a dotted name, None if it is not one
    node: cst.ClassDef | None = None  # None in the summary of another file, read with ast
    nested: dict[str, list[ClassInfo]] = field(default_factory=dict)

    @property
    def qualname(self) -> str:
        return f"{self.parent.qualname}.{self.name}" if self.parent else self.name

    @property
    def definition(self) -> cst.ClassDef:
        """The class statement; rules only look at the checked file's own classes, which have one."""
        assert self.node is not None, "another file's class has no libcst node"
        return self.node

    @property
    def bases(self) -> list[cst.BaseExpression]:
        return [arg.value for arg in self.definition.bases if arg.keyword is None and not arg.star]

    def methods(self, name: str | None = None) -> list[cst.FunctionDef]:
        """The methods defined in the class body (those named `name`, if given)."""
        # `class A: pass` has a one-line suite; its body holds no methods, and the test below is false.
        body = self.node.body.body if self.node is not None else ()
        return [s for s in body if isinstance(s, cst.FunctionDef) and name in (None, s.name.value)]


# What a name or dotted expression stands for: a qualified name outside this file, or classes in it.
Target = Union[str, list[ClassInfo], None]


@dataclass(frozen=True)
class Binding:
    kind: str  # "import", "alias", "class" or "other"
    qualname: str = ""  # for "import"
    parts: tuple[str, ...] = ()  # for "alias": the right-hand side, a dotted name
    cls: ClassInfo | None = None  # for "class"


class FileModel:
    def __init__(
        self,
        module: cst.Module | None,
        extra_bases: frozenset[str] = frozenset(),
        resolver: Callable[[str], bool] | None = None,
        table: Table | None = None,
    ) -> None:
        self.module = module
        self.extra_bases = extra_bases
        # Answers "is this imported name an nn.Module class in another file of the project?"
        self._resolver = resolver
        if table is None:
            assert module is not None
            collector = _Collector()
            collector.visit(module)
            table = collector
        self.classes: list[ClassInfo] = table.classes
        self._bindings = table.bindings
        self._is_module: dict[int, bool] = {}

    @property
    def tree(self) -> cst.Module:
        """The checked file's libcst tree (another file's summary has none)."""
        assert self.module is not None, "another file's summary has no libcst tree"
        return self.module

    # -- name resolution -------------------------------------------------------------------------

    def resolve(self, expr: cst.BaseExpression) -> Target:
        parts = dotted_name(expr)
        return self._resolve_parts(parts, frozenset()) if parts else None

    def resolve_parts(self, parts: list[str]) -> Target:
        return self._resolve_parts(parts, frozenset())

    def _resolve_parts(self, parts: list[str], seen: frozenset[str]) -> Target:
        head = self._resolve_name(parts[0], seen)
        if isinstance(head, str):
            return ".".join([head, *parts[1:]])
        if not head:
            return None
        classes = head
        for part in parts[1:]:
            inner: list[ClassInfo] = []
            for cls in classes:
                if part not in cls.nested:
                    return None
                inner.extend(cls.nested[part])
            classes = inner
        return classes

    def _resolve_name(self, name: str, seen: frozenset[str]) -> Target:
        bindings = self._bindings.get(name)
        if not bindings or name in seen:
            return None
        if any(b.kind == "class" for b in bindings):
            if all(b.kind == "class" for b in bindings):
                return [b.cls for b in bindings if b.cls is not None]
            return None
        targets: list[Target] = []
        for binding in bindings:
            if binding.kind == "import":
                targets.append(binding.qualname)
            elif binding.kind == "alias" and binding.parts:
                targets.append(self._resolve_parts(list(binding.parts), seen | {name}))
            else:
                return None
        first = targets[0]
        if all(isinstance(t, str) and t == first for t in targets):
            return first
        if all(isinstance(t, list) and t for t in targets):
            return [cls for t in targets if isinstance(t, list) for cls in t]
        return None

    # -- which classes are modules ---------------------------------------------------------------

    def is_module_class(self, cls: ClassInfo) -> bool:
        key = id(cls)
        if key not in self._is_module:
            self._is_module[key] = False  # a cycle of bases proves nothing
            self._is_module[key] = any(
                self._is_module_target(self._resolve_parts(parts, frozenset())) for parts in cls.base_names if parts
            )
        return self._is_module[key]

    def _is_module_target(self, target: Target) -> bool:
        if isinstance(target, str):
            if is_known_module(target, self.extra_bases):
                return True
            return self._resolver is not None and self._resolver(target)
        return bool(target) and all(self.is_module_class(cls) for cls in target or ())

    def is_module_path(self, parts: list[str]) -> bool:
        """For another file asking: is the name `parts` (such as ["Outer", "Inner"]) here an nn.Module?"""
        return bool(parts) and self._is_module_target(self._resolve_parts(parts, frozenset()))

    def is_module_expr(self, expr: cst.BaseExpression) -> bool:
        """True when `expr` names a class that is certainly an nn.Module."""
        return self._is_module_target(self.resolve(expr))

    def is_module_call(self, expr: cst.BaseExpression) -> bool:
        """`expr` certainly builds an nn.Module: a call of a class that is one."""
        return isinstance(expr, cst.Call) and self.is_module_expr(expr.func)

    def spelling_of(self, qualified_name: str) -> str | None:
        """How this file can name `qualified_name` through its own imports (`nn.ModuleList` for
        torch.nn.ModuleList after `from torch import nn`), or None."""
        for name in sorted(self._bindings):
            target = self._resolve_name(name, frozenset())
            if not isinstance(target, str):
                continue
            if qualified_name == target:
                return name
            if qualified_name.startswith(target + "."):
                return name + qualified_name[len(target):]
        return None

    def is_module_itself(self, expr: cst.BaseExpression) -> bool:
        """`expr` names torch.nn.Module itself, not a subclass."""
        target = self.resolve(expr)
        return isinstance(target, str) and target in MODULE_ITSELF

    def parameter_class(self, expr: cst.BaseExpression) -> str | None:
        """"Parameter" or "Buffer" (and the like) when `expr` names torch's class of that name."""
        target = self.resolve(expr)
        return target.rsplit(".", 1)[-1] if isinstance(target, str) and target in PARAMETER_CLASSES else None

    def module_classes(self) -> list[ClassInfo]:
        return [cls for cls in self.classes if self.is_module_class(cls)]


_NONE = "None"


class Table:
    """The binding policy shared by the libcst collector (the checked file) and the ast one (other
    files' summaries): both report syntax through these methods, so the two cannot disagree."""

    def __init__(self) -> None:
        self.classes: list[ClassInfo] = []
        self.bindings: dict[str, list[Binding]] = {}
        self._class_stack: list[ClassInfo | None] = []  # None marks a function body

    def _bind(self, name: str, binding: Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)

    def _in_function(self) -> bool:
        return None in self._class_stack

    def bind_import(self, local: str, qualname: str) -> None:
        self._bind(local, Binding("import", qualname=qualname))

    def bind_other(self, names: list[str]) -> None:
        # Local variables rarely collide with imports; only module-level rebinding makes a name ambiguous.
        if not self._class_stack:
            for name in names:
                self._bind(name, Binding("other"))

    def bind_assignment(self, target: str | None, value_parts: list[str] | None, value_is_none: bool) -> None:
        """`target = value` (target None: not a plain name). Aliases such as `Base = nn.Module` count
        outside functions; `nn = None` after a failed optional import leaves the import's meaning."""
        if self._in_function():
            return
        if target is not None and value_is_none:
            return
        if target is not None and value_parts:
            self._bind(target, Binding("alias", parts=tuple(value_parts)))
        elif target is not None:
            self.bind_other([target])

    def enter_class(self, name: str, base_names: list[list[str] | None], node: cst.ClassDef | None) -> None:
        parent = self._class_stack[-1] if self._class_stack else None
        info = ClassInfo(name=name, parent=parent, base_names=base_names, node=node)
        if parent is not None:
            parent.nested.setdefault(name, []).append(info)
        self.classes.append(info)
        self._bind(name, Binding("class", cls=info))
        self._class_stack.append(info)

    def enter_function(self, name: str, parameters: list[str]) -> None:
        self.bind_other([name])
        # A parameter that shadows an import (`def make(nn): class A(nn.Module)`) makes the name uncertain.
        for parameter in parameters:
            self._bind(parameter, Binding("other"))
        self._class_stack.append(None)

    def leave_scope(self) -> None:
        self._class_stack.pop()


class _Collector(Table):
    """The table of the checked file, from its libcst tree. It walks statements only, by hand: expressions
    bind nothing the table needs (a walrus is not followed, here or in summary.py), and libcst's generic
    visitor would spend most of its time on them and on whitespace nodes."""

    def visit(self, module: cst.Module) -> None:
        self._statements(module.body)

    def _statements(self, statements: Sequence[cst.CSTNode]) -> None:
        for statement in statements:
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    self._small(small)
            elif isinstance(statement, cst.BaseSmallStatement):
                self._small(statement)
            elif isinstance(statement, cst.ClassDef):
                bases = [dotted_name(arg.value) for arg in statement.bases if arg.keyword is None and not arg.star]
                self.enter_class(statement.name.value, bases, statement)
                self._statements(statement.body.body)
                self.leave_scope()
            elif isinstance(statement, cst.FunctionDef):
                self.enter_function(statement.name.value, [p.name.value for p in _parameters(statement.params)])
                self._statements(statement.body.body)
                self.leave_scope()
            elif isinstance(statement, cst.BaseCompoundStatement):
                self._compound(statement)

    def _compound(self, statement: cst.BaseCompoundStatement) -> None:
        if isinstance(statement, cst.For):
            self.bind_other(_target_names(statement.target))
        elif isinstance(statement, cst.With):
            for item in statement.items:
                if item.asname is not None:
                    self.bind_other(_target_names(item.asname.name))
        elif isinstance(statement, (cst.Try, cst.TryStar)):
            for handler in statement.handlers:
                if handler.name is not None:
                    self.bind_other(_target_names(handler.name.name))
        for block in blocks_of(statement):
            self._statements(block.body)

    def _small(self, node: cst.BaseSmallStatement) -> None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                parts = dotted_name(alias.name) or []
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self.bind_import(alias.asname.name.value, ".".join(parts))
                elif parts:
                    self.bind_import(parts[0], parts[0])
        elif isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar):
            dots = "." * len(node.relative)
            package = ".".join(dotted_name(node.module) or []) if node.module else ""
            for imported in node.names:
                local = imported.asname.name if imported.asname is not None else imported.name
                if isinstance(imported.name, cst.Name) and isinstance(local, cst.Name):
                    self.bind_import(local.value, imported_name(dots, package, imported.name.value))
        elif isinstance(node, cst.Assign):
            for target in node.targets:
                self._assignment(target.target, node.value)
        elif isinstance(node, cst.AnnAssign) and node.value is not None:
            self._assignment(node.target, node.value)
        elif isinstance(node, cst.AugAssign):
            self.bind_other(_target_names(node.target))

    def _assignment(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            is_none = isinstance(value, cst.Name) and value.value == _NONE
            self.bind_assignment(target.value, dotted_name(value), is_none)
        else:
            self.bind_other(_target_names(target))


def imported_name(dots: str, package: str, name: str) -> str:
    """The qualified name `from <dots><package> import <name>` binds (relative ones keep their dots)."""
    return f"{dots}{package}.{name}" if package else f"{dots}{name}"


def _target_names(target: cst.BaseExpression) -> list[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [name for element in target.elements for name in _target_names(element.value)]
    if isinstance(target, cst.StarredElement):
        return _target_names(target.value)
    return []


def _parameters(params: cst.Parameters) -> list[cst.Param]:
    found = [*params.posonly_params, *params.params, *params.kwonly_params]
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            found.append(star)
    return found
