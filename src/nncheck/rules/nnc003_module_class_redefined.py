from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterator, Sequence

import libcst as cst

from nncheck.model.views import CstClass, FileModel, Screen
from nncheck.rule import FixAvailability, Report, Rule
from nncheck.syntax.cst_queries import names_in
from nncheck.syntax.nodes import blocks, units
from nncheck.syntax.nodes import statements as every_statement


class ModuleClassRedefined(Rule):
    """A module class is defined twice in the same block.

    **What it finds.** A `class X` statement that rebinds the name of an earlier `class X` statement
    in the same statement list (module body, class body, function body or block), where at least one
    of the two is an nn.Module subclass and nothing uses the first class in between (a use in the
    second class's bases, decorators or class body outside its methods, as in `class X(X)`, counts).
    Definitions in different blocks, such as the two arms of an `if` or a `try`/`except`, are not
    reported, and neither is a first class that a decorator, a metaclass or an `__init_subclass__`
    of a base in the same file may keep in a registry. Plain classes defined twice are pyflakes' F811.

    **Why is this a bug.** The second definition silently replaces the first: code that meant the
    first model gets the second, often after copy-pasting a network and forgetting to rename it.

    **Example.**

        class Net(nn.Module):
            def forward(self, x):
                return self.conv(x)

        class Net(nn.Module):
            def __call__(self, x):
                return self.conv(x)

    **Instead.** Give each class its own name, or delete the stale one.

    **Fix.** None: only a person can tell which definition is meant.
    """

    code = "NNC003"
    name = "module-class-redefined"
    fix_availability = FixAvailability.NONE
    message = "class {cls} redefines {cls} from line {line}, which is silently lost; rename or delete one"

    valid = (
        """
from torch import nn

try:
    class Net(nn.Module):
        pass
except ImportError:
    class Net(nn.Module):
        pass
""",
        """
from torch import nn

class Net(nn.Module):
    pass

Net.version = 1

class Net(Net):
    pass

class Wrapped(nn.Module):
    pass

class Wrapped(nn.Module, metaclass=type(Wrapped)):
    pass

class Kept(nn.Module):
    pass

class Kept(nn.Module):
    legacy = Kept
""",
        """
from torch import nn

class Registering(nn.Module):
    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)

class Head(Registering):
    pass

class Head(Registering):
    pass
""",
        """
class Plain:
    pass

class Plain:
    pass
""",
    )
    invalid = (
        """
import torch.nn as nn

class Net(nn.Module):
    pass

class Net(nn.Module):  # NNC003
    def __init__(self):
        super(Net, self).__init__()
""",
        """
import torch.nn as nn

def build():
    class Block(nn.Module):
        pass

    class Block:  # NNC003
        pass

    return Block
""",
    )

    @classmethod
    def might_report(cls, screen: Screen) -> bool:
        names = [cls.name for cls in screen.classes]
        if len(names) == len(set(names)):
            return False
        # The two definitions and every statement between them: libcst must see them all in full,
        # edited or not (a use between keeps the first definition).
        return screen.found(_redefinitions(screen.whole_tree))

    def check(self, model: FileModel) -> Iterator[Report]:
        counts = Counter(cls.name for cls in model.classes)
        if all(count == 1 for count in counts.values()):
            return  # the common case: no class name repeats, nothing to walk
        infos = {id(cls.node): cls for cls in model.classes}
        for statements in _statement_lists(model.tree):
            yield from self._check_block(model, statements, infos)

    def _check_block(
        self, model: FileModel, statements: Sequence[cst.CSTNode], infos: dict[int, CstClass]
    ) -> Iterator[Report]:
        earlier: dict[str, int] = {}
        for index, statement in enumerate(statements):
            if not isinstance(statement, cst.ClassDef):
                continue
            name = statement.name.value
            if name in earlier:
                first = infos[id(statements[earlier[name]])]
                second = infos[id(statement)]
                if self._loses_first(model, first, second, statements[earlier[name] + 1:index]):
                    yield self.report(statement, cls=name, line=first.node)
            earlier[name] = index

    @staticmethod
    def _loses_first(model: FileModel, first: CstClass, second: CstClass, between: Sequence[cst.CSTNode]) -> bool:
        if first.node.decorators or _may_register(model, first):
            return False
        if not (model.is_module_class(first) or model.is_module_class(second)):
            return False
        # The second class's body runs before its name is rebound (`Legacy = Net` there keeps the first);
        # its methods run later and see the second class, so they are not uses.
        uses = [*between, *second.node.bases, *second.node.keywords, *second.node.decorators]
        return first.name not in set(names_in(uses)) and first.name not in set(
            names_in([second.node.body], enter_functions=False)
        )


def _redefinitions(tree: ast.Module) -> Iterator[ast.stmt]:
    """For each class statement that defines a name a class statement of the same block defined
    before, the statements from that one to it."""
    for block in _ast_blocks(tree):
        earlier: dict[str, int] = {}
        for index, statement in enumerate(block):
            if isinstance(statement, ast.ClassDef):
                if statement.name in earlier:
                    yield from block[earlier[statement.name]:index + 1]
                earlier[statement.name] = index


def _ast_blocks(tree: ast.Module) -> Iterator[Sequence[ast.stmt]]:
    yield tree.body
    for node in every_statement(units(tree)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield node.body
        elif isinstance(node, ast.stmt):
            for block in blocks(node):
                yield [s for s in block if isinstance(s, ast.stmt)]


class _BlockCollector(cst.CSTVisitor):
    def __init__(self) -> None:
        self.blocks: list[Sequence[cst.CSTNode]] = []

    def visit_Module(self, node: cst.Module) -> None:
        self.blocks.append(node.body)

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.blocks.append(node.body)


def _statement_lists(module: cst.Module) -> list[Sequence[cst.CSTNode]]:
    collector = _BlockCollector()
    module.visit(collector)
    return collector.blocks


def _may_register(model: FileModel, cls: CstClass) -> bool:
    """A metaclass or an `__init_subclass__` in a base in this file may keep every subclass in a registry."""
    seen: set[int] = set()
    todo = [cls]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if current.has_keywords or current.methods("__init_subclass__"):
            return True
        for base in current.bases:
            target = model.resolve(base)
            if isinstance(target, list):
                todo.extend(target)
    return False
