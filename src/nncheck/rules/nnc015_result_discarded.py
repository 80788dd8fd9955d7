from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator, Sequence

import libcst as cst

from nncheck.fixes.fix import Fix
from nncheck.model.known_modules import pure_functions, tensor_methods
from nncheck.model.table import BindingKind, Table
from nncheck.model.values import UNKNOWN, Kind
from nncheck.model.views import C, FileModel, FileView, Screen
from nncheck.rule import FixAvailability, Report, Rule, Sample
from nncheck.syntax.nodes import (
    Call,
    Node,
    Unit,
    as_call,
    attribute,
    blocks,
    boolean,
    class_name,
    dotted,
    function_name,
    is_function,
    is_string,
    is_super_call,
    methods,
    name_of,
    scopes,
    statements,
    units,
    walk,
    with_items,
)

_CELL = re.compile(r"^# ?%%", re.MULTILINE)
# Methods that return a new value and change nothing on tensors and on every other common type that
# has them (numpy's arrays, pandas): thrown away, they do nothing whatever the receiver. `to`, `cuda`,
# `float`, `contiguous`, `detach`, `add` are not among them: modules, PyG's data and sets change in
# place; nor is `reshape` with one argument, as OpenVINO's models take it (in place).
_NEW_ON_ANYTHING = frozenset({
    "permute", "transpose", "unsqueeze", "squeeze", "masked_fill", "view", "type_as", "clamp", "clamp_min",
    "clamp_max", "flatten", "swapaxes", "swapdims", "tril", "triu", "repeat", "expand", "softmax", "log_softmax",
    "long", "reshape",
})
# torch functions that make a tensor from sizes or data, not from another tensor.
_FACTORIES = frozenset({"zeros", "ones", "empty", "full", "rand", "randn", "randint", "randperm", "arange", "linspace",
                        "logspace", "eye", "tensor", "as_tensor", "from_numpy", "empty_strided", "normal"})


class ResultDiscarded(Rule):
    """A tensor operation's result is thrown away.

    **What it finds.** A statement that is only a call returning a new tensor, with no `out=` and no
    `inplace=True` argument: a function of `torch`, `torch.nn.functional` or `torch.linalg` that
    changes nothing (`torch.clamp(x, 0, 1)`, `F.dropout(x, p)`, `torch.cat(...)`), or a tensor
    method that has an in-place twin (`add`, `sub`, `clamp`, `masked_fill`, ...) or only returns a
    view or a copy (`view`, `reshape`, `detach`, `to`, `cuda`, `float`, ...), called on something
    that is certainly a tensor (see "What nncheck knows of a value" in the README): the result of a
    torch function, of a tensor method or of a torch layer such as `self.conv(x)`, a name every
    binding of which is one of those (`x = torch.zeros(3)` then `x = x + 1`), a parameter annotated
    `Tensor`, the `.data` or `.grad` of anything, a loop variable over `model.parameters()`, the
    names unpacked from a `DataLoader`'s batches (`for x, y in loader`), a `forward` argument the body
    slices or computes with, or a name the code passes to a torch layer or a module it built. On a
    receiver nncheck knows nothing of, the methods that return a new value on every common type
    that has them (`permute`, `transpose`, `unsqueeze`, `squeeze`, `masked_fill`, `view` given
    sizes, `type_as`, `clamp`, `flatten`, ...) are reported too, with their own message, outside
    test functions (which may call them to see them not raise), and unless a class of the file, or one
    it imports by name and constructs, defines a method of that name (avalanche's `ParamData.expand` and espnet's
    `CTC.softmax` change their object). A receiver that may be a module
    (`model.to(device)` moves the model in place) or another library's object (`ax.scatter`,
    `data.contiguous()` in PyG, OpenVINO's `model.reshape(...)`, a whole batch, which may be a
    collate function's object) is never reported for the others, nor are calls in a `try` block or
    under `pytest.raises`, which may be there to raise, a torch factory's tensor (`torch.ones(1)`,
    `torch.rand(2).cuda()`) made inside a `with` block, which is run for the block's sake (a
    profiler, a timer, a memory tracker), nor the last statement of a notebook cell (in a notebook,
    or a percent-format script's `# %%` cells), whose value is displayed.

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
    message_unchanged = "{call} leaves {receiver} unchanged and this line throws its result away; assign it{instead}"
    message_unnamed = "{call} returns a new tensor and this line throws it away; assign the result or remove the line"
    message_unnamed_unchanged = "{call} changes nothing and this line throws its result away; assign the result or " \
        "remove the line"

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

def profile(profiler, x):
    with profiler.profile():
        torch.ones(1)
        torch.tensor(0)
        torch.rand((1000, 1000)).cuda()
    y = torch.zeros(2)
    y = y.tolist()
    y.to("cpu")

def compile_model(ov_model, graph, batch):
    ov_model.reshape([1, 3, 224, 224])
    graph.view("graph.pdf")
    batch.contiguous()

def test_unsqueeze_accepts_two(mvn):
    mvn.unsqueeze(2)

class Truncated:
    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Truncated, _instance)
        super().expand(batch_shape=batch_shape, _instance=new)
        return new
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
        Sample(
            """
