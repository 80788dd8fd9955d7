"""The pylsp plugin, in a real python-lsp-server spoken to in JSON-RPC over stdio, as an editor does:
nncheck's diagnostics beside pylsp's own, its code actions, its settings."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("pylsp", reason="python-lsp-server is not installed (the pylsp extra)")

from test_lsp import CALL, CALL_DIAGNOSTIC, CALL_RANGE, FIXED_CALL, Client, Message, apply, titled  # noqa: E402

# A mistake pyflakes finds too (an unused import), so both plugins' diagnostics can be told apart.
SOURCE = CALL + "import os\n"
PYFLAKES = {"source": "pyflakes", "message": "'os' imported but unused", "severity": 2,
            "range": {"start": {"line": 6, "character": 0}, "end": {"line": 6, "character": 10}}}
# NNC001, and NNC007, which is off by default.
TWO = CALL + "\n\nclass Outer(nn.Module):\n    def __init__(self):\n        super().__init__()\n" \
    "        self.inner = nn.Linear(2, 2)\n\n    def forward(self, x):\n        return self.inner.forward(x)\n"
# What jupyterlab-lsp sends for a notebook: its code cells as one Python text, the magics made calls,
# cells two blank lines apart, under the notebook's own name in .virtual_documents.
VIRTUAL = 'get_ipython().run_line_magic("matplotlib", " inline")\nget_ipython().getoutput("pip install torch")\n\n\n' \
    + CALL


class Pylsp(Client):
    def __init__(self, folder: Path, options: Message | None = None) -> None:
        super().__init__(folder / "pylsp.log", [sys.executable, "-m", "pylsp"])
        self.root = folder / "project"
        self.root.mkdir()
        self.request("initialize", {"processId": None, "rootUri": self.root.as_uri(), "capabilities": {},
                                    "initializationOptions": options or {}})
        self.notify("initialized", {})

    def configure(self, nncheck: Message) -> None:
        self.notify("workspace/didChangeConfiguration", {"settings": {"pylsp": {"plugins": {"nncheck": nncheck}}}})

    def found(self, uri: str, source: str = "nncheck") -> list[Message]:
        """The next diagnostics published for `uri` (pylsp publishes all its plugins' at once), from `source`."""
        return [d for d in self.diagnostics(uri)["diagnostics"] if d["source"] == source]

    def codes(self, uri: str) -> list[str]:
        return [d["code"] for d in self.found(uri)]


@pytest.fixture
def pylsp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pylsp]:
    monkeypatch.chdir(tmp_path)  # where pylsp runs: no configuration of this checkout applies
    client = Pylsp(tmp_path)
    try:
        yield client
    finally:
        client.close()


def test_diagnostic_beside_pyflakes_then_the_quick_fix_clears_it(pylsp: Pylsp) -> None:
    uri = (pylsp.root / "net.py").as_uri()
    pylsp.open(uri, SOURCE)
    published = pylsp.diagnostics(uri)
    assert published["version"] == 1
    assert [d for d in published["diagnostics"] if d["source"] == "nncheck"] == [CALL_DIAGNOSTIC]
    assert PYFLAKES in published["diagnostics"]

    actions = pylsp.code_actions(uri, CALL_RANGE, [CALL_DIAGNOSTIC])
    assert [(a["title"], a["kind"]) for a in actions] == [
        ("NNC001: Rename __call__ to forward", "quickfix"),
        ("Fix all nncheck findings in this file", "quickfix"),
        ("Silence NNC001 with # noqa", "quickfix"),
    ]
    assert all(a["diagnostics"] == [CALL_DIAGNOSTIC] for a in actions)
    fix = titled(actions, "NNC001: Rename __call__ to forward")
    assert fix["isPreferred"] is True
    assert fix["edit"]["changes"][uri] == [{"range": CALL_RANGE, "newText": "forward"}]
    assert apply(SOURCE, titled(actions, "Fix all nncheck findings in this file"), uri) == FIXED_CALL + "import os\n"
    fixed = apply(SOURCE, fix, uri)
    assert fixed == FIXED_CALL + "import os\n"
    silenced = apply(SOURCE, titled(actions, "Silence NNC001 with # noqa"), uri)
    assert silenced.splitlines()[4] == "    def __call__(self, x):  # noqa: NNC001"
    # Only fixes of findings under the range, and only the kinds asked for.
    top = {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}
    assert pylsp.code_actions(uri, top, []) == []
    only = pylsp.code_actions(uri, CALL_RANGE, [], only=["source.fixAll"])
    assert [(a["title"], a["kind"]) for a in only] == [
        ("Fix all nncheck findings in this file", "source.fixAll.nncheck")]

    # The fix applied as the editor applies it, unsaved: nncheck's diagnostic goes, pyflakes's stays.
    pylsp.change(uri, 2, fixed)
    published = pylsp.diagnostics(uri)
    assert published["version"] == 2
    assert [d["source"] for d in published["diagnostics"] if d["source"] in ("nncheck", "pyflakes")] == ["pyflakes"]
    assert pylsp.code_actions(uri, CALL_RANGE, []) == []
    pylsp.change(uri, 3, silenced)
    assert pylsp.found(uri) == []


