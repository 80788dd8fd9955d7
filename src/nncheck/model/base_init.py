"""Where an nn.Module's `__init__` runs a base class's `__init__` (NNC002, NNC004, NNC008 and fixes).

Written once for both trees: the pre-screen asks these questions of Python's ast, the rules of
libcst's tree, and both get the same answers.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Sequence

from nncheck.files.source import SourceError, decode, read_bytes
from nncheck.model.known_modules import is_known_module, module_methods
from nncheck.model.table import ClassInfo, Table
from nncheck.model.methods import Unseen, find_method
from nncheck.model.views import C, FileView
from nncheck.syntax.nodes import (
    Call,
    as_call,
    Function,
    Node,
    assignment,
    attribute,
    calls_in,
    dotted,
    first_parameter,
    function_name,
    has_decorator,
    is_docstring,
    is_super_call,
    method_owner,
    name_of,
    passes_first,
    positional_parameters,
    units,
)


def is_base_init_call(call: Call, self_name: str | None) -> bool:
    """`super().__init__(...)`, `super(Cls, self).__init__(...)` or `Some.Base.__init__(self, ...)`."""
    owner = method_owner(call, "__init__")
    if owner is None:
        return False
    if is_super_call(owner):
        return True
    parts = dotted(owner)
    # `super.__init__(self)` (no parentheses) raises TypeError: it initialises nothing.
    return parts is not None and parts != ["super"] and passes_first(call, self_name)


def init_call_without_self(view: FileView[C], func: Function) -> str | None:
    """`nn.Module.__init__()`: a class named explicitly but not given the instance (Python raises
    TypeError). Returns the class as written. `self.fc.__init__(2, 2)` re-initialises an attribute: not
    this idiom."""
    self_name = first_parameter(func)
    for call in calls_in(units(func)):
        owner = method_owner(call, "__init__")
        parts = dotted(owner) if owner is not None else None
        if parts and parts[0] not in ("super", self_name) and not passes_first(call, self_name):
            if view.table.resolve_parts(parts):  # this file's classes need not be in libcst's tree
                return ".".join(parts)
    return None


# `super(self.__class__, ...` or `super(type(...`, in the text of a file where dynamic_supers may find one.
_DYNAMIC_SUPER = re.compile(r"super\(\s*(?:\w+\s*\.\s*__class__|type\s*\()")


@functools.lru_cache(maxsize=1)
def _may_have_dynamic_super(text: str) -> bool:
    return _DYNAMIC_SUPER.search(text) is not None


SuperProblem = tuple[str, str]  # ("unbound", "Net") for super(Net); ("foreign", "Other") for super(Other, self)


def broken_super(view: FileView[C], cls: C, call: Call) -> SuperProblem | None:
    """What is wrong with the `super(...)` of `super(...).__init__(...)`, if anything: one argument (an
    unbound super object, whose `__init__` initialises nothing), or a class of this file that is
    neither `cls` nor one of its bases (TypeError when the instance is built)."""
    owner = method_owner(call, "__init__")
    made = as_call(owner) if owner is not None and is_super_call(owner) else None
    if made is None or made.keywords:
        return None
    if len(made.positional) == 1 and not made.positional[0][1]:
        return "unbound", ".".join(dotted(made.positional[0][0]) or ["..."])
    if len(made.positional) == 2:
        named = dotted(made.positional[0][0])
        target = view.resolve_parts(named) if named else None
        if isinstance(target, list) and target and not any(t is cls or _is_ancestor(view, t, cls) for t in target):
            return "foreign", ".".join(named or [])
    return None


def _is_ancestor(view: FileView[C], candidate: C, cls: C, seen: set[int] | None = None) -> bool:
    seen = set() if seen is None else seen
    if id(cls) in seen:
        return False
    seen.add(id(cls))
    for parts in cls.info.base_names:
        target = view.resolve_parts(parts) if parts else None
        if isinstance(target, list) and any(t is candidate or _is_ancestor(view, candidate, t, seen) for t in target):
            return True
    return False


def dynamic_super(call: Call, self_name: str | None) -> str | None:
    """For `super(self.__class__, self).__init__(...)` or `super(type(self), self).__init__(...)`, the
    class argument as written: it names the instance's class, not the one the method is written in."""
    owner = method_owner(call, "__init__")
    made = as_call(owner) if owner is not None and is_super_call(owner) else None
    if made is None or made.keywords or len(made.positional) != 2 or self_name is None:
        return None
    (kind, kind_starred), (instance, instance_starred) = made.positional
    if kind_starred or instance_starred or name_of(instance) != self_name:
        return None
    named = attribute(kind)
    if named is not None and named[1] == "__class__" and name_of(named[0]) == self_name:
        return f"{self_name}.__class__"
    typed = as_call(kind)
    if typed is not None and name_of(typed.func) == "type" and not typed.keywords and len(typed.positional) == 1 \
            and not typed.positional[0][1] and name_of(typed.positional[0][0]) == self_name:
        return f"type({self_name})"
    return None


