"""How findings, fixes and summaries are shown to a person."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from nncheck.findings import Finding, FixSafety
from nncheck.frontends.job import Mode

if TYPE_CHECKING:
    from nncheck.fixes.outcome import FileFix

# `[*]`: `nncheck --fix` fixes it; `[~]`: `nncheck --fix --unsafe-fixes` does.
_MARKERS = {FixSafety.SAFE: " [*]", FixSafety.UNSAFE: " [~]"}


def format_finding(finding: Finding, markers: bool = True) -> str:
    # Columns are shown 1-based, as flake8 and editors show them.
    marker = _MARKERS[finding.fix] if markers and finding.fix else ""
    return f"{finding.path}:{finding.line}:{finding.col + 1}: {finding.code}{marker} {finding.message}"


def unified_diff(path: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{path}", f"b/{path}"
    )
    return "".join(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n" for line in lines)


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def summary(outcomes: list[FileFix], mode: Mode) -> str:
    checked = f"({_count(len(outcomes), 'file')} checked)"
    remaining = [f for o in outcomes for f in o.result.remaining]
    fixed = [f for o in outcomes for f in o.result.fixed]
    fixed_files = _count(sum(1 for o in outcomes if o.result.fixed), "file")
    found = (
        f"{_count(len(remaining), 'problem')} in {_count(len({f.path for f in remaining}), 'file')}"
        if remaining else ""
    )
    if mode is Mode.DIFF:
        return f"Would fix {_count(len(fixed), 'problem')} in {fixed_files} {checked}." if fixed else (
            f"Nothing to fix {checked}."
        )
    if mode is Mode.FIX:
        left = f"{found} remain{'s' if len(remaining) == 1 else ''}" if remaining else "no problems remain"
        return f"Fixed {_count(len(fixed), 'problem')} in {fixed_files}; {left} {checked}."
    if not remaining:
        return f"No problems found {checked}."
    safe = sum(1 for f in remaining if f.fix is FixSafety.SAFE)
    unsafe = sum(1 for f in remaining if f.fix is FixSafety.UNSAFE)
    fixable = ""
    if safe or unsafe:
        fixable = f"; {safe:,} fixable with --fix" + (f", {unsafe:,} more with --unsafe-fixes" if unsafe else "")
    return f"Found {found} {checked}{fixable}."
