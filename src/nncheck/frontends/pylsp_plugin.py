"""nncheck as a python-lsp-server (pylsp) plugin: its findings as diagnostics beside pylsp's own, and
its fixes as code actions, the same as `nncheck lsp` gives (both are made in lsp_checks).

pylsp loads this module through the `pylsp` entry point, and nothing else imports it: nncheck works
without pylsp. Settings are pylsp's `pylsp.plugins.nncheck.*`, on top of `[tool.nncheck]` as the
command's options are.
"""

from __future__ import annotations

import ast
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from pylsp import hookimpl

from nncheck.engine.checker import Memory as EngineMemory
from nncheck.files.config import ConfigError, Overrides, check_codes
from nncheck.files.notebook import is_notebook
from nncheck.findings import Finding, rule_url
from nncheck.frontends.lsp_checks import (
    Checked, Position, Span, check_text, code_actions, lsp_range, overlaps, parse_again, span_of, usable_settings)
from nncheck.frontends.options import names

NAME = "nncheck"  # the entry point's name, which pylsp's settings and `enabled` go by
ENCODING = "utf-16"  # pylsp negotiates no position encoding, so LSP's default holds
ERROR, WARNING = 1, 2  # LSP's MessageType and DiagnosticSeverity values used here
Json = dict[str, Any]

# pylsp lints on timer threads (its debounce) and answers code actions on its reader thread; the
# engine is used from one thread at a time.
_lock = threading.Lock()
_shown: set[str] = set()  # messages already popped up: once each, not once per keystroke


class Document(Protocol):
    """What is used of pylsp's Document (its classes have no annotations)."""

    uri: str
    path: str
    shared_data: dict[str, Any]

    @property
    def source(self) -> str: ...


class Workspace(Protocol):
    def show_message(self, message: str, msg_type: int) -> None: ...

    def log_message(self, message: str, msg_type: int) -> None: ...


class Config(Protocol):
    def plugin_settings(self, plugin: str, document_path: str | None = None) -> Mapping[str, Any]: ...


@dataclass
class Memory:
    """What is kept with an open document (in its shared_data, so it goes when the document closes)."""

    last: Checked[Json] | None = None
    good: Checked[Json] | None = None  # the last check whose text parsed
    tree: tuple[str, ast.Module] | None = None  # Python's ast of the last text, to parse an edit's lines only
    engine: EngineMemory = field(default_factory=EngineMemory)  # the last check's table and screen answers


@hookimpl
def pylsp_settings() -> Json:
    # None: as [tool.nncheck] says. No list defaults: pylsp merges lists from its sources as sets.
    return {"plugins": {NAME: {"enabled": True, "select": None, "extendSelect": None, "ignore": None,
                               "moduleBases": None, "python": None}}}


@hookimpl
def pylsp_lint(config: Config, workspace: Workspace, document: Document) -> list[Json]:
    # Checked again even if the text is the same: pylsp lints an unchanged text after a save or a
    # change to other files or settings, which the findings may depend on.
    return _guarded(workspace, "checking a document", lambda: _check(config, workspace, document).diagnostics)


@hookimpl
def pylsp_code_actions(config: Config, workspace: Workspace, document: Document, range: Json,
                       context: Json) -> list[Json]:
    return _guarded(workspace, "computing code actions", lambda: _actions(config, workspace, document, range, context))


def _guarded(workspace: Workspace, doing: str, work: Callable[[], list[Json]]) -> list[Json]:
    """The work's result, or nothing after a message: pylsp drops every plugin's result when one raises."""
    try:
        with _lock:
            return work()
    except Exception as error:
        summary = f"nncheck: {doing} failed: {error}" if isinstance(error, ConfigError) else \
            f"nncheck: {doing} failed: {type(error).__name__}: {error}"
        details = summary if isinstance(error, ConfigError) else f"{summary}\n{traceback.format_exc()}"
        _tell(workspace, summary, ERROR, details)
        return []


def _tell(workspace: Workspace, message: str, kind: int, details: str | None = None) -> None:
    workspace.log_message(details or message, kind)
    if message not in _shown:
        _shown.add(message)
        workspace.show_message(message, kind)


