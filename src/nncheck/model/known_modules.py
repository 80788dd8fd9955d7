"""Qualified names of classes that are nn.Modules (or Parameters) without looking at their source."""

from __future__ import annotations

import functools
from importlib import resources

# Generated from a real torch by scripts/generate_torch_modules.py; torch is not needed at run time.
_TORCH_DATA = "torch_nn_modules.txt"

THIRD_PARTY_MODULE_BASES = frozenset(
    {
        "lightning.pytorch.LightningModule",
        "lightning.pytorch.core.LightningModule",
        "lightning.pytorch.core.module.LightningModule",
        "lightning.LightningModule",
        "pytorch_lightning.LightningModule",
        "pytorch_lightning.core.LightningModule",
        "pytorch_lightning.core.module.LightningModule",
        "transformers.PreTrainedModel",
        "transformers.modeling_utils.PreTrainedModel",
        "diffusers.ModelMixin",
        "diffusers.models.ModelMixin",
        "diffusers.models.modeling_utils.ModelMixin",
    }
)

# nn.Module itself, whose __init__ takes no arguments.
MODULE_ITSELF = frozenset({"torch.nn.Module", "torch.nn.modules.Module", "torch.nn.modules.module.Module"})

# Values that torch's Module.__setattr__ refuses before Module.__init__ has run.
PARAMETER_CLASSES = frozenset(
    {
        "torch.nn.Parameter",
        "torch.nn.parameter.Parameter",
        "torch.nn.UninitializedParameter",
        "torch.nn.parameter.UninitializedParameter",
        "torch.nn.Buffer",
        "torch.nn.parameter.Buffer",
        "torch.nn.UninitializedBuffer",
        "torch.nn.parameter.UninitializedBuffer",
    }
)


def _names(data_file: str) -> frozenset[str]:
    text = resources.files("nncheck.model.data").joinpath(data_file).read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


@functools.cache
def torch_module_classes() -> frozenset[str]:
    return _names(_TORCH_DATA)


@functools.cache
def module_methods() -> frozenset[str]:
    """The methods of nn.Module itself (register_buffer, apply, to, ...)."""
    return _names("torch_module_methods.txt")


def is_known_module(qualified_name: str, extra_bases: frozenset[str] = frozenset()) -> bool:
    return (
        qualified_name in torch_module_classes()
        or qualified_name in THIRD_PARTY_MODULE_BASES
        or qualified_name in extra_bases
    )
