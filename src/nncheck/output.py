"""How findings are shown to a person."""

from __future__ import annotations

from nncheck.findings import Finding


def format_finding(finding: Finding) -> str:
    # Columns are shown 1-based, as flake8 and editors show them.
    return f"{finding.path}:{finding.line}:{finding.col + 1}: {finding.code} {finding.message}"


def summary(findings: list[Finding], files_checked: int) -> str:
    checked = f"{files_checked:,} file{'s' if files_checked != 1 else ''} checked"
    if not findings:
        return f"No problems found ({checked})."
    problems = len(findings)
    files = len({f.path for f in findings})
    return (
        f"Found {problems:,} problem{'s' if problems != 1 else ''} in {files:,} file{'s' if files != 1 else ''} ({checked})."
    )
