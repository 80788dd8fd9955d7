"""What the command was asked to do with each file."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from nncheck.files.config import Overrides

DEFAULT_FILE_TIMEOUT = 30.0


class Mode(Enum):
    CHECK = "check"  # report findings
    FIX = "fix"  # apply fixes to the files, report what is left
    DIFF = "diff"  # show the fixes as a diff, change nothing


@dataclass(frozen=True)
class Job:
    overrides: Overrides
    mode: Mode
    unsafe: bool
    file_timeout: float = DEFAULT_FILE_TIMEOUT  # seconds; 0 for none
    noqa: bool = False  # --add-noqa: silence the findings with comments instead of fixing them (FIX or DIFF)
    cached: bool = True  # results are kept (not --no-cache): each file's dependencies are worked out
