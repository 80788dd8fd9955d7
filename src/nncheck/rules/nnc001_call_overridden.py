from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from nncheck.fixes.fix import Fix
from nncheck.model.base_init import index_of_base_init
from nncheck.model.views import C, CstClass, FileModel, FileView, Screen
from nncheck.rule import FixAvailability, Report, Rule, Sample
from nncheck.syntax.nodes import (
    Function,
    attributes_in,
    first_parameter,
    has_decorator,
    is_super_call,
    name_of,
    only_raises,
    units,
)

# nn.Module's own implementation of __call__, which runs the hooks.
_HOOK_RUNNING_METHODS = ("_call_impl", "_wrapped_call_impl")


class CallOverridden(Rule):
    """An nn.Module subclass overrides `__call__`.

    **What it finds.** A class derived from `torch.nn.Module` that defines `__call__` (plain, `async`
    or decorated) whose body never hands over to the base implementation (`super().__call__(...)`,
    `super(Cls, self).__call__(...)`, `nn.Module.__call__(self, ...)`, or passing `super().__call__`
    on, as to `checkpoint`). `@overload` stubs and a `__call__` that only raises are not reported.

    **Why is this a bug.** `nn.Module.__call__` is what runs forward pre-hooks and forward hooks,
    backward hooks, `torch.compile` and tracing, and then calls `forward`. A subclass that overrides
    `__call__` still "works" when called, but every hook registered on it silently never runs
    (checked with torch 2.13), and tools that look for `forward` do not find it.

    **Example.**

        class Net(nn.Module):
            def __call__(self, x):
                return self.conv(x)

    **Instead.** Name the method `forward`, or keep a typed `__call__` shim that delegates:

        class Net(nn.Module):
            def forward(self, x):
                return self.conv(x)

    When the class defines both `forward` and `__call__`, delete `__call__` or make it
    `return super().__call__(x)`. A class that uses `__call__` on purpose can say so with
    `# noqa: NNC001`.

    **Fix.** When the class has no `forward` and a single `__call__`, `--fix` renames `__call__` to
    `forward`, keeping its decorators, signature, body and comments. Safe when the class's
    `__init__` runs `nn.Module.__init__` (or it has none); unsafe otherwise, since calls then go
    through `nn.Module.__call__`, which needs it. When the class also has a `forward`, a person must
    merge the two: there is no automatic fix.
    """

    code = "NNC001"
    name = "call-overridden"
    fix_availability = FixAvailability.SAFE_OR_UNSAFE
    message = "{cls}.__call__ bypasses forward hooks; rename it to forward"
    message_with_forward = (
        "{cls}.__call__ shadows forward and bypasses hooks; "
        "delete it or delegate to super().__call__ (no automatic fix)"
    )

    valid = (
        """
import torch.nn as nn

class Net(nn.Module):
    def forward(self, x):
        return x
""",
        """
from torch import nn

class Typed(nn.Module):
    def __call__(self, x: int) -> int:
        return super().__call__(x)

class Old(nn.Module):
    def __call__(self, x):
        return super(Old, self).__call__(x)

class Explicit(nn.Module):
    def __call__(self, x):
        return nn.Module.__call__(self, x)

class PassedOn(nn.Module):
    def __call__(self, x):
        return checkpoint(super().__call__, x)

class Internal(nn.Module):
    def __call__(self, x):
        return self._call_impl(x)

class Stubs(nn.Module):
    @overload
    def __call__(self, x: int) -> int: ...
    @overload
    def __call__(self, x: str) -> str: ...
    def __call__(self, x):
        return super().__call__(x)
""",
        """
class NotAModule:
    def __call__(self, x):
        return x
""",
    )
    invalid = (
        Sample(
            """
from torch import nn

class Scaled(nn.Module):
    def __init__(self):
        self.scale = 2

    def __call__(self, x):  # NNC001
        return x * self.scale
""",
            unsafe_fixed="""
from torch import nn

class Scaled(nn.Module):
    def __init__(self):
        self.scale = 2

    def forward(self, x):  # NNC001
        return x * self.scale
""",
        ),
        Sample(
            """
import torch

class Net(torch.nn.Module):
    def __call__(self, x):  # NNC001
        return x
""",
            fixed="""
import torch

class Net(torch.nn.Module):
    def forward(self, x):  # NNC001
        return x
""",
        ),
        """
from torch import nn

class Both(nn.Module):
    def forward(self, x):
        return x

    @staticmethod
    def helper():
        pass

    @some_decorator
    async def __call__(self, x):  # NNC001
        return self.forward(x)
""",
    )

    @classmethod
    def might_report(cls, screen: Screen) -> bool:
        return screen.any_module(lambda node: bool(_bypassing_calls(screen, node)))

    def check(self, model: FileModel) -> Iterator[Report]:
        for cls in model.module_classes():
            has_forward = bool(cls.methods("forward"))
            calls = cls.methods("__call__")
            for method in _bypassing_calls(model, cls):
                if not isinstance(method, cst.FunctionDef):
                    continue  # never: a libcst class has libcst methods
                if has_forward:
                    yield self.report(method, self.message_with_forward, cls=cls.qualname)
                else:
                    # Renaming is certain only for a lone __call__: overloads would need renaming too.
                    fix = _rename_fix(model, cls, method) if len(calls) == 1 else None
                    yield self.report(method, fix=fix, cls=cls.qualname)


def _bypassing_calls(view: FileView[C], cls: C) -> list[Function]:
    """The class's `__call__` methods that never hand over to nn.Module's (the screen asks this too)."""
    return [
        method for method in cls.methods("__call__")
        # Typing stubs; a __call__ that refuses to be called (as torch's ParameterDict's).
        if not (has_decorator(method, "overload") or only_raises(method) or _delegates(view, method))
    ]


def _delegates(view: FileView[C], method: Function) -> bool:
    # Any mention of the base __call__ counts (called, or passed on as in checkpoint(super().__call__, x)),
    # even inside a nested function: only certain bypasses are reported.
    self_name = first_parameter(method)
    for owner, name in attributes_in(units(method)):
        if name == "__call__" and (is_super_call(owner) or view.is_module_expr(owner)):
            return True
        if name in _HOOK_RUNNING_METHODS and self_name is not None and name_of(owner) == self_name:
            return True
    return False


def _rename_fix(model: FileModel, cls: CstClass, method: cst.FunctionDef) -> Fix:
    # Once renamed, calls go through nn.Module.__call__, which needs nn.Module.__init__ to have run;
    # if this class's __init__ may not run it (NNC002's case), the rename can break a working object.
    initialised = all(index_of_base_init(model, cls, init) is not None for init in cls.methods("__init__"))
    return Fix(safe=initialised, title="Rename __call__ to forward", edits=((method, _rename_to_forward),))


def _rename_to_forward(method: cst.FunctionDef) -> cst.FunctionDef:
    return method.with_changes(name=method.name.with_changes(value="forward"))
