"""The language server's open text documents: incremental changes applied as LSP defines lines and
columns, and findings carried over from an earlier text while the current one does not parse.

pygls's own documents split lines as `str.splitlines` does (form feeds and U+2028 too), which LSP and
Python do not; so the server keeps its text documents here. No pygls import: testable on its own.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace

from nncheck.engine.noqa import LINE_BREAK, split_lines
from nncheck.findings import Finding


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
