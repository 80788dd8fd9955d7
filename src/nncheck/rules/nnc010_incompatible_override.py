from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from nncheck.model.decorators import keeps_signature
from nncheck.model.views import C, FileModel, FileView, Screen
from nncheck.rule import FixAvailability, Report, Rule
from nncheck.syntax.nodes import Function, decorators, function_name, is_none, only_raises, units, walk


@dataclass(frozen=True)
class ApiCall:
    """A call that torch (or every user of a module) makes of an nn.Module method."""

    shown: str  # how the message shows it
    who: str  # who makes it
    positional: int  # positional arguments after self
    keywords: tuple[str, ...] = ()


# The methods torch calls on every module with fixed arguments, and those users call with torch's signature.
API_CALLS: dict[str, tuple[ApiCall, ...]] = {
    "train": (
        ApiCall("train(False)", "model.eval() calls self.train(False)", 1),
        ApiCall("train(mode)", "a parent's train() and eval() call it on every child", 1),
        ApiCall("train()", "model.train() calls it", 0),
    ),
    "eval": (ApiCall("eval()", "model.eval() calls it", 0),),
    "state_dict": (
        ApiCall("state_dict(destination=..., prefix=..., keep_vars=...)", "a parent's state_dict() calls it", 0,
                ("destination", "prefix", "keep_vars")),
        ApiCall("state_dict()", "torch.save(model.state_dict()) calls it", 0),
    ),
    "_apply": (
        ApiCall("_apply(fn)", ".to(), .cuda() and .float() call it", 1),
        ApiCall("_apply(fn, recurse=...)", "to_empty() calls it", 1, ("recurse",)),
    ),
    "parameters": (ApiCall("parameters()", "torch.optim, model.zero_grad() and requires_grad_() call it", 0),),
    "named_parameters": (
        ApiCall("named_parameters(recurse=...)", "model.parameters() calls it", 0, ("recurse",)),
    ),
    "buffers": (ApiCall("buffers()", "torch's helpers call it", 0),),
    "named_buffers": (ApiCall("named_buffers(recurse=...)", "model.buffers() calls it", 0, ("recurse",)),),
    "children": (ApiCall("children()", "a parent's train(), _apply() and apply() call it", 0),),
    "named_children": (ApiCall("named_children()", "a parent's children() calls it", 0),),
    "modules": (ApiCall("modules()", "torch's helpers call it", 0),),
    "named_modules": (
        ApiCall("named_modules(memo, prefix, remove_duplicate)", "a parent's named_modules() calls it", 3),
        ApiCall("named_modules(remove_duplicate=...)", "model.modules() calls it", 0, ("remove_duplicate",)),
    ),
    # Users' calls: `assign=` (torch 2.1) and `set_to_none=` are left out, since overrides older than them
    # are common and work for every caller that does not pass them.
    "load_state_dict": (
        ApiCall("load_state_dict(state_dict)", "model.load_state_dict(torch.load(path)) calls it", 1),
        ApiCall("load_state_dict(state_dict, strict=...)", "model.load_state_dict(sd, strict=False) calls it", 1,
                ("strict",)),
    ),
    "zero_grad": (ApiCall("zero_grad()", "model.zero_grad() calls it", 0),),
    "extra_repr": (ApiCall("extra_repr()", "print(model) calls it", 0),),
}


# torch's defaults for the keywords above, for the advice to take them as torch does.
_DEFAULTS = {"recurse": "True", "strict": "True", "destination": "None", "prefix": "''", "keep_vars": "False",
             "remove_duplicate": "True"}