import torch
from torch import nn
from torch.utils.data import DataLoader

DEVICE = "cpu"
train_loader = DataLoader(torch.zeros(8, 2), batch_size=2)

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 1)

    def forward(self, x):
        out = self.conv(x)
        out.flatten(1)  # NNC015
        return out

def train(model, profiler):
    for _, (x, y) in enumerate(train_loader):
        x.to(DEVICE)  # NNC015
        loss = (x - y).pow(2).mean()
        with profiler.profile():
            loss.masked_fill(loss > 1, 0)  # NNC015

def perturb(t: torch.Tensor, uniform):
    if uniform:
        noise = torch.randint(0, 2, (3,))
    else:
        noise = t[0]
    noise.clamp(min=0, max=1)  # NNC015
    x = torch.zeros(3)
    x = x + 1
    x.view(3)  # NNC015

def helper(weight: torch.Tensor):
    weight.view(-1)  # NNC015
    torch.cat([weight, weight]).squeeze(0)  # NNC015
""",
            unsafe_fixed="""
import torch
from torch import nn
from torch.utils.data import DataLoader

DEVICE = "cpu"
train_loader = DataLoader(torch.zeros(8, 2), batch_size=2)

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 1)

    def forward(self, x):
        out = self.conv(x)
        out = out.flatten(1)  # NNC015
        return out

def train(model, profiler):
    for _, (x, y) in enumerate(train_loader):
        x = x.to(DEVICE)  # NNC015
        loss = (x - y).pow(2).mean()
        with profiler.profile():
            loss = loss.masked_fill(loss > 1, 0)  # NNC015

def perturb(t: torch.Tensor, uniform):
    if uniform:
        noise = torch.randint(0, 2, (3,))
    else:
        noise = t[0]
    noise = noise.clamp(min=0, max=1)  # NNC015
    x = torch.zeros(3)
    x = x + 1
    x = x.view(3)  # NNC015

def helper(weight: torch.Tensor):
    weight = weight.view(-1)  # NNC015
    torch.cat([weight, weight]).squeeze(0)  # NNC015
""",
        ),
        Sample(
            """
import torch

def attend(mask, scores):
    if mask.dim() == 2:
        mask.unsqueeze(1)  # NNC015
    scores.transpose(1, 2)  # NNC015
    gather(scores).transpose(1, 2)  # NNC015
    return scores

def update(output, accumulator, x, weights):
    if isinstance(output, torch.Tensor):
        output.to(accumulator)  # NNC015
    batch, tokens, channels = x.shape
    x.reshape(batch, -1)  # NNC015
    (x @ weights).softmax(-1)  # NNC015
    return x
""",
            unsafe_fixed="""
import torch

def attend(mask, scores):
    if mask.dim() == 2:
        mask = mask.unsqueeze(1)  # NNC015
    scores = scores.transpose(1, 2)  # NNC015
    gather(scores).transpose(1, 2)  # NNC015
    return scores

def update(output, accumulator, x, weights):
    if isinstance(output, torch.Tensor):
        output = output.to(accumulator)  # NNC015
    batch, tokens, channels = x.shape
    x = x.reshape(batch, -1)  # NNC015
    (x @ weights).softmax(-1)  # NNC015
    return x
