"""Jupyter notebooks: checked as one module of their code cells, reported and fixed at cell positions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import subprocess

from conftest import nncheck_here

from nncheck import check_source
from nncheck.fixes.fixer import fix_source


def here(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return nncheck_here(*args, cwd=Path.cwd(), stdin=stdin)


def code(source: str | list[str], count: int | None = 1, outputs: list[Any] | None = None) -> dict[str, Any]:
    lines = source if isinstance(source, list) else source.splitlines(keepends=True)
    return {"cell_type": "code", "execution_count": count, "id": f"id-{len(lines)}", "metadata": {},
            "outputs": outputs or [], "source": lines}


def markdown(text: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "id": "md", "metadata": {}, "source": text.splitlines(keepends=True)}


def notebook(*cells: dict[str, Any], language: str = "python") -> dict[str, Any]:
    return {
        "cells": list(cells),
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": language, "name": "python3"},
                     "language_info": {"name": language, "version": "3.11.0"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def write(path: Path, book: dict[str, Any], *, indent: int = 1, ascii_only: bool = False) -> bytes:
    # nbformat's own layout: indent 1, non-ASCII kept, a final newline.
    data = (json.dumps(book, indent=indent, ensure_ascii=ascii_only) + "\n").encode()
    path.write_bytes(data)
    return data


IMPORTS = "%matplotlib inline\nimport torch\nfrom torch import nn\n"
CALL_OVERRIDDEN = (
    "class Net(nn.Module):\n"
    "    def __init__(self):\n"
    "        super().__init__()\n"
    "        self.fc = nn.Linear(2, 2)  # ünïcode\n"
    "\n"
    "    def __call__(self, x):\n"
    "        return self.fc(x)"
)
MESSAGE = "NNC001 [*] Net.__call__ bypasses forward hooks; rename it to forward"
OUTPUT = {"name": "stdout", "output_type": "stream", "text": ["42\n"]}


def test_findings_point_into_cells_and_imports_carry_across_cells(tmp_cwd: Path) -> None:
    write(tmp_cwd / "nb.ipynb", notebook(markdown("# Title\n"), code(IMPORTS), code(CALL_OVERRIDDEN)))
    result = here("--no-cache", "nb.ipynb")
    assert result.stdout == f"nb.ipynb:cell 3:6:5: {MESSAGE}\n"
    assert result.returncode == 1
    assert "Found 1 problem in 1 file (1 file checked)" in result.stderr


def test_folders_include_notebooks_and_exclude_can_leave_them_out(tmp_cwd: Path) -> None:
    (tmp_cwd / "pkg").mkdir()
    write(tmp_cwd / "pkg" / "nb.ipynb", notebook(code(IMPORTS), code(CALL_OVERRIDDEN)))
    (tmp_cwd / "pkg" / "m.py").write_text("x = 1\n")
    (tmp_cwd / "pkg" / ".ipynb_checkpoints").mkdir()
    checkpoint = tmp_cwd / "pkg" / ".ipynb_checkpoints" / "nb-checkpoint.ipynb"
    write(checkpoint, notebook(code(IMPORTS), code(CALL_OVERRIDDEN)))
    result = here("--no-cache", "pkg")
    assert result.stdout == f"pkg/nb.ipynb:cell 2:6:5: {MESSAGE}\n"
    assert "(2 files checked)" in result.stderr
    excluded = here("--no-cache", "--exclude", "*.ipynb", "pkg")
    assert (excluded.returncode, excluded.stdout) == (0, "")
    assert "(1 file checked)" in excluded.stderr
    (tmp_cwd / "pyproject.toml").write_text('[tool.nncheck]\nextend-exclude = ["*.ipynb"]\n')
    configured = here("--no-cache", "pkg")
    assert (configured.returncode, configured.stdout) == (0, "")


def test_machine_formats_carry_the_cell(tmp_cwd: Path) -> None:
    write(tmp_cwd / "nb.ipynb", notebook(code(IMPORTS), code(CALL_OVERRIDDEN)))
    (record,) = json.loads(here("--no-cache", "--output-format", "json", "nb.ipynb").stdout)
    place = (record["cell"], record["line"], record["column"], record["end_line"], record["end_column"])
    assert place == (2, 6, 5, 6, 17)
    sarif = json.loads(here("--no-cache", "--output-format", "sarif", "nb.ipynb").stdout)
    (result,) = sarif["runs"][0]["results"]
    assert result["properties"] == {"cell": 2}
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 6
    github = here("--no-cache", "--output-format", "github", "nb.ipynb").stdout
    assert github == (
        "::warning file=nb.ipynb,title=nncheck (NNC001)::cell 2, line 6: Net.__call__ bypasses forward hooks; "
        "rename it to forward\n"
    )
    python = here("--no-cache", "--output-format", "json", "-", stdin="x = 1\n").stdout
    assert json.loads(python) == []


def test_cached_findings_keep_their_cell(tmp_cwd: Path) -> None:
    write(tmp_cwd / "nb.ipynb", notebook(code(IMPORTS), code(CALL_OVERRIDDEN)))
    cache = str(tmp_cwd / "cache")
    first = here("--cache-dir", cache, "nb.ipynb")
    second = here("--cache-dir", cache, "nb.ipynb")
    assert first.stdout == second.stdout == f"nb.ipynb:cell 2:6:5: {MESSAGE}\n"


def test_magics_shell_lines_and_help_are_masked_and_other_languages_skipped() -> None:
    book = notebook(
        code("%load_ext autoreload\n%autoreload 2\nimport torch\nfrom torch import nn\n!pip install timm\n"
             "files = !ls\ntorch.ones?\n?nn.Linear\n"),
        code("%%time\nfor i in range(2):\n    !echo {i}\n    %time torch.ones(1)\n"),
        code("%%bash\necho 'class Net(nn.Module): pass' > x\n"),
        code("%%writefile model.py\nclass Broken(\n"),
        code(CALL_OVERRIDDEN),
    )
    findings = check_source(json.dumps(book), "nb.ipynb")
    assert [(f.cell, f.line, f.col, f.code) for f in findings] == [(5, 6, 4, "NNC001")]


def test_a_cell_that_parses_as_it_is_is_not_masked() -> None:
    # `%` starting a line continues an expression here: Python parses the cell, so nothing is masked.
    book = notebook(code("import torch\nfrom torch import nn\nx = (10\n     % 3)\n"), code(CALL_OVERRIDDEN))
    assert [(f.cell, f.code) for f in check_source(json.dumps(book), "nb.ipynb")] == [(2, "NNC001")]


def test_noqa_works_on_cell_lines() -> None:
    silenced = CALL_OVERRIDDEN.replace("def __call__(self, x):", "def __call__(self, x):  # noqa: NNC001")
    book = notebook(code(IMPORTS), code(silenced))
    assert check_source(json.dumps(book), "nb.ipynb") == []


def test_a_cells_displayed_last_expression_is_not_a_discarded_result() -> None:
    book = notebook(
        code("import torch\nx = torch.ones(4)\nx.view(2, 2)"),  # displayed
        code("x.view(2, 2)\ny = 1"),  # thrown away
        code("for step in range(3):\n    x.float()"),  # inside a loop: thrown away
    )
    findings = check_source(json.dumps(book), "nb.ipynb")
    assert [(f.cell, f.line, f.code) for f in findings] == [(2, 1, "NNC015"), (3, 2, "NNC015")]


def test_fix_changes_only_the_source_of_the_fixed_cell(tmp_cwd: Path) -> None:
    book = notebook(markdown("Ünïcode stays\n"), code(IMPORTS, 1, [OUTPUT]), code(CALL_OVERRIDDEN, 2, [OUTPUT]))
    book["metadata"]["custom"] = {"z": 1, "a": [1, 2]}  # key order is kept, not sorted
    before = write(tmp_cwd / "nb.ipynb", book)
    result = here("--fix", "nb.ipynb")
    assert result.returncode == 0, result.stderr
    after = (tmp_cwd / "nb.ipynb").read_bytes()
    expected = before.replace(b'"    def __call__(self, x):\\n"', b'"    def forward(self, x):\\n"')
    assert after == expected != before


def test_fix_keeps_other_layouts_byte_for_byte(tmp_cwd: Path) -> None:
    # Sources as one string, indent 2, ASCII escapes, no final newline, CRLF-free: all kept.
    book = notebook(code(IMPORTS), code(CALL_OVERRIDDEN))
    for cell in book["cells"]:
        cell["source"] = "".join(cell["source"])
    data = json.dumps(book, indent=2, ensure_ascii=True).encode()
    (tmp_cwd / "nb.ipynb").write_bytes(data)
    assert here("--fix", "nb.ipynb").returncode == 0
    after = (tmp_cwd / "nb.ipynb").read_bytes()
    assert after == data.replace(b"def __call__(self, x)", b"def forward(self, x)") != data


def test_fix_puts_masked_lines_back(tmp_cwd: Path) -> None:
    cell = "%%time\n!nvidia-smi\n" + CALL_OVERRIDDEN + "\nnet = Net()\nnet?"
    before = write(tmp_cwd / "nb.ipynb", notebook(code(IMPORTS), code(cell)))
    assert here("--fix", "nb.ipynb").returncode == 0
    after = json.loads((tmp_cwd / "nb.ipynb").read_bytes())
    assert "".join(after["cells"][1]["source"]) == cell.replace("__call__", "forward")
    assert after["cells"][0] == json.loads(before)["cells"][0]


def test_diff_is_per_cell_and_writes_nothing(tmp_cwd: Path) -> None:
    before = write(tmp_cwd / "nb.ipynb", notebook(code(IMPORTS), code(CALL_OVERRIDDEN)))
    result = here("--diff", "nb.ipynb")
    assert result.returncode == 1
    assert result.stdout == (
        "--- a/nb.ipynb:cell 2\n"
        "+++ b/nb.ipynb:cell 2\n"
        "@@ -3,5 +3,5 @@\n"
        "         super().__init__()\n"
        "         self.fc = nn.Linear(2, 2)  # ünïcode\n"
        " \n"
        "-    def __call__(self, x):\n"
        "+    def forward(self, x):\n"
        "         return self.fc(x)\n"
    )
    assert (tmp_cwd / "nb.ipynb").read_bytes() == before


def test_library_fix_source_on_a_notebook() -> None:
    text = json.dumps(notebook(code(IMPORTS), code(CALL_OVERRIDDEN)), indent=1)
    result = fix_source(text, "nb.ipynb")
    assert [(f.cell, f.line, f.code) for f in result.fixed] == [(2, 6, "NNC001")]
    assert result.remaining == []
    assert result.text == text.replace("def __call__(self, x)", "def forward(self, x)")


def test_broken_notebooks_get_one_clear_line_and_are_never_written(tmp_cwd: Path) -> None:
    cases = {
        "json.ipynb": b'{"cells": [',
        "v3.ipynb": json.dumps({"worksheets": [], "cells": [], "nbformat": 3}).encode(),
        "cells.ipynb": json.dumps({"nbformat": 4, "cells": {}}).encode(),
        "syntax.ipynb": json.dumps(notebook(code(IMPORTS), markdown("x"), code("def f(:\n    pass\n"),
                                            code(CALL_OVERRIDDEN))).encode(),
    }
    for name, data in cases.items():
        (tmp_cwd / name).write_bytes(data)
    result = here("--fix", *cases)
    assert result.returncode == 2
    assert result.stdout.splitlines() == [
        "cells.ipynb:1:1: NNC900 nncheck could not parse this file: not a valid notebook: no list of cells",
        "json.ipynb:1:1: NNC900 nncheck could not parse this file: not a valid notebook: invalid JSON "
        "(Expecting value, line 1, column 12)",
        "syntax.ipynb:1:1: NNC900 nncheck could not parse this file: cell 3 does not parse: invalid syntax "
        "(line 1, column 7)",
        "v3.ipynb:1:1: NNC900 nncheck could not parse this file: not a notebook nncheck can read: nbformat 3 "
        "(nncheck reads nbformat 4)",
    ]
    for name, data in cases.items():
        assert (tmp_cwd / name).read_bytes() == data


def test_notebooks_in_other_languages_have_nothing_to_check() -> None:
    book = notebook(code("class Net(nn.Module):\n    def __call__(self, x):\n        pass\n"), language="R")
    assert check_source(json.dumps(book), "nb.ipynb") == []


def test_only_lines_that_start_a_statement_are_masked() -> None:
    # Found on real notebooks: a magic elsewhere in the cell must not mask `% 3` continuing an expression.
    book = notebook(
        code('%matplotlib inline\nimport torch\ns = ("a %d"\n     % 3)\nc = (1\n     != 2)\nx = torch.ones(1)\n'
             'x.add(1)\ny = 2'),
    )
    findings = check_source(json.dumps(book), "nb.ipynb")
    assert [(f.cell, f.line, f.code) for f in findings] == [(1, 8, "NNC015")]


def test_a_fix_leaves_other_cells_with_several_lines_in_one_element_alone(tmp_cwd: Path) -> None:
    # Sphinx-gallery writes a cell's source as one string in a list: that cell is not touched.
    book = notebook(code(IMPORTS), code(["a = 1\nb = 2"]), code(CALL_OVERRIDDEN))
    before = write(tmp_cwd / "nb.ipynb", book)
    result = here("--fix", "nb.ipynb")
    assert result.returncode == 0, result.stderr
    after = (tmp_cwd / "nb.ipynb").read_bytes()
    assert after == before.replace(b'"    def __call__(self, x):\\n"', b'"    def forward(self, x):\\n"') != before


def test_a_last_statement_ending_in_a_semicolon_is_not_displayed() -> None:
    book = notebook(code("import torch\nx = torch.ones(4)\nx.add(1);"), language="ipython")
    findings = check_source(json.dumps(book), "nb.ipynb")
    assert [(f.cell, f.line, f.code) for f in findings] == [(1, 3, "NNC015")]


def test_functions_returning_a_value_are_named_so() -> None:
    findings = check_source("import torch\nx = torch.ones(2)\n\ndef f():\n    torch.allclose(x, x)\n", "m.py")
    assert [f.message for f in findings] == [
        "torch.allclose(...) returns a value and this line throws it away; assign it"
    ]
