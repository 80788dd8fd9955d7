"""`--fix` and `--diff` with the result cache: a file whose cached findings have nothing this run could
fix is not analysed again; files with fixes still are, and every answer is what a run without the
cache gives."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import nncheck.engine.checker
from conftest import nncheck_here
from test_cli import BAD, GOOD, write

REDEFINED = "from torch import nn\n\n\nclass Net(nn.Module):\n    pass\n\n\nclass Net(nn.Module):\n    pass\n"
DROPOUT = ("import torch.nn.functional as F\nfrom torch import nn\n\n\nclass Net(nn.Module):\n"
           "    def forward(self, x):\n        return F.dropout(x)\n")
FILES = {"clean.py": GOOD, "nofix.py": REDEFINED, "unsafe.py": DROPOUT, "safe.py": BAD}


@pytest.fixture
def analysed(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times each file was analysed (parsed and given to the rules) in this process."""
    counts: Counter[str] = Counter()
    real = nncheck.engine.checker._analyse

    def counting(text: str, path: str, *args: Any) -> Any:
        counts[path] += 1
        return real(text, path, *args)

    monkeypatch.setattr(nncheck.engine.checker, "_analyse", counting)
    return counts


def tree(root: Path) -> dict[str, str]:
    return {name: (root / name).read_text() for name in FILES}


def run(cache: Path, *args: str, cwd: Path) -> tuple[int, str, str]:
    # Fewer files than it takes to start worker processes: every analysis happens in this process.
    result = nncheck_here("--cache-dir", str(cache), *args, *FILES, cwd=cwd)
    return result.returncode, result.stdout, result.stderr


def uncached(*args: str, cwd: Path) -> tuple[int, str, str]:
    result = nncheck_here("--no-cache", *args, *FILES, cwd=cwd)
    return result.returncode, result.stdout, result.stderr


def test_a_warm_diff_or_fix_analyses_only_the_files_it_can_fix(
    tmp_cwd: Path, tmp_path: Path, analysed: Counter[str]
) -> None:
    cache = tmp_path / "cache"
    for name, text in FILES.items():
        write(tmp_cwd / name, text)
    expected_diff = uncached("--diff", cwd=tmp_cwd)
    run(cache, cwd=tmp_cwd)  # a plain run fills the cache
    analysed.clear()
    warm = run(cache, "--diff", cwd=tmp_cwd)
    assert set(analysed) == {"safe.py"}  # the others' cached findings have no safe fix
    assert warm == expected_diff
    assert warm[2] == "Would fix 1 problem in 1 file (4 files checked); 1 more fixable with --unsafe-fixes.\n"
    assert tree(tmp_cwd) == FILES
    analysed.clear()
    expected_fix = uncached("--diff", "--unsafe-fixes", cwd=tmp_cwd)
    analysed.clear()
    assert run(cache, "--diff", "--unsafe-fixes", cwd=tmp_cwd) == expected_fix
    assert set(analysed) == {"safe.py", "unsafe.py"}
    analysed.clear()
    fixed = run(cache, "--fix", cwd=tmp_cwd)
    assert set(analysed) == {"safe.py"}
    assert (tmp_cwd / "safe.py").read_text() == BAD.replace("__call__", "forward")
    assert fixed[2] == ("Fixed 1 problem in 1 file; 2 problems in 2 files remain (4 files checked); "
                        "1 fixable with --unsafe-fixes.\n")
    # What the fix left was cached with the file's new content: nothing is analysed any more.
    analysed.clear()
    again = run(cache, "--fix", cwd=tmp_cwd)
    assert dict(analysed) == {}
    assert again == (fixed[0], fixed[1], fixed[2].replace("Fixed 1 problem in 1 file", "Fixed 0 problems in 0 files"))
    assert again == uncached("--fix", cwd=tmp_cwd)


def test_a_changed_file_is_analysed_again_and_fixed(tmp_cwd: Path, tmp_path: Path, analysed: Counter[str]) -> None:
    cache = tmp_path / "cache"
    for name, text in FILES.items():
        write(tmp_cwd / name, text)
    run(cache, "--fix", cwd=tmp_cwd)
    # clean.py gains a safe fix, nofix.py loses its finding: neither cached answer holds any more.
    write(tmp_cwd / "clean.py", BAD)
    write(tmp_cwd / "nofix.py", GOOD)
    analysed.clear()
    diff = run(cache, "--diff", cwd=tmp_cwd)
    assert set(analysed) == {"clean.py", "nofix.py"}
    assert diff == uncached("--diff", cwd=tmp_cwd)
    assert diff[1].startswith("--- a/clean.py\n+++ b/clean.py\n")
    fixed = run(cache, "--fix", cwd=tmp_cwd)
    assert (tmp_cwd / "clean.py").read_text() == BAD.replace("__call__", "forward")
    assert fixed[2] == ("Fixed 1 problem in 1 file; 1 problem in 1 file remains (4 files checked); "
                        "1 fixable with --unsafe-fixes.\n")
    # A base class that appears in another file changes the findings of a cached file too.
    write(tmp_cwd / "nofix.py", "from base import Base\n\n\nclass Net(Base):\n    def __call__(self, x):\n"
                                "        return x\n")
    run(cache, "--fix", cwd=tmp_cwd)
    assert (tmp_cwd / "nofix.py").read_text().count("__call__") == 1
    write(tmp_cwd / "base.py", "from torch import nn\n\n\nclass Base(nn.Module):\n    pass\n")
    analysed.clear()
    run(cache, "--fix", cwd=tmp_cwd)
    assert "nofix.py" in analysed
    assert (tmp_cwd / "nofix.py").read_text().count("forward") == 1


def test_a_new_nncheck_with_the_same_version_does_not_reuse_the_old_results(
    tmp_cwd: Path, tmp_path: Path, analysed: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A checkout updated and installed again keeps its version number; its rules may find more.
    import nncheck.files.cache

    cache = tmp_path / "cache"
    for name, text in FILES.items():
        write(tmp_cwd / name, text)
    run(cache, cwd=tmp_cwd)
    analysed.clear()
    run(cache, cwd=tmp_cwd)
    assert dict(analysed) == {}  # the same code: every result comes from the cache
    monkeypatch.setattr(nncheck.files.cache, "code_fingerprint", lambda: "another build of nncheck", raising=False)
    run(cache, cwd=tmp_cwd)
    assert set(analysed) == set(FILES)  # every file is checked again
