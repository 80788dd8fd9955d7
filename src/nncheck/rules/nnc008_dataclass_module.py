from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from nncheck.model.base_init import index_of_base_init
from nncheck.model.views import C, FileModel, FileView, Screen
from nncheck.rule import FixAvailability, Report, Rule
from nncheck.syntax.nodes import Call, Expr, as_call, boolean

_DATACLASS_DECORATORS = frozenset(
    {
        "dataclasses.dataclass",
        "attr.s",
        "attr.attrs",
        "attr.define",
        "attr.mutable",
        "attr.frozen",
        "attrs.define",
        "attrs.mutable",
        "attrs.frozen",
    }
)
# Hooks that run inside the generated __init__, where the base __init__ can be called.
_INIT_HOOKS = ("__post_init__", "__attrs_pre_init__", "__attrs_post_init__")


class DataclassModule(Rule):
    """`@dataclass` (or attrs) on an nn.Module subclass.

    **What it finds.** `@dataclass`, `@dataclasses.dataclass`, `@attrs.define`, `@attr.s` and their
    kin on a class derived from `torch.nn.Module`, unless the decorator passes `eq=False` (or
    `unsafe_hash=True`) and a `__post_init__` (attrs: `__attrs_pre_init__`/`__attrs_post_init__`)
    calls the base `__init__`. The message says which of the two is missing.

    **Why is this a bug.** With the default `eq=True` the class gets `__hash__ = None`: modules must be
    hashable, and `parameters()`, `modules()` and `named_modules()` raise
    `TypeError: unhashable type`. And the generated `__init__` never runs `nn.Module.__init__`, so
    assigning a submodule field raises `AttributeError: cannot assign module before
    Module.__init__() call`.

    **Example.**

        @dataclass
        class Head(nn.Module):
            width: int = 4

    **Instead.**

        @dataclass(eq=False)
        class Head(nn.Module):
            width: int = 4

            def __post_init__(self):
                super().__init__()

    **Fix.** None: where the base `__init__` belongs depends on the fields.
    """

    code = "NNC008"
    name = "dataclass-module"
    fix_availability = FixAvailability.NONE
    message = "@{decorator} on nn.Module {cls}: {missing}"

    valid = (
        """
from dataclasses import dataclass
from torch import nn

@dataclass(eq=False)
class Head(nn.Module):
    width: int = 4

    def __post_init__(self):
        super().__init__()

@dataclass
class Config:
    width: int = 4
""",
    )
    invalid = (
        """
import dataclasses
from dataclasses import dataclass
from torch import nn

@dataclass  # NNC008
class Head(nn.Module):
    width: int = 4

@dataclasses.dataclass(eq=False)  # NNC008
class Half(nn.Module):
    width: int = 4
""",
    )

    @classmethod
    def might_report(cls, screen: Screen) -> bool:
        return screen.any_module(lambda node: any(True for _ in _broken_decorators(screen, node)))

    def check(self, model: FileModel) -> Iterator[Report]:
        for cls in model.module_classes():
            for index, expr, missing in _broken_decorators(model, cls):
                call = as_call(expr)
                named = call.func if call is not None else expr
                name = cst.Module([]).code_for_node(named) if isinstance(named, cst.CSTNode) else ""
                yield self.report(cls.node.decorators[index], decorator=name, cls=cls.qualname,
                                  missing="; ".join(missing))


def _broken_decorators(view: FileView[C], cls: C) -> Iterator[tuple[int, Expr, list[str]]]:
    """(position, decorator, what is wrong) for each dataclass decorator of the class (the screen asks
    this too)."""
    for index, expr in enumerate(cls.decorators):
        call = as_call(expr)
        target = view.qualified_name(call.func if call is not None else expr)
        if target not in _DATACLASS_DECORATORS:
            continue
        missing = []
        if not _hashable(call):
            missing.append("it is unhashable, so parameters() and modules() raise TypeError; pass eq=False")
        if not _hook_initialises(view, cls):
            missing.append("nn.Module.__init__ never runs; call super().__init__() in __post_init__")
        if missing:
            yield index, expr, missing


def _hashable(call: Call | None) -> bool:
    for keyword, value in call.keywords if call else ():
        if (keyword == "eq" and boolean(value) is False) or (keyword in ("unsafe_hash", "hash") and boolean(value)):
            return True
    return False


def _hook_initialises(view: FileView[C], cls: C) -> bool:
    return any(index_of_base_init(view, cls, hook) is not None for name in _INIT_HOOKS for hook in cls.methods(name))
