"""The mistakes benchmarks/recall.py seeds into real code, one at a time.

Each generator reads a file's text and Python's ast and yields mutants: the whole new text, and the
lines of the new text where nncheck must report the rule's code. Sites are chosen as a reader would
choose them, without asking nncheck: a class with a `forward` method is taken for a module, a call of
a capitalised name for a layer. Where that guess is wrong, the site is not a mistake: such sites are
listed, with the reason, in benchmarks/recall_excluded.txt.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    code: str  # the rule that must find it
    site: int  # the line of the original the mistake is seeded at (names the site)
    text: str  # the mutated source
    region: tuple[int, int]  # the lines of the mutant where the finding must be
    what: str  # a short description, for the list of misses (one line)

    def __post_init__(self) -> None:
        object.__setattr__(self, "what", " ".join(self.what.split()))


class Source:
    def __init__(self, text: str, tree: ast.Module) -> None:
        self.text = text
        self.tree = tree
        self.lines = text.splitlines(keepends=True)
        self._starts = [0]
        for line in self.lines:
            self._starts.append(self._starts[-1] + len(line))

    def offset(self, line: int, col: int) -> int:
        """The index in the text of (1-based line, 0-based column in UTF-8 bytes, as ast gives it)."""
        text = self.lines[line - 1] if line - 1 < len(self.lines) else ""
        return self._starts[line - 1] + len(text.encode("utf-8")[:col].decode("utf-8", "replace"))

    def span(self, node: ast.AST) -> tuple[int, int]:
        return (self.offset(node.lineno, node.col_offset),  # type: ignore[attr-defined]
                self.offset(node.end_lineno, node.end_col_offset))  # type: ignore[attr-defined]

    def replace(self, start: int, end: int, new: str) -> str:
        return self.text[:start] + new + self.text[end:]

    def segment(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.text[start:end]


def _classes(tree: ast.Module) -> Iterator[ast.ClassDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            yield node


def _methods(cls: ast.ClassDef) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef)}


def _module_like(cls: ast.ClassDef) -> bool:
    """A reader takes a class with bases and a `forward` method for an nn.Module (but an autograd
    Function, whose forward is a staticmethod, and an abstract class, whose forward only raises)."""
    forward = _methods(cls).get("forward")
    if not cls.bases or forward is None:
        return False
    code = [s for s in forward.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    only_raises = bool(code) and all(isinstance(s, ast.Raise) for s in code)
    static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in forward.decorator_list)
    return not only_raises and not static


def _is_base_init(statement: ast.stmt) -> bool:
    if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)):
        return False
    func = statement.value.func
    if not (isinstance(func, ast.Attribute) and func.attr == "__init__"):
        return False
    owner = func.value
    if isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "super":
        return True
    args = statement.value.args
    return isinstance(owner, (ast.Name, ast.Attribute)) and bool(args) and isinstance(args[0], ast.Name) \
        and args[0].id == "self"


def _layer_call(value: ast.expr) -> bool:
    """`nn.Linear(...)`, `Block(...)`: a call of a capitalised name."""
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name[:1].isupper() and not name.isupper()


def call_renamed(src: Source) -> Iterator[Mutant]:
    """NNC001: `def forward` renamed `def __call__`."""
    for cls in _classes(src.tree):
        methods = _methods(cls)
        if not _module_like(cls) or "__call__" in methods:
            continue
        forward = methods["forward"]
        start = src.offset(forward.lineno, forward.col_offset)
        head = src.text[start:start + 20]
        prefix = "async def forward" if head.startswith("async") else "def forward"
        if not head.startswith(prefix):
            continue
        new = prefix.replace("forward", "__call__")
        yield Mutant("NNC001", forward.lineno, src.replace(start, start + len(prefix), new),
                     (forward.lineno, forward.lineno), f"{cls.name}.forward renamed __call__")


def base_init_deleted(src: Source) -> Iterator[Mutant]:
    """NNC002: the base `__init__` call deleted (left as `pass`)."""
    for cls in _classes(src.tree):
        init = _methods(cls).get("__init__")
        if not _module_like(cls) or init is None:
            continue
        calls = [s for s in init.body if _is_base_init(s)]
        if len(calls) != 1:
            continue
        start, end = src.span(calls[0])
        yield Mutant("NNC002", init.lineno, src.replace(start, end, "pass"), (init.lineno, init.lineno),
                     f"{cls.name}.__init__ without its base __init__ call")


def base_init_moved(src: Source) -> Iterator[Mutant]:
    """NNC004: the base `__init__` call moved below the first layer assigned to self."""
    for cls in _classes(src.tree):
        init = _methods(cls).get("__init__")
        if not _module_like(cls) or init is None:
            continue
        body = init.body
        index = next((i for i, s in enumerate(body) if _is_base_init(s)), None)
        if index is None:
            continue
        later = next((s for s in body[index + 1:] if isinstance(s, ast.Assign) and len(s.targets) == 1
                      and isinstance(s.targets[0], ast.Attribute) and isinstance(s.targets[0].value, ast.Name)
                      and s.targets[0].value.id == "self" and _layer_call(s.value)), None)
        if later is None:
            continue
        call = body[index]
        call_start = src.offset(call.lineno, 0)
        call_end = src.offset(call.end_lineno + 1, 0)  # type: ignore[operator]
        call_lines = src.text[call_start:call_end]
        if src.text[call_start:src.offset(call.lineno, call.col_offset)].strip():
            continue  # not alone on its lines
        insert_at = src.offset(later.end_lineno + 1, 0)  # type: ignore[operator]
        if insert_at < call_end or src.text[insert_at - 1:insert_at] != "\n":
            continue
        text = src.text[:call_start] + src.text[call_end:insert_at] + call_lines + src.text[insert_at:]
        moved = call_lines.count("\n")
        # NNC004 reports the first statement that the call now follows and should precede.
        yield Mutant("NNC004", later.lineno, text, (call.lineno, later.end_lineno - moved),  # type: ignore[operator]
                     f"{cls.name}.__init__ assigns self.{later.targets[0].attr} before its base __init__ call")


def class_duplicated(src: Source) -> Iterator[Mutant]:
    """NNC003: a module class written twice in a row (not a decorated one: a registry may keep the first)."""
    for cls in src.tree.body:
        if not isinstance(cls, ast.ClassDef) or not _module_like(cls) or cls.col_offset or cls.decorator_list:
            continue
        first = min([cls.lineno, *(d.lineno for d in cls.decorator_list)])
        start, end = src.offset(first, 0), src.offset(cls.end_lineno + 1, 0)  # type: ignore[operator]
        block = src.text[start:end]
        if not block.endswith("\n"):
            continue
        copy_line = cls.end_lineno + 1 + (cls.lineno - first)  # type: ignore[operator]
        yield Mutant("NNC003", cls.lineno, src.text[:end] + block + src.text[end:], (copy_line, copy_line),
                     f"class {cls.name} duplicated")


def module_list_unwrapped(src: Source) -> Iterator[Mutant]:
    """NNC005: `self.x = nn.ModuleList([...])` in `__init__` turned into the plain list."""
    for cls in _classes(src.tree):
        init = _methods(cls).get("__init__")
        if not _module_like(cls) or init is None:
            continue
        for node in ast.walk(init):
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.value, ast.Call)):
                continue
            target, call = node.targets[0], node.value
            func = call.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name != "ModuleList" or not isinstance(target, ast.Attribute) or call.keywords:
                continue
            if not (isinstance(target.value, ast.Name) and target.value.id == "self"):
                continue
            if not call.args:
                filled = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                             and n.func.attr in ("append", "extend") and isinstance(n.func.value, ast.Attribute)
                             and n.func.value.attr == target.attr for n in ast.walk(init))
                if not filled:
                    continue
                replacement = "[]"
            elif len(call.args) == 1 and isinstance(call.args[0], (ast.List, ast.ListComp)):
                replacement = src.segment(call.args[0])
            else:
                continue
            if any(isinstance(n, ast.Call) and _stateless_layer(n) for n in ast.walk(call)):
                continue  # pooling and activations lose nothing in a plain list: not a mistake
            start, end = src.span(call)
            text = src.replace(start, end, replacement)
            yield Mutant("NNC005", node.lineno, text, (node.lineno, node.lineno),
                         f"{cls.name}: self.{target.attr} = nn.ModuleList(...) made a plain list")


_STATELESS = ("Pool", "ReLU", "GELU", "SiLU", "Sigmoid", "Tanh", "Identity", "Flatten", "Upsample", "Softmax")


def _stateless_layer(call: ast.Call) -> bool:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return any(word in name for word in _STATELESS)


def forward_misspelled(src: Source) -> Iterator[Mutant]:
    """NNC006: `def forward` misspelled `def foward`."""
    for cls in _classes(src.tree):
        methods = _methods(cls)
        if not _module_like(cls) or "foward" in methods:
            continue
        forward = methods["forward"]
        start = src.offset(forward.lineno, forward.col_offset)
        if not src.text.startswith("def forward", start):
            continue
        yield Mutant("NNC006", forward.lineno, src.replace(start, start + len("def forward"), "def foward"),
                     (forward.lineno, forward.lineno), f"{cls.name}.forward misspelled foward")


def dataclass_added(src: Source) -> Iterator[Mutant]:
    """NNC008: `@dataclasses.dataclass` put on a module class (and `import dataclasses` at the top)."""
    body = src.tree.body
    position = 0
    while position < len(body) and (
        (isinstance(body[position], ast.Expr) and isinstance(getattr(body[position], "value", None), ast.Constant))
        or (isinstance(body[position], ast.ImportFrom) and getattr(body[position], "module", "") == "__future__")
    ):
        position += 1
    if position >= len(body):
        return
    anchor = body[position]
    anchor_line = min([anchor.lineno, *(d.lineno for d in getattr(anchor, "decorator_list", []))])
    for cls in _classes(src.tree):
        if not _module_like(cls) or cls.decorator_list:
            continue
        indent = src.lines[cls.lineno - 1][:cls.col_offset]
        at = src.offset(cls.lineno, 0)
        text = src.replace(at, at, f"{indent}@dataclasses.dataclass\n")
        top = src.offset(anchor_line, 0)
        if top > at:
            continue
        text = text[:top] + "import dataclasses\n" + text[top:]
        line = cls.lineno + 2  # below the import and the decorator, which is where NNC008 reports
        yield Mutant("NNC008", cls.lineno, text, (line - 1, line), f"@dataclass on {cls.name}")


_PARAMETERS_KEPT = {"train": 1, "state_dict": 1, "_apply": 2}  # what is left: self (and fn)


def override_narrowed(src: Source) -> Iterator[Mutant]:
    """NNC010: `train(self, mode=True)` losing `mode`, `state_dict(self, ...)` its parameters,
    `_apply(self, fn, recurse=True)` its `recurse`."""
    for cls in _classes(src.tree):
        if not _module_like(cls):
            continue
        for name, kept in _PARAMETERS_KEPT.items():
            method = _methods(cls).get(name)
            if method is None:
                continue
            args = method.args
            every = [*args.posonlyargs, *args.args]
            has_more = len(every) > kept or args.vararg or args.kwarg or args.kwonlyargs
            if len(every) < kept or not has_more:
                continue
            first = every[0]
            parts: list[ast.AST] = [*every, *args.kwonlyargs, *args.defaults,
                                    *(d for d in args.kw_defaults if d is not None),
                                    *(a for a in (args.vararg, args.kwarg) if a is not None)]
            last = max(parts, key=lambda n: (n.end_lineno, n.end_col_offset))  # type: ignore[attr-defined]
            start = src.offset(first.lineno, first.col_offset)
            end = src.offset(last.end_lineno, last.end_col_offset)  # type: ignore[attr-defined]
            new = ", ".join(a.arg for a in every[:kept])
            text = src.replace(start, end, new)
            yield Mutant("NNC010", method.lineno, text, (method.lineno, method.lineno),
                         f"{cls.name}.{name}({new})")


_TENSOR_ATTRIBUTES = ("weight", "bias", "data", "grad")


def _tensor_names(tree: ast.Module) -> set[str]:
    """Names a reader takes for tensors: loop variables over `.parameters()` and the like, names
    assigned `nn.Parameter(...)` or a `torch.` function's result."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.For, ast.comprehension)) and isinstance(node.iter, ast.Call):
            func = node.iter.func
            iterated = ("parameters", "named_parameters", "buffers", "named_buffers", "values")
            if isinstance(func, ast.Attribute) and func.attr in iterated:
                target = node.target
                names = target.elts if isinstance(target, ast.Tuple) else [target]
                found.update(n.id for n in names if isinstance(n, ast.Name))
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            called = ast.unparse(node.value.func)
            if called.startswith("torch.") or called.endswith("Parameter"):
                found.update(ast.unparse(t) for t in node.targets if isinstance(t, (ast.Name, ast.Attribute)))
        if isinstance(node, ast.Call) and node.args and ast.unparse(node.func).rsplit(".", 1)[-1].endswith("_"):
            found.add(ast.unparse(node.args[0]))  # `init.zeros_(module.z)`: a tensor is initialised in place
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names = [a.arg for a in node.args.args]
            if "output" in names and "input" in names:  # a forward hook's tensors
                found.update(("input", "output"))
    return found


