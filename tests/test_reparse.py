"""engine.reparse: the ast spliced from the last one is the one Python gives the whole new text."""

from __future__ import annotations

import ast
import random
from pathlib import Path

import pytest

from nncheck.engine.reparse import reparse
from nncheck.files.source import SourceError, decode

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted([*ROOT.glob("examples/*.py"), *ROOT.glob("tests/fixtures/**/*.py"), *ROOT.glob("src/nncheck/**/*.py")])
TYPED = ["x = 1\n", "\n", "# note\n", "    y = 2\n", "def f(:\n", "'''\n", "\\\n", "else:\n", "@d\n"]


def dump(tree: ast.AST) -> str:
    return ast.dump(tree, include_attributes=True)


def spliced(before: str, after: str) -> ast.Module | None:
    return reparse(before, ast.parse(before), after)


def test_an_edit_inside_one_statement_keeps_the_others_and_moves_those_after() -> None:
    before = "import torch\n\n\ndef f():\n    return 1\n\n\nclass A:\n    pass\n"
    tree = ast.parse(before)
    first, last = tree.body[0], tree.body[2]
    after = before.replace("return 1", "return (\n        1)")
    got = reparse(before, tree, after)
    assert got is not None and dump(got) == dump(ast.parse(after))
    # The same node objects (and what the screens kept on them), the last one a line further down.
    assert got.body[0] is first and got.body[2] is last and last.lineno == 9


@pytest.mark.parametrize("before, after", [
    # A backslash joins the changed line to the statement before it.
    ("x = 1 \\\n\ny = 2\n", "x = 1 \\\n+ 2\ny = 2\n"),
    # An indented line typed under a class joins its body.
    ("class A:\n    a = 1\n\nb = 2\n", "class A:\n    a = 1\n\n    c = 3\nb = 2\n"),
    # Statements sharing a line with the change.
    ("a = 1; b = 2\nc = 3\n", "a = 1; b = 22\nc = 3\n"),
    ("a = 1\nb = 2; c = 3\nd = 4\n", "a = 1\nb = 2; c = 33\nd = 4\n"),
    # Lines removed, at the start, at the end, everything.
    ("a = 1\nb = 2\nc = 3\n", "a = 1\nc = 3\n"),
    ("a = 1\nb = 2\n", "b = 2\n"),
    ("a = 1\nb = 2\n", "a = 1\n"),
    ("a = 1\nb = 2\n", ""),
    ("", "a = 1\n"),
    # Line breaks changed, not the lines.
    ("a = 1\nb = 2\n", "a = 1\r\nb = 2\n"),
    ("a = 1\nb = 2\n", "a = 1\nb = 2\n"),
    # A decorator typed above a function, and one taken away.
    ("x = 1\n\ndef f():\n    pass\n", "x = 1\n@d\ndef f():\n    pass\n"),
    ("x = 1\n@d\ndef f():\n    pass\n", "x = 1\n\ndef f():\n    pass\n"),
    # A docstring opened and closed around statements.
    ("a = 1\nb = 2\nc = 3\n", "a = 1\n'''\nb = 2\n'''\nc = 3\n"),
])
def test_spliced_is_python_s_tree_or_none(before: str, after: str) -> None:
    got = spliced(before, after)
    assert got is None or dump(got) == dump(ast.parse(after))


@pytest.mark.parametrize("before, after", [
    ("x = 1\ny = 2\n", "x = 1\ny = (2\n"),  # does not parse: the caller reports Python's own error
    ("x = 1\ny = 2\n", "from __future__ import barry_as_FLUFL\nx = 1\ny = 1 <> 2\n"),
])
def test_what_must_be_parsed_whole_is_none(before: str, after: str) -> None:
    assert spliced(before, after) is None


@pytest.mark.parametrize("seed", range(4))
def test_random_edits_of_real_files_give_python_s_tree(seed: int) -> None:
    rng = random.Random(seed)
    spliced_count = 0
    # 40 files: with 25, one seed took only 25 splices, so any new source file could tip it below.
    for path in rng.sample(SOURCES, 40):
        try:
            text = decode(path.read_bytes())
            tree = ast.parse(text)
        except (SourceError, SyntaxError, ValueError):
            continue  # a fixture of what does not parse
        for _ in range(6):
            lines = text.splitlines(keepends=True) or ["\n"]
            at = rng.randrange(len(lines))
            kind = rng.choice(["insert", "delete", "copy", "type", "enter"])
            if kind == "insert":
                lines.insert(at, rng.choice(TYPED))
            elif kind == "delete":
                del lines[at:at + rng.randint(1, 3)]
            elif kind == "copy":
                lines.insert(at, lines[at])
            else:
                column = rng.randrange(len(lines[at]))
                typed = "\n" if kind == "enter" else rng.choice("x )(:'\"\\#")
                lines[at] = lines[at][:column] + typed + lines[at][column:]
            after = "".join(lines)
            try:
                wanted: ast.Module | None = ast.parse(after)
            except SyntaxError:
                wanted = None
            got = reparse(text, tree, after)
            if wanted is None:
                assert got is None, (path, kind, at)
                break
            if got is not None:
                spliced_count += 1
                assert dump(got) == dump(wanted), (path, kind, at)
            text, tree = after, got or wanted
    assert spliced_count >= 25  # the splice is taken, not only given up on
