"""The nn.Module classes of common PyTorch libraries, by every public import path, for when the
library is not installed where nncheck runs (pre-commit's own environment, a lint-only CI job).

Generated from the libraries' wheels by scripts/generate_library_index.py (ast only, no import), one
file per top-level package under data/libraries/, each line a module and the module classes that
module provides. A file is read only when a name of its package is asked about, so checks that never
meet these libraries (and the flake8 path on most files) never load it.
"""

from __future__ import annotations

import functools
from importlib import resources


@functools.cache
def packages() -> frozenset[str]:
    folder = resources.files("nncheck.model.data").joinpath("libraries")
    try:
        return frozenset(entry.name[: -len(".txt")] for entry in folder.iterdir() if entry.name.endswith(".txt"))
    except OSError:  # an installation without the index
        return frozenset()


@functools.cache
def _index(package: str) -> dict[str, frozenset[str]]:
    text = _text(package)
    index: dict[str, frozenset[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            module, *names = line.split()
            index[module] = frozenset(names)
    return index


def is_module(qualified_name: str) -> bool:
    """Is `qualified_name` (such as transformers.BertModel) an nn.Module class of an indexed library?"""
    package = qualified_name.split(".", 1)[0]
    if package not in packages() or "." not in qualified_name:
        return False
    module, name = qualified_name.rsplit(".", 1)
    return name in _index(package).get(module, frozenset())


def versions() -> dict[str, str]:
    """The version each package's index was generated from (its first line says)."""
    found = {}
    for package in packages():
        first = _text(package).split("\n", 1)[0]
        found[package] = first.rsplit(" ", 1)[-1] if first.startswith("#") else "?"
    return found


def _text(package: str) -> str:
    return resources.files("nncheck.model.data").joinpath("libraries").joinpath(f"{package}.txt").read_text("utf-8")
