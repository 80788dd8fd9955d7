"""Jupyter notebooks (nbformat 4) read as Python, and written back with only cell sources changed.

The code cells, in order, are one module (an import in cell 1 applies in cell 5). Each is preceded
by a `# %%` marker line, the percent format's cell separator, so the rules see cells as they see a
percent-format script. IPython magics and shell lines are masked (replaced by `pass` lines) only in
cells Python cannot parse as they are; a cell whose first line is a cell magic that runs another
language (`%%bash`, `%%html`, ...) is left out. Cells are numbered from 1 counting every cell,
markdown and raw ones too: cell N is the N-th cell of the notebook as Jupyter and VS Code show it.
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from dataclasses import dataclass, replace
from typing import Any

from nncheck.files.source import SourceError
from nncheck.findings import Finding

SUFFIX = ".ipynb"
MARKER = "# %% nncheck: cell "
_MARKER_LINE = re.compile(r"^# %% nncheck: cell (\d+)$")
_MASK = "pass  # nncheck: masked IPython line"
# Cell magics whose body is Python; any other cell magic runs something else and the cell is skipped.
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "memit", "mprun", "px", "tensorboard"})
_MAGIC_LINE = re.compile(
    r"^\s*(?:[%!]|\?|[\w.\[\]'\"]+\?\??\s*$|[\w.,\s\[\]()*]+=\s*[!%])"
)


def is_notebook(path: str) -> bool:
    return path.lower().endswith(SUFFIX)


@dataclass(frozen=True)
class Cell:
    number: int  # 1-based, counting every cell of the notebook
    source: str  # as the notebook has it
    python: str  # what the rules see: the source with IPython lines masked, ending with a line break
    first_line: int  # the line of the combined module where the cell's first line is
    masked: tuple[str, ...]  # the masked lines, in order
    span: tuple[int, int]  # where the cell's "source" value is in the notebook's JSON text

    @property
    def line_count(self) -> int:
        return self.python.count("\n")


@dataclass(frozen=True)
class Notebook:
    text: str  # the JSON text
    cells: tuple[Cell, ...]  # the code cells that are Python
    python: str  # the module the rules check

    def place(self, line: int) -> tuple[Cell, int] | None:
        """The cell and cell-relative line of a line of the combined module."""
        for cell in self.cells:
            if cell.first_line <= line < cell.first_line + max(cell.line_count, 1):
                return cell, line - cell.first_line + 1
        return None

    def to_cells(self, finding: Finding) -> Finding:
        """A finding on the combined module, placed in its cell."""
        placed = self.place(finding.line)
        if placed is None:
            return finding
        cell, line = placed
        span = finding.span
        if span is not None:
            end = self.place(span[2])
            end_line = end[1] if end is not None and end[0] is cell else line
            span = (line, span[1], end_line, span[3])
        return replace(finding, line=line, cell=cell.number, span=span)

    def to_module(self, finding: Finding) -> Finding:
        """The inverse of to_cells, for a finding an editor hands back."""
        for cell in self.cells:
            if cell.number == finding.cell:
                offset = cell.first_line - 1
                span = finding.span
                if span is not None:
                    span = (span[0] + offset, span[1], span[2] + offset, span[3])
                return replace(finding, line=finding.line + offset, cell=None, span=span)
        return finding


def read(text: str) -> Notebook:
    """The notebook in `text` (its JSON), or a SourceError saying in one line why it cannot be read."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise SourceError(f"not a valid notebook: invalid JSON ({error.msg}, line {error.lineno}, "
                          f"column {error.colno})") from None
    except RecursionError:
        raise SourceError("not a valid notebook: JSON nested too deeply") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise SourceError("not a valid notebook: no list of cells")
    if data.get("nbformat") != 4:
        version = data.get("nbformat")
        raise SourceError(f"not a notebook nncheck can read: nbformat {version!r} (nncheck reads nbformat 4)")
    spans = _source_spans(text)
    cells: list[Cell] = []
    chunks: list[str] = []
    line = 1
    if _language(data) in (None, "python"):
        for index, raw in enumerate(data["cells"]):
            if not isinstance(raw, dict) or raw.get("cell_type") != "code":
                continue
            source = _joined(raw.get("source", ""), index)
            python, masked = _as_python(source, index + 1)
            if python is None:
                continue
            if index not in spans:
                raise SourceError(f"not a valid notebook: cell {index + 1} has no source")
            chunks.append(f"{MARKER}{index + 1}\n")
            cells.append(Cell(index + 1, source, python, line + 1, masked, spans[index]))
            chunks.append(python)
            line += 1 + python.count("\n")
    return Notebook(text, tuple(cells), "".join(chunks))


