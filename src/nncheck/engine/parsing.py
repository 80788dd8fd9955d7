"""Parse decoded source: Python's own parser first (it has the final word on what is valid and words
its errors best), then libcst's native parser for the tree the rules and fixes work on."""

from __future__ import annotations

import ast
import warnings

import libcst as cst

from nncheck.engine.recursion import python_parser_limit
from nncheck.files.source import SourceError, Unsupported

TOO_DEEP = "too deeply nested"
# Python's own limits on nesting, reported under one name whatever limit was hit.
_DEPTH_ERRORS = ("too many nested parentheses", "too many levels of indentation", "too many statically nested blocks")


def python_parse(text: str) -> ast.Module:
    """Python's ast of the text, or a SourceError with Python's own message and position.

    This also keeps libcst away from what it cannot survive: its native parser crashes the process
    (a segmentation fault, not an exception) past about 1,000 nested brackets, and slows down
    quadratically on long chains (`a.b.c...`, `f()()()...`) that Python refuses past about 3,000."""
    try:
        with warnings.catch_warnings(), python_parser_limit():
            warnings.simplefilter("ignore")
            return ast.parse(text)
    except SyntaxError as error:
        place = f"line {error.lineno}, column {error.offset}" if error.offset else f"line {error.lineno}"
        if str(error.msg).startswith(_DEPTH_ERRORS):
            raise SourceError(f"{TOO_DEEP} ({error.msg}, {place})") from None
        raise SourceError(f"{error.msg} ({place})", error.lineno or 1, max((error.offset or 1) - 1, 0)) from None
    except (RecursionError, MemoryError):
        raise SourceError(TOO_DEEP) from None
    except ValueError as error:  # NUL bytes in a str
        raise SourceError(str(error)) from None


# libcst needs about 25-50 µs and up to 5 KB per syntax node, natively, where no time limit can
# interrupt it. The largest real file seen (sympy, 200,000 nodes) takes 5 s; a 10 MB list literal
# (3.3 million nodes) would take minutes and 14 GB.
MAX_NODES = 400_000
_CHARS_PER_NODE = 2  # no node takes fewer characters than this (`0,`): smaller texts are never counted


def check_size(text: str, tree: ast.Module) -> None:
    """Refuse, before libcst sees it, a file too large for it to parse in reasonable time and memory."""
    if len(text) <= MAX_NODES * _CHARS_PER_NODE:
        return
    nodes = sum(1 for _ in ast.walk(tree))
    if nodes > MAX_NODES:
        raise Unsupported(f"too large ({nodes:,} syntax nodes; nncheck's limit is {MAX_NODES:,})")


def parse(text: str) -> cst.Module:
    """libcst's tree of text that Python's parser has accepted."""
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        first = str(error).splitlines()[0] if str(error) else "syntax error"
        raise Unsupported(f"libcst cannot parse it: {first}") from None
    except RecursionError:
        raise Unsupported(TOO_DEEP) from None
