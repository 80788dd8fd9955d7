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

# Bases that make a class no nn.Module and give it no `__init__` that sets anything (besides `object`).
PLAIN_ROOTS = frozenset(
    {"abc.ABC", "typing.Generic", "typing.Protocol", "typing_extensions.Generic", "typing_extensions.Protocol"}
)

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


# torch.nn layers that own parameters whatever their arguments (checked against torch by
# tests/test_runtime_claims.py). InstanceNorm* own some only with affine=True or track_running_stats=True.
PARAMETERISED_LAYERS = frozenset(
    {
        "Linear", "LazyLinear", "Bilinear",
        "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
        "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d",
        "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d",
        "SyncBatchNorm", "LayerNorm", "GroupNorm", "RMSNorm", "Embedding", "EmbeddingBag",
        "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "MultiheadAttention",
        "Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer", "TransformerDecoderLayer",
        "PReLU",
    }
)
INSTANCE_NORMS = frozenset(
    {"InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d",
     "LazyInstanceNorm3d"}
)

# torch.nn layers whose modules drop values in training mode only.
DROPOUT_LAYERS = frozenset({"Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"})

# torch.nn layers with no parameters, no buffers and no train/eval behaviour: nothing is lost when
# they are not registered.
STATELESS_LAYERS = frozenset(
    {
        "Identity", "Flatten", "Unflatten", "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d",
        "PixelShuffle", "PixelUnshuffle", "ChannelShuffle", "Fold", "Unfold",
        "ReLU", "ReLU6", "LeakyReLU", "ELU", "CELU", "SELU", "GELU", "GLU", "SiLU", "Mish", "Sigmoid", "LogSigmoid",
        "Tanh", "Tanhshrink", "Hardtanh", "Hardsigmoid", "Hardswish", "Hardshrink", "Softshrink", "Softsign",
        "Softplus", "Softmax", "Softmax2d", "Softmin", "LogSoftmax", "Threshold",
        "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "LPPool1d", "LPPool2d",
        "LPPool3d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d",
        "AdaptiveMaxPool2d", "AdaptiveMaxPool3d",
        "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
        "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
        "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d",
    }
)

# nn.Module methods that return the module itself: `nn.Linear(2, 2).to(device)` is still that Linear.
RETURNING_SELF = frozenset(
    {"to", "cuda", "cpu", "xpu", "ipu", "mtia", "float", "double", "half", "bfloat16", "type", "train", "eval",
     "requires_grad_", "apply", "share_memory", "to_empty"}
)


def torch_layer(qualified_name: str) -> str | None:
    """`Linear` for any of torch's names of torch.nn.Linear; None for anything not a torch.nn class."""
    if qualified_name in torch_module_classes() and qualified_name.startswith("torch.nn."):
        return qualified_name.rsplit(".", 1)[-1]
    return None


@functools.cache
def pure_functions() -> frozenset[str]:
    """Functions of torch, torch.nn.functional and torch.linalg that only return new values."""
    return _names("torch_pure_functions.txt")


@functools.cache
def tensor_methods() -> frozenset[str]:
    """Tensor methods that only return a new tensor (`add`, `view`, ...), and their in-place twins (`add_`)."""
    return _names("torch_tensor_methods.txt")
