"""A progress line on stderr for long runs in a terminal; silent in pipes, files and CI logs."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")

# Short runs finish before a progress line would help.
MIN_FILES = 300
_INTERVAL = 0.1  # seconds between redraws


class Progress:
    def __init__(self, total: int) -> None:
        stream = sys.stderr
        self._shown = (
            total >= MIN_FILES
            and stream is not None
            and stream.isatty()
            and not os.environ.get("CI")
            and os.environ.get("TERM") != "dumb"
        )
        self._total = total
        self._last = 0.0

    def track(self, items: Iterable[T]) -> list[T]:
        done: list[T] = []
        for item in items:
            done.append(item)
            if self._shown and time.monotonic() - self._last >= _INTERVAL:
                self._last = time.monotonic()
                sys.stderr.write(f"\rnncheck: {len(done):,}/{self._total:,} files checked")
                sys.stderr.flush()
        return done

    def done(self) -> None:
        if self._shown:
            sys.stderr.write("\r\033[K")  # erase the line so the summary stands alone
            sys.stderr.flush()
