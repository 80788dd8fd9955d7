from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from nncheck.model.table import ClassInfo, InitKind, Table
from nncheck.model.views import C, FileModel, FileView, Screen
from nncheck.rule import FixAvailability, Report, Rule
from nncheck.syntax.nodes import (
    Expr,
    as_call,
    assignment,
    attribute,
    augmented,
    elements,
    name_of,
    simple_units,
    calls_in,
    dotted,
    first_parameter,
    is_super_call,
    method_owner,
    passes_first,
    subscript_owner,
    units,
)


class MixinInitSkipped(Rule):
    """A mixin listed after an nn.Module base has an `__init__` that never runs.

    **What it finds.** An nn.Module subclass with a module base (`nn.Module`, a torch layer, a module
    class of the project or of a library) listed before a base that is certainly no module and has an
    `__init__` that does more than pass its arguments on (`class Classifier(nn.Module, LoggingMixin)`,
    `class Block(MyBase, RegistryMixin)`), when the class does not call that base's `__init__`
    explicitly (`LoggingMixin.__init__(self)`) and does not set `call_super_init = True`. The mixin's
    `__init__` is looked for in the file, in the project and in installed libraries; a base that
    cannot be found, that derives from anything but classes found and `object`, `ABC`, `Generic[...]`
    or `Protocol`, or whose `__init__` only calls `super().__init__(...)`, is never reported, and
    neither is a class with a module base (or a base that may be one) after the mixin, which puts
    `nn.Module` after it in the MRO, nor a class whose own `__init__` assigns every attribute that the
    mixin's `__init__` (doing nothing else) would have assigned.

    **Why is this a bug.** `nn.Module.__init__` does not call `super().__init__()` (unless the class
    sets `call_super_init = True`). In `class Classifier(nn.Module, LoggingMixin)` the MRO reaches
    `nn.Module` before `LoggingMixin`, so `super().__init__()` stops there: `LoggingMixin.__init__`
    never runs and whatever it sets is missing (`AttributeError: 'Classifier' object has no attribute
    'log'` the first time it is used, torch 2.13). The same happens when the first base is any module
    class: `class Block(MyBase, RegistryMixin)`.

    **Example.**

        class LoggingMixin:
            def __init__(self):
                self.log = []

        class Classifier(nn.Module, LoggingMixin):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 2)

    **Instead.** Call the mixin's `__init__` yourself:

        class Classifier(nn.Module, LoggingMixin):
            def __init__(self):
                nn.Module.__init__(self)
                LoggingMixin.__init__(self)
                self.fc = nn.Linear(4, 2)

    **Fix.** None: what the mixin's `__init__` needs, and where it should run, is for a person to see.
    """

    code = "NNC017"
    name = "mixin-init-skipped"
    fix_availability = FixAvailability.NONE
    message = (
        "{cls} lists {mixin} after the module base {base}: nn.Module.__init__ does not call super().__init__(), "
        "so {mixin}.__init__ never runs; call {mixin}.__init__(self) in __init__"
    )

    valid = (
        """
from torch import nn

class Describe:
    def describe(self):
        return type(self).__name__

class Net(nn.Module, Describe):
    def __init__(self):
        super().__init__()
""",
        """
from torch import nn

class LoggingMixin:
    def __init__(self):
        self.log = []

class First(LoggingMixin, nn.Module):
    def __init__(self):
        super().__init__()

class Explicit(nn.Module, LoggingMixin):
    def __init__(self):
        nn.Module.__init__(self)
        LoggingMixin.__init__(self)

class Cooperative(nn.Module, LoggingMixin):
    call_super_init = True

    def __init__(self):
        super().__init__()
""",
        """
import abc
from typing import Generic, Protocol, TypeVar

from torch import nn

T = TypeVar("T")

class Typed(nn.Module, Generic[T]):
    pass

class Shaped(Protocol):
    def shape(self) -> int: ...

class Abstract(nn.Module, abc.ABC, Shaped):
    pass
""",
        """
from torch import nn

class EncoderMixin:
    def __init__(self):
        self._depth = 5
        self._in_channels = 3

class Encoder(nn.Module, EncoderMixin):  # sets all that EncoderMixin.__init__ would have
    def __init__(self, depth):
        super().__init__()
        self._depth = depth
        self._in_channels = 3
""",
        """
from torch import nn
from somewhere_unknown import RegistryMixin

class Unresolved(nn.Module, RegistryMixin):
    pass
""",
        """
from torch import nn

class Passing:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)

class Net(nn.Module, Passing):
    pass

class Base(nn.Module):
    pass

class Reordered(Base, Passing, nn.Module):  # nn.Module comes after the mixin in the MRO
    pass
""",
        """
from torch import nn

class LoggingMixin:
    def __init__(self):
        self.log = []

class Logged(LoggingMixin, nn.Module):
    pass

class Again(nn.Module, Logged):  # Logged is a module: the MRO puts nn.Module after it
    pass

class Later(nn.Linear, LoggingMixin, Logged):
    pass
""",
    )
    invalid = (
        """
from torch import nn

class LoggingMixin:
    def __init__(self):
        self.log = []

class Classifier(nn.Module, LoggingMixin):  # NNC017
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

class MyBase(nn.Module):
    pass

class Block(MyBase, LoggingMixin):  # NNC017
    pass
""",
        """
import torch

class Counter:
    def __init__(self):
        self.calls = 0

class Counted(Counter):
    pass

class Layer(torch.nn.Linear, Counted):  # NNC017
    def __init__(self):
        super().__init__(2, 2)
""",
    )

    @classmethod
    def might_report(cls, screen: Screen) -> bool:
        return screen.any_module(lambda node: _skipped(screen, node) is not None)

    def check(self, model: FileModel) -> Iterator[Report]:
        for cls in model.module_classes():
            found = _skipped(model, cls)
            if found is not None:
                yield self.report(cls.node, cls=cls.qualname, mixin=found.mixin, base=found.base)


