"""Real code, when there is some: NNCHECK_CORPUS names folders (separated by os.pathsep) such as the
unzipped transformers wheel. Every file must be checked without an internal error, and `--fix`
(unsafe fixes included) must give source that parses and that a second run leaves alone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nncheck import check_source
from nncheck.files.discovery import find_python_files
from nncheck.fixes.fixer import fix_source

CORPUS = [p for p in os.environ.get("NNCHECK_CORPUS", "").split(os.pathsep) if p]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CORPUS, reason="set NNCHECK_CORPUS to folders of real code to run"),
]


def test_corpus_fixes_parse_and_are_fixed_points() -> None:
    failures = []
    files = list(find_python_files(CORPUS))
    for path in files:
        data = Path(path).read_bytes()
        first = fix_source(data, path, unsafe=True)
        if any(f.code == "NNC901" for f in first.remaining):
            failures.append(f"{path}: internal error")
        if first.changed:
            if any(f.code == "NNC900" for f in check_source(first.text, path)):
                failures.append(f"{path}: fixed source does not parse")
            again = fix_source(first.text, path, unsafe=True)
            if again.changed:
                failures.append(f"{path}: a second --fix changed it again")
    assert failures == []
    assert files
