"""`nncheck --fix` never loses data: killed at any moment, run twice at once on the same tree, or
unable to write, it leaves every file either exactly as it was or exactly fixed, and nothing else."""

from __future__ import annotations

import errno
import os
import random
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import nncheck.fixes.fixer
import nncheck.files.atomic as writing
from conftest import FIXTURES, run, unprivileged
from nncheck.frontends.cli import main
from nncheck.fixes.outcome import FixResult

TREE_FILES = 300
KILLS = 50
# Fixed so that a failure replays the same kill times; printed with every failure.
SEED = 20240611
JOBS = 2  # as on CI: the pool path, two workers writing at once
# A SIGKILL sent to a worker itself can land between naming the new version and renaming it over the
# file (see writing.py): measured about 1-5% per kill here, so this many leftovers in 50 kills means a
# wider window. Killing only the main process never leaves one: its workers get SIGTERM, held back
# for that moment.
MAX_WINDOW_HITS = KILLS // 5
# Workers ask to be killed with the main process (PR_SET_PDEATHSIG); this is ample time for one
# caught in a slow fsync to go, and is only waited out when one does not.
WORKER_GRACE = 2.0
TEMPORARY = re.compile(r"\.(?P<name>.+)\.[0-9a-f]{8}\.nncheck")
LINUX = sys.platform.startswith("linux")

BAD = b"from torch import nn\n\n\nclass Net(nn.Module):\n    def __call__(self, x):\n        return x\n"
FIXED = BAD.replace(b"__call__", b"forward")
USER = BAD.replace(b"return x", b"return x + 1  # the user's edit")


def _templates() -> list[bytes]:
    """Sources with safe fixes only: every golden with a safe output, a misspelled forward, and a
    file of many classes (so that files differ in size and in how many fixes they take)."""
    golden = FIXTURES / "fix"
    sources = [p.read_bytes() for p in sorted(golden.glob("*.in.py"))
               if p.with_name(p.name.replace(".in.py", ".out.py")).exists()]
    sources.append(b"from torch import nn\n\n\nclass Net(nn.Module):\n    def foward(self, x):\n        return x\n")
    many = b"".join(b"\n\nclass Net%d(nn.Module):\n    def __call__(self, x):\n        return x * %d\n" % (i, i)
                    for i in range(8))
    sources.append(b"import torch.nn as nn\n" + many)
    return sources


def _build_tree(root: Path, count: int) -> None:
    templates = _templates()
    for index in range(count):
        folder = root / f"pkg{index % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"m{index:03d}.py").write_bytes(templates[index % len(templates)])


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _fix_command(tree: Path) -> list[str]:
    return [sys.executable, "-m", "nncheck", "--fix", "--no-cache", "--jobs", str(JOBS), str(tree)]


@dataclass
class Reference:
    originals: Path  # the tree as it is before fixing; copied, never fixed
    original: dict[str, bytes]
    fixed: dict[str, bytes]  # each file as a whole, uninterrupted run leaves it


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    base = tmp_path_factory.mktemp("reference")
    originals = base / "originals"
    _build_tree(originals, TREE_FILES)
    fixed = base / "fixed"
    shutil.copytree(originals, fixed)
    result = run(*_fix_command(fixed), cwd=base)
    # Every file has something to fix and nothing left: a kill's leftovers are told apart by content.
    assert result.returncode == 0, result.stderr
    reference = Reference(originals, _files(originals), _files(fixed))
    assert len(reference.fixed) == TREE_FILES
    assert all(reference.fixed[name] != data for name, data in reference.original.items())
    return reference


@dataclass
class Inspection:
    fixed: int = 0  # files found in their fixed version
    window_hits: list[str] = field(default_factory=list)  # whole new versions left under a temporary name
    problems: list[str] = field(default_factory=list)