def requires_grad_assigned(src: Source) -> Iterator[Mutant]:
    """NNC011: `m.requires_grad_(False)` turned into `m.requires_grad = False`, where `m` is not
    taken for a tensor (a parameter's `requires_grad = False` is right)."""
    tensors = _tensor_names(src.tree)
    for node in ast.walk(src.tree):
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
            continue
        call = node.value
        if not (isinstance(call.func, ast.Attribute) and call.func.attr == "requires_grad_") or call.keywords:
            continue
        if len(call.args) > 1 or node.lineno != node.end_lineno:
            continue
        value = src.segment(call.args[0]) if call.args else "True"
        receiver = src.segment(call.func.value)
        owner = call.func.value
        if receiver in tensors or (isinstance(owner, ast.Attribute) and owner.attr in _TENSOR_ATTRIBUTES) \
                or isinstance(owner, (ast.Subscript, ast.Call)):
            continue
        start, end = src.span(node.value)
        yield Mutant("NNC011", node.lineno, src.replace(start, end, f"{receiver}.requires_grad = {value}"),
                     (node.lineno, node.lineno), f"{receiver}.requires_grad = {value}")


def dropout_training_removed(src: Source) -> Iterator[Mutant]:
    """NNC012: `training=self.training` removed from `F.dropout(...)` in forward."""
    for cls in _classes(src.tree):
        forward = _methods(cls).get("forward")
        if not _module_like(cls) or forward is None:
            continue
        for node in ast.walk(forward):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            if "dropout" not in node.func.attr:
                continue
            keyword = next((k for k in node.keywords if k.arg == "training"), None)
            if keyword is None or ast.unparse(keyword.value) != "self.training":
                continue
            start, end = src.span(keyword)
            before = src.text[:start].rstrip()
            after = src.text[end:]
            if before.endswith(","):
                text = before[:-1] + after
            elif after.lstrip().startswith(","):
                text = src.text[:start] + after.lstrip()[1:].lstrip()
            else:
                continue
            yield Mutant("NNC012", node.lineno, text, (node.lineno, node.end_lineno or node.lineno),
                         f"{src.segment(node.func)}(...) without training=")


