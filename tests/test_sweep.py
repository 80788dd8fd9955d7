"""Sweep every `.py` file of the running interpreter's standard library and site-packages.

What it proves: on a large body of real Python (the stdlib with its test folders, and every installed
package, torch included when the environment has it), the `nncheck` command never prints a
traceback, never reports an internal error (NNC901), and reports NNC900 for exactly the files that
Python's parser refuses, neither more nor fewer; its exit status is 2 exactly when there are such
files (or NNC902 ones). Errors that only Python's compiler finds after parsing (a misplaced
`from __future__` import, `return` outside a function) are left to flake8 and pyflakes, as
docs/robustness.md says. NNC902 (valid Python that nncheck cannot check) must only name files
Python compiles. With NNCHECK_SWEEP_FLAKE8=1, the flake8 front end is run over the stdlib too: it must
never crash, report NNC901, or report NNC900 on a file that Python compiles.

The files are collected with our own walk (no symlinked folders followed), so none is skipped by
nncheck's default excludes (`site-packages`, `build`, `dist`, ...), and are named one by one on the
command line. `sweep(folders)` runs the same check on any folders, e.g. another virtualenv's
site-packages, by hand.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import sysconfig
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import pytest

# At most this many bytes of file names go to one subprocess (less where the system allows less).
ARGUMENT_BYTES = 500_000
# The flake8 sweep of the stdlib costs more than the nncheck one (pycodestyle and pyflakes run on every
# file whatever --select says: about 140 s for 1,790 files on 2 cores), so it runs only when asked for.
FLAKE8_SWEEP = os.environ.get("NNCHECK_SWEEP_FLAKE8") == "1"
# One chunk of files must never take this long; more means a hang.
CHUNK_TIMEOUT = 900
# Paths shown each way when the NNC900 files and Python's failures differ.
SHOWN = 25
# What compile raises for source Python refuses: bad syntax or encoding, NUL bytes, too deep.
COMPILE_ERRORS = (SyntaxError, ValueError, UnicodeDecodeError, RecursionError, MemoryError)
FLAKE8_CRASHES = ("Traceback", "failed during execution", "There was a critical error")
FLAKE8_LINE = re.compile(r"^(?P<path>.+):\d+:\d+: (?P<code>NNC9\d\d) ")

pytestmark = pytest.mark.slow  # every file of the stdlib and site-packages


@dataclass
class Sweep:
    """What nncheck said about a list of files."""

    files: list[str]
    unparsable: dict[str, str] = field(default_factory=dict)  # path -> NNC900 message
    unsupported: dict[str, str] = field(default_factory=dict)  # path -> NNC902 message
    internal_errors: list[str] = field(default_factory=list)  # "path: message" for each NNC901
    problems: list[str] = field(default_factory=list)  # tracebacks, bad exit statuses, bad output
    python_refuses: dict[str, str] = field(default_factory=dict)  # path -> why Python's parser fails
    compiler_refuses: dict[str, str] = field(default_factory=dict)  # path -> why only its compiler fails
    seconds: float = 0.0  # nncheck's runs
    compile_seconds: float = 0.0  # Python's compile of every file


def stdlib_folder() -> str:
    return os.path.realpath(sysconfig.get_paths()["stdlib"])


def site_folders() -> list[str]:
    """The running interpreter's site-packages folders (purelib, platlib), each once."""
    paths = sysconfig.get_paths()
    folders = [os.path.realpath(paths[key]) for key in ("purelib", "platlib")]
    return [f for i, f in enumerate(folders) if f not in folders[:i] and os.path.isdir(f)]


def nested_site_folders(stdlib: str) -> set[str]:
    """Folders inside the stdlib that belong to installed packages, not to the stdlib itself."""
    return {os.path.realpath(os.path.join(stdlib, name)) for name in ("site-packages", "dist-packages")}