def _inspect(tree: Path, reference: Reference) -> Inspection:
    """Check that every file is its original or its fixed version, and that nothing else is there
    but a kill's leftover from the moment between naming a new version and renaming it."""
    seen = Inspection()
    found = _files(tree)
    for name in sorted(set(reference.original) - set(found)):
        seen.problems.append(f"{name}: missing")
    for name, data in found.items():
        if name in reference.original:
            if data == reference.fixed[name]:
                seen.fixed += 1
            elif data != reference.original[name]:
                seen.problems.append(f"{name}: neither the original nor the fixed version ({len(data)} bytes)")
        elif _is_window_hit(name, data, found, reference):
            seen.window_hits.append(name)
        else:
            seen.problems.append(f"{name}: a file that should not be there ({len(data)} bytes)")
    folders = {str(p.relative_to(tree)) for p in tree.rglob("*") if not p.is_file()}
    expected_folders = {str(p.relative_to(reference.originals)) for p in reference.originals.rglob("*") if p.is_dir()}
    seen.problems.extend(f"{name}: a folder or link that should not be there" for name in folders - expected_folders)
    return seen


def _is_window_hit(name: str, data: bytes, found: dict[str, bytes], reference: Reference) -> bool:
    # Such a leftover is the complete fixed version, and its file still holds the original.
    match = TEMPORARY.fullmatch(os.path.basename(name))
    if match is None:
        return False
    target = os.path.join(os.path.dirname(name), match["name"])
    if target not in reference.fixed:
        return False
    return data == reference.fixed[target] and found.get(target) == reference.original[target]