""",
        ),
    )

    @classmethod
    def might_report(cls, screen: Screen) -> bool:
        return _imports_torch(screen) and screen.found(statement for statement, _, _, _ in _discarded(screen))

    def check(self, model: FileModel) -> Iterator[Report]:
        if not _imports_torch(model):
            return  # (as the screen says: whether another rule's finding brings the file here must not matter)
        for statement, call, method, certain in _discarded(model):
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
            if owner is None or dotted(owner[0]) is None or not isinstance(owner[0], cst.CSTNode):
                # Never `torch.cat(a).squeeze(1) = ...`: only a name or an attribute can be assigned.
                template = self.message_unnamed if certain else self.message_unnamed_unchanged
                yield self.report(statement, template, call=shown)
                continue
            receiver = cst.Module([]).code_for_node(owner[0])
            twin = f" or use {method}_()" if f"{method}_" in tensor_methods() and certain else ""
            instead = f" ({receiver} = {receiver}.{method}(...)){twin}"
            fix = Fix(safe=False, title=f"Assign it to {receiver}", edits=((statement, _assign_back),))
            if certain:
                yield self.report(statement, fix=fix, call=shown, instead=instead, result="a new tensor")
            else:
                yield self.report(statement, self.message_unchanged, fix=fix, call=shown, receiver=receiver,
                                  instead=instead)


def _imports_torch(view: FileView[C]) -> bool:
    """Without torch imported, nothing in the file is known to be a tensor."""
    return any(b.qualname == "torch" or b.qualname.startswith("torch.")
               for bindings in view.table.bindings.values() for b in bindings)


def _assign_back(statement: cst.Expr) -> cst.Assign:
    call = statement.value
    assert isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
    receiver = call.func.value
    assert isinstance(receiver, (cst.Name, cst.Attribute))  # the fix is offered for dotted names only
    target = cst.AssignTarget(receiver)
    return cst.Assign(targets=[target], value=call, semicolon=statement.semicolon)


# The statement, its call, the tensor method (None: a function), whether the receiver is certainly a tensor.
Discarded = tuple[Node, Call, "str | None", bool]


def _discarded(view: FileView[C]) -> Iterator[Discarded]:
    """Each statement that throws a new tensor away (the screen asks this too)."""
    # Which classes are modules is asked only once a statement may report: it may mean reading other files.
    @functools.cache
    def module_nodes() -> set[int]:
        return {id(cls.node) for cls in view.module_classes()}

    # A notebook (or its percent format, `# %%` cells): a cell's last expression is displayed, not lost.
    displayed = _displayed(view.tree, view.text) if "%%" in view.text and _CELL.search(view.text) else set()
    values = view.values

    @functools.cache
    def tests() -> set[int]:
        return _test_functions(view.tree)

    @functools.cache
    def methods_here() -> frozenset[str]:
        return _methods_of_known_classes(view.table, view.text)

    for owner, body in scopes(view.tree):
        in_class = isinstance(owner, (ast.ClassDef, cst.ClassDef))
        for statement, call, in_with, narrowed in _expression_calls(view, body):
            if id(statement) in displayed:
                continue
            if any(k == "out" for k, _ in call.keywords) or any(
                k == "inplace" and boolean(v) for k, v in call.keywords
            ):
                continue
            target = view.qualified_name(call.func)
            pure = target is not None and target in pure_functions()
            parts = attribute(call.func)
            if not pure and (parts is None or parts[1].endswith("_") or parts[1] not in tensor_methods()):
                continue
            if _changes_something(call.node):
                continue  # `w.add_(b).to(dtype)`: the line does something, whatever it returns
            if in_class and id(owner) in module_nodes():
                break  # a class body: class attributes, not statements that run each call
            if in_with and _from_nothing(view, call):
                continue  # `with profiler.profile(): torch.ones(1)`: run for the block's sake
            if pure:
                yield statement, call, None, True
                continue
            assert parts is not None
            receiver = values.of(parts[0], owner, at=statement)
            if receiver.is_tensor or name_of(parts[0]) in narrowed:
                yield statement, call, parts[1], True
            elif id(owner) in tests():
                continue  # a test may call it to see it not raise
            elif is_super_call(parts[0]):
                continue  # the parent's method may act on self or its arguments (torch.distributions' expand)
            elif receiver.kind is Kind.ARRAY:
                yield statement, call, parts[1], False
            elif receiver == UNKNOWN and _new_on_anything(parts[1], call) and parts[1] not in methods_here():
                # (Not when a class of this file, or one it imports, has a method of that name: avalanche's
                # ParamData.expand and espnet's CTC.softmax change their object.)
                yield statement, call, parts[1], False


def _methods_of_known_classes(table: Table, text: str) -> frozenset[str]:
    """The method names of the file's classes and of the classes it imports by name and constructs
    (`ParamData(...)`: read from their files, as for base classes; the other imports are not read)."""
    names = {name for cls in table.classes for name in cls.method_lines}
    for name, bindings in table.bindings.items():
        if name[:1].isupper() and any(binding.kind is BindingKind.IMPORT for binding in bindings) \
                and re.search(r"(?<![\w.])%s\s*\(" % re.escape(name), text):
            found = table.find([name])
            if found is not None:
                names.update(method for cls in found.classes for method in cls.method_lines)
    return frozenset(names)


def _test_functions(tree: ast.Module | cst.Module) -> set[int]:
    """Test functions and the methods of test classes: a call there may be made to see it not raise."""
    found: set[int] = set()
    for node in statements(units(tree)):
        if is_function(node) and function_name(node).startswith("test"):
            found.add(id(node))
        elif isinstance(node, (ast.ClassDef, cst.ClassDef)) and class_name(node).startswith("Test"):
            found.update(id(method) for method in methods(node))
    return found


def _new_on_anything(method: str, call: Call) -> bool:
    """`x.permute(0, 2, 1)` on anything: a new value; `x.view` given sizes, `x.reshape` given two or more."""
    if method == "view":
        return _sizes(call)
    if method == "reshape":
        return len(call.positional) >= 2
    return method in _NEW_ON_ANYTHING


def _sizes(call: Call) -> bool:
    """`x.view(b, -1)`: sizes, not graphviz's `graph.view("file")`."""
    return bool(call.positional) and not any(is_string(value) for value, _ in call.positional)


