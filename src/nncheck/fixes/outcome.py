"""What checking or fixing one file came to (plain data, shared by the library and the command)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from nncheck.findings import INTERNAL_ERROR, Finding


class Status(Enum):
    """How the work on a file ended."""

    DONE = "done"  # checked (or fixed): the findings are what the file has
    TIMED_OUT = "timed out"  # given up after --file-timeout (reported as NNC900)
    CRASHED = "crashed"  # nncheck failed on it (reported as NNC901)


@dataclass
class FixResult:
    original: str  # the source as it was
    text: str  # the source after fixing (unchanged when nothing was fixed)
    encoding: str | None  # the file's encoding, for writing it back; None for str input
    fixed: list[Finding] = field(default_factory=list)  # as they were reported before fixing
    refused: list[Finding] = field(default_factory=list)  # fixes that did not survive the checks
    remaining: list[Finding] = field(default_factory=list)  # findings of the fixed text

    @property
    def changed(self) -> bool:
        return bool(self.fixed)

    def encoded(self) -> bytes:
        return self.text.encode(self.encoding or "utf-8")


@dataclass
class FileFix:
    """What fixing (or checking) one file did, and why it could not be written back if it could not."""

    path: str
    result: FixResult
    write_error: str | None = None
    data: bytes | None = field(default=None, repr=False)  # the file's bytes as read, to write over safely
    status: Status = Status.DONE

    @property
    def is_final(self) -> bool:
        """Whether it may be cached: not an accident of this run (a bug, a time limit, a crash)."""
        return self.status is Status.DONE and not any(f.code == INTERNAL_ERROR for f in self.result.remaining)


def checked(path: str, findings: list[Finding], status: Status = Status.DONE) -> FileFix:
    """A file that was only checked: its findings, nothing fixed."""
    return FileFix(path, FixResult("", "", None, remaining=findings), status=status)
