"""Decorators after which a method still takes the calls its signature takes (NNC010).

`@torch.no_grad()` and the like wrap a method in a function that passes every argument on, and
`functools.wraps` makes a wrapper look like what it wraps: torch's own calls of the method still
bind to its signature, so an override under them breaks as it would bare.
"""

from __future__ import annotations

from nncheck.model.views import C, FileView
from nncheck.syntax.nodes import Expr, as_call, decorators, dotted, function_name, is_function, units, walk

# Qualified names of decorators (or decorator factories) that keep the signature.
KEEPING_SIGNATURE = frozenset({
    "torch.no_grad", "torch.enable_grad", "torch.inference_mode", "torch.set_grad_enabled",
    "torch.autograd.no_grad", "torch.autograd.enable_grad", "torch.autograd.inference_mode",
    "torch.autograd.grad_mode.no_grad", "torch.autograd.grad_mode.inference_mode",
    "torch.jit.ignore", "torch.jit.unused", "torch.jit.export",
    "torch.compiler.disable", "torch._dynamo.disable", "torch.amp.autocast", "torch.autocast",
    "typing.override", "typing_extensions.override", "overrides.override", "typing.final", "typing_extensions.final",
    "functools.wraps",
})


def keeps_signature(view: FileView[C], decorator: Expr) -> bool:
    """The decorator (`@torch.no_grad()`, `@override`, a wrapper of this file built with
    functools.wraps) leaves the method taking the calls it took."""
    call = as_call(decorator)
    parts = dotted(call.func if call is not None else decorator)
    if parts is None:
        return False
    target = view.resolve_parts(parts)
    if isinstance(target, str):
        return target in KEEPING_SIGNATURE
    if target is None and len(parts) == 1:
        return _wraps_in_file(view, parts[0])
    return False


def _wraps_in_file(view: FileView[C], name: str) -> bool:
    """A module-level function of this file that returns a wrapper made with `functools.wraps`,
    directly (`def deco(fn)`) or through a factory (`def deco(arg): def inner(fn): ...`)."""
    found = [unit for unit in units(view.tree) if is_function(unit) and function_name(unit) == name]
    if len(found) != 1:
        return False
    for node in walk(units(found[0]), enter_scopes=True):
        if is_function(node) and any(_is_wraps(view, d) for d in decorators(node)):
            return True
    return False


def _is_wraps(view: FileView[C], decorator: Expr) -> bool:
    call = as_call(decorator)
    parts = dotted(call.func) if call is not None else None
    return parts is not None and view.resolve_parts(parts) == "functools.wraps"
