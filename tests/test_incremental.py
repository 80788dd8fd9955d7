"""The check of an edited text that reuses the last check's table and screen (engine.incremental) gives
exactly the findings of a fresh check of the new text, whatever the edits."""

from __future__ import annotations

import ast

from hypothesis import HealthCheck, given, settings, strategies as st

from nncheck.engine.checker import Memory, check_source
from nncheck.engine.parsing import python_parse
from nncheck.engine.reparse import reparse
from nncheck.files.source import SourceError

IMPORTS = ["import torch\n", "from torch import nn\n", "import torch.nn as nn\n", "from torch.nn import Module\n",
           "import torch.nn.functional as F\n", "from torch import nn as Module\n"]
BASES = ["nn.Module", "Module", "object", "torch.nn.Module", "Base", "Block0", "Block1", "Block2", ""]
BODIES = [
    "    def forward(self, x):\n        return x\n",
    "    def __call__(self, x):\n        return x\n",
    "    def __init__(self):\n        self.w = 1\n",
    "    def __init__(self):\n        super().__init__()\n        self.layers = [nn.Linear(2, 2)]\n",
    "    def forwrd(self, x):\n        return x\n",
    "    def forward(self, x):\n        return self.proj.forward(x)\n",
    "    def forward(self, x):\n        return nn.Linear(2, 2)(x)\n",
    "    def forward(self, x):\n        x.view(2, -1)\n        return x\n",
    "    def forward(self, x):\n        self.eval\n        return x\n",
    "    def forward(self, x):\n        return F.dropout(x)\n",
    "    def forward(self, x):\n        self.w.requires_grad = False\n        return x\n",
    "    def forward(self, x):\n        self.proj.training = False\n        return x\n",
    "    # a comment about ropout\n    def forward(self, x):\n        return x\n",
    "    def __init__(self):\n        super().__init__()\n        self.w = torch.zeros(2, requires_grad=True)\n",
    "    def forward(self, x):\n        return x  \n",
    "    pass\n",
]
NAMES = ["Block0", "Block1", "Block2", "Base", "Net"]
OTHERS = ["def make():\n    return Block1()\n", "Alias = nn.Module\n", "Base = Block0\n", "x = torch.zeros(2)\n",
          "x.view(2)\n", "class Broken(:\n    pass\n", "__all__ = ['Block2']\n", "# a comment about ropout\n",
          "# %%\n", "# x.requires_grad = True\n", "\n"]


def _class(name: str, base: str, body: str) -> str:
    return f"class {name}({base}):\n{body}" if base else f"class {name}:\n{body}"


segments = st.one_of(
    st.sampled_from(IMPORTS),
    st.sampled_from(OTHERS),
    st.builds(_class, st.sampled_from(NAMES), st.sampled_from(BASES), st.sampled_from(BODIES)),
)


@st.composite
def edits(draw: st.DrawFn, first: list[str]) -> list[str]:
    """The segments after one edit of a kind an editor makes."""
    parts = list(first)
    # Mostly typing inside a class, as in an editor; also what changes the file's table.
    kind = draw(st.sampled_from(["line", "space"] * 4 + ["replace", "insert", "delete", "swap", "rename", "base"]))
    where = draw(st.integers(0, max(len(parts) - 1, 0)))
    if kind == "insert" or not parts:
        parts.insert(where, draw(segments))
    elif kind == "replace":
        parts[where] = draw(segments)
    elif kind == "delete":
        del parts[where]
    elif kind == "swap" and where + 1 < len(parts):
        parts[where], parts[where + 1] = parts[where + 1], parts[where]
    elif kind == "line":
        parts[where] = parts[where] + draw(st.sampled_from(["    # note\n", "\n", "    y = 1\n", "    z = Block0\n"]))
    elif kind == "space":
        parts[where] = parts[where].replace("\n", " \n", 1) if parts[where].endswith(" \n") is False \
            else parts[where].replace(" \n", "\n", 1)
    elif kind == "rename" and parts[where].startswith("class "):
        old = parts[where][6:].split("(")[0].split(":")[0]
        parts[where] = parts[where].replace(old, draw(st.sampled_from(NAMES)), 1)
    elif kind == "base" and parts[where].startswith("class "):
        head, _, body = parts[where].partition(":\n")
        name = head[6:].split("(")[0]
        parts[where] = _class(name, draw(st.sampled_from(BASES)), body)
    return parts


