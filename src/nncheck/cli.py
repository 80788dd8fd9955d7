"""The `nncheck` command: find files, check each with the library call, print findings, exit."""

from __future__ import annotations

import argparse
import inspect
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from nncheck import __version__
from nncheck.checker import check_file, check_source
from nncheck.discovery import find_python_files
from nncheck.findings import INTERNAL_ERROR, UNPARSABLE, Finding
from nncheck.output import format_finding, summary
from nncheck.rule import Rule
from nncheck.rules import all_rules
from nncheck.settings import Settings

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
STDIN = "-"
_CODE_PREFIX = "NNC"
# Below this many files, starting worker processes costs more than it saves.
_MIN_FILES_FOR_WORKERS = 16


def _codes(text: str) -> tuple[str, ...]:
    codes = tuple(c.strip().upper() for c in text.split(",") if c.strip())
    known = [rule.code for rule in all_rules()] + [UNPARSABLE, INTERNAL_ERROR]
    for code in codes:
        if not any(k.startswith(code) for k in known):
            raise argparse.ArgumentTypeError(f"unknown code or prefix {code!r} (codes are {', '.join(known)})")
    return codes


def _rule(text: str) -> type[Rule]:
    for rule in all_rules():
        if rule.code == text.strip().upper():
            return rule
    raise argparse.ArgumentTypeError(f"unknown rule {text!r} (rules are {', '.join(r.code for r in all_rules())})")


def explain(rule: type[Rule]) -> str:
    body = inspect.cleandoc(rule.__doc__ or "")
    return f"{rule.code} ({rule.name})\n\n{body}\n"


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nncheck",
        description="Find torch.nn.Module subclasses that PyTorch accepts but that are wired wrong.",
        epilog="Exit status: 0 no findings, 1 findings, 2 usage error or a file that could not be read or parsed.",
    )
    add = parser.add_argument
    add("paths", nargs="*", default=["."], metavar="PATH", help="files or folders to check ('-' for stdin; default: .)")
    add("--select", type=_codes, default=(_CODE_PREFIX,), metavar="CODES",
        help="comma-separated codes or prefixes to report (default: NNC)")
    add("--ignore", type=_codes, default=(), metavar="CODES", help="comma-separated codes or prefixes not to report")
    add("--exclude", type=_names, default=(), metavar="PATTERNS",
        help="comma-separated glob patterns of files or folders to skip, added to the defaults "
        "(.git, virtualenvs, __pycache__, build, dist, node_modules, ...)")
    add("--module-bases", type=_names, default=(), metavar="NAMES",
        help="comma-separated qualified names of extra base classes that are nn.Modules, e.g. mypkg.layers.Base")
    add("--jobs", "-j", type=_positive, default=os.cpu_count() or 1, metavar="N",
        help="processes to check files in (default: all cores)")
    add("--stdin-filename", default=None, metavar="NAME", help="the name to show for source read from stdin")
    add("--explain", type=_rule, default=None, metavar="CODE", help="print a rule's documentation and exit")
    add("--version", action="version", version=f"nncheck {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.explain is not None:
        sys.stdout.write(explain(args.explain))
        return EXIT_CLEAN
    settings = Settings(select=args.select, ignore=args.ignore, module_bases=frozenset(args.module_bases))
    status = EXIT_CLEAN
    findings: list[Finding] = []
    files: list[str] = []
    for path in args.paths:
        if path == STDIN:
            findings.extend(_check_stdin(args.stdin_filename or STDIN, settings))
            files.append(STDIN)
        elif not os.path.lexists(path):
            print(f"nncheck: error: no such file or folder: {path}", file=sys.stderr)
            status = EXIT_ERROR
        else:
            files.extend(find_python_files([path], args.exclude))
    findings.extend(_check_files([f for f in files if f != STDIN], settings, args.jobs))
    findings.sort()
    out = sys.stdout
    for finding in findings:
        out.write(format_finding(finding) + "\n")
    out.flush()
    print(summary(findings, len(files)), file=sys.stderr)
    if status == EXIT_ERROR or any(f.code in (UNPARSABLE, INTERNAL_ERROR) for f in findings):
        return EXIT_ERROR
    return EXIT_FINDINGS if findings else EXIT_CLEAN


def _check_stdin(name: str, settings: Settings) -> list[Finding]:
    try:
        data = sys.stdin.buffer.read() if sys.stdin is not None else b""
    except (OSError, ValueError) as error:  # stdin closed or unreadable
        return [Finding(name, 1, 0, UNPARSABLE, f"nncheck could not read stdin: {error}")]
    return check_source(data, name, settings)


def _check_files(files: list[str], settings: Settings, jobs: int) -> list[Finding]:
    if jobs == 1 or len(files) < _MIN_FILES_FOR_WORKERS:
        return [f for path in files for f in check_file(path, settings)]
    chunk = max(1, len(files) // (jobs * 8))
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(settings,)) as pool:
        return [f for result in pool.map(_check_in_worker, files, chunksize=chunk) for f in result]


_worker_settings = Settings()


def _init_worker(settings: Settings) -> None:
    global _worker_settings
    _worker_settings = settings


def _check_in_worker(path: str) -> list[Finding]:
    return check_file(path, _worker_settings)
