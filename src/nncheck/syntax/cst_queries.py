"""Questions only libcst's tree is asked: which names a statement reads or changes, for NNC003's uses of
a class and NNC004's check that moving a call is harmless (questions asked of both trees are in
nodes.py)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import libcst as cst

from nncheck.syntax.nodes import dotted


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


def _path(expr: cst.BaseExpression) -> str | None:
    parts = dotted(expr)
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
