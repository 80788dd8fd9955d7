"""Expected findings written in the checked code itself: a `# NNC001` comment on the reported line.

The column is that of the line's first non-blank character (where a `def`, `class` or statement
starts), unless written explicitly as `# NNC004@9` (1-based, as flake8 shows it).
"""

from __future__ import annotations

import re

# The comment must start with the code, so `# noqa: NNC001` is not an expectation.
_EXPECT = re.compile(r"#\s*(NNC\d{3}(?:@\d+)?(?:[\s,]+NNC\d{3}(?:@\d+)?)*)")
_ONE = re.compile(r"(NNC\d{3})(?:@(\d+))?")

Expected = set[tuple[int, int, str]]  # (line, 1-based column, code)


def expected_findings(source: str) -> Expected:
    found: Expected = set()
    for number, line in enumerate(source.splitlines(), start=1):
        for match in _EXPECT.finditer(line):
            for code, column in _ONE.findall(match.group(1)):
                indent = len(line) - len(line.lstrip())
                found.add((number, int(column) if column else indent + 1, code))
    return found
