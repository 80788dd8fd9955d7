"""Regenerate ``src/nncheck/data/torch_nn_modules.txt`` from an installed torch.

Usage (from anywhere, with a Python that has torch installed)::

    python scripts/generate_torch_modules.py

The output lists every qualified name ``<module path>.<attribute>`` under
``torch.nn`` through which an ``nn.Module`` subclass can be reached, so that
the linter can recognise bases such as ``nn.Linear`` or
``torch.nn.modules.linear.Linear`` without importing torch itself.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
import warnings
from pathlib import Path
from types import ModuleType

import torch

# Resolve paths from this file so the script works from any working directory.
REPO_ROOT: Path = Path(__file__).resolve().parent.parent
OUTPUT_PATH: Path = REPO_ROOT / "src" / "nncheck" / "model" / "data" / "torch_nn_modules.txt"
METHODS_PATH: Path = REPO_ROOT / "src" / "nncheck" / "model" / "data" / "torch_module_methods.txt"
PURE_PATH: Path = REPO_ROOT / "src" / "nncheck" / "model" / "data" / "torch_pure_functions.txt"
TENSOR_METHODS_PATH: Path = REPO_ROOT / "src" / "nncheck" / "model" / "data" / "torch_tensor_methods.txt"

# Tensor methods that only return a view or a copy (NNC015), besides those with an in-place twin.
VIEW_OR_COPY: tuple[str, ...] = (
    "squeeze", "unsqueeze", "permute", "transpose", "reshape", "view", "flatten", "contiguous", "detach",
    "clone", "type_as", "nan_to_num", "float", "half", "double", "long", "int", "bool", "to", "cuda", "cpu",
    "repeat", "repeat_interleave", "expand", "expand_as", "view_as", "reshape_as", "softmax", "log_softmax",
    "flip", "roll", "narrow", "movedim", "unflatten", "masked_select", "index_select", "gather",
)
# Native functions that draw random numbers: as a statement they still move the generator on.
RANDOM_WORDS: tuple[str, ...] = ("rand", "normal", "bernoulli", "multinomial", "poisson", "seed")
# Functions that exist to check their arguments: called for the exception they may raise.
CHECKS: frozenset[str] = frozenset({"torch.nn.functional.assert_int_or_pair"})
SCRIPT_NAME: str = "scripts/generate_torch_modules.py"


def _is_private_path(module_name: str) -> bool:
    """True if any dotted component is private (e.g. ``torch.nn._reference.x``).

    Names reached only through a private package are not public API, so we
    never record them; classes defined there still show up under the public
    modules that re-export them.
    """
    return any(part.startswith("_") for part in module_name.split("."))


def _ignore_walk_error(name: str) -> None:
    """``walk_packages`` callback: a package that fails to import is skipped."""


def iter_public_nn_modules() -> list[ModuleType]:
    """Import ``torch.nn`` and every public submodule that imports cleanly."""
    modules: dict[str, ModuleType] = {"torch.nn": torch.nn}
    # Deprecated shims (torch.nn.quantized, ...) warn on import; that noise is
    # irrelevant here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for info in pkgutil.walk_packages(
            torch.nn.__path__, prefix="torch.nn.", onerror=_ignore_walk_error
        ):
            if _is_private_path(info.name):
                continue
            try:
                modules[info.name] = importlib.import_module(info.name)
            except Exception:  # any import failure just means "not available"
                continue
    # Sort by name so the traversal order never depends on the filesystem.
    return [modules[name] for name in sorted(modules)]


def collect_module_names(modules: list[ModuleType]) -> list[str]:
    """Return sorted, unique ``<module>.<attr>`` names of nn.Module subclasses."""
    found: set[str] = set()
    for module in modules:
        for attr in dir(module):
            # Private base classes (`_Loss`, `_ConvNd`, `_BatchNorm`) are subclassed by users too.
            if attr.startswith("__"):
                continue
            try:
                obj: object = getattr(module, attr)
            except Exception:  # lazy attributes may fail to resolve; skip them
                continue
            # inspect.isclass guards issubclass against non-class objects.
            if inspect.isclass(obj) and issubclass(obj, torch.nn.Module):
                found.add(f"{module.__name__}.{attr}")
    return sorted(found)


MODULES_HEADER = "Every qualified name under torch.nn that refers to an nn.Module subclass."


def render(names: list[str], what: str = MODULES_HEADER) -> str:
    """Build the file text: a ``#`` header, then one name per line."""
    header: list[str] = [
        "# Generated file: do not edit by hand.",
        f"# Written by {SCRIPT_NAME} from torch {torch.__version__}.",
        f"# {what}",
        f"# Regenerate with: python {SCRIPT_NAME}  (using a Python that has torch installed)",
    ]
    return "\n".join(header + names) + "\n"


