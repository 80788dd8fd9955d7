"""What users see, pinned: the full text output (path, position, code, fix marker, message) of every
fixture and example, one reviewed snapshot file per checked file under tests/snapshots/. A changed
message fails here. After a deliberate change, refresh them and review the diff:

    NNCHECK_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_snapshots.py
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

from conftest import ROOT, nncheck
from test_fixtures import FIX_GOLDEN, MODULE_BASES

SNAPSHOTS = ROOT / "tests" / "snapshots"
UPDATE = os.environ.get("NNCHECK_UPDATE_SNAPSHOTS") == "1"
CHECKED = ("tests/fixtures", "examples")


def _checked_files() -> list[str]:
    return sorted(
        path.relative_to(ROOT).as_posix()
        for folder in CHECKED
        for suffix in ("*.py", "*.ipynb")
        for path in (ROOT / folder).rglob(suffix)
        if FIX_GOLDEN not in path.parents
    )


def _snapshot(relative: str) -> Path:
    return SNAPSHOTS / f"{relative}.txt"


def test_text_output_of_every_fixture_and_example_matches_its_snapshot() -> None:
    result = nncheck(*CHECKED, "--module-bases", MODULE_BASES, "--exclude", "tests/fixtures/fix",
                     "--extend-select", "NNC007", "--no-cache")
    assert result.returncode == 1, result.stderr
    lines: dict[str, list[str]] = defaultdict(list)
    for line in result.stdout.splitlines():
        lines[line.split(":", 1)[0]].append(line)
    files = _checked_files()
    assert set(lines) <= set(files)
    if UPDATE:
        for stale in SNAPSHOTS.rglob("*.txt"):
            stale.unlink()
        for relative in files:
            _snapshot(relative).parent.mkdir(parents=True, exist_ok=True)
            _snapshot(relative).write_text("".join(f"{line}\n" for line in lines[relative]), encoding="utf-8")
    differing = [
        relative for relative in files
        if not _snapshot(relative).is_file()
        or _snapshot(relative).read_text(encoding="utf-8").splitlines() != lines[relative]
    ]
    assert differing == [], "run NNCHECK_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_snapshots.py and review"
    kept = sorted(p.relative_to(SNAPSHOTS).as_posix() for p in SNAPSHOTS.rglob("*.txt"))
    assert kept == [f"{relative}.txt" for relative in files], "a snapshot whose file is gone"
