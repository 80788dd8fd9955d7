"""A file's table: its name bindings, its classes, and which of them are nn.Modules.

Names are resolved through the file's own imports and assignments (and, for names imported from other
files of the project, through a resolver that reads those files' tables). Scopes are flattened: a
name means one thing in the whole file, and a name bound in conflicting ways resolves to nothing.
That costs some recall and never a false "is a module". The table is built from Python's ast, once
per file (see build.py); the checked file's rules see it through views.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Union

from nncheck.model.known_modules import MODULE_ITSELF, PARAMETER_CLASSES, PLAIN_ROOTS, is_known_module


class InitKind(Enum):
    """What a class's own `__init__` (in its body) does."""

    ABSENT = "absent"  # none: the next class's runs
    PASSING = "passing"  # only a docstring, `pass`, `raise` or `super().__init__(...)`: it sets nothing
    OWN = "own"  # anything else


@dataclass(eq=False)
class ClassInfo:
    name: str
    parent: ClassInfo | None  # the class whose body holds this one, if any
    base_names: list[list[str] | None]  # each positional base as a dotted name, None if it is not one
    nested: dict[str, list[ClassInfo]] = field(default_factory=dict)
    init: InitKind = InitKind.ABSENT
    call_super_init: bool = False  # `call_super_init = True` in the body: nn.Module.__init__ calls the next one
    # `metaclass=` other than ABCMeta: it may run nn.Module.__init__ itself (fastai's Module calls it
    # before the subclass's __init__, which then need not).
    metaclass: bool = False
    # For an OWN __init__ that only assigns attributes of the instance (in any branch), their names;
    # None if it does anything else (calls a function, ...).
    init_sets: frozenset[str] | None = None
    # For each positional base written `Name[...]` (`Generic[T]`), the dotted name subscripted; else None.
    subscripted: list[list[str] | None] = field(default_factory=list)
    # The lines (first, last) of each method defined in the body, to read its text when another file's
    # class is asked what a method does (see base_init.external_method_inits).
    method_lines: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def qualname(self) -> str:
        return f"{self.parent.qualname}.{self.name}" if self.parent else self.name


# What a name or dotted expression stands for: a qualified name outside this file, or classes in it.
Target = Union[str, list[ClassInfo], None]


class BindingKind(Enum):
    IMPORT = "import"  # `import x` or `from x import y`: a qualified name outside the file
    ALIAS = "alias"  # `Base = nn.Module`: another dotted name
    CLASS = "class"  # a class statement
    OTHER = "other"  # anything else: the name means nothing nncheck can follow


@dataclass(frozen=True)
class Binding:
    kind: BindingKind
    qualname: str = ""  # for IMPORT
    parts: tuple[str, ...] = ()  # for ALIAS: the right-hand side, a dotted name
    cls: ClassInfo | None = None  # for CLASS


Resolver = Callable[[str], bool]  # is this qualified name an nn.Module class in another file?
# Does the module `from <module> import *` names (qualified, relative ones with their dots) export the
# name path, and is it an nn.Module there?
StarResolver = Callable[[str, list[str]], bool]


@dataclass(frozen=True)
class Found:
    """Classes a name stands for, in the table of the file that defines them."""

    table: Table
    classes: list[ClassInfo]


# The classes a qualified name stands for in another file (of the project or an installed library).
ClassFinder = Callable[[str], Union[Found, None]]
# The classes that `from <module> import *` binds to the name path, as StarResolver asks.
StarClassFinder = Callable[[str, list[str]], Union[Found, None]]


