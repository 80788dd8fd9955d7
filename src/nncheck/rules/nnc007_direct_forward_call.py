from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from nncheck.fixes.fix import Fix
from nncheck.model.views import CstClass, FileModel, Screen
from nncheck.rule import FixAvailability, Report, Rule, Sample
from nncheck.syntax.nodes import Node, as_call, dotted, first_parameter, is_super_call, method_owner, name_of, walk

# Indexing these, or looping over them, gives their modules.
_CONTAINERS = (".ModuleList", ".ModuleDict", ".Sequential")


class DirectForwardCall(Rule):
    """Another module's `forward` is called directly.

    **What it finds.** Inside an nn.Module subclass, `x.forward(...)` where `x` is certainly another
    module: `self.<attr>` that `__init__` assigns a module, an item of an `nn.ModuleList`,
    `nn.ModuleDict` or `nn.Sequential` attribute (indexed, or the variable of a loop over it), or a
    local variable assigned a module in the same function. `self.forward(...)`,
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
        for cls in model.module_classes():
            modules, containers = _module_attributes(model, cls)
            for method in cls.methods():
                finder = _ForwardCalls(model, first_parameter(method), modules, containers)
                method.body.visit(finder)
                for call, target in finder.found:
                    fix = Fix(safe=False, title=f"Call {target}(...) instead", edits=((call, _call_directly),))
                    yield self.report(call, fix=fix, target=target)


def _call_directly(call: cst.Call) -> cst.Call:
    func = call.func
    assert isinstance(func, cst.Attribute)
    return call.with_changes(func=func.value)


def _module_attributes(model: FileModel, cls: CstClass) -> tuple[set[str], set[str]]:
    """Attributes that __init__ assigns a module, and those among them that are containers."""
    modules: set[str] = set()
    containers: set[str] = set()
    for init in cls.methods("__init__"):
        self_name = first_parameter(init)
        collector = _SelfAssignments(model, self_name)
        init.body.visit(collector)
        modules |= collector.modules
        containers |= collector.containers
    return modules, containers


class _SelfAssignments(cst.CSTVisitor):
    def __init__(self, model: FileModel, self_name: str | None) -> None:
        self.model = model
        self.self_name = self_name
        self.modules: set[str] = set()
        self.containers: set[str] = set()

    def visit_Assign(self, node: cst.Assign) -> None:
        if not self.model.is_module_call(node.value):
            return
        assert isinstance(node.value, cst.Call)
        built = self.model.resolve(node.value.func)
        is_container = isinstance(built, str) and built.startswith("torch.nn.") and built.endswith(_CONTAINERS)
        for target in node.targets:
            parts = dotted(target.target)
            if parts and len(parts) == 2 and parts[0] == self.self_name:
                self.modules.add(parts[1])
                if is_container:
                    self.containers.add(parts[1])


class _ForwardCalls(cst.CSTVisitor):
    def __init__(self, model: FileModel, self_name: str | None, modules: set[str], containers: set[str]) -> None:
        self.model = model
        self.self_name = self_name
        self.modules = modules
        self.containers = containers
        self.local_modules: set[str] = set()
        self.loop_items: set[str] = set()
        self.found: list[tuple[cst.Call, str]] = []

    def visit_Assign(self, node: cst.Assign) -> None:
        if self.model.is_module_call(node.value):
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    self.local_modules.add(target.target.value)

    def visit_For(self, node: cst.For) -> None:
        source = node.iter
        if isinstance(source, cst.Call) and isinstance(source.func, cst.Attribute):
            if source.func.attr.value == "values":  # for block in self.blocks.values()
                source = source.func.value
        if self._container(source) and isinstance(node.target, cst.Name):
            self.loop_items.add(node.target.value)

    def _container(self, expr: cst.BaseExpression) -> bool:
        parts = dotted(expr) or []
        return len(parts) == 2 and parts[0] == self.self_name and parts[1] in self.containers

    def leave_Call(self, original_node: cst.Call) -> None:
        func = original_node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "forward"):
            return
        owner = func.value
        parts = dotted(owner)
        if parts and len(parts) == 2 and parts[0] == self.self_name and parts[1] in self.modules:
            self.found.append((original_node, ".".join(parts)))
        elif parts and len(parts) == 1 and (parts[0] in self.local_modules or parts[0] in self.loop_items):
            self.found.append((original_node, parts[0]))
        elif isinstance(owner, cst.Subscript) and self._container(owner.value):
            self.found.append((original_node, cst.Module([]).code_for_node(owner)))


def _forward_call(node: Node) -> bool:
    """`x.forward(...)`, except `self.forward(...)` and `super().forward(...)`, which are never reported."""
    call = as_call(node)
    owner = method_owner(call, "forward") if call is not None else None
    return owner is not None and not is_super_call(owner) and name_of(owner) != "self"
