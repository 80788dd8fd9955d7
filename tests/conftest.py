from __future__ import annotations

import io
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


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Each process of the run (xdist's workers import this file too) removes the cache it made.
    shutil.rmtree(CACHE, ignore_errors=True)


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


def nncheck_here(*args: str, cwd: Path = ROOT, stdin: str | bytes = b"") -> subprocess.CompletedProcess[str]:
    """The command run inside the test process: the very code below the process boundary that the
    `nncheck` executable runs, for tests about what it prints and writes, without starting Python and
    importing libcst again for every call. Tests about processes, signals and entry points use nncheck()."""
    from nncheck.frontends.cli import main

    out, err = io.BytesIO(), io.BytesIO()
    saved = sys.stdin, sys.stdout, sys.stderr, os.getcwd(), os.environ.get("NNCHECK_CACHE_DIR")
    streams = (
        io.TextIOWrapper(io.BytesIO(stdin.encode() if isinstance(stdin, str) else stdin), encoding="utf-8"),
        io.TextIOWrapper(out, encoding="utf-8", write_through=True),
        io.TextIOWrapper(err, encoding="utf-8", write_through=True),
    )
    sys.stdin, sys.stdout, sys.stderr = streams
    os.environ["NNCHECK_CACHE_DIR"] = CACHE
    os.chdir(cwd)
    try:
        status = main(list(args))
    except SystemExit as stop:  # argparse's usage errors
        status = stop.code if isinstance(stop.code, int) else 2
    finally:
        for stream in streams:
            stream.flush()
            stream.detach()  # a wrapper closes its buffer when collected; these buffers are read below
        sys.stdin, sys.stdout, sys.stderr, folder, cache = saved
        os.chdir(folder)
        if cache is None:
            os.environ.pop("NNCHECK_CACHE_DIR", None)
        else:
            os.environ["NNCHECK_CACHE_DIR"] = cache
    return subprocess.CompletedProcess(["nncheck", *args], status, out.getvalue().decode(), err.getvalue().decode())


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