class Table:
    """Resolution over a file's bindings. Whether a class is an nn.Module is worked out once and kept:
    the pre-screen and the rules ask the same table."""

    def __init__(
        self,
        classes: list[ClassInfo],
        bindings: dict[str, list[Binding]],
        extra_bases: frozenset[str] = frozenset(),
        resolver: Resolver | None = None,
        stars: tuple[str, ...] = (),
        exports: frozenset[str] | None = None,
        star_resolver: StarResolver | None = None,
        finders: tuple[ClassFinder, StarClassFinder] | None = None,
    ) -> None:
        self.classes = classes
        self.bindings = bindings
        self.extra_bases = extra_bases
        self._resolver = resolver
        self.stars = stars  # the modules of `from <module> import *`, in order
        self.exports = exports  # the names of a literal `__all__`; None if there is none
        self._star_resolver = star_resolver
        self._is_module: dict[int, bool] = {}
        self._paths: dict[tuple[str, ...], bool] = {}
        self._resolved: dict[tuple[str, ...], Target] = {}
        self._finders = finders
        self.path: str | None = None  # the file, for the tables of other files (see Project)
        self._found: dict[tuple[str, ...], Found | None] = {}
        self._plain: dict[int, bool] = {}
        self._metaclass: dict[int, bool] = {}

    def exports_name(self, name: str) -> bool:
        """Would `from <this module> import *` bind the name (as far as the table shows)?"""
        if self.exports is not None:
            return name in self.exports
        return not name.startswith("_") and (name in self.bindings or bool(self.stars))

    def _through_stars(self, parts: list[str]) -> bool:
        # A name bound nowhere in the file may come from one of its star imports.
        return (
            self._star_resolver is not None and parts[0] not in self.bindings
            and any(self._star_resolver(module, parts) for module in self.stars)
        )

    def resolve_parts(self, parts: list[str]) -> Target:
        # The rules and the screen ask the same few names thousands of times; the table never changes.
        key = tuple(parts)
        if key not in self._resolved:
            self._resolved[key] = self._resolve_parts(parts, frozenset())
        return self._resolved[key]

    def _resolve_parts(self, parts: list[str], seen: frozenset[str]) -> Target:
        head = self._resolve_name(parts[0], seen)
        if isinstance(head, str):
            return ".".join([head, *parts[1:]])
        if not head:
            return None
        classes = head
        for part in parts[1:]:
            inner: list[ClassInfo] = []
            for cls in classes:
                if part not in cls.nested:
                    return None
                inner.extend(cls.nested[part])
            classes = inner
        return classes

    def _resolve_name(self, name: str, seen: frozenset[str]) -> Target:
        bindings = self.bindings.get(name)
        if not bindings or name in seen:
            return None
        if any(b.kind is BindingKind.CLASS for b in bindings):
            if all(b.kind is BindingKind.CLASS for b in bindings):
                return [b.cls for b in bindings if b.cls is not None]
            return None
        targets: list[Target] = []
        for binding in bindings:
            if binding.kind is BindingKind.IMPORT:
                targets.append(binding.qualname)
            elif binding.kind is BindingKind.ALIAS and binding.parts:
                targets.append(self._resolve_parts(list(binding.parts), seen | {name}))
            else:
                return None
        first = targets[0]
        if all(isinstance(t, str) and t == first for t in targets):
            return first
        if all(isinstance(t, list) and t for t in targets):
            return [cls for t in targets if isinstance(t, list) for cls in t]
        return None

    def is_module_class(self, cls: ClassInfo) -> bool:
        key = id(cls)
        if key not in self._is_module:
            self._is_module[key] = False  # a cycle of bases proves nothing
            self._is_module[key] = any(
                self.is_module_target(self.resolve_parts(parts)) or self._through_stars(parts)
                for parts in cls.base_names if parts
            )
        return self._is_module[key]

    def known_not_module(self, cls: ClassInfo) -> bool:
        """Already worked out that `cls` is no nn.Module (asking is_module_class may read other files)."""
        return self._is_module.get(id(cls)) is False

    def is_module_target(self, target: Target) -> bool:
        if isinstance(target, str):
            if is_known_module(target, self.extra_bases):
                return True
            return self._resolver is not None and self._resolver(target)
        return bool(target) and all(self.is_module_class(cls) for cls in target or ())

    def is_module_path(self, parts: list[str]) -> bool:
        """Is the name `parts` (such as ["Outer", "Inner"]) here an nn.Module? (another file asking)"""
        key = tuple(parts)
        if key not in self._paths:
            # Kept: other files ask the same of a library's __init__.py again and again.
            self._paths[key] = bool(parts) and (
                self.is_module_target(self.resolve_parts(parts)) or self._through_stars(parts)
            )
        return self._paths[key]

    def find(self, parts: list[str]) -> Found | None:
        """The classes the name `parts` stands for, here or in the file that defines them; None if they
        cannot be found (a library that is not installed, torch, a name bound some other way)."""
        key = tuple(parts)
        if key not in self._found:
            self._found[key] = None  # an import cycle finds nothing
            self._found[key] = self._find(parts)
        return self._found[key]

    def _find(self, parts: list[str]) -> Found | None:
        target = self.resolve_parts(parts)
        if isinstance(target, list):
            return Found(self, target) if target else None
        if self._finders is None:
            return None
        if isinstance(target, str):
            return self._finders[0](target)
        if parts[0] not in self.bindings:
            for module in self.stars:
                found = self._finders[1](module, parts)
                if found is not None:
                    return found
        return None

    def is_plain(self, cls: ClassInfo) -> bool:
        """`cls` is certainly no nn.Module: every class it derives from was found and is none, up to
        `object`, `ABC`, `Generic[...]` or `Protocol`."""
        key = id(cls)
        if key not in self._plain:
            self._plain[key] = False  # a cycle of bases proves nothing
            self._plain[key] = not self.is_module_class(cls) and all(
                self.is_plain_name(parts or (cls.subscripted[i] if i < len(cls.subscripted) else None))
                for i, parts in enumerate(cls.base_names)
            )
        return self._plain[key]

    def is_plain_name(self, parts: list[str] | None) -> bool:
        """The name `parts` stands for certainly plain classes (see is_plain), or `object`, `ABC`, ..."""
        if not parts:
            return False
        if parts == ["object"] and "object" not in self.bindings:
            return True
        target = self.resolve_parts(parts)
        if isinstance(target, str) and target in PLAIN_ROOTS:
            return True
        found = self.find(parts)
        return found is not None and all(found.table.is_plain(cls) for cls in found.classes)

    def init_owner(self, cls: ClassInfo, seen: frozenset[int] = frozenset()) -> tuple[Table, ClassInfo] | None:
        """The class whose `__init__` an instance of the plain class `cls` (see is_plain) runs first:
        `cls` itself if it has one, else the first found along its bases, depth first; None if none has."""
        if cls.init is not InitKind.ABSENT:
            return self, cls
        if id(cls) in seen:
            return None
        for table, base in self._bases(cls):
            owner = table.init_owner(base, seen | {id(cls)})
            if owner is not None:
                return owner
        return None

    def initialised_by_metaclass(self, cls: ClassInfo) -> bool:
        """`cls` or a class along its bases (found here or in other files) names a metaclass that may run
        nn.Module.__init__ before the class's own `__init__` (see ClassInfo.metaclass)."""
        key = id(cls)
        if key not in self._metaclass:
            self._metaclass[key] = False  # a cycle of bases proves nothing
            self._metaclass[key] = cls.metaclass or any(
                table.initialised_by_metaclass(base) for table, base in self._bases(cls)
            )
        return self._metaclass[key]

    def _bases(self, cls: ClassInfo) -> Iterator[tuple[Table, ClassInfo]]:
        """The classes `cls`'s bases stand for, with their tables, where they can be found. A class of
        this file is taken as it is: find() would keep a note that refers back to this table (a cycle)."""
        for i, parts in enumerate(cls.base_names):
            parts = parts or (cls.subscripted[i] if i < len(cls.subscripted) else None)
            if not parts:
                continue
            target = self.resolve_parts(parts)
            if isinstance(target, list):
                yield from ((self, base) for base in target)
                continue
            found = self.find(parts)
            if found is not None:
                yield from ((found.table, base) for base in found.classes)

    def is_module_itself(self, parts: list[str] | None) -> bool:
        """The dotted name names torch.nn.Module itself, not a subclass."""
        target = self.resolve_parts(parts) if parts else None
        return isinstance(target, str) and target in MODULE_ITSELF

    def parameter_class(self, parts: list[str] | None) -> str | None:
        """"Parameter" or "Buffer" (and the like) when the dotted name names torch's class of that name."""
        target = self.resolve_parts(parts) if parts else None
        return target.rsplit(".", 1)[-1] if isinstance(target, str) and target in PARAMETER_CLASSES else None

    def spelling_of(self, qualified_name: str) -> str | None:
        """How this file can name `qualified_name` through its own imports (`nn.ModuleList` for
        torch.nn.ModuleList after `from torch import nn`), or None."""
        for name in sorted(self.bindings):
            target = self._resolve_name(name, frozenset())
            if not isinstance(target, str):
                continue
            if qualified_name == target:
                return name
            if qualified_name.startswith(target + "."):
                return name + qualified_name[len(target):]
        return None


