"""`nncheck --fix` and `--diff` as a user runs them, against golden files and on disk."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from conftest import FIXTURES, nncheck, nncheck_here
from nncheck import check_source
from nncheck.fixes.fixer import fix_source

GOLDEN = FIXTURES / "fix"
# <name>.in.py is fixed into <name>.out.py by --fix and into <name>.unsafe.out.py by --fix --unsafe-fixes;
# a missing output means the file is left as it is (a refused fix, or one that needs the other mode).
CASES = [
    pytest.param(case, unsafe, id=f"{case.name[: -len('.in.py')]}{'-unsafe' if unsafe else ''}")
    for case in sorted(GOLDEN.glob("*.in.py"))
    for unsafe in (False, True)
]


def _expected(case: Path, unsafe: bool) -> bytes:
    safe = case.with_name(case.name.replace(".in.py", ".out.py"))
    expected = safe.read_bytes() if safe.exists() else case.read_bytes()
    unsafe_out = case.with_name(case.name.replace(".in.py", ".unsafe.out.py"))
    return unsafe_out.read_bytes() if unsafe and unsafe_out.exists() else expected


def _flags(unsafe: bool) -> list[str]:
    return ["--unsafe-fixes"] if unsafe else []


@pytest.mark.parametrize(("case", "unsafe"), CASES)
def test_golden_fix(case: Path, unsafe: bool, tmp_cwd: Path) -> None:
    expected = _expected(case, unsafe)
    target = tmp_cwd / "x.py"
    shutil.copyfile(case, target)
    first = nncheck_here("--fix", *_flags(unsafe), "x.py", cwd=tmp_cwd)
    assert "Traceback" not in first.stderr
    assert target.read_bytes() == expected
    assert first.returncode == (1 if check_source(expected, "x.py") else 0), first.stderr
    # A second run changes nothing.
    second = nncheck_here("--fix", *_flags(unsafe), "x.py", cwd=tmp_cwd)
    assert target.read_bytes() == expected
    assert second.returncode == first.returncode
    assert "Fixed 0 problems in 0 files" in second.stderr


@pytest.mark.parametrize(("case", "unsafe"), CASES)
def test_diff_changes_nothing_and_says_whether_there_is_something_to_fix(
    case: Path, unsafe: bool, tmp_cwd: Path
) -> None:
    changes = case.read_bytes() != _expected(case, unsafe)
    target = tmp_cwd / "x.py"
    shutil.copyfile(case, target)
    result = nncheck_here("--diff", *_flags(unsafe), "x.py", cwd=tmp_cwd)
    assert target.read_bytes() == case.read_bytes()
    assert result.returncode == (1 if changes else 0)
    assert result.stdout.startswith("--- a/x.py\n+++ b/x.py\n") == changes


def test_every_fixture_fixes_to_a_parsing_fixed_point() -> None:
    for path in sorted(FIXTURES.rglob("*.py")):
        first = fix_source(path.read_bytes(), str(path), unsafe=True)
        assert not any(f.code == "NNC900" for f in check_source(first.text)), path
        again = fix_source(first.text, str(path), unsafe=True)
        assert (again.text, again.fixed) == (first.text, []), path


BAD = "from torch import nn\n\n\nclass Net(nn.Module):\n    def __call__(self, x):\n        return x\n"
FIXED = BAD.replace("__call__", "forward")


def test_mode_bits_are_kept(tmp_cwd: Path) -> None:
    target = tmp_cwd / "x.py"
    target.write_text(BAD)
    target.chmod(0o751)
    assert nncheck("--fix", "x.py", cwd=tmp_cwd).returncode == 0
    assert target.read_text() == FIXED
    assert stat.S_IMODE(target.stat().st_mode) == 0o751
    assert sorted(p.name for p in tmp_cwd.iterdir()) == ["x.py"]  # no temporary file left behind


def test_symlink_is_fixed_through_the_link(tmp_cwd: Path) -> None:
    real = tmp_cwd / "real.py"
    real.write_text(BAD)
    (tmp_cwd / "pkg").mkdir()
    link = tmp_cwd / "pkg" / "link.py"
    link.symlink_to(real)
    assert nncheck("--fix", "pkg/link.py", cwd=tmp_cwd).returncode == 0
    assert link.is_symlink()
    assert real.read_text() == FIXED


def test_read_only_file_is_reported_not_forced(tmp_cwd: Path) -> None:
    target = tmp_cwd / "x.py"
    target.write_text(BAD)
    target.chmod(0o444)
    result = nncheck("--fix", "x.py", cwd=tmp_cwd)
    assert result.returncode == 2
    assert "nncheck: error: could not write fixes to x.py: the file is read-only" in result.stderr
    assert target.read_text() == BAD
    assert result.stdout == "x.py:5:5: NNC001 [*] Net.__call__ bypasses forward hooks; rename it to forward\n"


def test_stdin_fix_writes_the_fixed_source_to_stdout(tmp_cwd: Path) -> None:
    result = nncheck("--fix", "-", stdin=BAD, cwd=tmp_cwd)
    assert (result.returncode, result.stdout) == (0, FIXED)
    with_left = BAD + "\n\nclass Net(nn.Module):\n    pass\n"
    left = nncheck("--fix", "-", stdin=with_left, cwd=tmp_cwd)
    assert left.stdout == with_left.replace("__call__", "forward")
    assert left.returncode == 1
    assert "-:9:1: NNC003" in left.stderr


def test_check_output_marks_fixable_findings_and_counts_them(tmp_cwd: Path) -> None:
    (tmp_cwd / "x.py").write_text(
        BAD + "\n\nclass Layer(nn.Linear):\n    def __init__(self):\n        pass\n"
    )
    result = nncheck("x.py", cwd=tmp_cwd)
    assert [line.split(" ")[1:3] for line in result.stdout.splitlines()] == [["NNC001", "[*]"], ["NNC002", "[~]"]]
    assert result.stderr == (
        "Found 2 problems in 1 file (1 file checked); 1 fixable with --fix, 1 more with --unsafe-fixes.\n"
    )


def test_a_fix_that_does_not_check_out_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import nncheck.rules.nnc001_call_overridden as rule

    # A broken fix: renaming to a name that keeps the finding must be caught by the re-check.
    monkeypatch.setattr(rule, "_rename_to_forward", lambda method: method)
    result = fix_source(BAD, "x.py")
    assert result.text == BAD
    assert [f.code for f in result.refused] == ["NNC001"]
    assert [f.code for f in result.remaining] == ["NNC001"]
