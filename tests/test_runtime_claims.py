"""Prove against real torch the runtime facts that nncheck's rules rely on.

Each sample is plain source text: the runtime tests ``exec`` it and observe
what torch does, and ``test_linter_findings`` hands the very same text to
nncheck, so a rule and the behaviour that justifies it cannot drift apart.
"""

from __future__ import annotations

import re
import textwrap
import warnings
from dataclasses import dataclass
from typing import Any

import pytest

# The whole file is about real torch behaviour: skip it when torch is absent.
torch = pytest.importorskip("torch")

HEADER: str = "import torch\nfrom torch import nn\n\n\n"


def sample(body: str) -> str:
    """Prefix the standard imports so every sample is a complete module."""
    return HEADER + textwrap.dedent(body).strip("\n") + "\n"


def run(source: str) -> dict[str, Any]:
    """Execute a sample in a fresh namespace and return that namespace."""
    namespace: dict[str, Any] = {"__name__": "nncheck_sample"}
    # dont_inherit: run the text exactly as a standalone file would be run,
    # without this test module's ``from __future__`` flags.
    exec(compile(source, "<sample>", "exec", dont_inherit=True), namespace)
    return namespace


def line_of(source: str, marker: str, occurrence: int = 1) -> int:
    """1-based line number of the ``occurrence``-th line containing ``marker``."""
    hits: list[int] = [
        number
        for number, text in enumerate(source.splitlines(), start=1)
        if marker in text
    ]
    return hits[occurrence - 1]


@dataclass(frozen=True)
class Case:
    """A sample plus the one finding (or none) nncheck must report for it."""

    source: str
    code: str | None = None  # None: the sample must lint clean
    marker: str = ""  # text on the line where the finding must be reported
    occurrence: int = 1  # which line carrying ``marker`` (for duplicates)
    every: tuple[str, ...] = ()  # when the code fires on several lines: a marker for each

    @property
    def line(self) -> int:
        return line_of(self.source, self.marker, self.occurrence)


# --- a: overriding __call__ bypasses hooks unless it delegates to super ----

CALL_NO_SUPER = Case(
    sample(
        """
        class M(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.fc = nn.Linear(2, 2)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.fc(x)

            def __call__(self, x: torch.Tensor) -> torch.Tensor:
                return self.forward(x)
        """
    ),
    code="NNC001",
    marker="def __call__",
)

CALL_DELEGATES = Case(
    sample(
        """
        class M(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.fc = nn.Linear(2, 2)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.fc(x)

            def __call__(self, x: torch.Tensor) -> torch.Tensor:
                return super().__call__(x)
        """
    )
)

# --- b: __init__ that never runs nn.Module.__init__ -----------------------

NO_BASE_INIT_MODULE = Case(
    sample(
        """
        class M(nn.Module):
            def __init__(self) -> None:
                self.fc = nn.Linear(2, 2)
        """
    ),
    code="NNC002",
    marker="def __init__",
)

NO_BASE_INIT_PLAIN = Case(
    sample(
        """
        class M(nn.Module):
            def __init__(self) -> None:
                self.dim = 3

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return x * self.dim
        """
    ),
    code="NNC002",
    marker="def __init__",
)

# --- c: touching module state before super().__init__() ------------------


def before_super(statement: str) -> str:
    """A module whose __init__ runs ``statement`` before super().__init__()."""
    return sample(
        f"""
        class M(nn.Module):
            def __init__(self) -> None:
                {statement}
                super().__init__()
        """
    )


# Tail shared by torch's tailored "too early" messages.
TOO_EARLY: str = "before Module.__init__() call"

# statement -> substring of the AttributeError torch raises for it.
RAISING_BEFORE_SUPER: dict[str, str] = {
    "self.fc = nn.Linear(2, 2)": f"cannot assign module {TOO_EARLY}",
    "self.w = nn.Parameter(torch.zeros(2))": f"cannot assign parameters {TOO_EARLY}",
    "self.b = nn.Buffer(torch.zeros(2))": f"cannot assign buffer {TOO_EARLY}",
    "self.register_buffer('b', torch.zeros(2))": f"cannot assign buffer {TOO_EARLY}",
    "self.register_parameter('p', None)": f"cannot assign parameter {TOO_EARLY}",
    # These two fail on the missing internal dict, not with a tailored message.
    "self.add_module('m', nn.Linear(2, 2))": "object has no attribute '_modules'",
    "self.register_module('m', nn.Linear(2, 2))": "object has no attribute '_modules'",
}

PLAIN_BEFORE_SUPER: list[str] = ["self.dim = 3", "self.t = torch.zeros(2)"]

# --- d: the same module class defined twice in one scope -----------------

