from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from nncheck.fixes.edits import SUPER_INIT, insert_first
from nncheck.fixes.fix import Fix
from nncheck.model.base_init import (
    adopts_state,
    dynamic_supers,
    first_broken_super,
    index_of_base_init,
    init_call_without_self,
)
from nncheck.model.views import C, CstClass, FileModel, FileView, Screen
from nncheck.rule import FixAvailability, Report, Rule, Sample
from nncheck.syntax.nodes import Function, first_parameter, has_decorator, only_raises


class BaseInitNotCalled(Rule):
    """An nn.Module subclass's `__init__` never calls the base `__init__`.

    **What it finds.** A class derived from `torch.nn.Module` whose `__init__` contains no call that
    initialises a base class: `super().__init__(...)`, `super(Cls, self).__init__(...)` or
    `Base.__init__(self, ...)`. A call in any branch counts; calls inside nested functions, lambdas
    and classes do not; a call of one of the class's own methods that makes such a call
    (`self._setup()`) does, also of a method inherited from a class of another file (of the project
    or an installed library), whose text is read there: transformers' `self.post_init()` runs none.
    A method nncheck cannot read is taken to run one. `@overload` stubs, an abstract `__init__`
    (`@abstractmethod`), bodies that only `raise` and an `__init__` whose first statement adopts an
    initialised module's state
    (`self.__dict__ = other.__dict__`, or `self.__dict__.update(other.__dict__)`) are not reported;
    nor is a class that has (or derives from one that has) a `metaclass=` other than `ABCMeta`, which
    may run `nn.Module.__init__` itself: fastai's `Module` does, before the subclass's `__init__`.
    Calls that look like a base init but initialise nothing are reported with their own message:
    `nn.Module.__init__()` without the instance; `super(Net).__init__()` with one argument (an unbound
    super object); `super(Other, self).__init__()` where `Other` is a class of this file that is
    neither the class nor one of its bases (skipping a level on purpose, `super(Parent, self)` with
    `Parent` a base, is fine). `self.fc.__init__(2, 2)` re-initialises an attribute and
    `super().__init()` is a typo: neither initialises the class, so both are ordinary NNC002. And
    `super(self.__class__, self).__init__(...)` or `super(type(self), self).__init__(...)` in
    `__init__` is reported at the call, with its own message: it works in the class itself only.

    **Why is this a bug.** `nn.Module.__init__` creates the registries that hold parameters, buffers
    and submodules. Without it the object is broken: assigning a layer raises
    `AttributeError: cannot assign module before Module.__init__() call`, and calling the module or
    asking for its parameters fails with `'Net' object has no attribute '_parameters'` (torch 2.13).
    `super(Other, self)` with a class that is not a base raises `TypeError: super(type, obj): obj
    must be an instance or subtype of type`. `super(type(self), self)` starts the method lookup after
    the instance's class: in a subclass `Sub` whose `__init__` calls `super().__init__()`, the call in
    the base class runs the base's `__init__` again, and again (`RecursionError`), or `Sub.__init__`
    without its arguments (`TypeError: ... missing 1 required positional argument`).

    **Example.**

        class Net(nn.Module):
            def __init__(self, width):
                self.width = width

    **Instead.**

        class Net(nn.Module):
            def __init__(self, width):
                super().__init__()
                self.width = width

    **Fix.** `--fix` inserts `super().__init__()` as the first statement of `__init__` (after its
    docstring). Safe when that call is certainly right: the class has a single base, and it is
    `nn.Module` itself or a class of the same file whose initialisation takes no required arguments.
    Unsafe otherwise (`--unsafe-fixes`): a torch layer such as `nn.Linear` needs its arguments, and
    with several bases a person must decide what each one needs. No fix for the calls that look like
    a base init but are wrong (`nn.Module.__init__()`, `super(Net).__init__()`,
    `super(Other, self).__init__()`): a person must see what was meant.
    `super(self.__class__, self).__init__(...)` and `super(type(self), self).__init__(...)` become
    `super().__init__(...)`, the arguments kept: safe, it is what the call means in the class itself.
    """

    code = "NNC002"
    name = "base-init-not-called"
    fix_availability = FixAvailability.SAFE_OR_UNSAFE
    message = "{cls}.__init__ never calls the base __init__; add super().__init__() as its first statement"
    message_without_self = (
        "{cls}.__init__ calls {base}.__init__() without self, which raises TypeError; use super().__init__()"
    )
    message_unbound_super = (
        "{cls}.__init__ calls super({arg}).__init__() without self, which initialises nothing; "
        "use super().__init__()"
    )
    message_foreign_super = (
        "{cls}.__init__ calls super({other}, self).__init__(), but {other} is not {cls} or one of its bases "
        "(TypeError); use super().__init__()"
    )
    message_dynamic_super = (
        "super({kind}, self) names the instance's class, not {cls}: in a subclass this call runs "
        "{cls}.__init__ again, endlessly (RecursionError); use super().__init__()"
    )

    valid = (
        """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.width = width

class Old(nn.Module):
    def __init__(this):
        nn.Module.__init__(this)

class Skipping(Old):
    def __init__(self):
        super(Old, self).__init__()

class Forwarding(nn.Module):
    def __init__(self):
        super().__init__()

    def extra_repr(self):  # not a base __init__ call: not this rule's
        return super(type(self), self).extra_repr()

class Indirect(nn.Module):
    def __init__(self, width):
        self._setup(width)

    def _setup(self, width):
        nn.Module.__init__(self=self)
""",
        """
from torch import nn

class Branchy(nn.Module):
    def __init__(self, fast):
        if fast:
            super().__init__()
        else:
            raise ValueError("slow")

class Abstract(nn.Module):
    def __init__(self):
        raise NotImplementedError

class Adopting(nn.Module):
    def __init__(self, trained):
        '''Takes over a built module's state.'''
        self.__dict__ = trained.__dict__

class Copying(nn.Module):
    def __init__(self, other):
        self.__dict__.update(other.__dict__)
        self.extra = 1
""",
        """
class Plain:
    def __init__(self):
        self.x = 1
""",
    )
    invalid = (
        Sample(
            """
from torch import nn

class Net(nn.Module):
    def __init__(self, width):  # NNC002
        self.width = width
""",
            fixed="""
from torch import nn

class Net(nn.Module):
    def __init__(self, width):  # NNC002
        super().__init__()
        self.width = width
""",
        ),
        Sample(
            """
from torch import nn

class Layer(nn.Linear):
    def __init__(self, width):  # NNC002
        '''A layer.'''
        self.width = width
""",
            unsafe_fixed="""
from torch import nn

class Layer(nn.Linear):
    def __init__(self, width):  # NNC002
        '''A layer.'''
        super().__init__()
        self.width = width
""",
        ),
        Sample(
            """
from torch import nn

class Net(nn.Module):
    def __init__(self):  # NNC002
        def later():
            super().__init__()
        self.later = later

class NoSelf(nn.Module):
    def __init__(self):  # NNC002
        nn.Module.__init__()

class NoParentheses(nn.Module):
    def __init__(self):  # NNC002
        super.__init__(self)
""",
            fixed="""
from torch import nn

class Net(nn.Module):
    def __init__(self):  # NNC002
        super().__init__()
        def later():
            super().__init__()
        self.later = later

class NoSelf(nn.Module):
    def __init__(self):  # NNC002
        nn.Module.__init__()

class NoParentheses(nn.Module):
    def __init__(self):  # NNC002
        super().__init__()
        super.__init__(self)
""",
        ),
        Sample(
            """
from torch import nn

class Net(nn.Module):
    def __init__(self):  # NNC002
        super(Net).__init__()
        self.fc = nn.Linear(2, 2)

class Other(nn.Module):
    def __init__(self):  # NNC002
        super(Net, self).__init__()

class Typo(nn.Module):
    def __init__(self):  # NNC002
        super(Typo, self).__init()
""",
            fixed="""
from torch import nn

class Net(nn.Module):
    def __init__(self):  # NNC002
        super(Net).__init__()
        self.fc = nn.Linear(2, 2)

class Other(nn.Module):
    def __init__(self):  # NNC002
        super(Net, self).__init__()

class Typo(nn.Module):
    def __init__(self):  # NNC002
        super().__init__()
        super(Typo, self).__init()
""",
        ),
        Sample(
            """
from torch import nn

class Block(nn.Module):
    def __init__(self, width):
        super(self.__class__, self).__init__()  # NNC002
        self.fc = nn.Linear(width, width)

class Layer(nn.Linear):
    def __init__(this, width):
        super(type(this), this).__init__(width, width)  # NNC002
""",
            fixed="""
from torch import nn

class Block(nn.Module):
    def __init__(self, width):
        super().__init__()  # NNC002
        self.fc = nn.Linear(width, width)

class Layer(nn.Linear):
    def __init__(this, width):
        super().__init__(width, width)  # NNC002
""",
        ),
        Sample(
            """
from torch import nn

class Reset(nn.Module):
    def __init__(self):  # NNC002
        self.fc.__init__(2, 2)
""",
            fixed="""
from torch import nn

class Reset(nn.Module):
    def __init__(self):  # NNC002
        super().__init__()
        self.fc.__init__(2, 2)
""",
        ),
    )

    @classmethod
    def might_report(cls, screen: Screen) -> bool:
        return screen.any_module(lambda node: bool(_uninitialising(screen, node) or _dynamic(screen, node)))

    def check(self, model: FileModel) -> Iterator[Report]:
        for cls in model.module_classes():
            for method in cls.methods("__init__"):
                for call, kind in dynamic_supers(method, model.text):
                    if isinstance(call.node, cst.Call):
                        yield self.report(call.node, self.message_dynamic_super, fix=_plain_super_fix(call.node),
                                          cls=cls.qualname, kind=kind)
            for init in _uninitialising(model, cls):
                if not isinstance(init, cst.FunctionDef):
                    continue  # never: a libcst class has libcst methods
                base = init_call_without_self(model, init)
                problem = first_broken_super(model, cls, init)
                if problem is not None and problem[0] == "unbound":
                    yield self.report(init, self.message_unbound_super, cls=cls.qualname, arg=problem[1])
                elif problem is not None:
                    yield self.report(init, self.message_foreign_super, cls=cls.qualname, other=problem[1])
                elif base is not None:
                    yield self.report(init, self.message_without_self, cls=cls.qualname, base=base)
                elif first_parameter(init) is None:
                    yield self.report(init, cls=cls.qualname)  # super() needs the instance: no fix
                else:
                    fix = Fix(safe=_takes_no_arguments(model, cls), title="Add super().__init__()",
                              edits=((init, _add_super_init),))
                    yield self.report(init, fix=fix, cls=cls.qualname)


