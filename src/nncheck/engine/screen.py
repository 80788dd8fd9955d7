"""The pre-screen: decide from Python's ast, without building libcst's tree, that no rule can report
anything on a file. It must be conservative; tests compare its results with the full analysis."""

from __future__ import annotations

from nncheck.model.views import Screen
from nncheck.engine.rule_set import all_rules
from nncheck.settings import Settings


def cannot_report(screen: Screen, settings: Settings) -> bool:
    return not any(
        rule.might_report(screen) for rule in all_rules() if settings.is_selected(rule.code, rule.default_enabled)
    )