def collect_module_methods() -> list[str]:
    """nn.Module's own methods: calling one of them in __init__ never runs a base __init__."""
    return sorted(
        name for name in dir(torch.nn.Module)
        if not name.startswith("__") and callable(getattr(torch.nn.Module, name, None))
    )


def collect_tensor_methods() -> list[str]:
    """Tensor methods that return a new tensor and leave their input alone: those with an in-place
    twin (`add` beside `add_`), and those that only return a view or a copy; and the in-place twins
    themselves, which the messages suggest."""
    names = {
        name for name in dir(torch.Tensor)
        if not name.startswith("_") and not name.endswith("_") and callable(getattr(torch.Tensor, name, None))
        and callable(getattr(torch.Tensor, name + "_", None)) and not any(word in name for word in RANDOM_WORDS)
    }
    names |= set(VIEW_OR_COPY)
    return sorted(names | {name + "_" for name in names if callable(getattr(torch.Tensor, name + "_", None))})


def collect_pure_functions() -> list[str]:
    """Functions of torch, torch.nn.functional and torch.linalg that return a new tensor and change
    nothing: torch's native operators (not in-place, not random), and the public functions of the
    two others (not in-place)."""
    found: set[str] = set()
    native = set(dir(torch._C._VariableFunctions))
    for name in dir(torch):
        if name in native and not name.startswith("_") and not name.endswith("_") and callable(getattr(torch, name)):
            if not any(word in name for word in RANDOM_WORDS):
                found.add(f"torch.{name}")
    for module in (torch.nn.functional, torch.linalg):
        for name in dir(module):
            value = getattr(module, name)
            if name.startswith("_") or name.endswith("_") or inspect.isclass(value) or inspect.ismodule(value):
                continue
            home = getattr(value, "__module__", None) or ""
            if callable(value) and (home == module.__name__ or home.startswith("torch._C")):
                found.add(f"{module.__name__}.{name}")
    return sorted(found - CHECKS)


def main() -> int:
    names: list[str] = collect_module_names(iter_public_nn_modules())
    OUTPUT_PATH.parent.mkdir(parents=True, exist_ok=True)
    # newline="\n" keeps the file byte-identical across platforms.
    with OUTPUT_PATH.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(render(names))
    print(f"wrote {len(names)} names to {OUTPUT_PATH.relative_to(REPO_ROOT)}")
    methods = collect_module_methods()
    with METHODS_PATH.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(render(methods, "The methods of torch.nn.Module itself."))
    print(f"wrote {len(methods)} names to {METHODS_PATH.relative_to(REPO_ROOT)}")
    for path, names, what in (
        (PURE_PATH, collect_pure_functions(), "Functions of torch, torch.nn.functional and torch.linalg that only "
         "return new values."),
        (TENSOR_METHODS_PATH, collect_tensor_methods(), "Tensor methods that only return a new tensor."),
    ):
        with path.open("w", encoding="utf-8", newline="\n") as fh:
            fh.write(render(names, what))
        print(f"wrote {len(names)} names to {path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
