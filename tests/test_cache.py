"""The command's result cache: same results warm as cold, invalidated by any edit that matters, and
never trusted when an entry is damaged."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from conftest import run
from test_cli import BAD, GOOD, write


def nncheck_with(cache: Path, *args: str, cwd: Path) -> tuple[int, str]:
    result = run(sys.executable, "-m", "nncheck", "--cache-dir", str(cache), *args, cwd=cwd)
    return result.returncode, result.stdout


def entries(cache: Path) -> list[Path]:
    return sorted(cache.rglob("*.json"))


def test_warm_run_gives_the_same_results_without_loading_libcst(tmp_cwd: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    write(tmp_cwd / "a.py", BAD)
    write(tmp_cwd / "b.py", GOOD)
    cold = nncheck_with(cache, cwd=tmp_cwd)
    assert len(entries(cache)) == 2
    assert nncheck_with(cache, cwd=tmp_cwd) == cold
    probe = (
        "import sys\nfrom nncheck.cli import main\n"
        f"status = main(['--cache-dir', {str(cache)!r}, '.'])\n"
        "print('libcst loaded' if 'libcst' in sys.modules else 'libcst not loaded', file=sys.stderr)\n"
    )
    warm = run(sys.executable, "-c", probe, cwd=tmp_cwd)
    assert "libcst not loaded" in warm.stderr
    assert warm.stdout == cold[1]


def test_editing_the_file_or_a_base_it_imports_is_seen(tmp_cwd: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    write(tmp_cwd / "pkg" / "__init__.py", "")
    net = "from .base import Base\n\n\nclass Net(Base):\n    def __init__(self):\n        pass\n"
    write(tmp_cwd / "pkg" / "net.py", net)
    assert nncheck_with(cache, cwd=tmp_cwd) == (0, "")
    # The base file appears: the cached "nothing" for net.py must not be reused.
    write(tmp_cwd / "pkg" / "base.py", "from torch import nn\n\n\nclass Base(nn.Module):\n    pass\n")
    assert nncheck_with(cache, cwd=tmp_cwd)[1].startswith("pkg/net.py:5:5: NNC002")
    write(tmp_cwd / "pkg" / "base.py", "class Base:\n    pass\n")
    assert nncheck_with(cache, cwd=tmp_cwd) == (0, "")
    write(tmp_cwd / "pkg" / "net.py", BAD)
    assert nncheck_with(cache, cwd=tmp_cwd)[1].startswith("pkg/net.py:5:5: NNC001")


def test_damaged_or_foreign_entries_are_ignored(tmp_cwd: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    write(tmp_cwd / "a.py", BAD)
    cold = nncheck_with(cache, cwd=tmp_cwd)
    (entry,) = entries(cache)
    for damage in (b"", b"{\"version\": ", b"not json", json.dumps({"version": "0.0.0-other"}).encode(),
                   json.dumps({"version": "0.1.0", "dependencies": {}, "findings": [{"bogus": 1}]}).encode()):
        entry.write_bytes(damage)
        assert nncheck_with(cache, cwd=tmp_cwd) == cold


def test_unwritable_cache_and_no_cache(tmp_cwd: Path, tmp_path: Path) -> None:
    write(tmp_cwd / "a.py", BAD)
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    cold = nncheck_with(blocker / "cache", cwd=tmp_cwd)
    assert cold[0] == 1 and "NNC001" in cold[1]
    cache = tmp_path / "unused"
    assert nncheck_with(cache, "--no-cache", cwd=tmp_cwd) == cold
    assert not cache.exists()