DUPLICATE_CLASS = Case(
    sample(
        """
        class M(nn.Module):
            def forward(self, x: torch.Tensor) -> int:
                return 1


        class M(nn.Module):
            def forward(self, x: torch.Tensor) -> int:
                return 2
        """
    ),
    code="NNC003",
    marker="class M(",
    occurrence=2,
)

LINT_CASES: dict[str, Case] = {
    "call-no-super": CALL_NO_SUPER,
    "call-delegates": CALL_DELEGATES,
    "no-base-init-module": NO_BASE_INIT_MODULE,
    "no-base-init-plain": NO_BASE_INIT_PLAIN,
    "duplicate-class": DUPLICATE_CLASS,
    **{
        f"before-super: {stmt}": Case(before_super(stmt), code="NNC004", marker=stmt)
        for stmt in RAISING_BEFORE_SUPER
    },
    **{f"before-super: {stmt}": Case(before_super(stmt)) for stmt in PLAIN_BEFORE_SUPER},
}


# --- runtime behaviour -----------------------------------------------------


@pytest.mark.parametrize(
    ("case", "hook_runs"),
    [(CALL_NO_SUPER, False), (CALL_DELEGATES, True)],
    ids=["no-super", "delegates"],
)
def test_call_override_and_forward_hooks(case: Case, hook_runs: bool) -> None:
    module = run(case.source)["M"]()
    calls: list[str] = []
    module.register_forward_pre_hook(lambda mod, args: calls.append("pre"))
    module.register_forward_hook(lambda mod, args, out: calls.append("post"))
    module(torch.zeros(1, 2))
    assert calls == (["pre", "post"] if hook_runs else [])


def test_no_base_init_then_assign_module_raises() -> None:
    cls: type = run(NO_BASE_INIT_MODULE.source)["M"]
    with pytest.raises(AttributeError, match=re.escape(f"cannot assign module {TOO_EARLY}")):
        cls()


def test_no_base_init_plain_attrs_break_later() -> None:
    # Construction succeeds: plain attributes never touch Module internals...
    module = run(NO_BASE_INIT_PLAIN.source)["M"]()
    assert module.dim == 3
    # ...parameters() is a lazy generator, so only iterating it fails...
    parameters = module.parameters()
    missing_internal = r"object has no attribute '_\w+'"
    with pytest.raises(AttributeError, match=missing_internal):
        list(parameters)
    # ...and so does every other use of the module's machinery.
    with pytest.raises(AttributeError, match=missing_internal):
        module(torch.zeros(2))
    with pytest.raises(AttributeError, match=missing_internal):
        module.state_dict()


@pytest.mark.parametrize(
    ("statement", "message"), list(RAISING_BEFORE_SUPER.items()), ids=list(RAISING_BEFORE_SUPER)
)
def test_state_before_super_init_raises(statement: str, message: str) -> None:
    if "nn.Buffer" in statement and not hasattr(torch.nn, "Buffer"):
        pytest.skip("torch.nn.Buffer needs a newer torch")
    cls: type = run(before_super(statement))["M"]
    with pytest.raises(AttributeError, match=re.escape(message)):
        cls()


@pytest.mark.parametrize("statement", PLAIN_BEFORE_SUPER)
def test_plain_values_before_super_init_are_fine(statement: str) -> None:
    module = run(before_super(statement))["M"]()
    assert isinstance(module, torch.nn.Module)


def test_duplicate_class_silently_replaces_first() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        namespace = run(DUPLICATE_CLASS.source)
    assert caught == []
    assert namespace["M"]()(torch.zeros(1)) == 2


# --- NNC009-NNC014, and the new cases of NNC002 and NNC005 --------------------------------------

LAYER_IN_FORWARD = Case(
    sample(
        """
        class M(nn.Module):
            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return nn.Linear(2, 2)(x)
        """
    ),
    code="NNC009",
    marker="nn.Linear(2, 2)(x)",
)

LAYER_REPLACED_IN_FORWARD = Case(
    sample(
        """
        class M(nn.Module):
            def forward(self, x: torch.Tensor) -> torch.Tensor:
                self.proj = nn.Linear(2, 2)
                return self.proj(x)
        """
    ),
    code="NNC009",
    marker="self.proj = nn.Linear",
)

TRAIN_LOOP_OVERRIDE = Case(
    sample(
        """
        class M(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.fc = nn.Linear(2, 2)

            def train(self, x_pos, x_neg):
                return x_pos, x_neg
        """
    ),
    code="NNC010",
    marker="def train",
)

TRAIN_WITHOUT_RETURN = Case(
    sample(
        """
        class M(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.fc = nn.Linear(2, 2)

            def train(self, mode=True):
                super().train(mode)
        """
    ),
    code="NNC010",
    marker="def train",
)