def _group_members(group: int) -> list[int]:
    """The processes of a process group that have not exited (zombies are done writing)."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue  # exited meanwhile
            if int(fields[2]) == group and fields[0] != "Z":
                members.append(int(entry))
    return members


def end_group(group: int) -> bool:
    """Wait for the rest of a killed run's process group to end, killing what outlives the grace;
    return whether any worker outlived the main process."""
    deadline = time.monotonic() + WORKER_GRACE
    while _group_members(group) and time.monotonic() < deadline:
        time.sleep(0.005)
    outlived = bool(_group_members(group))
    if outlived:
        # Not to leave them running whatever the test finds.
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 30
        while _group_members(group):
            assert time.monotonic() < deadline, f"process group {group} will not die"
            time.sleep(0.005)
    return outlived


@dataclass
class Kill:
    index: int
    delay: float
    whole_group: bool
    status: int | None = None  # the main process's exit status; -9 if the kill found it running
    workers_outlived: bool = False
    seen: Inspection = field(default_factory=Inspection)
    recovered: bool | None = None  # after leftovers: whether the next fix removed them and fixed all

    def describe(self) -> str:
        target = "process group" if self.whole_group else "main process"
        return (f"kill {self.index}: {target} at {self.delay:.3f}s, status {self.status}, "
                f"{self.seen.fixed} fixed, leftovers {self.seen.window_hits}, problems {self.seen.problems}, "
                f"recovered {self.recovered}")


def _kill_during_fix(tree: Path, kill: Kill) -> None:
    process = subprocess.Popen(_fix_command(tree), cwd=tree.parent, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(kill.delay)
        # Not reaped yet, so the pid and the group are still this run's even if it has finished.
        if kill.whole_group:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            os.kill(process.pid, signal.SIGKILL)
    finally:
        kill.status = process.wait(timeout=60)
        kill.workers_outlived = end_group(process.pid)


def _restore(tree: Path, reference: Reference) -> None:
    """Put the originals back where a run changed them, over the same blocks: freeing blocks (a fresh
    copy, or truncating to nothing) takes seconds per run on a filesystem mounted with `discard`."""
    for name in set(_files(tree)) - set(reference.original):
        (tree / name).unlink()
    for name, data in reference.original.items():
        target = tree / name
        if not target.is_file() or target.read_bytes() != data:
            handle = os.open(target, os.O_WRONLY | os.O_CREAT)
            try:
                os.write(handle, data)
                os.ftruncate(handle, len(data))
            finally:
                os.close(handle)


def _timed_fix(tree: Path, reference: Reference) -> float:
    """How long a whole, uninterrupted fix of the tree takes; it must fix every file."""
    started = time.monotonic()
    result = run(*_fix_command(tree), cwd=tree.parent)
    seconds = time.monotonic() - started
    assert (result.returncode, _files(tree)) == (0, reference.fixed), result.stderr
    return seconds


def _summary(kills: list[Kill], run_seconds: float, seconds: float) -> str:
    counts = [k.seen.fixed for k in kills]
    before = sum(1 for c in counts if c == 0)
    after = sum(1 for c in counts if c == TREE_FILES)
    hits = sum(len(k.seen.window_hits) for k in kills)
    outlived = sum(1 for k in kills if k.workers_outlived)
    lines = [
        f"seed {SEED}: {len(kills)} kills of a {run_seconds:.2f}s fix of {TREE_FILES} files in {seconds:.1f}s",
        f"files fixed at the kill: {before} kills before any, {len(kills) - before - after} mid-run, {after} after all;"
        f" sorted counts {sorted(counts)}",
        f"{sum(1 for k in kills if k.status != -signal.SIGKILL)} runs had finished; {outlived} left workers running;"
        f" {hits} leftovers from the name-then-rename moment",
    ]
    lines += [k.describe() for k in kills if k.seen.problems or k.seen.window_hits]
    return "\n".join(lines)


@pytest.mark.slow
@pytest.mark.skipif(not LINUX, reason="reads process groups from /proc")
def test_a_killed_fix_leaves_every_file_original_or_fixed(reference: Reference, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    tree = tmp_path / "tree"
    kills = []
    started = time.monotonic()
    shutil.copytree(reference.originals, tree)
    # Timed again here, just before the kills and in the same tree: a busy machine can be much slower
    # now than when the fixture ran, and the kills must still cover a whole run.
    seconds = _timed_fix(tree, reference)
    for index in range(KILLS):
        _restore(tree, reference)
        # Uniform over a whole run, so kills land in start-up, mid-run and after the last write.
        kill = Kill(index, rng.uniform(0, seconds), whole_group=index % 3 == 0)
        _kill_during_fix(tree, kill)
        kill.seen = _inspect(tree, reference)
        if kill.seen.window_hits:
            # The next fix of those files removes the strays (nobody holds them locked any more).
            kill.recovered = run(*_fix_command(tree), cwd=tree.parent).returncode == 0 and \
                _files(tree) == reference.fixed
        kills.append(kill)
    report = _summary(kills, seconds, time.monotonic() - started)
    print(report)
    assert not [k for k in kills if k.seen.problems], report
    assert not [k for k in kills if k.workers_outlived], report  # they must not go on fixing files
    assert not [k for k in kills if k.seen.window_hits and not k.whole_group], report
    assert all(k.recovered for k in kills if k.seen.window_hits), report
    # One process can be caught in that moment at most once, and it is a moment, not a phase.
    assert all(len(k.seen.window_hits) <= JOBS for k in kills), report
    assert sum(len(k.seen.window_hits) for k in kills) <= MAX_WINDOW_HITS, report
    assert sum(1 for k in kills if 0 < k.seen.fixed < TREE_FILES) >= KILLS // 4, report


@pytest.mark.slow
def test_two_fixes_at_once_leave_every_file_fixed(reference: Reference, tmp_path: Path) -> None:
    # A third of the tree keeps the test short; both runs still use workers.
    part = {name: data for name, data in reference.original.items() if name.startswith(("pkg0", "pkg1", "pkg2"))}
    for attempt in range(3):
        tree = tmp_path / f"tree{attempt}"
        for name, data in part.items():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            (tree / name).write_bytes(data)
        runs = [subprocess.Popen(_fix_command(tree), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                for _ in range(2)]
        results = [(p.communicate(timeout=300)[1].decode(), p.returncode) for p in runs]
        # Whichever run renames second either replaces the fixed file with the same bytes or finds it
        # already fixed: neither is an error, and nothing is left to report.
        assert [status for _, status in results] == [0, 0], results
        assert not any("error" in stderr for stderr, _ in results), results
        assert _files(tree) == {name: reference.fixed[name] for name in part}


# Runs the command with or without unnamed temporary files, so that both ways of writing are tested.
WITH_WRITER = ("import sys, nncheck.files.atomic as w; w._UNNAMED = w._UNNAMED and sys.argv[1] == 'unnamed'; "
               "from nncheck.frontends.cli import main; sys.exit(main(sys.argv[2:]))")
WRITERS = ["unnamed", "named"]


def _fix_unprivileged(writer: str, folder_mode: int, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Fix pkg/x.py in a folder with these permissions, as a user they apply to."""
    prefix = unprivileged()
    if prefix is None:
        pytest.skip("running as root, and setpriv cannot drop the capabilities that override permissions")
    folder = cwd / "pkg"
    folder.mkdir()
    (folder / "x.py").write_bytes(BAD)
    folder.chmod(folder_mode)
    try:
        return run(*prefix, sys.executable, "-c", WITH_WRITER, writer, "--fix", "--no-cache", "pkg/x.py", cwd=cwd)
    finally:
        folder.chmod(0o755)


