"""nncheck: find torch.nn.Module subclasses that PyTorch accepts but that are wired wrong."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Finding", "Settings", "__version__", "check_file", "check_source"]

if TYPE_CHECKING:
    from nncheck.engine.checker import check_file, check_source
    from nncheck.findings import Finding
    from nncheck.settings import Settings


def __getattr__(name: str) -> Any:
    # Imported on first use: a fully cached command run never loads libcst.
    if name in ("check_file", "check_source"):
        from nncheck.engine import checker

        return getattr(checker, name)
    if name == "Finding":
        from nncheck.findings import Finding

        return Finding
    if name == "Settings":
        from nncheck.settings import Settings

        return Settings
    raise AttributeError(f"module 'nncheck' has no attribute {name!r}")