STATE_DICT_OVERRIDE = Case(
    sample(
        """
        class Child(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.fc = nn.Linear(2, 2)

            def state_dict(self):
                return {}

            def _apply(self, fn):
                return super()._apply(fn)

            def extra_repr(self, detail):
                return detail

        class M(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.child = Child()
        """
    ),
    code="NNC010",
    marker="def state_dict",
    every=("def state_dict", "def _apply", "def extra_repr"),
)

REQUIRES_GRAD_ASSIGNED = Case(
    sample(
        """
        class M(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.fc = nn.Linear(2, 2)

        model = M()
        model.requires_grad = False
        """
    ),
    code="NNC011",
    marker="model.requires_grad = False",
)

DROPOUT_WITHOUT_TRAINING = Case(
    sample(
        """
        class M(nn.Module):
            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return nn.functional.dropout(x, 0.5)
        """
    ),
    code="NNC012",
    marker="dropout(x, 0.5)",
)

ALPHA_DROPOUT_WITHOUT_TRAINING = Case(
    sample(
        """
        class M(nn.Module):
            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return nn.functional.alpha_dropout(x, 0.5)
        """
    ),
    code="NNC012",
    marker="alpha_dropout",
)

DROPOUT_MODULE_IN_FORWARD = Case(
    sample(
        """
        class M(nn.Module):
            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return nn.Dropout(0.5)(x)
        """
    ),
    code="NNC012",
    marker="nn.Dropout(0.5)(x)",
)

EVAL_NOT_CALLED = Case(
    sample(
        """
        model = nn.Sequential(nn.Dropout(0.5))
        model.eval
        """
    ),
    code="NNC013",
    marker="model.eval",
)

UNBOUND_SUPER = Case(
    sample(
        """
        class M(nn.Module):
            def __init__(self) -> None:
                super(M).__init__()
                self.fc = nn.Linear(2, 2)
        """
    ),
    code="NNC002",
    marker="def __init__",
)

FOREIGN_SUPER = Case(
    sample(
        """
        class Other(nn.Module):
            pass

        class M(nn.Module):
            def __init__(self) -> None:
                super(Other, self).__init__()
        """
    ),
    code="NNC002",
    marker="def __init__",
    occurrence=1,
)

DROPOUTS_IN_A_LIST = Case(
    sample(
        """
        class M(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.drops = [nn.Dropout(0.5), nn.Dropout(0.5)]
                self.weights = [nn.Parameter(torch.ones(2))]
        """
    ),
    code="NNC005",
    marker="self.drops",
    every=("self.drops", "self.weights"),
)

CONTAINER_CALLS: dict[str, str] = {
    "nn.Sequential([nn.Linear(2, 2)])": "list is not a Module subclass",
    "nn.ModuleList(nn.Linear(2, 2), nn.ReLU())": "takes from 1 to 2 positional arguments",
    "nn.ModuleList(nn.Linear(2, 2))": "should be called with an iterable",
    "nn.ModuleDict([nn.Linear(2, 2), nn.ReLU()])": "should be Iterable",
    "nn.ParameterList(nn.Parameter(torch.zeros(2)), nn.Parameter(torch.ones(2)))": "takes from 1 to 2",
}

LINT_CASES.update({
    "layer-in-forward": LAYER_IN_FORWARD,
    "layer-replaced-in-forward": LAYER_REPLACED_IN_FORWARD,
    "train-loop-override": TRAIN_LOOP_OVERRIDE,
    "train-without-return": TRAIN_WITHOUT_RETURN,
    "state-dict-override": STATE_DICT_OVERRIDE,
    "requires-grad-assigned": REQUIRES_GRAD_ASSIGNED,
    "dropout-without-training": DROPOUT_WITHOUT_TRAINING,
    "alpha-dropout-without-training": ALPHA_DROPOUT_WITHOUT_TRAINING,
    "dropout-module-in-forward": DROPOUT_MODULE_IN_FORWARD,
    "eval-not-called": EVAL_NOT_CALLED,
    "unbound-super": UNBOUND_SUPER,
    "foreign-super": FOREIGN_SUPER,
    "dropouts-in-a-list": DROPOUTS_IN_A_LIST,
    **{f"container: {call}": Case(sample(f"x = {call}\n"), code="NNC014", marker=call) for call in CONTAINER_CALLS},
})

