"""`nncheck lsp`: a Language Server that shows nncheck's findings as diagnostics and offers its fixes.

pygls and lsprotocol come with the optional `lsp` extra, so they are imported only when the server is
built: `import nncheck.lsp` works without them.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import ctypes
import functools
import gc
import json
import os
import sys
import threading
import time
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import urlparse

from nncheck import __version__
from nncheck.engine.checker import Memory, check_source, dependencies, forget_other_files
from nncheck.engine.noqa import split_lines
from nncheck.files.config import ConfigError, Overrides, settings_for
from nncheck.files.notebook import is_notebook
from nncheck.findings import Finding, rule_url
from nncheck.frontends.lsp_checks import (
    FIX_ALL_KIND, Checked, Position, Span, check_text, code_actions, lsp_range, overlaps, parse_again, span_of,
    usable_settings)
from nncheck.frontends.lsp_documents import Document, apply_change
from nncheck.frontends.lsp_stream import INVALID_PARAMS, MessageReader, Refusal, refusal, what_is_wrong
from nncheck.frontends.options import add_configuration_options, overrides_from
from nncheck.settings import Settings

if TYPE_CHECKING:
    from lsprotocol import types
    from pygls.lsp.server import LanguageServer
    from pygls.protocol.json_rpc import MsgId, RPCMessage
    from pygls.protocol.language_server import LanguageServerProtocol

MISSING_EXTRA = "nncheck lsp needs the lsp extra: from a checkout of nncheck, pip install '.[lsp]'"
# Editors send a change per keystroke; checking waits until typing pauses for a quarter of what the last
# check of the document took, within these bounds. No backlog can build up (see Session), so the pause
# only saves work on checks whose text is replaced at once; a long one would only delay the answer.
# (A check after an edit of a 2,000-line file takes about 5 ms, engine.incremental: 20 ms was most of it.)
DEBOUNCE_SECONDS = 0.3
MIN_DEBOUNCE_SECONDS = 0.005
DEBOUNCE_SHARE = 0.25
# What to watch so that a document is checked again when a file its findings depend on changes.
WATCHED = ("**/*.py", "**/pyproject.toml")


def _range(lines: Sequence[str], span: Span, encoding: str) -> types.Range:
    from lsprotocol import types

    (line, character), (end_line, end_character) = lsp_range(lines, span, encoding)
    return types.Range(start=types.Position(line=line, character=character),
                       end=types.Position(line=end_line, character=end_character))


def _ends(where: types.Range) -> tuple[Position, Position]:
    return (where.start.line, where.start.character), (where.end.line, where.end.character)


def _protocol_class() -> type:
    """pygls's protocol, but text documents are kept by the session (see lsp_documents)."""
    from lsprotocol import types
    from pygls.protocol.language_server import LanguageServerProtocol, lsp_method

    class Protocol(LanguageServerProtocol):
        def _execute_handler(self, msg_id: MsgId, handler: Callable[..., object],
                             callback: Callable[[Future[object]], None], args: tuple[object, ...] | None = None,
                             kwargs: dict[str, object] | None = None) -> None:
            super()._execute_handler(msg_id, handler, callback, args, kwargs)
            # pygls keeps the future of each handler it runs as a generator, a coroutine or a thread
            # until it answers with it, which a notification never is: every didOpen, didChange and
            # didClose left one behind for as long as the server ran. Forgotten once done.
            future = self._request_futures.get(msg_id)
            if future is not None:
                future.add_done_callback(functools.partial(self._forget_future, msg_id))

        def _forget_future(self, msg_id: MsgId, future: Future[object]) -> None:
            if self._request_futures.get(msg_id) is future:
                del self._request_futures[msg_id]

        def _user(self, method: str, params: object) -> Iterator[tuple[object, tuple[object], None]]:
            handler = self.fm.features.get(method)
            if handler is not None:
                yield handler, (params,), None

        @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
        def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> Iterator[object]:
            yield from self._user(types.TEXT_DOCUMENT_DID_OPEN, params)

        @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
        def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> Iterator[object]:
            yield from self._user(types.TEXT_DOCUMENT_DID_CHANGE, params)

        @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
        def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> Iterator[object]:
            yield from self._user(types.TEXT_DOCUMENT_DID_CLOSE, params)

    return Protocol


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # a C library other than glibc
        return None
    return trim


