"""The rules: every module of the nncheck.rules package holds one Rule subclass, found by listing the
package, so dropping in a file adds a rule and no registry is kept by hand."""

from __future__ import annotations

import functools
import importlib
import pkgutil
from typing import TYPE_CHECKING

import nncheck.rules

if TYPE_CHECKING:
    from nncheck.rule import Rule
    from nncheck.settings import Settings


@functools.cache
def all_rules() -> tuple[type[Rule], ...]:
    from nncheck.rule import Rule

    found: list[type[Rule]] = []
    for info in pkgutil.iter_modules(nncheck.rules.__path__):
        module = importlib.import_module(f"nncheck.rules.{info.name}")
        found.extend(
            obj
            for obj in vars(module).values()
            if isinstance(obj, type) and issubclass(obj, Rule) and obj is not Rule and obj.__module__ == module.__name__
        )
    return tuple(sorted(found, key=lambda rule: rule.code))


@functools.lru_cache(maxsize=64)
def selected_rules(settings: Settings) -> tuple[type[Rule], ...]:
    """The rules the settings turn on, in code order: asked for every file, decided once per settings."""
    return tuple(rule for rule in all_rules() if settings.is_selected(rule.code, rule.default_enabled))


@functools.cache
def rule_codes() -> tuple[str, ...]:
    """The codes, from the rule files' names (nnc001_call_overridden.py holds NNC001) without importing
    them: a fully cached run never needs libcst. A test checks the names match the classes."""
    return tuple(sorted(info.name[:6].upper() for info in pkgutil.iter_modules(nncheck.rules.__path__)))


@functools.cache
def rule_names() -> dict[str, str]:
    """Each rule's name by its code, from the file names as rule_codes() reads them (nnc001_call_overridden.py
    is NNC001, call-overridden)."""
    return {
        info.name[:6].upper(): info.name[7:].replace("_", "-")
        for info in pkgutil.iter_modules(nncheck.rules.__path__)
    }
