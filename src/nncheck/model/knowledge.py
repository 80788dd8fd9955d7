"""What a value certainly is, for an expression in a scope (see model/values.py for the kinds): the
one answer every rule asks.

A name's value is the join of the bindings of it that may reach the statement asked about
(model/scope_bindings.py): assignments, parameters and their annotations, loop and `with` targets,
unpacking. Bindings of one kind keep the kind, bindings of different kinds give UNKNOWN, and a
binding that refers to the name itself (`x = x + 1`, `model = model.to(device)`) is worked out to a
fixpoint. A `del` binds nothing. Names a scope does not bind are looked up in the enclosing
functions, then the module. Where a name's bindings leave it unknown (a parameter without
annotation, a loop or `with` target, a call nncheck cannot follow), its uses in the scope may still
settle it: calling `parameters()` or `eval()` on it makes it a module, passing it to a torch layer or
computing with a certain tensor makes it a tensor, reading its `.shape` an array (see `Evidence`).

Written once for both trees: the pre-screen asks about Python's ast, the rules about libcst's tree,
and both get the same answers. Worked out per scope, and only when a rule asks.
"""

from __future__ import annotations

import ast
import contextlib
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Union

import libcst as cst

from nncheck.model.known_modules import PARAMETER_CLASSES, RETURNING_SELF, STATELESS_LAYERS, pure_functions, \
    tensor_methods, torch_layer
from nncheck.model.scope_bindings import Binding, Collector, Scope, Strength, reaching, strength, target_paths
from nncheck.model.table import ClassInfo
from nncheck.model.value_sources import (
    ARRAY_ATTRIBUTES,
    ARRAY_METHODS,
    AUTO_MODELS,
    ITERATED,
    ITERATED_MODULES,
    LAYERS_WITH_CHILDREN,
    LOADERS,
    MODEL_BUILDERS,
    MODULE_CONTAINERS,
    MODULE_EVIDENCE,
    MODULE_ONLY,
    MORE_TENSOR_METHODS,
    NEW_TENSOR_METHODS,
    NOT_INSTANCE_METHODS,
    NOT_MODEL_BUILDERS,
    NOT_ONE_TENSOR,
    NOT_TENSOR_FIRST,
    PARAMETER_CONTAINERS,
    PASSING_THROUGH,
    RANDOM_FACTORIES,
    REGISTERING,
    TENSOR_LAYERS,
    TENSOR_ONLY_METHODS,
    TENSOR_TYPES,
)
from nncheck.model.values import BATCH, GRAD_TENSOR, PARAMETER, TENSOR, UNKNOWN, Kind, Value, iterate, join, unpack
from nncheck.syntax.expressions import (
    binary,
    constant_index,
    generic,
    is_ellipsis,
    is_slice,
    matmul,
    numeric_arguments,
    string_index,
)
from nncheck.syntax.nodes import (
    Call,
    ClassNode,
    Expr,
    Function,
    Node,
    Display,
    Unit,
    added,
    as_call,
    assignment,
    attribute,
    blocks,
    boolean,
    conditional,
    declared,
    decorators,
    display,
    dotted,
    first_parameter,
    function_name,
    generators,
    is_function,
    is_scope,
    is_string,
    methods,
    name_of,
    negated_operand,
    pairs,
    parameter_annotations,
    parameters,
    return_annotation,
    statements,
    string_value,
    subscript_owner,
    units,
    walk,
    walrus,
)

if TYPE_CHECKING:
    from nncheck.model.views import FileView

_DEPTH = 40  # deeper than any real chain of names: a cycle nncheck did not cut proves nothing

Owner = Union[Function, ClassNode, None]  # a scope: a function, a class body, or the module (None)

# How a `global` statement starts: the keyword and a space, a tab or a line continuation.
_GLOBAL_SPELLINGS = ("global ", "global\t", "global\\")


_Assigned = tuple[Expr, "Owner", int]  # a value assigned to an attribute, the scope, the statement


@dataclass
class Evidence:
    """What a scope's uses of its names show."""

    tensors: set[str] = field(default_factory=set)
    modules: set[str] = field(default_factory=set)
    not_tensors: set[str] = field(default_factory=set)
    arrays: set[str] = field(default_factory=set)