@pytest.mark.parametrize("writer", WRITERS)
def test_a_read_only_folder_leaves_the_original_and_says_why(writer: str, tmp_cwd: Path) -> None:
    result = _fix_unprivileged(writer, 0o555, tmp_cwd)
    reason = f"cannot write in its folder: {os.strerror(errno.EACCES)}"
    assert f"nncheck: error: could not write fixes to pkg/x.py: {reason}\n" in result.stderr
    assert result.returncode == 2
    assert _files(tmp_cwd) == {os.path.join("pkg", "x.py"): BAD}


@pytest.mark.parametrize("writer", WRITERS)
def test_a_folder_that_cannot_be_listed_can_still_be_written(writer: str, tmp_cwd: Path) -> None:
    result = _fix_unprivileged(writer, 0o311, tmp_cwd)
    assert result.returncode == 0, result.stderr
    assert _files(tmp_cwd) == {os.path.join("pkg", "x.py"): FIXED}


def _fix_in_process(*paths: str) -> int:
    return main(["--fix", "--jobs", "1", "--no-cache", "--isolated", *paths])


@pytest.fixture(params=WRITERS)
def writer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each in-process test runs once per way of writing (the unnamed one only where it exists)."""
    if request.param == "unnamed" and not writing._UNNAMED:
        pytest.skip("no O_TMPFILE here")
    monkeypatch.setattr(writing, "_UNNAMED", request.param == "unnamed")
    return str(request.param)


def _failing(call: Callable[..., Any], code: int, applies: Callable[..., bool]) -> Callable[..., Any]:
    def failing(*args: Any, **kwargs: Any) -> Any:
        if applies(*args, **kwargs):
            raise OSError(code, os.strerror(code))
        return call(*args, **kwargs)

    return failing


def _written_fd(fd: int, *args: Any) -> bool:
    return fd > 2  # never the standard streams pytest captures


def _opened_for_writing(path: Any, flags: int, *args: Any, **kwargs: Any) -> bool:
    return bool(flags & (os.O_WRONLY | os.O_RDWR))


def _always(*args: Any, **kwargs: Any) -> bool:
    return True


FAILURES = [
    pytest.param("open", errno.ENOSPC, _opened_for_writing, "cannot write in its folder", id="create-ENOSPC"),
    pytest.param("write", errno.ENOSPC, _written_fd, "cannot write", id="write-ENOSPC"),
    pytest.param("write", errno.EDQUOT, _written_fd, "cannot write", id="write-EDQUOT"),
    pytest.param("fsync", errno.EIO, _written_fd, "cannot write", id="fsync-EIO"),
    pytest.param("link", errno.ENOSPC, _always, "cannot write", id="link-ENOSPC"),
    pytest.param("replace", errno.EIO, _always, "cannot write", id="rename-EIO"),
    pytest.param("replace", errno.EROFS, _always, "cannot write", id="rename-EROFS"),
]


@pytest.mark.parametrize(("call", "code", "applies", "reason"), FAILURES)
def test_a_failing_write_leaves_the_original_and_says_why(
    call: str, code: int, applies: Callable[..., bool], reason: str, writer: str,
    tmp_cwd: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    if call == "link" and writer == "named":
        pytest.skip("a named temporary file is never linked")
    (tmp_cwd / "x.py").write_bytes(BAD)
    monkeypatch.setattr(os, call, _failing(getattr(os, call), code, applies))
    status = _fix_in_process("x.py")
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert f"nncheck: error: could not write fixes to x.py: {reason}: {os.strerror(code)}\n" in err
    assert status == 2
    assert _files(tmp_cwd) == {"x.py": BAD}


def test_short_writes_are_completed(writer: str, tmp_cwd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_cwd / "x.py").write_bytes(BAD)
    write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: write(fd, data[:7]) if fd > 2 else write(fd, data))
    assert _fix_in_process("x.py") == 0
    monkeypatch.undo()
    assert _files(tmp_cwd) == {"x.py": FIXED}


@pytest.mark.skipif(not writing._UNNAMED, reason="no O_TMPFILE here")
@pytest.mark.parametrize(("call", "code"), [("open", errno.EOPNOTSUPP), ("open", errno.EISDIR), ("link", errno.EXDEV)])
def test_a_filesystem_without_unnamed_files_falls_back_to_a_named_one(
    call: str, code: int, tmp_cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_cwd / "x.py").write_bytes(BAD)
    unnamed = os.O_TMPFILE

    def refuses(*args: Any, **kwargs: Any) -> bool:
        return call == "link" or args[1] & unnamed == unnamed

    named: list[str] = []
    mkstemp = tempfile.mkstemp

    def counted_mkstemp(**kwargs: Any) -> tuple[int, str]:
        named.append(kwargs["dir"])
        return mkstemp(**kwargs)

    monkeypatch.setattr(os, call, _failing(getattr(os, call), code, refuses))
    monkeypatch.setattr(tempfile, "mkstemp", counted_mkstemp)
    assert _fix_in_process("x.py") == 0
    monkeypatch.undo()
    assert named == [str(tmp_cwd)]
    assert _files(tmp_cwd) == {"x.py": FIXED}


def _edit_during_fix(monkeypatch: pytest.MonkeyPatch, edit: Callable[[str], None]) -> None:
    """Between nncheck's reading a file and its writing the fix back, `edit` changes the file."""
    fix_source = nncheck.fixes.fixer.fix_source

    def fix_then_edit(source: bytes, path: str, *args: Any, **kwargs: Any) -> FixResult:
        result = fix_source(source, path, *args, **kwargs)
        edit(path)
        return result

    monkeypatch.setattr(nncheck.fixes.fixer, "fix_source", fix_then_edit)


