"""[tool.nncheck] in pyproject.toml, and how the command line overrides it."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import nncheck_here
from test_cli import BAD, write

TWO = BAD + "\n\nclass Other(nn.Module):\n    def __init__(self):\n        pass\n"


def codes(output: str) -> list[str]:
    return [line.split(" ")[1] for line in output.splitlines()]


def test_select_and_ignore_from_the_nearest_table(tmp_cwd: Path) -> None:
    write(tmp_cwd / "pyproject.toml", '[tool.nncheck]\nselect = ["NNC002"]\n')
    write(tmp_cwd / "a" / "x.py", TWO)
    # A pyproject.toml without the table is passed over, as ruff does.
    write(tmp_cwd / "a" / "pyproject.toml", '[project]\nname = "a"\n')
    write(tmp_cwd / "b" / "pyproject.toml", '[tool.nncheck]\nignore = ["NNC002"]\n')
    write(tmp_cwd / "b" / "x.py", TWO)
    result = nncheck_here(cwd=tmp_cwd)
    assert result.stdout.splitlines()[0].startswith("a/x.py:10:5: NNC002")
    assert [line.split(":")[0] + " " + line.split(" ")[1] for line in result.stdout.splitlines()] == [
        "a/x.py NNC002", "b/x.py NNC001"
    ]


def test_command_line_overrides_configuration(tmp_cwd: Path) -> None:
    write(tmp_cwd / "pyproject.toml", '[tool.nncheck]\nselect = ["NNC002"]\nextend-select = ["NNC007"]\n')
    write(tmp_cwd / "x.py", TWO)
    assert codes(nncheck_here("--select", "NNC001", cwd=tmp_cwd).stdout) == ["NNC001"]
    assert codes(nncheck_here("--isolated", cwd=tmp_cwd).stdout) == ["NNC001", "NNC002"]
    write(tmp_cwd / "other.toml", '[tool.nncheck]\nignore = ["NNC00"]\n')
    assert nncheck_here("--config", "other.toml", cwd=tmp_cwd).stdout == ""


def test_per_file_ignores_exclude_and_module_bases(tmp_cwd: Path) -> None:
    write(tmp_cwd / "pyproject.toml", (
        "[tool.nncheck]\n"
        'extend-exclude = ["generated"]\n'
        'module-bases = ["mylib.Base"]\n'
        "[tool.nncheck.per-file-ignores]\n"
        '"tests/*.py" = ["NNC001"]\n'
    ))
    write(tmp_cwd / "tests" / "t.py", BAD)
    write(tmp_cwd / "generated" / "g.py", BAD)
    module = BAD.replace("from torch import nn", "from mylib import Base").replace("nn.Module", "Base")
    module = module.replace("def __call__(self, x):\n        return x", "def __init__(self):\n        pass")
    write(tmp_cwd / "src" / "m.py", module)
    result = nncheck_here(cwd=tmp_cwd)
    assert codes(result.stdout) == ["NNC002"]
    assert result.stdout.startswith("src/m.py:5:5: NNC002")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('selekt = ["NNC001"]', "pyproject.toml: [tool.nncheck] unknown key 'selekt'"),
        ('select = ["E501"]', "pyproject.toml: [tool.nncheck] select: unknown code or prefix 'E501'"),
        ('ignore = "NNC001"', "pyproject.toml: [tool.nncheck] ignore: expected a list of strings, got 'NNC001'"),
        ("per-file-ignores = 3", "pyproject.toml: [tool.nncheck] per-file-ignores: expected a table"),
        ("select = [", "pyproject.toml: not valid TOML"),
    ],
    ids=["unknown-key", "unknown-code", "wrong-type", "wrong-table", "bad-toml"],
)
def test_bad_configuration_is_one_line_and_exit_2(tmp_cwd: Path, table: str, message: str) -> None:
    write(tmp_cwd / "pyproject.toml", f"[tool.nncheck]\n{table}\n")
    write(tmp_cwd / "x.py", BAD)
    result = nncheck_here(cwd=tmp_cwd)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("nncheck: error: ") and message in lines[0], result.stderr


@pytest.mark.parametrize(
    ("table", "arguments", "expected"),
    [
        ('ignore = ["NNC001"]', ["--select", "NNC001"], ["NNC001"]),
        ('ignore = ["NNC001"]', ["--select", "NNC"], ["NNC001", "NNC002"]),
        ('ignore = ["NNC001"]', ["--extend-select", "NNC001"], ["NNC001", "NNC002"]),
        ('ignore = ["NNC001"]', [], ["NNC002"]),
        ('select = ["NNC002"]', ["--extend-select", "NNC001"], ["NNC001", "NNC002"]),
        ('select = ["NNC002"]', ["--ignore", "NNC002"], []),
        ('select = ["NNC001", "NNC002"]', ["--ignore", "NNC00"], []),
        ('extend-select = ["NNC007"]\nignore = ["NNC002"]', ["--select", "NNC00"], ["NNC001", "NNC002"]),
    ],
    ids=["select-over-ignore", "select-prefix", "extend-over-ignore", "file-alone", "extend-select", "ignore",
         "ignore-prefix", "select-starts-afresh"],
)
def test_the_command_line_is_applied_after_the_configuration(
    tmp_cwd: Path, table: str, arguments: list[str], expected: list[str]
) -> None:
    write(tmp_cwd / "pyproject.toml", f"[tool.nncheck]\n{table}\n")
    write(tmp_cwd / "x.py", TWO)
    assert codes(nncheck_here(*arguments, cwd=tmp_cwd).stdout) == expected


def test_per_file_ignores_apply_after_the_command_line(tmp_cwd: Path) -> None:
    write(tmp_cwd / "pyproject.toml", '[tool.nncheck.per-file-ignores]\n"tests/*.py" = ["NNC001"]\n')
    write(tmp_cwd / "tests" / "t.py", TWO)
    assert codes(nncheck_here("--select", "NNC001,NNC002", cwd=tmp_cwd).stdout) == ["NNC002"]


def test_module_bases_and_src_on_the_command_line_replace_the_files(tmp_cwd: Path) -> None:
    write(tmp_cwd / "pyproject.toml", '[tool.nncheck]\nmodule-bases = ["other.Base"]\n')
    module = BAD.replace("from torch import nn", "from mylib import Base").replace("nn.Module", "Base")
    write(tmp_cwd / "m.py", module)
    assert nncheck_here(cwd=tmp_cwd).stdout == ""
    assert codes(nncheck_here("--module-bases", "mylib.Base", cwd=tmp_cwd).stdout) == ["NNC001"]
    write(tmp_cwd / "pyproject.toml", '[tool.nncheck]\nmodule-bases = ["mylib.Base"]\n')
    assert codes(nncheck_here(cwd=tmp_cwd).stdout) == ["NNC001"]
    assert nncheck_here("--module-bases", "other.Base", cwd=tmp_cwd).stdout == ""
