"""A named Python interpreter that cannot be used (it does not exist, or fails when asked for its
import path): one decision for every front end. The command stops before checking anything, with a
usage error that names where the interpreter was named. flake8 and the language server, which cannot
stop an editor or a CI job, warn once and read installed libraries from the environment they run
under, as if no interpreter had been named."""

from __future__ import annotations

from nncheck.model.environment import interpreter_problem


def problem(python: str | None, where: str) -> str | None:
    """One line saying where the interpreter was named and why it cannot be used, or None if it can."""
    found = interpreter_problem(python)
    return f"{where}: {found}" if found else None


def fallback_warning(problem: str, host: str) -> str:
    """What flake8 and the language server say before going on without the named interpreter."""
    return f"{problem}; reading installed libraries from the environment {host} runs under instead"
