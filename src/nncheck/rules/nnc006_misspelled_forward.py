from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from nncheck.fixes.fix import Fix
from nncheck.model.views import C, FileModel, FileView, Screen
from nncheck.rule import FixAvailability, Report, Rule, Sample
from nncheck.syntax.nodes import assignment, attributes_in, function_name, name_of, units

# Real words (and plain variants) this close to "forward" that are not typos of it.
ENGLISH_WORDS = frozenset({"toward", "towards", "onward", "onwards", "forwarded", "forwarder", "coward", "foreword"})
_MAX_DISTANCE = 2


class MisspelledForward(Rule):
    """An nn.Module subclass has no `forward`, but a method whose name is a typo of it.

    **What it finds.** A class derived from `torch.nn.Module` that defines neither `forward` nor
    `__call__` (itself or in a base class of the same file) and defines a method whose name is within
    edit distance 2 of `forward`: `foward`, `forwad`, `fowrard`, `Forward`, `forwards`. Names that
    start or end with an underscore (`_forward`, `forward_`) and English words that close
    (`toward`, `onward`, `forwarded`, ...) are not reported. Only classes whose bases are all
    `nn.Module` itself or classes of the same file are considered: a torch layer or another
    file's class may well bring a `forward`.

    **Why is this a bug.** Calling the module runs `nn.Module.forward`, which raises
    `NotImplementedError: Module [Net] is missing the required "forward" function`.

    **Example.**

        class Net(nn.Module):
            def foward(self, x):
                return self.fc(x)

    **Instead.** Name it `forward`.

    **Fix.** Safe: `--fix` renames the method to `forward`, unless the misspelled name is used
    elsewhere in the file (then renaming would break those uses, and there is no fix).
    """

    code = "NNC006"
    name = "misspelled-forward"
    whole_file = True  # whether the fix is offered depends on every use of the name in the file
    fix_availability = FixAvailability.SAFE
    message = "{cls}.{method} looks like a misspelled forward, and {cls} has no forward: rename it to forward"

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

class Layer(nn.Linear):
    def foward(self, x):
        return x
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
    )

    @classmethod
    def might_report(cls, screen: Screen) -> bool:
        return screen.any_module(lambda cls: any(_is_typo(function_name(m)) for m in cls.methods())
                                 and not _may_have_forward(screen, cls, set()))

    def check(self, model: FileModel) -> Iterator[Report]:
        for cls in model.module_classes():
            if _may_have_forward(model, cls, set()):
                continue
            for statement in cls.methods():
                if _is_typo(statement.name.value):
                    name = statement.name.value
                    used = any(attr == name for _, attr in attributes_in([model.tree]))  # rare: a typo found
                    rename = Fix(safe=True, title="Rename it to forward", edits=((statement, _rename),))
                    yield self.report(statement, fix=None if used else rename, cls=cls.qualname, method=name)


def _rename(method: cst.FunctionDef) -> cst.FunctionDef:
    return method.with_changes(name=method.name.with_changes(value="forward"))


def _may_have_forward(model: FileView[C], cls: C, seen: set[int]) -> bool:
    if id(cls) in seen:
        return True
    seen.add(id(cls))
    if cls.methods("forward") or cls.methods("__call__") or _assigns(cls, ("forward", "__call__")):
        return True
    for base in cls.bases:
        if model.is_module_itself(base):
            continue
        target = model.resolve(base)
        if not isinstance(target, list) or not target:
            return True  # a class we cannot see may define forward
        if any(_may_have_forward(model, inner, seen) for inner in target):
            return True
    return False


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
