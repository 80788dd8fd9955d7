"""Cross-file resolution: is a base class imported from another file, of the project or of an
installed library, an nn.Module?

The imported module's file is found on disk relative to the importing file (relative imports by
package folders; absolute imports from the folder holding the top package, its `src/`, configured
source roots, and then the import path of the environment the code runs in: see environment.py).
Only that file's table is read (with ast; see build.py), never its rules, once per process, and names
are followed transitively through re-exports, `from x import *` (with or without `__all__`) and
imports under `if TYPE_CHECKING:`, with cycles cut. A library that is not installed is looked up in
the index shipped with nncheck (see library_index.py). torch itself is known from data and never read.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator

from nncheck.files.source import SourceError, decode, read_bytes
from nncheck.model import library_index
from nncheck.model.build import read_table
from nncheck.model.environment import library_roots
from nncheck.model.known_modules import is_known_module
from nncheck.model.table import ClassFinder, Found, Resolver, StarClassFinder, StarResolver, Table

# A name where a statement may bind it: at a line's start, after `,` `(` `[` `:` `;` `=` `*`, or after
# `import`, `as`, `class`, `def`, `for`, `type`, `global`, `nonlocal` (prose in docstrings, such as
# "[`AutoTokenizer`]", is left out, and so are doctest lines, `>>> from x import Name`).
_BINDABLE = re.compile(
    rb"(?:\b(?:import|as|class|def|for|type|global|nonlocal)[ \t]+|^[ \t]*|[,(\[:;=*][ \t]*)([A-Za-z_][A-Za-z0-9_]*)",
    re.MULTILINE,
)
_DOCTEST = re.compile(rb"^[ \t]*(?:>>>|\.\.\.)(?:[ \t].*)?$", re.MULTILINE)
_STAR = re.compile(rb"^[ \t]*from[ \t]+([.\w]+)[ \t]+import[ \t]+\*", re.MULTILINE)
# Packages whose module classes are known from data; their files are never looked for.
_KNOWN_ROOTS = frozenset({"torch"})


class Project:
    def __init__(
        self, extra_bases: frozenset[str] = frozenset(), src_roots: tuple[str, ...] = (), python: str | None = None,
    ) -> None:
        self._extra_bases = extra_bases
        self._src_roots = tuple(os.path.abspath(root) for root in src_roots)
        self._python = python
        self._libraries: tuple[str, ...] | None = None
        self._tables: dict[tuple[str, int, int], Table | None] = {}
        # The text of the file being checked, as just read from the disk, with its stamp from before
        # the read (see read_from_disk): keep_table need not read it again.
        self._just_read: tuple[tuple[str, int, int], str] | None = None
        self._in_progress: set[tuple[str, str]] = set()
        self._root_lists: dict[str, list[str]] = {}
        # Each file's names where they may be bound (None until a name asked is in its text), and the
        # modules of its `from <module> import *` (None: not all understood).
        self._words: dict[tuple[str, int, int], tuple[frozenset[bytes] | None, tuple[str, ...] | None]] = {}
        # Which paths each file's resolution looked at (found or not): a result cache must see edits,
        # creations and deletions of any of them.
        self._probed: dict[str, set[str]] = {}

    def dependencies(self, path: str) -> list[str]:
        """Every path that resolving `path`'s imports has looked at so far, transitively."""
        seen: set[str] = set()
        todo = [_realpath(path)]
        while todo:
            for probed in self._probed.get(todo.pop(), ()):
                if probed not in seen:
                    seen.add(probed)
                    todo.append(probed)
        return sorted(seen)

    def resolver_for(self, path: str) -> Resolver:
        return lambda qualified_name: self.is_module(path, qualified_name)

    def star_resolver_for(self, path: str) -> StarResolver:
        return lambda module, parts: self.is_exported_module(path, module, parts)

    def finders_for(self, path: str) -> tuple[ClassFinder, StarClassFinder]:
        return (lambda qualified_name: self.find_class(path, qualified_name),
                lambda module, parts: self.find_exported_class(path, module, parts))

    def find_class(self, importer: str, qualified_name: str) -> Found | None:
        """The classes `qualified_name`, imported in `importer`, stands for in the file that defines
        them; None if that file is not found (an index of a library knows no class bodies)."""
        probed = self._probed.setdefault(_realpath(importer), set())
        for file, attributes in self._candidates(importer, qualified_name):
            probed.add(_realpath(file))
            if not os.path.isfile(file):
                continue
            table = self._table(file)
            if table is None:
                continue
            key = (file, "class " + ".".join(attributes))
            if key in self._in_progress:
                return None
            self._in_progress.add(key)
            try:
                return table.find(attributes)
            finally:
                self._in_progress.discard(key)
        return None

    def find_exported_class(self, importer: str, module: str, parts: list[str]) -> Found | None:
        """The classes `from <module> import *` in `importer` binds to the name path, as is_exported_module
        asks."""
        probed = self._probed.setdefault(_realpath(importer), set())
        for file in self._module_files_of(importer, module):
            probed.add(_realpath(file))
            if not os.path.isfile(file):
                continue
            if not self._may_bind(file, parts[0]):
                return None
            table = self._table(file)
            key = (file, "class *" + ".".join(parts))
            if table is None or not table.exports_name(parts[0]) or key in self._in_progress:
                return None
            self._in_progress.add(key)
            try:
                return table.find(parts)
            finally:
                self._in_progress.discard(key)
        return None

    def is_module(self, importer: str, qualified_name: str) -> bool:
        probed = self._probed.setdefault(_realpath(importer), set())
        found_any = False
        for file, attributes in self._candidates(importer, qualified_name):
            probed.add(_realpath(file))
            if not os.path.isfile(file):
                continue
            found_any = True
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
        # A library that is not installed here: the index of the common ones knows its public names.
        return not found_any and not qualified_name.startswith(".") and library_index.is_module(qualified_name)

    def is_exported_module(self, importer: str, module: str, parts: list[str]) -> bool:
        """`from <module> import *` in `importer` binds parts[0], and the name path is an nn.Module there."""
        qualified = f"{module}.{'.'.join(parts)}" if not module.endswith(".") else module + ".".join(parts)
        if is_known_module(qualified, self._extra_bases):
            return True
        probed = self._probed.setdefault(_realpath(importer), set())
        dots = len(module) - len(module.lstrip("."))
        for file in self._module_files_of(importer, module):
            probed.add(_realpath(file))
            if not os.path.isfile(file):
                continue
            if not self._may_bind(file, parts[0]):
                return False
            table = self._table(file)
            if table is None or not table.exports_name(parts[0]):
                return False
            key = (file, "*" + ".".join(parts))
            if key in self._in_progress:
                return False
            self._in_progress.add(key)
            try:
                return table.is_module_path(parts)
            finally:
                self._in_progress.discard(key)
        return not dots and library_index.is_module(qualified)

    def _may_bind(self, file: str, name: str, visiting: set[str] | None = None) -> bool:
        # A package's `from .x import *` fans out to hundreds of files (transformers has one per model):
        # a file that never spells the name where a statement could bind it, and whose star imports'
        # files (transitively) never do, cannot provide it, and is not parsed to find that out.
        key = _stamp(file)
        if key is None:
            return False
        real = key[0]
        needle = name.encode()
        words, stars = self._words.get(key, (None, ()))
        if words is not None:
            bound = needle in words
        else:
            try:
                data = read_bytes(real)
            except SourceError:
                return False
            if key not in self._words:
                written = data.count(b"import *")
                stars = tuple(m.decode("ascii", "replace") for m in _STAR.findall(data)) if written else ()
                if written > len(stars):
                    stars = None  # a star import written some other way: it may bind anything
            # The names are read out only once some name asked is in the text at all (most are not).
            if needle in data:
                words = frozenset(_BINDABLE.findall(_DOCTEST.sub(b"", data) if b">>>" in data else data))
            self._words[key] = (words, stars)
            bound = words is not None and needle in words
        if bound or stars is None:
            return True
        visiting = set() if visiting is None else visiting
        if real in visiting:
            return False  # a cycle of star imports adds no name
        visiting.add(real)
        probed = self._probed.setdefault(real, set())  # a result cache must see them change
        for module in stars:
            for star_file in self._module_files_of(real, module):
                probed.add(_realpath(star_file))
                if os.path.isfile(star_file) and self._may_bind(star_file, name, visiting):
                    return True
        return False

    def _module_files_of(self, importer: str, module: str) -> list[str]:
        dots = len(module) - len(module.lstrip("."))
        parts = [p for p in module[dots:].split(".") if p]
        if dots:
            return _module_files(_relative_folder(importer, dots), parts)
        if not parts or parts[0] in _KNOWN_ROOTS:
            return []
        return [file for root in self._roots(importer) for file in _module_files(root, parts)]

    def _table(self, path: str) -> Table | None:
        key = _stamp(path)
        if key is None:
            return None
        real = key[0]
        if key not in self._tables:
            self._tables[key] = None  # also guards against re-entry while it is being built
            try:
                table = read_table(
                    decode(read_bytes(real)), self._extra_bases, self.resolver_for(real), self.star_resolver_for(real),
                    self.finders_for(real),
                )
                table.path = real
                self._tables[key] = table
            except (SourceError, SyntaxError, ValueError, RecursionError, MemoryError):
                pass  # a file that cannot be read or parsed leaves its names unresolved
        return self._tables[key]

    def stamp(self, path: str) -> tuple[str, int, int] | None:
        """What read_from_disk is given: taken before the file is read."""
        return _stamp(path)

    def read_from_disk(self, stamp: tuple[str, int, int] | None, text: str) -> None:
        """`text` is the content of the file `stamp` names, read after the stamp was taken."""
        self._just_read = (stamp, text) if stamp is not None else None

    def keep_table(self, path: str, text: str, table: Table) -> None:
        """Remember the table just built for the checked file `path`, whose source is `text`, if that is
        what the disk holds: a file checked early is often imported by one checked later, and is then
        not parsed again."""
        key = _stamp(path)
        if key is None or key in self._tables or os.path.abspath(path) != key[0]:
            return  # relative imports of a path through a link resolve from the link's folder
        just_read, self._just_read = self._just_read, None
        if just_read is not None and just_read[0] == key and just_read[1] is text:
            # Read after the stamp was taken, which has not changed since: what the disk holds.
            table.path = key[0]
            self._tables[key] = table
            return
        try:
            on_disk = decode(read_bytes(key[0]))
        except SourceError:
            return
        if on_disk == text and _stamp(path) == key:
            table.path = key[0]
            self._tables[key] = table

    def _candidates(self, importer: str, qualified_name: str) -> Iterator[tuple[str, list[str]]]:
        """(file, attribute path inside it) for each way of splitting the name, longest module first."""
        dots = len(qualified_name) - len(qualified_name.lstrip("."))
        parts = [p for p in qualified_name[dots:].split(".") if p]
        if not parts:
            return
        if dots:
            roots = [_relative_folder(importer, dots)]
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
        start = os.path.dirname(os.path.abspath(importer))
        if start not in self._root_lists:
            self._root_lists[start] = self._find_roots(start)
        return self._root_lists[start]

    def _find_roots(self, folder: str) -> list[str]:
        while os.path.isfile(os.path.join(folder, "__init__.py")):
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
        if self._libraries is None:
            self._libraries = library_roots(self._python)
        roots = [folder, os.path.join(folder, "src"), *self._src_roots, *self._libraries]
        return [root for index, root in enumerate(roots) if os.path.isdir(root) and root not in roots[:index]]


def _relative_folder(importer: str, dots: int) -> str:
    """The package folder `from .` (one dot), `from ..` (two), ... names in `importer`."""
    folder = os.path.dirname(os.path.abspath(importer))
    for _ in range(dots - 1):
        folder = os.path.dirname(folder)
    return folder


def _stamp(path: str) -> tuple[str, int, int] | None:
    """The file's real path and what an edit changes: caches key on it, so a long-lived process (the
    language server) sees edits of other files."""
    real = _realpath(path)
    try:
        info = os.stat(real)
    except OSError:
        return None
    return real, info.st_mtime_ns, info.st_size


@functools.lru_cache(maxsize=1 << 16)
def _realpath(path: str) -> str:
    # Asked for the same files over and over (each star import of a library's __init__.py).
    return os.path.realpath(path)


def _module_files(root: str, module: list[str]) -> list[str]:
    """Where the module would be, whether or not it is there."""
    if not module:
        return [os.path.join(root, "__init__.py")]
    base = os.path.join(root, *module)
    return [base + ".py", os.path.join(base, "__init__.py")]
