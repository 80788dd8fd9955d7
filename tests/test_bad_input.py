"""Bad input, case by case, as docs/robustness.md lists it: each case gives one clear NNC900 line (or
normal findings), the other files are still checked, and the exit status follows the README."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import CACHE, ROOT, flake8, nncheck, nncheck_here, unprivileged
from test_cli import BAD, BAD_LINE, write

COULD_NOT_PARSE = "NNC900 nncheck could not parse this file:"
COULD_NOT_READ = "NNC900 nncheck could not read this file:"
CANNOT_CHECK = "NNC902 nncheck cannot check this file, though Python can compile it:"
OTHER = f"z.py:{BAD_LINE}"  # the good neighbour every case is checked beside


def finding(line: int, col: int) -> str:
    """The NNC001 line of BAD, moved to another position."""
    return f"{line}:{col}:{BAD_LINE.split(':', 2)[2]}"


# (content of a.py, what nncheck prints for it: one line, or None for nothing)
CONTENT_CASES = {
    "bad-utf8": (b"x = '\xff'\n", f"1:1: {COULD_NOT_PARSE} line 1: byte 0xff is not valid utf-8"),
    "latin1-cookie": (b"# -*- coding: latin-1 -*-\n" + BAD.replace("return x", "return 'caf\xe9'").encode("latin-1"),
                      finding(6, 5)),
    "utf8-bom": ("\ufeff".encode() + BAD.encode(), finding(5, 5)),
    "utf16": (BAD.encode("utf-16"), f"1:1: {COULD_NOT_PARSE} file is UTF-16; "
              "Python source must be UTF-8 or declare an 8-bit encoding"),
    "unknown-cookie": (b"# -*- coding: klingon -*-\n", f"1:1: {COULD_NOT_PARSE} unknown encoding: klingon"),
    "nul": (b"x = 1\n\x00\n", f"1:1: {COULD_NOT_PARSE} line 2 contains a NUL byte"),
    "python2": (b"print 'hello'\n", f"1:1: {COULD_NOT_PARSE} Missing parentheses in call to 'print'. "
                "Did you mean print(...)? (line 1, column 1)"),
    "syntax-error": (b"def f(:\n", f"1:7: {COULD_NOT_PARSE} invalid syntax (line 1, column 7)"),
    "empty": (b"", None),
    "whitespace-only": (b"  \n\t\n\n   ", None),
    "comment-only": (b"# nothing here\n", None),
    "crlf": (BAD.replace("\n", "\r\n").encode(), finding(5, 5)),
    "cr-only": (BAD.replace("\n", "\r").encode(), finding(5, 5)),
    "mixed-line-endings": (
        "".join(line + end for line, end in zip(BAD.splitlines(), ["\r\n", "\n", "\r"] * 2)).encode(), finding(5, 5)
    ),
    "form-feeds": (BAD.replace("\n\n\nclass", "\n\f\n\fclass").encode(), finding(4, 5)),
    "tabs": (BAD.replace("    ", "\t").encode(), finding(5, 2)),
    "deep-brackets": (b"x = " + b"(" * 1000 + b"1" + b")" * 1000 + b"\n",
                      f"1:1: {COULD_NOT_PARSE} too deeply nested (too many nested parentheses, line 1, column 205)"),
    "deep-blocks": ("".join(" " * i + "if x:\n" for i in range(1000)).encode() + b" " * 1000 + b"pass\n",
                    f"1:1: {COULD_NOT_PARSE} too deeply nested (too many levels of indentation, line 101, column 1)"),
    "deep-expression": (b"x = y" + b".a" * 5000 + b"\n", f"1:1: {COULD_NOT_PARSE} too deeply nested"),
    # Deep, but not too deep for Python: checked normally.
    "long-chain": (BAD.replace("return x", "return x" + ".a" * 2000).encode(), finding(5, 5)),
    "10mb-line": (b'DATA = "' + b"a" * 10_000_000 + b'"\n' + BAD.encode(), finding(6, 5)),
    "too-large": (b"DATA = [" + b"0," * 1_000_000 + b"]\n" + BAD.encode(),
                  f"1:1: {CANNOT_CHECK} too large (1,000,020 syntax nodes; nncheck's limit is 400,000)"),
    # Python accepts it; libcst 1.9 does not.
    "parenthesised-annotation-target": (BAD.encode() + b"(x): int\n",
                                        f"1:1: {CANNOT_CHECK} libcst cannot parse it: Syntax Error @ 7:1."),
}


def expect(case_line: str | None) -> list[str]:
    return ([f"a.py:{case_line}"] if case_line else []) + [OTHER]


def status_for(lines: list[str]) -> int:
    return 2 if any(" NNC90" in line for line in lines) else 1


@pytest.mark.parametrize(
    "case", [pytest.param(c, marks=pytest.mark.slow) if c == "too-large" else c for c in CONTENT_CASES]
)
def test_content(tmp_cwd: Path, case: str) -> None:
    content, line = CONTENT_CASES[case]
    write(tmp_cwd / "a.py", content)
    write(tmp_cwd / "z.py", BAD)
    result = nncheck_here("--no-cache", cwd=tmp_cwd)
    assert result.stdout.splitlines() == expect(line)
    assert result.returncode == status_for(expect(line))
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("case", ["latin1-cookie", "utf8-bom", "crlf", "cr-only", "mixed-line-endings", "form-feeds",
                                  "tabs"])
def test_positions_are_the_same_through_flake8(tmp_cwd: Path, case: str) -> None:
    content, line = CONTENT_CASES[case]
    assert line is not None
    write(tmp_cwd / "a.py", content)
    result = flake8("--select", "NNC", "a.py", cwd=tmp_cwd)
    assert result.stdout == f"a.py:{line.replace(' [*]', '')}\n"


@pytest.mark.slow
def test_100000_line_module_finishes(tmp_cwd: Path) -> None:
    body = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(25_000))
    write(tmp_cwd / "a.py", body + BAD)
    write(tmp_cwd / "z.py", BAD)
    started = time.monotonic()
    # No time limit: this measures the size, and CI runs it beside other slow tests on two cores.
    result = nncheck("--no-cache", "--file-timeout", "0", cwd=tmp_cwd)
    print(f"100,000-line module checked in {time.monotonic() - started:.1f} s")
    assert result.stdout.splitlines() == [f"a.py:{finding(100_005, 5)}", OTHER]
    assert result.returncode == 1


def test_a_file_too_deep_for_python_imported_by_a_checked_one(tmp_cwd: Path) -> None:
    # nncheck reads the imported file while its recursion limit is raised for libcst; Python's parser
    # must still refuse it, not crash the process.
    write(tmp_cwd / "pkg" / "__init__.py", "")
    write(tmp_cwd / "pkg" / "deep.py", "X = " + "+".join(["a"] * 200_000) + "\nclass Base:\n    pass\n")
    write(tmp_cwd / "pkg" / "net.py", "from .deep import Base\n" + BAD)
    result = nncheck("--no-cache", "pkg/net.py", cwd=tmp_cwd)
    assert (result.returncode, result.stdout) == (1, f"pkg/net.py:{finding(6, 5)}\n")


def test_directory_named_like_a_source_file_is_walked(tmp_cwd: Path) -> None:
    write(tmp_cwd / "a.py" / "inner.py", BAD)
    write(tmp_cwd / "z.py", BAD)
    lines = [f"a.py/inner.py:{BAD_LINE}", OTHER]
    assert nncheck_here("--no-cache", cwd=tmp_cwd).stdout.splitlines() == lines
    assert nncheck_here("--no-cache", "a.py", "z.py", cwd=tmp_cwd).stdout.splitlines() == lines


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.symlink_to(p.parent / "missing.py"), "is a broken symlink"),
        (lambda p: p.symlink_to(p), "is a symlink loop"),
        (lambda p: os.mkfifo(p), "is a FIFO, not a regular file"),
        (lambda p: p.symlink_to("/dev/null"), "is a character device, not a regular file"),
    ],
    ids=["broken-symlink", "symlink-loop", "fifo", "device"],
)
def test_special_files_are_refused_without_blocking(tmp_cwd: Path, make: object, message: str) -> None:
    assert callable(make)
    make(tmp_cwd / "a.py")
    write(tmp_cwd / "z.py", BAD)
    for args in ([], ["a.py", "z.py"]):
        # Not conftest's run(): a FIFO that blocks must fail this test in seconds, not minutes.
        result = subprocess.run([sys.executable, "-m", "nncheck", "--no-cache", *args], cwd=tmp_cwd,
                                capture_output=True, text=True, timeout=60)
        assert result.stdout.splitlines() == [f"a.py:1:1: {COULD_NOT_READ} {message}", OTHER]
        assert result.returncode == 2


def test_file_without_read_permission(tmp_cwd: Path) -> None:
    write(tmp_cwd / "a.py", BAD).chmod(0)
    write(tmp_cwd / "z.py", BAD)
    prefix = unprivileged()
    if prefix is None:
        pytest.skip("running as root without setpriv: permission bits cannot be tested")
    command = [*prefix, sys.executable, "-m", "nncheck", "--no-cache"]
    result = subprocess.run(command, cwd=tmp_cwd, capture_output=True, text=True, timeout=60)
    assert result.stdout.splitlines() == [f"a.py:1:1: {COULD_NOT_READ} cannot read file: Permission denied", OTHER]
    assert result.returncode == 2


def test_file_deleted_between_discovery_and_reading(
    tmp_cwd: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from nncheck.frontends import cli

    write(tmp_cwd / "a.py", BAD)
    write(tmp_cwd / "z.py", BAD)
    found = cli.find_python_files

    def then_delete(*args: object, **kwargs: object) -> Iterator[str]:
        yield from found(*args, **kwargs)  # type: ignore[arg-type]
        (tmp_cwd / "a.py").unlink()

    monkeypatch.setattr(cli, "find_python_files", then_delete)
    status = cli.main(["--no-cache", "--jobs", "1", "."])
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"a.py:1:1: {COULD_NOT_READ} file vanished before it could be read", OTHER]
    assert status == 2


@pytest.mark.parametrize("name", ["with space/my model.py", "modèle/réseau_ünïcode.py", "日本/模型.py"])
def test_paths_with_spaces_and_non_ascii(tmp_cwd: Path, name: str) -> None:
    write(tmp_cwd / name, BAD)
    write(tmp_cwd / "z.py", BAD)
    result = nncheck_here("--no-cache", cwd=tmp_cwd)
    assert result.stdout.splitlines() == sorted([f"{name}:{BAD_LINE}", OTHER])  # sorted by path
    assert nncheck_here("--no-cache", name, cwd=tmp_cwd).stdout == f"{name}:{BAD_LINE}\n"
    assert flake8("--select", "NNC", name, cwd=tmp_cwd).stdout == f"{name}:{BAD_LINE.replace(' [*]', '')}\n"


def test_stdin_empty_or_closed(tmp_cwd: Path) -> None:
    empty = nncheck("-", cwd=tmp_cwd, stdin=b"")
    assert (empty.returncode, empty.stdout) == (0, "")
    env = {**os.environ, "NNCHECK_CACHE_DIR": CACHE}
    closed = subprocess.run([sys.executable, "-m", "nncheck", "-"], cwd=tmp_cwd, capture_output=True, text=True,
                            env=env, timeout=60, stdin=subprocess.DEVNULL, preexec_fn=lambda: os.close(0))
    assert closed.stdout == "-:1:1: NNC900 nncheck could not read stdin: it is closed\n"
    assert closed.returncode == 2


def test_every_case_is_in_the_documentation() -> None:
    page = (ROOT / "docs" / "robustness.md").read_text(encoding="utf-8")
    tests = [name for name in globals() if name.startswith("test_") and "documentation" not in name]
    missing = [name for name in tests if name not in page]
    missing += [case for case in CONTENT_CASES if f"test_content[{case}]" not in page]
    for module in ("test_fix_safety.py", "test_runner.py"):
        source = (ROOT / "tests" / module).read_text(encoding="utf-8")
        missing += [name for name in re.findall(r"^def (test_\w+)", source, re.MULTILINE) if name not in page]
    assert not missing
