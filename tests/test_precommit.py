"""nncheck's pre-commit hooks, run by real pre-commit (`try-repo`) on a throwaway git repository."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from test_cli import BAD, GOOD

pytest.importorskip("pre_commit")
pytestmark = pytest.mark.slow  # each try-repo builds an environment for the hook


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _try_repo(repo: Path, hook: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), hook, "--verbose"],
        cwd=repo, capture_output=True, text=True, env=env, timeout=600,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "test@example.com")
    _git(repo, "config", "user.name", "test")
    (repo / "bad.py").write_text(BAD)
    (repo / "good.py").write_text(GOOD)
    (repo / "notes.txt").write_text("not python\n")
    return repo


def test_check_hook_fails_on_the_bad_file_and_passes_on_the_good_one(repo: Path, tmp_path: Path) -> None:
    home = tmp_path / "pre-commit-home"
    _git(repo, "add", "bad.py", "good.py")
    failing = _try_repo(repo, "nncheck", home)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "bad.py:5:5: NNC001" in failing.stdout
    _git(repo, "rm", "-q", "--cached", "bad.py")
    passing = _try_repo(repo, "nncheck", home)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    # No Python file staged at all: the hook is skipped, never failed.
    _git(repo, "rm", "-q", "--cached", "good.py")
    _git(repo, "add", "notes.txt")
    empty = _try_repo(repo, "nncheck", home)
    assert empty.returncode == 0, empty.stdout + empty.stderr


def test_fix_hook_fixes_the_staged_file(repo: Path, tmp_path: Path) -> None:
    _git(repo, "add", "bad.py")
    result = _try_repo(repo, "nncheck-fix", tmp_path / "pre-commit-home")
    # pre-commit fails a hook that modified files, so that the fix is reviewed and staged.
    assert result.returncode == 1
    assert (repo / "bad.py").read_text() == BAD.replace("__call__", "forward")


def test_the_readme_local_hook_runs_the_installed_nncheck(repo: Path, tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8").split("### pre-commit", 1)[1]
    config = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    (repo / ".pre-commit-config.yaml").write_text(config)
    _git(repo, "add", "bad.py", "good.py", ".pre-commit-config.yaml")
    # language: system runs the nncheck on PATH: the one installed beside this Python.
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "home"), "PRE_COMMIT_COLOR": "never",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files"], cwd=repo,
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "bad.py:5:5: NNC001" in result.stdout
    (repo / "bad.py").write_text(GOOD)
    _git(repo, "add", "bad.py")
    passing = subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files"], cwd=repo,
                             capture_output=True, text=True, env=env, timeout=600)
    assert passing.returncode == 0, passing.stdout + passing.stderr