_NOT_CALLED = ("eval", "train", "step", "zero_grad", "backward")


def call_dropped(src: Source) -> Iterator[Mutant]:
    """NNC013: the `()` dropped from `model.eval()`, `optimizer.step()` and the like as statements."""
    for node in ast.walk(src.tree):
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
            continue
        call = node.value
        if call.args or call.keywords or not isinstance(call.func, ast.Attribute) or call.func.attr not in _NOT_CALLED:
            continue
        start, end = src.span(call)
        func_end = src.span(call.func)[1]
        if src.text[func_end:end].replace(" ", "") != "()":
            continue
        yield Mutant("NNC013", node.lineno, src.replace(func_end, end, ""), (node.lineno, node.lineno),
                     f"{src.segment(call.func)} without ()")


def sequential_not_unpacked(src: Source) -> Iterator[Mutant]:
    """NNC014: `nn.Sequential(*layers)` turned into `nn.Sequential(layers)`."""
    for node in ast.walk(src.tree):
        if not isinstance(node, ast.Call) or len(node.args) != 1 or node.keywords:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        starred = node.args[0]
        if name != "Sequential" or not isinstance(starred, ast.Starred):
            continue
        start = src.offset(starred.lineno, starred.col_offset)
        if src.text[start] != "*":
            continue
        yield Mutant("NNC014", node.lineno, src.replace(start, start + 1, ""), (node.lineno, node.lineno),
                     f"{src.segment(func)}({src.segment(starred.value)})")


