"""Rewrite a source string with the fixes of its findings, checking every rewrite before keeping it."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Hashable

from nncheck.engine.checker import DEFAULT_SETTINGS, Analysis, Item, analyse, check_source
from nncheck.engine.collector import collector_paused
from nncheck.engine.recursion import deep_recursion
from nncheck.files.atomic import WriteError, replace_file
from nncheck.files.source import SourceError, decode_with_encoding, read_bytes
from nncheck.findings import FILE_CODES, UNPARSABLE, Finding
from nncheck.files.notebook import is_notebook
from nncheck.fixes.fix import apply_fixes
from nncheck.fixes.notebook_fix import fix_notebook
from nncheck.fixes.outcome import FileFix, FixResult
from nncheck.settings import Settings

_BARE_CR = re.compile(r"\r(?!\n)")
# Each round applies the fixes that touch distinct nodes; fixes that share a node wait for the next.
_MAX_ROUNDS = 50


def fix_source(
    source: str | bytes,
    path: str = "<string>",
    settings: Settings = DEFAULT_SETTINGS,
    *,
    unsafe: bool = False,
    only: Finding | None = None,
) -> FixResult:
    """Apply every safe fix (and the unsafe ones too if asked), or only the fix of the finding `only`
    (an editor's quick fix). A rewrite is kept only if it parses and, checked again, has lost exactly
    the findings it fixed and gained none."""
    if isinstance(source, bytes):
        try:
            text, encoding = decode_with_encoding(source)
        except SourceError as error:
            failed = Finding(path, 1, 0, UNPARSABLE, f"nncheck could not parse this file: {error}")
            return FixResult("", "", None, remaining=[failed])
    else:
        text, encoding = source, None
    if is_notebook(path):
        return fix_notebook(text, encoding, path, settings, unsafe, only, _fix_python)
    return _fix_python(text, path, settings, unsafe, only, encoding)


def _fix_python(
    text: str, path: str, settings: Settings, unsafe: bool, only: Finding | None, encoding: str | None = None
) -> FixResult:
    result = FixResult(text, text, encoding)
    analysis = analyse(text, path, settings)
    tail = ""
    whole = analysis
    if analysis.module is not None and any(i.fix for i in analysis.items):
        if analysis.module.code != text:
            # libcst 1.9 prints some trees back with a byte lost: a blank line among whitespace-only last
            # lines. Those lines are set aside and put back after fixing.
            body, tail = _split_blank_tail(text)
            analysis = analyse(body, path, settings)
            printed_back = analysis.module is not None and analysis.module.code == body
        else:
            printed_back = True
        # A statement moved away from after a bare CR line ending would let that CR and the next
        # line's LF merge into one CRLF: a line lost.
        if not printed_back or (_BARE_CR.search(text) and "\n" in text):
            # Never write what might not be exactly the file with its fixes: report them as not applied.
            result.refused = [i.finding for i in whole.items if i.fix and (i.fix.safe or unsafe)]
            result.remaining = whole.findings
            return result
    with deep_recursion(), collector_paused():  # rewriting walks the tree as deep as analysing it
        _fix_rounds(result, analysis, path, settings, unsafe, only, tail)
    return result


def _split_blank_tail(text: str) -> tuple[str, str]:
    """The text up to the end of its last line with more than whitespace, and the rest."""
    content = text.rstrip(" \t\f\r\n")
    ends = [i for i in (text.find("\n", len(content)), text.find("\r", len(content))) if i >= 0]
    if not content or not ends:
        return text, ""
    end = min(ends) + (2 if text.startswith("\r\n", min(ends)) else 1)
    return text[:end], text[end:]


def _fix_rounds(
    result: FixResult, analysis: Analysis, path: str, settings: Settings, unsafe: bool, only: Finding | None,
    tail: str,
) -> None:
    refused: set[Hashable] = set()
    one_at_a_time = False
    for _ in range(_MAX_ROUNDS):
        candidates = [i for i in analysis.items if i.fix and (i.fix.safe or unsafe) and i.key not in refused]
        if only is not None:
            candidates = [i for i in candidates if i.finding == only and not result.fixed]
        if analysis.module is None or not candidates:
            break
        if one_at_a_time:
            candidates = candidates[:1]
        try:
            new_module, applied_fixes = apply_fixes(analysis.module, [i.fix for i in candidates if i.fix])
            new_text: str | None = new_module.code
        except Exception:  # a broken edit is a refused fix, never a lost file
            applied_fixes, new_text = [i.fix for i in candidates if i.fix], None
        applied = [i for i in candidates if any(i.fix is f for f in applied_fixes)]
        checked = analyse(new_text, path, settings) if new_text is not None else None
        if new_text is not None and checked is not None and _worked(analysis, checked, applied):
            result.fixed.extend(i.finding for i in applied)
            result.text, analysis = new_text + tail, checked
        elif len(applied) > 1:
            one_at_a_time = True  # find which of them is at fault
        else:
            refused.update(i.key for i in applied)
            result.refused.extend(i.finding for i in applied)
    result.remaining = analysis.findings


def _worked(before: Analysis, after: Analysis, applied: list[Item]) -> bool:
    if any(f.code in FILE_CODES for f in after.findings):
        return False
    expected = Counter(i.key for i in before.items)
    expected.subtract(i.key for i in applied)
    return Counter(i.key for i in after.items) == +expected and all(n >= 0 for n in expected.values())


def fix_file(path: str, settings: Settings = DEFAULT_SETTINGS, *, unsafe: bool = False, write: bool = True) -> FileFix:
    try:
        data = read_bytes(path)
    except SourceError as error:
        failed = Finding(path, 1, 0, UNPARSABLE, f"nncheck could not read this file: {error}")
        return FileFix(path, FixResult("", "", None, remaining=[failed]))
    outcome = FileFix(path, fix_source(data, path, settings, unsafe=unsafe), data=data)
    if write:
        write_fix(outcome, settings)
    return outcome


def write_fix(outcome: FileFix, settings: Settings = DEFAULT_SETTINGS) -> None:
    """Write a fixed file back. If that fails, the outcome says why and reports what the file still has."""
    path, result, data = outcome.path, outcome.result, outcome.data
    if result.changed:
        try:
            replace_file(path, result.encoded(), expected=data)
        except WriteError as error:
            outcome.write_error = str(error)
            # Nothing was fixed on disk: what stands is what the file had (a notebook's, in its cells).
            outcome.result = FixResult(result.original, result.original, result.encoding,
                                       remaining=check_source(result.original, path, settings))
