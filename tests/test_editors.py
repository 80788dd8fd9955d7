"""The README's editor set-ups, run in the real editors: Neovim, headless, with the Lua snippet exactly
as the README gives it, and Emacs in batch mode with its eglot snippet (each skipped where the editor is
not installed; CI installs Debian's Neovim 0.7, and Emacs 28 with elpa-eglot)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from test_cli import BAD, GOOD

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


# Stands in for the user: opens the file, waits for eglot's diagnostic in flymake, then asks for the code
# actions on it and presses RET (the preferred one: the quick fix), and saves. In batch mode no command
# runs, so the hooks that eglot and flymake defer their start to are run here.
EMACS_PROBE = """
(require 'cl-lib)
(defun probe-wait (predicate seconds)
  (let ((deadline (+ (float-time) seconds)))
    (while (and (not (funcall predicate)) (< (float-time) deadline))
      (run-hooks 'post-command-hook)
      (accept-process-output nil 0.1))))
(find-file "net.py")
(probe-wait #'flymake-diagnostics 30)
(with-temp-file "diagnostics.txt"
  (dolist (d (with-current-buffer "net.py" (flymake-diagnostics)))
    (insert (with-current-buffer "net.py"
              (save-excursion
                (goto-char (flymake-diagnostic-beg d))
                (format "%d:%d %s\n" (line-number-at-pos) (1+ (current-column)) (flymake-diagnostic-text d)))))))
(let ((d (car (flymake-diagnostics))))
  (cl-letf (((symbol-function 'completing-read) (lambda (&rest args) (nth 6 args))))
    (let ((last-nonmenu-event ?\r))
      (eglot-code-actions (flymake-diagnostic-beg d) (flymake-diagnostic-end d) nil t))))
(save-buffer)
(kill-emacs 0)
"""


def readme_elisp() -> str:
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("**Emacs**", 1)[1]
    block = re.search(r"```elisp\n(.*?)```", section, re.DOTALL)
    assert block is not None
    return block.group(1)


def emacs(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # Packages are activated as an interactive Emacs does at startup (batch mode does not), from the
    # system's folders only: HOME is the test's own.
    env = {**os.environ, "HOME": str(cwd),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(["emacs", "--batch", "--eval", "(package-activate-all)", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=90)


@pytest.mark.skipif(shutil.which("emacs") is None, reason="Emacs is not installed")
def test_emacs_eglot_shows_the_finding_and_applies_its_quick_fix_with_the_readme_snippet(tmp_path: Path) -> None:
    if emacs("--eval", "(kill-emacs (if (locate-library \"eglot\") 0 3))", cwd=tmp_path).returncode != 0:
        pytest.skip("Emacs has no eglot (built in from Emacs 29; Debian 12's Emacs 28: apt install elpa-eglot)")
    (tmp_path / "init.el").write_text(readme_elisp())
    (tmp_path / "probe.el").write_text(EMACS_PROBE)
    (tmp_path / "net.py").write_text(BAD)
    ran = emacs("-l", "init.el", "-l", "probe.el", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    shown = (tmp_path / "diagnostics.txt").read_text().splitlines()
    assert shown == ["5:9 nncheck [NNC001]: Net.__call__ bypasses forward hooks; rename it to forward"], ran.stderr
    assert (tmp_path / "net.py").read_text() == GOOD, ran.stderr
