"""The README's editor set-up, run in the real editor: Neovim, headless, with the Lua snippet exactly as
the README gives it (skipped where no `nvim` is installed; CI installs Debian's 0.7)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from test_cli import BAD

pytest.importorskip("pygls")

PROBE = """
vim.wait(20000, function() return #vim.diagnostic.get(0) > 0 end, 100)
local out = {}
for _, d in ipairs(vim.diagnostic.get(0)) do
  local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code) or "?"
  table.insert(out, string.format("%d:%d %s %s", d.lnum + 1, d.col + 1, code, d.message))
end
vim.fn.writefile(out, "diagnostics.txt")
vim.cmd("qa!")
"""


def readme_lua() -> str:
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("**Neovim**", 1)[1]
    block = re.search(r"```lua\n(.*?)```", section, re.DOTALL)
    assert block is not None
    return block.group(1)


@pytest.mark.skipif(shutil.which("nvim") is None, reason="Neovim is not installed")
def test_neovim_shows_the_finding_with_the_readme_snippet(tmp_path: Path) -> None:
    (tmp_path / "init.lua").write_text(readme_lua())
    (tmp_path / "probe.lua").write_text(PROBE)
    (tmp_path / "net.py").write_text(BAD)
    # `nncheck` as the snippet names it: the one installed beside this Python.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run(["nvim", "--headless", "-u", "init.lua", "-c", "luafile probe.lua", "net.py"], cwd=tmp_path,
                   env=env, capture_output=True, timeout=60)
    shown = (tmp_path / "diagnostics.txt").read_text().splitlines()
    assert shown == ["5:9 NNC001 Net.__call__ bypasses forward hooks; rename it to forward"]
