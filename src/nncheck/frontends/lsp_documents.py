"""The language server's open text documents: incremental changes applied as LSP defines lines and
columns, findings carried over from an earlier text while the current one does not parse, and a fix
sent as the edits of the lines and characters it changes.

pygls's own documents split lines as `str.splitlines` does (form feeds and U+2028 too), which LSP and
Python do not; so the server keeps its text documents here. No pygls import: testable on its own.
"""

from __future__ import annotations

import bisect
import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from nncheck.engine.noqa import LINE_BREAK, lines_with_breaks, split_lines
from nncheck.findings import Finding

# A run of changed lines up to this long is compared again line by line (a cost quadratic in it).
REFINED_LINES = 200


@dataclass
class Document:
    uri: str
    path: str
    version: int
    text: str


def offset_of(text: str, line: int, character: int, encoding: str) -> int:
    """The index in `text` of an LSP position. Past the last line is the end of the text; past a
    line's end is that end (as LSP says); a column inside a character counts as that character's start."""
    starts = [0] + [m.end() for m in LINE_BREAK.finditer(text)]
    if line < 0:
        return 0
    if line >= len(starts):
        return len(text)
    start = starts[line]
    end = starts[line + 1] if line + 1 < len(starts) else len(text)
    content = text[start:end].rstrip("\r\n")
    units = 0
    for index, char in enumerate(content):
        size = _units(char, encoding)
        if units + size > character:
            return start + index
        units += size
    return start + len(content)


def _units(char: str, encoding: str) -> int:
    if encoding == "utf-32":
        return 1
    if encoding == "utf-8":
        return len(char.encode("utf-8", "surrogatepass"))
    return 2 if ord(char) > 0xFFFF else 1


def apply_change(text: str, start: tuple[int, int] | None, end: tuple[int, int] | None, new: str,
                 encoding: str) -> str:
    """The text after one content change: the whole text when it has no range."""
    if start is None or end is None:
        return new
    first, last = offset_of(text, *start, encoding), offset_of(text, *end, encoding)
    if last < first:
        first, last = last, first
    return text[:first] + new + text[last:]


def carried_over(old_text: str, new_text: str, findings: list[Finding]) -> list[Finding]:
    """The findings of `old_text` whose lines are unchanged in `new_text`, moved to where those lines
    are now (a finding on an edited line is dropped)."""
    old_lines, new_lines = split_lines(old_text), split_lines(new_text)
    moved: dict[int, int] = {}
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, old_start, old_end, new_start, _ in matcher.get_opcodes():
        if tag == "equal":
            for offset in range(old_end - old_start):
                moved[old_start + offset + 1] = new_start + offset + 1
    kept = []
    for finding in findings:
        last = finding.span[2] if finding.span else finding.line
        if finding.line in moved and last in moved and moved[last] - moved[finding.line] == last - finding.line:
            shift = moved[finding.line] - finding.line
            span = finding.span
            if span is not None:
                span = (span[0] + shift, span[1], span[2] + shift, span[3])
            kept.append(replace(finding, line=finding.line + shift, span=span))
    return kept


def edits_between(old: str, new: str) -> list[tuple[tuple[int, int, int, int], str]]:
    """Edits that turn `old` into `new`, each as ((line, col, end_line, end_col), new text) with 0-based
    lines and code-point columns in `old`: only the lines that differ, trimmed to the characters that do
    (an editor then keeps the cursor, folds and undo history elsewhere). Applied together they give
    `new` exactly; they never overlap."""
    old_lines, new_lines = lines_with_breaks(old), lines_with_breaks(new)
    line_starts = [0] + [m.end() for m in LINE_BREAK.finditer(old)]
    block_starts = [0]
    for line in old_lines:
        block_starts.append(block_starts[-1] + len(line))

    def position(offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(line_starts, offset) - 1
        return line, offset - line_starts[line]

    edits = []
    for old_start, old_end, new_start, new_end in _changed_lines(old_lines, new_lines):
        before, after = "".join(old_lines[old_start:old_end]), "".join(new_lines[new_start:new_end])
        head = _common(before, after, lambda a, b, n: a[:n] == b[:n])
        tail = _common(before[head:], after[head:], lambda a, b, n: a[len(a) - n:] == b[len(b) - n:])
        # No position falls between the \r and \n of a line break.
        if 0 < head < len(before) and before[head - 1:head + 1] == "\r\n":
            head -= 1
        end = len(before) - tail
        if 0 < end < len(before) and before[end - 1:end + 1] == "\r\n":
            end += 1
            tail -= 1
        start = block_starts[old_start]
        edits.append(((*position(start + head), *position(start + end)), after[head:len(after) - tail]))
    return edits


def _changed_lines(old: list[str], new: list[str]) -> Iterator[tuple[int, int, int, int]]:
    """(old_start, old_end, new_start, new_end) of each run of lines that differ. difflib's heuristic
    for long files (lines that occur often, such as blank ones, start no match) keeps it fast, then each
    run it finds is compared line by line without it, so that two fixes a few lines apart stay two edits."""
    outer = difflib.SequenceMatcher(None, old, new)
    for tag, old_start, old_end, new_start, new_end in outer.get_opcodes():
        if tag == "equal":
            continue
        if tag != "replace" or max(old_end - old_start, new_end - new_start) > REFINED_LINES:
            yield old_start, old_end, new_start, new_end
            continue
        inner = difflib.SequenceMatcher(None, old[old_start:old_end], new[new_start:new_end], autojunk=False)
        for tag, start, end, first, last in inner.get_opcodes():
            if tag != "equal":
                yield old_start + start, old_start + end, new_start + first, new_start + last


def _common(a: str, b: str, same: Callable[[str, str, int], bool]) -> int:
    """The largest n (up to the shorter length) for which same(a, b, n): a binary search over slices
    compared in C, as a fix changes a few characters of what may be a long line."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if same(a, b, middle):
            low = middle
        else:
            high = middle - 1
    return low
