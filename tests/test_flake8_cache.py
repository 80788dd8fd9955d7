"""The flake8 plugin's result cache, through real flake8: answers from it are the answers a fresh check
gives, any edit that matters is seen, and the command's entries (which honour noqa) are not flake8's."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from conftest import flake8, nncheck_here
from test_cli import BAD, write
from test_flake8 import EXPECTED, _nnc


def flake8_with(cache: Path, *args: str, cwd: Path) -> list[str]:
    return _nnc(flake8("--nncheck-cache-dir", str(cache), *args, cwd=cwd).stdout)


def entries(cache: Path) -> list[Path]:
    return sorted(cache.rglob("*.json"))


def rewrite(entry: Path, change: dict[str, str]) -> None:
    """Change an entry's first finding and keep its checksum whole, as a run that found that would."""
    body = json.loads(entry.read_bytes().partition(b"\n")[2])
    body["findings"][0].update(change)
    data = json.dumps(body).encode()
    entry.write_bytes(hashlib.sha256(data).hexdigest().encode() + b"\n" + data)


def test_a_second_run_is_answered_from_the_cache(tmp_cwd: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    write(tmp_cwd / "x.py", BAD)
    assert flake8_with(cache, "x.py", cwd=tmp_cwd) == [EXPECTED]
    (entry,) = entries(cache)
    # What the entry says is what flake8 shows: proof that the second run read it instead of checking.
    rewrite(entry, {"message": "from the cache"})
    assert flake8_with(cache, "x.py", cwd=tmp_cwd) == ["x.py:5:5: NNC001 from the cache"]
    # Damaged, it is ignored and the file is checked again.
    entry.write_bytes(entry.read_bytes()[:-3])
    assert flake8_with(cache, "x.py", cwd=tmp_cwd) == [EXPECTED]
    # Given another content, the file is another entry.
    write(tmp_cwd / "x.py", "\n" + BAD)
    assert flake8_with(cache, "x.py", cwd=tmp_cwd) == [EXPECTED.replace(":5:5:", ":6:5:")]


def test_a_changed_base_in_another_file_is_seen(tmp_cwd: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    write(tmp_cwd / "pkg" / "__init__.py", "")
    write(tmp_cwd / "pkg" / "net.py", "from .base import Base\n\n\nclass Net(Base):\n    def __call__(self, x):\n"
                                      "        return x\n")
    write(tmp_cwd / "pkg" / "base.py", "from torch import nn\n\n\nclass Base(nn.Module):\n    pass\n")
    found = ["pkg/net.py:5:5: NNC001 Net.__call__ bypasses forward hooks; rename it to forward"]
    assert flake8_with(cache, "pkg/net.py", cwd=tmp_cwd) == found
    write(tmp_cwd / "pkg" / "base.py", "class Base:\n    pass\n")
    assert flake8_with(cache, "pkg/net.py", cwd=tmp_cwd) == []
    (tmp_cwd / "pkg" / "base.py").unlink()  # gone: Base is unknown, so nothing is claimed
    assert flake8_with(cache, "pkg/net.py", cwd=tmp_cwd) == []
    write(tmp_cwd / "pkg" / "base.py", "from torch import nn\n\n\nclass Base(nn.Module):\n    pass\n")
    assert flake8_with(cache, "-j", "2", "pkg", cwd=tmp_cwd) == found


def test_flake8_and_the_command_keep_their_own_entries(tmp_cwd: Path, tmp_path: Path) -> None:
    # The command drops findings its noqa comments silence; flake8 applies the comments itself, and
    # --disable-noqa shows them: an entry of one must never answer the other.
    cache = tmp_path / "cache"
    write(tmp_cwd / "x.py", BAD.replace("def __call__(self, x):", "def __call__(self, x):  # noqa: NNC001"))
    assert nncheck_here("--cache-dir", str(cache), "x.py", cwd=tmp_cwd).stdout == ""
    assert len(entries(cache)) == 1
    assert len(flake8_with(cache, "--disable-noqa", "x.py", cwd=tmp_cwd)) == 1
    assert len(entries(cache)) == 2
    assert flake8_with(cache, "x.py", cwd=tmp_cwd) == []


def test_no_cache_writes_nothing_and_an_unwritable_folder_only_costs_speed(tmp_cwd: Path, tmp_path: Path) -> None:
    write(tmp_cwd / "x.py", BAD)
    cache = tmp_path / "cache"
    assert flake8_with(cache, "--nncheck-no-cache", "x.py", cwd=tmp_cwd) == [EXPECTED]
    assert not cache.exists()
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    result = flake8("--nncheck-cache-dir", str(blocked), "x.py", cwd=tmp_cwd)
    assert _nnc(result.stdout) == [EXPECTED]
    assert result.stderr == ""
