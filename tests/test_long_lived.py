"""What a flake8 worker keeps for its run is frozen out of the collector's passes: the garbage is
collected first, a big file is not frozen with it if a small one comes soon, and findings that rest on
frozen tables of other files are the ones a fresh check gives."""

from __future__ import annotations

import ast
import gc
import os
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from nncheck.engine.checker import forget_other_files
from nncheck.engine.collector import LongLivedTables
from nncheck.frontends.flake8_plugin import Plugin
from test_cli import write


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


@pytest.fixture(autouse=True)
def thawed() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # what a test froze goes back to the collector


def test_garbage_is_collected_and_the_rest_frozen() -> None:
    tables = LongLivedTables(every=3, small=100)
    garbage = _Node()
    gone = weakref.ref(garbage)
    del garbage
    kept = _Node()
    for _ in range(2):
        tables.checked(10)
    assert gc.get_freeze_count() == 0 and gone() is not None
    tables.checked(10)
    assert gone() is None  # collected, not frozen
    assert gc.get_freeze_count() > 0 and gc.isenabled()
    assert kept.me is kept


def test_a_big_file_is_not_frozen_while_a_small_one_may_come() -> None:
    tables = LongLivedTables(every=2, small=100)
    for _ in range(7):
        tables.checked(5000)
    assert gc.get_freeze_count() == 0
    tables.checked(5000)  # none came: frozen all the same, the file with it
    assert gc.get_freeze_count() > 0


def test_nothing_is_frozen_while_the_collector_is_off() -> None:
    tables = LongLivedTables(every=1, small=100)
    gc.disable()
    try:
        tables.checked(1)
    finally:
        gc.enable()
    assert gc.get_freeze_count() == 0


def _run(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    plugin = Plugin(ast.parse(text), text.splitlines(keepends=True), str(path))
    return [message for _, _, message, _ in plugin.run()]


def test_findings_through_frozen_tables_of_other_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Frozen after every file: the base's table, built when base.py was checked, answers for net.py.
    monkeypatch.setattr(Plugin, "long_lived", LongLivedTables(every=1, small=10**9))
    monkeypatch.setattr(Plugin, "cache", None)
    forget_other_files()
    write(tmp_path / "pkg" / "__init__.py", "")
    base = write(tmp_path / "pkg" / "base.py", "from torch import nn\n\n\nclass Base(nn.Module):\n    pass\n")
    net = write(tmp_path / "pkg" / "net.py", "from .base import Base\n\n\nclass Net(Base):\n"
                                             "    def __call__(self, x):\n        return x\n")
    found = ["NNC001 Net.__call__ bypasses forward hooks; rename it to forward"]
    try:
        assert _run(base) == []
        assert gc.get_freeze_count() > 0
        assert _run(net) == found
        # The base changes: the frozen table is for the old content, and is not used.
        write(base, "class Base:\n    pass\n")
        os.utime(base, ns=(1, 1))
        assert _run(net) == []
    finally:
        forget_other_files()
