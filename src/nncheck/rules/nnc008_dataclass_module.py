from __future__ import annotations

import ast
from collections.abc import Iterator

import libcst as cst

from nncheck.base_init import index_of_base_init
from nncheck.model import ClassInfo, FileModel
from nncheck.rule import Report, Rule, Screen

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
    fix_safety = "none"
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
        return screen.any_module(
            lambda node: any(
                screen.resolve(d.func if isinstance(d, ast.Call) else d) in _DATACLASS_DECORATORS
                for d in node.decorator_list
            )
        )

    def check(self, model: FileModel) -> Iterator[Report]:
        for cls in model.module_classes():
            for decorator in cls.definition.decorators:
                expr = decorator.decorator
                call = expr if isinstance(expr, cst.Call) else None
                target = model.resolve(call.func if call else expr)
                if not (isinstance(target, str) and target in _DATACLASS_DECORATORS):
                    continue
                missing = []
                if not _hashable(call):
                    missing.append("it is unhashable, so parameters() and modules() raise TypeError; pass eq=False")
                if not _hook_initialises(model, cls):
                    missing.append("nn.Module.__init__ never runs; call super().__init__() in __post_init__")
                if missing:
                    name = cst.Module([]).code_for_node(call.func if call else expr)
                    yield self.report(decorator, decorator=name, cls=cls.qualname, missing="; ".join(missing))


def _hashable(call: cst.Call | None) -> bool:
    for arg in call.args if call else ():
        keyword = arg.keyword.value if arg.keyword else None
        value = arg.value.value if isinstance(arg.value, cst.Name) else None
        if (keyword == "eq" and value == "False") or (keyword in ("unsafe_hash", "hash") and value == "True"):
            return True
    return False


def _hook_initialises(model: FileModel, cls: ClassInfo) -> bool:
    return any(index_of_base_init(model, cls, hook) is not None for name in _INIT_HOOKS for hook in cls.methods(name))