# Tensor methods whose result `x = x.op(...)` keeps (a module has none of them but to, cuda, float, half).
_TENSOR_OPS = frozenset({
    "to", "cuda", "float", "half", "double", "long", "view", "reshape", "permute", "transpose", "contiguous",
    "masked_fill", "clamp", "squeeze", "unsqueeze", "flatten", "detach", "add", "mul", "sub", "div", "softmax",
    "sigmoid", "tanh", "relu", "exp", "log", "abs", "sqrt", "pow", "clone", "type_as", "expand", "repeat",
})


# Methods a module has too (it changes in place, so `model.to(device)` alone is right).
_MODULE_TOO = frozenset({"to", "cuda", "float", "half", "double"})
_MODULE_USES = (".eval()", ".train(", ".parameters(", ".state_dict(", ".load_state_dict(", ".named_parameters(",
                ".modules(", ".children(")
_MODULE_WORDS = ("model", "net", "module", "encoder", "decoder", "backbone", "layer", "head", "block")


def _module_like_receiver(src: Source, receiver: str) -> bool:
    """A reader takes the receiver for a module: it is used as one, or named like one."""
    last = receiver.rsplit(".", 1)[-1].lower()
    return any(word in last for word in _MODULE_WORDS) or any(receiver + use in src.text for use in _MODULE_USES)


