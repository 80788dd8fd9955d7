"""What torch's names give, and which uses of a value show what it is: the data model/knowledge.py
reads. Checked against a real torch by tests/test_runtime_claims.py where a rule's claim rests on it."""

from __future__ import annotations

from nncheck.model.known_modules import (
    DROPOUT_LAYERS,
    INSTANCE_NORMS,
    PARAMETERISED_LAYERS,
    STATELESS_LAYERS,
    module_methods,
    tensor_methods,
)
from nncheck.model.values import PARAMETER, TENSOR, UNKNOWN, Kind, Value

# torch.nn layers whose call gives a tensor, for a tensor: not the recurrent layers and attention
# (tuples), max pooling (a tuple with return_indices=True), nor Identity (whatever it is given).
TUPLE_LAYERS = frozenset({"RNN", "LSTM", "GRU", "LSTMCell", "MultiheadAttention", "Transformer"})
TENSOR_LAYERS = (
    (PARAMETERISED_LAYERS - TUPLE_LAYERS) | INSTANCE_NORMS | DROPOUT_LAYERS
    | frozenset(layer for layer in STATELESS_LAYERS if layer != "Identity" and "MaxPool" not in layer)
)
# torch.nn layers that hold submodules whatever their arguments.
LAYERS_WITH_CHILDREN = frozenset({"Transformer", "TransformerEncoder", "TransformerDecoder",
                                  "TransformerEncoderLayer", "TransformerDecoderLayer", "MultiheadAttention"})
MODULE_CONTAINERS = frozenset({"Sequential", "ModuleList", "ModuleDict"})
PARAMETER_CONTAINERS = frozenset({"ParameterList", "ParameterDict"})
# Calls that certainly give a model: torchvision's builders (but its weight and listing helpers) and timm's.
MODEL_BUILDERS = ("torchvision.models.", "timm.create_model", "timm.models.create_model")
NOT_MODEL_BUILDERS = frozenset({"get_model_weights", "get_weight", "list_models", "get_model_builder"})
# Functions that give back (a copy of) their first argument, of the same kind.
PASSING_THROUGH = frozenset({
    "copy.deepcopy", "copy.copy", "torch.nn.utils.weight_norm", "torch.nn.utils.spectral_norm",
    "torch.nn.utils.parametrizations.weight_norm", "torch.nn.utils.parametrizations.spectral_norm",
    "torch.nn.utils.parametrizations.orthogonal", "torch.nn.utils.weight_norm.weight_norm",
    "torch.nn.utils.spectral_norm.spectral_norm", "torch.compile",
})
AUTO_MODELS = ("transformers.AutoModel", "transformers.models.auto.modeling_auto.AutoModel")
LOADERS = frozenset({"torch.utils.data.DataLoader", "torch.utils.data.dataloader.DataLoader"})
TENSOR_TYPES = frozenset({
    "torch.Tensor", "torch.FloatTensor", "torch.LongTensor", "torch.DoubleTensor", "torch.HalfTensor",
    "torch.BoolTensor", "torch.IntTensor", "torch.ByteTensor", "torch.BFloat16Tensor",
    "torch.autograd.Variable", "torch.autograd.variable.Variable",
})
# Factories of random tensors (not in the generated list: as statements they still draw numbers).
RANDOM_FACTORIES = frozenset({"rand", "randn", "randint", "rand_like", "randn_like", "randint_like", "randperm",
                              "normal", "bernoulli", "multinomial", "poisson"})
