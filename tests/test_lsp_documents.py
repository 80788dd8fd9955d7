"""The language server's documents without a server: a fix's edits (edits_between)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from nncheck.frontends.lsp_documents import edits_between

# Pieces that make line breaks, their halves and characters of every width meet at the edges of edits.
PIECES = st.sampled_from(["a", "b", " ", "\r", "\n", "\r\n", "é", "\N{GRINNING FACE}", "x = 1\n", "def f():\n"])
TEXTS = st.lists(PIECES, max_size=30).map("".join)


def applied(text: str, edits: list[tuple[tuple[int, int, int, int], str]]) -> str:
    """The edits applied as an editor applies them: each range in the original text, all at once."""
    starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    ends = [m.start() for m in re.finditer(r"\r\n|\r|\n", text)] + [len(text)]
    offsets = []
    for (line, col, end_line, end_col), new in edits:
        # A position is within its line, never inside its line break.
        assert col <= ends[line] - starts[line] and end_col <= ends[end_line] - starts[end_line]
        offsets.append((starts[line] + col, starts[end_line] + end_col, new))
    assert all(a[1] < b[0] for a, b in zip(offsets, offsets[1:])), "edits overlap or touch"
    for start, end, new in reversed(offsets):
        text = text[:start] + new + text[end:]
    return text


def test_a_renamed_name_is_one_edit_of_the_name() -> None:
    old = "class Net(nn.Module):\n    def __call__(self, x):\n        return x\n"
    assert edits_between(old, old.replace("__call__", "forward")) == [((1, 8, 1, 16), "forward")]


def test_an_inserted_line_is_inserted_before_the_line_it_precedes() -> None:
    old = "def __init__(self):\n    self.w = 1\n"
    new = "def __init__(self):\n    super().__init__()\n    self.w = 1\n"
    assert edits_between(old, new) == [((1, 0, 1, 0), "    super().__init__()\n")]


def test_a_crlf_is_never_split() -> None:
    # Trimming the common ends would leave a position between \r and \n, which LSP cannot name.
    assert edits_between("a\r\nb\r\n", "a\r\nb\nc\r\n") == [((1, 1, 1, 1), "\nc")]
    assert applied("a\r\n", edits_between("a\r\n", "a\rb\r\n")) == "a\rb\r\n"


def test_changes_far_apart_in_a_long_file_stay_separate_edits() -> None:
    # Past 200 lines difflib treats frequent lines as junk; the changed runs are compared again.
    block = "class B{}(nn.Module):\n    def forward(self, x):\n        return x\n\n"
    old = "".join(block.format(n) for n in range(300))
    new = old.replace("return x", "return x + 1")
    edits = edits_between(old, new)
    assert len(edits) == 300 and all(new_text == " + 1" for _, new_text in edits)
    assert applied(old, edits) == new


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(TEXTS, TEXTS)
def test_the_edits_give_the_new_text_exactly(old: str, new: str) -> None:
    assert applied(old, edits_between(old, new)) == new
