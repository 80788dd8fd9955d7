"""nncheck lints itself: flake8 (with nncheck on) and mypy --strict over the package and tests."""

from __future__ import annotations

import shutil
import sys

import pytest

from conftest import ROOT, run


def test_flake8_with_nncheck_is_clean() -> None:
    result = run(sys.executable, "-m", "flake8", "src", "tests", "scripts", cwd=ROOT)
    assert (result.returncode, result.stdout) == (0, "")


def test_mypy_strict_is_clean() -> None:
    if shutil.which("mypy") is None and run(sys.executable, "-m", "mypy", "--version").returncode != 0:
        pytest.fail("mypy is part of the test extra: pip install '.[test]'")
    result = run(sys.executable, "-m", "mypy", cwd=ROOT)
    assert result.returncode == 0, result.stdout
