"""Where installed libraries are: the import path of the Python environment the checked code runs in.

By default that is the interpreter nncheck runs under; `--python PATH` (or `python =`) names another,
as mypy's `--python-executable` does. That interpreter is asked for its `sys.path` once per process;
nothing is imported from it and none of the user's code runs.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import sysconfig

# Run by the named interpreter: its import path without the current folder and the standard library
# (nothing there is an nn.Module), site-packages and .pth entries (editable installs) included.
_ASK = (
    "import json, os, sys, sysconfig\n"
    "std = {os.path.realpath(sysconfig.get_paths()[k]) for k in ('stdlib', 'platstdlib')}\n"
    "print(json.dumps([p for p in sys.path[1:] if p and os.path.isdir(p) and os.path.realpath(p) not in std]))\n"
)


class InterpreterError(ValueError):
    """The named interpreter cannot be asked for its import path (one line for the user)."""


def library_roots(python: str | None) -> tuple[str, ...]:
    """The folders installed libraries are read from: of nncheck's own interpreter, or of `python`."""
    if python is None:
        return _own_roots()
    named = os.path.abspath(python) if os.sep in python else python
    roots = _roots_of(named, _stamp(named))
    if isinstance(roots, str):  # why it cannot be used, kept so that it is not run again for nothing
        raise InterpreterError(roots)
    return roots


def interpreter_problem(python: str | None) -> str | None:
    """Why `python` cannot be asked for its import path (one line), or None if it can."""
    try:
        library_roots(python)
    except InterpreterError as error:
        return str(error)
    return None


@functools.cache
def _own_roots() -> tuple[str, ...]:
    std = {os.path.realpath(sysconfig.get_paths()[key]) for key in ("stdlib", "platstdlib")}
    # sys.path[0] is the folder of the script (or the current folder): the user's project, not a library.
    return tuple(
        os.path.abspath(p) for p in sys.path[1:]
        if p and os.path.isdir(p) and os.path.realpath(p) not in std
    )


def _stamp(python: str) -> tuple[int, int] | None:
    """What changes when the interpreter is created or replaced: a long-lived process (the language
    server) asks again once a missing virtualenv has been made, and never twice for one that is broken."""
    found = python if os.sep in python else shutil.which(python)
    try:
        info = os.stat(found) if found else None
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size) if info else None


@functools.cache
def _roots_of(python: str, stamp: tuple[int, int] | None) -> tuple[str, ...] | str:
    try:
        answer = subprocess.run(
            [python, "-c", _ASK], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
            env={k: v for k, v in os.environ.items() if k != "PYTHONSTARTUP"},
        )
    except OSError as error:
        return f"cannot run the Python interpreter {python!r}: {error.strerror or error}"
    except subprocess.SubprocessError as error:
        return f"cannot run the Python interpreter {python!r}: {error}"
    if answer.returncode != 0:
        last = (answer.stderr.strip().splitlines() or ["no output"])[-1]
        return f"the Python interpreter {python!r} failed: {last}"
    try:
        paths = json.loads(answer.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return f"{python!r} did not answer as a Python interpreter"
    return tuple(os.path.abspath(p) for p in paths if isinstance(p, str))