def release_freed_memory() -> None:
    """Give memory freed by Python back to the system where glibc's malloc would keep it for reuse. A
    10 MB document's tree takes 1.5 GB; after it was closed the server stayed at 570-600 MB resident
    though every object was freed (the allocator's, not a leak); with this, 100-120 MB (measured
    over 8 rounds of opening and closing it, from 55 MB)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _receive(protocol: LanguageServerProtocol, data: object) -> None:
    """Handle one message as MessageReader read it; a request that cannot be handled is answered with
    the error, never left waiting."""
    refused = refusal(data)
    if refused is None and isinstance(data, dict):
        try:
            message = _structure(protocol, data)
        except Exception as error:
            method = data.get("method")
            refused = Refusal(data.get("id"), INVALID_PARAMS, f"Invalid params for {method}: {what_is_wrong(error)}",
                              "id" in data and method is not None)
        else:
            try:
                protocol.handle_message(message)
            except Exception as error:  # SystemExit, from `exit`, goes through
                print(f"nncheck lsp: handling {data.get('method')} failed: {error!r}", file=sys.stderr)
            return
    assert refused is not None
    print(f"nncheck lsp: {'answered' if refused.answer else 'ignored'} a message: {refused.message}", file=sys.stderr)
    if refused.answer:
        protocol._send_data({"jsonrpc": "2.0", "id": refused.id,
                             "error": {"code": refused.code, "message": refused.message}})


def _structure(protocol: LanguageServerProtocol, data: dict[str, object]) -> RPCMessage:
    """The message as pygls's handlers take it: its structure_message, without a traceback in the log
    for each message of the wrong shape (_receive answers those)."""
    from lsprotocol import types
    from pygls.protocol.json_rpc import JsonRPCNotification, JsonRPCRequestMessage, JsonRPCResponseMessage

    method, message_id = data.get("method"), data.get("id")
    kind: object
    if isinstance(method, str):
        kind = protocol.get_message_type(method) or (JsonRPCRequestMessage if "id" in data else JsonRPCNotification)
    elif "error" in data:
        kind = types.ResponseErrorMessage
    else:
        answered = protocol._result_types.pop(message_id, None) if isinstance(message_id, (int, str)) else None
        kind = answered or JsonRPCResponseMessage
    return protocol._converter.structure(data, kind)  # type: ignore[no-any-return]


def _server_class() -> type[LanguageServer]:
    """pygls's language server, reading its stdin with lsp_stream's reader."""
    from pygls.io_ import StdoutWriter
    from pygls.lsp.server import LanguageServer

    class Server(LanguageServer):
        def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
            self._stop_event = stop = threading.Event()
            self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
            reader = MessageReader(stdin or sys.stdin.buffer)

            async def serve() -> None:
                loop = asyncio.get_running_loop()
                while not stop.is_set():
                    data = await loop.run_in_executor(self.thread_pool, reader.read)
                    if data is None:
                        return
                    _receive(self.protocol, data)

            try:
                asyncio.run(serve())
            except BrokenPipeError:
                print("nncheck lsp: the client closed the connection", file=sys.stderr)
            except (KeyboardInterrupt, SystemExit):
                pass
            finally:
                self.shutdown()  # type: ignore[no-untyped-call]

    return Server


class Session:
    """The server and what it remembers between messages: open documents, pending checks, last checks.

    Every check runs on one worker thread, one at a time, so the server keeps reading messages while
    it checks; a document changed while it was being checked is checked again afterwards, once, with
    its latest text (a burst of changes leaves no backlog)."""

    def __init__(self, overrides: Overrides = Overrides()) -> None:
        from lsprotocol import types

        self.overrides = overrides
        # Notebooks: any notebook's Python cells (pygls keeps the notebook and its cells in step).
        notebooks = types.NotebookDocumentSyncOptions(notebook_selector=[
            types.NotebookDocumentFilterWithCells(cells=[types.NotebookCellLanguage(language="python")])
        ])
        self.server = _server_class()(
            "nncheck", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            notebook_document_sync=notebooks, protocol_cls=_protocol_class())
        self.documents: dict[str, Document] = {}
        self.pending: dict[str, asyncio.TimerHandle] = {}
        self.wanted: dict[str, bool] = {}  # documents waiting for the worker (True: a notebook), in order
        self.running = False
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nncheck-check")
        self.checked: dict[str, Checked[types.Diagnostic]] = {}
        self.good: dict[str, Checked[types.Diagnostic]] = {}  # the last check of each document whose text parsed
        self.trees: dict[str, tuple[str, ast.Module]] = {}  # per document, the last text that parsed and its ast
        self.memories: dict[str, Memory] = {}  # per document, its last check's table and screen (engine.incremental)
        self.cost: dict[str, float] = {}  # seconds the last check of each document took
        self.depends: dict[str, set[str]] = {}  # per document, the other files its findings depend on
        self.notebook_cells: dict[str, set[str]] = {}  # per notebook, the cells given diagnostics
        self.shut_down = False
        self._frozen = False
        self._shown_errors: set[str] = set()
        self._register()

    def _register(self) -> None:
        from lsprotocol import types

        server = self.server

        @server.feature(types.INITIALIZED)
        def initialized(params: types.InitializedParams) -> None:
            with self.guard("registering for file changes"):
                self.watch_files()

        @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
        def did_open(params: types.DidOpenTextDocumentParams) -> None:
            with self.guard("checking an opened document"):
                item = params.text_document
                # A client that sends every buffer it opens must not get NNC900 for its Markdown.
                if item.language_id.lower() in ("python", ""):
                    from pygls.uris import to_fs_path

                    self.documents[item.uri] = Document(item.uri, to_fs_path(item.uri) or "", item.version, item.text)
                    self.request(item.uri)

        @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
        def did_change(params: types.DidChangeTextDocumentParams) -> None:
            with self.guard("applying a change"):
                document = self.documents.get(params.text_document.uri)
                if document is None:
                    return
                for change in params.content_changes:
                    where = getattr(change, "range", None)
                    start = (where.start.line, where.start.character) if where else None
                    end = (where.end.line, where.end.character) if where else None
                    document.text = apply_change(document.text, start, end, change.text, self.encoding)
                document.version = params.text_document.version
                self.schedule(document.uri)

        @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
        def did_save(params: types.DidSaveTextDocumentParams) -> None:
            # The configuration may have changed with the file; saving also skips the debounce. Other
            # open documents whose findings depend on the saved file are checked again.
            with self.guard("checking a saved document"):
                self.files_changed([params.text_document.uri])

        @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
        def watched_files(params: types.DidChangeWatchedFilesParams) -> None:
            with self.guard("checking documents again after files changed"):
                self.files_changed([change.uri for change in params.changes])

        @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
        def did_close(params: types.DidCloseTextDocumentParams) -> None:
            with self.guard("clearing a closed document"):
                uri = params.text_document.uri
                # Only a document that was given diagnostics has any to clear.
                published = uri in self.checked
                self.forget(uri)
                if published:
                    server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

        @server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
        def notebook_open(params: types.DidOpenNotebookDocumentParams) -> None:
            with self.guard("checking an opened notebook"):
                self.request(params.notebook_document.uri, notebook=True)

        @server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
        def notebook_change(params: types.DidChangeNotebookDocumentParams) -> None:
            with self.guard("scheduling a check"):
                self.schedule(params.notebook_document.uri, notebook=True)

        @server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
        def notebook_save(params: types.DidSaveNotebookDocumentParams) -> None:
            with self.guard("checking a saved notebook"):
                self.request(params.notebook_document.uri, notebook=True)

        @server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
        def notebook_close(params: types.DidCloseNotebookDocumentParams) -> None:
            with self.guard("clearing a closed notebook"):
                uri = params.notebook_document.uri
                self.forget(uri)
                for cell in sorted(self.notebook_cells.pop(uri, set())):
                    server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=cell, diagnostics=[]))

        options = types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND])

        @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, options)
        async def code_action(params: types.CodeActionParams) -> list[types.CodeAction] | None:
            # On the worker, after any check running now: the engine is only ever used from one thread.
            def work() -> list[types.CodeAction] | None:
                actions = None
                with self.guard("computing code actions"):
                    actions = self.code_actions(params)
                return actions

            return await asyncio.get_running_loop().run_in_executor(self.worker, work)

        @server.feature(types.SHUTDOWN)
        def shutdown(params: None) -> None:
            self.shut_down = True
            for uri in list(self.pending):
                self.cancel(uri)
            self.wanted.clear()

    @contextmanager
    def guard(self, doing: str) -> Iterator[None]:
        """Log what went wrong, and carry on: one bad document or bug must not take the editor's
        diagnostics down for every file."""
        try:
            yield
        except Exception as error:
            self.report(doing, error)

    def report(self, doing: str, error: Exception) -> None:
        from lsprotocol import types

        try:
            self.server.window_log_message(types.LogMessageParams(
                type=types.MessageType.Error, message=f"nncheck: {doing} failed:\n{traceback.format_exc()}"))
            summary = f"nncheck: {doing} failed: {type(error).__name__}: {error}"
            # A pop-up once per distinct error, not once per keystroke.
            if summary not in self._shown_errors:
                self._shown_errors.add(summary)
                self.server.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=summary))
        except Exception:
            traceback.print_exc(file=sys.stderr)

    def settings_of(self, path: str) -> Settings:
        """The file's settings; with the environment nncheck runs under if the interpreter named for it
        (with --python or in its configuration) cannot be used, after a warning shown once."""
        return usable_settings(path, self.overrides, "nncheck lsp", self.warn)

    def warn(self, message: str) -> None:
        """A warning in the editor, once per distinct text, and in its log."""
        from lsprotocol import types

        if message in self._shown_errors:
            return
        self._shown_errors.add(message)
        self.server.window_log_message(types.LogMessageParams(type=types.MessageType.Warning, message=message))
        self.server.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=message))

    @property
    def encoding(self) -> str:
        return self.server.workspace.position_encoding or "utf-16"

    def watch_files(self) -> None:
        """Ask the client to tell of changes to Python files and configurations, if it can."""
        from lsprotocol import types

        capabilities = self.server.client_capabilities
        workspace = capabilities.workspace if capabilities else None
        watched = workspace.did_change_watched_files if workspace else None
        if not (watched and watched.dynamic_registration):
            return  # saving an open document still checks its dependents again
        options = types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern=pattern) for pattern in WATCHED])
        self.server.client_register_capability(types.RegistrationParams(registrations=[types.Registration(
            id="nncheck-watched-files", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES, register_options=options)]))

    def files_changed(self, uris: Sequence[str]) -> None:
        """Files changed on disk: check again the open documents saved, and those whose findings depend
        on a changed file (or all of them, for a configuration), with what other files say now."""
        from pygls.uris import to_fs_path

        paths = {os.path.realpath(to_fs_path(uri) or "") for uri in uris}
        configuration = any(os.path.basename(path) == "pyproject.toml" for path in paths)
        affected = [
            uri for uri, document in self.documents.items()
            if configuration or uri in uris or self.depends.get(uri, set()) & paths
        ]
        # Other files' tables are read again; on the worker, so no check in progress sees them change.
        self.worker.submit(forget_other_files)
        for uri in affected:
            self.checked.pop(uri, None)
            self.request(uri)

    def forget(self, uri: str) -> None:
        """Drop all that is kept about a closed document or notebook but its published diagnostics, and
        give the memory it held back to the system."""
        self.cancel(uri)
        for table in (self.documents, self.wanted, self.checked, self.good, self.trees, self.memories, self.cost,
                      self.depends):
            table.pop(uri, None)
        self.worker.submit(release_freed_memory)  # after any check running now, which may hold the document

    def schedule(self, uri: str, notebook: bool = False) -> None:
        self.cancel(uri)
        delay = min(DEBOUNCE_SECONDS, max(MIN_DEBOUNCE_SECONDS, DEBOUNCE_SHARE * self.cost.get(uri, DEBOUNCE_SECONDS)))
        self.pending[uri] = asyncio.get_running_loop().call_later(delay, self.request, uri, notebook)

    def cancel(self, uri: str) -> None:
        handle = self.pending.pop(uri, None)
        if handle is not None:
            handle.cancel()

    def request(self, uri: str, notebook: bool = False) -> None:
        """Check the document as soon as the worker is free (at once, if it is)."""
        self.cancel(uri)
        self.wanted.pop(uri, None)
        self.wanted[uri] = notebook
        self._next()

    def _next(self) -> None:
        while self.wanted and not self.running and not self.shut_down:
            uri = next(iter(self.wanted))
            notebook = self.wanted.pop(uri)
            with self.guard(f"checking a {'notebook' if notebook else 'document'}"):
                if notebook:
                    job = self.notebook_job(uri)
                else:
                    job = self.document_job(uri)
                if job is None:
                    continue
                self.running = True
                future = asyncio.get_running_loop().run_in_executor(self.worker, self._timed, uri, job[0])
                future.add_done_callback(functools.partial(self._finished, uri, notebook, job[1]))

    def _timed(self, uri: str, work: Callable[[], object]) -> object:
        started = time.perf_counter()
        try:
            return work()
        finally:
            self.cost[uri] = time.perf_counter() - started

    def _finished(self, uri: str, notebook: bool, show: Callable[[object], None], done: asyncio.Future[object]) -> None:
        self.running = False
        if not self.is_open(uri, notebook):
            # Closed while it was checked: what the check stored about it goes too (a 10 MB file's tree
            # is over a GB), and no diagnostics appear for it, nor its error if it failed.
            if not done.cancelled():
                done.exception()
            self.forget(uri)
            self._next()
            return
        if not self._frozen:
            # After the first check, what it loaded (grammars, torch's lists, other files' tables) lives
            # as long as the server: the garbage collector stops walking it at every check, which took a
            # third of a check's time (measured: 113 -> 77 ms median on a 2,000-line file). Freed by
            # reference counting as before; only cycles among these objects would outlive their use.
            gc.freeze()
            self._frozen = True
        with self.guard("checking a document"):
            show(done.result())
        self._next()

    def is_open(self, uri: str, notebook: bool) -> bool:
        if notebook:
            return self.server.workspace.get_notebook_document(notebook_uri=uri) is not None
        return uri in self.documents

    def document_job(self, uri: str) -> tuple[Callable[[], object], Callable[[object], None]] | None:
        document = self.documents.get(uri)
        if document is None or urlparse(uri).scheme != "file":
            return None
        text, version = document.text, document.version

        def show(result: object) -> None:
            current = self.documents.get(uri)
            # Diagnostics of an older text would be wrong where it changed: the newer text is queued.
            if isinstance(result, Checked) and current is not None and current.text == text:
                self.publish(uri, result, version)

        return (lambda: self.check_text(uri, document.path, text)), show

    def check(self, uri: str) -> Checked[types.Diagnostic] | None:
        """The findings for an open file:// document's current text (checked again only if it changed)."""
        document = self.documents.get(uri)
        if document is None or urlparse(uri).scheme != "file":
            return None
        return self.check_text(uri, document.path, document.text)

    def check_text(self, uri: str, path: str, text: str) -> Checked[types.Diagnostic]:
        """On the worker: the findings for this text of the document."""
        settings = self.settings_of(path)
        previous = self.checked.get(uri)
        if previous and previous.text == text and previous.settings == settings:
            return previous
        tree = memory = None
        if not is_notebook(path):
            tree, memory = self.parsed(uri, text), self.memories.setdefault(uri, Memory())
        checked = check_text(path, text, settings, self.good.get(uri), tree, self.diagnostic, memory)
        if checked.parsed:
            self.depends[uri] = {os.path.realpath(p) for p in dependencies(path, settings)}
            self.good[uri] = checked
        self.checked[uri] = checked
        return checked

    def parsed(self, uri: str, text: str) -> ast.Module | None:
        """On the worker: Python's ast of the text, from the document's last one where the edit allows."""
        tree = parse_again(self.trees.pop(uri, None), text)
        if tree is not None:
            self.trees[uri] = (text, tree)
        return tree

    def diagnostic(self, finding: Finding, lines: Sequence[str]) -> types.Diagnostic:
        """A finding as the editor shows it, on the lines of its document (or notebook cell)."""
        from lsprotocol import types

        return types.Diagnostic(
            range=_range(lines, span_of(finding, lines), self.encoding),
            severity=types.DiagnosticSeverity.Warning,
            source="nncheck",
            code=finding.code,
            code_description=types.CodeDescription(href=rule_url(finding.code)),
            message=finding.message,
        )

    def publish(self, uri: str, checked: Checked[types.Diagnostic], version: int) -> None:
        from lsprotocol import types

        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=checked.diagnostics, version=version))

    def notebook_job(self, uri: str) -> tuple[Callable[[], object], Callable[[object], None]] | None:
        """Check a notebook document as nncheck checks an .ipynb file, and give each cell its diagnostics."""
        from lsprotocol import types

        notebook = self.server.workspace.get_notebook_document(notebook_uri=uri)
        if notebook is None or urlparse(uri).scheme != "file":
            return None
        from pygls.uris import to_fs_path

        path = to_fs_path(uri) or ""
        if not path.endswith(".ipynb"):
            path += ".ipynb"  # checked as a notebook whatever the file is called
        cells: list[tuple[str, str]] = []  # (cell document uri, its text), in order
        raw: list[dict[str, object]] = []  # the same cells, as nbformat has them
        for cell in notebook.cells:
            document = self.server.workspace.get_text_document(cell.document)
            python = cell.kind == types.NotebookCellKind.Code and (document.language_id or "").lower() == "python"
            cells.append((cell.document, document.source))
            raw.append({"cell_type": "code" if python else "markdown", "metadata": {}, "source": document.source,
                        **({"outputs": [], "execution_count": None} if python else {})})
        book = json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": raw})
        first_code = next((i + 1 for i, c in enumerate(raw) if c["cell_type"] == "code"), 1)

        def show(result: object) -> None:
            assert isinstance(result, list)
            by_cell: dict[str, list[types.Diagnostic]] = {}
            for finding in result:
                # A finding about the whole notebook (a cell that does not parse) is shown on its first code cell.
                number = finding.cell or first_code
                if not 1 <= number <= len(cells):
                    continue
                cell_uri, text = cells[number - 1]
                by_cell.setdefault(cell_uri, []).append(self.diagnostic(finding, split_lines(text)))
            stale = self.notebook_cells.get(uri, set()) - set(by_cell)
            for cell_uri in sorted(stale) + sorted(by_cell):
                self.server.text_document_publish_diagnostics(
                    types.PublishDiagnosticsParams(uri=cell_uri, diagnostics=by_cell.get(cell_uri, [])))
            self.notebook_cells[uri] = set(by_cell)

        return (lambda: check_source(book, path, self.settings_of(path))), show

    def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        from lsprotocol import types

        uri = params.text_document.uri
        checked = self.check(uri)
        if checked is None:
            return []
        lines = checked.lines
        diagnostic_of = dict(zip(checked.findings, checked.diagnostics))
        asked = _ends(params.range)
        here = [f for f, d in zip(checked.findings, checked.diagnostics) if overlaps(_ends(d.range), asked)]
        actions = []
        for action in code_actions(checked, here, params.context.only):
            edits = [types.TextEdit(range=_range(lines, span, self.encoding), new_text=text)
                     for span, text in action.edits]
            actions.append(types.CodeAction(
                title=action.title, kind=action.kind, diagnostics=[diagnostic_of[f] for f in action.findings],
                edit=types.WorkspaceEdit(changes={uri: edits}), is_preferred=action.preferred))
        return actions


