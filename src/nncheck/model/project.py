"""Cross-file resolution: is a base class imported from another file of the project an nn.Module?

The imported module's file is found on disk relative to the importing file (relative imports by
package folders; absolute imports from the folder holding the top package, its `src/`, and configured
source roots). Only that file's table is read (with ast; see build.py), never its rules, once per
process, and names are followed transitively through re-exports, with cycles cut.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from nncheck.files.source import SourceError, decode, read_bytes
from nncheck.model.build import read_table
from nncheck.model.table import Resolver, Table

# Packages whose module classes are known from data; their files are never looked for.
_KNOWN_ROOTS = frozenset({"torch", "lightning", "pytorch_lightning", "transformers", "diffusers"})


class Project:
    def __init__(self, extra_bases: frozenset[str] = frozenset(), src_roots: tuple[str, ...] = ()) -> None:
        self._extra_bases = extra_bases
        self._src_roots = tuple(os.path.abspath(root) for root in src_roots)
        self._tables: dict[tuple[str, int, int], Table | None] = {}
        self._in_progress: set[tuple[str, str]] = set()
        # Which paths each file's resolution looked at (found or not): a result cache must see edits,
        # creations and deletions of any of them.
        self._probed: dict[str, set[str]] = {}

    def dependencies(self, path: str) -> list[str]:
        """Every path that resolving `path`'s imports has looked at so far, transitively."""
        seen: set[str] = set()
        todo = [os.path.realpath(path)]
        while todo:
            for probed in self._probed.get(todo.pop(), ()):
                if probed not in seen:
                    seen.add(probed)
                    todo.append(probed)
        return sorted(seen)

    def resolver_for(self, path: str) -> Resolver:
        return lambda qualified_name: self.is_module(path, qualified_name)

    def is_module(self, importer: str, qualified_name: str) -> bool:
        probed = self._probed.setdefault(os.path.realpath(importer), set())
        for file, attributes in self._candidates(importer, qualified_name):
            probed.add(os.path.realpath(file))
            if not os.path.isfile(file):
                continue
            table = self._table(file)
            if table is None:
                continue
            key = (file, ".".join(attributes))
            if key in self._in_progress:
                return False  # an import cycle proves nothing
            self._in_progress.add(key)
            try:
                return table.is_module_path(attributes)
            finally:
                self._in_progress.discard(key)
        return False

    def _table(self, path: str) -> Table | None:
        real = os.path.realpath(path)
        try:
            info = os.stat(real)
        except OSError:
            return None
        # Keyed on what an edit changes, so a long-lived process (the language server) sees base edits.
        key = (real, info.st_mtime_ns, info.st_size)
        if key not in self._tables:
            self._tables[key] = None  # also guards against re-entry while it is being built
            try:
                self._tables[key] = read_table(decode(read_bytes(real)), self._extra_bases, self.resolver_for(real))
            except (SourceError, SyntaxError, ValueError, RecursionError, MemoryError):
                pass  # a file that cannot be read or parsed leaves its names unresolved
        return self._tables[key]

    def _candidates(self, importer: str, qualified_name: str) -> Iterator[tuple[str, list[str]]]:
        """(file, attribute path inside it) for each way of splitting the name, longest module first."""
        dots = len(qualified_name) - len(qualified_name.lstrip("."))
        parts = [p for p in qualified_name[dots:].split(".") if p]
        if not parts:
            return
        if dots:
            folder = os.path.dirname(os.path.abspath(importer))
            for _ in range(dots - 1):
                folder = os.path.dirname(folder)
            roots = [folder]
            shortest = 0  # `from . import Base` reads the package's __init__.py
        else:
            if parts[0] in _KNOWN_ROOTS:
                return
            roots = self._roots(importer)
            shortest = 1
        for root in roots:
            for split in range(len(parts) - 1, shortest - 1, -1):
                module, attributes = parts[:split], parts[split:]
                for file in _module_files(root, module):
                    yield file, attributes

    def _roots(self, importer: str) -> list[str]:
        folder = os.path.dirname(os.path.abspath(importer))
        while os.path.isfile(os.path.join(folder, "__init__.py")):
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
        roots = [folder, os.path.join(folder, "src"), *self._src_roots]
        return [root for index, root in enumerate(roots) if os.path.isdir(root) and root not in roots[:index]]


def _module_files(root: str, module: list[str]) -> list[str]:
    """Where the module would be, whether or not it is there."""
    if not module:
        return [os.path.join(root, "__init__.py")]
    base = os.path.join(root, *module)
    return [base + ".py", os.path.join(base, "__init__.py")]