# torch functions of the generated list that do not give one tensor: a bool or a number, or a tuple.
NOT_ONE_TENSOR = frozenset({
    "allclose", "equal", "numel", "is_complex", "is_conj", "is_distributed", "is_floating_point", "is_inference",
    "is_neg", "is_nonzero", "is_same_size", "is_signed", "is_vulkan_available", "can_cast", "cudnn_is_acceptable",
    "get_device", "chunk", "split", "tensor_split", "unbind", "meshgrid", "broadcast_tensors", "max", "min",
    "median", "nanmedian", "mode", "sort", "topk", "kthvalue", "aminmax", "frexp", "histogram", "histogramdd",
    "lu_unpack", "geqrf", "cummax", "cummin", "unique", "unique_consecutive", "std_mean", "var_mean", "lstm",
    "gru", "lstm_cell", "slogdet", "hsplit", "vsplit", "dsplit", "atleast_1d", "atleast_2d", "atleast_3d",
    "max_pool1d_with_indices", "batch_norm_stats", "batch_norm_gather_stats", "batch_norm_update_stats",
    "batch_norm_gather_stats_with_counts", "batch_norm_backward_reduce", "miopen_rnn", "mkldnn_rnn_layer",
})
# Tensor methods that give a tensor, beyond those whose result NNC015 reports thrown away.
MORE_TENSOR_METHODS = frozenset({
    "sum", "mean", "std", "var", "prod", "norm", "softmax", "log_softmax", "matmul", "mm", "bmm", "expand",
    "expand_as", "repeat", "repeat_interleave", "narrow", "gather", "index_select", "masked_select", "argmax",
    "argmin", "view_as", "reshape_as", "new_zeros", "new_ones", "new_empty", "new_full", "new_tensor", "flip",
    "roll", "amax", "amin", "logsumexp", "abs", "exp", "squeeze", "requires_grad_", "bfloat16", "byte", "char",
    "short", "movedim", "unflatten", "diagonal", "tril", "triu", "outer", "dot", "cross",
    # in-place initialisers, which give the tensor itself
    "uniform_", "normal_", "zero_", "fill_", "random_", "exponential_", "cauchy_", "log_normal_", "geometric_",
    "bernoulli_", "copy_",
})
# Tensor methods that make a new tensor, which `requires_grad=True` makes a leaf that requires grad.
NEW_TENSOR_METHODS = frozenset({"new_zeros", "new_ones", "new_empty", "new_full", "new_tensor"})
# Tensor methods that nothing else common has (numpy's arrays, pandas, modules, lists): their result
# is a tensor whatever the receiver was said to be. `view` counts only with sizes (graphviz has one).
TENSOR_ONLY_METHODS = frozenset({
    "view", "permute", "masked_fill", "unsqueeze", "type_as", "expand", "expand_as", "view_as", "reshape_as",
    "softmax", "log_softmax", "clamp", "masked_select", "index_select", "narrow", "unflatten", "new_zeros",
    "new_ones", "new_full", "new_empty", "new_tensor",
})
# Methods only an nn.Module has: called on a name, they show it is a module (optimizers share
# zero_grad and state_dict, trainers share train; none of those is here).
MODULE_EVIDENCE = frozenset({
    "parameters", "named_parameters", "buffers", "named_buffers", "children", "named_children", "modules",
    "named_modules", "register_buffer", "register_parameter", "register_module", "add_module", "get_submodule",
    "get_parameter", "get_buffer", "register_forward_hook", "register_forward_pre_hook",
    "register_full_backward_hook", "register_full_backward_pre_hook", "eval",
})
# What only arrays (torch's tensors, numpy's arrays) have: read or called on a name, they show it is one.
# Not `.size()` (PyG's data has one) nor `.dtype` and `.device` (transformers' models have them).
ARRAY_ATTRIBUTES = frozenset({"shape", "ndim"})
ARRAY_METHODS = frozenset({"dim", "numel", "is_floating_point", "is_contiguous", "ndimension", "nelement"})
# Methods that take a submodule as their second argument.
REGISTERING = frozenset({"add_module", "register_module", "set_submodule"})
# torch functions whose first argument is not a tensor: factories, and those taking a sequence or a string.
NOT_TENSOR_FIRST = frozenset({
    "zeros", "ones", "empty", "full", "tensor", "as_tensor", "asarray", "from_numpy", "arange", "linspace",
    "logspace", "eye", "empty_strided", "frombuffer", "from_file", "cat", "concat", "concatenate", "stack",
    "hstack", "vstack", "dstack", "column_stack", "row_stack", "block_diag", "broadcast_tensors", "meshgrid",
    "cartesian_prod", "einsum", "chain_matmul", "can_cast", "promote_types", "result_type", "bartlett_window",
    "blackman_window", "hamming_window", "hann_window", "kaiser_window", "tril_indices", "triu_indices",
    "complex", "polar", "scalar_tensor", "get_device", "is_tensor", "numel",
})
# Methods a tensor never has: called on a name, they show it is no tensor.
MODULE_ONLY = frozenset(module_methods()) - tensor_methods() - {"type", "apply", "requires_grad_", "register_hook"}
# What iterating `x.<method>()` gives, whatever x is.
ITERATED = {
    "parameters": PARAMETER,
    "buffers": TENSOR,
    "named_parameters": Value(Kind.TUPLE, elements=(UNKNOWN, PARAMETER)),
    "named_buffers": Value(Kind.TUPLE, elements=(UNKNOWN, TENSOR)),
}
ITERATED_MODULES = {
    "modules": Value(Kind.MODULE),
    "children": Value(Kind.MODULE),
    "named_modules": Value(Kind.TUPLE, elements=(UNKNOWN, Value(Kind.MODULE))),
    "named_children": Value(Kind.TUPLE, elements=(UNKNOWN, Value(Kind.MODULE))),
}
# A decorator after which the first parameter is not the instance.
NOT_INSTANCE_METHODS = frozenset({"staticmethod", "classmethod"})
