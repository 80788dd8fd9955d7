"""Which codes are reported and which extra base classes count as nn.Module."""

from __future__ import annotations

from dataclasses import dataclass, field


def _longest_match(code: str, prefixes: tuple[str, ...]) -> int:
    return max((len(p) for p in prefixes if code.startswith(p)), default=-1)


@dataclass(frozen=True)
class Selection:
    """One source of code selection applied on top of what came before it (the configuration file, then
    the command line, then a per-file ignore), as ruff layers them. `select` starts afresh; without it,
    the codes already on stay on unless this layer ignores them, and `extend_select` adds."""

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    def applied(self, on: bool, code: str, default_enabled: bool) -> bool:
        named = (self.select or ()) + self.extend_select
        if default_enabled or code in named:
            chosen = _longest_match(code, named)
        else:
            chosen = -1  # a rule off by default is turned on only by its full code
        if self.select is None and on:
            chosen = max(chosen, 0)  # carried over: any ignore of this layer is more specific
        # The more specific prefix wins, as in flake8 and ruff: select NNC with ignore NNC00 keeps nothing
        # of NNC00x, while select NNC001 with ignore NNC keeps NNC001.
        return chosen >= 0 and chosen > _longest_match(code, self.ignore)


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ("NNC",)
    ignore: tuple[str, ...] = ()
    # Applied in order after select/ignore: the command line over the configuration, per-file ignores.
    layers: tuple[Selection, ...] = ()
    # Qualified names such as "mypkg.layers.Base" to treat as nn.Module.
    module_bases: frozenset[str] = field(default_factory=frozenset)
    # Folders that absolute imports are looked up in, besides the one holding the checked file's top package.
    src_roots: tuple[str, ...] = ()
    # The Python interpreter whose installed libraries imports are looked up in; None: nncheck's own.
    python: str | None = None
    # Follow imports into other files of the project to tell which base classes are nn.Modules.
    cross_file: bool = True
    # Skip files (and, for findings alone, classes) that Python's ast shows cannot have findings (see
    # engine/focus.py); off only to test that.
    prescreen: bool = True

    def is_selected(self, code: str, default_enabled: bool = True) -> bool:
        on = Selection(self.select, (), self.ignore).applied(False, code, default_enabled)
        for layer in self.layers:
            on = layer.applied(on, code, default_enabled)
        return on