def _from_nothing(view: FileView[C], call: Call) -> bool:
    """A torch factory's tensor (`torch.ones(1)`, `torch.rand(2).cuda()`): made from no other tensor."""
    while True:
        parts = attribute(call.func)
        inner = as_call(parts[0]) if parts is not None else None
        if inner is None:
            target = view.qualified_name(call.func)
            return target is not None and target.startswith("torch.") and target.rsplit(".", 1)[-1] in _FACTORIES
        call = inner


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


Narrowed = frozenset[str]  # names an `isinstance(x, torch.Tensor)` test holding the statement proves tensors


def _expression_calls(
    view: FileView[C], body: Sequence[Unit], in_with: bool = False, narrowed: Narrowed = frozenset()
) -> Iterator[tuple[Node, Call, bool, Narrowed]]:
    """Statements that are only a call, outside `try` bodies and `pytest.raises` blocks, with whether a
    `with` statement holds them and the names proved tensors where they stand."""
    for unit in body:
        tried = isinstance(unit, _AST_TRIES) if isinstance(unit, ast.AST) else isinstance(unit, (cst.Try, cst.TryStar))
        if tried:
            handlers_and_rest = blocks(unit)[1:]  # the body may be there to raise; the rest is not
            for block in handlers_and_rest:
                yield from _expression_calls(view, block, in_with, narrowed)
            continue
        if _raises_block(unit):
            continue
        inner = blocks(unit)
        if inner:
            inside = in_with or bool(with_items(unit))
            proved = _tensor_test(view, getattr(unit, "test", None)) if isinstance(unit, (ast.If, cst.If)) else None
            for index, block in enumerate(inner):
                here = narrowed | {proved} if proved is not None and index == 0 else narrowed
                yield from _expression_calls(view, block, inside, here)
        elif unit.__class__ is ast.Expr or (not isinstance(unit, ast.AST) and isinstance(unit, cst.Expr)):
            call = as_call(unit.value)
            if call is not None:
                yield unit, call, in_with, narrowed
        elif unit.__class__ is ast.Assert or (not isinstance(unit, ast.AST) and isinstance(unit, cst.Assert)):
            proved = _tensor_test(view, unit.test)
            if proved is not None:
                narrowed = narrowed | {proved}  # `assert isinstance(x, torch.Tensor)` holds for what follows


def _tensor_test(view: FileView[C], test: Node | None) -> str | None:
    """`x` for `isinstance(x, torch.Tensor)` (or a tuple of tensor types) and `torch.is_tensor(x)`."""
    found = view.type_test(test)
    if found is None:
        return None
    name, kinds = found
    if kinds is None:
        return name
    resolved = [view.qualified_name(kind) for kind in kinds]
    return name if resolved and all(k in ("torch.Tensor", "torch.nn.Parameter") for k in resolved) else None


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
