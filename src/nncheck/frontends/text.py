"""How findings, fixes and summaries are shown to a person."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from nncheck.files import notebook
from nncheck.files.notebook import is_notebook
from nncheck.findings import Finding, FixSafety
from nncheck.frontends.job import Mode

if TYPE_CHECKING:
    from nncheck.fixes.outcome import FileFix

# `[*]`: `nncheck --fix` fixes it; `[~]`: `nncheck --fix --unsafe-fixes` does.
_MARKERS = {FixSafety.SAFE: " [*]", FixSafety.UNSAFE: " [~]"}


def format_finding(finding: Finding, markers: bool = True) -> str:
    # Columns are shown 1-based, as flake8 and editors show them.
    marker = _MARKERS[finding.fix] if markers and finding.fix else ""
    cell = f"cell {finding.cell}:" if finding.cell is not None else ""
    return f"{finding.path}:{cell}{finding.line}:{finding.col + 1}: {finding.code}{marker} {finding.message}"


def unified_diff(path: str, before: str, after: str) -> str:
    if is_notebook(path):
        return _notebook_diff(path, before, after)
    return _diff(f"a/{path}", f"b/{path}", before, after)


def _notebook_diff(path: str, before: str, after: str) -> str:
    # A diff of the JSON would be unreadable: one diff per changed cell, of its source.
    old, new = notebook.read(before), notebook.read(after)
    sources = {cell.number: cell.source for cell in new.cells}
    return "".join(
        _diff(f"a/{path}:cell {cell.number}", f"b/{path}:cell {cell.number}", _ended(cell.source),
              _ended(sources[cell.number]))
        for cell in old.cells if sources.get(cell.number, cell.source) != cell.source
    )


def _ended(source: str) -> str:
    # A cell's last line has no line break: that is how notebooks store it, not worth a diff line.
    return source if not source or source.endswith(("\n", "\r")) else source + "\n"


def _diff(before_name: str, after_name: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), before_name, after_name
    )
    return "".join(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n" for line in lines)


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def summary(outcomes: list[FileFix], mode: Mode, unsafe_fixes: bool = False) -> str:
    """The last line of a run. `unsafe_fixes`: --unsafe-fixes was given, so no fix was held back."""
    checked = f"({_count(len(outcomes), 'file')} checked)"
    remaining = [f for o in outcomes for f in o.result.remaining]
    fixed = [f for o in outcomes for f in o.result.fixed]
    fixed_files = _count(sum(1 for o in outcomes if o.result.fixed), "file")
    found = (
        f"{_count(len(remaining), 'problem')} in {_count(len({f.path for f in remaining}), 'file')}"
        if remaining else ""
    )
    safe = sum(1 for f in remaining if f.fix is FixSafety.SAFE)
    unsafe = 0 if unsafe_fixes else sum(1 for f in remaining if f.fix is FixSafety.UNSAFE)
    # Fixes held back for want of --unsafe-fixes are counted, so that "Nothing to fix" never hides them.
    held_back = f"; {unsafe:,} {'more ' if fixed else ''}fixable with --unsafe-fixes" if unsafe else ""
    if mode is Mode.DIFF:
        if fixed:
            return f"Would fix {_count(len(fixed), 'problem')} in {fixed_files} {checked}{held_back}."
        return f"Nothing to fix {checked}{held_back}."
    if mode is Mode.FIX:
        left = f"{found} remain{'s' if len(remaining) == 1 else ''}" if remaining else "no problems remain"
        held_back = f"; {unsafe:,} fixable with --unsafe-fixes" if unsafe else ""
        return f"Fixed {_count(len(fixed), 'problem')} in {fixed_files}; {left} {checked}{held_back}."
    if not remaining:
        return f"No problems found {checked}."
    if safe:
        fixable = f"; {safe:,} fixable with --fix" + (f", {unsafe:,} more with --unsafe-fixes" if unsafe else "")
    else:
        fixable = f"; {unsafe:,} fixable with --unsafe-fixes" if unsafe else ""
    return f"Found {found} {checked}{fixable}."


def noqa_summary(outcomes: list[FileFix], mode: Mode) -> str:
    """The last line of `--add-noqa`: how many codes were added to noqa comments (one per code and
    line, however many findings share it), and what is left."""
    added = sum(len({(f.cell, f.line, f.code) for f in o.result.fixed}) for o in outcomes)
    files = sum(1 for o in outcomes if o.result.fixed)
    remaining = [f for o in outcomes for f in o.result.remaining]
    verb = "Would add" if mode is Mode.DIFF else "Added"
    where = f" to {_count(files, 'file')}" if files else ""
    left = ""
    if remaining:
        files_left = _count(len({f.path for f in remaining}), "file")
        left = f"; {_count(len(remaining), 'problem')} in {files_left} remain{'s' if len(remaining) == 1 else ''}"
    return f"{verb} {_count(added, 'noqa directive')}{where}{left} ({_count(len(outcomes), 'file')} checked)."
