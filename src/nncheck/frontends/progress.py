"""A progress line on stderr for long runs in a terminal; silent in pipes, files and CI logs."""

from __future__ import annotations

import os
import sys
import time

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
        self._count = 0

    def advance(self) -> None:
        self._count += 1
        if self._shown and time.monotonic() - self._last >= _INTERVAL:
            self._last = time.monotonic()
            sys.stderr.write(f"\rnncheck: {self._count:,}/{self._total:,} files checked")
            sys.stderr.flush()

    def done(self) -> None:
        if self._shown:
            sys.stderr.write("\r\033[K")  # erase the line so the summary stands alone
            sys.stderr.flush()
