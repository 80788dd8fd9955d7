"""What every rule is: a class with a code, a message template, documentation and code samples.

A rule's docstring is its user documentation, with the sections "What it finds", "Why is this a bug",
"Example", "Instead" and "Fix". `valid` samples must produce no finding of the rule's code; `invalid`
samples mark each expected finding with a `# NNCxxx` comment on the reported line. The test suite runs
every sample of every rule, so a rule documents and tests itself.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import libcst as cst

from nncheck.findings import rule_url
from nncheck.fix import Fix
from nncheck.model import ClassInfo, FileModel


@dataclass(frozen=True)
class Report:
    """A finding before positions are known: positions are computed only for files that have one.

    A value that is a node is shown in the message as that node's line number.
    """

    node: cst.CSTNode
    code: str
    template: str
    values: dict[str, Any]
    fix: Fix | None = None


@dataclass(frozen=True)
class Screen:
    """What a pre-screen sees: the ast nodes of the file's classes, and the file's model (the same name
    resolution the rules use). Resolving whether a class is an nn.Module may read other files, so a
    screen asks it last: `any_module(cheap_test)`."""

    classes: list[ast.ClassDef]
    model: FileModel
    infos: dict[int, ClassInfo]  # id(ast node) -> the model's class

    def any_module(self, test: Callable[[ast.ClassDef], bool]) -> bool:
        """Some nn.Module class passes `test` (which is tried first)."""
        return any(test(node) and self.model.is_module_class(self.infos[id(node)]) for node in self.classes)

    def builds_module(self, node: ast.expr) -> bool:
        """`node` is a call of a class that is certainly an nn.Module."""
        parts = dotted(node.func) if isinstance(node, ast.Call) else None
        return parts is not None and self.model.is_module_path(parts)

    def resolve(self, node: ast.expr) -> str | None:
        """The qualified name outside this file that `node` names, if it names one."""
        parts = dotted(node)
        target = self.model.resolve_parts(parts) if parts else None
        return target if isinstance(target, str) else None


def dotted(node: ast.expr) -> list[str] | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return [node.id, *reversed(parts)] if isinstance(node, ast.Name) else None


__all__ = ["Report", "Rule", "Screen", "rule_url"]


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]  # a short kebab-case name, for documentation
    message: ClassVar[str]  # a str.format template
    default_enabled: ClassVar[bool] = True  # False: reported only when selected by its full code
    fix_safety: ClassVar[str]  # "safe", "unsafe", "safe or unsafe" (depending on the case) or "none"
    valid: ClassVar[tuple[str, ...]]
    invalid: ClassVar[tuple[str, ...]]

    @classmethod
    def summary(cls) -> str:
        """The docstring's first line."""
        return (cls.__doc__ or "").strip().splitlines()[0]

    @classmethod
    def documentation(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def might_report(cls, screen: Screen) -> bool:
        """The pre-screen: False only if this rule certainly reports nothing on the file, decided from
        Python's ast (flake8 already has it; it is four times cheaper than libcst's tree). A rule
        without one answers True, so it always runs: a screen may only ever save work."""
        return True

    def check(self, model: FileModel) -> Iterator[Report]:
        raise NotImplementedError

    def report(self, node: cst.CSTNode, template: str | None = None, fix: Fix | None = None, **values: Any) -> Report:
        return Report(node, self.code, template or self.message, values, fix)