@pytest.mark.parametrize(("edit", "reason"), [
    ("changed", writing.CHANGED),
    ("deleted", f"cannot read its status: {os.strerror(errno.ENOENT)}"),  # and so it is not made anew
], ids=["changed", "deleted"])
def test_a_file_edited_during_the_fix_is_left_as_the_user_made_it(
    edit: str, reason: str, writer: str, tmp_cwd: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_cwd / "x.py").write_bytes(BAD)
    _edit_during_fix(monkeypatch, lambda path: Path(path).write_bytes(USER) if edit == "changed" else os.unlink(path))
    status = _fix_in_process("x.py")
    err = capsys.readouterr().err
    assert f"nncheck: error: could not write fixes to x.py: {reason}\n" in err
    assert status == 2
    assert _files(tmp_cwd) == ({"x.py": USER} if edit == "changed" else {})


def test_a_file_already_fixed_by_another_run_is_not_written_again(
    writer: str, tmp_cwd: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_cwd / "x.py"
    target.write_bytes(BAD)
    _edit_during_fix(monkeypatch, lambda path: Path(path).write_bytes(FIXED))  # the other run won
    inode = target.stat().st_ino
    assert _fix_in_process("x.py") == 0
    assert "error" not in capsys.readouterr().err
    assert (target.read_bytes(), target.stat().st_ino) == (FIXED, inode)


def test_mode_and_owner_are_kept(writer: str, tmp_path: Path) -> None:
    target = tmp_path / "x.py"
    target.write_bytes(BAD)
    owner = (1234, 1234) if os.geteuid() == 0 else (os.getuid(), os.getgid())
    os.chown(target, *owner)
    # Set-group-ID survives only if the copy's mode is set after its owner (chown clears the bit).
    target.chmod(0o2754)
    assert writing.replace_file(str(target), FIXED, expected=BAD)
    info = target.stat()
    assert (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) == (0o2754, *owner)
    assert _files(tmp_path) == {"x.py": FIXED}


@pytest.mark.skipif(not LINUX, reason="flock and O_TMPFILE as on Linux")
def test_a_killed_writers_stray_is_removed_by_the_next_fix_and_a_live_one_is_not(writer: str, tmp_cwd: Path) -> None:
    import fcntl

    (tmp_cwd / "x.py").write_bytes(BAD)
    stray = tmp_cwd / ".x.py.0a1b2c3d.nncheck"  # as a writer killed between naming and renaming leaves it
    stray.write_bytes(FIXED)
    live = tmp_cwd / ".x.py.zz_9yy8x.nncheck"  # another writer's, held locked while it lives
    live.write_bytes(FIXED)
    handle = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        assert _fix_in_process("x.py") == 0
        assert sorted(_files(tmp_cwd)) == [live.name, "x.py"]
        assert (tmp_cwd / "x.py").read_bytes() == FIXED
    finally:
        os.close(handle)