# Arguments to build each layer of the rules' lists with.
LAYER_ARGUMENTS: dict[str, str] = {
    "Linear": "2, 2", "LazyLinear": "2", "Bilinear": "2, 2, 2", "Conv1d": "2, 2, 1", "Conv2d": "2, 2, 1",
    "Conv3d": "2, 2, 1", "ConvTranspose1d": "2, 2, 1", "ConvTranspose2d": "2, 2, 1", "ConvTranspose3d": "2, 2, 1",
    "LazyConv1d": "2, 1", "LazyConv2d": "2, 1", "LazyConv3d": "2, 1", "LazyConvTranspose1d": "2, 1",
    "LazyConvTranspose2d": "2, 1", "LazyConvTranspose3d": "2, 1", "BatchNorm1d": "2", "BatchNorm2d": "2",
    "BatchNorm3d": "2", "LazyBatchNorm1d": "", "LazyBatchNorm2d": "", "LazyBatchNorm3d": "", "SyncBatchNorm": "2",
    "LayerNorm": "2", "GroupNorm": "1, 2", "RMSNorm": "2", "Embedding": "2, 2", "EmbeddingBag": "2, 2",
    "RNN": "2, 2", "LSTM": "2, 2", "GRU": "2, 2", "RNNCell": "2, 2", "LSTMCell": "2, 2", "GRUCell": "2, 2",
    "MultiheadAttention": "2, 1", "Transformer": "2, 1, 1, 1, 4", "TransformerEncoderLayer": "2, 1, 4",
    "TransformerDecoderLayer": "2, 1, 4", "TransformerEncoder": "nn.TransformerEncoderLayer(2, 1, 4), 1",
    "TransformerDecoder": "nn.TransformerDecoderLayer(2, 1, 4), 1", "PReLU": "",
    "Identity": "", "Flatten": "", "Unflatten": "1, (1, 2)", "Upsample": "scale_factor=2",
    "UpsamplingNearest2d": "scale_factor=2", "UpsamplingBilinear2d": "scale_factor=2", "PixelShuffle": "2",
    "PixelUnshuffle": "2", "ChannelShuffle": "2", "Fold": "(2, 2), 1", "Unfold": "1", "Threshold": "0.1, 0.0",
    "GLU": "", "Softmax": "1", "Softmin": "1", "LogSoftmax": "1", "Softmax2d": "",
    "MaxPool1d": "2", "MaxPool2d": "2", "MaxPool3d": "2", "AvgPool1d": "2", "AvgPool2d": "2", "AvgPool3d": "2",
    "LPPool1d": "2, 2", "LPPool2d": "2, 2", "LPPool3d": "2, 2", "AdaptiveAvgPool1d": "1", "AdaptiveAvgPool2d": "1",
    "AdaptiveAvgPool3d": "1", "AdaptiveMaxPool1d": "1", "AdaptiveMaxPool2d": "1", "AdaptiveMaxPool3d": "1",
    **{f"{kind}Pad{n}d": "1" + (", 0.0" if kind == "Constant" else "")
       for kind in ("Zero", "Constant", "Reflection", "Replication", "Circular") for n in (1, 2, 3)},
}


def build(layer: str) -> Any:
    return eval(f"nn.{layer}({LAYER_ARGUMENTS.get(layer, '')})", {"nn": torch.nn, "torch": torch})


def test_the_layers_said_to_own_parameters_do() -> None:
    from nncheck.model.known_modules import INSTANCE_NORMS, PARAMETERISED_LAYERS

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lazy modules warn that they are lazy
        for layer in sorted(PARAMETERISED_LAYERS):
            assert list(build(layer).parameters()), layer
        for layer in sorted(INSTANCE_NORMS):
            base = layer.replace("Lazy", "")
            assert not list(getattr(torch.nn, base)(2).parameters())
            assert list(getattr(torch.nn, base)(2, affine=True).parameters())
            assert list(getattr(torch.nn, base)(2, track_running_stats=True).buffers())


def test_the_layers_said_to_have_nothing_to_lose_have_nothing() -> None:
    from nncheck.model.known_modules import STATELESS_LAYERS

    for layer in sorted(STATELESS_LAYERS):
        module = build(layer)
        assert (list(module.parameters()), list(module.buffers())) == ([], []), layer
        # No train/eval behaviour: the same output in both modes, for an input of a shape it takes.
        for shape in ((1, 4, 4, 4), (1, 4, 4, 4, 4), (1, 4, 4), (1, 4), (1, 2)):
            x = torch.rand(shape)
            module.train()
            try:
                first = module(x)
            except (RuntimeError, ValueError, IndexError):
                continue  # a shape this layer does not take
            module.eval()
            assert torch.equal(first, module(x)), layer
            break
        else:
            pytest.fail(f"no input shape fits {layer}")


def test_the_dropout_layers_drop_only_in_training() -> None:
    from nncheck.model.known_modules import DROPOUT_LAYERS

    for layer in sorted(DROPOUT_LAYERS):
        shapes = {"Dropout1d": (1, 8, 16), "Dropout2d": (1, 8, 16, 16)}
        x = torch.ones(*shapes.get(layer, (1, 8, 16, 16, 16)))
        module = getattr(torch.nn, layer)(0.5)
        assert not torch.equal(module(x), x), layer
        module.eval()
        assert torch.equal(module(x), x), layer