def test_edits_are_checked_as_typed_and_a_syntax_error_keeps_the_last_findings(pylsp: Pylsp) -> None:
    uri = (pylsp.root / "net.py").as_uri()
    pylsp.open(uri, FIXED_CALL)
    assert pylsp.found(uri) == []
    pylsp.change(uri, 2, CALL)
    assert pylsp.found(uri) == [CALL_DIAGNOSTIC]
    # An unfinished line typed above the class: the NNC001 moves down with its line, as in nncheck lsp.
    broken = ("from torch import nn\ndef half(self, x\n\n\nclass Net(nn.Module):\n    def __call__(self, x):\n"
              "        return x\n")
    pylsp.change(uri, 3, broken)
    error, carried = pylsp.found(uri)
    assert (error["code"], error["severity"]) == ("NNC900", 2)
    assert error["message"] == "nncheck could not parse this file: '(' was never closed (line 2, column 9)"
    assert error["range"] == {"start": {"line": 1, "character": 8}, "end": {"line": 1, "character": 16}}
    moved = {"start": {"line": 5, "character": 8}, "end": {"line": 5, "character": 16}}
    assert carried == {**CALL_DIAGNOSTIC, "range": moved}
    assert pylsp.code_actions(uri, error["range"], [error]) == []
    pylsp.change(uri, 4, broken.replace("def half(self, x\n", "\n"))
    assert pylsp.found(uri) == [{**CALL_DIAGNOSTIC, "range": moved}]


def test_settings_select_ignore_and_enabled(pylsp: Pylsp) -> None:
    uri = (pylsp.root / "two.py").as_uri()
    pylsp.open(uri, TWO)
    assert pylsp.codes(uri) == ["NNC001"]
    # Each change of configuration checks the open documents again.
    pylsp.configure({"extendSelect": ["NNC007"], "ignore": ["NNC001"]})
    assert pylsp.codes(uri) == ["NNC007"]
    pylsp.configure({"select": "nnc001,NNC007"})  # a string as on the command line, any case
    assert pylsp.codes(uri) == ["NNC001", "NNC007"]
    pylsp.configure({"enabled": False})
    assert pylsp.codes(uri) == []
    # A bad setting is shown, and pylsp's own diagnostics still come.
    pylsp.change(uri, 2, TWO + "import os\n")
    assert pylsp.codes(uri) == []
    pylsp.configure({"select": ["NNC999"]})
    assert [d["source"] for d in pylsp.diagnostics(uri)["diagnostics"] if d["source"] != "pycodestyle"] == ["pyflakes"]
    shown = pylsp.receive(lambda m: m.get("method") == "window/showMessage", "a message shown")["params"]
    assert shown["type"] == 1
    assert shown["message"].startswith("nncheck: checking a document failed: pylsp.plugins.nncheck.select: "
                                       "unknown code or prefix 'NNC999' (codes are NNC001, ")


