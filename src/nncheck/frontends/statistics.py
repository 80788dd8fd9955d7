"""`nncheck --statistics`: how many findings of each code, in place of the findings themselves."""

from __future__ import annotations

import json
from collections import Counter

from nncheck.engine.rule_set import rule_names
from nncheck.findings import Finding
from nncheck.frontends.file_codes import FILE_CODE_DOCS


def _counted(findings: list[Finding]) -> list[tuple[str, int]]:
    # The most frequent first, as ruff and flake8 sort them; a tie by code.
    counts = Counter(f.code for f in findings)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _name(code: str) -> str:
    names = {**rule_names(), **{c.code: c.name for c in FILE_CODE_DOCS}}
    return names.get(code, "")


def statistics_text(findings: list[Finding]) -> str:
    """One line per code: its count, right-aligned, the code and its name, in columns."""
    counted = _counted(findings)
    width = max((len(f"{count:,}") for _, count in counted), default=0)
    return "".join(f"{count:>{width},}  {code}  {_name(code)}\n" for code, count in counted)


def statistics_json(findings: list[Finding]) -> str:
    fixable = Counter(f.code for f in findings if f.fix is not None)
    records = [
        {"code": code, "name": _name(code), "count": count, "fixable": fixable[code]}
        for code, count in _counted(findings)
    ]
    return json.dumps(records, indent=2) + "\n"