def _raising_lines(tree: ast.Module) -> set[int]:
    """The lines of `try` bodies and `with pytest.raises(...)` blocks: a call there may be made to raise."""
    found: set[int] = set()
    for node in ast.walk(tree):
        body: list[ast.stmt] = []
        if isinstance(node, ast.Try):
            body = node.body
        elif isinstance(node, ast.With) and any("raises" in ast.unparse(item.context_expr) for item in node.items):
            body = node.body
        for statement in body:
            found.update(range(statement.lineno, (statement.end_lineno or statement.lineno) + 1))
    return found


def result_discarded(src: Source) -> Iterator[Mutant]:
    """NNC015: `x = x.op(...)` turned into the bare `x.op(...)` (not `model = model.to(device)`, nor in a
    `try` body or a `pytest.raises` block, where a statement may be there to raise)."""
    raising = _raising_lines(src.tree)
    for node in ast.walk(src.tree):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.value, ast.Call)):
            continue
        target, call = node.targets[0], node.value
        if not isinstance(call.func, ast.Attribute) or call.func.attr not in _TENSOR_OPS:
            continue
        if not isinstance(target, (ast.Name, ast.Attribute)) or ast.unparse(target) != ast.unparse(call.func.value):
            continue
        if call.func.attr in _MODULE_TOO and _module_like_receiver(src, ast.unparse(target)):
            continue
        if node.lineno in raising:
            continue
        start = src.offset(node.lineno, node.col_offset)
        value_start = src.offset(call.lineno, call.col_offset)
        if node.lineno != call.lineno:
            continue
        yield Mutant("NNC015", node.lineno, src.replace(start, value_start, ""), (node.lineno, node.lineno),
                     f"{src.segment(call.func)}(...) thrown away")


GENERATORS: dict[str, Callable[[Source], Iterator[Mutant]]] = {
    "NNC001": call_renamed,
    "NNC002": base_init_deleted,
    "NNC003": class_duplicated,
    "NNC004": base_init_moved,
    "NNC005": module_list_unwrapped,
    "NNC006": forward_misspelled,
    "NNC008": dataclass_added,
    "NNC010": override_narrowed,
    "NNC011": requires_grad_assigned,
    "NNC012": dropout_training_removed,
    "NNC013": call_dropped,
    "NNC014": sequential_not_unpacked,
    "NNC015": result_discarded,
}
