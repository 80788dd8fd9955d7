"""Findings alone are worked out on a reduced source: the classes that cannot be reported on become
stubs before libcst sees the file (engine/focus.py). Whatever is stubbed, the findings must be those of
the whole file, at the same places."""

from __future__ import annotations

import ast
import dataclasses

import pytest

from nncheck import Settings, check_source
from nncheck.engine.checker import analyse
from nncheck.engine.focus import focus, reduce
from nncheck.engine.rule_set import all_rules
from nncheck.model.build import build
from nncheck.model.views import Screen

EVERY_RULE = Settings(select=tuple(rule.code for rule in all_rules()))
WHOLE = dataclasses.replace(EVERY_RULE, prescreen=False)

CLEAN = '''

@decorated
class Clean{n}(nn.Module):
    """Nothing to report."""

    def __init__(self, dim=4):
        super().__init__()
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        return self.proj(x)
'''


def _padded(sample: str, count: int = 3) -> tuple[str, int]:
    """The sample between clean module classes, and how many lines come before it."""
    head = "from torch import nn\nimport torch\n" + "".join(CLEAN.format(n=n) for n in range(count)) + "\n\n"
    tail = "".join(CLEAN.format(n=n) for n in range(count, 2 * count))
    return head + sample + "\n" + tail, head.count("\n")


SAMPLES = [
    pytest.param(text, id=f"{rule.code}-{kind}{index}")
    for rule in all_rules()
    for kind, texts in (("valid", rule.valid), ("invalid", [s.source for s in rule.invalid_samples()]))
    for index, text in enumerate(texts)
]


@pytest.mark.parametrize("sample", SAMPLES)
def test_every_sample_between_clean_classes_gives_the_whole_file_s_findings(sample: str) -> None:
    text, offset = _padded(sample)
    alone = check_source(sample, "x.py", EVERY_RULE)
    padded = check_source(text, "x.py", EVERY_RULE)
    assert padded == check_source(text, "x.py", WHOLE)
    # The sample's findings, moved down by the padding (messages may name lines, which move too).
    assert [(f.line - offset, f.col, f.code) for f in padded] == [(f.line, f.col, f.code) for f in alone]


def _reduced(text: str) -> str | None:
    tree = ast.parse(text)
    table, nodes = build(tree, EVERY_RULE.module_bases, None)
    where = focus(Screen(table, tree, nodes, text), EVERY_RULE)
    assert where is not None
    reduced = reduce(text, tree, table, nodes, where)
    return None if reduced is None else reduced.text


CALL = "\n\nclass Net(nn.Module):\n    def __call__(self, x):\n        return x\n"


def test_clean_classes_become_one_line_stubs() -> None:
    text, _ = _padded(CALL, count=1)
    reduced = _reduced(text)
    assert reduced is not None
    lines = text.splitlines()
    stubs = [i for i, line in enumerate(lines) if line == "@decorated"]
    # Each clean class (10 lines from its decorator) is a one-line stub; the rest is as it was.
    dropped = {i for stub in stubs for i in range(stub + 1, stub + 10)}
    expected = [("class Clean0: pass" if i == stubs[0] else "class Clean1: pass" if i == stubs[1] else line)
                for i, line in enumerate(lines) if i not in dropped]
    assert reduced.splitlines() == expected
    assert "class Net(nn.Module):\n    def __call__(self, x):\n        return x" in reduced
    # The finding is where it is in the file, not in the reduced source.
    assert check_source(text, "x.py", EVERY_RULE) == check_source(text, "x.py", WHOLE)


def test_a_reported_class_keeps_its_bases_from_the_file() -> None:
    # The layer is made in Base.forward, reached from Sub: Base is kept though only Sub is a module here.
    text = ("from torch import nn\n\n\nclass Base:\n    def forward(self, x):\n        return nn.Linear(2, 2)(x)\n"
            "\n\nclass Sub(Base, nn.Module):\n    pass\n" + CLEAN.format(n=0))
    reduced = _reduced(text)
    assert reduced is not None and "class Base:\n    def forward" in reduced and "class Clean0: pass" in reduced
    findings = check_source(text, "x.py", EVERY_RULE)
    assert [(f.line, f.code) for f in findings] == [(6, "NNC009")]
    assert findings == check_source(text, "x.py", WHOLE)


def test_a_rule_that_asks_about_a_stub_gets_the_whole_file() -> None:
    # super(Clean0, self): NNC002 asks what Clean0 is, and Clean0 was stubbed.
    text = ("from torch import nn\n" + CLEAN.format(n=0) + "\n\nclass Net(nn.Module):\n    def __init__(self):\n"
            "        super(Clean0, self).__init__()\n")
    findings = check_source(text, "x.py", EVERY_RULE)
    assert [f.code for f in findings] == ["NNC002"]
    assert findings == check_source(text, "x.py", WHOLE)