def _language(data: dict[str, Any]) -> str | None:
    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        return None
    for key, field in (("kernelspec", "language"), ("language_info", "name")):
        value = metadata.get(key)
        if isinstance(value, dict) and isinstance(value.get(field), str):
            language = str(value[field]).lower()
            return "python" if language.startswith(("python", "ipython")) else language
    return None


def _joined(source: object, index: int) -> str:
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(part, str) for part in source):
        return "".join(source)
    raise SourceError(f"not a valid notebook: the source of cell {index + 1} is not text")


def _as_python(source: str, number: int) -> tuple[str | None, tuple[str, ...]]:
    """The cell as Python (None for a cell in another language) and the lines masked in it."""
    lines = source.splitlines(keepends=True)
    first = lines[0].strip() if lines else ""
    masked: list[str] = []
    if first.startswith("%%"):
        name = first[2:].split(maxsplit=1)[0] if first[2:].strip() else ""
        if name not in _PYTHON_CELL_MAGICS:
            return None, ()
        masked.append(lines[0])
        lines[0] = _mask_of(lines[0])
    text = "".join(lines)
    if _parses(text) is not None:
        for index, line in enumerate(lines):
            # Only a line that starts a statement can be a magic: `% 3` may continue an expression.
            if _MAGIC_LINE.match(line) and _at_statement_start("".join(lines[:index])):
                masked.append(line)
                lines[index] = _mask_of(line)
        text = "".join(lines)
        error = _parses(text)
        if error is not None:
            raise SourceError(f"cell {number} does not parse: {error}")
    if "\n" in text and any(_MARKER_LINE.match(line.rstrip("\r\n")) for line in lines):
        raise SourceError(f"cell {number} contains nncheck's cell marker line ({MARKER.strip()} N)")
    if text and not text.endswith(("\n", "\r")):
        text += "\n"
    return text, tuple(masked)


def _at_statement_start(before: str) -> bool:
    """Whether a line after `before` starts a statement (not inside brackets, a string or after `\\`)."""
    if before.rstrip("\r\n").endswith("\\"):
        return False
    error = _parses(before)
    return error is None or not any(
        sign in error for sign in ("was never closed", "unterminated", "unexpected EOF", "EOF while")
    )


def _mask_of(line: str) -> str:
    indent = line[: len(line) - len(line.lstrip(" \t"))]
    ending = line[len(line.rstrip("\r\n")):]
    return indent + _MASK + ending


