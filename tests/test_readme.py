"""The README is checked against the code, so the two cannot drift apart."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

from conftest import ROOT
from nncheck.findings import FILE_CODES
from nncheck.frontends.file_codes import FILE_CODE_DOCS
from nncheck.engine.rule_set import all_rules

README = (ROOT / "README.md").read_text(encoding="utf-8")


def quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None
    return block.group(1).strip().splitlines()


def test_codes_table_lists_every_rule_with_its_name_and_fix() -> None:
    rows = set(re.findall(r"^\| (NNC\d{3}) \| ?([a-z-]*) ?\| ([a-z ]+) \|", README, re.MULTILINE))
    expected = {(rule.code, rule.name, rule.fix_availability.value) for rule in all_rules()}
    assert [code.code for code in FILE_CODE_DOCS] == list(FILE_CODES)
    assert expected | {(code.code, code.name, "none") for code in FILE_CODE_DOCS} == rows


def test_quick_start_has_two_commands_one_runs_the_examples_one_the_tests() -> None:
    commands = quick_start_commands()
    assert len(commands) == 2
    assert commands[0].endswith("nncheck examples/")
    assert commands[1].endswith("python -m pytest")


def test_every_option_of_the_command_is_documented() -> None:
    from nncheck.frontends.cli import build_parser

    options = {o for action in build_parser()._actions for o in action.option_strings if o.startswith("--")}
    options -= {"--help", "--version"}
    assert {o for o in options if f"`{o}" not in README} == set()


def test_rule_pages_are_up_to_date() -> None:
    from nncheck.frontends.docs import pages

    folder = ROOT / "docs" / "rules"
    for code, text in pages().items():
        page = folder / f"{code}.md"
        assert page.exists() and page.read_text(encoding="utf-8") == text, (
            f"{page} is out of date: run python scripts/generate_rule_docs.py"
        )
    # A page for every rule, and for every code about a file itself (the diagnostics link to them).
    expected = [rule.code for rule in all_rules()] + list(FILE_CODES)
    assert sorted(p.stem for p in folder.glob("*.md")) == expected


def _shown(command: str) -> list[str]:
    block = README.split(f"$ {command}\n", 1)[1].split("```", 1)[0]
    return block.splitlines()


def test_the_readmes_example_output_is_what_the_command_prints(tmp_path: Path) -> None:
    from conftest import nncheck_here

    result = nncheck_here("--no-cache", "examples/", cwd=ROOT)
    assert (result.stdout + result.stderr).splitlines() == _shown("nncheck examples/")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    statistics = nncheck_here("--no-cache", "--statistics", "examples/", cwd=tmp_path)
    assert (statistics.stdout + statistics.stderr).splitlines() == _shown("nncheck --statistics examples/")
    fixed = nncheck_here("--no-cache", "--fix", "examples/", cwd=tmp_path)
    assert (fixed.stdout + fixed.stderr).splitlines() == _shown("nncheck --fix examples/")
    shutil.rmtree(tmp_path / "examples")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    silenced = nncheck_here("--no-cache", "--add-noqa", "examples/", cwd=tmp_path)
    assert (silenced.stdout + silenced.stderr).splitlines() == _shown("nncheck --add-noqa examples/")
    assert nncheck_here("--no-cache", "examples/", cwd=tmp_path).returncode == 0


def _block(section: str, language: str) -> str:
    text = README.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(rf"```{language}\n(.*?)```", text, re.DOTALL)
    assert block is not None, (section, language)
    return block.group(1)


def test_the_configuration_examples_run_as_pasted(tmp_path: Path) -> None:
    # Into a project that has none of the folders they name (no .venv, no src, no mypkg).
    from conftest import flake8, nncheck_here, run
    from test_cli import BAD, BAD_LINE, write

    project = tmp_path / "project"
    write(project / "pyproject.toml", _block("Configuration", "toml"))
    write(project / "x.py", BAD)
    result = nncheck_here("--no-cache", cwd=project)
    assert (result.returncode, result.stdout) == (1, f"x.py:{BAD_LINE}\n"), result.stderr
    assert "error" not in result.stderr and "warning" not in result.stderr
    write(project / "setup.cfg", _block("With flake8", "ini"))
    assert flake8("--version", cwd=project).returncode == 0  # the control: flake8 runs here
    shown = run(sys.executable, "-m", "flake8", "--select", "NNC", "x.py", cwd=project)
    assert (shown.returncode, shown.stderr) == (1, "")
    assert shown.stdout == f"x.py:{BAD_LINE.replace(' [*]', '')}\n"
