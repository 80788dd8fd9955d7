"""The `nncheck` command: find files, check each with the library call, print findings, exit."""

from __future__ import annotations

import argparse
import inspect
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from nncheck import __version__
from nncheck.checker import check_file, check_source
from nncheck.fixing import FileFix, FixResult, fix_file, fix_source
from nncheck.discovery import find_python_files
from nncheck.findings import INTERNAL_ERROR, UNPARSABLE, Finding
from nncheck.output import CHECK, DIFF, FIX, format_finding, summary, unified_diff
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
    add("--extend-select", type=_codes, default=(), metavar="CODES",
        help="codes or prefixes to report on top of --select (e.g. NNC007, which is off by default)")
    add("--ignore", type=_codes, default=(), metavar="CODES", help="comma-separated codes or prefixes not to report")
    add("--exclude", type=_names, default=(), metavar="PATTERNS",
        help="comma-separated glob patterns of files or folders to skip, added to the defaults "
        "(.git, virtualenvs, __pycache__, build, dist, node_modules, ...)")
    add("--module-bases", type=_names, default=(), metavar="NAMES",
        help="comma-separated qualified names of extra base classes that are nn.Modules, e.g. mypkg.layers.Base")
    add("--src", type=_names, default=(), metavar="FOLDERS",
        help="comma-separated folders to look up absolute imports in (besides the one holding the top package)")
    add("--jobs", "-j", type=_positive, default=os.cpu_count() or 1, metavar="N",
        help="processes to check files in (default: all cores)")
    add("--stdin-filename", default=None, metavar="NAME", help="the name to show for source read from stdin")
    add("--fix", action="store_true", help="apply safe fixes to the files and report what is left")
    add("--diff", action="store_true", help="print the fixes as a unified diff instead of applying them")
    add("--unsafe-fixes", action="store_true", help="with --fix or --diff, also apply fixes that may change behaviour")
    add("--explain", type=_rule, default=None, metavar="CODE", help="print a rule's documentation and exit")
    add("--version", action="version", version=f"nncheck {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.explain is not None:
        sys.stdout.write(explain(args.explain))
        return EXIT_CLEAN
    mode = FIX if args.fix else DIFF if args.diff else CHECK
    settings = Settings(
        select=args.select + args.extend_select,
        ignore=args.ignore,
        module_bases=frozenset(args.module_bases),
        src_roots=args.src,
    )
    job = _Job(settings, mode, args.unsafe_fixes)
    status = EXIT_CLEAN
    files: list[str] = []
    outcomes: list[FileFix] = []
    for path in args.paths:
        if path == STDIN:
            outcomes.append(_stdin(args.stdin_filename or STDIN, job))
        elif not os.path.lexists(path):
            print(f"nncheck: error: no such file or folder: {path}", file=sys.stderr)
            status = EXIT_ERROR
        else:
            files.extend(find_python_files([path], args.exclude))
    outcomes.extend(_run(files, job, args.jobs))
    outcomes.sort(key=lambda outcome: outcome.path)
    if _report(outcomes, job, read_stdin=STDIN in args.paths):
        status = EXIT_ERROR
    remaining = [f for o in outcomes for f in o.result.remaining]
    if status == EXIT_ERROR or any(f.code in (UNPARSABLE, INTERNAL_ERROR) for f in remaining):
        return EXIT_ERROR
    if mode == DIFF:
        return EXIT_FINDINGS if any(o.result.changed for o in outcomes) else EXIT_CLEAN
    return EXIT_FINDINGS if remaining else EXIT_CLEAN


def _report(outcomes: list[FileFix], job: _Job, read_stdin: bool) -> bool:
    """Print what was found, fixed or would be fixed; return whether anything could not be written."""
    failed = False
    out = sys.stdout
    findings_out = sys.stderr if job.mode == FIX and read_stdin else out  # stdout carries the fixed source
    for outcome in outcomes:
        result = outcome.result
        if outcome.write_error:
            print(f"nncheck: error: could not write fixes to {outcome.path}: {outcome.write_error}", file=sys.stderr)
            failed = True
        for finding in result.refused:
            print(f"nncheck: {format_finding(finding)} (fix not applied: the rewritten file did not check out)",
                  file=sys.stderr)
        if job.mode == DIFF:
            if result.changed:
                out.write(unified_diff(outcome.path, result.original, result.text))
            continue
        for finding in result.remaining:
            findings_out.write(format_finding(finding) + "\n")
    out.flush()
    print(summary(outcomes, job.mode), file=sys.stderr)
    return failed


def _stdin(name: str, job: _Job) -> FileFix:
    try:
        data = sys.stdin.buffer.read() if sys.stdin is not None else b""
    except (OSError, ValueError) as error:  # stdin closed or unreadable
        failed = Finding(name, 1, 0, UNPARSABLE, f"nncheck could not read stdin: {error}")
        return FileFix(name, FixResult("", "", None, remaining=[failed]))
    if job.mode == CHECK:
        return FileFix(name, FixResult("", "", None, remaining=check_source(data, name, job.settings)))
    result = fix_source(data, name, job.settings, unsafe=job.unsafe)
    if job.mode == FIX:
        # The fixed source goes to stdout, as editors and pipes expect; findings go to stderr.
        sys.stdout.buffer.write(result.encoded() if result.changed else data)
        sys.stdout.flush()
    return FileFix(name, result)


@dataclass(frozen=True)
class _Job:
    settings: Settings
    mode: str
    unsafe: bool


def _one(job: _Job, path: str) -> FileFix:
    if job.mode == CHECK:
        return FileFix(path, FixResult("", "", None, remaining=check_file(path, job.settings)))
    return fix_file(path, job.settings, unsafe=job.unsafe, write=job.mode == FIX)


def _run(files: list[str], job: _Job, jobs: int) -> list[FileFix]:
    if jobs == 1 or len(files) < _MIN_FILES_FOR_WORKERS:
        return [_one(job, path) for path in files]
    chunk = max(1, len(files) // (jobs * 8))
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(job,)) as pool:
        return list(pool.map(_in_worker, files, chunksize=chunk))


_worker_job = _Job(Settings(), CHECK, False)


def _init_worker(job: _Job) -> None:
    global _worker_job
    _worker_job = job


def _in_worker(path: str) -> FileFix:
    return _one(_worker_job, path)
