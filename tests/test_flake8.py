"""The flake8 plugin through real flake8 (a subprocess), as users run it."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import flake8, run
from test_cli import BAD, write

EXPECTED = "x.py:5:5: NNC001 Net.__call__ bypasses forward hooks; rename it to forward"


def _nnc(output: str) -> list[str]:
    return [line for line in output.splitlines() if ": NNC" in line]


def test_selected_by_default_and_column_is_the_keyword(tmp_cwd: Path) -> None:
    write(tmp_cwd / "x.py", BAD)
    result = flake8("x.py", cwd=tmp_cwd)
    assert result.returncode == 1
    assert _nnc(result.stdout) == [EXPECTED]


def test_version_lists_nncheck() -> None:
    from nncheck import __version__

    assert f"nncheck: {__version__}" in flake8("--version").stdout


def test_ignore_extend_select_and_per_file_ignores(tmp_cwd: Path) -> None:
    write(tmp_cwd / "x.py", BAD)
    assert _nnc(flake8("--ignore", "NNC001", "x.py", cwd=tmp_cwd).stdout) == []
    assert _nnc(flake8("--select", "E", "x.py", cwd=tmp_cwd).stdout) == []
    assert _nnc(flake8("--select", "E", "--extend-select", "NNC", "x.py", cwd=tmp_cwd).stdout) == [EXPECTED]
    assert _nnc(flake8("--per-file-ignores", "x.py:NNC", "x.py", cwd=tmp_cwd).stdout) == []


def test_noqa_and_disable_noqa(tmp_cwd: Path) -> None:
    write(tmp_cwd / "x.py", BAD.replace("def __call__(self, x):", "def __call__(self, x):  # noqa: NNC001"))
    assert _nnc(flake8("x.py", cwd=tmp_cwd).stdout) == []
    assert len(_nnc(flake8("--disable-noqa", "x.py", cwd=tmp_cwd).stdout)) == 1


def test_module_bases_from_flake8_config(tmp_cwd: Path) -> None:
    write(tmp_cwd / "x.py", BAD.replace("from torch import nn", "from mylib import Base").replace("nn.Module", "Base"))
    assert _nnc(flake8("x.py", cwd=tmp_cwd).stdout) == []
    write(tmp_cwd / "setup.cfg", "[flake8]\nnncheck-module-bases = mylib.Base, other.Thing\n")
    # Not --isolated here: the project's own config is what this test is about.
    result = run(sys.executable, "-m", "flake8", "x.py", cwd=tmp_cwd)
    assert _nnc(result.stdout) == [EXPECTED]


def test_valid_python_libcst_cannot_parse_gives_one_nnc902_and_no_crash(tmp_cwd: Path) -> None:
    write(tmp_cwd / "x.py", BAD + "(x): int\n")  # Python accepts a parenthesised target; libcst 1.9 does not
    result = flake8("x.py", cwd=tmp_cwd)
    message = "NNC902 nncheck cannot check this file, though Python can compile it: libcst cannot parse it"
    assert _nnc(result.stdout) == [f"x.py:1:1: {message}: Syntax Error @ 7:1."]
    assert result.returncode == 1
    assert "Traceback" not in result.stderr


def test_syntax_errors_stay_flake8s_business(tmp_cwd: Path) -> None:
    write(tmp_cwd / "x.py", "def f(:\n")
    result = flake8("x.py", cwd=tmp_cwd)
    assert _nnc(result.stdout) == []
    assert "E999" in result.stdout


def test_nncheck_options_on_the_command_line_replace_flake8s_configuration(tmp_cwd: Path) -> None:
    # flake8's own rule, which its plugins' options follow: the command line replaces the file's value.
    write(tmp_cwd / "x.py", BAD.replace("from torch import nn", "from mylib import Base").replace("nn.Module", "Base"))
    write(tmp_cwd / "setup.cfg", "[flake8]\nnncheck-module-bases = other.Thing\n")
    plain = run(sys.executable, "-m", "flake8", "x.py", cwd=tmp_cwd)
    assert _nnc(plain.stdout) == []
    given = run(sys.executable, "-m", "flake8", "--nncheck-module-bases", "mylib.Base", "x.py", cwd=tmp_cwd)
    assert _nnc(given.stdout) == [EXPECTED]


def test_a_code_ignored_in_flake8s_configuration_stays_ignored_under_select(tmp_cwd: Path) -> None:
    # As the README says: flake8 decides selection itself, and an explicit ignore of the same code wins
    # over --select (unlike nncheck's command); --ignore on the command line replaces the file's.
    write(tmp_cwd / "x.py", BAD)
    write(tmp_cwd / "setup.cfg", "[flake8]\nignore = NNC001\n")
    assert _nnc(run(sys.executable, "-m", "flake8", "--select", "NNC001", "x.py", cwd=tmp_cwd).stdout) == []
    replaced = run(sys.executable, "-m", "flake8", "--select", "NNC001", "--ignore", "E1", "x.py", cwd=tmp_cwd)
    assert _nnc(replaced.stdout) == [EXPECTED]