def test_a_layer_created_in_forward_is_new_on_every_call_and_never_trained() -> None:
    model = run(LAYER_IN_FORWARD.source)["M"]().eval()
    x = torch.ones(1, 2)
    assert list(model.parameters()) == []
    assert not torch.equal(model(x), model(x))
    replaced = run(LAYER_REPLACED_IN_FORWARD.source)["M"]()
    replaced(x)
    optimizer = torch.optim.SGD(replaced.parameters(), lr=0.1)
    replaced(x)
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    assert not held & {id(p) for p in replaced.parameters()}


def test_a_train_loop_named_train_breaks_eval_and_a_parents_train() -> None:
    namespace = run(TRAIN_LOOP_OVERRIDE.source)
    with pytest.raises(TypeError, match="missing 1 required positional argument"):
        namespace["M"]().eval()
    parent = torch.nn.Sequential(namespace["M"]())
    with pytest.raises(TypeError):
        parent.train()


def test_a_train_that_returns_nothing_makes_eval_return_none() -> None:
    model = run(TRAIN_WITHOUT_RETURN.source)["M"]()
    assert model.eval() is None
    assert model.training is False


def test_overrides_torch_calls_on_every_child_raise() -> None:
    namespace = run(STATE_DICT_OVERRIDE.source)
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        namespace["M"]().state_dict()
    with pytest.raises(TypeError, match="recurse"):
        namespace["Child"]().to_empty(device="cpu")
    with pytest.raises(TypeError):
        repr(namespace["M"]())


def test_requires_grad_assigned_on_a_module_freezes_nothing() -> None:
    model = run(REQUIRES_GRAD_ASSIGNED.source)["model"]
    assert all(p.requires_grad for p in model.parameters())
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())


def test_functional_dropout_without_training_stays_on_after_eval() -> None:
    x = torch.ones(1, 1000)
    for case in (DROPOUT_WITHOUT_TRAINING, DROPOUT_MODULE_IN_FORWARD):
        model = run(case.source)["M"]().eval()
        assert not torch.equal(model(x), x)
    alpha = run(ALPHA_DROPOUT_WITHOUT_TRAINING.source)["M"]().train()
    assert torch.equal(alpha(x), x)  # never drops, even in training


def test_a_method_named_but_not_called_does_nothing() -> None:
    model = run(EVAL_NOT_CALLED.source)["model"]
    assert model.training is True
    assert not torch.equal(model(torch.ones(1, 1000)), torch.ones(1, 1000))


def test_super_calls_that_initialise_nothing() -> None:
    with pytest.raises(AttributeError, match=re.escape(f"cannot assign module {TOO_EARLY}")):
        run(UNBOUND_SUPER.source)["M"]()
    with pytest.raises(TypeError, match=re.escape("super(type, obj): obj must be an instance or subtype of type")):
        run(FOREIGN_SUPER.source)["M"]()


def test_dropouts_and_parameters_in_a_plain_list_are_lost() -> None:
    model = run(DROPOUTS_IN_A_LIST.source)["M"]().eval()
    assert all(drop.training for drop in model.drops)  # model.eval() never reached them
    assert list(model.state_dict()) == [] and list(model.parameters()) == []


@pytest.mark.parametrize(("call", "message"), list(CONTAINER_CALLS.items()), ids=list(CONTAINER_CALLS))
def test_container_calls_raise(call: str, message: str) -> None:
    with pytest.raises(TypeError, match=re.escape(message)):
        run(sample(f"x = {call}\n"))


RESULTS_DISCARDED = Case(
    sample(
        """
        x = torch.ones(4)
        mask = torch.tensor([True, False, True, False])
        x.masked_fill(mask, 0.0)
        x.to(torch.float64)
        nn.functional.dropout(x, 0.5)
        weight = nn.Parameter(torch.ones(2))
        weight.grad = torch.ones(2)
        weight.data.sub(weight.grad.data * 0.1)
        """
    ),
    code="NNC015",
    marker="x.masked_fill",
    every=("x.masked_fill", "x.to(", "dropout(x", "weight.data.sub"),
)
LINT_CASES["result-discarded"] = RESULTS_DISCARDED


def test_a_discarded_tensor_result_changes_nothing() -> None:
    namespace = run(RESULTS_DISCARDED.source)
    assert torch.equal(namespace["x"], torch.ones(4))  # no mask, no cast, no dropout
    assert namespace["x"].dtype == torch.float32
    assert torch.equal(namespace["weight"].data, torch.ones(2))  # the "SGD step" moved nothing


# --- NNC017-NNC020, and NNC002's super(type(self), self) ------------------------------------------

