"""What a value certainly is: a module, a tensor, a parameter, a container of them, a data loader or
one of its batches, an array, or unknown; how two bindings of a name join, and what iterating or
unpacking a value gives. Worked out for the file's expressions by model/knowledge.py."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from nncheck.model.table import ClassInfo


class Kind(Enum):
    UNKNOWN = "unknown"
    MODULE = "module"
    TENSOR = "tensor"
    PARAMETER = "parameter"  # a tensor too
    LIST = "list"
    TUPLE = "tuple"
    DICT = "dict"
    SET = "set"
    ITERABLE = "iterable"  # what `model.parameters()`, `enumerate(...)` and the like give: only iterated
    LOADER = "loader"  # a torch.utils.data.DataLoader, or a progress bar around one
    BATCH = "batch"  # what a loader yields: a tensor or a container of tensors, or a collate_fn's object
    OBJECT = "object"  # an instance of a class of the file that is not a module
    ARRAY = "array"  # a tensor or a numpy array: its `.shape` is read, it is multiplied with `@`


@dataclass(frozen=True)
class Value:
    kind: Kind
    items: Value | None = None  # what a container, loader or module container holds (a dict's values)
    elements: tuple[Value, ...] | None = None  # a tuple of known length, element by element
    layer: str | None = None  # the torch.nn class a module is an instance of (`Linear`)
    classes: tuple[ClassInfo, ...] = ()  # the classes of this file it is an instance of
    children: bool = False  # a module that certainly holds submodules
    stateless: bool = False  # a module with no parameters, no buffers and no train/eval behaviour
    # A tensor made to require grad: a torch factory given `requires_grad=True`, `Variable(t,
    # requires_grad=True)`, or `.requires_grad_()` of a tensor (not a parameter).
    requires_grad: bool = False

    @property
    def is_module(self) -> bool:
        return self.kind is Kind.MODULE

    @property
    def is_tensor(self) -> bool:
        return self.kind in (Kind.TENSOR, Kind.PARAMETER)


UNKNOWN = Value(Kind.UNKNOWN)
TENSOR = Value(Kind.TENSOR)
PARAMETER = Value(Kind.PARAMETER)
GRAD_TENSOR = Value(Kind.TENSOR, requires_grad=True)
BATCH = Value(Kind.BATCH)


def join(a: Value | None, b: Value | None) -> Value | None:
    """What a name bound to both certainly holds; None (no binding yet) adds nothing."""
    if a is None or a == b:
        return b
    if b is None:
        return a
    if a.kind is not b.kind:
        return TENSOR if a.is_tensor and b.is_tensor else UNKNOWN
    same_shape = a.elements is not None and b.elements is not None and len(a.elements) == len(b.elements)
    return Value(
        a.kind,
        items=join(a.items, b.items),
        elements=tuple(join(x, y) or UNKNOWN for x, y in zip(a.elements or (), b.elements or ())) if same_shape
        else None,
        layer=a.layer if a.layer == b.layer else None,
        classes=a.classes if a.classes == b.classes else (),
        children=a.children and b.children,
        stateless=a.stateless and b.stateless,
        requires_grad=a.requires_grad and b.requires_grad,
    )


def iterate(value: Value | None) -> Value | None:
    """What iterating the value gives (a dict's keys are not followed)."""
    if value is None:
        return None
    if value.kind is Kind.LOADER:
        return BATCH
    if value.is_tensor or value.kind is Kind.BATCH:
        return TENSOR if value.is_tensor else BATCH
    if value.kind in (Kind.LIST, Kind.TUPLE, Kind.SET, Kind.ITERABLE):
        return value.items or UNKNOWN
    if value.is_module and value.layer not in ("ModuleDict", "ParameterDict") and value.items is not None:
        return value.items
    return UNKNOWN


def unpack(value: Value, index: int, size: int) -> Value:
    """The element at `index` when the value is unpacked into `size` names."""
    if index < 0:
        return UNKNOWN
    if value.elements is not None:
        return value.elements[index] if len(value.elements) == size else UNKNOWN
    if value.kind is Kind.BATCH:
        return TENSOR  # (x, y) of a batch: tensors, or containers of them
    if value.kind in (Kind.LIST, Kind.TUPLE) and value.items is not None:
        return value.items
    if value.is_tensor:
        return TENSOR
    return UNKNOWN
