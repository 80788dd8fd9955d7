"""The `nncheck` command: find files, check each with the library call, print findings, exit.

`nncheck rule CODE` prints a rule's documentation and `nncheck lsp` starts the language server;
everything else checks (or fixes) files.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Iterator, Sequence

from nncheck import __version__
from nncheck.files.cache import ResultCache, default_folder
from nncheck.files.config import ConfigError, Overrides, config_for, excludes_for, python_for, settings_for
from nncheck.files.discovery import DEFAULT_EXCLUDES, find_python_files
from nncheck.files.source import SourceError, read_bytes
from nncheck.findings import FILE_CODES, INTERNAL_ERROR, UNPARSABLE, Finding, FixSafety
from nncheck.fixes.outcome import FileFix, FixResult, Status, checked
from nncheck.frontends.formats import to_github, to_json, to_sarif
from nncheck.frontends.job import DEFAULT_FILE_TIMEOUT, Job, Mode
from nncheck.frontends.options import add_configuration_options, names, overrides_from
from nncheck.frontends.progress import Progress
from nncheck.frontends.runner import Result, TimeUp, run_files, time_limit, timed_out
from nncheck.frontends.statistics import statistics_json, statistics_text
from nncheck.frontends.text import format_finding, noqa_summary, summary, unified_diff

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
STDIN = "-"
FORMATS = ("text", "concise", "json", "sarif", "github")
_MIN_FILES_FOR_WORKERS = 16
FIX_REFUSED = "fix not applied: the rewritten file did not check out"
NOQA_REFUSED = ("no noqa comment added: its line ends inside a string or continues with a backslash "
                "(or, never seen, the file did not check out with the comment)")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds (0 for no limit), got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nncheck",
        description="Find torch.nn.Module subclasses that PyTorch accepts but that are wired wrong. "
        "Also: `nncheck rule [CODE]` (the rules' documentation), `nncheck lsp` (the language server).",
        epilog="Exit status: 0 no findings, 1 findings, 2 usage error or a file that could not be read or parsed "
        "(with --exit-zero: 0 unless a usage error or a write failed).",
    )
    add = parser.add_argument
    add("paths", nargs="*", default=["."], metavar="PATH", help="files or folders to check ('-' for stdin; default: .)")
    add_configuration_options(parser)
    add("--exclude", type=names, default=(), metavar="PATTERNS",
        help="comma-separated glob patterns of files or folders to skip, added to the defaults "
        "(.git, virtualenvs, __pycache__, build, dist, node_modules, ...)")
    add("--output-format", choices=FORMATS, default="text", help="how to print findings (default: text)")
    add("--fix", action="store_true", help="apply safe fixes to the files and report what is left")
    add("--diff", action="store_true",
        help="print the fixes as a unified diff and change nothing (wins over --fix)")
    add("--unsafe-fixes", action="store_true", help="with --fix or --diff, also apply fixes that may change behaviour")
    add("--add-noqa", action="store_true",
        help="add `# noqa: CODE` comments to every line with a finding, so that from then on only new ones are "
        "reported (with --diff: show them and change nothing)")
    add("--statistics", action="store_true",
        help="print how many findings of each code there are, with its name, instead of the findings")
    add("--exit-zero", action="store_true",
        help="exit with status 0 even when there are findings (still 2 for a usage error or a failed write)")
    add("--cache-dir", default=None, metavar="FOLDER",
        help="where to keep results between runs (default: $NNCHECK_CACHE_DIR, else ~/.cache/nncheck)")
    add("--no-cache", action="store_true", help="neither read nor write the result cache")
    add("--jobs", "-j", type=_positive, default=os.cpu_count() or 1, metavar="N",
        help="processes to check files in (default: all cores)")
    add("--file-timeout", type=_seconds, default=DEFAULT_FILE_TIMEOUT, metavar="SECONDS",
        help=f"give up on a file after this long, reporting NNC900 (default: {DEFAULT_FILE_TIMEOUT:g}; 0: no limit)")
    add("--stdin-filename", default=None, metavar="NAME", help="the name to show for source read from stdin")
    add("--version", action="version", version=f"nncheck {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["rule"]:
        from nncheck.frontends.docs import rule_command

        return rule_command(arguments[1:])
    if arguments[:1] == ["lsp"]:
        from nncheck.frontends.lsp import main as lsp_main

        return lsp_main(arguments[1:])
    parser = build_parser()
    args = parser.parse_args(arguments)
    if args.unsafe_fixes and not (args.fix or args.diff):
        parser.error("--unsafe-fixes needs --fix or --diff")
    read_stdin = STDIN in args.paths
    conflict = _conflict(args, read_stdin)
    if conflict is not None:
        print(f"nncheck: error: {conflict}", file=sys.stderr)
        return EXIT_ERROR
    if args.stdin_filename is not None and not read_stdin:
        # Without `-` nothing is read from stdin: the current folder would be checked instead, silently.
        print("nncheck: error: --stdin-filename names the source read from stdin: add '-' to the paths "
              "(nncheck - --stdin-filename NAME)", file=sys.stderr)
        return EXIT_ERROR
    overrides = overrides_from(args)
    # --diff wins over --fix, as in ruff: asking to see the changes never writes them.
    mode = Mode.DIFF if args.diff else Mode.FIX if args.fix or args.add_noqa else Mode.CHECK
    cache = None if args.no_cache else ResultCache(args.cache_dir or default_folder())
    job = Job(overrides, mode, args.unsafe_fixes, args.file_timeout, noqa=args.add_noqa, cached=cache is not None)
    missing = [path for path in args.paths if path != STDIN and not os.path.lexists(path)]
    if missing:
        # A usage error: nothing is checked, so nothing is summed up.
        for path in missing:
            print(f"nncheck: error: no such file or folder: {path}", file=sys.stderr)
        return EXIT_ERROR
    stdin_name = args.stdin_filename or STDIN
    files: list[str] = []
    try:
        for path in args.paths:
            if path != STDIN:
                files.extend(_discover(path, args.exclude, overrides))
        files = _once_each(files)
        _validate_configuration([*files, *([_stdin_path(stdin_name)] if read_stdin else [])], overrides)
    except ConfigError as error:
        print(f"nncheck: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    if not files and not read_stdin:
        # Exit status 0 all the same, as ruff's: but a mistyped folder or a too wide exclude must show.
        print(f"nncheck: warning: no Python files or notebooks found under {', '.join(args.paths)}", file=sys.stderr)
    outcomes = [_stdin(stdin_name, job)] if read_stdin else []
    outcomes.extend(_run(files, job, args.jobs, cache))
    outcomes.sort(key=lambda outcome: outcome.path)
    failed_writes = _report(outcomes, job, args.output_format, read_stdin=read_stdin, statistics=args.statistics)
    remaining = [f for o in outcomes for f in o.result.remaining]
    if failed_writes:
        return EXIT_ERROR
    if args.exit_zero:
        # As flake8's and ruff's: whatever was reported, files that could not be checked included.
        return EXIT_CLEAN
    if any(f.code in FILE_CODES for f in remaining):
        return EXIT_ERROR
    if mode is Mode.DIFF:
        return EXIT_FINDINGS if any(o.result.changed for o in outcomes) else EXIT_CLEAN
    return EXIT_FINDINGS if remaining else EXIT_CLEAN


def _conflict(args: argparse.Namespace, read_stdin: bool) -> str | None:
    """Options that ask for two different things at once: what to say about it, in one line."""
    if args.add_noqa and args.fix:
        return "--add-noqa and --fix cannot be combined: fix first, then silence what is left"
    if args.add_noqa and args.unsafe_fixes:
        return "--unsafe-fixes does not apply to --add-noqa, which fixes nothing"
    if args.add_noqa and read_stdin:
        return "--add-noqa writes the files it is given; it cannot take stdin ('-')"
    if args.statistics and (args.diff or args.add_noqa):
        return f"--statistics counts findings; {'--diff' if args.diff else '--add-noqa'} does not report them"
    if args.statistics and args.output_format not in ("text", "concise", "json"):
        return f"--statistics prints a table (text, concise) or JSON, not --output-format {args.output_format}"
    return None


def _discover(path: str, cli_excludes: tuple[str, ...], overrides: Overrides) -> Iterator[str]:
    exclude, extend_exclude, base = excludes_for(os.path.join(path, "x") if os.path.isdir(path) else path, overrides)
    defaults = DEFAULT_EXCLUDES if exclude is None else exclude
    return find_python_files([path], extend_exclude + cli_excludes, defaults=defaults, base=base)


def _once_each(files: list[str]) -> list[str]:
    """Each file once, as first named: `nncheck m.py ./m.py` checks one file."""
    seen: set[str] = set()
    kept = []
    for path in files:
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            kept.append(path)
    return kept


def _validate_configuration(files: Iterable[str], overrides: Overrides) -> None:
    # Every configuration file that will be used is read once here, so a bad one stops the run with
    # one line before any checking, rather than in a worker; so does an interpreter named in one (or
    # with --python) that cannot be used, named as the user named it (see frontends/interpreter.py).
    from nncheck.frontends.interpreter import problem

    pythons: set[tuple[str, str]] = set()
    for folder in sorted({os.path.dirname(os.path.abspath(f)) for f in files}):
        config_for(os.path.join(folder, "x.py"), overrides)
        python, where = python_for(os.path.join(folder, "x.py"), overrides)
        if python is not None:
            pythons.add((python, where))
    for python, where in sorted(pythons):
        found = problem(python, where)
        if found is not None:
            raise ConfigError(found)


def _report(outcomes: list[FileFix], job: Job, output_format: str, read_stdin: bool, statistics: bool) -> bool:
    """Print what was found, fixed or would be fixed; return whether anything could not be written."""
    failed = False
    out = sys.stdout
    findings_out = sys.stderr if job.mode is Mode.FIX and read_stdin else out  # stdout carries the fixed source
    for outcome in outcomes:
        if outcome.write_error:
            what = "noqa comments" if job.noqa else "fixes"
            print(f"nncheck: error: could not write {what} to {outcome.path}: {outcome.write_error}", file=sys.stderr)
            failed = True
        for finding in outcome.result.refused:
            print(f"nncheck: {format_finding(finding)} ({NOQA_REFUSED if job.noqa else FIX_REFUSED})", file=sys.stderr)
    remaining = [f for o in outcomes for f in o.result.remaining]
    if job.mode is Mode.DIFF:
        for outcome in outcomes:
            if outcome.result.changed:
                out.write(unified_diff(outcome.path, outcome.result.original, outcome.result.text))
    elif statistics:
        findings_out.write(statistics_json(remaining) if output_format == "json" else statistics_text(remaining))
    elif output_format == "json":
        findings_out.write(to_json(remaining))
    elif output_format == "sarif":
        findings_out.write(to_sarif(remaining))
    elif output_format == "github":
        findings_out.write(to_github(remaining))
    else:
        markers = output_format == "text"
        for finding in remaining:
            findings_out.write(format_finding(finding, markers=markers) + "\n")
    out.flush()
    if job.noqa:
        print(noqa_summary(outcomes, job.mode), file=sys.stderr)
    elif output_format in ("text", "github") or job.mode is not Mode.CHECK:
        print(summary(outcomes, job.mode, job.unsafe), file=sys.stderr)
    return failed


def _stdin_path(name: str) -> str:
    """Where source read from stdin is taken to be, for its configuration."""
    return name if name != STDIN else "stdin.py"


def _stdin(name: str, job: Job) -> FileFix:
    try:
        if sys.stdin is None:  # started with standard input closed
            raise OSError("it is closed")
        data = sys.stdin.buffer.read()
    except (OSError, ValueError) as error:
        failed = Finding(name, 1, 0, UNPARSABLE, f"nncheck could not read stdin: {error}")
        return FileFix(name, FixResult("", "", None, remaining=[failed]))
    from nncheck.engine.checker import check_source
    from nncheck.fixes.fixer import fix_source

    settings = settings_for(_stdin_path(name), job.overrides)
    try:
        with time_limit(job.file_timeout):
            if job.mode is Mode.CHECK:
                return checked(name, check_source(data, name, settings))
            result = fix_source(data, name, settings, unsafe=job.unsafe)
        status = Status.DONE
    except TimeUp:
        result, status = timed_out(name, job.file_timeout).result, Status.TIMED_OUT
    except Exception as error:  # as for files: a bug in nncheck is reported, not raised
        message = f"internal error in nncheck: {type(error).__name__}: {error}"
        result = FixResult("", "", None, remaining=[Finding(name, 1, 0, INTERNAL_ERROR, message)])
        status = Status.CRASHED
    if job.mode is Mode.FIX:
        # The fixed source goes to stdout, as editors and pipes expect; findings go to stderr.
        sys.stdout.buffer.write(result.encoded() if result.changed else data)
        sys.stdout.flush()
    return FileFix(name, result, status=status)


def _run(files: list[str], job: Job, jobs: int, cache: ResultCache | None) -> list[FileFix]:
    done: dict[str, FileFix] = {}
    keys: dict[str, str] = {}
    if cache is not None:
        for path in files:
            key = _cache_key(cache, path, job)
            found = cache.get(key, path) if key else None
            if found is not None and not _has_fixes(found, job):
                # Nothing that this run could fix: what the cache says is all there is to report.
                done[path] = checked(path, found)
            elif key:
                keys[path] = key
    todo = [path for path in files if path not in done]
    progress = Progress(len(todo))
    # --fix rewrites files that others' findings may depend on, perhaps after a worker read them: the
    # entries of this run are kept only if they depend on none of the files it changed.
    later: list[tuple[str, list[Finding], list[str]]] = []
    changed: set[str] = set()

    def record(path: str, result: Result) -> None:
        outcome, depends_on = result
        done[path] = outcome
        if cache is not None and path in keys and outcome.is_final and not outcome.write_error:
            key: str | None = keys[path]
            if outcome.result.changed:
                # With --fix, what is left is what the file now holds: the next run needs no work on it.
                # (--diff changed nothing: the entry it found, whose findings have fixes, stands.)
                changed.add(os.path.realpath(path))
                key = _cache_key(cache, path, job, outcome.result.encoded()) if job.mode is Mode.FIX else None
            if key and job.mode is Mode.FIX:
                later.append((key, outcome.result.remaining, depends_on))
            elif key:
                cache.put(key, outcome.result.remaining, depends_on)
        progress.advance()

    # Below _MIN_FILES_FOR_WORKERS files, starting worker processes costs more than it saves.
    run_files(todo, job, 1 if len(todo) < _MIN_FILES_FOR_WORKERS else jobs, record)
    progress.done()
    if cache is not None:
        for key, findings, depends_on in later:
            if not changed.intersection(os.path.realpath(p) for p in depends_on):
                cache.put(key, findings, depends_on)
        if todo:
            cache.prune()
    return [done[path] for path in files]


def _has_fixes(findings: list[Finding], job: Job) -> bool:
    """Whether fixing could change a file with these findings, as this run fixes."""
    if job.mode is Mode.CHECK:
        return False
    if job.noqa:
        return any(f.code not in FILE_CODES for f in findings)
    return any(f.fix is FixSafety.SAFE or (f.fix is FixSafety.UNSAFE and job.unsafe) for f in findings)


def _cache_key(cache: ResultCache, path: str, job: Job, data: bytes | None = None) -> str | None:
    if data is None:
        try:
            data = read_bytes(path)
        except SourceError:
            return None  # the check itself reports what is wrong with the file
    return cache.key(path, data, settings_for(path, job.overrides))
