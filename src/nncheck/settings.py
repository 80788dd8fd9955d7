"""Which codes are reported and which extra base classes count as nn.Module."""

from __future__ import annotations

from dataclasses import dataclass, field


def _longest_match(code: str, prefixes: tuple[str, ...]) -> int:
    return max((len(p) for p in prefixes if code.startswith(p)), default=-1)


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ("NNC",)
    ignore: tuple[str, ...] = ()
    # Qualified names such as "mypkg.layers.Base" to treat as nn.Module.
    module_bases: frozenset[str] = field(default_factory=frozenset)
    # Folders that absolute imports are looked up in, besides the one holding the checked file's top package.
    src_roots: tuple[str, ...] = ()
    # Follow imports into other files of the project to tell which base classes are nn.Modules.
    cross_file: bool = True
    # Skip files that Python's ast shows cannot have findings (see screen.py); off only to test that.
    prescreen: bool = True

    def is_selected(self, code: str, default_enabled: bool = True) -> bool:
        # The more specific prefix wins, as in flake8 and ruff: --select NNC --ignore NNC00 keeps nothing
        # of NNC00x, while --select NNC001 --ignore NNC keeps NNC001. A rule that is off by default
        # must be selected by its full code.
        if not default_enabled and code not in self.select:
            return False
        chosen = _longest_match(code, self.select)
        return chosen >= 0 and chosen > _longest_match(code, self.ignore)
