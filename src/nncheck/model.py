"""The file's model: its name bindings, its classes, and which of them are nn.Modules.

Names are resolved through the file's own imports and assignments only (no suffix matching, no other
files). Scopes are flattened: a name means one thing in the whole file, and a name bound in
conflicting ways resolves to nothing. That costs some recall and never a false "is a module".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

import libcst as cst

from nncheck.cst_helpers import dotted_name
from nncheck.known_modules import MODULE_ITSELF, PARAMETER_CLASSES, is_known_module


@dataclass(eq=False)
class ClassInfo:
    node: cst.ClassDef
    parent: ClassInfo | None  # the class whose body holds this one, if any
    nested: dict[str, list[ClassInfo]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.node.name.value

    @property
    def qualname(self) -> str:
        return f"{self.parent.qualname}.{self.name}" if self.parent else self.name

    @property
    def bases(self) -> list[cst.BaseExpression]:
        return [arg.value for arg in self.node.bases if arg.keyword is None and not arg.star]

    def methods(self, name: str) -> list[cst.FunctionDef]:
        # `class A: pass` has a one-line suite; its body holds no methods, and the test below is false.
        return [s for s in self.node.body.body if isinstance(s, cst.FunctionDef) and s.name.value == name]


# What a name or dotted expression stands for: a qualified name outside this file, or classes in it.
Target = Union[str, list[ClassInfo], None]


@dataclass(frozen=True)
class _Binding:
    kind: str  # "import", "alias", "class" or "other"
    qualname: str = ""  # for "import"
    expr: cst.BaseExpression | None = None  # for "alias": the right-hand side, a dotted name
    cls: ClassInfo | None = None  # for "class"


class FileModel:
    def __init__(self, module: cst.Module, extra_bases: frozenset[str] = frozenset()) -> None:
        self.module = module
        self.extra_bases = extra_bases
        collector = _Collector()
        module.visit(collector)
        self.classes: list[ClassInfo] = collector.classes
        self._bindings = collector.bindings
        self._is_module: dict[int, bool] = {}

    # -- name resolution -------------------------------------------------------------------------

    def resolve(self, expr: cst.BaseExpression) -> Target:
        parts = dotted_name(expr)
        return self._resolve_parts(parts, frozenset()) if parts else None

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
            elif binding.kind == "alias" and binding.expr is not None:
                targets.append(self._resolve_parts(dotted_name(binding.expr) or [], seen | {name}))
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
            self._is_module[key] = any(self._is_module_target(self.resolve(base)) for base in cls.bases)
        return self._is_module[key]

    def _is_module_target(self, target: Target) -> bool:
        if isinstance(target, str):
            return is_known_module(target, self.extra_bases)
        return bool(target) and all(self.is_module_class(cls) for cls in target or ())

    def is_module_expr(self, expr: cst.BaseExpression) -> bool:
        """True when `expr` names a class that is certainly an nn.Module."""
        return self._is_module_target(self.resolve(expr))

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


class _Collector(cst.CSTVisitor):
    """One pass over the tree: every class, and every binding of a name."""

    def __init__(self) -> None:
        self.classes: list[ClassInfo] = []
        self.bindings: dict[str, list[_Binding]] = {}
        self._class_stack: list[ClassInfo | None] = []  # None marks a function body

    def _bind(self, name: str, binding: _Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)

    def _in_function(self) -> bool:
        return None in self._class_stack

    def _bind_other(self, target: cst.BaseExpression) -> None:
        # Local variables rarely collide with imports; only module-level rebinding makes a name ambiguous.
        if self._class_stack:
            return
        for name_node in _target_names(target):
            self._bind(name_node, _Binding("other"))

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            parts = dotted_name(alias.name) or []
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self._bind(alias.asname.name.value, _Binding("import", qualname=".".join(parts)))
            elif parts:
                self._bind(parts[0], _Binding("import", qualname=parts[0]))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        dots = "." * len(node.relative)
        package = ".".join(dotted_name(node.module) or []) if node.module else ""
        for alias in node.names:
            local = alias.asname.name if alias.asname is not None else alias.name
            if isinstance(alias.name, cst.Name) and isinstance(local, cst.Name):
                qualname = f"{dots}{package}.{alias.name.value}" if package else f"{dots}{alias.name.value}"
                self._bind(local.value, _Binding("import", qualname=qualname))

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        parent = self._class_stack[-1] if self._class_stack else None
        info = ClassInfo(node=node, parent=parent)
        if parent is not None:
            parent.nested.setdefault(info.name, []).append(info)
        self.classes.append(info)
        self._bind(info.name, _Binding("class", cls=info))
        self._class_stack.append(info)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._class_stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._bind_other(node.name)
        # A parameter that shadows an import (`def make(nn): class A(nn.Module)`) makes the name uncertain.
        for param in _parameters(node.params):
            self._bind(param.name.value, _Binding("other"))
        self._class_stack.append(None)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._class_stack.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind_assignment(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._bind_assignment(node.target, node.value)

    def _bind_assignment(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if self._in_function():
            return
        if isinstance(target, cst.Name):
            if isinstance(value, cst.Name) and value.value == _NONE:
                return  # `nn = None` after a failed optional import leaves the import's meaning intact
            if dotted_name(value):
                self._bind(target.value, _Binding("alias", expr=value))
                return
        self._bind_other(target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind_other(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._bind_other(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind_other(node.asname.name)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._bind_other(node.name.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind_other(node.target)


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
