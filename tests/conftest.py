from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from functools import lru_cache
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


@lru_cache(maxsize=None)
def unprivileged() -> tuple[str, ...] | None:
    """A command prefix under which permission bits hold (for root: without the capabilities that
    override them), or None where no such prefix works."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    capabilities = "-dac_override,-dac_read_search,-fowner"
    prefix = (setpriv, f"--inh-caps={capabilities}", f"--bounding-set={capabilities}", "--")
    folder = Path(tempfile.mkdtemp(prefix="nncheck-setpriv-"))
    try:
        folder.chmod(0o555)
        probe = run(*prefix, sys.executable, "-c", "import sys; open(sys.argv[1], 'w')", str(folder / "x"))
        return prefix if "PermissionError" in probe.stderr else None
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)
