"""`nncheck --add-noqa`: where each comment goes, that it is only ever inserted, and the command's output."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import nncheck_here

from nncheck import check_source
from nncheck.engine.noqa import lines_with_breaks
from nncheck.files.discovery import find_python_files
from nncheck.fixes.add_noqa import add_noqa_source
from nncheck.fixes.noqa_comments import Insertion, add_noqa_comments, noqa_insertion

HEAD = "import torch\nfrom torch import nn\n\n\nclass Net(nn.Module):\n"
CALL = HEAD + "    def __call__(self, x):\n        return x\n"
CALL_NOQA = HEAD + "    def __call__(self, x):  # noqa: NNC001\n        return x\n"
INIT = "    def __init__(self):\n        super().__init__()\n"
FORWARD = INIT + "\n    def forward(self):\n        x = torch.zeros(3)\n"
CORPUS = [p for p in os.environ.get("NNCHECK_CORPUS", "").split(os.pathsep) if p]


def here(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return nncheck_here(*args, cwd=Path.cwd(), stdin=stdin)


def only_inserted(before: str, after: str) -> bool:
    """Whether `after` is `before` with text inserted into some lines, and nothing else changed."""
    old, new = lines_with_breaks(before), lines_with_breaks(after)
    if len(old) != len(new):
        return False
    for a, b in zip(old, new):
        body = a.rstrip("\r\n")
        if a[len(body):] != b[len(b.rstrip("\r\n")):]:
            return False
        b = b.rstrip("\r\n")
        if a != b and not any(b[:i] + b[i + len(b) - len(body):] == body for i in range(len(b) + 1)):
            return False
    return True


# Where the comment goes, on one line.

@pytest.mark.parametrize(("line", "comment_col", "expected"), [
    ("x = 1", None, "x = 1  # noqa: NNC001"),
    ("x = 1 ", None, "x = 1  # noqa: NNC001"),  # one trailing blank kept, one more added
    ("x = 1\t\t", None, "x = 1\t\t# noqa: NNC001"),  # blanks are kept as they are
    ("x = 1  # noqa:E501", 7, "x = 1  # noqa:E501, NNC001"),
    ("x = 1  # noqa: E501,W291  # why", 7, "x = 1  # noqa: E501,W291,NNC001  # why"),
    ("x = 1  # NOQA: E501, W291", 7, "x = 1  # NOQA: E501, W291, NNC001"),
    ("x = 1  # noqa: E501 W291", 7, "x = 1  # noqa: E501 W291 NNC001"),
    ("x = 1  # type: ignore", 7, "x = 1  # type: ignore  # noqa: NNC001"),
    ("x = 1  # a comment", 7, "x = 1  # a comment  # noqa: NNC001"),
    # A noqa list inside a string is not a comment: it is never written into.
    ('f("# noqa: E501")', None, 'f("# noqa: E501")  # noqa: NNC001'),
])
def test_a_comment_is_added_or_joined_in_the_lists_own_style(
    line: str, comment_col: int | None, expected: str
) -> None:
    insertion = noqa_insertion(line, ["NNC001"], comment_col)
    assert insertion is not None
    col, text = insertion
    assert line[:col] + text + line[col:] == expected


@pytest.mark.parametrize("line", ["x = 1  # noqa", "x = 1  # NOQA", "x = 1  #noqa", "x = 1  # noqa: NNC",
                                  "x = 1  # noqa: NNC001", "x = 1  # noqa:E501,NNC0"])
def test_a_line_already_silenced_gets_nothing(line: str) -> None:
    assert noqa_insertion(line, ["NNC001"], 7) is None


def test_codes_of_one_line_are_added_once_each_and_sorted() -> None:
    assert noqa_insertion("x = 1", ["NNC015", "NNC001", "NNC015"], None) == (5, "  # noqa: NNC001, NNC015")
    assert noqa_insertion("x = 1  # noqa: NNC015", ["NNC015", "NNC001"], 7) == (21, ", NNC001")


def test_lines_that_cannot_take_a_comment_are_left_alone() -> None:
    text = (
        'a = f("""one\n'  # 1: ends inside a string
        'two""")\n'  # 2: ends after it
        "b = g(1,\n"  # 3: inside brackets, a comment is fine
        "      2)\n"
        "c = 1 + \\\n"  # 5: continues with a backslash
        "    2\n"
    )
    added = add_noqa_comments(text, {1: ["NNC015"], 2: ["NNC015"], 3: ["NNC015"], 5: ["NNC015"], 6: ["NNC015"]})
    assert added.unplaceable == [1, 5]
    assert added.insertions == [Insertion(2, 7, "  # noqa: NNC015"), Insertion(3, 8, "  # noqa: NNC015"),
                                Insertion(6, 5, "  # noqa: NNC015")]
    assert added.text == (
        'a = f("""one\n'
        'two""")  # noqa: NNC015\n'
        "b = g(1,  # noqa: NNC015\n"
        "      2)\n"
        "c = 1 + \\\n"
        "    2  # noqa: NNC015\n"
    )


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_line_endings_and_a_last_line_without_one_are_kept(ending: str) -> None:
    text = ending.join(["x = 1", "if x:", "\ty = 2", "z = 3"])
    added = add_noqa_comments(text, {3: ["NNC015"], 4: ["NNC001"]})
    assert added.text == ending.join(["x = 1", "if x:", "\ty = 2  # noqa: NNC015", "z = 3  # noqa: NNC001"])


