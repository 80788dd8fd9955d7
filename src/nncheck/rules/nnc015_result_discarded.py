from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import libcst as cst

from nncheck.fixes.fix import Fix
from nncheck.model.known_modules import module_methods, pure_functions, tensor_methods
from nncheck.model.views import C, FileModel, FileView, Screen
from nncheck.rule import FixAvailability, Report, Rule, Sample
from nncheck.syntax.nodes import (
    Call,
    Expr,
    Node,
    Unit,
    added,
    as_call,
    attribute,
    blocks,
    boolean,
    dotted,
    first_parameter,
    is_function,
    name_of,
    parameters,
    scope_values,
    scopes,
    subscript_owner,
    target_names,
    walk,
)

# Factories that draw random numbers: they return new tensors too.
_RANDOM_FACTORIES = frozenset({"rand", "randn", "randint", "rand_like", "randn_like", "randint_like", "randperm",
                               "normal", "bernoulli", "multinomial", "poisson"})
# Methods that only a module has (a name asked for them is not a tensor).
_MODULE_ONLY = frozenset(module_methods()) - tensor_methods() - {"type", "apply", "requires_grad_", "register_hook"}
_CELL = re.compile(r"^# ?%%", re.MULTILINE)
_ITERATES_PARAMETERS = ("parameters", "named_parameters", "buffers", "named_buffers")
_ARITHMETIC_AST = (ast.BinOp,)
_ARITHMETIC_CST = (cst.BinaryOperation,)


class ResultDiscarded(Rule):
    """A tensor operation's result is thrown away.

    **What it finds.** A statement that is only a call returning a new tensor, with no `out=` and no
    `inplace=True` argument: a function of `torch`, `torch.nn.functional` or `torch.linalg` that
    changes nothing (`torch.clamp(x, 0, 1)`, `F.dropout(x, p)`, `torch.cat(...)`), or a tensor
    method that has an in-place twin (`add`, `sub`, `clamp`, `masked_fill`, ...) or only returns a
    view or a copy (`view`, `reshape`, `detach`, `to`, `cuda`, `float`, ...), called on something
    that is certainly a tensor: the `.data` or `.grad` of anything, the result of a torch function or
    of a tensor method or arithmetic on a tensor, a name bound only to one of those or looping over
    `model.parameters()`, a `forward` argument the body slices or computes with, or a name that the
    code passes to a module it built and never treats as a module. A receiver that may be a module
    (`model.to(device)` moves the model in place) or another library's object (`ax.scatter`,
    `data.contiguous()` in PyG) is never reported, nor are calls in a `try` block or under
    `pytest.raises`, which may be there to raise, nor the last statement of a notebook cell (in a
    notebook, or a percent-format script's `# %%` cells), whose value is displayed.

    **Why is this a bug.** These operations leave their input alone and return the result: as a
    statement they do nothing. The mask is never applied, the dropout never happens, the batch stays
    on the CPU, `p.data.sub(lr * p.grad)` never changes the weights (torch 2.13).

    **Example.**

        for x, y in loader:
            x.to(device)
            loss = criterion(model(x), y)

    **Instead.** Keep the result, or use the in-place twin:

        for x, y in loader:
            x = x.to(device)

    **Fix.** Unsafe (the name then holds the new tensor for the code that follows): for a method
    called on a name or an attribute, `--fix --unsafe-fixes` assigns the result back,
    `x = x.to(device)`. No fix for a function's result: which name should hold it is a person's
    choice.
    """

    code = "NNC015"
    name = "result-discarded"
    fix_availability = FixAvailability.UNSAFE
    message = "{call} returns {result} and this line throws it away; assign it{instead}"

    valid = (
        """
import pytest
import torch
from torch import nn

model = nn.Linear(2, 2)
model.to("cpu")
model.float()
model.cuda()

def plot(ax, data, graph):
    ax.scatter([1], [2])
    data.contiguous()
    graph.view()

def test_shapes():
    x = torch.zeros(2, 3)
    with pytest.raises(RuntimeError):
        x.view(4)
    try:
        x.reshape(5)
    except RuntimeError:
        pass
    torch.add(x, 1, out=x)
    nn.functional.relu(x, inplace=True)
    x.add_(1)

def train(loader, net):
    for batch in loader:
        batch.to("cpu")
        net(batch)
""",
    )
    invalid = (
        Sample(
            """
import torch
import torch.nn.functional as F
from torch import nn

class Attention(nn.Module):
    def forward(self, q, k, mask):
        dots = torch.einsum("bid,bjd->bij", q, k)
        dots.masked_fill(~mask, float("-inf"))  # NNC015
        F.dropout(dots, 0.1, training=self.training)  # NNC015
        q.float()  # NNC015
        return dots.softmax(-1) * q[:, :1]

model = nn.Linear(2, 2)
for x, y in [(torch.zeros(2), 0)]:
    x.to("cpu")  # NNC015
    model(x)
for p in model.parameters():
    p.data.sub(p.grad.data * 0.1)  # NNC015
    p.clamp(-1, 1)  # NNC015
""",
            unsafe_fixed="""
import torch
import torch.nn.functional as F
from torch import nn

class Attention(nn.Module):
    def forward(self, q, k, mask):
        dots = torch.einsum("bid,bjd->bij", q, k)
        dots = dots.masked_fill(~mask, float("-inf"))  # NNC015
        F.dropout(dots, 0.1, training=self.training)  # NNC015
        q = q.float()  # NNC015
        return dots.softmax(-1) * q[:, :1]

model = nn.Linear(2, 2)
for x, y in [(torch.zeros(2), 0)]:
    x = x.to("cpu")  # NNC015
    model(x)
for p in model.parameters():
    p.data = p.data.sub(p.grad.data * 0.1)  # NNC015
    p = p.clamp(-1, 1)  # NNC015
""",
        ),
    )

    @classmethod
    def might_report(cls, screen: Screen) -> bool:
        imports_torch = any(
            b.qualname == "torch" or b.qualname.startswith("torch.")
            for bindings in screen.table.bindings.values() for b in bindings
        )
        return imports_torch and screen.found(statement for statement, _, _ in _discarded(screen))

    def check(self, model: FileModel) -> Iterator[Report]:
        for statement, call, method in _discarded(model):
            if not isinstance(statement, cst.Expr) or not isinstance(call.node, cst.Call):
                continue  # never: libcst's tree has libcst nodes
            shown = cst.Module([]).code_for_node(call.node.func) + "(...)"
            if method is None:
                # torch.allclose, torch.is_floating_point, ...: a bool or a number, not a tensor.
                name = shown[:-5].rsplit(".", 1)[-1]
                plain = name in ("allclose", "equal", "numel") or name.startswith("is_")
                yield self.report(statement, call=shown, instead="", result="a value" if plain else "a new tensor")
                continue
            owner = attribute(call.func)
            receiver = cst.Module([]).code_for_node(owner[0]) if owner is not None and isinstance(
                owner[0], cst.CSTNode) else "x"
            twin = f" or use {method}_()" if f"{method}_" in tensor_methods() else ""
            instead = f" ({receiver} = {receiver}.{method}(...)){twin}"
            fix = None
            if owner is not None and dotted(owner[0]) is not None:
                fix = Fix(safe=False, title=f"Assign it to {receiver}", edits=((statement, _assign_back),))
            yield self.report(statement, fix=fix, call=shown, instead=instead, result="a new tensor")


