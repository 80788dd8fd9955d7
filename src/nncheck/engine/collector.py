"""The cyclic garbage collector, paused while a file is checked."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Checking a file makes no cycles (ast's and libcst's trees hold none, and nncheck's notes on
    nodes never point back at them), so everything it allocates is freed without the collector. Its
    passes, each triggered by allocations, each over the whole heap of the trees and the tables of
    other files, took 40% of the time on a 100,000-line file and 25% of a run over transformers."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


class LongLivedTables:
    """In a run over many files (flake8's workers), the tables of other files kept for the rest of the run
    are scanned by every full pass of the collector; they are never garbage while the run goes on. Now
    and then, once the garbage is collected, everything alive is frozen (`gc.freeze`): the collector
    then scans only what came after. The file at hand is alive too, and so frozen: it is freed by
    reference counting unless it holds cycles (pyflakes gives flake8's tree some), so a small file is
    waited for, if one comes soon."""

    def __init__(self, every: int = 100, small: int = 100) -> None:
        self._every = every  # files checked between two freezes
        self._small = small  # lines of a file worth waiting for
        self._checked = 0

    def checked(self, lines: int) -> None:
        """After a file of `lines` lines is checked (not served from a cache)."""
        self._checked += 1
        due = self._checked >= self._every and (lines < self._small or self._checked >= 4 * self._every)
        if due and gc.isenabled():
            gc.collect()
            gc.freeze()
            self._checked = 0
