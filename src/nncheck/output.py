"""How findings are shown to a person."""

from __future__ import annotations

from nncheck.findings import Finding


def format_finding(finding: Finding) -> str:
    # Columns are shown 1-based, as flake8 and editors show them.
    return f"{finding.path}:{finding.line}:{finding.col + 1}: {finding.code} {finding.message}"


def summary(findings: list[Finding], files_checked: int) -> str:
    checked = f"{_count(files_checked, 'file')} checked"
    if not findings:
        return f"No problems found ({checked})."
    problems = len(findings)
    files = len({f.path for f in findings})
    return f"Found {_count(problems, 'problem')} in {_count(files, 'file')} ({checked})."


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"
