"""--output-format json, sarif (validated against the official 2.1.0 schema), github and concise."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from conftest import ROOT, nncheck_here
from test_cli import BAD, write

SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
MIXED = BAD + "\n\nclass Layer(nn.Linear):\n    def __init__(self):\n        pass\n"


def test_json(tmp_cwd: Path) -> None:
    write(tmp_cwd / "m.py", MIXED)
    result = nncheck_here("--output-format", "json", cwd=tmp_cwd)
    assert result.returncode == 1
    records = json.loads(result.stdout)
    assert records[0] == {
        "path": "m.py", "cell": None, "line": 5, "column": 5, "end_line": 5, "end_column": 17, "code": "NNC001",
        "message": "Net.__call__ bypasses forward hooks; rename it to forward", "fixable": True, "fix_safety": "safe",
    }
    assert (records[1]["code"], records[1]["fix_safety"]) == ("NNC002", "unsafe")
    assert result.stderr == ""


def test_sarif_is_valid_and_complete(tmp_cwd: Path) -> None:
    write(tmp_cwd / "pkg" / "m.py", MIXED)
    write(tmp_cwd / "pkg" / "broken.py", "def f(:\n")
    result = nncheck_here("--output-format", "sarif", cwd=tmp_cwd)
    log = json.loads(result.stdout)
    jsonschema.validate(log, SCHEMA)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules][:8] == [f"NNC00{n}" for n in range(1, 9)]
    assert all(r["helpUri"].endswith(f"{r['id']}.md") and r["fullDescription"]["text"] for r in rules)
    located = [
        (r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
         r["locations"][0]["physicalLocation"]["region"]["startLine"],
         r["locations"][0]["physicalLocation"]["region"]["startColumn"])
        for r in run["results"]
    ]
    assert located == [("NNC900", "pkg/broken.py", 1, 7), ("NNC001", "pkg/m.py", 5, 5), ("NNC002", "pkg/m.py", 10, 5)]


def test_github_annotations(tmp_cwd: Path) -> None:
    write(tmp_cwd / "m.py", BAD)
    result = nncheck_here("--output-format", "github", cwd=tmp_cwd)
    assert result.stdout == (
        "::warning file=m.py,line=5,col=5,endLine=5,endColumn=17,title=nncheck (NNC001)"
        "::Net.__call__ bypasses forward hooks; rename it to forward\n"
    )


def test_concise_has_no_markers_and_no_summary(tmp_cwd: Path) -> None:
    write(tmp_cwd / "m.py", BAD)
    result = nncheck_here("--output-format", "concise", cwd=tmp_cwd)
    assert result.stdout == "m.py:5:5: NNC001 Net.__call__ bypasses forward hooks; rename it to forward\n"
    assert result.stderr == ""