def dynamic_supers(func: Function, text: str) -> list[tuple[Call, str]]:
    """Each `super(type(self), self).__init__(...)` of the method (not of nested functions), with its
    class argument as written (see dynamic_super). `text`, the file's source, is looked at first."""
    if not _may_have_dynamic_super(text):
        return []
    self_name = first_parameter(func)
    return [(call, kind) for call in calls_in(units(func)) if (kind := dynamic_super(call, self_name)) is not None]


def first_broken_super(view: FileView[C], cls: C, func: Function) -> SuperProblem | None:
    return next((p for call in calls_in(units(func)) if (p := broken_super(view, cls, call)) is not None), None)


def index_of_base_init(view: FileView[C], cls: C, func: Function, *, unseen_counts: bool = True) -> int | None:
    """Which statement of `func`'s body (see nodes.units) first runs a base `__init__` (in any branch),
    if any. A call of a method that itself runs it (`self._setup()`) counts, followed through the class
    and its bases in this file; a method nncheck cannot see (defined in another file) is assumed to."""
    key = ("base init", id(func), unseen_counts)
    if key not in view.answers:
        self_name = first_parameter(func)
        view.answers[key] = next(
            (index for index, unit in enumerate(units(func))
             if _runs_base_init(view, cls, [unit], self_name, {function_name(func)}, unseen_counts)),
            None,
        )
    return view.answers[key]


def _runs_base_init(
    view: FileView[C], cls: C, nodes: Sequence[Node], self_name: str | None, seen: set[str], unseen_counts: bool
) -> bool:
    for call in calls_in(nodes):
        if is_base_init_call(call, self_name) and broken_super(view, cls, call) is None:
            return True
        helper = _helper(view, cls, call, self_name)
        if isinstance(helper, Unseen):
            parts = attribute(call.func)
            inits = external_method_inits(view, cls, parts[1]) if parts is not None else None
            if inits or (inits is None and unseen_counts):
                return True
        elif helper is not None and function_name(helper) not in seen:
            seen.add(function_name(helper))
            instance = _instance_parameter(helper, call, self_name)
            if _runs_base_init(view, cls, units(helper), instance, seen, unseen_counts):
                return True
    return False


def _helper(view: FileView[C], cls: C, call: Call, self_name: str | None) -> Function | Unseen | None:
    """The method that `self.<name>(...)` calls, UNSEEN if it may be defined out of sight, or None."""
    parts = attribute(call.func)
    if parts is None or self_name is None or name_of(parts[0]) != self_name:
        return None
    if parts[1] in module_methods():
        return None  # nn.Module's own methods never run a base __init__
    return find_method(view, cls, parts[1])


def _instance_parameter(helper: Function, call: Call, self_name: str | None) -> str | None:
    """The helper's parameter that receives the instance: its first for a plain method; for a
    classmethod or staticmethod, the one the instance is passed to (`cls._build(self, ...)`)."""
    params = positional_parameters(helper)
    static, klass = has_decorator(helper, "staticmethod"), has_decorator(helper, "classmethod")
    if not (static or klass):
        return params[0] if params else None
    offset = 1 if klass else 0
    for position, (value, starred) in enumerate(call.positional):
        if not starred and name_of(value) == self_name:
            return params[offset + position] if offset + position < len(params) else None
    for keyword, value in call.keywords:
        if keyword is not None and name_of(value) == self_name:
            return keyword
    return None