class Knowledge:
    """The answers for one file, in one tree: asked through `of` (see FileView.values)."""

    def __init__(self, view: FileView) -> None:  # type: ignore[type-arg]
        # The view keeps this object: a strong reference back would make a cycle, which only the
        # garbage collector's full passes free (see engine/collector.py).
        self._view_ref = weakref.ref(view)
        self._tree = view.tree
        self._scopes: dict[int, Scope] = {}
        self._parents: dict[int, Owner] | None = None
        self._classes_of_methods: dict[int, ClassInfo] | None = None
        self._functions: dict[str, list[Function]] | None = None
        self._attributes: dict[int, dict[str, list[_Assigned]]] = {}
        self._declared: dict[int, dict[str, Expr]] = {}
        self._children: dict[int, bool] = {}
        self._attribute_uses: dict[int, set[str]] = {}
        self._mixins: dict[int, bool] = {}
        self._memo: dict[tuple[int, str, int], Value] = {}
        # The statement, per scope, at which its names are being asked (see reaching).
        self._points: dict[int, int] = {}
        # Names and attributes being worked out, with what they are taken to hold meanwhile.
        self._active: dict[tuple[object, ...], Value | None] = {}
        self._consulted: set[tuple[object, ...]] = set()
        self._learning = 0  # while a scope's evidence is worked out, no evidence is used
        self._depth = 0

    @property
    def _view(self) -> FileView:  # type: ignore[type-arg]
        view = self._view_ref()
        assert view is not None  # asked only through the view
        return view

    # -- the questions -------------------------------------------------------------------------

    def of(self, expr: Expr, owner: Owner, at: Node | None = None) -> Value:
        """What `expr`, written in the scope `owner`, certainly is; with `at`, the statement of that
        scope it is written in, only the bindings that may reach that statement count."""
        if at is None:
            return self._eval(expr, owner) or UNKNOWN
        with self._at(owner, id(at)):
            return self._eval(expr, owner) or UNKNOWN

    @contextlib.contextmanager
    def _at(self, owner: Owner, statement: int) -> Iterator[None]:
        key = id(owner) if owner is not None else 0
        saved = self._points.get(key)
        self._points[key] = statement
        try:
            yield
        finally:
            if saved is None:
                del self._points[key]
            else:
                self._points[key] = saved

    def name(self, name: str, owner: Owner) -> Value:
        return self._name(name, owner, None) or UNKNOWN

    def is_module(self, expr: Expr, owner: Owner) -> bool:
        return self.of(expr, owner).is_module

    def is_tensor(self, expr: Expr, owner: Owner) -> bool:
        return self.of(expr, owner).is_tensor

    def attribute_of(self, cls: ClassInfo, attr: str) -> Value:
        """What `self.<attr>` certainly is in the methods of `cls`."""
        return self._attribute((cls,), attr) or UNKNOWN

    def has_children(self, value: Value) -> bool:
        """A module that certainly holds submodules: a container given some, a builder's model, an
        instance of a class of this file whose `__init__` (or a base's) assigns one."""
        if value.children:
            return True
        return value.is_module and bool(value.classes) and all(self._class_children(cls) for cls in value.classes)

    def iterated(self, value: Value) -> Value:
        """What iterating the value gives."""
        return iterate(value) or UNKNOWN

    def returns(self, func: Function) -> Value:
        """What calling the function gives: what its return annotation says, else what every one of
        its `return` statements gives (a generator, or a bare `return`, gives nothing known)."""
        annotation = return_annotation(func)
        if annotation is not None:
            said = self._annotation(annotation)
            if said != UNKNOWN:
                return said
        return self._fixpoint(("returns", id(func)), lambda: self._returned(func)) or UNKNOWN

    def _returned(self, func: Function) -> Value | None:
        result: Value | None = None
        returned = False
        for node in walk(units(func)):
            if isinstance(node, (ast.Yield, ast.YieldFrom, cst.Yield)):
                return UNKNOWN
            if isinstance(node, (ast.Return, cst.Return)):
                if node.value is None:
                    return UNKNOWN
                returned = True
                with self._at(func, id(node)):
                    result = join(result, self._eval(node.value, func))
        return result if returned else UNKNOWN

    # -- names ---------------------------------------------------------------------------------

    def _name(self, name: str, owner: Owner, env: dict[str, Value] | None) -> Value | None:
        if env is not None and name in env:
            return env[name]
        scope = self._scope(owner)
        while True:
            if name in scope.globals:
                scope = self._scope(None)
            if name in scope.bindings:
                return self._bound(scope, name)
            if scope.owner is None:
                return UNKNOWN  # a builtin, or a star import's
            scope = self._scope(self._parent(scope.owner))

    def _bound(self, scope: Scope, name: str) -> Value | None:
        scope_key = id(scope.owner) if scope.owner is not None else 0
        point = self._points.get(scope_key, 0)
        key = (scope_key, name, point)
        if key in self._memo:
            return self._memo[key]
        bindings = scope.bindings[name]
        if point:
            bindings = reaching(scope.positions, bindings, point)
        result = self._fixpoint(("name", *key), lambda: self._join_bindings(scope, name, bindings))
        if not self._active and not self._learning:
            self._memo[key] = result or UNKNOWN
        return result

    def _fixpoint(self, guard: tuple[object, ...], work: Callable[[], Value | None]) -> Value | None:
        """The value of a name (or attribute) whose bindings may refer to it (`x = x.view(3)`): worked
        out first with it holding nothing, then again with what that gave, until it stays the same."""
        if guard in self._active:
            self._consulted.add(guard)
            return self._active[guard]
        approximation: Value | None = None
        try:
            for _ in range(4):
                self._active[guard] = approximation
                self._consulted.discard(guard)
                result = work()
                if guard not in self._consulted or result == approximation:
                    return result
                approximation = result
            return UNKNOWN  # still changing: proves nothing
        finally:
            del self._active[guard]
            self._consulted.discard(guard)

    def _join_bindings(self, scope: Scope, name: str, bindings: list[Binding]) -> Value | None:
        settled: Value | None = None
        unsettled: list[Strength] = []
        for binding in bindings:
            if binding.statement:
                with self._at(scope.owner, binding.statement):
                    value = self._binding(scope, binding)
            else:
                value = self._binding(scope, binding)
            if value is None:
                continue
            if value.kind is Kind.UNKNOWN and not value.classes:
                unsettled.append(strength(binding))
            else:
                settled = join(settled, value)
        return self._settle(scope, name, settled, unsettled)

    def _settle(self, scope: Scope, name: str, settled: Value | None, unsettled: list[Strength]) -> Value | None:
        """The bindings' join, or what the uses show where some binding leaves the name unknown."""
        wanted = unsettled or (settled is not None and settled.is_tensor)
        evidence = self._evidence(scope) if wanted and not self._learning else None
        if settled is not None and settled.is_tensor and evidence is not None and name in evidence.not_tensors:
            return UNKNOWN  # bound to a tensor but used as something else: scopes are read flat
        if not unsettled:
            return settled
        if evidence is None or Strength.CLOSED in unsettled:
            return UNKNOWN
        if name in evidence.modules and (settled is None or settled.is_module):
            return settled or Value(Kind.MODULE)
        if name in evidence.tensors and name not in evidence.not_tensors and name not in evidence.modules \
                and all(s is Strength.OPEN for s in unsettled) and (settled is None or settled.is_tensor):
            return settled or TENSOR
        if name in evidence.arrays and name not in evidence.modules and (settled is None or settled.is_tensor):
            return settled or Value(Kind.ARRAY)
        return UNKNOWN

    def _binding(self, scope: Scope, binding: Binding) -> Value | None:
        how, owner = binding.how, scope.owner
        if how == "value" and binding.expr is not None:
            return self._eval(binding.expr, owner)
        if how == "augmented" and binding.expr is not None:
            other = self._eval(binding.expr, owner)
            # `x += y`: x itself adds nothing (it is what is being worked out); a tensor y makes a tensor.
            return TENSOR if other is not None and other.is_tensor else None
        if how == "parameter":
            if binding.instance_of is not None:
                cls = binding.instance_of
                module = self._view.table.is_module_class(cls) or self._mixed_into_module(cls)
                return Value(Kind.MODULE if module else Kind.OBJECT, classes=(cls,))
            return self._annotation(binding.expr) if binding.expr is not None else UNKNOWN
        if how in ("loop", "unpack") and binding.expr is not None:
            value = self._eval(binding.expr, owner)
            if how == "loop":
                value = iterate(value) if value is not None else None
            for index, size in zip(binding.path, binding.sizes):
                if value is None:
                    return None
                value = unpack(value, index, size)
            return value
        return UNKNOWN

    # -- expressions ---------------------------------------------------------------------------

    def _eval(self, expr: Expr, owner: Owner, env: dict[str, Value] | None = None) -> Value | None:
        if self._depth > _DEPTH:
            return UNKNOWN
        self._depth += 1
        try:
            return self._evaluate(expr, owner, env)
        finally:
            self._depth -= 1

    def _evaluate(self, expr: Expr, owner: Owner, env: dict[str, Value] | None) -> Value | None:
        name = name_of(expr)
        if name is not None:
            return self._name(name, owner, env)
        call = as_call(expr)
        if call is not None:
            positional = [value for value, starred in call.positional if not starred]
            starred = len(positional) != len(call.positional)
            return self._call(call.func, positional, starred, call.keywords, owner, env)
        parts = attribute(expr)
        if parts is not None:
            return self._attribute_of_expr(parts[0], parts[1], owner, env)
        owned = subscript_owner(expr)
        if owned is not None:
            return self._subscript(expr, owned, owner, env)
        operands = binary(expr)
        if operands is not None:
            return self._arithmetic(expr, operands[0], operands[1], owner, env)
        operand = negated_operand(expr)
        if operand is not None:
            value = self._eval(operand, owner, env)
            if value is None:
                return None
            return TENSOR if value.is_tensor else UNKNOWN
        branches = conditional(expr)
        if branches is not None:
            return join(self._eval(branches[0], owner, env), self._eval(branches[1], owner, env))
        named = walrus(expr)
        if named is not None:
            return self._eval(named[1], owner, env)
        return self._displayed(expr, owner, env)

    def _displayed(self, expr: Expr, owner: Owner, env: dict[str, Value] | None) -> Value:
        shown = display(expr)
        if shown is None:
            if isinstance(expr, (ast.GeneratorExp, cst.GeneratorExp)):  # `(f(x) for x in xs)`
                shown = Display("list", [expr.elt], False, True)
                kind = Kind.ITERABLE
            else:
                return UNKNOWN
        else:
            kind = {"list": Kind.LIST, "tuple": Kind.TUPLE, "dict": Kind.DICT, "set": Kind.SET}[shown.kind]
        if shown.comprehension:
            inner = dict(env or {})
            for target, iterable in generators(expr) or ():
                iterated = self._eval(iterable, owner, inner)
                _bind_target(target, (iterate(iterated) if iterated is not None else None) or UNKNOWN, inner)
            return Value(kind, items=self._eval(shown.values[0], owner, inner) or UNKNOWN)
        values = [self._eval(value, owner, env) or UNKNOWN for value in shown.values]
        items: Value | None = None
        for value in values:
            items = join(items, value)
        if shown.unpacks:
            items = UNKNOWN
        shape = tuple(values) if kind is Kind.TUPLE and not shown.unpacks else None
        return Value(kind, items=items, elements=shape)

    def _arithmetic(
        self, expr: Expr, left: Expr, right: Expr, owner: Owner, env: dict[str, Value] | None
    ) -> Value | None:
        if is_string(left) or is_string(right):
            return UNKNOWN  # `"%s" % x` formats
        a, b = self._eval(left, owner, env), self._eval(right, owner, env)
        if (a is not None and a.is_tensor) or (b is not None and b.is_tensor):
            return TENSOR
        if (a is not None and a.kind is Kind.ARRAY) or (b is not None and b.kind is Kind.ARRAY) or matmul(expr):
            return Value(Kind.ARRAY)
        if a is None or b is None:
            return None
        if a.kind is b.kind and a.kind in (Kind.LIST, Kind.TUPLE) and added(expr) is not None:
            return Value(a.kind, items=join(a.items, b.items))
        return UNKNOWN

    def _subscript(self, expr: Expr, owned: Expr, owner: Owner, env: dict[str, Value] | None) -> Value | None:
        value = self._eval(owned, owner, env)
        if value is None:
            return None
        if value.is_tensor:
            return UNKNOWN if string_index(expr) else TENSOR
        if value.kind is Kind.BATCH:
            return TENSOR
        if value.kind in (Kind.LIST, Kind.TUPLE) and is_slice(expr):
            return Value(value.kind, items=value.items)  # `rep[1:]` is a list too
        if value.kind is Kind.TUPLE and value.elements is not None:
            index = constant_index(expr)
            if index is not None and -len(value.elements) <= index < len(value.elements):
                return value.elements[index]
        if value.kind in (Kind.LIST, Kind.TUPLE, Kind.DICT, Kind.MODULE) and value.items is not None:
            if is_slice(expr):
                return value if value.kind is not Kind.DICT else UNKNOWN
            return value.items
        return UNKNOWN

    def _attribute_of_expr(self, base: Expr, attr: str, owner: Owner, env: dict[str, Value] | None) -> Value | None:
        if attr in ("data", "grad"):
            return TENSOR
        if attr == "_modules":
            return Value(Kind.DICT, items=Value(Kind.MODULE))
        value = self._eval(base, owner, env)
        if value is None:
            return None
        if value.is_tensor and attr in ("T", "mT", "H", "mH", "real", "imag"):
            return TENSOR
        if value.classes:
            decided, local = self._attribute_here(base, attr, owner, value.classes)
            return local if decided else self._attribute(value.classes, attr)
        return UNKNOWN

    def _attribute_here(
        self, base: Expr, attr: str, owner: Owner, classes: tuple[ClassInfo, ...]
    ) -> tuple[bool, Value | None]:
        """(True, its value) for `self.<attr>` at the statement asked about when assignments of this
        method that reach it decide it (`self.layers = []` ... `nn.Sequential(self.layers)` then
        `self.layers = ...`); (False, None) when the value may come from outside the method."""
        if not is_function(owner) or len(classes) != 1 or name_of(base) != _instance_parameter(owner):
            return False, None
        point = self._points.get(id(owner))
        local = [Binding("value", value, statement=statement)
                 for value, scope, statement in self._assigned_attributes(classes[0]).get(attr, ()) if scope is owner]
        if not point or not local:
            return False, None
        reached = reaching(self._scope(owner).positions, [Binding("parameter"), *local], point)
        if any(binding.statement == 0 for binding in reached):
            return False, None  # no assignment of the method always runs before the point
        assigned: list[_Assigned] = [
            (binding.expr, owner, binding.statement) for binding in reached if binding.expr is not None
        ]
        return True, self._join_assigned(classes[0], attr, assigned)

    def _call(
        self, func: Expr, positional: list[Expr], starred: bool, keywords: Sequence[tuple[str | None, Expr]],
        owner: Owner, env: dict[str, Value] | None,
    ) -> Value | None:
        parts = dotted(func)
        if parts is not None and not (env is not None and parts[0] in env):
            made = self._construction(parts, positional, starred, keywords, owner, env)
            if made is not None:
                return made
        method = attribute(func)
        if method is not None:
            return self._method(method[0], method[1], positional, keywords, owner, env)
        called = self._eval(func, owner, env)
        return self._called(called) if called is not None else None

    def _construction(
        self, parts: list[str], positional: list[Expr], starred: bool, keywords: Sequence[tuple[str | None, Expr]],
        owner: Owner, env: dict[str, Value] | None,
    ) -> Value | None:
        """What calling the dotted name `parts` gives, when the name says it (a class, a torch function);
        None when the name does not (a method of a value, a variable)."""
        table = self._view.table
        local = self._local_scope(parts[0], owner)
        if local is not None:
            if len(parts) == 1:
                defined = [b.function for b in local.bindings[parts[0]] if b.function is not None]
                if len(defined) == 1 and len(local.bindings[parts[0]]) == 1:
                    return self.returns(defined[0])  # a function defined in the function
            return None
        target = table.resolve_parts(parts)
        if isinstance(target, list):
            if not target:
                return UNKNOWN
            if all(table.is_module_class(cls) for cls in target):
                return Value(Kind.MODULE, classes=tuple(target))
            if not any(table.is_module_class(cls) for cls in target):
                return Value(Kind.OBJECT, classes=tuple(target))
            return UNKNOWN
        if isinstance(target, str):
            return self._library_call(target, parts, positional, starred, keywords, owner, env)
        if parts[0] in table.bindings or len(parts) > 1:
            return self._function_result(parts[0]) if len(parts) == 1 else None
        return self._builtin(parts[0], positional, owner, env)

    def _local_scope(self, name: str, owner: Owner) -> Scope | None:
        """The function scope around `owner` that binds `name` (a local variable, not a module-level
        name), if any."""
        scope = self._scope(owner)
        while scope.owner is not None:
            if name in scope.globals:
                return None
            if name in scope.bindings and not isinstance(scope.owner, (ast.ClassDef, cst.ClassDef)):
                return scope
            scope = self._scope(self._parent(scope.owner))
        return None

    def _library_call(
        self, target: str, parts: list[str], positional: list[Expr], starred: bool,
        keywords: Sequence[tuple[str | None, Expr]], owner: Owner, env: dict[str, Value] | None,
    ) -> Value | None:
        table = self._view.table
        if target in PASSING_THROUGH and positional:
            return self._eval(positional[0], owner, env)
        if target in PARAMETER_CLASSES:
            return PARAMETER if target.rsplit(".", 1)[-1] == "Parameter" else TENSOR
        if target in TENSOR_TYPES:
            # torch.Tensor(3, requires_grad=True) raises; Variable takes it.
            return GRAD_TENSOR if target.endswith(".Variable") and _asks_for_grad(keywords) else TENSOR
        if target in LOADERS:
            return Value(Kind.LOADER)
        if table.is_module_path(parts):
            return self._module_value(target, positional, starred, keywords, owner, env)
        if target.startswith(MODEL_BUILDERS):
            if target.rsplit(".", 1)[-1] in NOT_MODEL_BUILDERS:
                return UNKNOWN
            return Value(Kind.MODULE, children=True)
        if target.startswith("torch."):
            last = target.rsplit(".", 1)[-1]
            if last in NOT_ONE_TENSOR:
                return UNKNOWN
            if target in pure_functions() or (target.count(".") == 1 and last in RANDOM_FACTORIES):
                return GRAD_TENSOR if _asks_for_grad(keywords) else TENSOR
            return UNKNOWN
        if (target == "tqdm" or target.startswith("tqdm.")) and positional:
            wrapped = self._eval(positional[0], owner, env)
            return wrapped if wrapped is not None and wrapped.kind is Kind.LOADER else UNKNOWN
        if parts[-1] == "from_pretrained" and len(parts) > 1 and self._pretrained_name(parts[:-1]):
            return Value(Kind.MODULE, children=True)
        return UNKNOWN

    def _pretrained(self, receiver: Expr) -> bool:
        parts = dotted(receiver)
        return parts is not None and self._pretrained_name(parts)

    def _pretrained_name(self, parts: list[str]) -> bool:
        """`X` of `X.from_pretrained(...)` gives a model: a module class, or transformers' AutoModel*."""
        target = self._view.table.resolve_parts(parts)
        if isinstance(target, str) and target.startswith(AUTO_MODELS):
            return True
        return self._view.table.is_module_path(parts)

    def _module_value(
        self, target: str, positional: list[Expr], starred: bool, keywords: Sequence[tuple[str | None, Expr]],
        owner: Owner, env: dict[str, Value] | None,
    ) -> Value:
        layer = torch_layer(target)
        if layer is None:
            return Value(Kind.MODULE)
        if layer in MODULE_CONTAINERS or layer in PARAMETER_CONTAINERS:
            held = Value(Kind.MODULE) if layer in MODULE_CONTAINERS else PARAMETER
            given = [self._eval(value, owner, env) or UNKNOWN for value in positional]
            if layer == "Sequential":
                children = any(value.is_module for value in given) or starred
            else:
                children = any(value.items is not None and value.items.is_module for value in given)
            return Value(Kind.MODULE, items=held, layer=layer, children=children and layer in MODULE_CONTAINERS)
        stateless = layer in STATELESS_LAYERS or (
            layer.endswith(("Loss", "Loss2d")) and not positional and not starred
            and not any(keyword in ("weight", "pos_weight", None) for keyword, _ in keywords)
        )
        return Value(Kind.MODULE, layer=layer, children=layer in LAYERS_WITH_CHILDREN, stateless=stateless)

    def _builtin(self, name: str, positional: list[Expr], owner: Owner, env: dict[str, Value] | None) -> Value | None:
        given = [self._eval(value, owner, env) for value in positional]
        if any(value is None for value in given):
            return None
        values = [value or UNKNOWN for value in given]
        if name == "enumerate" and values:
            return Value(Kind.ITERABLE, items=Value(Kind.TUPLE, elements=(UNKNOWN, iterate(values[0]) or UNKNOWN)))
        if name == "zip" and values:
            return Value(Kind.ITERABLE, items=Value(Kind.TUPLE, elements=tuple(iterate(v) or UNKNOWN for v in values)))
        if name in ("filter", "map") and len(values) == 2:
            return Value(Kind.ITERABLE, items=iterate(values[1]) if name == "filter" else None)
        if name in ("list", "tuple", "sorted", "reversed", "iter", "set"):
            kinds = {"list": Kind.LIST, "sorted": Kind.LIST, "tuple": Kind.TUPLE, "set": Kind.SET}
            kind = kinds.get(name, Kind.ITERABLE)
            return Value(kind, items=iterate(values[0]) if values else None)
        if name == "dict" and not values:
            return Value(Kind.DICT)
        if name == "next" and values:
            return iterate(values[0]) or UNKNOWN
        return UNKNOWN

    def _function_result(self, name: str) -> Value | None:
        """What calling a function of this module gives, as its return annotation says; None if the
        name is not (only) a function's."""
        if self._functions is None:
            self._functions = {}
            for unit in units(self._tree):
                if is_function(unit):
                    self._functions.setdefault(function_name(unit), []).append(unit)
        found = self._functions.get(name, [])
        bindings = self._view.table.bindings.get(name, [])
        if not found:
            return None
        if len(found) != 1 or len(bindings) != 1:
            return UNKNOWN
        return self.returns(found[0])

    def _method(
        self, receiver: Expr, method: str, positional: list[Expr], keywords: Sequence[tuple[str | None, Expr]],
        owner: Owner, env: dict[str, Value] | None,
    ) -> Value | None:
        if method in ITERATED:
            return Value(Kind.ITERABLE, items=ITERATED[method])
        if method == "from_pretrained" and self._pretrained(receiver):
            return Value(Kind.MODULE, children=True)
        value = self._eval(receiver, owner, env)
        if value is None:
            return None
        if value.is_module:
            if method in RETURNING_SELF:
                return value
            if method in ITERATED_MODULES:
                return Value(Kind.ITERABLE, items=ITERATED_MODULES[method])
            if method == "values" and value.items is not None:
                return Value(Kind.ITERABLE, items=value.items)
        if value.is_tensor:
            if method == "requires_grad_":  # gives the tensor itself
                if value.kind is Kind.PARAMETER:
                    return value
                wanted = positional[0] if positional else next((v for k, v in keywords if k == "requires_grad"), None)
                return GRAD_TENSOR if wanted is None or boolean(wanted) is True else TENSOR
            if method in NEW_TENSOR_METHODS and _asks_for_grad(keywords):
                return GRAD_TENSOR
            if method in tensor_methods() or method in MORE_TENSOR_METHODS:
                return TENSOR
            return UNKNOWN
        if value.kind is Kind.BATCH and method in ("to", "cuda", "cpu", "float", "half", "double", "long"):
            return BATCH
        if value.kind is Kind.ARRAY:
            if method in TENSOR_ONLY_METHODS or method in ("cuda", "float", "half", "double", "long", "to", "detach"):
                return TENSOR  # numpy's arrays have none of these
            return Value(Kind.ARRAY) if method in tensor_methods() or method in MORE_TENSOR_METHODS else UNKNOWN
        if value.kind is Kind.DICT and method == "values" and value.items is not None:
            return Value(Kind.ITERABLE, items=value.items)
        if value.kind is Kind.DICT and method == "items" and value.items is not None:
            return Value(Kind.ITERABLE, items=Value(Kind.TUPLE, elements=(UNKNOWN, value.items)))
        if value.classes:
            if all(self._find_method(cls, method) is not None for cls in value.classes):
                return self._method_result(value.classes, method)
            called = self._attribute(value.classes, method)  # `self.fc(x)`: an attribute called
            return self._called(called) if called is not None else None
        if value.kind is Kind.UNKNOWN:
            if method == "get_submodule":
                return Value(Kind.MODULE)
            if method in TENSOR_ONLY_METHODS and not (method == "view" and not numeric_arguments(positional)):
                return TENSOR  # `y.permute(0, 2, 1)` works on nothing but a tensor
        return UNKNOWN

    def _method_result(self, classes: tuple[ClassInfo, ...], method: str) -> Value:
        result: Value | None = None
        for cls in classes:
            found = self._find_method(cls, method)
            if found is None:
                return UNKNOWN
            result = join(result, self.returns(found))
        return result or UNKNOWN

    def _called(self, value: Value) -> Value:
        """What calling a value gives: a tensor from a torch layer, what a module's forward says."""
        if value.is_module:
            if value.layer is not None:
                return TENSOR if value.layer in TENSOR_LAYERS or value.layer.endswith("Loss") else UNKNOWN
            if value.classes:
                return self._method_result(value.classes, "forward")
        return UNKNOWN

    def _annotation(self, annotation: Expr | None) -> Value:
        """What a value annotated so certainly is (`Optional[...]` and unions are not certain)."""
        if annotation is None:
            return UNKNOWN
        text = string_value(annotation)
        if text is not None:
            try:
                annotation = ast.parse(text, mode="eval").body
            except SyntaxError:
                return UNKNOWN
        subscripted = generic(annotation)
        if subscripted is not None:
            return self._generic_annotation(*subscripted)
        parts = dotted(annotation)
        if not parts:
            return UNKNOWN
        table = self._view.table
        target = table.resolve_parts(parts)
        if isinstance(target, list):
            if target and all(table.is_module_class(cls) for cls in target):
                return Value(Kind.MODULE, classes=tuple(target))
            return Value(Kind.OBJECT, classes=tuple(target)) if target else UNKNOWN
        if not isinstance(target, str):
            return UNKNOWN
        if target in TENSOR_TYPES:
            return TENSOR
        if target in ("numpy.ndarray", "numpy.typing.NDArray"):
            return Value(Kind.ARRAY)
        if target in PARAMETER_CLASSES:
            return PARAMETER if target.rsplit(".", 1)[-1] == "Parameter" else TENSOR
        if target in LOADERS:
            return Value(Kind.LOADER)
        if table.is_module_path(parts):
            layer = torch_layer(target)
            items = Value(Kind.MODULE) if layer in MODULE_CONTAINERS else None
            return Value(Kind.MODULE, layer=layer if layer not in MODULE_CONTAINERS else None, items=items)
        return UNKNOWN

    def _generic_annotation(self, base: Expr, arguments: list[Expr]) -> Value:
        """`List[nn.Module]`, `tuple[Tensor, int]`, `Dict[str, nn.Module]`."""
        parts = dotted(base)
        if not parts:
            return UNKNOWN
        target = self._view.table.resolve_parts(parts)
        if target is None and len(parts) == 1 and parts[0] not in self._view.table.bindings:
            target = f"builtins.{parts[0]}"
        name = target.rsplit(".", 1)[-1].lower() if isinstance(target, str) else ""
        if not isinstance(target, str) or not target.startswith(("typing.", "builtins.", "collections.abc.")):
            return UNKNOWN
        if name in ("list", "sequence", "iterable", "iterator") and len(arguments) == 1:
            return Value(Kind.LIST if name == "list" else Kind.ITERABLE, items=self._annotation(arguments[0]))
        if name == "tuple" and arguments and not any(is_ellipsis(a) for a in arguments):
            return Value(Kind.TUPLE, elements=tuple(self._annotation(a) for a in arguments))
        if name in ("dict", "mapping") and len(arguments) == 2:
            return Value(Kind.DICT, items=self._annotation(arguments[1]))
        return UNKNOWN

    # -- classes -------------------------------------------------------------------------------

    def _attribute(self, classes: tuple[ClassInfo, ...], attr: str) -> Value | None:
        result: Value | None = None
        for cls in classes:
            value = self._attribute_in(cls, attr, set())
            if value is None:
                return None
            result = join(result, value)
        return result

    def _attribute_in(self, cls: ClassInfo, attr: str, seen: set[int]) -> Value | None:
        if id(cls) in seen:
            return UNKNOWN
        seen.add(id(cls))
        assigned = self._assigned_attributes(cls)
        if attr not in assigned:
            declared_here = self._declared[id(cls)].get(attr)
            if declared_here is not None:
                return self._annotation(declared_here)
            for base in self._file_bases(cls):
                found = self._attribute_in(base, attr, seen)
                if found is not None and found != UNKNOWN:
                    return found
            return UNKNOWN
        return self._fixpoint(("attribute", id(cls), attr), lambda: self._join_assigned(cls, attr, assigned[attr]))

    def _join_assigned(self, cls: ClassInfo, attr: str, assigned: list[_Assigned]) -> Value | None:
        result: Value | None = None
        unsettled = False
        for value, scope, statement in assigned:
            with self._at(scope, statement):
                found = self._eval(value, scope)
            if found is None:
                continue
            if found.kind is Kind.UNKNOWN and not found.classes and (as_call(value) is not None or name_of(value)):
                unsettled = True  # `self.model = copy.deepcopy(model)`: the class's uses may settle it
            else:
                result = join(result, found)
        if unsettled:
            if (result is None or result.is_module) and attr in self._attribute_evidence(cls):
                return result or Value(Kind.MODULE)
            return UNKNOWN
        return result

    def _mixed_into_module(self, cls: ClassInfo) -> bool:
        """A mixin (no base but `object`, `ABC`, `Generic`) whose methods call, on self, methods only
        modules have and it does not define (`self.eval()`, `self.named_parameters()`): its instances
        are modules."""
        key = id(cls)
        if key not in self._mixins:
            node = self._view._view(cls).node
            if any(parts and parts[-1] not in ("object", "ABC", "Generic") for parts in cls.base_names):
                self._mixins[key] = False  # a base may bring `eval` and the like: only plain mixins
                return False
            own = {function_name(m) for m in methods(node)}
            self._mixins[key] = any(
                (parts := attribute(call.func)) is not None and parts[1] not in own
                and name_of(parts[0]) == _instance_parameter(method)
                for method in methods(node) for node_ in walk(units(method))
                if (call := as_call(node_)) is not None and _shows_module(call)
            )
        return self._mixins[key]

    def _attribute_evidence(self, cls: ClassInfo) -> set[str]:
        """The attributes on which some method of the class calls a method only modules have."""
        key = id(cls)
        if key not in self._attribute_uses:
            found: set[str] = set()
            for method in methods(self._view._view(cls).node):
                self_name = _instance_parameter(method)
                for node in walk(units(method)):
                    call = as_call(node)
                    parts = attribute(call.func) if call is not None and _shows_module(call) else None
                    path = dotted(parts[0]) if parts is not None else None
                    if path is not None and len(path) == 2 and path[0] == self_name:
                        found.add(path[1])
            self._attribute_uses[key] = found
        return self._attribute_uses[key]

    def _assigned_attributes(self, cls: ClassInfo) -> dict[str, list[_Assigned]]:
        """`self.<attr> = value` in every method of the class, and `attr = value` in its body."""
        key = id(cls)
        if key in self._attributes:
            return self._attributes[key]
        found: dict[str, list[_Assigned]] = {}
        declarations: dict[str, Expr] = {}
        node = self._view._view(cls).node
        for unit in units(node):
            plain = assignment(unit)
            if plain is not None:
                for target in plain[0]:
                    name = name_of(target)
                    if name is not None:
                        found.setdefault(name, []).append((plain[1], node, id(unit)))
            annotated = declared(unit)
            if annotated is not None and (name := name_of(annotated[0])) is not None:
                declarations[name] = annotated[1]
        for method in methods(node):
            self_name = _instance_parameter(method)
            if self_name is None:
                continue
            for inner in walk(units(method)):
                plain = assignment(inner)
                if plain is None:
                    set_by_name = _setattr_call(inner, self_name)
                    if set_by_name is not None:
                        found.setdefault(set_by_name[0], []).append((set_by_name[1], method, id(inner)))
                    continue
                for target in plain[0]:
                    for one, value in pairs(target, plain[1]):
                        path = dotted(one)
                        if path is not None and len(path) == 2 and path[0] == self_name:
                            found.setdefault(path[1], []).append((value, method, id(inner)))
        self._attributes[key] = found
        self._declared[key] = declarations
        return found

    def _class_children(self, cls: ClassInfo) -> bool:
        key = id(cls)
        if key in self._children:
            return self._children[key]
        self._children[key] = False  # a cycle of bases proves nothing
        found = False
        for init in methods(self._view._view(cls).node, "__init__"):
            self_name = _instance_parameter(init)
            for unit in units(init):
                plain = assignment(unit)
                if plain is not None and any(
                    (path := dotted(one)) is not None and len(path) == 2 and path[0] == self_name
                    and (self._eval(value, init) or UNKNOWN).is_module
                    for target in plain[0] for one, value in pairs(target, plain[1])
                ):
                    found = True
                call = as_call(getattr(unit, "value", None))
                registered = attribute(call.func) if call is not None else None
                if registered is not None and registered[1] in ("add_module", "register_module") \
                        and name_of(registered[0]) == self_name:
                    found = True
        found = found or any(self._class_children(base) for base in self._file_bases(cls))
        self._children[key] = found
        return found

    def _file_bases(self, cls: ClassInfo) -> list[ClassInfo]:
        bases: list[ClassInfo] = []
        for parts in cls.base_names:
            target = self._view.table.resolve_parts(parts) if parts else None
            if isinstance(target, list):
                bases.extend(target)
        return bases

    def _find_method(self, cls: ClassInfo, name: str, seen: set[int] | None = None) -> Function | None:
        seen = set() if seen is None else seen
        if id(cls) in seen:
            return None
        seen.add(id(cls))
        found = methods(self._view._view(cls).node, name)
        if found:
            return found[-1]
        for base in self._file_bases(cls):
            method = self._find_method(base, name, seen)
            if method is not None:
                return method
        return None

    # -- scopes --------------------------------------------------------------------------------

    def _parent(self, owner: Owner) -> Owner:
        """The function (or the module, None) whose names `owner`'s body sees, classes left out."""
        if self._parents is None:
            self._parents = {}
            self._classes_of_methods = {}
            by_node = {id(view.node): view.info for view in self._view.classes}
            self._record_parents(units(self._tree), None, by_node)
        return self._parents.get(id(owner)) if owner is not None else None

    def _record_parents(self, body: Sequence[Unit], enclosing: Owner, classes: dict[int, ClassInfo]) -> None:
        assert self._parents is not None and self._classes_of_methods is not None
        for unit in body:
            if is_scope(unit):
                self._parents[id(unit)] = enclosing
                if isinstance(unit, (ast.ClassDef, cst.ClassDef)):
                    info = classes.get(id(unit))
                    for method in methods(unit):
                        if info is not None:
                            self._classes_of_methods[id(method)] = info
                    self._record_parents(units(unit), enclosing, classes)
                else:
                    self._record_parents(units(unit), unit, classes)
            else:
                for block in blocks(unit):
                    self._record_parents(block, enclosing, classes)

    def _class_of_method(self, func: Function) -> ClassInfo | None:
        self._parent(None)
        assert self._classes_of_methods is not None
        return self._classes_of_methods.get(id(func))

    def _scope(self, owner: Owner) -> Scope:
        key = id(owner) if owner is not None else 0
        scope = self._scopes.get(key)
        if scope is None:
            scope = self._scopes[key] = self._collect(owner)
        return scope

    def _collect(self, owner: Owner) -> Scope:
        text = self._view.text
        collector = Collector(walrus=not text or ":=" in text)
        body = units(self._tree) if owner is None else units(owner)
        forward = False
        if is_function(owner):
            cls = self._class_of_method(owner)
            instance = _instance_parameter(owner) if cls is not None else None
            annotations = parameter_annotations(owner)
            for parameter in parameters(owner):
                if parameter == instance:
                    collector.bind(parameter, Binding("parameter", instance_of=cls))
                else:
                    collector.bind(parameter, Binding("parameter", annotations.get(parameter)))
            forward = cls is not None and function_name(owner) == "forward" and self._view.table.is_module_class(cls)
        collector.visit(body, (), ())
        if owner is None:
            collector.global_names.clear()
            for name in self._globals_assigned_in_functions():
                collector.bind(name, Binding("other"))
        return Scope(owner, collector.bindings, collector.global_names, collector.positions, forward=forward)

    def _globals_assigned_in_functions(self) -> set[str]:
        """Names functions declare `global`: they may rebind the module's names anywhere."""
        found: set[str] = set()
        text = self._view.text
        if text and not any(spelling in text for spelling in _GLOBAL_SPELLINGS):
            return found  # (a look at the source first: the walk is of the whole file)
        for node in statements(units(self._tree)):
            if isinstance(node, (ast.Global, cst.Global)):
                found.update(node.names if isinstance(node, ast.Global) else [n.name.value for n in node.names])
        return found

    # -- evidence ------------------------------------------------------------------------------

    def _evidence(self, scope: Scope) -> Evidence:
        if scope.evidence is not None:
            return scope.evidence
        evidence = Evidence()
        scope.evidence = evidence  # while it is worked out, asking again sees what is known so far
        owner = scope.owner
        body = units(self._tree) if owner is None else units(owner)
        self._learning += 1
        try:
            nodes = list(walk(body))
            for node in nodes:
                read = attribute(node)
                if read is not None and read[1] in ARRAY_ATTRIBUTES and (array := name_of(read[0])) is not None:
                    evidence.arrays.add(array)
                if matmul(node):
                    evidence.arrays.update(n for side in binary(node) or () if (n := name_of(side)) is not None)
                call = as_call(node)
                if call is not None:
                    self._learn_call(call, owner, evidence)
                operands = binary(node)
                if operands is not None and not any(is_string(side) for side in operands):
                    left, right = operands
                    for this, other in ((left, right), (right, left)):
                        name = name_of(this)
                        if name is not None and (self._eval(other, owner) or UNKNOWN).is_tensor:
                            evidence.tensors.add(name)
            if scope.forward and is_function(owner):
                inputs = set(parameters(owner)) - {first_parameter(owner)}
                for node in nodes:
                    indexed = subscript_owner(node)
                    sliced = name_of(indexed) if indexed is not None else None
                    if sliced is not None and sliced in inputs and not string_index(node):
                        evidence.tensors.add(sliced)
                    for operand in binary(node) or ():
                        computed = name_of(operand)
                        if computed is not None and computed in inputs:
                            evidence.tensors.add(computed)
        finally:
            self._learning -= 1
        return evidence

    def _learn_call(self, call: Call, owner: Owner, evidence: Evidence) -> None:
        func = call.func
        positional = [value for value, starred in call.positional if not starred]
        called = name_of(func)
        if called is not None:
            evidence.not_tensors.add(called)
        method = attribute(func)
        if method is not None and (receiver := name_of(method[0])) is not None:
            if _shows_module(call):
                evidence.modules.add(receiver)
            if method[1] in ARRAY_METHODS:
                evidence.arrays.add(receiver)
            if method[1] in MODULE_ONLY:
                evidence.not_tensors.add(receiver)
        if method is not None and method[1] in REGISTERING and len(positional) == 2:
            registered = name_of(positional[1])  # `model.set_submodule(name, new_module)`
            if registered is not None:
                evidence.modules.add(registered)
        # The first argument of torch's functions on tensors (`F.pad(x, ...)`, `torch.flip(x, ...)`).
        target = self._view.qualified_name(func)
        if target is not None and target in pure_functions() and positional and \
                target.rsplit(".", 1)[-1] not in NOT_TENSOR_FIRST and (first := name_of(positional[0])) is not None:
            evidence.tensors.add(first)
        # What a torch layer, or a module built in this scope, is given is a tensor.
        value = self._eval(func, owner) or UNKNOWN
        built_here = called is not None and value.is_module and called in self._scope(owner).bindings
        if (value.is_module and value.layer in TENSOR_LAYERS) or built_here:
            for argument in positional:
                name = name_of(argument)
                if name is not None:
                    evidence.tensors.add(name)


