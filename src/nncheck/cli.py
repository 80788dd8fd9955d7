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
from nncheck.cache import ResultCache, default_folder
from nncheck.config import ConfigError, Overrides, check_codes, config_for, excludes_for, settings_for
from nncheck.discovery import DEFAULT_EXCLUDES, find_python_files
from nncheck.findings import FILE_CODES, INTERNAL_ERROR, UNPARSABLE, Finding
from nncheck.formats import to_github, to_json, to_sarif
from nncheck.outcome import FileFix, FixResult, checked
from nncheck.output import CHECK, DIFF, FIX, format_finding, summary, unified_diff
from nncheck.progress import Progress
from nncheck.runner import DEFAULT_FILE_TIMEOUT, Job, Result, TimeUp, is_final, run_files, time_limit, timed_out
from nncheck.source import SourceError, read_bytes

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
STDIN = "-"
FORMATS = ("text", "concise", "json", "sarif", "github")
_MIN_FILES_FOR_WORKERS = 16


def _codes(text: str) -> tuple[str, ...]:
    try:
        return check_codes(tuple(text.split(",")), "codes")
    except ConfigError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("codes: ")) from None


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
        "Also: `nncheck rule CODE` (a rule's documentation), `nncheck lsp` (the language server).",
        epilog="Exit status: 0 no findings, 1 findings, 2 usage error or a file that could not be read or parsed.",
    )
    add = parser.add_argument
    add("paths", nargs="*", default=["."], metavar="PATH", help="files or folders to check ('-' for stdin; default: .)")
    add("--select", type=_codes, default=None, metavar="CODES",
        help="comma-separated codes or prefixes to report (default: NNC)")
    add("--extend-select", type=_codes, default=(), metavar="CODES",
        help="codes or prefixes to report on top of --select (e.g. NNC007, which is off by default)")
    add("--ignore", type=_codes, default=None, metavar="CODES", help="comma-separated codes or prefixes not to report")
    add("--exclude", type=_names, default=(), metavar="PATTERNS",
        help="comma-separated glob patterns of files or folders to skip, added to the defaults "
        "(.git, virtualenvs, __pycache__, build, dist, node_modules, ...)")
    add("--module-bases", type=_names, default=None, metavar="NAMES",
        help="comma-separated qualified names of extra base classes that are nn.Modules, e.g. mypkg.layers.Base")
    add("--src", type=_names, default=None, metavar="FOLDERS",
        help="comma-separated folders to look up absolute imports in (besides the one holding the top package)")
    add("--config", default=None, metavar="FILE", help="read [tool.nncheck] from this file, not the nearest one")
    add("--isolated", action="store_true", help="ignore all configuration files")
    add("--output-format", choices=FORMATS, default="text", help="how to print findings (default: text)")
    add("--fix", action="store_true", help="apply safe fixes to the files and report what is left")
    add("--diff", action="store_true", help="print the fixes as a unified diff instead of applying them")
    add("--unsafe-fixes", action="store_true", help="with --fix or --diff, also apply fixes that may change behaviour")
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