def _assign_back(statement: cst.Expr) -> cst.Assign:
    call = statement.value
    assert isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
    receiver = call.func.value
    assert isinstance(receiver, (cst.Name, cst.Attribute))  # the fix is offered for dotted names only
    target = cst.AssignTarget(receiver)
    return cst.Assign(targets=[target], value=call, semicolon=statement.semicolon)


Discarded = tuple[Node, Call, "str | None"]  # the statement, its call, the tensor method (None: a function)


@dataclass
class _Knowledge:
    """What one scope says about its names."""

    values: dict[str, list[Expr] | None]
    tensors: set[str] = field(default_factory=set)  # certain from how they are bound or used
    not_tensors: set[str] = field(default_factory=set)
    modules: set[str] = field(default_factory=set)
    depth: int = 0


def _discarded(view: FileView[C]) -> Iterator[Discarded]:
    """Each statement that throws a new tensor away (the screen asks this too)."""
    # Which classes are modules is asked only once a statement may report: it may mean reading other files.
    @functools.cache
    def module_nodes() -> tuple[set[int], set[int]]:
        """The module classes' nodes, and their forward methods."""
        classes = view.module_classes()
        return {id(cls.node) for cls in classes}, {id(m) for cls in classes for m in cls.methods("forward")}

    # A notebook (or its percent format, `# %%` cells): a cell's last expression is displayed, not lost.
    displayed = _displayed(view.tree, view.text) if _CELL.search(view.text) else set()
    for scope in scopes(view.tree):
        owner, body = scope
        in_class = isinstance(owner, (ast.ClassDef, cst.ClassDef))
        knowledge: _Knowledge | None = None  # what the scope's names are: learnt only when needed
        for statement, call in _expression_calls(body):
            if id(statement) in displayed:
                continue
            if any(k == "out" for k, _ in call.keywords) or any(
                k == "inplace" and boolean(v) for k, v in call.keywords
            ):
                continue
            target = view.resolve(call.func)
            pure = isinstance(target, str) and target in pure_functions()
            parts = attribute(call.func)
            if not pure and (parts is None or parts[1].endswith("_") or parts[1] not in tensor_methods()):
                continue
            if _changes_something(call.node):
                continue  # `w.add_(b).to(dtype)`: the line does something, whatever it returns
            if in_class and id(owner) in module_nodes()[0]:
                break  # a class body: class attributes, not statements that run each call
            if pure:
                yield statement, call, None
                continue
            assert parts is not None
            if knowledge is None:
                knowledge = _Knowledge(scope_values(scope))
                _learn(view, knowledge, body, owner, id(owner) in module_nodes()[1])
            if _is_tensor(view, parts[0], knowledge):
                yield statement, call, parts[1]


