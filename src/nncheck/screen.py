"""The pre-screen: decide from Python's ast, without building libcst's tree, that no rule can report
anything on a file. It must be conservative; tests compare its results with the full analysis."""

from __future__ import annotations

import ast
from collections.abc import Callable

from nncheck.model import FileModel
from nncheck.rule import Screen
from nncheck.rules import all_rules
from nncheck.settings import Settings
from nncheck.summary import table_of


def cannot_report(
    tree: ast.Module, settings: Settings, resolver: Callable[[str], bool] | None = None
) -> bool:
    table = table_of(tree)
    if not table.classes:
        return True  # every rule is about nn.Module classes
    model = FileModel(None, settings.module_bases, resolver, table)
    infos = {id(table.class_nodes[id(cls)]): cls for cls in table.classes}
    screen = Screen([table.class_nodes[id(cls)] for cls in table.classes], model, infos)
    return not any(
        rule.might_report(screen) for rule in all_rules() if settings.is_selected(rule.code, rule.default_enabled)
    )
