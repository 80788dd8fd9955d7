"""What a run skips to be faster, and what it must still do: a checked file is not read again to keep
its table (unless it changed), a run without a cache works out no dependencies, a folder's
configuration is looked for once per run (and again in the next), the tables kept for a long run are
frozen out of the collector's passes and thawed after it, and cache entries get temporaries of their own."""

from __future__ import annotations

import ast
import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import nncheck.frontends.runner as runner
import nncheck.model.project as project_module
from nncheck.engine.collector import LongLivedTables
from nncheck.engine.checker import _project, analyse, check_file, forget_other_files
from nncheck.files.cache import ResultCache
from nncheck.model.build import build
from nncheck.files.config import Overrides
from nncheck.findings import Finding
from nncheck.frontends.job import Job, Mode
from nncheck.frontends.runner import Result, one_file, run_files
from nncheck.settings import Settings
from test_cli import BAD, write

BASE = "from torch import nn\n\n\nclass Base(nn.Module):\n    pass\n"
USER = "from base import Base\n\n\nclass Net(Base):\n    def __call__(self, x):\n        return x\n"


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    forget_other_files()
    gc.unfreeze()
    yield
    forget_other_files()
    gc.unfreeze()


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files the cross-file resolution reads from the disk, from now on."""
    read: list[str] = []
    original = project_module.read_bytes

    def counting(path: str) -> bytes:
        read.append(os.path.basename(path))
        return original(path)

    monkeypatch.setattr(project_module, "read_bytes", counting)
    return read


def _settings(tmp_path: Path) -> Settings:
    return Settings(src_roots=(str(tmp_path),))


def test_a_checked_file_is_kept_without_reading_it_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base, user = write(tmp_path / "base.py", BASE), write(tmp_path / "user.py", USER)
    read = _reads(monkeypatch)
    settings = _settings(tmp_path)
    assert check_file(str(base), settings) == []
    findings = check_file(str(user), settings)
    assert [(f.line, f.code) for f in findings] == [(5, "NNC001")]  # Base is known a module: from the kept table
    assert read == []  # neither read again to keep it, nor read as another file


def test_a_file_changed_after_it_was_read_is_not_kept_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = write(tmp_path / "base.py", BASE)
    settings = _settings(tmp_path)
    project = _project(settings)
    stamp = project.stamp(str(base))
    text = base.read_text()
    project.read_from_disk(stamp, text)
    write(base, BASE + "\n\nclass Other:\n    pass\n")  # edited after the read: another size
    read = _reads(monkeypatch)
    analyse(text, str(base), settings)
    assert read == ["base.py"]  # its stamp changed: the disk is read, and differs, so nothing is kept


def test_a_run_without_a_cache_works_out_no_dependencies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "base.py", BASE)
    user = write(tmp_path / "user.py", USER)
    monkeypatch.chdir(tmp_path)
    cached = Job(Overrides(src=(str(tmp_path),)), Mode.CHECK, False)
    outcome, depends_on = one_file(cached, str(user))
    assert [f.code for f in outcome.result.remaining] == ["NNC001"]
    assert os.path.realpath(tmp_path / "base.py") in depends_on
    forget_other_files()
    uncached = Job(Overrides(src=(str(tmp_path),)), Mode.CHECK, False, cached=False)
    outcome, depends_on = one_file(uncached, str(user))
    assert [f.code for f in outcome.result.remaining] == ["NNC001"] and depends_on == []


def _codes(paths: list[str], job: Job, jobs: int = 1) -> dict[str, list[str]]:
    found: dict[str, list[Finding]] = {}

    def done(path: str, result: Result) -> None:
        found[os.path.basename(path)] = result[0].result.remaining

    run_files(paths, job, jobs, done)
    return {name: [f.code for f in findings] for name, findings in sorted(found.items())}


def test_a_configuration_edited_between_two_runs_in_one_process_is_read_again(tmp_path: Path) -> None:
    paths = [str(write(tmp_path / "pkg" / f"m{i}.py", BAD)) for i in range(2)]
    job = Job(Overrides(), Mode.CHECK, False, cached=False)
    assert _codes(paths, job) == {"m0.py": ["NNC001"], "m1.py": ["NNC001"]}
    write(tmp_path / "pyproject.toml", '[tool.nncheck]\nignore = ["NNC001"]\n')
    assert _codes(paths, job) == {"m0.py": [], "m1.py": []}


def test_a_long_run_freezes_what_it_keeps_and_thaws_it_after(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "_long_lived", LongLivedTables())  # counting from this run's first file
    paths = [str(write(tmp_path / f"m{i:03}.py", BAD)) for i in range(101)]
    frozen: list[int] = []
    job = Job(Overrides(), Mode.CHECK, False, cached=False)

    def done(path: str, result: Result) -> None:
        frozen.append(gc.get_freeze_count())

    run_files(paths, job, 1, done)
    assert frozen[98] == 0 and frozen[99] > 0  # after the 100th file: collected, then frozen
    assert gc.get_freeze_count() == 0 and gc.isenabled()


def test_a_temporary_left_by_a_killed_process_of_the_same_number_is_not_in_the_way(tmp_path: Path) -> None:
    cache = ResultCache(str(tmp_path / "cache"))
    key = "ab" + "0" * 62
    shard = tmp_path / "cache" / "ab"
    write(shard / f"{os.getpid()}-1.tmp", "left behind")
    cache.put(key, [], [])
    assert cache.get(key, "x.py") == []
    cache.put("ab" + "1" * 62, [], [])  # the next name of this process's own
    assert sorted(p.name for p in shard.iterdir() if p.suffix == ".tmp") == [f"{os.getpid()}-1.tmp"]


def test_a_cache_folder_removed_during_a_run_costs_only_the_entries(tmp_path: Path) -> None:
    cache = ResultCache(str(tmp_path / "cache"))
    key = "cd" + "0" * 62
    cache.put(key, [], [])
    for entry in (tmp_path / "cache" / "cd").iterdir():
        entry.unlink()
    (tmp_path / "cache" / "cd").rmdir()
    cache.put(key, [], [])  # the shard is gone: this entry is lost, quietly
    cache.put(key, [], [])  # and the shard is made again for the next
    assert cache.get(key, "x.py") == []


def test_the_table_keeps_aliases_outside_functions_and_imports_and_classes_everywhere() -> None:
    # The table's walk skips assignments in functions (they bind nothing it keeps): what it still binds.
    text = (
        "import torch.nn as nn\nBase = nn.Module\n"
        "class Holder:\n    Inner = nn.Linear\n    Typed: type = nn.ReLU\n"
        "def make():\n    Local = nn.Conv2d\n    Annotated: type = nn.GRU\n"
        "    from torch.nn import LSTM as Imported\n    for Looped in ():\n        pass\n"
        "    class Made(Local):\n        Kept = nn.Tanh\n    return Made\n"
    )
    table, _ = build(ast.parse(text))
    resolved = {name: table.resolve_parts([name]) for name in
                ("Base", "Inner", "Typed", "Local", "Annotated", "Imported", "Looped", "Kept")}
    assert resolved == {"Base": "torch.nn.Module", "Inner": "torch.nn.Linear", "Typed": "torch.nn.ReLU",
                        "Local": None, "Annotated": None, "Imported": "torch.nn.LSTM", "Looped": None, "Kept": None}
    made = table.resolve_parts(["Made"])
    assert isinstance(made, list) and [info.base_names for info in made] == [[["Local"]]]
