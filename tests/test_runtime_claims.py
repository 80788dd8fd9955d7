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
        assert [f.line for f in findings if f.code == case.code] == [case.line]