class IncompatibleOverride(Rule):
    """An nn.Module method that torch calls is overridden with a signature that cannot take the call.

    **What it finds.** In an nn.Module subclass, a method named like one that torch itself
    calls with fixed arguments, whose signature cannot accept that call: `train` (called as
    `train(False)` by `eval()`, as `train(mode)` by a parent on every child), `eval()`, `state_dict`
    (a parent calls `state_dict(destination=..., prefix=..., keep_vars=...)` on every child), `_apply`
    (`_apply(fn)` from `.to()`, `.cuda()`, `.float()`; `_apply(fn, recurse=...)` from `to_empty()`),
    `parameters`, `named_parameters`, `buffers`, `named_buffers`, `children`, `named_children`,
    `modules`, `named_modules`, `load_state_dict` (`load_state_dict(sd)`, `load_state_dict(sd,
    strict=...)`), `zero_grad()` and `extra_repr()`, as torch and its users call them.
    Compatibility is decided by the signature: parameters with defaults, `*args` and `**kwargs`
    accept what they can. A method under a decorator that keeps its signature (`@torch.no_grad()`,
    `@torch.jit.ignore`, `@torch.jit.unused`, `@typing.override`, a wrapper of the same file made with
    `functools.wraps`) is checked as if bare; under any other decorator it is left alone. Also
    reported, with its own message: a compatible
    `train(self, mode=True)` that never returns a value (`model.eval()` returns what `train()` does).

    **Why is this a bug.** torch makes these calls itself, on the module and on every child: with
    `def train(self, loader, epochs)`, `model.eval()` raises `TypeError: train() missing 1 required
    positional argument`, and so does `parent.train()` for every such child. A `train` that returns
    nothing makes `model = model.eval()` set `model` to None (torch 2.13).

    **Example.**

        class Net(nn.Module):
            def train(self, loader, epochs):
                for _ in range(epochs):
                    ...

    **Instead.** Give the training loop another name (`fit`), and keep torch's signature for an override:

        class Net(nn.Module):
            def train(self, mode=True):
                super().train(mode)
                self.frozen.eval()
                return self

    An override that only lacks a keyword torch passes (`def _apply(self, fn)`, which `to_empty()`
    calls with `recurse=`) is told to take it with torch's default (`def _apply(self, fn, recurse=True)`).

    **Fix.** None: a person must choose the new name or signature.
    """

    code = "NNC010"
    name = "incompatible-override"
    fix_availability = FixAvailability.NONE
    message = "{cls}.{method} cannot be called as {call}, and {who}, which raises TypeError; {advice}"
    message_no_return = (
        "{cls}.train never returns self, so model.train() and model.eval() return None; add return self"
    )

    valid = (
        """
from torch import nn

class Net(nn.Module):
    def train(self, mode=True):
        super().train(mode)
        return self

    def state_dict(self, *args, **kwargs):
        return super().state_dict(*args, **kwargs)

    def _apply(self, fn, recurse=True):
        return super()._apply(fn, recurse)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        return super().load_state_dict(state_dict, strict, assign)

    def extra_repr(self):
        return "net"

class Passing(nn.Module):
    def train(self, *args, **kwargs):
        return super().train(*args, **kwargs)

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        return super().named_modules(memo, prefix, remove_duplicate)

class Abstract(nn.Module):
    def eval(self):
        raise NotImplementedError

class Cached(nn.Module):
    @property
    def children(self):
        return iter(())

    @some_library.adapt
    def state_dict(self):
        return {}
""",
        """
class Trainer:
    def train(self, loader):
        pass
""",
    )
    invalid = (
        """
from torch import nn

class Net(nn.Module):
    def train(self, x_pos, x_neg):  # NNC010
        pass

    def state_dict(self):  # NNC010
        return {}

    def _apply(self, fn):  # NNC010
        return super()._apply(fn)

class Frozen(nn.Module):
    def train(self, mode=True):  # NNC010
        super().train(mode)
        self.backbone.eval()
""",
        """
import functools
from typing import override

import torch
from torch import nn

def logged(fn):
    @functools.wraps(fn)
    def inner(*args, **kwargs):
        return fn(*args, **kwargs)
    return inner

class Decorated(nn.Module):
    @torch.no_grad()
    def train(self):  # NNC010
        return self

    @override
    def state_dict(self):  # NNC010
        return {}

    @torch.jit.unused
    @logged
    def _apply(self, fn):  # NNC010
        return super()._apply(fn)
""",
    )

    @classmethod
    def might_report(cls, screen: Screen) -> bool:
        return screen.any_module(lambda node: any(True for _ in _broken(screen, node)))

    def check(self, model: FileModel) -> Iterator[Report]:
        for cls in model.module_classes():
            for method, broken in _broken(model, cls):
                if not isinstance(method, cst.FunctionDef):
                    continue  # never: a libcst class has libcst methods
                if broken is None:
                    yield self.report(method, self.message_no_return, cls=cls.qualname)
                else:
                    name = function_name(method)
                    advice = "rename it" if broken.positional or broken.keywords else "keep torch's signature"
                    missing = [k for k in broken.keywords if not accepts(method, broken.positional, (k,))]
                    if missing and accepts(method, broken.positional, ()):
                        # `def _apply(self, fn)`: an override of torch's method that lacks a keyword of it.
                        added = ", ".join(f"{keyword}={_DEFAULTS.get(keyword, '...')}" for keyword in missing)
                        advice = f"add {added} to its parameters, as torch's {name} has"
                    if name == "train":
                        advice = "rename it (e.g. fit) or accept train(self, mode=True)"
                    yield self.report(method, cls=cls.qualname, method=name, call=broken.shown,
                                      who=broken.who, advice=advice)


