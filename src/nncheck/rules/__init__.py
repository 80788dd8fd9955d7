"""The rules. Each module here holds one Rule subclass; dropping in a file adds a rule."""

from __future__ import annotations

import functools
import importlib
import pkgutil

from nncheck.rule import Rule


@functools.cache
def all_rules() -> tuple[type[Rule], ...]:
    found: list[type[Rule]] = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.extend(
            obj
            for obj in vars(module).values()
            if isinstance(obj, type) and issubclass(obj, Rule) and obj is not Rule and obj.__module__ == module.__name__
        )
    return tuple(sorted(found, key=lambda rule: rule.code))
