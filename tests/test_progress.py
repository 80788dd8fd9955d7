"""The progress line: on stderr in a terminal for long runs, never in pipes, files or CI logs."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from conftest import nncheck
from test_cli import GOOD


def _tree(root: Path, count: int) -> None:
    for index in range(count):
        folder = root / f"pkg{index % 10}"
        folder.mkdir(exist_ok=True)
        (folder / f"m{index}.py").write_text(GOOD)


def test_progress_shows_in_a_terminal_and_not_on_stdout(tmp_cwd: Path) -> None:
    _tree(tmp_cwd, 320)
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["TERM"] = "xterm"
    process = subprocess.Popen(
        [sys.executable, "-m", "nncheck", "--jobs", "1"], cwd=tmp_cwd, stdout=subprocess.PIPE, stderr=follower, env=env
    )
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    stdout, _ = process.communicate(timeout=120)
    os.close(leader)
    assert process.returncode == 0
    assert stdout == b""
    assert b"files checked" in seen and b"/320" in seen
    assert seen.rstrip().endswith(b"No problems found (320 files checked).")


def test_no_progress_in_pipes_or_ci(tmp_cwd: Path) -> None:
    _tree(tmp_cwd, 320)
    result = nncheck(cwd=tmp_cwd)
    assert result.stderr == "No problems found (320 files checked).\n"