MIXIN_INIT_SKIPPED = Case(
    sample(
        """
        class LoggingMixin:
            def __init__(self) -> None:
                self.log: list[str] = []

        class Classifier(nn.Module, LoggingMixin):
            def __init__(self) -> None:
                super().__init__()
                self.fc = nn.Linear(4, 2)

        class MyBase(nn.Module):
            pass

        class Block(MyBase, LoggingMixin):
            pass
        """
    ),
    code="NNC017",
    every=("class Classifier", "class Block"),
)

MIXIN_INIT_RUNS = Case(
    sample(
        """
        class LoggingMixin:
            def __init__(self) -> None:
                self.log: list[str] = []

        class Describe:
            def describe(self) -> str:
                return type(self).__name__

        class First(LoggingMixin, nn.Module):
            def __init__(self) -> None:
                super().__init__()
                nn.Module.__init__(self)
                self.fc = nn.Linear(4, 2)

        class Explicit(nn.Module, LoggingMixin):
            def __init__(self) -> None:
                nn.Module.__init__(self)
                LoggingMixin.__init__(self)
                self.fc = nn.Linear(4, 2)

        class Cooperative(nn.Module, LoggingMixin):
            call_super_init = True

            def __init__(self) -> None:
                super().__init__()
                self.fc = nn.Linear(4, 2)

        class Described(nn.Module, Describe):
            pass
        """
    )
)

BASE_INIT_TWICE = Case(
    sample(
        """
        class M(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.fc = nn.Linear(2, 2)
                super().__init__()  # again

        class Encoder(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.enc = nn.Linear(2, 2)

        class Decoder(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.dec = nn.Linear(2, 2)

        class AutoEncoder(Encoder, Decoder):
            def __init__(self) -> None:
                Encoder.__init__(self)
                Decoder.__init__(self)
        """
    ),
    code="NNC018",
    every=("# again", "Decoder.__init__(self)"),
)

BASE_INIT_ONCE_PER_PATH = Case(
    sample(
        """
        class M(nn.Module):
            def __init__(self, fast: bool) -> None:
                if fast:
                    super().__init__()
                else:
                    nn.Module.__init__(self)
                self.fc = nn.Linear(2, 2)

        class Compatible(nn.Module):
            def __init__(self, **kwargs: int) -> None:
                try:
                    super().__init__(**kwargs)
                except TypeError:
                    super().__init__()
                self.fc = nn.Linear(2, 2)
        """
    )
)

CLASS_ATTRIBUTE_SHADOWS = Case(
    sample(
        """
        class M(nn.Module):
            head = None

            def __init__(self) -> None:
                super().__init__()
                self.head = nn.Linear(2, 2)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                if self.head is not None:
                    return self.head(x)
                return x
        """
    ),
    code="NNC019",
    marker="head = None",
)

CLASS_ANNOTATION_ONLY = Case(
    sample(
        """
        class M(nn.Module):
            head: nn.Module
            dim = 4

            def __init__(self) -> None:
                super().__init__()
                self.head = nn.Linear(2, 2)
                self.dim = 8
        """
    )
)

SETATTR_NOT_DELEGATING = Case(
    sample(
        """
        class M(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.fc = nn.Linear(2, 2)

            def __setattr__(self, name: str, value: object) -> None:
                object.__setattr__(self, name, value)

        class G(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.fc = nn.Linear(2, 2)

            def __getattr__(self, name: str) -> object:
                return None
        """
    ),
    code="NNC020",
    every=("def __setattr__", "def __getattr__"),
)

DATA_PARALLEL_PASSTHROUGH = Case(
    sample(
        """
        class Passthrough(nn.DataParallel):
            def __getattr__(self, name: str) -> object:
                return getattr(self.module, name)
        """
    ),
    code="NNC020",
    marker="def __getattr__",
)

HOOKS_DELEGATING = Case(
    sample(
        """
        class M(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.fc = nn.Linear(2, 2)
                self.frozen = True

            def __setattr__(self, name: str, value: object) -> None:
                if name == "frozen":
                    object.__setattr__(self, name, value)
                    return
                super().__setattr__(name, value)

            def __getattr__(self, name: str) -> object:
                try:
                    return super().__getattr__(name)
                except AttributeError:
                    return getattr(self.fc, name)
        """
    )
)

DYNAMIC_SUPER = Case(
    sample(
        """
        class Base(nn.Module):
            def __init__(self) -> None:
                super(self.__class__, self).__init__()
                self.fc = nn.Linear(2, 2)

        class Sub(Base):
            def __init__(self) -> None:
                super().__init__()

        class Sized(nn.Module):
            def __init__(self, width: int) -> None:
                super(type(self), self).__init__()
                self.fc = nn.Linear(width, width)

        class Deeper(Sized):
            def __init__(self, width: int, depth: int) -> None:
                super().__init__(width)
        """
    ),
    code="NNC002",
    every=("super(self.__class__, self)", "super(type(self), self)"),
)

