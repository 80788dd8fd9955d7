"""Fixing a notebook: fix its cells as one module, then write back only the sources of changed cells."""

from __future__ import annotations

import json
from collections.abc import Callable

from nncheck.engine.checker import analyse
from nncheck.files import notebook
from nncheck.files.source import SourceError
from nncheck.findings import UNPARSABLE, Finding
from nncheck.fixes.outcome import FixResult
from nncheck.settings import Settings

FixModule = Callable[[str, str, Settings, bool, Finding | None], FixResult]


def fix_notebook(
    text: str, encoding: str | None, path: str, settings: Settings, unsafe: bool, only: Finding | None,
    fix_module: FixModule,
) -> FixResult:
    """`fix_module` fixes the combined module (the fixer's own function for Python source)."""
    try:
        book = notebook.read(text)
    except SourceError as error:
        failed = Finding(path, 1, 0, UNPARSABLE, f"nncheck could not parse this file: {error}")
        return FixResult(text, text, encoding, remaining=[failed])
    inner = fix_module(book.python, path, settings, unsafe, book.to_module(only) if only else None)
    result = FixResult(text, text, encoding, refused=placed(book, inner.refused),
                       remaining=placed(book, inner.remaining))
    if not inner.changed:
        return result
    new_text = rewritten(book, inner.text)
    if new_text is None:
        # Never write what might not be exactly the notebook with its fixes.
        result.refused = placed(book, inner.fixed + inner.refused)
        result.remaining = placed(book, analyse(book.python, path, settings).findings)
        return result
    new_book = notebook.read(new_text)
    result.text = new_text
    result.fixed = placed(book, inner.fixed)
    result.remaining = placed(new_book, inner.remaining)
    return result


def rewritten(book: notebook.Notebook, python: str) -> str | None:
    """The notebook's new JSON text, if it can be shown to differ from the old only in cell sources
    and to read back as exactly the fixed module."""
    sources = notebook.split_cells(book, python)
    if sources is None:
        return None
    new_text = notebook.rewrite(book, sources)
    try:
        new_book = notebook.read(new_text)
    except SourceError:
        return None
    expected = json.loads(book.text)
    old_sources = {cell.number: cell.source for cell in book.cells}
    for index, cell in enumerate(expected["cells"]):
        new_source = sources.get(index + 1)
        if new_source is not None and new_source != old_sources.get(index + 1):
            cell["source"] = new_source.splitlines(keepends=True) if isinstance(cell["source"], list) else new_source
    if new_book.python != python or json.loads(new_text) != expected:
        return None
    return new_text


def placed(book: notebook.Notebook, findings: list[Finding]) -> list[Finding]:
    return sorted((book.to_cells(f) for f in findings), key=lambda f: f.place)