def rule_command(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="nncheck rule", description="Print a rule's documentation.")
    parser.add_argument("code", nargs="?", help="a code such as NNC001")
    parser.add_argument("--all", action="store_true", help="list every code with a one-line summary")
    args = parser.parse_args(argv)
    from nncheck.rules import all_rules

    rules = {rule.code: rule for rule in all_rules()}
    if args.all:
        for rule in rules.values():
            off = " (off by default)" if not rule.default_enabled else ""
            print(f"{rule.code}  {rule.name:<28} {rule.summary()}{off}")
        return EXIT_CLEAN
    code = (args.code or "").upper()
    if code not in rules:
        print(f"nncheck rule: error: unknown rule {args.code!r} (rules are {', '.join(rules)})", file=sys.stderr)
        return EXIT_ERROR
    rule = rules[code]
    print(f"{rule.code} ({rule.name})\n\n{rule.documentation()}")
    return EXIT_CLEAN


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["rule"]:
        return rule_command(arguments[1:])
    if arguments[:1] == ["lsp"]:
        from nncheck.lsp import main as lsp_main

        return lsp_main()
    args = build_parser().parse_args(arguments)
    overrides = Overrides(
        select=args.select,
        extend_select=args.extend_select,
        ignore=args.ignore,
        module_bases=args.module_bases,
        src=args.src,
        config_file=args.config,
        isolated=args.isolated,
    )
    mode = FIX if args.fix else DIFF if args.diff else CHECK
    cache = None if args.no_cache or mode != CHECK else ResultCache(args.cache_dir or default_folder())
    job = Job(overrides, mode, args.unsafe_fixes, args.file_timeout)
    status = EXIT_CLEAN
    files: list[str] = []
    outcomes: list[FileFix] = []
    try:
        for path in args.paths:
            if path == STDIN:
                outcomes.append(_stdin(args.stdin_filename or STDIN, job))
            elif not os.path.lexists(path):
                print(f"nncheck: error: no such file or folder: {path}", file=sys.stderr)
                status = EXIT_ERROR
            else:
                files.extend(_discover(path, args.exclude, overrides))
        _validate_configuration(files, overrides)
    except ConfigError as error:
        print(f"nncheck: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    outcomes.extend(_run(files, job, args.jobs, cache))
    outcomes.sort(key=lambda outcome: outcome.path)
    if _report(outcomes, job, args.output_format, read_stdin=STDIN in args.paths):
        status = EXIT_ERROR
    remaining = [f for o in outcomes for f in o.result.remaining]
    if status == EXIT_ERROR or any(f.code in FILE_CODES for f in remaining):
        return EXIT_ERROR
    if mode == DIFF:
        return EXIT_FINDINGS if any(o.result.changed for o in outcomes) else EXIT_CLEAN
    return EXIT_FINDINGS if remaining else EXIT_CLEAN


def _discover(path: str, cli_excludes: tuple[str, ...], overrides: Overrides) -> Iterator[str]:
    exclude, extend_exclude, base = excludes_for(os.path.join(path, "x") if os.path.isdir(path) else path, overrides)
    defaults = DEFAULT_EXCLUDES if exclude is None else exclude
    return find_python_files([path], extend_exclude + cli_excludes, defaults=defaults, base=base)


def _validate_configuration(files: Iterable[str], overrides: Overrides) -> None:
    # Every configuration file that will be used is read once here, so a bad one stops the run with
    # one line before any checking, rather than in a worker.
    for folder in sorted({os.path.dirname(os.path.abspath(f)) for f in files}):
        config_for(os.path.join(folder, "x.py"), overrides)


def _report(outcomes: list[FileFix], job: Job, output_format: str, read_stdin: bool) -> bool:
    """Print what was found, fixed or would be fixed; return whether anything could not be written."""
    failed = False
    out = sys.stdout
    findings_out = sys.stderr if job.mode == FIX and read_stdin else out  # stdout carries the fixed source
    for outcome in outcomes:
        if outcome.write_error:
            print(f"nncheck: error: could not write fixes to {outcome.path}: {outcome.write_error}", file=sys.stderr)
            failed = True
        for finding in outcome.result.refused:
            print(f"nncheck: {format_finding(finding)} (fix not applied: the rewritten file did not check out)",
                  file=sys.stderr)
    remaining = [f for o in outcomes for f in o.result.remaining]
    if job.mode == DIFF:
        for outcome in outcomes:
            if outcome.result.changed:
                out.write(unified_diff(outcome.path, outcome.result.original, outcome.result.text))
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
    if output_format in ("text", "github") or job.mode != CHECK:
        print(summary(outcomes, job.mode), file=sys.stderr)
    return failed


def _stdin(name: str, job: Job) -> FileFix:
    try:
        if sys.stdin is None:  # started with standard input closed
            raise OSError("it is closed")
        data = sys.stdin.buffer.read()
    except (OSError, ValueError) as error:
        failed = Finding(name, 1, 0, UNPARSABLE, f"nncheck could not read stdin: {error}")
        return FileFix(name, FixResult("", "", None, remaining=[failed]))
    from nncheck.checker import check_source
    from nncheck.fixing import fix_source

    settings = settings_for(name if name != STDIN else "stdin.py", job.overrides)
    try:
        with time_limit(job.file_timeout):
            if job.mode == CHECK:
                return checked(name, check_source(data, name, settings))
            result = fix_source(data, name, settings, unsafe=job.unsafe)
    except TimeUp:
        result = timed_out(name, job.file_timeout).result
    except Exception as error:  # as for files: a bug in nncheck is reported, not raised
        message = f"internal error in nncheck: {type(error).__name__}: {error}"
        result = FixResult("", "", None, remaining=[Finding(name, 1, 0, INTERNAL_ERROR, message)])
    if job.mode == FIX:
        # The fixed source goes to stdout, as editors and pipes expect; findings go to stderr.
        sys.stdout.buffer.write(result.encoded() if result.changed else data)
        sys.stdout.flush()
    return FileFix(name, result)


def _run(files: list[str], job: Job, jobs: int, cache: ResultCache | None) -> list[FileFix]:
    done: dict[str, FileFix] = {}
    keys: dict[str, str] = {}
    if cache is not None:
        for path in files:
            key = _cache_key(cache, path, job)
            found = cache.get(key) if key else None
            if found is not None:
                done[path] = checked(path, found)
            elif key:
                keys[path] = key
    todo = [path for path in files if path not in done]
    progress = Progress(len(todo))

    def record(path: str, result: Result) -> None:
        outcome, depends_on = result
        done[path] = outcome
        if cache is not None and path in keys and is_final(outcome):
            cache.put(keys[path], outcome.result.remaining, depends_on)
        progress.advance()

    # Below _MIN_FILES_FOR_WORKERS files, starting worker processes costs more than it saves.
    run_files(todo, job, 1 if len(todo) < _MIN_FILES_FOR_WORKERS else jobs, record)
    progress.done()
    if cache is not None and todo:
        cache.prune()
    return [done[path] for path in files]


def _cache_key(cache: ResultCache, path: str, job: Job) -> str | None:
    try:
        data = read_bytes(path)
    except SourceError:
        return None  # the check itself reports what is wrong with the file
    return cache.key(path, data, settings_for(path, job.overrides))
