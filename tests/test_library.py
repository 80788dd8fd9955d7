"""The one library call that every front end uses."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from nncheck import Finding, Settings, check_source
from nncheck.findings import FixSafety
from nncheck.fixes.fixer import fix_file
from nncheck.model.views import FileModel
from nncheck.rule import Report, Rule
from conftest import EXAMPLES
from test_cli import BAD


def test_str_and_bytes_give_the_same_findings() -> None:
    assert check_source(BAD, "m.py") == check_source(BAD.encode(), "m.py") == [
        Finding(
            "m.py", 5, 4, "NNC001", "Net.__call__ bypasses forward hooks; rename it to forward", FixSafety.SAFE,
            (5, 8, 5, 16), "Rename __call__ to forward",
        )
    ]


def test_module_bases_setting() -> None:
    source = "from mylib import Base\n\nclass Net(Base):\n    def __init__(self):\n        pass\n"
    assert check_source(source) == []
    found = check_source(source, settings=Settings(module_bases=frozenset({"mylib.Base"})))
    assert [(f.line, f.code) for f in found] == [(4, "NNC002")]


def test_noqa_can_be_left_to_the_host() -> None:
    silenced = BAD.replace("(self, x):", "(self, x):  # noqa: NNC001")
    assert check_source(silenced) == []
    assert [f.code for f in check_source(silenced, honour_noqa=False)] == ["NNC001"]


class _Broken(Rule):
    code = "NNC999"
    name = "broken"
    message = "{x}"
    valid = ()
    invalid = ()

    def check(self, model: FileModel) -> Iterator[Report]:
        raise ValueError("boom")


def test_a_failing_rule_becomes_nnc901_and_the_others_still_report(monkeypatch: pytest.MonkeyPatch) -> None:
    import nncheck.engine.checker
    from nncheck.engine.rule_set import selected_rules

    monkeypatch.setattr(nncheck.engine.checker, "selected_rules", lambda settings: (*selected_rules(settings), _Broken))
    found = check_source(BAD, "m.py")
    assert [(f.code, f.message) for f in found] == [
        ("NNC901", "internal error in nncheck (NNC999): ValueError: boom"),
        ("NNC001", "Net.__call__ bypasses forward hooks; rename it to forward"),
    ]


def test_checking_leaves_no_cycles_and_the_collector_as_it_was() -> None:
    # The collector is paused while a file is checked, which is only sound if checking leaves no
    # cycles behind: the notes kept on ast nodes once held their own node, and kept every tree alive.
    examples = sorted(EXAMPLES.glob("*.py"))
    assert examples
    for path in examples:  # a first round loads what is loaded once
        check_source(path.read_text(encoding="utf-8"), str(path))
    assert gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        fixed = 0
        for path in examples:
            check_source(path.read_text(encoding="utf-8"), str(path))
            fixed += fix_file(str(path), unsafe=True, write=False).result.changed
        assert fixed and not gc.isenabled()
        assert gc.collect() == 0
    finally:
        gc.enable()
