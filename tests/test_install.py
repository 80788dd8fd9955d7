"""Every install command of the README's Installing section, run as a new user would: each in a fresh
virtualenv, in a fresh copy of the repository's tracked files."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow  # each command installs nncheck and its dependencies into a new virtualenv


def install_commands() -> list[str]:
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Installing", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None
    return [line.split("#", 1)[0].strip() for line in block.group(1).strip().splitlines()]


def test_the_readme_lists_the_four_ways() -> None:
    commands = install_commands()
    assert commands == ["pip install .", "pip install '.[lsp]'", "pip install '.[pylsp]'",
                        "pip wheel --no-deps -w dist . && pip install dist/nncheck-*.whl"]


@pytest.mark.parametrize("command", install_commands())
def test_install_command_works_in_a_fresh_virtualenv(command: str, tmp_path: Path) -> None:
    checkout = tmp_path / "nncheck"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in tracked.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, checkout / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}", "VIRTUAL_ENV": str(venv)}
    env.pop("PYTHONPATH", None)
    installed = subprocess.run(["bash", "-c", command], cwd=checkout, env=env, capture_output=True, text=True,
                               timeout=900)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "net.py").write_text((ROOT / "examples" / "seed_nets.py").read_text())
    checked = subprocess.run([str(venv / "bin" / "nncheck"), "net.py"], cwd=outside, env=env, capture_output=True,
                             text=True, timeout=120)
    assert checked.returncode == 1 and "net.py:31:5: NNC001" in checked.stdout, checked.stderr
    plugin = subprocess.run([str(venv / "bin" / "flake8"), "--version"], cwd=outside, env=env, capture_output=True,
                            text=True, timeout=120)
    assert "nncheck:" in plugin.stdout
    server = subprocess.run([str(venv / "bin" / "nncheck"), "lsp", "--help"], cwd=outside, env=env,
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert server.returncode == 0 and server.stdout.startswith("usage: nncheck lsp")
    if "[lsp]" in command:
        import_server = [str(venv / "bin" / "python"), "-c", "import pygls.lsp.server"]
        assert subprocess.run(import_server, env=env, timeout=120).returncode == 0
    if "[pylsp]" in command:  # the plugin as pylsp loads it: by its entry point
        load_plugin = [str(venv / "bin" / "python"), "-c", "from importlib.metadata import entry_points; "
                       "[plugin] = entry_points(group='pylsp', name='nncheck'); print(plugin.load().__name__)"]
        loaded = subprocess.run(load_plugin, env=env, capture_output=True, text=True, timeout=120)
        assert loaded.stdout == "nncheck.frontends.pylsp_plugin\n", loaded.stderr
