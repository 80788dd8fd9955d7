from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from nncheck.fixes.fix import Fix
from nncheck.model.views import FileModel, Screen
from nncheck.rule import FixAvailability, Report, Rule, Sample
from nncheck.syntax.nodes import (
    Node,
    as_call,
    calls_in,
    is_super_call,
    method_owner,
    name_of,
    scopes,
    statements,
    units,
    walk,
)


class DirectForwardCall(Rule):
    """Another module's `forward` is called directly.

    **What it finds.** Inside an nn.Module subclass, `x.forward(...)` where `x` is certainly another
    module (see "What nncheck knows of a value" in the README): `self.<attr>` that the class only
    assigns modules, an item of an `nn.ModuleList`, `nn.ModuleDict` or `nn.Sequential` (indexed, or
    the variable of a loop over it), or a local variable every binding of which is a module. `self.forward(...)`,
    `super().forward(...)` and `Base.forward(self, ...)` are never reported. Off by default: enable
    it with `--extend-select NNC007` (flake8 or nncheck).

    **Why is this a bug.** Calling `forward` directly skips `nn.Module.__call__`: the submodule's
    forward hooks and pre-hooks never run (and so neither do tools built on them).

    **Example.**

        def forward(self, x):
            return self.encoder.forward(x)

    **Instead.**

        def forward(self, x):
            return self.encoder(x)

    **Fix.** Unsafe (hooks that never ran will run): `x.forward(a)` becomes `x(a)`.
    """

    code = "NNC007"
    name = "direct-forward-call"
    fix_availability = FixAvailability.UNSAFE
    default_enabled = False
    message = "{target}.forward() skips the hooks of {target}; call {target}(...) instead"

    valid = (
        """
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.config = object()

    def forward(self, x):
        return self.fc(x)

class Child(Net):
    def forward(self, x):
        y = super().forward(x)
        z = Net.forward(self, x)
        return self.config.forward(y + z)
""",
    )
    invalid = (
        Sample(
            """
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.blocks = nn.ModuleList([nn.Linear(2, 2)])

    def forward(self, x):
        x = self.fc.forward(x)  # NNC007@13
        for block in self.blocks:
            x = block.forward(x)  # NNC007@17
        head = nn.Linear(2, 1)
        return head.forward(self.blocks[0].forward(x))  # NNC007@16 NNC007@29
""",
            unsafe_fixed="""
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.blocks = nn.ModuleList([nn.Linear(2, 2)])

    def forward(self, x):
        x = self.fc(x)  # NNC007@13
        for block in self.blocks:
            x = block(x)  # NNC007@17
        head = nn.Linear(2, 1)
        return head(self.blocks[0](x))  # NNC007@16 NNC007@29
""",
        ),
    )

    @classmethod
    def might_report(cls, screen: Screen) -> bool:
        return screen.any_module(lambda cls: any(_forward_call(n) for n in walk([cls.node], enter_scopes=True)))

    def check(self, model: FileModel) -> Iterator[Report]:
        inside = {id(node) for cls in model.module_classes() for node in statements(units(cls.node))}
        for owner, body in scopes(model.tree):
            if owner is None or id(owner) not in inside:
                continue  # only the methods of module classes (and the functions they define)
            for call in calls_in(body):
                receiver = method_owner(call, "forward") if _forward_call(call.node) else None
                if receiver is None or not isinstance(call.node, cst.Call):
                    continue
                if not model.values.is_module(receiver, owner):
                    continue
                target = cst.Module([]).code_for_node(receiver) if isinstance(receiver, cst.CSTNode) else "x"
                fix = Fix(safe=False, title=f"Call {target}(...) instead", edits=((call.node, _call_directly),))
                yield self.report(call.node, fix=fix, target=target)


def _call_directly(call: cst.Call) -> cst.Call:
    func = call.func
    assert isinstance(func, cst.Attribute)
    return call.with_changes(func=func.value)


def _forward_call(node: Node) -> bool:
    """`x.forward(...)`, except `self.forward(...)` and `super().forward(...)`, which are never reported."""
    call = as_call(node)
    owner = method_owner(call, "forward") if call is not None else None
    return owner is not None and not is_super_call(owner) and name_of(owner) != "self"