def _uninitialising(view: FileView[C], cls: C) -> list[Function]:
    """The class's `__init__` methods that never run a base `__init__` (the screen asks this too)."""
    found = [
        init for init in cls.methods("__init__")
        if not (has_decorator(init, "overload") or has_decorator(init, "abstractmethod") or only_raises(init)
                or adopts_state(init))
        and index_of_base_init(view, cls, init) is None
    ]
    if found and view.table.initialised_by_metaclass(cls.info):
        return []  # fastai's Module: its metaclass runs nn.Module.__init__ first
    return found


def _dynamic(view: FileView[C], cls: C) -> bool:
    return any(dynamic_supers(init, view.text) for init in cls.methods("__init__"))


def _plain_super_fix(call: cst.Call) -> Fix | None:
    """`super(type(self), self).__init__(...)` -> `super().__init__(...)`, unless a comment is inside."""
    owner = call.func.value if isinstance(call.func, cst.Attribute) else None
    if not isinstance(owner, cst.Call) or "#" in cst.Module(body=[]).code_for_node(owner):
        return None
    edit = (owner, lambda made: made.with_changes(args=(), whitespace_before_args=cst.SimpleWhitespace("")))
    return Fix(safe=True, title="Use super()", edits=(edit,))


def _add_super_init(init: cst.FunctionDef) -> cst.FunctionDef:
    return insert_first(init, SUPER_INIT)


def _takes_no_arguments(model: FileModel, cls: CstClass) -> bool:
    """Whether `super().__init__()` is certainly right in `cls`: a single base that is nn.Module itself,
    or a class of this file whose own initialisation needs no arguments."""
    if len(cls.bases) != 1 or cls.has_keywords:
        return False
    if model.is_module_itself(cls.bases[0]):
        return True
    target = model.resolve(cls.bases[0])
    if not isinstance(target, list) or len(target) != 1:
        return False
    base = target[0]
    inits = base.methods("__init__")
    if not inits:
        return _takes_no_arguments(model, base)
    return not any(_required_parameters(init) for init in inits)


def _required_parameters(init: cst.FunctionDef) -> list[str]:
    params = init.params
    positional = [*params.posonly_params, *params.params][1:]  # after the instance
    return [p.name.value for p in [*positional, *params.kwonly_params] if p.default is None]
