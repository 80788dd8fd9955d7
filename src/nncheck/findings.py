"""What a check reports: one Finding per problem, ordered by place."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class FixSafety(str, Enum):
    """How safe a finding's fix is: `nncheck --fix` applies safe ones, `--unsafe-fixes` the others too."""

    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int  # 1-based
    col: int  # 0-based, as in ast (tools that show columns add 1)
    code: str
    message: str
    fix: FixSafety | None = None  # set when nncheck --fix can rewrite it
    # What an editor underlines: (line, col, end_line, end_col), the name of a def or class, or the
    # statement; None for findings about the whole file.
    span: tuple[int, int, int, int] | None = None
    fix_title: str | None = None  # what the fix does, for an editor's menu ("Rename __call__ to forward")
    # In a notebook, the cell (1-based, counting every cell); line, col and span are then cell-relative.
    cell: int | None = None

    @property
    def place(self) -> tuple[int, int, int]:
        """Where it is, for sorting: (cell, line, col), cell 0 outside notebooks."""
        return (self.cell or 0, self.line, self.col)


# Codes that report on the file itself rather than on a rule; never deselected.
UNPARSABLE = "NNC900"  # Python itself could not compile it (or read it), or it took too long
INTERNAL_ERROR = "NNC901"
UNSUPPORTED = "NNC902"  # valid Python that nncheck cannot check: libcst cannot parse it, or it is too big
FILE_CODES = (UNPARSABLE, INTERNAL_ERROR, UNSUPPORTED)

RULE_DOCS = "https://github.com/nncheck/nncheck/blob/main/docs/rules/{code}.md"


def rule_url(code: str) -> str:
    return RULE_DOCS.format(code=code)
