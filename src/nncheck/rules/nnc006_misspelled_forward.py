from __future__ import annotations

import re
from collections.abc import Iterator

import libcst as cst

from nncheck.fixes.fix import Fix
from nncheck.model.views import C, FileModel, FileView, Screen
from nncheck.rule import FixAvailability, Report, Rule, Sample
from nncheck.syntax.nodes import assignment, attributes_in, function_name, name_of, units

# Real words (and plain variants) this close to "forward" that are not typos of it.
ENGLISH_WORDS = frozenset({"toward", "towards", "onward", "onwards", "forwarded", "forwarder", "coward", "foreword"})
_MAX_DISTANCE = 2
_EXTENDED = re.compile(r"forward[_0-9].*")


class MisspelledForward(Rule):
    """An nn.Module subclass has no `forward`, but a method whose name is a typo of it.

    **What it finds.** A class derived from `torch.nn.Module` that does not define `forward` or
    `__call__` itself and defines a method whose name is within edit distance 2 of `forward`:
    `foward`, `forwad`, `fowrard`, `Forward`, `forwards`. Names that start or end with an underscore
    (`_forward`, `forward_`), that extend `forward` (`forward_i`, `forward2`), English words that
    close (`toward`, `onward`, `forwarded`, ...) and overrides of a method of that name of a base
    class in the file are not reported.

    **Why is this a bug.** Calling the module never runs the misspelled method. With no `forward`
    in its bases either, it runs `nn.Module.forward`, which raises `NotImplementedError: Module
    [Net] is missing the required "forward" function`; when a base class (a torch layer, another
    file's class) brings a `forward`, that one runs instead, silently.

    **Example.**

        class Net(nn.Module):
            def foward(self, x):
                return self.fc(x)

    **Instead.** Name it `forward`.

    **Fix.** `--fix` renames the method to `forward`, unless the misspelled name is used elsewhere in
    the file (then renaming would break those uses, and there is no fix). Safe when no base may
    bring a `forward`; unsafe otherwise (the renamed method replaces the base's `forward`, which is
    the point).
    """

    code = "NNC006"
    name = "misspelled-forward"
    whole_file = True  # whether the fix is offered depends on every use of the name in the file
    fix_availability = FixAvailability.SAFE_OR_UNSAFE
    message = "{cls}.{method} looks like a misspelled forward, and {cls} has no forward: rename it to forward"
    message_inherited = (
        "{cls}.{method} looks like a misspelled forward: calling {cls} runs its base class's forward, never "
        "{method}; rename it to forward"
    )

    valid = (
        """
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        return x

    def forwards(self, x):
        return x

class Helpers(nn.Module):
    def _forward(self, x):
        return x

    def toward(self, x):
        return x

class Steps(nn.Module):
    def forward_i(self, x, i):
        return x

    def forward2(self, x):
        return x

    forward = forward2
""",
    )
    invalid = (
        Sample(
            """
from torch import nn

class Net(nn.Module):
    def foward(self, x):  # NNC006
        return x

class Child(Net):
    def Forward(self, x):  # NNC006
        return x
""",
            fixed="""
from torch import nn

class Net(nn.Module):
    def forward(self, x):  # NNC006
        return x

class Child(Net):
    def forward(self, x):  # NNC006
        return x
""",
        ),
        Sample(
            """
from torch import nn

class Layer(nn.Linear):
    def foward(self, x):  # NNC006
        return x

class Head(nn.Sequential):
    def forwad(self, x):  # NNC006
        return x
""",
            fixed="""
from torch import nn

class Layer(nn.Linear):
    def foward(self, x):  # NNC006
        return x

class Head(nn.Sequential):
    def forwad(self, x):  # NNC006
        return x
""",
            unsafe_fixed="""
from torch import nn

class Layer(nn.Linear):
    def forward(self, x):  # NNC006
        return x

class Head(nn.Sequential):
    def forward(self, x):  # NNC006
        return x
""",
        ),
    )

    @classmethod
    def might_report(cls, screen: Screen) -> bool:
        return screen.any_module(lambda cls: not _defines_forward(cls) and any(
            _is_typo(function_name(m)) and not _base_defines(screen, cls, function_name(m)) for m in cls.methods()))

    def check(self, model: FileModel) -> Iterator[Report]:
        for cls in model.module_classes():
            if _defines_forward(cls):
                continue
            inherited = any(_may_have_forward(model, base) for base in _file_bases_or_unseen(model, cls))
            for statement in cls.methods():
                if _is_typo(statement.name.value) and not _base_defines(model, cls, statement.name.value):
                    name = statement.name.value
                    used = any(attr == name for _, attr in attributes_in([model.tree]))  # rare: a typo found
                    rename = Fix(safe=not inherited, title="Rename it to forward", edits=((statement, _rename),))
                    template = self.message_inherited if inherited else self.message
                    yield self.report(statement, template, fix=None if used else rename, cls=cls.qualname,
                                      method=name)


def _rename(method: cst.FunctionDef) -> cst.FunctionDef:
    return method.with_changes(name=method.name.with_changes(value="forward"))


def _defines_forward(cls: C) -> bool:
    return bool(cls.methods("forward") or cls.methods("__call__") or _assigns(cls, ("forward", "__call__")))


_UNSEEN = None  # a base class nncheck cannot see: it may define forward


def _file_bases_or_unseen(model: FileView[C], cls: C) -> list[C | None]:
    """The class's bases (nn.Module itself left out): classes of this file, or None for the others."""
    found: list[C | None] = []
    for base in cls.bases:
        if model.is_module_itself(base):
            continue
        target = model.resolve(base)
        found.extend(target if isinstance(target, list) and target else [_UNSEEN])
    return found


def _base_defines(model: FileView[C], cls: C, name: str, seen: set[int] | None = None) -> bool:
    """A base class of this file defines a method of that name: the class overrides it, no typo."""
    seen = set() if seen is None else seen
    for base in _file_bases_or_unseen(model, cls):
        if base is not None and id(base) not in seen:
            seen.add(id(base))
            if base.methods(name) or _base_defines(model, base, name, seen):
                return True
    return False


def _may_have_forward(model: FileView[C], cls: C | None, seen: set[int] | None = None) -> bool:
    seen = set() if seen is None else seen
    if cls is None:
        return True
    if id(cls) in seen:
        return False
    seen.add(id(cls))
    bases = _file_bases_or_unseen(model, cls)
    return _defines_forward(cls) or any(_may_have_forward(model, base, seen) for base in bases)


def _assigns(cls: C, names: tuple[str, ...]) -> bool:
    # `forward = some_function` in the class body defines forward too.
    for unit in units(cls.node):
        assigned = assignment(unit)
        if assigned is not None and any(name_of(target) in names for target in assigned[0]):
            return True
    return False


def _is_typo(name: str) -> bool:
    if name == "forward" or name.startswith("_") or name.endswith("_") or name.lower() in ENGLISH_WORDS:
        return False
    if _EXTENDED.fullmatch(name):
        return False  # `forward_i`, `forward2`: another method beside forward
    return abs(len(name) - len("forward")) <= _MAX_DISTANCE and _distance(name, "forward") <= _MAX_DISTANCE


def _distance(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]
