"""Configuration: `[tool.nncheck]` in the nearest pyproject.toml that has the table."""

from __future__ import annotations

from nncheck.settings import Settings


def settings_for(path: str) -> Settings:
    """The settings that apply to the file `path` (being written: configuration files come next)."""
    return Settings()
