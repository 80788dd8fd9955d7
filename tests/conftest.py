from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
EXAMPLES = ROOT / "examples"


# One result cache for the whole test run, never the user's own.
CACHE = tempfile.mkdtemp(prefix="nncheck-test-cache-")


def run(*args: str, cwd: Path = ROOT, stdin: str | bytes | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command the way a user would, and return what it printed and its exit status."""
    data = stdin.encode() if isinstance(stdin, str) else stdin
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "NNCHECK_CACHE_DIR": CACHE}
    result = subprocess.run(args, cwd=cwd, input=data, capture_output=True, env=env, timeout=300)
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode("utf-8"), result.stderr.decode("utf-8")
    )


def nncheck(*args: str, cwd: Path = ROOT, stdin: str | bytes | None = None) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-m", "nncheck", *args, cwd=cwd, stdin=stdin)


def flake8(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    # --isolated: no user or project configuration may change what the test sees.
    return run(sys.executable, "-m", "flake8", "--isolated", *args, cwd=cwd)


@pytest.fixture
def tmp_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path