def _displayed(tree: ast.Module | cst.Module, text: str) -> set[int]:
    """The module-level statements that end a cell: a notebook shows their value."""
    if isinstance(tree, ast.Module):
        markers = [text.count("\n", 0, m.start()) + 1 for m in _CELL.finditer(text)]
        body = tree.body
        ends: list[Node] = [
            unit for unit, following in zip(body, body[1:])
            if any(getattr(unit, "end_lineno", unit.lineno) < line < following.lineno for line in markers)
        ]
        lines = text.splitlines()

        def hidden(unit: ast.stmt) -> bool:
            # `x.add(1);` ends a cell without displaying anything: IPython hides a value before a `;`.
            end, col = unit.end_lineno or unit.lineno, unit.end_col_offset or 0
            return end <= len(lines) and lines[end - 1][col:].lstrip().startswith(";")

        return {id(unit) for unit in ends + body[-1:] if not (isinstance(unit, ast.stmt) and hidden(unit))}
    statements = list(tree.body)
    last = [
        statement for statement, following in zip(statements, statements[1:])
        if any(line.comment is not None and _CELL.match(line.comment.value) for line in following.leading_lines)
    ] + statements[-1:]
    # `a; b` ends a cell with b; `b;` displays nothing.
    return {
        id(s.body[-1]) if isinstance(s, cst.SimpleStatementLine) else id(s) for s in last
        if not (isinstance(s, cst.SimpleStatementLine) and isinstance(s.body[-1].semicolon, cst.Semicolon))
    }


def _changes_something(call: Node) -> bool:
    """An in-place method (`add_`) is called somewhere in the call's receiver or arguments."""
    for node in walk([call]):
        inner = as_call(node)
        parts = attribute(inner.func) if inner is not None else None
        if parts is not None and parts[1].endswith("_") and not parts[1].startswith("_"):
            return True
    return False


def _expression_calls(body: Sequence[Unit]) -> Iterator[tuple[Node, Call]]:
    """Statements that are only a call, outside `try` bodies and `pytest.raises` blocks."""
    for unit in body:
        tried = isinstance(unit, _AST_TRIES) if isinstance(unit, ast.AST) else isinstance(unit, (cst.Try, cst.TryStar))
        if tried:
            handlers_and_rest = blocks(unit)[1:]  # the body may be there to raise; the rest is not
            for block in handlers_and_rest:
                yield from _expression_calls(block)
            continue
        if _raises_block(unit):
            continue
        inner = blocks(unit)
        if inner:
            for block in inner:
                yield from _expression_calls(block)
        elif isinstance(unit, ast.Expr) or (not isinstance(unit, ast.AST) and isinstance(unit, cst.Expr)):
            call = as_call(unit.value)
            if call is not None:
                yield unit, call


_AST_TRIES: tuple[type, ...] = (ast.Try, *((ast.TryStar,) if hasattr(ast, "TryStar") else ()))  # 3.11: TryStar


def _raises_block(unit: Node) -> bool:
    """`with pytest.raises(...):` or `with self.assertRaises(...):`."""
    if isinstance(unit, (ast.With, ast.AsyncWith)):
        items: list[Node] = [item.context_expr for item in unit.items]
    elif not isinstance(unit, ast.AST) and isinstance(unit, cst.With):
        items = [item.item for item in unit.items]
    else:
        return False
    for item in items:
        call = as_call(item)
        parts = dotted(call.func) if call is not None else None
        if parts and parts[-1].lower().endswith(("raises", "raisesregex", "warns")):
            return True
    return False


