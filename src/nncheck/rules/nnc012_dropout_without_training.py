from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence

import libcst as cst

from nncheck.fixes.fix import Fix
from nncheck.model.known_modules import DROPOUT_LAYERS
from nncheck.model.methods import may_call_outside_init, reached_from
from nncheck.model.views import AstClass, C, FileModel, FileView, Screen, holds_line
from nncheck.rule import FixAvailability, Report, Rule, Sample
from nncheck.syntax.nodes import (
    Call,
    Expr,
    Function,
    Node,
    Unit,
    blocks,
    calls_in,
    conditional,
    dotted,
    first_parameter,
    function_name,
    is_scope,
    units,
    walk,
)

_FUNCTIONAL = "torch.nn.functional."
# training= is the third parameter of each; the alpha ones default to training=False.
_DROPOUTS = frozenset({"dropout", "dropout1d", "dropout2d", "dropout3d"})
_ALPHA_DROPOUTS = frozenset({"alpha_dropout", "feature_alpha_dropout"})
_TRAINING_POSITION = 2
_CALLED = _DROPOUTS | _ALPHA_DROPOUTS | DROPOUT_LAYERS  # what a dropout's call is named
# Lightning's hooks run in one mode each; nncheck leaves them alone.
_STEPS = ("training_step", "validation_step", "test_step", "predict_step")


class DropoutWithoutTraining(Rule):
    """Functional dropout in `forward` without `training=`.

    **What it finds.** Inside an nn.Module subclass's `forward`, or a method it reaches through
    `self.<method>(...)`, a call of `F.dropout`, `F.dropout1d`/`2d`/`3d`, `F.alpha_dropout` or
    `F.feature_alpha_dropout` (torch.nn.functional through any import form) that passes no
    `training` argument (by keyword, or third by position); and an `nn.Dropout*` module created there
    and called at once (`nn.Dropout(p)(x)`). Not reported: calls under `if self.training:` (or its
    `else` when negated, or a conditional expression on it), calls after `if not self.training:
    return ...`, Lightning's `training_step`/`validation_step`/`test_step`/`predict_step`, and
    functions outside a class (their caller decides).

    **Why is this a bug.** `F.dropout` defaults to `training=True`: it keeps dropping after
    `model.eval()`, so inference is noisy and every evaluation differs. A module created in `forward`
    is new, and new modules are in training mode. `F.alpha_dropout` and `F.feature_alpha_dropout`
    default to `training=False` instead: they never drop, not even in training (torch 2.13).

    **Example.**

        def forward(self, x):
            return F.dropout(self.fc(x), p=0.5)

    **Instead.**

        def forward(self, x):
            return F.dropout(self.fc(x), p=0.5, training=self.training)

    or an `nn.Dropout(0.5)` created in `__init__`.

    **Fix.** Unsafe (outputs in eval mode change, which is the point): `--fix --unsafe-fixes` adds
    `training=self.training` to the functional call. No fix for a module created in `forward`.
    """

    code = "NNC012"
    name = "dropout-without-training"
    fix_availability = FixAvailability.UNSAFE
    message = "{call} without training= keeps dropping after model.eval(); pass training={self_name}.training"
    message_alpha = (
        "{call} without training= never drops, not even in training (it defaults to training=False); "
        "pass training={self_name}.training"
    )
    message_module = (
        "nn.{layer} created in {cls}.{method} is always in training mode, so it keeps dropping after "
        "model.eval(); create it once in __init__"
    )

    valid = (
        """
import torch.nn.functional as F
from torch import nn

def helper(x):
    return F.dropout(x, 0.5)

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.1)

    def forward(self, x):
        x = F.dropout(x, 0.5, self.training)
        x = F.dropout(x, p=0.5, training=self.training)
        if self.training:
            x = F.dropout(x, 0.5)
        x = F.dropout(x) if self.training else x
        x = self.drop(x)
        if not self.training:
            return x
        return F.dropout(x, 0.2)

    def training_step(self, batch, index):
        return F.dropout(batch)
""",
    )
    invalid = (
        Sample(
            """
from torch import nn
from torch.nn import functional as F

class Net(nn.Module):
    def forward(self, x):
        x = F.dropout(x, p=0.5)  # NNC012@13
        return self.head(x)

    def head(self, x):
        x = F.alpha_dropout(x, 0.1)  # NNC012@13
        return nn.Dropout(0.1)(x)  # NNC012@16
""",
            unsafe_fixed="""
from torch import nn
from torch.nn import functional as F

class Net(nn.Module):
    def forward(self, x):
        x = F.dropout(x, p=0.5, training=self.training)  # NNC012@13
        return self.head(x)

    def head(self, x):
        x = F.alpha_dropout(x, 0.1, training=self.training)  # NNC012@13
        return nn.Dropout(0.1)(x)  # NNC012@16
""",
        ),
    )

    @classmethod
    def might_report(cls, screen: Screen) -> bool:
        return "ropout" in screen.text and screen.any_module(lambda node: any(True for _ in _dropouts(screen, node)))

    def check(self, model: FileModel) -> Iterator[Report]:
        seen: set[int] = set()
        for cls in model.module_classes():
            for method, call, kind, layer in _dropouts(model, cls):
                if not isinstance(call.node, cst.Call) or id(call.node) in seen:
                    continue
                seen.add(id(call.node))
                self_name = first_parameter(method) or "self"
                if kind == "module":
                    yield self.report(call.node, self.message_module, layer=layer, cls=cls.qualname,
                                      method=function_name(method))
                    continue
                shown = cst.Module([]).code_for_node(call.node.func)
                template = self.message_alpha if kind == "alpha" else self.message
                edit = (call.node, lambda node, name=self_name: _add_training(node, name))
                fix = Fix(safe=False, title=f"Pass training={self_name}.training", edits=(edit,))
                yield self.report(call.node, template, fix=fix, call=shown, self_name=self_name)