@dataclass(frozen=True)
class Skipped:
    base: str  # the module base, as written
    mixin: str  # the mixin whose __init__ never runs, as written


def _skipped(view: FileView[C], cls: C) -> Skipped | None:
    """A base of `cls` (the last, if several) whose `__init__` never runs because a module base comes
    before it, and which that leaves something unset."""
    bases = cls.bases
    if len(bases) < 2 or cls.info.call_super_init:
        return None
    names = [_name(base) for base in bases]
    for index in range(len(bases) - 1, 0, -1):
        # A base after the mixin that may be a module puts nn.Module after the mixin too.
        if not _plain(view.table, names[index]):
            return None
        sets = _own_init(view.table, names[index])
        if sets is None or (sets and sets <= _assigned_in_init(cls)):
            continue  # nothing set, or the class sets all that the mixin's __init__ would have
        before = [parts for parts in names[:index] if parts is not None]
        module_base = next((parts for parts in before if view.table.is_module_path(parts)), None)
        if module_base is None:
            continue
        mixin = view.table.find(names[index] or [])
        if mixin is None or _inherited_by(view.table, before, mixin.classes) or _calls_init_itself(view, cls):
            continue
        if _sets_call_super_init(view.table, before):
            return None
        return Skipped(".".join(module_base), ".".join(names[index] or []))
    return None


def _name(base: Expr) -> list[str] | None:
    """The dotted name of a base, of the class subscripted for `Base[T]`."""
    return dotted(subscript_owner(base) or base)


def _plain(table: Table, parts: list[str] | None) -> bool:
    return table.is_plain_name(parts)


def _own_init(table: Table, parts: list[str] | None) -> frozenset[str] | None:
    """If the plain class `parts` names (each class it may name) runs an `__init__` that sets something:
    the attributes it sets, if that is all it does, else an empty set. None if it sets nothing."""
    found = table.find(parts) if parts else None
    if found is None:
        return None  # `object`, `ABC`, `Generic`: nothing of their own to set
    sets: set[str] = set()
    for cls in found.classes:
        owner = found.table.init_owner(cls)
        if owner is None or owner[1].init is not InitKind.OWN:
            return None
        if owner[1].init_sets is None:
            return frozenset()
        sets |= owner[1].init_sets
    return frozenset(sets)


def _assigned_in_init(cls: C) -> set[str]:
    """The attributes of the instance that the class's own `__init__` assigns, in any branch."""
    names: set[str] = set()
    for init in cls.methods("__init__"):
        self_name = first_parameter(init)
        for unit in simple_units(units(init)):
            bound = assignment(unit)
            targets = bound[0] if bound else [grown[0]] if (grown := augmented(unit)) else []
            for target in targets:
                for element in elements(target) or [target]:
                    owner = attribute(element)
                    if owner is not None and name_of(owner[0]) == self_name:
                        names.add(owner[1])
    return names


def _lineage(table: Table, parts: list[str], seen: set[int]) -> Iterator[tuple[Table, ClassInfo]]:
    """The classes `parts` names and every class they derive from, as far as they are found."""
    found = table.find(parts)
    if found is None:
        return
    for cls in found.classes:
        if id(cls) in seen:
            continue
        seen.add(id(cls))
        yield found.table, cls
        for i, base in enumerate(cls.base_names):
            base = base or (cls.subscripted[i] if i < len(cls.subscripted) else None)
            if base:
                yield from _lineage(found.table, base, seen)


def _inherited_by(table: Table, bases: list[list[str]], mixins: list[ClassInfo]) -> bool:
    """A base listed before the mixin derives from it, which puts it before nn.Module in the MRO."""
    seen: set[int] = set()
    wanted = {id(mixin) for mixin in mixins}
    return any(id(cls) in wanted for parts in bases for _, cls in _lineage(table, parts, seen))


def _sets_call_super_init(table: Table, bases: list[list[str]]) -> bool:
    seen: set[int] = set()
    return any(cls.call_super_init for parts in bases for _, cls in _lineage(table, parts, seen))


def _calls_init_itself(view: FileView[C], cls: C) -> bool:
    """Some method of the class calls a base `__init__` other than through `super()`: a class that is
    no module (`Mixin.__init__(self)`) or `super(Other, self)`, which may be the mixin's."""
    for method in cls.methods():
        self_name = first_parameter(method)
        for call in calls_in(units(method)):
            owner = method_owner(call, "__init__")
            if owner is None:
                continue
            if is_super_call(owner):
                made = as_call(owner)
                named = dotted(made.positional[0][0]) if made is not None and made.positional else None
                if named is not None and named != [cls.name]:
                    return True
                continue
            parts = dotted(owner)
            if parts and parts[0] != self_name and passes_first(call, self_name) and not view.is_module_expr(owner):
                return True
    return False