def _tree(last: tuple[str, ast.Module] | None, text: str) -> ast.Module | None:
    tree = reparse(*last, text) if last else None
    if tree is None:
        try:
            tree = python_parse(text)
        except SourceError:
            return None
    return tree


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(segments, min_size=1, max_size=8), st.data())
def test_edited_text_checked_as_a_fresh_check_would(first: list[str], data: st.DataObject) -> None:
    memory = Memory()
    last: tuple[str, ast.Module] | None = None
    # Classes no rule reports on: left out of what libcst is given (engine.focus), as in a long file.
    parts = [_class(f"Filler{n}", "nn.Module", BODIES[0]) for n in range(3)] + first
    for _ in range(6):
        text = "".join(parts)
        tree = _tree(last, text)
        found = check_source(text, "/tmp/nncheck-incremental.py", tree=tree, memory=memory)
        assert found == check_source(text, "/tmp/nncheck-incremental.py"), text
        last = (text, tree) if tree is not None else None
        parts = data.draw(edits(parts))


def test_an_edit_inside_one_class_reuses_the_table() -> None:
    blocks = "".join(_class(f"Block{n}", "nn.Module", BODIES[0]) + "\n" for n in range(20))
    text = "import torch\nfrom torch import nn\n" + blocks + _class("Net", "nn.Module", BODIES[1])
    memory = Memory()
    tree = python_parse(text)
    check_source(text, "/tmp/nncheck-incremental.py", tree=tree, memory=memory)
    assert memory.kept is not None
    table = memory.kept.table
    edited = text.replace("class Block7(nn.Module):\n", "class Block7(nn.Module):\n    # typing\n")
    new_tree = reparse(text, tree, edited)
    found = check_source(edited, "/tmp/nncheck-incremental.py", tree=new_tree, memory=memory)
    assert memory.kept is not None and memory.kept.table is table
    assert found == check_source(edited, "/tmp/nncheck-incremental.py")
    assert [f.code for f in found] == ["NNC001"]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 19), st.sampled_from(["    # typing\n", "    y = 1\n", "\n", "#\n"])),
                min_size=1, max_size=12))
def test_typing_in_a_long_file_reuses_the_rules_reports(typed: list[tuple[int, str]]) -> None:
    blocks = [_class(f"Block{n}", "nn.Module", BODIES[7 if n == 5 else 0]) + "\n" for n in range(20)]
    parts = ["import torch\nfrom torch import nn\n", *blocks, _class("Net", "nn.Module", BODIES[1])]
    memory = Memory()
    text = "".join(parts)
    tree = python_parse(text)
    check_source(text, "/tmp/nncheck-incremental.py", tree=tree, memory=memory)
    reports = memory.rules
    for block, line in typed:
        parts[block + 1] = parts[block + 1].replace(":\n", ":\n" + line, 1)
        edited = "".join(parts)
        new_tree = reparse(text, tree, edited)
        assert new_tree is not None
        found = check_source(edited, "/tmp/nncheck-incremental.py", tree=new_tree, memory=memory)
        assert found == check_source(edited, "/tmp/nncheck-incremental.py")
        text, tree = edited, new_tree
    if all(block != 5 for block, _ in typed):
        assert memory.rules is reports  # libcst and the rules did not run again


def test_an_edit_between_two_definitions_of_a_class_keeps_the_use_there() -> None:
    # Block0 uses the first Base, so its redefinition loses nothing: an edit of Block0 must not hide that use.
    first = _class("Base", "nn.Module", BODIES[0])
    text = "import torch\nfrom torch import nn\n" + first + _class("Block0", "Base", BODIES[0]) + first
    memory = Memory()
    tree = python_parse(text)
    assert check_source(text, "/tmp/nncheck-incremental.py", tree=tree, memory=memory) == []
    edited = text.replace("class Block0(Base):\n", "class Block0(Base): \n")
    new_tree = reparse(text, tree, edited)
    assert check_source(edited, "/tmp/nncheck-incremental.py", tree=new_tree, memory=memory) == []