def _add_training(call: cst.Call, self_name: str) -> cst.Call:
    value = cst.parse_expression(f"{self_name}.training")
    tight = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))
    return call.with_changes(args=[*call.args, cst.Arg(value=value, keyword=cst.Name("training"), equal=tight)])


Dropout = tuple[Function, Call, str, str]  # the method, the call, "dropout"/"alpha"/"module", the layer


def _dropouts(view: FileView[C], cls: C) -> Iterator[Dropout]:
    """Each dropout that stays on (or never comes on) in what forward runs (the screen asks this too)."""
    lines = None
    if isinstance(view, Screen) and isinstance(cls, AstClass):
        if not may_call_outside_init(view, cls, _CALLED):
            return
        lines = view.call_lines(_CALLED)
    for method in reached_from(view, cls):
        if function_name(method) in _STEPS or (
                lines is not None and isinstance(method, ast.AST) and not holds_line(method, lines)):
            continue
        # Most methods call no dropout at all: only those that do are asked which calls the flag guards.
        found = {id(call.node): kind for call in calls_in(units(method)) if (kind := _dropout(view, call))}
        if not found:
            continue
        self_name = first_parameter(method)
        for call in _unguarded_calls(units(method), f"{self_name}.training"):
            kind = found.get(id(call.node))
            if kind is not None:
                yield method, call, kind[0], kind[1]


def _dropout(view: FileView[C], call: Call) -> tuple[str, str] | None:
    """("dropout"/"alpha"/"module", the layer) for a call that stays on whatever the flag is."""
    target = view.qualified_name(call.func)
    if target is not None and target.startswith(_FUNCTIONAL):
        function = target[len(_FUNCTIONAL):]
        if function in _DROPOUTS | _ALPHA_DROPOUTS and not _passes_training(call):
            return "alpha" if function in _ALPHA_DROPOUTS else "dropout", function
        return None
    layer = view.torch_layer(call.func)
    return ("module", layer) if layer is not None and layer in DROPOUT_LAYERS else None


def _passes_training(call: Call) -> bool:
    if any(keyword in ("training", None) for keyword, _ in call.keywords):
        return True  # `training=` or `**kwargs`
    return len(call.positional) > _TRAINING_POSITION or any(starred for _, starred in call.positional)


def _unguarded_calls(body: Sequence[Unit], flag: str) -> Iterator[Call]:
    """The calls in `body` that run whatever `flag` (`self.training`) is."""
    for unit in body:
        test = _if_test(unit)
        if test is not None and _mentions_flag(test, flag):
            negated = _negated(test)
            branches = blocks(unit)
            # `if self.training:` guards its body; `if not self.training:` its else branches.
            guarded = branches[1:] if negated else branches[:1]
            for block in branches:
                if not any(block is g for g in guarded):
                    yield from _unguarded_calls(block, flag)
            if negated and branches and _ends_in_return(branches[0]):
                return  # `if not self.training: return ...`: what follows runs only in training
            continue
        inner = blocks(unit)
        if inner:
            heads = _heads(unit)
            yield from _calls_outside_conditionals(heads, flag)
            for block in inner:
                yield from _unguarded_calls(block, flag)
        elif not is_scope(unit):
            yield from _calls_outside_conditionals([unit], flag)


def _calls_outside_conditionals(nodes: Sequence[Node], flag: str) -> Iterator[Call]:
    """Calls in `nodes`, but not in the branch of `a if self.training else b` that needs the flag."""
    guarded: set[int] = set()
    for node in walk(nodes):
        branches = conditional(node)
        test = getattr(node, "test", None)
        if branches is not None and test is not None and _mentions_flag(test, flag):
            hidden = branches[1] if _negated(test) else branches[0]
            guarded.update(id(n) for n in walk([hidden]))
    for call in calls_in(nodes):
        if id(call.node) not in guarded:
            yield call


def _if_test(unit: Node) -> Expr | None:
    if isinstance(unit, ast.If) or (not isinstance(unit, ast.AST) and isinstance(unit, cst.If)):
        return unit.test
    return None


def _heads(unit: Node) -> list[Node]:
    """The parts of a compound statement that run where it stands: a loop's iterable, a with's items."""
    if isinstance(unit, ast.AST):
        if isinstance(unit, (ast.For, ast.AsyncFor)):
            return [unit.iter]
        if isinstance(unit, (ast.While, ast.If)):
            return [unit.test]
    elif isinstance(unit, cst.For):
        return [unit.iter]
    elif isinstance(unit, (cst.While, cst.If)):
        return [unit.test]
    if isinstance(unit, (ast.Match, cst.Match)):
        return [unit.subject]
    if isinstance(unit, (ast.With, ast.AsyncWith)):
        return [item.context_expr for item in unit.items]
    if isinstance(unit, cst.With):
        return [item.item for item in unit.items]
    return []


def _mentions_flag(test: Node, flag: str) -> bool:
    return any(dotted(node) == flag.split(".") for node in walk([test]))


def _negated(test: Node) -> bool:
    if isinstance(test, ast.UnaryOp):
        return isinstance(test.op, ast.Not)
    return isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not)


def _ends_in_return(block: Sequence[Unit]) -> bool:
    return bool(block) and isinstance(block[-1], (ast.Return, ast.Raise, cst.Return, cst.Raise))
