"""Recursion limits: deep enough for libcst's trees, never so deep that Python's own parser crashes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

# libcst builds, walks and rewrites trees recursively, several frames per level. What Python accepts
# (at most about 3,000 levels) needs more than the default limit of 1,000 frames; measured safe on
# the main thread and in a thread up to Python's own limit.
DEEP_LIMIT = 50_000
_replaced: list[int] = []  # the limits deep_recursion() raised, outermost first


@contextmanager
def deep_recursion() -> Iterator[None]:
    old = sys.getrecursionlimit()
    _replaced.append(old)
    sys.setrecursionlimit(max(old, DEEP_LIMIT))
    try:
        yield
    finally:
        _replaced.pop()
        sys.setrecursionlimit(old)


@contextmanager
def python_parser_limit() -> Iterator[None]:
    """Python's parser scales its own nesting limit from the recursion limit, and past what the C
    stack holds it crashes the process instead of raising: it always runs with the usual limit."""
    if not _replaced:
        yield
        return
    current = sys.getrecursionlimit()
    sys.setrecursionlimit(_replaced[0])
    try:
        yield
    finally:
        sys.setrecursionlimit(current)
