"""`# noqa` and `# noqa: NNC001,NNC002` comments, read the way flake8 reads them."""

from __future__ import annotations

import re

# Codes after the colon are matched as prefixes, like flake8; a bare `# noqa` silences everything.
_NOQA = re.compile(r"#\s*noqa(?::\s?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)
LINE_BREAK = re.compile(r"\r\n|\r|\n")  # the same line breaks as Python's tokenizer (and LSP)
_KEPT_BREAK = re.compile(f"({LINE_BREAK.pattern})")


def split_lines(text: str) -> list[str]:
    # str.splitlines would also split on form feeds.
    return LINE_BREAK.split(text)


def split_keeping_breaks(text: str) -> list[str]:
    """Lines at even places, their line breaks at odd ones: joined, they give the text back exactly."""
    return _KEPT_BREAK.split(text)


def lines_with_breaks(text: str) -> list[str]:
    """Each line with its line break (the last one may have none), as Python counts lines."""
    parts = split_keeping_breaks(text)
    lines = [parts[i] + parts[i + 1] for i in range(0, len(parts) - 1, 2)]
    return lines + [parts[-1]] if parts[-1] else lines


def is_silenced(line_text: str, code: str) -> bool:
    for match in _NOQA.finditer(line_text):
        codes = match.group("codes")
        if codes is None:
            return True
        if any(code.upper().startswith(c.upper()) for c in _CODE.findall(codes)):
            return True
    return False


def find_noqa(text: str, start: int = 0) -> re.Match[str] | None:
    """The first noqa comment in `text` from `start`; its `codes` group is None for a bare `# noqa`."""
    return _NOQA.search(text, start)