def _check(config: Config, workspace: Workspace, document: Document, reuse: bool = False) -> Checked[Json]:
    memory: Memory = document.shared_data.setdefault(NAME, Memory())
    text = document.source
    settings = usable_settings(document.path, _overrides(config, document.path), "pylsp",
                               lambda message: _tell(workspace, message, WARNING))
    last = memory.last
    if reuse and last is not None and last.text == text and last.settings == settings:
        return last
    tree, memory.tree = parse_again(memory.tree, text), None
    if tree is not None:
        memory.tree = text, tree
    checked = check_text(_python_path(document.path), text, settings, memory.good, tree, _diagnostic, memory.engine)
    if is_notebook(document.path) and tree is not None:
        checked = _without_displayed(checked, tree)
    if checked.parsed:
        memory.good = checked
    memory.last = checked
    return checked


def _without_displayed(checked: Checked[Json], tree: ast.Module) -> Checked[Json]:
    """Leaves out NNC015 on an expression that ends a cell of a notebook sent by jupyterlab-lsp: the
    notebook displays its value, as `nncheck nb.ipynb` knows. Cells come two blank lines apart; two
    blank lines inside a cell are taken for a cell's end too (a finding missed, never a wrong one)."""
    lines = checked.text.split("\n")
    ends: set[int] = set()
    for statement in tree.body:
        end = statement.end_lineno or statement.lineno
        after = lines[end:end + 3]
        if isinstance(statement, ast.Expr) and (not "".join(after).strip() or after[:2] == ["", ""]):
            ends.update(range(statement.lineno, end + 1))
    kept = [i for i, f in enumerate(checked.findings) if not (f.code == "NNC015" and f.line in ends)]
    if len(kept) == len(checked.findings):
        return checked
    return replace(checked, findings=[checked.findings[i] for i in kept],
                   diagnostics=[checked.diagnostics[i] for i in kept])


def _python_path(path: str) -> str:
    """The name the text is checked under. A text document is Python: jupyterlab-lsp sends a notebook's
    code, its magics made Python, under the notebook's own name, which nncheck would read as JSON."""
    return f"{path}.py" if is_notebook(path) else path


def _overrides(config: Config, path: str) -> Overrides:
    given = config.plugin_settings(NAME, document_path=path)
    where = f"pylsp.plugins.{NAME}"

    def strings(key: str) -> tuple[str, ...]:
        value = given.get(key)
        if isinstance(value, str):  # "NNC001,NNC002", as on the command line
            return names(value)
        if value is None or isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value or ())
        raise ConfigError(f"{where}.{key}: expected a list of strings, got {value!r}")

    def codes(key: str) -> tuple[str, ...]:
        return check_codes(strings(key), f"{where}.{key}")

    python = given.get("python")
    if python is not None and not isinstance(python, str):
        raise ConfigError(f"{where}.python: expected the path or name of a Python interpreter, got {python!r}")
    # An empty list says nothing: pylsp cannot tell it from a setting left out.
    return Overrides(select=codes("select") or None, extend_select=codes("extendSelect"),
                     ignore=codes("ignore") or None, module_bases=strings("moduleBases") or None,
                     python=python or None)


def _range(lines: list[str], span: Span) -> Json:
    start, end = lsp_range(lines, span, ENCODING)
    return {"start": {"line": start[0], "character": start[1]}, "end": {"line": end[0], "character": end[1]}}


def _ends(where: Json) -> tuple[Position, Position]:
    start, end = where["start"], where["end"]
    return (start["line"], start["character"]), (end["line"], end["character"])


def _diagnostic(finding: Finding, lines: list[str]) -> Json:
    return {"range": _range(lines, span_of(finding, lines)), "severity": WARNING, "source": "nncheck",
            "code": finding.code, "codeDescription": {"href": rule_url(finding.code)}, "message": finding.message}


def _actions(config: Config, workspace: Workspace, document: Document, where: Json, context: Json) -> list[Json]:
    checked = _check(config, workspace, document, reuse=True)
    lines = checked.lines
    asked = _ends(where)
    diagnostic_of = dict(zip(checked.findings, checked.diagnostics))
    here = [f for f, d in zip(checked.findings, checked.diagnostics) if overlaps(_ends(d["range"]), asked)]
    actions = []
    for action in code_actions(checked, here, context.get("only")):
        edits = [{"range": _range(lines, span), "newText": text} for span, text in action.edits]
        actions.append({
            "title": action.title, "kind": action.kind, "diagnostics": [diagnostic_of[f] for f in action.findings],
            "edit": {"changes": {document.uri: edits}},
            **({} if action.preferred is None else {"isPreferred": action.preferred}),
        })
    return actions
