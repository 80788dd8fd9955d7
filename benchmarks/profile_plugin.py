"""Where the flake8 plugin's time goes, in one process, as one of flake8's workers spends it.

    python benchmarks/profile_plugin.py PATH [--no-cache]

Every Python file under PATH is parsed with Python's ast (as flake8 does; not counted) and handed to
the plugin with its lines, in sorted order, with an empty result cache in a temporary folder (as a
first run). The phases are timed by wrapping the functions that do them (`time.perf_counter`, no
profiler: its overhead would distort the small functions), each counted once where phases nest:

- the pre-screen (`engine.focus`), each rule's `might_report` apart; whether a class is an nn.Module
  is asked first, so the first rule to ask pays for reading other files (below);
- other files' tables (`model.project.read_table`: parse and table of each file an import resolves to);
- the knowledge of values (`Knowledge.of`, outermost calls, inside the screens and the rules);
- the text searches of the screens (`views._lines_of_matches`);
- the file's own table (`engine.checker.build`), libcst (`parse`), the rules on it, positions (`_place`);
- the result cache (`ResultCache.key/get/put`, and the dependencies a result is kept with).
"""

from __future__ import annotations

import argparse
import ast
import collections
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any


def _timed(table: dict[str, float], label: str, function: Callable[..., Any],
           outermost: list[int] | None = None, generator: bool = False) -> Callable[..., Any]:
    if generator:  # a rule's check yields its reports: the time is in taking them
        def taken(*args: Any, **kwargs: Any) -> Iterator[Any]:
            return iter(list(function(*args, **kwargs)))
        return _timed(table, label, taken, outermost)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if outermost is not None:
            outermost[0] += 1
            if outermost[0] > 1:  # a nested call: its time is in the outer one's
                try:
                    return function(*args, **kwargs)
                finally:
                    outermost[0] -= 1
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            table[label] += time.perf_counter() - start
            if outermost is not None:
                outermost[0] -= 1
    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path")
    parser.add_argument("--no-cache", action="store_true", help="as flake8 --nncheck-no-cache")
    args = parser.parse_args()

    import nncheck.engine.checker as checker
    import nncheck.frontends.flake8_plugin as plugin_module
    import nncheck.model.project as project
    import nncheck.model.views as views
    from nncheck.engine.rule_set import all_rules
    from nncheck.files.cache import ResultCache
    from nncheck.model.knowledge import Knowledge

    spent: collections.defaultdict[str, float] = collections.defaultdict(float)
    for rule in all_rules():
        screen = vars(rule)["might_report"].__func__  # the classmethod's function
        setattr(rule, "might_report", classmethod(_timed(spent, f"screen {rule.code}", screen)))
        setattr(rule, "check", _timed(spent, "rules on libcst's tree", rule.check, generator=True))
    wrapped: list[tuple[object, str, str]] = [
        (checker, "focus", "pre-screen (all rules)"), (checker, "build", "the file's table"),
        (checker, "parse", "libcst parse"), (checker, "_place", "positions"),
        (project, "read_table", "other files' tables"), (views, "_lines_of_matches", "screens' text searches"),
        (plugin_module, "check_source", "check_source (all of nncheck's check)"),
        (plugin_module, "dependencies", "result cache: dependencies"), (ResultCache, "key", "result cache: key"),
        (ResultCache, "get", "result cache: get"), (ResultCache, "put", "result cache: put"),
    ]
    for owner, name, label in wrapped:
        setattr(owner, name, _timed(spent, label, getattr(owner, name)))
    setattr(Knowledge, "of", _timed(spent, "knowledge of values", Knowledge.of, [0]))

    root = os.path.abspath(args.path)
    files = sorted(os.path.join(folder, name) for folder, _, names in os.walk(root) for name in names
                   if name.endswith(".py"))
    options = argparse.Namespace(
        nncheck_module_bases=[], nncheck_src=[], nncheck_python="", nncheck_cache_dir=tempfile.mkdtemp(),
        nncheck_no_cache=args.no_cache, select=None, extend_select=None,
    )
    os.chdir(os.path.dirname(root))
    plugin_module.Plugin.parse_options(options)
    parsing: float = 0.0

    def inputs() -> Iterator[tuple[ast.Module, list[str], str]]:
        nonlocal parsing
        for path in files:
            with open(path, encoding="utf-8", errors="surrogateescape") as source:
                text = source.read()
            start = time.perf_counter()
            try:
                tree = ast.parse(text)
            except (SyntaxError, ValueError):
                continue
            finally:
                parsing += time.perf_counter() - start
            yield tree, text.splitlines(True), os.path.relpath(path)

    start = time.perf_counter()
    findings = 0
    for tree, lines, path in inputs():
        findings += sum(1 for _ in plugin_module.Plugin(tree, lines, path).run())
    total = time.perf_counter() - start - parsing
    print(f"{len(files)} files, {findings} findings; the plugin: {total:.2f} s (Python's parse, flake8's, "
          f"left out: {parsing:.2f} s)")
    print("Phases nest: the pre-screen holds the screens, which hold other files' tables, the knowledge of")
    print("values and the text searches; check_source holds all but the result cache.")
    print("| phase | seconds | share of the plugin |\n| --- | --- | --- |")
    for label, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"| {label} | {seconds:.2f} | {100 * seconds / total:.0f}% |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