LINT_CASES.update({
    "mixin-init-skipped": MIXIN_INIT_SKIPPED,
    "mixin-init-runs": MIXIN_INIT_RUNS,
    "base-init-twice": BASE_INIT_TWICE,
    "base-init-once-per-path": BASE_INIT_ONCE_PER_PATH,
    "class-attribute-shadows": CLASS_ATTRIBUTE_SHADOWS,
    "class-annotation-only": CLASS_ANNOTATION_ONLY,
    "setattr-not-delegating": SETATTR_NOT_DELEGATING,
    "data-parallel-passthrough": DATA_PARALLEL_PASSTHROUGH,
    "hooks-delegating": HOOKS_DELEGATING,
    "dynamic-super": DYNAMIC_SUPER,
})


def test_a_mixin_after_a_module_base_is_never_initialised() -> None:
    namespace = run(MIXIN_INIT_SKIPPED.source)
    for name in ("Classifier", "Block"):
        with pytest.raises(AttributeError, match="has no attribute 'log'"):
            namespace[name]().log
    assert torch.nn.Module.call_super_init is False


def test_a_mixin_first_called_explicitly_or_with_call_super_init_is_initialised() -> None:
    namespace = run(MIXIN_INIT_RUNS.source)
    for name in ("First", "Explicit", "Cooperative"):
        model = namespace[name]()
        assert model.log == [], name
        assert len(list(model.parameters())) == 2, name
    assert namespace["Described"]().describe() == "Described"


def test_a_second_base_init_forgets_every_layer_registered_before() -> None:
    namespace = run(BASE_INIT_TWICE.source)
    model = namespace["M"]()
    assert list(model.parameters()) == [] and list(model.state_dict()) == []
    with pytest.raises(AttributeError, match="has no attribute 'fc'"):
        model.fc
    both = namespace["AutoEncoder"]()
    assert [name for name, _ in both.named_parameters()] == ["dec.weight", "dec.bias"]
    with pytest.raises(AttributeError, match="has no attribute 'enc'"):
        both.enc


def test_base_inits_on_different_paths_run_once() -> None:
    namespace = run(BASE_INIT_ONCE_PER_PATH.source)
    for model in (namespace["M"](True), namespace["M"](False), namespace["Compatible"]()):
        assert len(list(model.parameters())) == 2


def test_a_class_level_value_hides_the_submodule_of_the_same_name() -> None:
    model = run(CLASS_ATTRIBUTE_SHADOWS.source)["M"]()
    assert model.head is None
    assert isinstance(model._modules["head"], torch.nn.Linear)
    assert len(list(model.parameters())) == 2  # registered, and trained for nothing
    x = torch.ones(1, 2)
    assert torch.equal(model(x), x)  # the head is skipped
    fixed = run(CLASS_ANNOTATION_ONLY.source)["M"]()
    assert isinstance(fixed.head, torch.nn.Linear) and fixed.dim == 8


def test_a_class_level_value_named_like_a_parameter_raises_instead() -> None:
    source = sample(
        """
        class M(nn.Module):
            w = None

            def __init__(self) -> None:
                super().__init__()
                self.w = nn.Parameter(torch.ones(2))
        """
    )
    with pytest.raises(KeyError, match="attribute 'w' already exists"):
        run(source)["M"]()


def test_attribute_hooks_that_never_reach_the_modules_hide_or_lose_layers() -> None:
    namespace = run(SETATTR_NOT_DELEGATING.source)
    lost = namespace["M"]()
    assert list(lost.parameters()) == [] and list(lost.state_dict()) == []
    hidden = namespace["G"]()
    assert hidden.fc is None
    assert len(list(hidden.parameters())) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DataParallel warns that there is no GPU
        wrapped = run(DATA_PARALLEL_PASSTHROUGH.source)["Passthrough"](torch.nn.Linear(2, 3))
    with pytest.raises(RecursionError):
        wrapped.in_features  # `self.module` is looked up through the override too
    kept = run(HOOKS_DELEGATING.source)["M"]()
    assert isinstance(kept.fc, torch.nn.Linear) and len(list(kept.parameters())) == 2
    assert kept.frozen is True and kept.in_features == 2


def test_super_of_the_instances_class_recurses_in_a_subclass() -> None:
    namespace = run(DYNAMIC_SUPER.source)
    assert len(list(namespace["Base"]().parameters())) == 2  # the class itself works
    with pytest.raises(RecursionError):
        namespace["Sub"]()
    assert len(list(namespace["Sized"](2).parameters())) == 2
    with pytest.raises(TypeError, match="missing 1 required positional argument"):
        namespace["Deeper"](2, 3)


# --- NNC016 and NNC021: the training flag, and tensors that are no parameter --

TRAINING_ASSIGNED = Case(
    sample(
        """
        model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
        model.training = False
        """
    ),
    code="NNC016",
    marker="model.training = False",
)

