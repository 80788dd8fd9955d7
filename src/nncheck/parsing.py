"""Parse decoded source with libcst's native parser."""

from __future__ import annotations

import ast
import re
import warnings
from itertools import accumulate

import libcst as cst

from nncheck.source import SourceError

# CPython refuses more than 200 nested brackets; libcst's native parser crashes the whole process (a
# segmentation fault, not an exception) somewhere past 1,000. Deeply nested text goes to Python's own
# parser first, which refuses what is too deep with a proper message.
_SUSPICIOUS_DEPTH = 150
_STRINGS_AND_COMMENTS = re.compile(
    r"""[rRbBuUfF]{0,2}(?:'''[\s\S]*?'''|\"\"\"[\s\S]*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*")|#[^\n]*"""
)
_BRACKETS = re.compile(r"[()\[\]{}]")
_STEP = {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}


def bracket_depth(text: str) -> int:
    """The deepest bracket nesting outside strings and comments. An estimate: it only decides whether
    Python's parser looks at the file first, never what is reported."""
    code = _STRINGS_AND_COMMENTS.sub("", text)
    return max(accumulate(_STEP[b] for b in _BRACKETS.findall(code)), default=0)


def parse(text: str) -> cst.Module:
    if bracket_depth(text) > _SUSPICIOUS_DEPTH:
        _python_parse(text)
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        raise SourceError(_syntax_error(text, error)) from None
    except RecursionError:
        raise SourceError("too deeply nested") from None


def _python_parse(text: str) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except SyntaxError as error:
        raise SourceError(f"{error.msg} (line {error.lineno}, column {error.offset})") from None
    except (RecursionError, MemoryError):
        raise SourceError("too deeply nested") from None


def _syntax_error(text: str, error: cst.ParserSyntaxError) -> str:
    # Only for files that fail: Python's own parser words the problem best ("Missing parentheses in
    # call to 'print'") and places it exactly.
    try:
        _python_parse(text)
    except SourceError as python_error:
        return str(python_error)
    first = str(error).splitlines()[0] if str(error) else "syntax error"
    return f"libcst cannot parse this file, though Python can: {first}"
