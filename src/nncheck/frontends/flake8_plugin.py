"""The flake8 front end: flake8 hands over the file's lines; the library call does the rest.

Results are kept in the command's result cache (files/cache.py): keyed by the file's content and the
settings, and valid while every file its cross-file resolution read is unchanged. flake8's worker
processes and its runs share it, so a file flake8 checks again unchanged costs a hash and one read.
What a worker keeps for the rest of its run is hidden from the collector's passes (collector.py)."""

from __future__ import annotations

import argparse
import ast
import multiprocessing
import os
import sys
from collections.abc import Iterator
from typing import Any

from nncheck import __version__
from nncheck.engine.checker import check_source, dependencies
from nncheck.engine.collector import LongLivedTables
from nncheck.files.cache import ResultCache, default_folder
from nncheck.findings import INTERNAL_ERROR, Finding
from nncheck.engine.rule_set import all_rules
from nncheck.frontends.interpreter import fallback_warning, problem
from nncheck.settings import Settings


class Plugin:
    name = "nncheck"
    version = __version__
    settings = Settings(select=tuple(rule.code for rule in all_rules() if rule.default_enabled))
    cache: ResultCache | None = None
    long_lived = LongLivedTables()  # one per worker process: other files' tables, kept for the run

    def __init__(self, tree: ast.AST, lines: list[str], filename: str) -> None:
        # flake8's own ast tree feeds the pre-screen; only files that may have findings reach libcst.
        self._tree = tree
        self._lines = lines
        self._filename = filename

    @classmethod
    def add_options(cls, parser: Any) -> None:
        parser.add_option(
            "--nncheck-module-bases",
            default="",
            parse_from_config=True,
            comma_separated_list=True,
            help="Qualified names of extra base classes that are nn.Modules (e.g. mypkg.layers.Base).",
        )
        parser.add_option(
            "--nncheck-src",
            default="",
            parse_from_config=True,
            comma_separated_list=True,
            help="Folders to look up absolute imports in, besides the one holding the top package "
            "(default: the current folder and its src/).",
        )
        parser.add_option(
            "--nncheck-python",
            default="",
            parse_from_config=True,
            help="The Python interpreter whose installed libraries imported base classes are read from "
            "(default: the one flake8 runs under; one that cannot be run is warned about, and the default used).",
        )
        parser.add_option(
            "--nncheck-cache-dir",
            default="",
            parse_from_config=True,
            help="Where nncheck keeps results between runs (default: $NNCHECK_CACHE_DIR, else ~/.cache/nncheck).",
        )
        parser.add_option(
            "--nncheck-no-cache",
            action="store_true",
            parse_from_config=True,
            help="nncheck neither reads nor writes its result cache.",
        )
        parser.extend_default_ignore([rule.code for rule in all_rules() if not rule.default_enabled])

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        # flake8 does the selecting and the noqa handling itself; nncheck only skips the work of rules
        # that are off by default (flake8 shows them only when selected by their full code, too).
        named = {*(getattr(options, "select", None) or ()), *(getattr(options, "extend_select", None) or ())}
        cls.settings = Settings(
            select=tuple(r.code for r in all_rules() if r.default_enabled or r.code in named),
            module_bases=frozenset(options.nncheck_module_bases or ()),
            # As the command: the current folder and its src/ unless folders are named.
            src_roots=tuple(options.nncheck_src or (os.getcwd(), os.path.join(os.getcwd(), "src"))),
            python=_usable_python(options.nncheck_python or None),
        )
        cls.cache = None if options.nncheck_no_cache else ResultCache(options.nncheck_cache_dir or default_folder())
        if cls.cache is not None:
            cls.cache.prune_now_and_then()

    def run(self) -> Iterator[tuple[int, int, str, type[Plugin]]]:
        source = "".join(self._lines)
        tree = self._tree if isinstance(self._tree, ast.Module) else None
        try:
            findings = self._findings(source, tree)
        except Exception as error:  # flake8 shows nothing at all for any file when a plugin raises
            message = f"{INTERNAL_ERROR} internal error in nncheck: {type(error).__name__}: {error}"
            yield 1, 0, message, type(self)
            return
        for finding in findings:
            yield finding.line, finding.col, f"{finding.code} {finding.message}", type(self)

    def _findings(self, source: str, tree: ast.Module | None) -> list[Finding]:
        cache, path = self.cache, self._filename
        key = cache.key(path, source.encode("utf-8", "surrogatepass"), self.settings, "flake8") if cache else ""
        found = cache.get(key, path) if cache else None
        if found is not None:
            return found
        findings = check_source(source, path, self.settings, honour_noqa=False, tree=tree)
        self.long_lived.checked(len(self._lines))
        if cache is not None and not any(f.code == INTERNAL_ERROR for f in findings):  # a bug may be fixed
            cache.put(key, findings, dependencies(path, self.settings))
        return findings


def _usable_python(python: str | None) -> str | None:
    """The interpreter named with --nncheck-python, or None (flake8's own) if it cannot be used: then a
    warning says so once, on stderr, and flake8's run goes on (see frontends/interpreter.py)."""
    if python is None:
        return None
    given = any(a == "--nncheck-python" or a.startswith("--nncheck-python=") for a in sys.argv[1:])
    found = problem(python, "--nncheck-python" if given else "nncheck-python (flake8's configuration)")
    if found is None:
        return python
    # flake8's worker processes parse the options again where they are not forked: they stay quiet.
    if multiprocessing.parent_process() is None:
        print(f"nncheck: warning: {fallback_warning(found, 'flake8')}", file=sys.stderr)
    return None