def _bind_target(target: Expr, value: Value, env: dict[str, Value]) -> None:
    for name, path, sizes in target_paths(target):
        found: Value = value
        for index, size in zip(path, sizes):
            found = unpack(found, index, size)
        env[name] = found


def _instance_parameter(func: Function) -> str | None:
    """The parameter that receives the instance, unless a decorator says there is none."""
    for decorator in decorators(func):
        parts = dotted(decorator)
        if parts and parts[-1] in NOT_INSTANCE_METHODS:
            return None
    return first_parameter(func)


def _asks_for_grad(keywords: Sequence[tuple[str | None, Expr]]) -> bool:
    """`requires_grad=True` among a call's keywords."""
    return any(keyword == "requires_grad" and boolean(value) is True for keyword, value in keywords)


def _shows_module(call: Call) -> bool:
    """`x.parameters()`, `x.eval()`, `x.load_state_dict(sd, strict=False)`: a method only modules have."""
    parts = attribute(call.func)
    if parts is None:
        return False
    return parts[1] in MODULE_EVIDENCE or (
        parts[1] == "load_state_dict" and any(keyword == "strict" for keyword, _ in call.keywords))


def _setattr_call(node: Node, self_name: str) -> tuple[str, Expr] | None:
    """(name, value) of `setattr(self, "name", value)`."""
    call = as_call(node)
    if call is None or name_of(call.func) != "setattr" or len(call.positional) != 3:
        return None
    (obj, _), (key, _), (value, _) = call.positional
    text = string_value(key)
    return (text, value) if name_of(obj) == self_name and text is not None else None
