"""Machine-readable outputs of a check: JSON, SARIF 2.1.0 and GitHub Actions annotations."""

from __future__ import annotations

import json
import os
from typing import Any

from nncheck import __version__
from nncheck.findings import FILE_CODES, Finding, rule_url
from nncheck.frontends.file_codes import FILE_CODE_DOCS


def _end(finding: Finding) -> tuple[int, int]:
    """1-based end line and column (exclusive) of what to underline."""
    if finding.span is None:
        return finding.line, finding.col + 1
    return finding.span[2], finding.span[3] + 1


def to_json(findings: list[Finding]) -> str:
    records = []
    for finding in findings:
        end_line, end_column = _end(finding)
        records.append({
            "path": finding.path,
            "cell": finding.cell,  # in a notebook: the cell (from 1, every cell counted); positions are in it
            "line": finding.line,
            "column": finding.col + 1,
            "end_line": end_line,
            "end_column": end_column,
            "code": finding.code,
            "message": finding.message,
            "fixable": finding.fix is not None,
            "fix_safety": finding.fix.value if finding.fix else None,
        })
    return json.dumps(records, indent=2) + "\n"


def _uri(path: str) -> str:
    relative = os.path.relpath(path) if os.path.isabs(path) else os.path.normpath(path)
    return relative.replace(os.sep, "/")


def to_sarif(findings: list[Finding]) -> str:
    from nncheck.engine.rule_set import all_rules  # the rules' documentation, only for this format

    rules: list[dict[str, Any]] = [
        {
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary()},
            "fullDescription": {"text": rule.documentation()},
            "helpUri": rule_url(rule.code),
            "defaultConfiguration": {"level": "warning"},
        }
        for rule in all_rules()
    ] + [
        {
            "id": code.code,
            "name": code.name,
            "shortDescription": {"text": code.summary},
            "fullDescription": {"text": code.documentation()},
            "helpUri": rule_url(code.code),
            "defaultConfiguration": {"level": "error"},
        }
        for code in FILE_CODE_DOCS
    ]
    index = {rule["id"]: position for position, rule in enumerate(rules)}
    results = []
    for finding in findings:
        end_line, end_column = _end(finding)
        result: dict[str, Any] = {
            "ruleId": finding.code,
            "ruleIndex": index[finding.code],
            "level": "error" if finding.code in FILE_CODES else "warning",
            "message": {"text": finding.message},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(finding.path)},
                    "region": {
                        "startLine": finding.line,
                        "startColumn": finding.col + 1,
                        "endLine": end_line,
                        "endColumn": max(end_column, finding.col + 1),
                    },
                }
            }],
        }
        if finding.cell is not None:  # SARIF has no cells: the region is in the cell's source
            result["properties"] = {"cell": finding.cell}
        results.append(result)
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "nncheck",
                "version": __version__,
                "informationUri": "https://github.com/nncheck/nncheck",
                "rules": rules,
            }},
            "results": results,
        }],
    }
    return json.dumps(log, indent=2) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def to_github(findings: list[Finding]) -> str:
    lines = []
    for finding in findings:
        end_line, end_column = _end(finding)
        level = "error" if finding.code in FILE_CODES else "warning"
        place = f"line={finding.line},col={finding.col + 1},endLine={end_line},endColumn={end_column},"
        cell = ""
        if finding.cell is not None:  # lines of a notebook's JSON mean nothing: the cell is in the text
            place, cell = "", f"cell {finding.cell}, line {finding.line}: "
        title = _escape_property(f"nncheck ({finding.code})")
        properties = f"file={_escape_property(finding.path)},{place}title={title}"
        lines.append(f"::{level} {properties}::{_escape_data(cell + finding.message)}\n")
    return "".join(lines)