def test_initialization_options_and_tool_nncheck_combine_as_the_command_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    pylsp = Pylsp(tmp_path, {"pylsp": {"plugins": {"nncheck": {"extendSelect": ["NNC007"]}}}})
    try:
        uri = (pylsp.root / "two.py").as_uri()
        pylsp.open(uri, TWO)
        assert pylsp.codes(uri) == ["NNC001", "NNC007"]
        (pylsp.root / "pyproject.toml").write_text('[tool.nncheck]\nignore = ["NNC001"]\n')
        pylsp.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
        assert pylsp.codes(uri) == ["NNC007"]
        # The setting's `ignore` is added to the file's, as `--ignore` is.
        pylsp.configure({"ignore": ["NNC007"]})
        assert pylsp.codes(uri) == []
    finally:
        pylsp.close()


def test_a_notebook_from_jupyterlab_lsp_is_checked_as_python(pylsp: Pylsp) -> None:
    folder = pylsp.root / ".virtual_documents"
    folder.mkdir()
    uri = (folder / "Untitled.ipynb").as_uri()
    pylsp.open(uri, VIRTUAL)
    moved = {"start": {"line": 8, "character": 8}, "end": {"line": 8, "character": 16}}
    assert pylsp.found(uri) == [{**CALL_DIAGNOSTIC, "range": moved}]
    fix = titled(pylsp.code_actions(uri, moved, []), "NNC001: Rename __call__ to forward")
    assert apply(VIRTUAL, fix, uri) == VIRTUAL.replace("__call__", "forward")


def test_a_cells_last_expression_is_displayed_not_thrown_away(pylsp: Pylsp) -> None:
    folder = pylsp.root / ".virtual_documents"
    folder.mkdir()
    cells = ["import torch\nx = torch.ones(3)\nx.view(3, 1)", "x.view(1, 3)\ny = 1", "x.view(3)"]
    text = "\n\n\n".join(cells) + "\n"
    pylsp.open((folder / "nb.ipynb").as_uri(), text)
    # Only the expression in the middle of a cell throws its value away; the others are shown.
    assert [(d["code"], d["range"]["start"]["line"]) for d in pylsp.found((folder / "nb.ipynb").as_uri())] == [
        ("NNC015", 5)]
    script = pylsp.root / "script.py"
    pylsp.open(script.as_uri(), text)
    assert [d["range"]["start"]["line"] for d in pylsp.found(script.as_uri())] == [2, 5, 9]


def test_notebook_documents_get_their_cells_diagnostics(pylsp: Pylsp) -> None:
    notebook = (pylsp.root / "nb.ipynb").as_uri()
    cells = ["import torch\nfrom torch import nn", CALL.removeprefix("from torch import nn\n").strip("\n")]
    uris = [f"{notebook}#cell{i}" for i in range(len(cells))]
    pylsp.notify("notebookDocument/didOpen", {
        "notebookDocument": {"uri": notebook, "notebookType": "jupyter-notebook", "version": 1,
                             "cells": [{"kind": 2, "document": uri} for uri in uris]},
        "cellTextDocuments": [{"uri": uri, "languageId": "python", "version": 1, "text": text}
                              for uri, text in zip(uris, cells)],
    })
    # pylsp checks the cells as one text, and gives each cell its own diagnostics, on its own lines.
    first, second = pylsp.found(uris[0]), pylsp.found(uris[1])
    assert first == []
    on_cell = {"start": {"line": 1, "character": 8}, "end": {"line": 1, "character": 16}}
    assert second == [{**CALL_DIAGNOSTIC, "range": on_cell}]


def test_nothing_but_the_plugin_imports_pylsp(tmp_path: Path) -> None:
    (tmp_path / "net.py").write_text(CALL)
    # pylsp made unimportable: the command, the language server and flake8's plugin do not need it.
    code = ("import sys; sys.modules['pylsp'] = None; import nncheck.frontends.lsp, nncheck.frontends.flake8_plugin; "
            "from nncheck.frontends.cli import main; sys.exit(main(['--isolated', 'net.py']))")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("net.py:5:5: NNC001 ")
