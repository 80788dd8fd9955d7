"""A named Python interpreter that cannot be run (`python =` in [tool.nncheck] pasted into a project
without that virtualenv, `--python`, flake8's `--nncheck-python`): one decision for every front end.
The command stops with a usage error naming where it was named; flake8 and the language server warn
once and read the libraries of the environment they run under."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CACHE, nncheck_here
from test_cli import BAD, BAD_LINE, write

# `mylib` is found only on the import path of the environment the front end runs under (PYTHONPATH).
MINE = "from mylib import Blk\n\n\nclass Mine(Blk):\n    def __init__(self):\n        self.width = 4\n"
MYLIB = "import torch\n\n\nclass Blk(torch.nn.Module):\n    pass\n"
MINE_FOUND = ("mine.py:5:5: NNC002 Mine.__init__ never calls the base __init__; "
              "add super().__init__() as its first statement")
NO_SUCH = "No such file or directory"


def configured(project: Path) -> Path:
    """A project whose configuration names a virtualenv it does not have, as the README's example did."""
    write(project / "pyproject.toml", '[tool.nncheck]\npython = ".venv/bin/python"\n')
    write(project / "mine.py", MINE)
    write(project / "lib" / "mylib" / "__init__.py", MYLIB)
    return project / ".venv" / "bin" / "python"


def test_the_command_names_the_file_and_key_or_the_option(tmp_cwd: Path) -> None:
    python = configured(tmp_cwd)
    write(tmp_cwd / "x.py", BAD)
    config = Path.cwd() / "pyproject.toml"
    named = f"cannot run the Python interpreter '{Path.cwd() / '.venv' / 'bin' / 'python'}': {NO_SUCH}"
    assert not python.exists()
    for arguments in ([], ["x.py"], ["--fix", "x.py"], ["-", "--stdin-filename", "x.py"]):
        result = nncheck_here(*arguments, cwd=tmp_cwd, stdin=BAD)
        assert (result.returncode, result.stdout) == (2, ""), arguments
        assert result.stderr == f"nncheck: error: {config}: [tool.nncheck] python: {named}\n", arguments
    assert (tmp_cwd / "x.py").read_text() == BAD  # nothing was fixed
    given = nncheck_here("--python", "/no/such/python", "x.py", cwd=tmp_cwd)
    assert (given.returncode, given.stdout) == (2, "")
    assert given.stderr == f"nncheck: error: --python: cannot run the Python interpreter '/no/such/python': {NO_SUCH}\n"
    # Once the virtualenv is there (here: a link to this interpreter), the same configuration works.
    python.parent.mkdir(parents=True)
    python.symlink_to(sys.executable)
    assert nncheck_here("x.py", cwd=tmp_cwd).stdout == f"x.py:{BAD_LINE}\n"


def flake8(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd / "lib"), "NNCHECK_CACHE_DIR": CACHE}
    return subprocess.run([sys.executable, "-m", "flake8", "--select", "NNC", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_flake8_warns_once_and_reads_its_own_environment(tmp_cwd: Path) -> None:
    configured(tmp_cwd)
    # Enough files for flake8 to check them in two worker processes.
    for index in range(12):
        write(tmp_cwd / "more" / f"m{index:02d}.py", BAD)
    expected = [MINE_FOUND] + [f"./more/m{index:02d}.py:{BAD_LINE.replace(' [*]', '')}" for index in range(12)]
    warning = (f"cannot run the Python interpreter '/no/such/python': {NO_SUCH}; "
               "reading installed libraries from the environment flake8 runs under instead")
    given = flake8("--isolated", "-j", "2", "--nncheck-python", "/no/such/python", "mine.py", "./more", cwd=tmp_cwd)
    assert sorted(given.stdout.splitlines()) == sorted(expected)
    assert given.stderr == f"nncheck: warning: --nncheck-python: {warning}\n"
    write(tmp_cwd / "setup.cfg", "[flake8]\nnncheck-python = /no/such/python\n")
    from_config = flake8("-j", "2", "mine.py", "./more", cwd=tmp_cwd)
    assert sorted(from_config.stdout.splitlines()) == sorted(expected)
    assert from_config.stderr == f"nncheck: warning: nncheck-python (flake8's configuration): {warning}\n"


def test_the_language_server_shows_a_warning_once_and_reads_its_own_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pygls")
    from test_lsp import Client

    configured(tmp_path)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "lib"))
    client = Client(tmp_path / "server.log")
    try:
        client.initialize()
        uri = (tmp_path / "mine.py").as_uri()
        client.open(uri, MINE)
        shown = client.receive(lambda m: m.get("method") == "window/showMessage", "a message shown")
        config, python = tmp_path / "pyproject.toml", tmp_path / ".venv" / "bin" / "python"
        assert shown["params"] == {"type": 2, "message": (
            f"nncheck: {config}: [tool.nncheck] python: cannot run the Python interpreter '{python}': {NO_SUCH}; "
            "reading installed libraries from the environment nncheck lsp runs under instead")}
        assert [d["code"] for d in client.diagnostics(uri)["diagnostics"]] == ["NNC002"]
        other = (tmp_path / "other.py").as_uri()
        client.open(other, MINE.replace("Mine", "Other"))
        assert [d["code"] for d in client.diagnostics(other)["diagnostics"]] == ["NNC002"]
        client.nothing_more(lambda m: m.get("method") == "window/showMessage", 0.5)
        assert client.errors_reported() == []
    finally:
        client.close()
