from __future__ import annotations

import ast
import re
from collections.abc import Iterator

import libcst as cst

from nncheck.fixes.fix import Fix
from nncheck.model.views import C, FileModel, FileView, Screen
from nncheck.rule import FixAvailability, Report, Rule, Sample
from nncheck.syntax.nodes import Node, attribute, statements, units

# Methods of torch's objects (modules, optimizers, schedulers, tensors, torch itself) that are only
# ever called for their effect; none of them is a property anywhere in torch.
METHODS = ("eval", "train", "zero_grad", "backward", "step", "no_grad")
_LINE = re.compile(r"\.(?:" + "|".join(METHODS) + r")\s*(?:#.*)?$", re.MULTILINE)


class MethodNotCalled(Rule):
    """A method is named but not called: `model.eval` instead of `model.eval()`.

    **What it finds.** A statement that is nothing but a reference to one of the methods that are
    only ever called for their effect: `model.eval`, `model.train`, `optimizer.zero_grad`,
    `loss.backward`, `optimizer.step`, `scheduler.step`, `self.zero_grad`, `torch.no_grad`. The name
    decides, whatever the receiver: on torch's objects none of these is a property. Other attribute
    statements (property checks in tests) are not reported.

    **Why is this a bug.** Looking a method up does nothing: the model stays in training mode (dropout
    on, batch norm updating its statistics), gradients pile up, the weights never change, and
    `torch.no_grad` as a statement turns nothing off (torch 2.13).

    **Example.**

        model.eval
        with torch.no_grad():
            predictions = model(x)

    **Instead.**

        model.eval()

    **Fix.** Safe: `--fix` adds the `()`.
    """

    code = "NNC013"
    name = "method-not-called"
    fix_availability = FixAvailability.SAFE
    message = "{expr} is not called, so it does nothing; write {expr}()"

    valid = (
        """
import torch

def test_shapes(model, optimizer):
    model.training
    optimizer.param_groups
    model.eval()
    torch.no_grad()
    check = model.eval
    callbacks = [optimizer.step]
""",
    )
    invalid = (
        Sample(
            """
import torch

def run(model, optimizer, loss, scheduler):
    model.train  # NNC013
    optimizer.zero_grad  # NNC013
    loss.backward  # NNC013
    optimizer.step  # NNC013
    scheduler.step  # NNC013
    model.eval  # NNC013
    torch.no_grad  # NNC013
""",
            fixed="""
import torch

def run(model, optimizer, loss, scheduler):
    model.train()  # NNC013
    optimizer.zero_grad()  # NNC013
    loss.backward()  # NNC013
    optimizer.step()  # NNC013
    scheduler.step()  # NNC013
    model.eval()  # NNC013
    torch.no_grad()  # NNC013
""",
        ),
    )

    @classmethod
    def might_report(cls, screen: Screen) -> bool:
        return _LINE.search(screen.text) is not None and screen.found(_references(screen))

    def check(self, model: FileModel) -> Iterator[Report]:
        for statement in _references(model):
            if isinstance(statement, cst.Expr):
                shown = cst.Module([]).code_for_node(statement.value)
                fix = Fix(safe=True, title="Call it", edits=((statement, _call),))
                yield self.report(statement, fix=fix, expr=shown)


def _call(statement: cst.Expr) -> cst.Expr:
    return statement.with_changes(value=cst.Call(func=statement.value))


def _references(view: FileView[C]) -> Iterator[Node]:
    """Each expression statement that is only `<something>.<one of METHODS>` (the screen asks this too)."""
    for node in statements(units(view.tree)):
        if isinstance(node, (ast.Expr, cst.Expr)):
            parts = attribute(node.value)
            if parts is not None and parts[1] in METHODS:
                yield node