def test_text_that_does_not_tokenize_gets_nothing() -> None:
    added = add_noqa_comments("x = (1,\n", {1: ["NNC001"]})
    assert (added.text, added.unplaceable) == ("x = (1,\n", [1])


# A whole source, checked before and after.

def test_a_finding_on_a_statement_of_several_lines_is_silenced_on_its_reported_line() -> None:
    source = HEAD + INIT + "        self.layers = [\n            nn.Linear(1, 2),\n        ]  # end\n"
    (finding,) = check_source(source)
    result = add_noqa_source(source)
    assert result.text == source.replace("self.layers = [\n", "self.layers = [  # noqa: NNC005\n")
    assert (result.fixed, result.refused, result.remaining) == ([finding], [], [])
    assert check_source(result.text) == []


def test_several_findings_of_one_line_get_one_comment() -> None:
    source = HEAD + INIT + "        x = torch.zeros(3); x.to(0); x.cuda(); self.layers = [nn.Linear(1, 1)]\n"
    findings = check_source(source)
    assert [f.code for f in findings] == ["NNC015", "NNC015", "NNC005"]
    result = add_noqa_source(source)
    assert result.text.splitlines()[-1].endswith("]  # noqa: NNC005, NNC015")
    assert sorted(result.fixed) == findings and check_source(result.text) == []


def test_a_finding_whose_line_ends_inside_a_string_is_reported_not_silenced() -> None:
    source = HEAD + FORWARD + '        x.to("""cpu\n""")\n        x.cuda()\n'
    string_line, other = check_source(source)
    result = add_noqa_source(source)
    assert result.text == source.replace("x.cuda()\n", "x.cuda()  # noqa: NNC015\n")
    assert (result.fixed, result.refused, result.remaining) == ([other], [string_line], [string_line])


def test_files_that_do_not_parse_are_left_alone() -> None:
    result = add_noqa_source(b"def f(:\n", "broken.py")
    assert not result.changed and [f.code for f in result.remaining] == ["NNC900"]
    result = add_noqa_source(b'{"cells": [', "broken.ipynb")
    assert not result.changed and [f.code for f in result.remaining] == ["NNC900"]


def test_encoding_bom_and_crlf_are_kept() -> None:
    source = ("# -*- coding: latin-1 -*-\n# café\n" + CALL).replace("\n", "\r\n").encode("latin-1")
    result = add_noqa_source(source, "m.py")
    assert result.encoded() == source.replace(b"(self, x):", b"(self, x):  # noqa: NNC001")
    bom = b"\xef\xbb\xbf" + CALL.encode()
    assert add_noqa_source(bom, "m.py").encoded() == bom.replace(b"(self, x):", b"(self, x):  # noqa: NNC001")


