"""Parse decoded source with libcst's native parser."""

from __future__ import annotations

import libcst as cst

from nncheck.source import SourceError


def parse(text: str) -> cst.Module:
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        raise SourceError(f"invalid syntax at line {error.editor_line}, column {error.editor_column}") from None
    except RecursionError:
        raise SourceError("too deeply nested") from None