def _broken(view: FileView[C], cls: C) -> Iterator[tuple[Function, ApiCall | None]]:
    """Each API method of the class with the first torch call it cannot take, or None for a train that
    takes every call but returns nothing (the screen asks this too)."""
    for method in cls.methods():
        calls = API_CALLS.get(function_name(method))
        if calls is None or only_raises(method):
            continue
        if not all(keeps_signature(view, decorator) for decorator in decorators(method)):
            continue  # `@property`, a cache, a decorator of another file: what torch calls may differ
        failing = next((call for call in calls if not accepts(method, call.positional, call.keywords)), None)
        if failing is not None:
            yield method, failing
        elif function_name(method) == "train" and not _returns_a_value(method):
            yield method, None


def accepts(func: Function, positional: int, keywords: tuple[str, ...]) -> bool:
    """Whether `func` (a method: its first parameter takes the instance) binds a call with `positional`
    positional arguments and the given keyword arguments, as Python would."""
    if isinstance(func, ast.AST):
        args = func.args
        ordered = [(a.arg, True) for a in args.posonlyargs] + [(a.arg, False) for a in args.args]
        with_default = len(args.defaults)
        defaults = [False] * (len(ordered) - with_default) + [True] * with_default
        kwonly = [(a.arg, d is not None) for a, d in zip(args.kwonlyargs, args.kw_defaults)]
        star, double_star = args.vararg is not None, args.kwarg is not None
    else:
        params = func.params
        ordered = [(p.name.value, True) for p in params.posonly_params] + [(p.name.value, False) for p in params.params]
        defaults = [p.default is not None for p in (*params.posonly_params, *params.params)]
        kwonly = [(p.name.value, p.default is not None) for p in params.kwonly_params]
        star, double_star = isinstance(params.star_arg, cst.Param), isinstance(params.star_kwarg, cst.Param)
    if not ordered:
        return star  # no parameter for the instance: only *args can take it
    ordered, defaults = ordered[1:], defaults[1:]
    if positional > len(ordered) and not star:
        return False
    filled = {name for name, _ in ordered[:positional]}
    kwonly_names = {name for name, _ in kwonly}
    for keyword in keywords:
        if keyword in filled:
            return False  # given twice
        by_name = any(name == keyword and not posonly for name, posonly in ordered)
        if not (by_name or keyword in kwonly_names or double_star):
            return False
        filled.add(keyword)
    required = [name for (name, _), default in zip(ordered, defaults) if not default]
    required += [name for name, default in kwonly if not default]
    return all(name in filled for name in required)


def _returns_a_value(func: Function) -> bool:
    """Some `return` in the body (not in nested functions) gives a value other than None."""
    for node in walk(units(func)):
        if isinstance(node, (ast.Return, cst.Return)) and node.value is not None and not is_none(node.value):
            return True
    return False
