"""Adding `# noqa: CODE` comments to Python source: where one can go, and what goes there.

One implementation for `nncheck --add-noqa` and the language server's "Silence ... with # noqa".
nncheck reads a noqa comment on the reported line only (engine/noqa.py), so that is the one line a
comment can go on. Text is only ever inserted, never replaced, and only where Python's tokenizer
says the line ends outside a string and without a backslash continuation: there it is a comment,
and the code means what it meant. A line that ends inside a string or continues with `\\` cannot
take one and is left alone.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from nncheck.engine.noqa import LINE_BREAK, find_noqa, is_silenced, split_keeping_breaks

_SEPARATOR = re.compile(r"[,\s]+")


@dataclass(frozen=True)
class Insertion:
    line: int  # 1-based
    col: int  # in code points, in the line as it was
    text: str


@dataclass(frozen=True)
class Added:
    text: str  # the source with the comments
    insertions: list[Insertion]  # in the order of the lines
    unplaceable: list[int]  # lines asked for that cannot take a comment (a string or `\\` goes on)


def comment_columns(text: str) -> dict[int, int | None]:
    """The lines that end where a comment may be put, each with the column of the comment it already
    has (None if it has none). Empty if the text does not tokenize."""
    # Every line break as "\n": the tokenizer knows no bare "\r", and lines and columns stay the same.
    readline = io.StringIO(LINE_BREAK.sub("\n", text)).readline
    columns: dict[int, int | None] = {}
    comments: dict[int, int] = {}
    try:
        for token in tokenize.generate_tokens(readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.start[1]
            elif token.type in (tokenize.NEWLINE, tokenize.NL):
                # A line inside a string or before a `\` continuation has neither.
                columns[token.start[0]] = comments.get(token.start[0])
    except (tokenize.TokenError, SyntaxError):
        return {}
    return columns


def noqa_insertion(line: str, codes: Iterable[str], comment_col: int | None) -> tuple[int, str] | None:
    """Where to insert what in `line` (a line that may end with a comment, whose comment starts at
    `comment_col`) so that nncheck reads every code as silenced there; None if it already does."""
    missing = sorted({code for code in codes if not is_silenced(line, code)})
    if not missing:
        return None
    existing = find_noqa(line, comment_col) if comment_col is not None else None
    if existing is not None and existing.group("codes"):
        listed = existing.group("codes")
        # Joined as the list already is (`E501,W291`, `E501, W291`, `E501 W291`); after one code, ", ".
        between = _SEPARATOR.search(listed)
        separator = between.group() if between else ", "
        return existing.end("codes"), separator + separator.join(missing)
    # At the very end: trailing blanks stay, so that the line is its old self followed by the comment.
    blanks = len(line) - len(line.rstrip(" \t"))
    return len(line), " " * max(0, 2 - blanks) + "# noqa: " + ", ".join(missing)


def add_noqa_comments(text: str, wanted: Mapping[int, Iterable[str]]) -> Added:
    """The text with the codes wanted on each line (1-based) silenced by a noqa comment on it."""
    parts = split_keeping_breaks(text)
    columns = comment_columns(text) if wanted else {}
    insertions: list[Insertion] = []
    unplaceable: list[int] = []
    for number in sorted(wanted):
        index = 2 * (number - 1)
        codes = list(wanted[number])
        if not 0 <= index < len(parts) or number not in columns:
            if not (0 <= index < len(parts) and all(is_silenced(parts[index], code) for code in codes)):
                unplaceable.append(number)
            continue
        insertion = noqa_insertion(parts[index], codes, columns[number])
        if insertion is None:
            continue
        col, new = insertion
        parts[index] = parts[index][:col] + new + parts[index][col:]
        insertions.append(Insertion(number, col, new))
    return Added("".join(parts), insertions, unplaceable)
