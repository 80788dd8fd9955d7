"""One result cache folder shared by several Python environments (the default ~/.cache/nncheck, used
by a project's virtualenv and by pre-commit's alike): each environment gets the findings its own
installed libraries give, whichever ran first, in the command and in the flake8 plugin."""

from __future__ import annotations

import os
import site
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import nncheck
from test_cli import write

MINE = "from mylib import Blk\n\n\nclass Mine(Blk):\n    def __init__(self):\n        self.width = 4\n"
MYLIB = "import torch\n\n\nclass Blk(torch.nn.Module):\n    pass\n"
FOUND = "mine.py:5:5: NNC002"


def environment(folder: Path, with_mylib: bool) -> Path:
    """A real virtualenv in which nncheck (and what it needs) is importable, as if installed there,
    and `mylib` is installed only if asked; its interpreter."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
    python = folder / "bin" / "python"
    ask = "import site, sys; print(site.getsitepackages()[0])"
    packages = Path(subprocess.run([str(python), "-c", ask], capture_output=True, text=True, check=True).stdout.strip())
    # nncheck as this test run has it (an editable checkout or an installed copy), with libcst and flake8.
    shared = [os.path.dirname(os.path.dirname(nncheck.__file__)), *site.getsitepackages()]
    write(packages / "nncheck_under_test.pth", "\n".join(shared) + "\n")
    if with_mylib:
        write(packages / "mylib" / "__init__.py", MYLIB)
    return python


@pytest.fixture(scope="module")
def pythons(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("environments")
    return environment(folder / "a", with_mylib=True), environment(folder / "b", with_mylib=False)


def command(python: Path, cache: Path, cwd: Path) -> str:
    result = subprocess.run([str(python), "-m", "nncheck", "--cache-dir", str(cache), "mine.py"],
                            cwd=cwd, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


def flake8(python: Path, cache: Path, cwd: Path) -> str:
    result = subprocess.run([str(python), "-m", "flake8", "--isolated", "--select", "NNC",
                             "--nncheck-cache-dir", str(cache), "mine.py"],
                            cwd=cwd, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


@pytest.mark.parametrize("front_end", [command, flake8], ids=["command", "flake8"])
@pytest.mark.parametrize("first", ["a", "b"])
def test_each_environment_gets_its_own_findings_from_one_cache(
    pythons: tuple[Path, Path], tmp_path: Path, front_end: Callable[[Path, Path, Path], str], first: str
) -> None:
    a, b = pythons
    project = tmp_path / "project"
    write(project / "mine.py", MINE)
    cache = tmp_path / "cache"
    order = [a, b, a, b] if first == "a" else [b, a, b, a]
    for python in order:
        output = front_end(python, cache, project)
        if python == a:
            assert output.startswith(FOUND), output  # mylib.Blk is an nn.Module in a
        else:
            assert output == "", output  # in b, mylib is not installed: Blk is unknown
    # One entry per environment, each kept while the other runs.
    assert len(list(cache.rglob("*.json"))) == 2


def installed(folder: Path, checkout: Path, packages: list[Path]) -> dict[str, str]:
    """A virtualenv made and filled as the README says (`pip install .` from a checkout), and the
    environment to run its commands in."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=300)
    env = {**os.environ, "PATH": f"{folder / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
           "VIRTUAL_ENV": str(folder)}
    env.pop("PYTHONPATH", None)
    for package in [checkout, *packages]:
        done = subprocess.run([str(folder / "bin" / "pip"), "install", "-q", str(package)], env=env,
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stdout + done.stderr
    return env


@pytest.mark.slow
def test_two_real_virtualenvs_share_the_default_cache_folder(tmp_path: Path) -> None:
    from conftest import ROOT

    checkout = tmp_path / "nncheck"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in tracked.decode().split("\0"):
        if name and (ROOT / name).is_file():
            write(checkout / name, (ROOT / name).read_bytes())
    mylib = tmp_path / "mylib"
    write(mylib / "pyproject.toml", '[project]\nname = "mylib"\nversion = "1.0"\n\n[build-system]\n'
                                    'requires = ["setuptools>=64"]\nbuild-backend = "setuptools.build_meta"\n')
    write(mylib / "mylib" / "__init__.py", MYLIB)
    envs = {"a": installed(tmp_path / "a", checkout, [mylib]), "b": installed(tmp_path / "b", checkout, [])}
    project = tmp_path / "project"
    write(project / "mine.py", MINE)
    home = tmp_path / "home"  # the default folder, ~/.cache/nncheck, of one user for both environments
    for name in "abab" + "baba":
        env = {**envs[name], "HOME": str(home)}
        env.pop("NNCHECK_CACHE_DIR", None)
        env.pop("XDG_CACHE_HOME", None)
        for command in (["nncheck", "mine.py"], ["flake8", "--isolated", "--select", "NNC", "mine.py"]):
            result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=120)
            assert "Traceback" not in result.stderr, result.stderr
            assert result.stdout.startswith(FOUND) if name == "a" else result.stdout == "", (name, command, result)
    assert len(list((home / ".cache" / "nncheck").rglob("*.json"))) == 4  # two front ends, two environments
