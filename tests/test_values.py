"""What model/values.py says a value is, asked of both trees: each sample's expression statements
carry the kind the knowledge must give (`x  # tensor`), and Python's ast and libcst must agree."""

from __future__ import annotations

import ast
import re
import textwrap

import libcst as cst
import pytest

from nncheck.model.build import build
from nncheck.model.views import FileModel, FileView, Screen
from nncheck.syntax.nodes import Node, scopes, simple_units

_EXPECTED = re.compile(r"#\s*(unknown|module|tensor|parameter|list|tuple|dict|loader|batch|object|iterable)"
                       r"(\s+with children|\s+requiring grad)?\s*$")

SAMPLES = {
    "a module-level name a function may rebind through `global`": """
        import torch

        weights = torch.zeros(2)
        kept = torch.zeros(2)

        def reset():
            global weights
            weights = None

        def use():
            weights  # unknown
            kept  # tensor
    """,
    "`global` and a tab": """
        import torch

        bias = torch.zeros(2)

        def clear():
            global\tbias; bias = None

        def use():
            bias  # unknown
    """,
    "`global` and a line continuation": """
        import torch

        scale = torch.zeros(2)

        def drop():
            global\\
                scale
            scale = None

        def use():
            scale  # unknown
    """,
    "a capture nested in a `case` pattern rebinds the name (no walrus in the file)": """
        import torch

        def pick(x):
            y = torch.zeros(2)
            match x:
                case [first, (y, *_)]:
                    y  # unknown
            return first
    """,
    "an `except ... as` name and an import in a function rebind it (no walrus in the file)": """
        import torch

        def attempt():
            e = torch.zeros(2)
            n = torch.zeros(2)
            try:
                pass
            except ValueError as e:
                e  # unknown
            import numpy as n
            n  # unknown
    """,
    "a walrus in a condition rebinds the name": """
        import torch

        def pick(x):
            y = torch.zeros(2)
            if (y := x.get()) is not None:
                y  # unknown
            z = torch.zeros(2)
            z  # tensor
    """,
    "a loader's batch, unpacked through enumerate, in another function": """
        import torch
        from torch.utils.data import DataLoader

        train_loader = DataLoader(range(4), batch_size=2)

        def run(device):
            for _, (x, y) in enumerate(train_loader):
                x  # tensor
                y  # tensor
            for batch in train_loader:
                batch  # batch
                images, labels = batch
                images  # tensor
            train_loader  # loader
    """,
    "a model rebound through self-returning methods": """
        import timm

        model = timm.create_model("resnet18")
        model = model.to("cuda")
        model = model.eval()
        model  # module with children
    """,
    "a layer through a local name, and what calling it gives": """
        import torch
        from torch import nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                tmp = nn.Conv2d(2, 2, 1)
                tmp  # module
                self.conv = tmp
                self.blocks = nn.ModuleList([nn.Linear(2, 2)])
                self.weight = nn.Parameter(torch.zeros(2))

            def forward(self, x):
                out = self.conv(x)
                out  # tensor
                self.conv  # module
                self.blocks[0]  # module
                self.weight  # parameter
                weight = self.weight
                weight.view(2)  # tensor
                for block in self.blocks:
                    block  # module
                return out
    """,
    "a name bound on two paths, and rebound from itself": """
        import torch
        from torch import nn

        def perturb(t, c):
            if c:
                p = torch.randint(0, 2, (3,))
            else:
                p = t[0] * torch.ones(3)
            p  # tensor
            x = torch.zeros(3)
            x = x + 1
            x = x.view(3)
            x  # tensor
            y = torch.zeros(3)
            y = y.tolist()
            y  # unknown
            z = torch.zeros(3)
            z = nn.Linear(2, 2)
            z  # module
    """,
    "annotations": """
        import torch
        from torch import Tensor, nn

        def build() -> nn.Module:
            return nn.Linear(2, 2)

        def helper(x: torch.Tensor, y: Tensor, m: nn.Module, n: "nn.Linear", o: int, p):
            x  # tensor
            y  # tensor
            m  # module
            n  # module
            o  # unknown
            p  # unknown
            built = build()
            built  # module

        class Head(nn.Module):
            proj: nn.Linear

            def forward(self, x) -> torch.Tensor:
                self.proj  # module
                return x

        def use(head: Head, x):
            y = head(x)
            y  # tensor
    """,
    "what the uses say": """
        import torch

        def load(task, cfg):
            model = task.build_model(cfg)
            model.eval()
            model  # module
            other = task.build_other(cfg)
            other  # unknown
            del model

        def step(net, x, scale):
            x * torch.ones(2)
            x  # tensor
            scale  # unknown
    """,
    "parameters, modules and containers": """
        from torch import nn

        net = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
        net  # module with children
        empty = nn.Sequential()
        empty  # module
        for p in net.parameters():
            p  # parameter
        for name, q in net.named_parameters():
            q  # parameter
        for m in net.modules():
            m  # module
        layers = [nn.Linear(2, 2) for _ in range(3)]
        layers  # list
        layers[0]  # module
        heads = {"a": nn.Linear(2, 1)}
        heads["a"]  # module
        "%s" % p  # unknown
    """,
    "classes of the file": """
        from torch import nn

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(2, 2)

        class Leaf(nn.Module):
            def __init__(self):
                super().__init__()
                self.scale = 2

        class Trainer:
            def __init__(self):
                self.model = Block()

        block = Block()
        block  # module with children
        block.fc  # module
        Leaf()  # module
        trainer = Trainer()
        trainer  # object
        trainer.model  # module with children
        cfg = object()
        cfg.training  # unknown
    """,
    "results that only a tensor gives, and what registering or a torch function shows": """
        import copy
        import torch
        import torch.nn.functional as F
        from torch import nn

        def skew(x, pad_value, model, name, block):
            x = F.pad(x, (0, 1), value=pad_value)
            x  # tensor
            targets = model.get_targets(x).view(-1)
            targets  # tensor
            shown = model.graph().view("file.pdf")
            shown  # unknown
            model.set_submodule(name, block)
            block  # module
            model._modules[name]  # module

        def conv(in_channels, out_channels):
            layer = nn.Conv2d(in_channels, out_channels, 3)
            return nn.utils.weight_norm(layer)

        class Ema(nn.Module):
            def __init__(self, model):
                super().__init__()
                self.model = copy.deepcopy(model)
                self.proj = conv(2, 2)
                self.proj  # module

            def update(self):
                self.model  # module
                for p in self.model.parameters():
                    p  # parameter
    """,
    "tensors made to require grad": """
        import torch
        from torch import nn
        from torch.autograd import Variable

        def make(dim, flag, t: torch.Tensor):
            torch.ones(dim, requires_grad=True)  # tensor requiring grad
            torch.randn(dim, dim, requires_grad=True, device="cpu")  # tensor requiring grad
            torch.zeros(dim).requires_grad_()  # tensor requiring grad
            torch.zeros(dim).requires_grad_(True)  # tensor requiring grad
            torch.zeros(dim).requires_grad_(False)  # tensor
            torch.zeros(dim).requires_grad_(flag)  # tensor
            torch.ones(dim, requires_grad=False)  # tensor
            torch.ones(dim, requires_grad=flag)  # tensor
            Variable(t, requires_grad=True)  # tensor requiring grad
            Variable(t)  # tensor
            t.new_zeros(dim, requires_grad=True)  # tensor requiring grad
            t.detach().clone().requires_grad_()  # tensor requiring grad
            torch.empty(dim).uniform_(-1, 1).requires_grad_()  # tensor requiring grad
            torch.empty(dim).normal_()  # tensor
            torch.Tensor(dim)  # tensor
            nn.Parameter(torch.ones(dim, requires_grad=True))  # parameter
            nn.Parameter(torch.ones(dim)).requires_grad_()  # parameter
            w = torch.ones(dim, requires_grad=True)
            w  # tensor requiring grad
            w = w.to("cpu")
            w  # tensor
            torch.ones(dim, requires_grad=True) * 2  # tensor
    """,
    "only the bindings that reach the statement": """
        import torch
        from torch import nn

        def step(helper, batch, flag):
            y = torch.zeros(3)
            y  # tensor
            y = helper(y)
            y  # unknown
            z = helper(batch)
            if flag:
                z = torch.ones(2)
                z  # tensor
            z  # unknown
            for _ in range(3):
                w = torch.ones(2)
                w  # tensor
                w = helper(w)
            v = torch.ones(2)
            for _ in range(3):
                v  # unknown
                v = helper(v)
            layers = []
            layers += [nn.Linear(2, 2)]
            layers  # list
    """,
}


