"""The pre-screen may only save work: with and without it, every file gives the same findings.
Runs over the fixtures and examples, and over NNCHECK_CORPUS folders when set (the benchmark corpora)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from conftest import EXAMPLES, FIXTURES
from nncheck import Settings, check_file
from nncheck.files.discovery import find_python_files
from nncheck.engine.rule_set import all_rules

EVERY_RULE = Settings(select=tuple(rule.code for rule in all_rules()), module_bases=frozenset({"mylib.layers.Base"}))
UNSCREENED = dataclasses.replace(EVERY_RULE, prescreen=False)
CORPUS = [p for p in os.environ.get("NNCHECK_CORPUS", "").split(os.pathsep) if p]


def _compare(folders: list[str]) -> int:
    files = list(find_python_files(folders))
    differing = [path for path in files if check_file(path, EVERY_RULE) != check_file(path, UNSCREENED)]
    assert differing == []
    return len(files)


def test_fixtures_and_examples_are_identical_with_and_without_the_prescreen() -> None:
    assert _compare([str(FIXTURES), str(EXAMPLES)]) > 40


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS, reason="set NNCHECK_CORPUS to folders of real code to run")
def test_corpora_are_identical_with_and_without_the_prescreen() -> None:
    assert _compare(CORPUS) > 0


def test_the_prescreen_skips_clean_modules(tmp_path: Path) -> None:
    from nncheck.engine.checker import analyse

    clean = "from torch import nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
    assert analyse(clean, str(tmp_path / "x.py"), EVERY_RULE).module is None  # never parsed with libcst
    assert analyse(clean, str(tmp_path / "x.py"), UNSCREENED).module is not None


# The screens' looks at the text (a layer's or a container's name followed by `(`) must see through
# import aliases, module-level aliases, calls split over lines, nested functions, a base's methods, an
# `__init__` run again from `forward`, and every way of ending lines.
LOOKS = '''
import torch
from torch import nn
from torch.nn import Linear as Dense, ModuleList as Layers

Seq = nn.Sequential


class A(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        return Dense(4, 4)(x)


class B(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = Layers(nn.Linear(2, 2))
        self.head = Seq([nn.Linear(2, 2)])

        def build():
            return nn.ModuleList(nn.Linear(2, 2), nn.ReLU())
        self.more = build()


class Base(nn.Module):
    def helper(self, x):
        return nn.\\
            Linear(4, 4)(x)


class C(Base):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        return self.helper(x)


class D(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def reset(self):
        self.__init__()

    def forward(self, x):
        self.reset()
        return x
'''


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_what_the_screens_look_for_in_the_text_is_found_however_it_is_written(tmp_path: Path, newline: str) -> None:
    path = tmp_path / "looks.py"
    path.write_bytes(LOOKS.replace("\n", newline).encode())
    found = check_file(str(path), EVERY_RULE)
    assert [(f.line, f.code) for f in found] == [
        (14, "NNC009"), (20, "NNC014"), (21, "NNC014"), (24, "NNC014"), (30, "NNC009"), (45, "NNC009")
    ]
    assert found == check_file(str(path), UNSCREENED)


def test_a_container_called_only_through_an_alias_is_screened_in(tmp_path: Path) -> None:
    path = tmp_path / "alias.py"
    path.write_text("from torch import nn\n\nSeq = nn.Sequential\n\n\nclass Net(nn.Module):\n    def __init__(self):\n"
                    "        super().__init__()\n        self.body = Seq([nn.Linear(2, 2)])\n")
    found = check_file(str(path), EVERY_RULE)
    assert [(f.line, f.code) for f in found] == [(9, "NNC014")]
    assert found == check_file(str(path), UNSCREENED)