def test_a_second_run_adds_nothing() -> None:
    result = add_noqa_source(CALL)
    assert result.text == CALL_NOQA
    again = add_noqa_source(result.text)
    assert (again.changed, again.text, again.remaining) == (False, CALL_NOQA, [])


def test_notebook_cells_get_comments_and_nothing_else_of_the_json_changes() -> None:
    book = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Title"]},
            {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
             "source": ["%matplotlib inline\n", "import torch\n", "from torch import nn"]},
            {"cell_type": "code", "execution_count": 2, "metadata": {"tags": ["é"]}, "outputs": [],
             "source": (HEAD.split("\n\n\n")[1] + "    def __call__(self, x):\n        return x").splitlines(True)},
        ],
        "metadata": {"kernelspec": {"language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    text = json.dumps(book, indent=1, ensure_ascii=False) + "\n"
    (finding,) = check_source(text, "nb.ipynb")
    assert (finding.cell, finding.line) == (3, 2)
    result = add_noqa_source(text, "nb.ipynb")
    assert result.text == text.replace('(self, x):\\n"', '(self, x):  # noqa: NNC001\\n"')
    assert result.fixed == [finding] and check_source(result.text, "nb.ipynb") == []
    assert not add_noqa_source(result.text, "nb.ipynb").changed


# The command.

def test_add_noqa_then_a_plain_run_reports_nothing(tmp_cwd: Path) -> None:
    (tmp_cwd / "a.py").write_text(CALL)
    (tmp_cwd / "pkg").mkdir()
    crlf = (HEAD + FORWARD + "        x.to(0); x.cuda()\n        return x  # done\n").replace("\n", "\r\n")
    (tmp_cwd / "pkg" / "b.py").write_bytes(crlf.encode())
    (tmp_cwd / "good.py").write_text("x = 1\n")
    assert here().returncode == 1  # the cache now holds the findings: --add-noqa must still add them
    result = here("--add-noqa")
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == "Added 2 noqa directives to 2 files (3 files checked).\n"
    assert (tmp_cwd / "a.py").read_text() == CALL_NOQA
    expected = crlf.replace("x.cuda()\r\n", "x.cuda()  # noqa: NNC015\r\n")
    assert (tmp_cwd / "pkg" / "b.py").read_bytes() == expected.encode()
    assert (tmp_cwd / "good.py").read_text() == "x = 1\n"
    plain = here()
    assert (plain.returncode, plain.stdout, plain.stderr) == (0, "", "No problems found (3 files checked).\n")
    again = here("--add-noqa", "--no-cache")
    assert (again.returncode, again.stderr) == (0, "Added 0 noqa directives (3 files checked).\n")


def test_add_noqa_with_diff_shows_the_comments_and_changes_nothing(tmp_cwd: Path) -> None:
    (tmp_cwd / "a.py").write_text(CALL)
    result = here("--add-noqa", "--diff", "a.py")
    assert result.returncode == 1
    assert result.stdout.splitlines()[:2] == ["--- a/a.py", "+++ b/a.py"]
    assert "+    def __call__(self, x):  # noqa: NNC001" in result.stdout.splitlines()
    assert result.stderr == "Would add 1 noqa directive to 1 file (1 file checked).\n"
    assert (tmp_cwd / "a.py").read_text() == CALL


def test_add_noqa_follows_select_and_ignore(tmp_cwd: Path) -> None:
    source = HEAD + INIT + "        x = torch.zeros(3); x.to(0); self.layers = [nn.Linear(1, 1)]\n"
    (tmp_cwd / "a.py").write_text(source)
    assert here("--add-noqa", "--ignore", "NNC005").returncode == 0
    assert (tmp_cwd / "a.py").read_text() == source.replace("]\n", "]  # noqa: NNC015\n")
    assert here("--add-noqa").returncode == 0
    assert (tmp_cwd / "a.py").read_text() == source.replace("]\n", "]  # noqa: NNC015, NNC005\n")


def test_add_noqa_reports_what_it_cannot_silence_and_files_it_cannot_read(tmp_cwd: Path) -> None:
    source = HEAD + FORWARD + '        x.to("""cpu\n""")\n'
    (tmp_cwd / "a.py").write_text(source)
    result = here("--add-noqa", "a.py")
    finding = ("a.py:11:9: NNC015 [~] x.to(...) returns a new tensor and this line throws it away; "
               "assign it (x = x.to(...))")
    assert (result.returncode, result.stdout) == (1, finding + "\n")
    assert result.stderr.splitlines() == [
        f"nncheck: {finding} (no noqa comment added: its line ends inside a string or continues with a "
        "backslash (or, never seen, the file did not check out with the comment))",
        "Added 0 noqa directives; 1 problem in 1 file remains (1 file checked).",
    ]
    assert (tmp_cwd / "a.py").read_text() == source
    assert here("--add-noqa", "--exit-zero", "a.py").returncode == 0
    (tmp_cwd / "b.py").write_text("def f(:\n")
    broken = here("--add-noqa", "b.py")
    assert broken.returncode == 2
    assert broken.stdout.startswith("b.py:1:7: NNC900 nncheck could not parse this file")


def test_add_noqa_on_a_read_only_file_is_a_write_error(tmp_cwd: Path) -> None:
    path = tmp_cwd / "a.py"
    path.write_text(CALL)
    path.chmod(0o444)
    result = here("--add-noqa", "a.py")
    assert result.returncode == 2
    assert "nncheck: error: could not write noqa comments to a.py: the file is read-only" in result.stderr.splitlines()
    assert path.read_text() == CALL
    assert here("--add-noqa", "--exit-zero", "a.py").returncode == 2  # a failed write is not a finding


@pytest.mark.parametrize(("args", "message"), [
    (["--add-noqa", "--fix"], "--add-noqa and --fix cannot be combined: fix first, then silence what is left"),
    (["--add-noqa", "--diff", "--unsafe-fixes"], "--unsafe-fixes does not apply to --add-noqa, which fixes nothing"),
    (["--add-noqa", "-"], "--add-noqa writes the files it is given; it cannot take stdin ('-')"),
])
def test_add_noqa_usage_errors(tmp_cwd: Path, args: list[str], message: str) -> None:
    (tmp_cwd / "a.py").write_text(CALL)
    result = here(*args)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", f"nncheck: error: {message}\n")
    assert (tmp_cwd / "a.py").read_text() == CALL


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS, reason="set NNCHECK_CORPUS to folders of real code to run")
def test_add_noqa_on_the_corpus_silences_everything_and_only_adds_comments(tmp_path: Path) -> None:
    copies = []
    for index, folder in enumerate(CORPUS):
        copy = tmp_path / str(index) / Path(folder).name
        shutil.copytree(folder, copy, symlinks=True)
        copies.append(copy)
    before = {path: Path(path).read_text(encoding="utf-8", errors="surrogateescape")
              for path in find_python_files([str(c) for c in copies])}
    paths = [str(c) for c in copies]
    added = nncheck_here("--add-noqa", "--no-cache", *paths, cwd=tmp_path)
    assert added.returncode == 0, added.stdout + added.stderr
    plain = nncheck_here("--no-cache", *paths, cwd=tmp_path)
    assert (plain.returncode, plain.stdout) == (0, "")
    changed = [path for path, text in before.items()
               if Path(path).read_text(encoding="utf-8", errors="surrogateescape") != text]
    assert all(only_inserted(before[path], Path(path).read_text(encoding="utf-8", errors="surrogateescape"))
               for path in changed if not path.endswith(".ipynb"))


def test_add_noqa_on_a_notebook_whose_cell_source_is_one_string(tmp_cwd: Path) -> None:
    cell = "import torch\nfrom torch import nn\n\nclass Net(nn.Module):\n    def __call__(self, x):\n        return x"
    book = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                       "source": cell}],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 4}
    data = json.dumps(book, indent=2).encode()  # no final newline, two spaces: kept as they are
    (tmp_cwd / "nb.ipynb").write_bytes(data)
    result = here("--add-noqa")
    assert (result.returncode, result.stderr) == (0, "Added 1 noqa directive to 1 file (1 file checked).\n")
    assert (tmp_cwd / "nb.ipynb").read_bytes() == data.replace(b"(self, x):\\n", b"(self, x):  # noqa: NNC001\\n")
    assert here().returncode == 0