def test_a_decorator_over_several_lines_is_checked_whole() -> None:
    text = "from torch import nn\n\n\n@(\n    decorated\n)\nclass Clean(nn.Module):\n    pass\n" + CALL
    assert _reduced(text) is None
    assert [f.code for f in check_source(text, "x.py", EVERY_RULE)] == ["NNC001"]


def test_cells_keep_their_last_statements_when_classes_are_stubbed() -> None:
    # A percent-format cell that ends with a class: the statement before it is not displayed.
    text = ("import torch\nfrom torch import nn\n\n# %%\nx = torch.ones(2)\nx.add(1)\n" + CLEAN.format(n=0)
            + "\n# %%\nx.add(2)\n")
    findings = check_source(text, "x.py", EVERY_RULE)
    assert [(f.line, f.code) for f in findings] == [(6, "NNC015")]
    assert findings == check_source(text, "x.py", WHOLE)


def test_findings_alone_never_keep_a_reduced_tree() -> None:
    text, _ = _padded(CALL)
    assert analyse(text, "x.py", EVERY_RULE, partial=True).module is None
    module = analyse(text, "x.py", EVERY_RULE).module
    assert module is not None and module.code == text  # the fixer's tree is the whole file


def test_a_rule_whose_screen_says_no_is_not_run_on_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    # The screen's answer holds per rule: libcst's tree is walked only by the rules that may report.
    import nncheck.engine.checker
    import nncheck.engine.focus
    from nncheck.model.views import FileModel
    from nncheck.rule import Rule

    class Quiet(Rule):
        code = "NNC998"
        name = "quiet"
        message = "{x}"
        valid = ()
        invalid = ()

        @classmethod
        def might_report(cls, screen: Screen) -> bool:
            return False

        def check(self, model: FileModel):  # type: ignore[no-untyped-def]
            raise ValueError("run though its screen said no")

    rules = (*all_rules(), Quiet)

    def chosen(settings: Settings) -> tuple[type[Rule], ...]:
        return tuple(rule for rule in rules if settings.is_selected(rule.code, rule.default_enabled))

    monkeypatch.setattr(nncheck.engine.checker, "selected_rules", chosen)
    monkeypatch.setattr(nncheck.engine.focus, "selected_rules", chosen)
    source = "from torch import nn\n\n\nclass Net(nn.Module):\n    def __call__(self, x):\n        return x\n"
    settings = dataclasses.replace(EVERY_RULE, select=(*EVERY_RULE.select, "NNC998"))
    assert [(f.line, f.code) for f in check_source(source, "m.py", settings)] == [(5, "NNC001")]
    whole = dataclasses.replace(settings, prescreen=False)
    assert [f.code for f in check_source(source, "m.py", whole)] == ["NNC901", "NNC001"]


@pytest.mark.parametrize("use", [False, True])
def test_a_class_defined_twice_keeps_what_is_between_and_the_rest_is_stubbed(use: bool) -> None:
    # NNC003 says where: both definitions and every statement between them reach libcst in full (a
    # class between that uses the first one keeps it), the classes elsewhere become stubs.
    between = "\n\nclass Uses(nn.Module):\n    kind = Net\n" if use else "\n\nclass Other(nn.Module):\n    pass\n"
    text = ("from torch import nn\n" + CLEAN.format(n=0) + "\n\nclass Net(nn.Module):\n    pass\n" + between
            + "\n\nclass Net(nn.Module):\n    pass\n" + CLEAN.format(n=1))
    reduced = _reduced(text)
    assert reduced is not None and "class Clean0: pass" in reduced and "class Clean1: pass" in reduced
    assert between in reduced
    findings = check_source(text, "x.py", EVERY_RULE)
    assert [f.code for f in findings] == ([] if use else ["NNC003"])
    assert findings == check_source(text, "x.py", WHOLE)


def test_what_a_rule_reports_does_not_depend_on_another_rule_bringing_the_file_to_libcst() -> None:
    # No torch imported: NNC015's screen says no; its check says so too, even when NNC003 (a class
    # defined twice) has libcst parse the file, and the language server's kept answers run every rule.
    text = "x = make()\nx.view(2)\n\n\nclass A:\n    pass\n\n\nclass A:\n    pass\n"
    assert check_source(text, "x.py", EVERY_RULE) == check_source(text, "x.py", WHOLE) == []
