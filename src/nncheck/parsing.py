"""Parse decoded source with libcst's native parser."""

from __future__ import annotations

import ast
import warnings

import libcst as cst

from nncheck.source import SourceError


def parse(text: str) -> cst.Module:
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        raise SourceError(_syntax_error(text, error)) from None
    except RecursionError:
        raise SourceError("too deeply nested") from None


def _syntax_error(text: str, error: cst.ParserSyntaxError) -> str:
    # Only for files that fail: Python's own parser words the problem best ("Missing parentheses in
    # call to 'print'") and places it exactly.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except SyntaxError as python_error:
        return f"{python_error.msg} (line {python_error.lineno}, column {python_error.offset})"
    except (RecursionError, MemoryError, ValueError):
        pass
    first = str(error).splitlines()[0] if str(error) else "syntax error"
    return f"libcst cannot parse this file, though Python can: {first}"