TRAINING_SWITCHED = Case(
    sample(
        """
        class Net(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.body = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))

            def train(self, mode: bool = True) -> "Net":
                self.training = mode
                for child in self.children():
                    child.train(mode)
                return self

        model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
        model.eval()
        net = Net()
        net.eval()
        for module in net.modules():
            module.training = True
        """
    )
)

TENSOR_NOT_REGISTERED = Case(
    sample(
        """
        class Scale(nn.Module):
            def __init__(self, dim: int) -> None:
                super().__init__()
                self.gain = torch.ones(dim, requires_grad=True)
                self.bias = torch.zeros(dim).requires_grad_()

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return x * self.gain + self.bias
        """
    ),
    code="NNC021",
    every=("self.gain =", "self.bias ="),
)

TENSOR_REGISTERED = Case(
    sample(
        """
        class Scale(nn.Module):
            def __init__(self, dim: int) -> None:
                super().__init__()
                self.gain = nn.Parameter(torch.ones(dim))
                self.bias = torch.zeros(dim, requires_grad=True)
                self.bias = nn.Parameter(self.bias)
                shift = torch.zeros(dim).requires_grad_()
                self.register_parameter("shift", nn.Parameter(shift))

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return x * self.gain + self.bias + self.shift
        """
    )
)

LINT_CASES.update({
    "training-assigned": TRAINING_ASSIGNED,
    "training-switched": TRAINING_SWITCHED,
    "tensor-not-registered": TENSOR_NOT_REGISTERED,
    "tensor-registered": TENSOR_REGISTERED,
})


def test_training_assigned_leaves_the_children_in_training_mode() -> None:
    model = run(TRAINING_ASSIGNED.source)["model"]
    assert model.training is False
    assert model[0].training is True and model[1].training is True  # the Dropout still drops
    x = torch.ones(500, 2)
    torch.manual_seed(0)
    first = model(x)
    second = model(x)
    assert not torch.equal(first, second)  # a different output on every run
    assert (model[1](x) == 0).any()  # zeros appear
    model.eval()
    assert not any(module.training for module in model.modules())
    assert torch.equal(model(x), model(x))


def test_train_and_eval_switch_every_submodule_also_through_an_override() -> None:
    namespace = run(TRAINING_SWITCHED.source)
    assert not any(module.training for module in namespace["model"].modules())
    net = namespace["net"]
    assert all(module.training for module in net.modules())  # the loop set each one
    net.eval()
    assert not any(module.training for module in net.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        torch.nn.Linear(2, 2).train(0)  # what the fix's train(value) asks of the value


def test_a_tensor_that_requires_grad_is_no_parameter() -> None:
    model = run(TENSOR_NOT_REGISTERED.source)["Scale"](3)
    assert model.gain.requires_grad and model.bias.requires_grad
    assert list(model.parameters()) == []  # the optimizer never sees them
    with pytest.raises(ValueError, match="empty parameter list"):
        torch.optim.SGD(model.parameters(), lr=0.1)
    assert list(model.state_dict()) == []  # never saved nor loaded
    model.to(torch.float64)
    assert model.gain.dtype == torch.float32 and model.bias.dtype == torch.float32  # .to() skips them
    fixed = run(TENSOR_REGISTERED.source)["Scale"](3)
    assert [name for name, _ in fixed.named_parameters()] == ["gain", "bias", "shift"]
    assert list(fixed.state_dict()) == ["gain", "bias", "shift"]
    fixed.to(torch.float64)
    assert all(p.dtype == torch.float64 for p in fixed.parameters())
    # Registering the plain attribute under its own name raises at once: no silent bug to report.
    twice = sample(
        """
        class Scale(nn.Module):
            def __init__(self, dim: int) -> None:
                super().__init__()
                self.scale = torch.ones(dim, requires_grad=True)
                self.register_parameter("scale", nn.Parameter(self.scale))
        """
    )
    with pytest.raises(KeyError, match="attribute 'scale' already exists"):
        run(twice)["Scale"](3)


# --- the linter's verdict on the same samples -------------------------------


@pytest.mark.parametrize("case", list(LINT_CASES.values()), ids=list(LINT_CASES))
def test_linter_findings(case: Case) -> None:
    # Imported here so the runtime facts above stay checkable on their own.
    from nncheck import check_source

    findings = check_source(case.source)
    assert all(isinstance(f.line, int) and isinstance(f.col, int) and f.col >= 0 for f in findings)
    if case.code is None:
        assert [(f.code, f.line) for f in findings] == []
    else:
        # Other rules may legitimately fire too; this code must fire exactly here.
        lines = [line_of(case.source, marker) for marker in case.every] if case.every else [case.line]
        assert [f.line for f in findings if f.code == case.code] == lines