def adopts_state(func: Function) -> bool:
    """The first statement (after the docstring) is `self.__dict__ = other.__dict__` or
    `self.__dict__.update(other.__dict__)`: the instance takes over an initialised module's state."""
    self_name = first_parameter(func)
    body = [unit for unit in units(func) if not is_docstring(unit)]
    if not body or self_name is None:
        return False
    own = [self_name, "__dict__"]
    assigned = assignment(body[0], annotated=False)
    if assigned is not None:
        state = attribute(assigned[1])
        return [dotted(t) for t in assigned[0]] == [own] and state is not None and state[1] == "__dict__"
    call = as_call(getattr(body[0], "value", None))
    updated = method_owner(call, "update") if call is not None else None
    if updated is None or dotted(updated) != own or call is None or len(call.positional) != 1:
        return False
    state = attribute(call.positional[0][0])
    return state is not None and state[1] == "__dict__"


# What reading another file's method may find: it runs a base __init__ (True), it does not (False),
# or it cannot tell (None: a file that cannot be read, a class that cannot be found).
_NOT_DEFINED = "not defined"
_INIT_CALL = re.compile(r"\.__init__\s*\(")
_SELF_CALL = re.compile(r"\bself\.(\w+)\s*\(")
_HELPER_DEPTH = 10


def external_method_inits(view: FileView[C], cls: C, name: str) -> bool | None:
    """Whether the method `name`, which the class inherits from a class of another file (of the project
    or an installed library), may run a base `__init__`: its text, and that of the methods it calls on
    self, is read there. `self.post_init()` of transformers' PreTrainedModel runs none."""
    found = _from_bases(view.table, cls.info, name, 0, set(), {})
    return None if found == _NOT_DEFINED else found  # type: ignore[return-value]


Answers = dict[tuple[int, str], "bool | None | str"]  # by class and method, within one question


def _from_bases(
    table: Table, info: ClassInfo, name: str, depth: int, seen: set[int], answers: Answers
) -> bool | None | str:
    """What the first base (depth first) that defines `name` says; _NOT_DEFINED if none does."""
    if id(info) in seen:
        return _NOT_DEFINED
    seen.add(id(info))
    unseen = False  # a base that cannot be read: it may define the method
    for parts in info.base_names:
        target = table.resolve_parts(parts) if parts else None
        if isinstance(target, str) and is_known_module(target, table.extra_bases):
            continue  # torch's own classes: their methods run no base __init__ of the user's
        found = table.find(parts) if parts else None
        if found is None:
            unseen = True
            continue
        for base in found.classes:
            answer = _defined(found.table, base, name, depth, seen, answers)
            if answer != _NOT_DEFINED:
                return None if unseen else answer  # a base before it may define the method first
    return None if unseen else _NOT_DEFINED


def _defined(
    table: Table, info: ClassInfo, name: str, depth: int, seen: set[int], answers: Answers
) -> bool | None | str:
    key = (id(info), name)
    if key not in answers:
        answers[key] = False  # a method reached again through its own calls adds nothing of its own
        answers[key] = _look_up(table, info, name, depth, seen, answers)
    return answers[key]


def _look_up(
    table: Table, info: ClassInfo, name: str, depth: int, seen: set[int], answers: Answers
) -> bool | None | str:
    lines = info.method_lines.get(name)
    if lines is None:
        return _from_bases(table, info, name, depth, seen, answers)
    text = _method_text(table.path, lines)
    if text is None:
        return None
    if _INIT_CALL.search(text):
        return True
    if depth >= _HELPER_DEPTH:
        return None
    for called in sorted(set(_SELF_CALL.findall(text)) - module_methods()):
        answer = _defined(table, info, called, depth + 1, set(), answers)
        if answer is True or answer is None:
            return answer
        if answer == _NOT_DEFINED:
            return None  # defined further down, in a subclass perhaps
    return False


def _method_text(path: str | None, lines: tuple[int, int]) -> str | None:
    """The lines of a method after its `def` line, read from the file."""
    if path is None:
        return None
    try:
        stamp = os.stat(path)
    except OSError:
        return None
    source = _file_lines(path, stamp.st_mtime_ns, stamp.st_size)
    return None if source is None else "".join(source[lines[0]:lines[1]])


@functools.lru_cache(maxsize=64)
def _file_lines(path: str, mtime: int, size: int) -> list[str] | None:
    """The file's lines (as of its modification time and size: a language server sees edits)."""
    try:
        return decode(read_bytes(path)).splitlines(keepends=True)
    except SourceError:
        return None
