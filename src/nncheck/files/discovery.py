"""Find the Python files and Jupyter notebooks to check under the paths given on the command line."""

from __future__ import annotations

import fnmatch
import functools
import os
import re
from collections.abc import Callable, Iterable, Iterator

SUFFIXES = (".py", ".ipynb")
DEFAULT_EXCLUDES = (
    ".git", ".hg", ".svn", ".bzr", "__pycache__", ".venv", "venv", ".tox", ".nox", ".eggs", "*.egg-info",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", "build", "dist", "node_modules", "site-packages",
    ".ipynb_checkpoints",
)


def _excluded(path: str, patterns: tuple[str, ...], base: str | None = None) -> bool:
    if not patterns:
        return False
    matches = _matcher(patterns)
    if matches(os.path.normcase(os.path.basename(path))) or matches(os.path.normcase(path)):
        return True
    return bool(base) and bool(matches(os.path.normcase(
        os.path.relpath(os.path.abspath(path), base).replace(os.sep, "/"))))


@functools.lru_cache(maxsize=64)
def _matcher(patterns: tuple[str, ...]) -> Callable[[str], re.Match[str] | None]:
    # fnmatch's rules, all patterns in one expression: a big tree has thousands of names to try.
    return re.compile("|".join(f"(?:{fnmatch.translate(os.path.normcase(p))})" for p in patterns)).match


def _is_virtualenv(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "pyvenv.cfg"))


def find_python_files(
    paths: Iterable[str],
    excludes: Iterable[str] = (),
    *,
    defaults: tuple[str, ...] = DEFAULT_EXCLUDES,
    base: str | None = None,
) -> Iterator[str]:
    """Files named on the command line are always taken unless the user excludes them; folders are
    walked for *.py and *.ipynb files. `defaults` are skipped too (a configuration's `exclude` replaces them);
    patterns match a name, the path, or the path relative to `base` (the configuration's folder).
    Symlinked folders are not followed (no loops); virtualenvs are recognised by their pyvenv.cfg."""
    user = tuple(excludes)
    patterns = defaults + user
    for path in paths:
        if not os.path.isdir(path):
            if not _excluded(os.path.normpath(path), user, base):
                yield path
            continue
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(
                d for d in dirs
                if not _excluded(os.path.normpath(os.path.join(root, d)), patterns, base)
                and not os.path.islink(os.path.join(root, d))
                and not _is_virtualenv(os.path.join(root, d))
            )
            for name in sorted(files):
                full = os.path.normpath(os.path.join(root, name))
                if name.endswith(SUFFIXES) and not _excluded(full, patterns, base):
                    yield full