class TableBuilder:
    """The binding policy: a walker reports the file's syntax through these methods."""

    def __init__(self) -> None:
        self.classes: list[ClassInfo] = []
        self.bindings: dict[str, list[Binding]] = {}
        self._class_stack: list[ClassInfo | None] = []  # None marks a function body
        self.stars: list[str] = []
        self.exports: set[str] | None = None
        self._exports_known = True

    def table(
        self, extra_bases: frozenset[str] = frozenset(), resolver: Resolver | None = None,
        star_resolver: StarResolver | None = None, finders: tuple[ClassFinder, StarClassFinder] | None = None,
    ) -> Table:
        exports = frozenset(self.exports) if self.exports is not None and self._exports_known else None
        return Table(
            self.classes, self.bindings, extra_bases, resolver, tuple(self.stars), exports, star_resolver, finders
        )

    def star_import(self, module: str) -> None:
        if not self._class_stack:
            self.stars.append(module)

    def bind_exports(self, names: list[str] | None, extend: bool) -> None:
        """`__all__ = [...]` (or `+=`) at module level; None: a value that is not a literal list of names."""
        if self._class_stack:
            return
        if names is None:
            self._exports_known = False
            return
        self.exports = (self.exports or set()) | set(names) if extend else set(names)

    def _bind(self, name: str, binding: Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)

    def _in_function(self) -> bool:
        return None in self._class_stack

    def bind_import(self, local: str, qualname: str) -> None:
        self._bind(local, Binding(BindingKind.IMPORT, qualname=qualname))

    def bind_other(self, names: list[str]) -> None:
        # Local variables rarely collide with imports; only module-level rebinding makes a name ambiguous.
        if not self._class_stack:
            for name in names:
                self._bind(name, Binding(BindingKind.OTHER))

    def bind_assignment(self, target: str | None, value_parts: list[str] | None, value_is_none: bool) -> None:
        """`target = value` (target None: not a plain name). Aliases such as `Base = nn.Module` count
        outside functions; `nn = None` after a failed optional import leaves the import's meaning."""
        if self._in_function():
            return
        if target is not None and value_is_none:
            return
        if target is not None and value_parts:
            self._bind(target, Binding(BindingKind.ALIAS, parts=tuple(value_parts)))
        elif target is not None:
            self.bind_other([target])

    def enter_class(
        self, name: str, base_names: list[list[str] | None], subscripted: list[list[str] | None] | None = None,
        init: tuple[InitKind, frozenset[str] | None] = (InitKind.ABSENT, None), call_super_init: bool = False,
        metaclass: bool = False,
    ) -> ClassInfo:
        parent = self._class_stack[-1] if self._class_stack else None
        info = ClassInfo(name=name, parent=parent, base_names=base_names, init=init[0], init_sets=init[1],
                         call_super_init=call_super_init, subscripted=subscripted or [], metaclass=metaclass)
        if parent is not None:
            parent.nested.setdefault(name, []).append(info)
        self.classes.append(info)
        self._bind(name, Binding(BindingKind.CLASS, cls=info))
        self._class_stack.append(info)
        return info

    def enter_function(self, name: str, parameters: list[str]) -> None:
        self.bind_other([name])
        # A parameter that shadows an import (`def make(nn): class A(nn.Module)`) makes the name uncertain.
        for parameter in parameters:
            self._bind(parameter, Binding(BindingKind.OTHER))
        self._class_stack.append(None)

    def leave_scope(self) -> None:
        self._class_stack.pop()


def imported_name(dots: str, package: str, name: str) -> str:
    """The qualified name `from <dots><package> import <name>` binds (relative ones keep their dots)."""
    return f"{dots}{package}.{name}" if package else f"{dots}{name}"