def _views(text: str) -> list[FileView]:  # type: ignore[type-arg]
    tree = ast.parse(text)
    table, class_nodes = build(tree)
    return [Screen(table, tree, class_nodes, text), FileModel(table, cst.parse_module(text), text)]


def _probes(view: FileView) -> list[tuple[Node, Node, Node]]:  # type: ignore[type-arg]
    """(scope, expression, statement) of every expression statement, in the same order in both trees."""
    found = []
    for owner, body in scopes(view.tree):
        for unit in simple_units(body):
            if isinstance(unit, (ast.Expr, cst.Expr)):
                found.append((owner, unit.value, unit))
    return found


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_tree_gives_the_expected_kind(name: str) -> None:
    text = textwrap.dedent(SAMPLES[name])
    lines = text.splitlines()
    answers = []
    for view in _views(text):
        asked = {}
        for owner, expr, statement in _probes(view):
            value = view.values.of(expr, owner, at=statement)
            children = " with children" if view.values.has_children(value) else ""
            grad = " requiring grad" if value.requires_grad else ""
            asked[_line(view, expr)] = f"{value.kind.value}{children}{grad}"
        answers.append(asked)
    assert answers[0] == answers[1]  # Python's ast and libcst agree on every expression
    wanted = {number: f"{m[1]}{m[2] or ''}" for number, line in enumerate(lines, start=1)
              if (m := _EXPECTED.search(line))}
    assert {number: answers[0][number] for number in wanted} == wanted


def _line(view: FileView, expr: Node) -> int:  # type: ignore[type-arg]
    if isinstance(expr, ast.AST):
        return expr.lineno  # type: ignore[attr-defined, no-any-return]
    return view.tree.code_for_node(expr) and _cst_lines(view)[id(expr)]  # type: ignore[union-attr]


def _cst_lines(view: FileView) -> dict[int, int]:  # type: ignore[type-arg]
    wrapper = cst.MetadataWrapper(view.tree, unsafe_skip_copy=True)  # type: ignore[arg-type]
    positions = wrapper.resolve(cst.metadata.PositionProvider)
    return {id(node): position.start.line for node, position in positions.items()}
