"""The checked file's classes as the rules see them: its table, with each class's node in one tree.

The pre-screen sees the file through a `Screen` (Python's ast); the rules, once the file has reached
libcst, through a `FileModel` (libcst's tree). Both are views of one table, built once from ast: the
table's answers, such as which classes are nn.Modules, are worked out once and shared.
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Generic, TypeVar, Union

import libcst as cst

from nncheck.model.known_modules import INSTANCE_NORMS, PARAMETERISED_LAYERS, RETURNING_SELF, torch_layer
from nncheck.model.table import ClassInfo, Table
from nncheck.model.knowledge import Knowledge
from nncheck.syntax.nodes import (
    Call,
    ClassNode,
    Expr,
    Function,
    Node,
    Unit,
    as_call,
    blocks,
    boolean,
    class_bases,
    class_name,
    decorators,
    dotted,
    elements,
    has_class_keywords,
    methods,
    name_of,
    unchained,
    units,
)


class ClassView:
    """One class of the checked file, in one tree."""

    def __init__(self, info: ClassInfo, node: ClassNode) -> None:
        self.info = info
        self.node = node

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def qualname(self) -> str:
        return self.info.qualname

    def methods(self, name: str | None = None) -> Sequence[Function]:
        """The methods defined in the class body (those named `name`, if given)."""
        return methods(self.node, name)

    @property
    def bases(self) -> Sequence[Expr]:
        return class_bases(self.node)

    @property
    def decorators(self) -> Sequence[Expr]:
        return decorators(self.node)

    @property
    def has_keywords(self) -> bool:
        """A metaclass or another class keyword."""
        return has_class_keywords(self.node)


class AstClass(ClassView):
    node: ast.ClassDef

    def methods(self, name: str | None = None) -> Sequence[ast.FunctionDef | ast.AsyncFunctionDef]:
        return [m for m in methods(self.node, name) if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))]


class CstClass(ClassView):
    node: cst.ClassDef

    def methods(self, name: str | None = None) -> Sequence[cst.FunctionDef]:
        return [m for m in methods(self.node, name) if isinstance(m, cst.FunctionDef)]

    @property
    def bases(self) -> Sequence[cst.BaseExpression]:
        return [b for b in class_bases(self.node) if isinstance(b, cst.BaseExpression)]


C = TypeVar("C", bound=ClassView)
Resolved = Union[str, list[C], None]


class NeedsWholeFile(Exception):
    """A rule asked about a class that libcst was not given (see engine.focus): check the whole file."""


class FileView(Generic[C]):
    tree: ast.Module | cst.Module
    text: str  # the source

    def __init__(self, table: Table, classes: list[C]) -> None:
        self.table = table
        self.classes = classes
        self._views = {id(view.info): view for view in classes}
        # Answers about this file's nodes that several rules (or a rule and the screen) ask, kept so
        # each is worked out once: keyed by what is asked and the id of the node it is about.
        self.answers: dict[tuple[str, int, bool], int | None] = {}
        # What runs when a method of a class runs (see methods.reached_with_guards): by class and method.
        self.reached: dict[tuple[int, str], list[tuple[Function, bool]]] = {}
        self._values: Knowledge | None = None

    @property
    def values(self) -> Knowledge:
        """What each value of the file certainly is (a module, a tensor, ...): worked out as asked."""
        if self._values is None:
            self._values = Knowledge(self)
        return self._values

    @property
    def extra_bases(self) -> frozenset[str]:
        return self.table.extra_bases

    def resolve(self, expr: Expr) -> str | list[C] | None:
        """The qualified name outside this file that `expr` names, or the classes of this file."""
        parts = dotted(expr)
        target = self.table.resolve_parts(parts) if parts else None
        if isinstance(target, list):
            return [self._view(info) for info in target]
        return target

    def qualified_name(self, expr: Expr) -> str | None:
        """The qualified name outside this file that `expr` names (None for this file's classes too):
        unlike resolve, never asks for a class libcst was not given."""
        parts = dotted(expr)
        target = self.table.resolve_parts(parts) if parts else None
        return target if isinstance(target, str) else None

    def type_test(self, test: Node | None) -> tuple[str | None, list[Expr] | None] | None:
        """For `isinstance(x, A)` or `isinstance(x, (A, B))`: the name tested and the classes named; for
        `torch.is_tensor(x)`: the name and None (a tensor). None for any other test."""
        call = as_call(test)
        if call is None or not call.positional:
            return None
        name = name_of(call.positional[0][0])
        if len(call.positional) == 1 and self.qualified_name(call.func) == "torch.is_tensor":
            return name, None
        if name_of(call.func) != "isinstance" or len(call.positional) != 2:
            return None
        return name, elements(call.positional[1][0]) or [call.positional[1][0]]

    def resolve_parts(self, parts: list[str]) -> str | list[C] | None:
        target = self.table.resolve_parts(parts)
        if isinstance(target, list):
            return [self._view(info) for info in target]
        return target

    def _view(self, info: ClassInfo) -> C:
        view = self._views.get(id(info))
        if view is None:
            raise NeedsWholeFile(info.qualname)
        return view

    def is_module_class(self, cls: C) -> bool:
        return self.table.is_module_class(cls.info)

    def module_classes(self) -> list[C]:
        return [cls for cls in self.classes if self.table.is_module_class(cls.info)]

    def is_module_expr(self, expr: Expr) -> bool:
        """`expr` names a class that is certainly an nn.Module."""
        parts = dotted(expr)
        return parts is not None and self.table.is_module_path(parts)

    def construction(self, expr: Expr) -> Call | None:
        """The call that builds the value of `expr`, seen through calls of nn.Module methods that return
        the module (`nn.Linear(2, 2).to(device)`); None if `expr` is not a call."""
        return as_call(unchained(expr, RETURNING_SELF))

    def torch_layer(self, expr: Expr) -> str | None:
        """`Linear` when `expr` builds a torch.nn.Linear (through any import form), and so on."""
        call = self.construction(expr)
        target = self.qualified_name(call.func) if call is not None else None
        return torch_layer(target) if target is not None else None

    def owns_parameters(self, expr: Expr) -> str | None:
        """The torch layer `expr` builds if it certainly owns parameters (`Linear`; `Sequential` holding
        one; `InstanceNorm2d` with affine=True or track_running_stats=True)."""
        layer = self.torch_layer(expr)
        call = self.construction(expr)
        if layer is None or call is None:
            return None
        if layer in PARAMETERISED_LAYERS:
            return layer
        if layer in INSTANCE_NORMS:
            flags = ("affine", "track_running_stats")
            return layer if any(k in flags and boolean(v) for k, v in call.keywords) else None
        if layer == "Sequential":
            held = any(not starred and self.owns_parameters(value) for value, starred in call.positional)
            return layer if held else None
        return None

    def is_module_itself(self, expr: Expr) -> bool:
        """`expr` names torch.nn.Module itself, not a subclass."""
        return self.table.is_module_itself(dotted(expr))

    def parameter_class(self, expr: Expr) -> str | None:
        """"Parameter" or "Buffer" (and the like) when `expr` names torch's class of that name."""
        return self.table.parameter_class(dotted(expr))

    def spelling_of(self, qualified_name: str) -> str | None:
        return self.table.spelling_of(qualified_name)


class Screen(FileView[AstClass]):
    """The checked file as the pre-screen sees it: Python's ast."""

    tree: ast.Module

    def __init__(self, table: Table, tree: ast.Module, class_nodes: list[ast.ClassDef], text: str = "") -> None:
        super().__init__(table, [AstClass(info, node) for info, node in zip(table.classes, class_nodes)])
        self.tree = tree
        # The whole file's statements: `tree` may hold only the edited ones (engine.incremental).
        self.whole_tree = tree
        self.text = text  # the source, for a cheap look before walking the tree
        # While engine.focus asks where rules may report: the lines of what they may report on.
        self.hits: list[int] | None = None
        self._call_lines: dict[frozenset[str], list[int]] = {}
        self._line_starts: list[int] | None = None
        self._modules: list[AstClass] | None = None  # the nn.Module classes, once engine.focus asked

    def call_lines(self, names: frozenset[str]) -> list[int]:
        """The lines, in order, on which a call of something whose qualified name ends in one of
        `names` may start: one of them, or a name the file binds to one (`from torch.nn import Linear
        as L`), followed by `(`. A look at the text, so that a screen walks only what may hold one."""
        found = self._call_lines.get(names)
        if found is None:
            spellings = set(names)
            for name in self.table.bindings:
                target = self.table.resolve_parts([name])
                if isinstance(target, str) and target.rsplit(".", 1)[-1] in names:
                    spellings.add(name)
            # No look-behind for a word's start: it would make re try every name at every place.
            pattern = re.compile(r"(?:%s)\s*\(" % "|".join(re.escape(n) for n in sorted(spellings)))
            found = self._call_lines[names] = _lines_of_matches(pattern, self.text)
        return found

    def word_lines(self, word: str) -> list[int]:
        """The lines, in order, on which `word` is written (anywhere: in a longer name too)."""
        key = frozenset({"\0" + word})  # apart from call_lines' keys
        found = self._call_lines.get(key)
        if found is None:
            found = self._call_lines[key] = _lines_of_matches(re.compile(re.escape(word)), self.text, False)
        return found

    def count_between(self, word: str, first: int, last: int) -> int | None:
        """How often `word` is written on lines `first` to `last`; None if the text is not known, or
        not plain ASCII there (Python reads `ｆ` as `f` in a name)."""
        if not self.text:
            return None
        if self._line_starts is None:
            self._line_starts = [0, *(match.end() for match in _BREAKS.finditer(self.text))]
        starts = self._line_starts
        if not 1 <= first <= last <= len(starts):
            return None
        part = self.text[starts[first - 1]:starts[last] if last < len(starts) else len(self.text)]
        return part.count(word) if part.isascii() else None

    def any_module(self, test: Callable[[AstClass], bool]) -> bool:
        """Some nn.Module class passes `test`. Whether a class is a module is asked first: it may mean
        reading other files, but once per base in a run, while the tests walk each class's code, and
        many classes of a model library are not modules (configurations, outputs, tokenizers)."""
        modules = self._modules
        if modules is None:  # engine.focus asks every rule: which classes are modules is worked out once
            modules = self._modules = [cls for cls in self.classes if self.is_module_class(cls)]
        if self.hits is None:
            return any(test(cls) for cls in modules)
        return self.found(cls.node for cls in modules if test(cls))

    def found(self, nodes: Iterable[Node]) -> bool:
        """There is one of `nodes`, each something a rule may report on (or the class or statement
        holding it): all of them are noted while engine.focus asks where."""
        if self.hits is None:
            return any(True for _ in nodes)
        before = len(self.hits)
        self.hits.extend(getattr(node, "lineno", 0) for node in nodes)
        return len(self.hits) > before


class FileModel(FileView[CstClass]):
    """The checked file as the rules see it: libcst's tree, with the table the screen already used."""

    tree: cst.Module

    def __init__(self, table: Table, module: cst.Module, text: str = "", kept: frozenset[int] | None = None) -> None:
        """`kept`: when libcst was given only some classes in full (engine.focus), their places in the
        table; the others are stubs in `module`, and no view of them is given."""
        self.text = text
        nodes: list[cst.ClassDef] = []
        _class_defs(units(module), nodes)
        infos = table.classes if kept is None else [info for i, info in enumerate(table.classes) if i in kept]
        if kept is not None:
            # A stub holds no classes: the n-th kept class is the n-th class that is not a stub.
            stubs = {info.name for i, info in enumerate(table.classes) if i not in kept and info.parent is None}
            nodes = [node for node in nodes if not _is_stub(node, stubs)]
        # The table's walker and this one take the statements in the same order (both through
        # nodes.blocks), so the n-th class is the n-th class statement in both trees.
        if [class_name(node) for node in nodes] != [info.name for info in infos]:
            raise ValueError("libcst's tree and Python's ast disagree on the file's classes")
        super().__init__(table, [CstClass(info, node) for info, node in zip(infos, nodes)])
        self.tree = module


def _is_stub(node: cst.ClassDef, names: set[str]) -> bool:
    # engine.focus writes `class Name: pass` on one line; a kept class of the same name has a real body.
    return node.name.value in names and isinstance(node.body, cst.SimpleStatementSuite) and not node.bases \
        and not node.decorators and len(node.body.body) == 1 and isinstance(node.body.body[0], cst.Pass)


def _class_defs(body: list[Unit], found: list[cst.ClassDef]) -> None:
    for unit in body:
        if isinstance(unit, cst.ClassDef):
            found.append(unit)
            _class_defs(units(unit), found)
        elif isinstance(unit, cst.FunctionDef):
            _class_defs(units(unit), found)
        else:
            for block in blocks(unit):
                _class_defs(block, found)


def holds_line(node: ast.AST, lines: list[int]) -> bool:
    """One of `lines` (in order) is among the node's."""
    first = getattr(node, "lineno", 0)
    index = bisect.bisect_left(lines, first)
    return index < len(lines) and lines[index] <= (getattr(node, "end_lineno", None) or first)


_BREAKS = re.compile(r"\r\n?|\n")  # as Python counts lines


def _lines_of_matches(pattern: re.Pattern[str], text: str, word_start: bool = True) -> list[int]:
    found: list[int] = []
    line, last = 1, 0
    plain = "\r" not in text
    for match in pattern.finditer(text):
        start = match.start()
        if word_start and start and (text[start - 1].isalnum() or text[start - 1] == "_"):
            continue  # inside a longer name
        line += text.count("\n", last, start) if plain else len(_BREAKS.findall(text, last, start))
        last = start
        if not found or found[-1] != line:
            found.append(line)
    return found