def _learn(view: FileView[C], known: _Knowledge, body: Sequence[Unit], owner: Node | None, forward: bool) -> None:
    """Which names of the scope are certainly tensors or modules, from how the scope binds and uses them."""
    for name, values in known.values.items():
        if values and len(values) == 1 and view.builds_model(values[0]):
            known.modules.add(name)
    nodes = list(walk(body))
    # Loop variables over a model's parameters.
    for node in nodes:
        if isinstance(node, (ast.For, ast.AsyncFor, cst.For)):
            call = as_call(node.iter)
            parts = attribute(call.func) if call is not None else None
            if parts is not None and parts[1] in _ITERATES_PARAMETERS:
                names = target_names(node.target)
                if names:
                    known.tensors.add(names[-1])
    # What the uses say: passed to a module built here (positive), or treated as a module (negative).
    for node in nodes:
        call = as_call(node)
        if call is not None:
            called = name_of(call.func)
            if called is not None:
                known.not_tensors.add(called)
                if called in known.modules:
                    known.tensors.update(n for value, _ in call.positional if (n := name_of(value)) is not None)
            parts = attribute(call.func)
            if parts is not None and parts[1] in _MODULE_ONLY and (n := name_of(parts[0])) is not None:
                known.not_tensors.add(n)
        operands = added(node) or _arithmetic(node)
        if operands is not None:
            left, right = operands
            for this, other in ((left, right), (right, left)):
                operand_name = name_of(this)
                if operand_name is not None and _is_tensor(view, other, known, evidence=False):
                    known.tensors.add(operand_name)
    if forward and is_function(owner):
        # forward's own arguments: sliced (`x[:, 0]`) or computed with (`x * w`) in the body.
        arguments = set(parameters(owner)) - {first_parameter(owner)}
        for node in nodes:
            index = subscript_owner(node)
            sliced = name_of(index) if index is not None else None
            if sliced is not None and sliced in arguments and not _string_index(node):
                known.tensors.add(sliced)
            for operand in _arithmetic(node) or added(node) or ():
                computed = name_of(operand)
                if computed is not None and computed in arguments:
                    known.tensors.add(computed)
    known.tensors -= known.not_tensors | known.modules


def _arithmetic(node: Node) -> tuple[Expr, Expr] | None:
    """(left, right) of `a * b`, `a @ b` and the other binary operators."""
    if isinstance(node, ast.BinOp):
        return node.left, node.right
    if isinstance(node, cst.BinaryOperation):
        return node.left, node.right
    return None


def _string_index(node: Node) -> bool:
    """`batch["x"]`: a mapping's key, not a tensor's index."""
    if isinstance(node, ast.Subscript):
        return isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)
    if isinstance(node, cst.Subscript):
        return any(isinstance(getattr(e.slice, "value", None), (cst.SimpleString, cst.ConcatenatedString))
                   for e in node.slice)
    return False


def _is_tensor(view: FileView[C], expr: Expr, known: _Knowledge, evidence: bool = True) -> bool:
    """`expr` is certainly a tensor (see the rule's documentation)."""
    if known.depth > 20:
        return False  # a cycle of names: proves nothing
    parts = attribute(expr)
    if parts is not None and parts[1] in ("data", "grad"):
        return True
    call = as_call(expr)
    if call is not None:
        target = view.resolve(call.func)
        if isinstance(target, str) and target.startswith("torch."):
            last = target.rsplit(".", 1)[-1]
            return target in pure_functions() or (target.count(".") == 1 and last in _RANDOM_FACTORIES)
        method = attribute(call.func)
        if method is not None and method[1] in tensor_methods() and not view.builds_model(method[0]):
            return _is_tensor(view, method[0], known, evidence)
        return False
    owner = subscript_owner(expr)
    if owner is not None:
        return not _string_index(expr) and _is_tensor(view, owner, known, evidence)
    operands = added(expr) or _arithmetic(expr)
    if operands is not None:
        return any(_is_tensor(view, side, known, evidence) for side in operands)
    name = name_of(expr)
    if name is None or name in known.modules or name in known.not_tensors:
        return False
    values = known.values.get(name, None)
    if values:
        known.depth += 1
        try:
            return len(values) == 1 and _is_tensor(view, values[0], known, evidence)
        finally:
            known.depth -= 1
    return evidence and name in known.tensors
