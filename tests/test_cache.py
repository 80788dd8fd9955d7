"""The command's result cache: same results warm as cold, invalidated by any edit that matters, and
never trusted when an entry is damaged."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import nncheck.files.cache
from conftest import nncheck_here, run
from nncheck import __version__
from nncheck.files.cache import ResultCache
from test_cli import BAD, GOOD, write
from test_fix_safety import SEED, end_group, unprivileged


def nncheck_with(cache: Path, *args: str, cwd: Path) -> tuple[int, str]:
    # In this process: the cache is all files, and a run answered from it is still a fresh main().
    result = nncheck_here("--cache-dir", str(cache), *args, cwd=cwd)
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
        "import sys\nfrom nncheck.frontends.cli import main\n"
        f"status = main(['--cache-dir', {str(cache)!r}, '.'])\n"
        "print('libcst loaded' if 'libcst' in sys.modules else 'libcst not loaded', file=sys.stderr)\n"
    )
    # A process of its own has another import path than the test run's, so another environment: its
    # first run fills its own entries, and its second is answered from them.
    run(sys.executable, "-c", probe, cwd=tmp_cwd)
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


def sealed(payload: object) -> bytes:
    """An entry as the cache writes one: a checksum line, then the JSON it covers."""
    body = json.dumps(payload).encode()
    return hashlib.sha256(body).hexdigest().encode() + b"\n" + body


def run_with(cache: Path, *args: str, cwd: Path, prefix: tuple[str, ...] = ()) -> tuple[int, str]:
    # Its own time limit: a cache that makes nncheck wait forever must fail the test, not hang it.
    command = [*prefix, sys.executable, "-m", "nncheck", "--cache-dir", str(cache), *args]
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout


def leftovers(cache: Path) -> list[Path]:
    return sorted(p for p in cache.rglob("*") if p.is_file() and not p.name.endswith(".json"))


@pytest.mark.parametrize("kind", ["folder", "fifo", "dangling-symlink"])
def test_an_entry_that_is_not_a_file_is_ignored(kind: str, tmp_cwd: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    write(tmp_cwd / "a.py", BAD)
    cold = run_with(cache, cwd=tmp_cwd)
    (entry,) = entries(cache)
    entry.unlink()
    if kind == "folder":
        entry.mkdir()
    elif kind == "fifo":
        os.mkfifo(entry)  # opening it for reading would wait for a writer forever
    else:
        entry.symlink_to(tmp_path / "nowhere")
    assert run_with(cache, cwd=tmp_cwd) == cold
    assert run_with(cache, cwd=tmp_cwd) == cold
    # A new entry that cannot take the place of a folder must not leave its temporary file behind.
    assert leftovers(cache) == []


def test_an_entry_of_another_version_is_ignored(tmp_cwd: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    write(tmp_cwd / "a.py", BAD)
    cold = run_with(cache, cwd=tmp_cwd)
    (entry,) = entries(cache)
    # Well formed and claiming the file is clean: only its version tells it is not this nncheck's.
    monkeypatch.setattr(nncheck.files.cache, "__version__", "0.0.0-other")
    ResultCache(str(cache)).put(entry.stem, [], [])
    monkeypatch.undo()
    assert json.loads(entry.read_bytes().partition(b"\n")[2])["version"] == "0.0.0-other"
    assert run_with(cache, cwd=tmp_cwd) == cold
    # The same claim from this version is believed: the version, not the shape, made the difference.
    ResultCache(str(cache)).put(entry.stem, [], [])
    assert run_with(cache, cwd=tmp_cwd) == (0, "")


def test_a_truncated_or_altered_entry_is_never_used(tmp_cwd: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    write(tmp_cwd / "a.py", BAD)
    run_with(cache, cwd=tmp_cwd)
    (entry,) = entries(cache)
    whole = entry.read_bytes()
    reader = ResultCache(str(cache))
    assert reader.get(entry.stem, "a.py")  # the control: read whole, the entry is used
    # Cut anywhere (a writer killed half-way), or one bit flipped anywhere (a damaged disk): a
    # flipped digit in a line number is still valid JSON, and only the checksum tells.
    damaged = [whole[:size] for size in range(len(whole))]
    damaged += [whole[:i] + bytes([whole[i] ^ 1]) + whole[i + 1:] for i in range(len(whole))]
    for data in damaged:
        entry.write_bytes(data)
        assert reader.get(entry.stem, "a.py") is None, data


@pytest.mark.parametrize("payload", [
    [], "text", {"version": __version__, "dependencies": [], "findings": []},
    {"version": __version__, "dependencies": {}, "findings": "text"},
    {"version": __version__, "dependencies": {}, "findings": [{"line": 1}]},
], ids=["list", "string", "dependencies-list", "findings-string", "finding-incomplete"])
def test_an_entry_of_the_wrong_shape_is_ignored(payload: object, tmp_path: Path) -> None:
    reader = ResultCache(str(tmp_path))
    key = "ab" * 32
    entry = Path(reader._file(key))
    entry.parent.mkdir()
    entry.write_bytes(sealed(payload))
    assert reader.get(key, "a.py") is None


def test_unreadable_entries_and_a_read_only_cache_are_ignored(tmp_cwd: Path, tmp_path: Path) -> None:
    prefix = unprivileged()
    if prefix is None:
        pytest.skip("running as root, and setpriv cannot drop the capabilities that override permissions")
    cache = tmp_path / "cache"
    write(tmp_cwd / "a.py", BAD)
    cold = run_with(cache, cwd=tmp_cwd)
    (entry,) = entries(cache)
    entry.chmod(0o000)
    assert run_with(cache, cwd=tmp_cwd, prefix=prefix) == cold
    # Nothing in the cache can be written or replaced: results are still right, and nothing changes.
    entry.chmod(0o444)
    folders = [cache, *(p for p in cache.rglob("*") if p.is_dir())]
    for folder in folders:
        folder.chmod(0o555)
    try:
        write(tmp_cwd / "a.py", GOOD)
        assert run_with(cache, cwd=tmp_cwd, prefix=prefix) == (0, "")
        write(tmp_cwd / "b.py", BAD)
        assert run_with(cache, cwd=tmp_cwd, prefix=prefix) == (1, cold[1].replace("a.py", "b.py"))
        assert sorted(cache.rglob("*")) == sorted([*folders[1:], entry])
    finally:
        for folder in folders:
            folder.chmod(0o755)


def test_pruning_copes_with_entries_removed_meanwhile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reader = ResultCache(str(tmp_path))
    for key in ("aa" * 32, "ab" * 32, "ac" * 32):
        write(Path(reader._file(key)), "{}")
    scandir = os.scandir

    def listed_then_removed(path: str) -> list[os.DirEntry[str]]:
        # Another run prunes too: an entry listed here is gone by the time it is looked at.
        listed = list(scandir(path))
        for item in listed:
            if item.name.startswith("ab") and item.is_file():
                os.unlink(item.path)
        return listed

    monkeypatch.setattr(os, "scandir", listed_then_removed)
    reader.prune(limit=1)
    monkeypatch.undo()
    assert len(entries(tmp_path)) == 1


CACHE_KILLS = 6


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads process groups from /proc")
def test_a_run_killed_while_writing_the_cache_leaves_it_correct(tmp_cwd: Path, tmp_path: Path) -> None:
    for index in range(40):
        write(tmp_cwd / f"pkg{index % 4}" / f"m{index:02d}.py", BAD if index % 2 else GOOD)
    command = [sys.executable, "-m", "nncheck", "--jobs", "2", "--cache-dir", str(tmp_path / "cache"), "."]
    started = time.monotonic()
    expected = run_with(tmp_path / "unused", "--no-cache", "--jobs", "2", cwd=tmp_cwd)
    seconds = time.monotonic() - started
    rng = random.Random(SEED)
    for _ in range(CACHE_KILLS):
        process = subprocess.Popen(command, cwd=tmp_cwd, start_new_session=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, seconds))
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        end_group(process.pid)
        # Whatever the kill left (entries, stray temporary files), the next run's results are right.
        assert run_with(tmp_path / "cache", "--jobs", "2", cwd=tmp_cwd) == expected


def test_a_cached_finding_is_shown_at_the_path_given_in_this_run(tmp_cwd: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    # A configuration makes the settings the same from every folder (the default src is the current one).
    write(tmp_cwd / "pyproject.toml", "[tool.nncheck]\n")
    write(tmp_cwd / "pkg" / "m.py", BAD)
    message = "NNC001 [*] Net.__call__ bypasses forward hooks; rename it to forward\n"
    assert nncheck_with(cache, "pkg/m.py", cwd=tmp_cwd) == (1, f"pkg/m.py:5:5: {message}")
    assert len(entries(cache)) == 1
    # The same file, named from its folder and by its absolute path: answered from the same entry.
    assert nncheck_with(cache, "m.py", cwd=tmp_cwd / "pkg") == (1, f"m.py:5:5: {message}")
    absolute = str(tmp_cwd / "pkg" / "m.py")
    assert nncheck_with(cache, absolute, cwd=tmp_cwd) == (1, f"{absolute}:5:5: {message}")
    github = nncheck_with(cache, "--output-format", "github", "m.py", cwd=tmp_cwd / "pkg")[1]
    assert github.startswith("::warning file=m.py,line=5,")
    sarif = json.loads(nncheck_with(cache, "--output-format", "sarif", "m.py", cwd=tmp_cwd / "pkg")[1])
    location = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"] == "m.py"
    assert len(entries(cache)) == 1