def _parses(text: str) -> str | None:
    """None if Python parses the text, else its error with a cell-relative position."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except SyntaxError as error:
        place = f"line {error.lineno}, column {error.offset}" if error.offset else f"line {error.lineno}"
        return f"{error.msg} ({place})"
    except (RecursionError, MemoryError, ValueError) as error:
        return str(error) or type(error).__name__
    return None


def _source_spans(text: str) -> dict[int, tuple[int, int]]:
    """For each cell (by index), the start and end of its "source" value in the JSON text."""
    decoder = json.JSONDecoder()
    spans: dict[int, tuple[int, int]] = {}
    position = _skip(text, 0)

    def members(start: int) -> list[tuple[str, int, int]]:
        # The members of the object at `start`: (key, value start, value end).
        found = []
        index = _skip(text, start + 1)
        while text[index] != "}":
            key, index = json.decoder.scanstring(text, index + 1)  # type: ignore[attr-defined]
            index = _skip(text, _skip(text, index) + 1)  # past the colon
            _, end = decoder.raw_decode(text, index)
            found.append((key, index, end))
            index = _skip(text, end)
            if text[index] == ",":
                index = _skip(text, index + 1)
        return found

    for key, start, _ in members(position):
        if key != "cells":
            continue
        index = _skip(text, start + 1)
        number = 0
        while text[index] != "]":
            _, end = decoder.raw_decode(text, index)
            if text[index] == "{":
                for cell_key, value_start, value_end in members(index):
                    if cell_key == "source":
                        spans[number] = (value_start, value_end)
            number += 1
            index = _skip(text, end)
            if text[index] == ",":
                index = _skip(text, index + 1)
    return spans


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


def split_cells(notebook: Notebook, python: str) -> dict[int, str] | None:
    """The new source of each code cell, from a rewritten combined module; None if the rewrite moved
    a cell marker or a masked line, so that it cannot be put back with certainty."""
    parts: dict[int, list[str]] = {}
    current: list[str] | None = None
    order: list[int] = []
    for line in python.splitlines(keepends=True):
        match = _MARKER_LINE.match(line.rstrip("\r\n"))
        if match:
            number = int(match.group(1))
            current = parts.setdefault(number, [])
            order.append(number)
            continue
        if current is None:
            return None
        current.append(line)
    if order != [cell.number for cell in notebook.cells]:
        return None
    sources: dict[int, str] = {}
    for cell in notebook.cells:
        lines = parts[cell.number]
        masks = [i for i, line in enumerate(lines) if line.rstrip("\r\n").endswith(_MASK)]
        if len(masks) != len(cell.masked):
            return None
        for index, original in zip(masks, cell.masked):
            ending = lines[index][len(lines[index].rstrip("\r\n")):]
            lines[index] = original.rstrip("\r\n") + ending
        text = "".join(lines)
        if not cell.source.endswith(("\n", "\r")) and text.endswith("\n") and cell.source:
            text = text[:-2] if text.endswith("\r\n") else text[:-1]
        sources[cell.number] = text
    return sources


def rewrite(notebook: Notebook, sources: dict[int, str]) -> str:
    """The notebook's JSON text with the sources of changed cells replaced, every other byte kept."""
    ascii_only = notebook.text.isascii()
    pieces: list[tuple[int, int, str]] = []
    for cell in notebook.cells:
        new = sources.get(cell.number, cell.source)
        if new == cell.source:
            continue
        start, end = cell.span
        pieces.append((start, end, _encoded(notebook.text[start:end], new, ascii_only)))
    text = notebook.text
    for start, end, value in sorted(pieces, reverse=True):
        text = text[:start] + value + text[end:]
    return text


def _encoded(original: str, source: str, ascii_only: bool) -> str:
    """The JSON of a new cell source, laid out as the original value was (a list of lines or a string)."""
    if not original.startswith("["):
        return json.dumps(source, ensure_ascii=ascii_only)
    decoder = json.JSONDecoder()
    elements: list[tuple[int, int]] = []
    index = _skip(original, 1)
    while original[index] != "]":
        _, end = decoder.raw_decode(original, index)
        elements.append((index, end))
        index = _skip(original, end)
        if original[index] == ",":
            index = _skip(original, index + 1)
    lead = original[1:elements[0][0]] if elements else ""
    tail = original[elements[-1][1]:len(original) - 1] if elements else ""
    between = original[elements[0][1]:elements[1][0]] if len(elements) > 1 else "," + lead
    # Lines the fix left alone keep their exact JSON spelling.
    spelled = {json.loads(original[s:e]): original[s:e] for s, e in elements}
    items = [spelled.get(line, json.dumps(line, ensure_ascii=ascii_only)) for line in source.splitlines(keepends=True)]
    if not items:
        return "[]"
    return "[" + lead + between.join(items) + tail + "]"
