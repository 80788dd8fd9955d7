"""nncheck: find torch.nn.Module subclasses that PyTorch accepts but that are wired wrong."""

from nncheck.checker import check_file, check_source
from nncheck.findings import Finding
from nncheck.settings import Settings

__version__ = "0.1.0"

__all__ = ["Finding", "Settings", "__version__", "check_file", "check_source"]