def create_session(overrides: Overrides = Overrides()) -> Session:
    """A server ready to run (`session.server.start_io()`); needs pygls, the `lsp` extra."""
    return Session(overrides)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nncheck lsp",
        description="Run nncheck's language server over stdin and stdout, for an editor to start. Options "
        "combine with [tool.nncheck] as the command's do.",
    )
    add_configuration_options(parser)
    # Clients such as vscode-languageclient name the transport; stdio is the only one.
    parser.add_argument("--stdio", action="store_true", help="talk over stdin and stdout (the default and only way)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    overrides = overrides_from(args)
    if overrides.config_file:
        try:
            settings_for("x.py", overrides)  # a bad --config file is a usage error, before an editor waits
        except ConfigError as error:
            print(f"nncheck lsp: error: {error}", file=sys.stderr)
            return 2
    try:
        import lsprotocol.types  # noqa: F401
        import pygls.lsp.server  # noqa: F401
    except ImportError:
        print(MISSING_EXTRA, file=sys.stderr)
        return 2
    session = create_session(overrides)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    # stdout carries the protocol: anything printed by mistake goes to stderr instead of corrupting it.
    sys.stdout = sys.stderr
    session.server.start_io(stdin, stdout)
    # As LSP asks: exit code 0 only after a shutdown request.
    return 0 if session.shut_down else 1


if __name__ == "__main__":
    sys.exit(main())