def python_files(folder: str, skip: set[str]) -> Iterator[str]:
    """Every `.py` file under `folder`, sorted; symlinked folders and the folders in `skip` are not entered."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(
            d for d in dirs
            if not os.path.islink(os.path.join(root, d)) and os.path.realpath(os.path.join(root, d)) not in skip
        )
        for name in sorted(files):
            if name.endswith(".py"):
                yield os.path.join(root, name)


def collect(folders: Iterable[str], skip: Iterable[str] = ()) -> list[str]:
    """The `.py` files of all `folders`, a file reached twice (through a symlink) only once. A folder
    that is itself one of `folders` is walked on its own, not again inside another."""
    roots = [os.path.realpath(f) for f in folders]
    found: dict[str, str] = {}
    for root in roots:
        for path in python_files(root, set(skip) | (set(roots) - {root})):
            found.setdefault(os.path.realpath(path), path)
    return sorted(found.values())


def argument_budget() -> int:
    """Bytes of file names one command line may carry: a quarter of ARG_MAX (shared with the
    environment), within Windows' 32,767 characters there."""
    if os.name == "nt":
        return 30_000
    try:
        arg_max = os.sysconf("SC_ARG_MAX")
    except (AttributeError, ValueError, OSError):
        arg_max = 262_144
    return max(4_096, min(ARGUMENT_BYTES, arg_max // 4))


def chunks(paths: list[str], limit: int | None = None) -> Iterator[list[str]]:
    """`paths` cut into consecutive lists whose names add up to at most `limit` bytes each."""
    limit = limit or argument_budget()
    chunk: list[str] = []
    size = 0
    for path in paths:
        length = len(os.fsencode(path)) + 1
        if chunk and size + length > limit:
            yield chunk
            chunk, size = [], 0
        chunk.append(path)
        size += length
    if chunk:
        yield chunk


def python_refuses(path: str) -> tuple[str, str] | None:
    """Where and why Python cannot compile the file (as its import system would: bytes in, Python
    decodes): ("parser", reason), ("compiler", reason), or None."""
    try:
        with open(path, "rb") as handle:
            source = handle.read()
    except OSError as error:
        return "parser", f"cannot read: {error}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for stage, flags in (("parser", ast.PyCF_ONLY_AST), ("compiler", 0)):
            try:
                compile(source, path, "exec", flags=flags, dont_inherit=True)
            except COMPILE_ERRORS as error:
                return stage, f"{type(error).__name__}: {error}"
    return None


def python_failures(paths: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """The files among `paths` that Python's parser, and only its compiler, refuse, with the reason;
    compiled on all cores."""
    by_stage: dict[str, dict[str, str]] = {"parser": {}, "compiler": {}}
    with ProcessPoolExecutor() as pool:
        for path, refusal in zip(paths, pool.map(python_refuses, paths, chunksize=64)):
            if refusal is not None:
                by_stage[refusal[0]][path] = refusal[1]
    return by_stage["parser"], by_stage["compiler"]


def command_env() -> dict[str, str]:
    return {**os.environ, "PYTHONIOENCODING": "utf-8"}


def run_nncheck(paths: list[str], into: Sweep) -> None:
    """Check one chunk of files with the real command and record what it said in `into`."""
    command = [
        sys.executable, "-m", "nncheck", "--isolated", "--no-cache", "--extend-select", "NNC007",
        "--output-format", "json", *paths,
    ]
    try:
        result = subprocess.run(command, capture_output=True, env=command_env(), timeout=CHUNK_TIMEOUT)
    except subprocess.TimeoutExpired:
        into.problems.append(f"nncheck did not finish within {CHUNK_TIMEOUT} s on {paths[0]} .. {paths[-1]}")
        return
    stderr = result.stderr.decode("utf-8", "replace")
    if "Traceback" in stderr:
        into.problems.append(f"traceback on stderr (files {paths[0]} .. {paths[-1]}):\n{stderr[-4000:]}")
    try:
        records = json.loads(result.stdout)
    except ValueError:
        shown = "" if "Traceback" in stderr else f"\n{stderr[-4000:]}"  # a traceback is shown above
        into.problems.append(f"stdout is not JSON (exit {result.returncode}): {result.stdout[:2000]!r}{shown}")
        return
    before = len(into.unparsable) + len(into.unsupported)
    given = set(paths)
    for record in records:
        if record["path"] not in given:
            into.problems.append(f"a finding for a file that was not named: {record}")
        if record["code"] == "NNC900":
            into.unparsable[record["path"]] = record["message"]
        elif record["code"] == "NNC901":
            into.internal_errors.append(f"{record['path']}: {record['message']}")
        elif record["code"] == "NNC902":
            into.unsupported[record["path"]] = record["message"]
    expected = (2,) if len(into.unparsable) + len(into.unsupported) > before else (0, 1)
    if result.returncode not in expected:
        into.problems.append(
            f"exit status {result.returncode}, expected one of {expected} (files {paths[0]} .. {paths[-1]})\n{stderr}"
        )


def sweep(folders: Iterable[str], skip: Iterable[str] = ()) -> Sweep:
    """Run nncheck over every `.py` file under `folders` (except those under `skip`)."""
    started = time.monotonic()
    result = Sweep(collect(folders, skip))
    for chunk in chunks(result.files):
        run_nncheck(chunk, result)
    result.seconds = time.monotonic() - started
    return result


def mismatch(nncheck_says: dict[str, str], python_says: dict[str, str]) -> list[str]:
    """A readable account of the files on which nncheck's NNC900 and Python's compile disagree."""
    lines = []
    only_nncheck = sorted(set(nncheck_says) - set(python_says))
    only_python = sorted(set(python_says) - set(nncheck_says))
    if only_nncheck:
        lines.append(f"{len(only_nncheck)} files with NNC900 that Python compiles:")
        lines += [f"  {path}: {nncheck_says[path]}" for path in only_nncheck[:SHOWN]]
    if only_python:
        lines.append(f"{len(only_python)} files Python cannot parse without NNC900:")
        lines += [f"  {path}: Python says {python_says[path]}" for path in only_python[:SHOWN]]
    return lines


def check_sweep(folders: Iterable[str], skip: Iterable[str] = ()) -> tuple[Sweep, list[str]]:
    """Sweep `folders` and compare with Python; return the sweep and every failure, readably."""
    result = sweep(folders, skip)
    failures = list(result.problems)
    if result.internal_errors:
        failures.append(f"{len(result.internal_errors)} NNC901 internal errors:")
        failures += [f"  {line}" for line in result.internal_errors[:SHOWN]]
    started = time.monotonic()
    result.python_refuses, result.compiler_refuses = python_failures(result.files)
    result.compile_seconds = time.monotonic() - started
    failures += mismatch(result.unparsable, result.python_refuses)
    refused = {**result.python_refuses, **result.compiler_refuses}
    failures += [f"NNC902 on a file Python cannot compile: {path}: {message}"
                 for path, message in sorted(result.unsupported.items()) if path in refused]
    return result, failures


def test_nncheck_sweeps_stdlib_and_site_packages(record_property: Callable[[str, object], None]) -> None:
    stdlib = stdlib_folder()
    sites = site_folders()
    result, failures = check_sweep([stdlib, *sites], nested_site_folders(stdlib))
    summary = (
        f"nncheck swept {len(result.files)} files ({stdlib}, {', '.join(sites)}) in {result.seconds:.0f} s "
        f"(Python's compile: {result.compile_seconds:.0f} s); {len(result.unparsable)} NNC900, "
        f"{len(result.python_refuses)} files Python cannot parse, {len(result.unsupported)} NNC902, "
        f"{len(result.compiler_refuses)} more files only Python's compiler refuses"
    )
    print(summary)
    for code, found in (("NNC900", result.unparsable), ("NNC902", result.unsupported)):
        for path, message in sorted(found.items()):
            print(f"  {code} {path}: {message}")
    for path, reason in sorted(result.compiler_refuses.items()):
        print(f"  compiler only (no NNC900 by design) {path}: {reason}")
    record_property("sweep", summary)
    assert not failures, "\n".join([summary, *failures])
    assert len(result.files) > 500, f"too few files found: {summary}"


def flake8_problems(paths: list[str], python_says: dict[str, str]) -> list[str]:
    """Crashes and internal errors of the flake8 front end on one chunk of files, and any NNC900 on a
    file that Python compiles."""
    command = [sys.executable, "-m", "flake8", "--isolated", "--select", "NNC", *paths]
    try:
        result = subprocess.run(command, capture_output=True, env=command_env(), timeout=CHUNK_TIMEOUT)
    except subprocess.TimeoutExpired:
        return [f"flake8 did not finish within {CHUNK_TIMEOUT} s on {paths[0]} .. {paths[-1]}"]
    output = (result.stdout + result.stderr).decode("utf-8", "replace")
    problems = [f"flake8 crashed ({marker!r}):\n{output[-4000:]}" for marker in FLAKE8_CRASHES if marker in output]
    for line in output.splitlines():
        found = FLAKE8_LINE.match(line)
        if found and (found["code"] == "NNC901" or found["code"] == "NNC900" and found["path"] not in python_says):
            problems.append(line)
    if result.returncode not in (0, 1):
        problems.append(f"flake8 exit status {result.returncode}:\n{output[-4000:]}")
    return problems


@pytest.mark.skipif(not FLAKE8_SWEEP, reason="set NNCHECK_SWEEP_FLAKE8=1 to sweep the stdlib with flake8 (slow)")
def test_flake8_plugin_sweeps_stdlib() -> None:
    stdlib = stdlib_folder()
    files = collect([stdlib], nested_site_folders(stdlib) | set(site_folders()))
    python_says, _ = python_failures(files)
    started = time.monotonic()
    problems = [problem for chunk in chunks(files) for problem in flake8_problems(chunk, python_says)]
    print(f"flake8 swept {len(files)} stdlib files in {time.monotonic() - started:.0f} s")
    assert len(files) > 500
    assert not problems, "\n".join(problems[:SHOWN])
