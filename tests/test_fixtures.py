"""Every fixture and example, through both front ends: the exact (path, line, column, code) sets
must equal the `# NNCxxx` comments written in the files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import EXAMPLES, FIXTURES, ROOT, flake8, nncheck
from expected import expected_findings

_LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z]+\d+) ", re.MULTILINE)
# configured_base.py needs this; no other fixture uses the name.
MODULE_BASES = "mylib.layers.Base"
# The --fix golden files are checked by test_fix.py.
FIX_GOLDEN = FIXTURES / "fix"

Found = set[tuple[str, int, int, str]]


def _parse(output: str) -> Found:
    return {
        (Path(m["path"]).as_posix(), int(m["line"]), int(m["col"]), m["code"])
        for m in _LINE.finditer(output)
        if m["code"].startswith("NNC")
    }


def _expected(folder: Path) -> Found:
    found: Found = set()
    for path in sorted(folder.rglob("*.py")):
        if FIX_GOLDEN in path.parents:
            continue
        relative = path.relative_to(ROOT).as_posix()
        found |= {(relative, line, col, code) for line, col, code in expected_findings(path.read_text("utf-8"))}
    return found | _expected_in_notebooks(folder)


def _expected_in_notebooks(folder: Path) -> Found:
    # In a notebook the expectations are in the cells, and findings are printed as `path:cell N`.
    found: Found = set()
    for path in sorted(folder.rglob("*.ipynb")):
        relative = path.relative_to(ROOT).as_posix()
        for number, cell in enumerate(json.loads(path.read_text("utf-8"))["cells"], start=1):
            if cell["cell_type"] == "code":
                found |= {(f"{relative}:cell {number}", line, col, code)
                          for line, col, code in expected_findings("".join(cell["source"]))}
    return found


FOLDERS = [pytest.param(FIXTURES, id="fixtures"), pytest.param(EXAMPLES, id="examples")]


@pytest.mark.parametrize("folder", FOLDERS)
def test_nncheck_command(folder: Path) -> None:
    folder_name = folder.relative_to(ROOT).as_posix()
    result = nncheck(
        folder_name, "--module-bases", MODULE_BASES, "--exclude", "tests/fixtures/fix", "--extend-select", "NNC007"
    )
    assert result.returncode == 1, result.stderr
    assert _parse(result.stdout) == _expected(folder)


@pytest.mark.parametrize("folder", FOLDERS)
def test_flake8_plugin(folder: Path) -> None:  # flake8 reads no notebooks
    result = flake8(
        "--select", "NNC", "--extend-select", "NNC007", "--nncheck-module-bases", MODULE_BASES,
        "--extend-exclude", "tests/fixtures/fix",
        folder.relative_to(ROOT).as_posix(),
    )
    assert result.returncode == 1, result.stderr
    assert _parse(result.stdout) == _expected(folder) - _expected_in_notebooks(folder)


def test_fixtures_cover_every_rule() -> None:
    from nncheck.engine.rule_set import all_rules

    codes = {code for *_, code in _expected(FIXTURES)}
    assert {rule.code for rule in all_rules()} <= codes
