"""`nncheck --add-noqa`: a `# noqa: CODE` comment on the line of every finding of a file (or of a
notebook's cell), so that a codebase can adopt nncheck and see only new mistakes from then on.

The rewrite is checked as --fix checks its own before anything is written: the code must be the same
to Python (only comments were added) and, checked again, the file must have lost exactly the
findings that were silenced. Otherwise nothing is added to the file. NNC900-NNC902 are about the
file itself and no comment silences them.
"""

from __future__ import annotations

import ast
import warnings

from nncheck.engine.checker import DEFAULT_SETTINGS, analyse
from nncheck.engine.recursion import deep_recursion
from nncheck.files import notebook
from nncheck.files.notebook import is_notebook
from nncheck.files.source import SourceError, decode_with_encoding, read_bytes
from nncheck.findings import FILE_CODES, UNPARSABLE, Finding
from nncheck.fixes.fixer import write_fix
from nncheck.fixes.noqa_comments import add_noqa_comments
from nncheck.fixes.notebook_fix import placed, rewritten
from nncheck.fixes.outcome import FileFix, FixResult
from nncheck.settings import Settings


def add_noqa_source(source: str | bytes, path: str = "<string>", settings: Settings = DEFAULT_SETTINGS) -> FixResult:
    """The source with its findings silenced. `fixed` holds the findings that got a comment,
    `refused` those whose line cannot take one, `remaining` what a check of the new source reports."""
    if isinstance(source, bytes):
        try:
            text, encoding = decode_with_encoding(source)
        except SourceError as error:
            return _unparsable(path, "", None, error)
    else:
        text, encoding = source, None
    book = None
    python = text
    if is_notebook(path):
        try:
            book = notebook.read(text)
        except SourceError as error:
            return _unparsable(path, text, encoding, error)
        python = book.python
    findings = analyse(python, path, settings, partial=True).findings
    targets = [f for f in findings if f.code not in FILE_CODES]
    result = FixResult(text, text, encoding, remaining=_in_cells(book, findings))
    if not targets:
        return result
    wanted: dict[int, set[str]] = {}
    for finding in targets:
        wanted.setdefault(finding.line, set()).add(finding.code)
    added = add_noqa_comments(python, wanted)
    unplaceable = set(added.unplaceable)
    silenced = [f for f in targets if f.line not in unplaceable]
    left = [f for f in findings if f not in silenced]
    new_text = _checked(python, added.text, left, path, settings) if added.insertions else None
    if new_text is not None and book is not None:
        new_text = rewritten(book, new_text)
    if new_text is None:
        # Never written unless it is certainly the file with comments added and nothing else.
        result.refused = _in_cells(book, targets if added.insertions else [f for f in left if f in targets])
        return result
    result.text = new_text
    result.fixed = _in_cells(book, silenced)
    result.refused = _in_cells(book, [f for f in left if f in targets])
    result.remaining = _in_cells(book, left)
    return result


def _checked(before: str, after: str, left: list[Finding], path: str, settings: Settings) -> str | None:
    """`after`, if it is `before` to Python and a check of it reports exactly `left`."""
    try:
        with deep_recursion(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if ast.dump(ast.parse(before)) != ast.dump(ast.parse(after)):
                return None
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return after if analyse(after, path, settings, partial=True).findings == left else None


def _in_cells(book: notebook.Notebook | None, findings: list[Finding]) -> list[Finding]:
    return findings if book is None else placed(book, findings)


def _unparsable(path: str, text: str, encoding: str | None, error: SourceError) -> FixResult:
    failed = Finding(path, 1, 0, UNPARSABLE, f"nncheck could not parse this file: {error}")
    return FixResult(text, text, encoding, remaining=[failed])


def add_noqa_file(path: str, settings: Settings = DEFAULT_SETTINGS, *, write: bool = True) -> FileFix:
    try:
        data = read_bytes(path)
    except SourceError as error:
        failed = Finding(path, 1, 0, UNPARSABLE, f"nncheck could not read this file: {error}")
        return FileFix(path, FixResult("", "", None, remaining=[failed]))
    outcome = FileFix(path, add_noqa_source(data, path, settings), data=data)
    if write:
        write_fix(outcome, settings)
    return outcome
