"""The codes nncheck reports about a file itself rather than about its code (NNC900-NNC902): their
names and documentation, which `nncheck rule` and the pages under docs/rules/ show as a rule's
docstring is shown. They have no rule class: no rule finds them, and they cannot be turned off."""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from nncheck.findings import INTERNAL_ERROR, UNPARSABLE, UNSUPPORTED


_ALWAYS = """
    **Always reported.** `--select`, `--ignore`, `[tool.nncheck]` and per-file ignores never hide it
    from the `nncheck` command or the language server, and it makes the command exit with status 2
    (the other files are still checked). flake8 selects and ignores it as any other code.
"""


@dataclass(frozen=True)
class FileCode:
    code: str
    name: str
    summary: str  # one line, as a rule's docstring starts
    body: str  # the sections below the summary, as in a rule's docstring

    def documentation(self) -> str:
        return "\n\n".join([self.summary, inspect.cleandoc(self.body), inspect.cleandoc(_ALWAYS)])


FILE_CODE_DOCS = (
    FileCode(UNPARSABLE, "unparsable-file",
             "The file could not be read, decoded or parsed, or was not checked in time.", """
        **What it means.** nncheck could not look at the code in this file, so it may hold mistakes that
        were not reported. The message says which of these happened:

        - `nncheck could not read this file`: it is not a readable regular file (a FIFO, a file without
          read permission, a broken symlink);
        - `nncheck could not parse this file`: its bytes are not text in its declared encoding (a
          `# -*- coding: ... -*-` line, UTF-8 by default), or Python cannot compile it: a syntax error,
          reported at the line and column Python gives, as `python -m py_compile FILE` shows it;
        - a notebook that is not valid JSON, not nbformat 4, or has a code cell Python cannot parse
          even with its IPython magics and shell lines masked (the message names the cell);
        - `nncheck timed out on this file after N s (--file-timeout)`: checking it took too long.

        **What to do.** Mend the syntax error or the encoding, as Python's message says; until then no
        other finding is reported for the file. For a file that is not Python source at all (a template,
        a file of generated data named `.py`), skip it with `--exclude` or `extend-exclude`. For a time
        out, raise `--file-timeout` (`0` is no limit), and please report the file: no real file should
        take that long.
    """),
    FileCode(INTERNAL_ERROR, "internal-error", "An internal error in nncheck on this file.", """
        **What it means.** nncheck failed on this file: a bug in nncheck, not in your code. The message
        names the exception. The file's findings are not reported; other files are checked as usual,
        and nothing is kept in the result cache, so the next run tries the file again.

        **What to do.** Please file a bug with the message and, if you can, the file (or the smallest
        part of it that still gives `NNC901`). Meanwhile skip the file with `--exclude` or
        `extend-exclude`.
    """),
    FileCode(UNSUPPORTED, "unsupported-file", "Valid Python that nncheck cannot check.", """
        **What it means.** Python compiles the file, but nncheck cannot check it, so it may hold
        mistakes that were not reported. The message says why:

        - `libcst cannot parse it`: the file uses syntax that the installed libcst does not read yet
          (libcst is the parser nncheck's rules and fixes work on), such as a parenthesised annotated
          target (`(x): int`);
        - `too large (N syntax nodes; nncheck's limit is 400,000)`: far larger than any hand-written
          module, usually generated code;
        - `too deeply nested`: nesting deeper than nncheck can follow.

        **What to do.** For syntax libcst does not read, upgrading libcst (`pip install -U libcst` in
        nncheck's environment) may be enough; otherwise rewrite the construct if you can. Skip generated
        files with `--exclude` or `extend-exclude`.
    """),
)


def find_file_code(wanted: str) -> FileCode | None:
    """A file code by its code (`NNC900`, any case) or its name (`unparsable-file`)."""
    for code in FILE_CODE_DOCS:
        if wanted.upper() == code.code or wanted.lower() == code.name:
            return code
    return None
