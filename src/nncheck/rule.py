"""What every rule is: a class with a code, a message template, documentation and code samples.

A rule's docstring is its user documentation, with the sections "What it finds", "Why is this a bug",
"Example", "Instead" and "Fix". `valid` samples must produce no finding of the rule's code; `invalid`
samples mark each expected finding with a `# NNCxxx` comment on the reported line, and may carry the
text `--fix` (and `--fix --unsafe-fixes`) must turn them into. The test suite runs every sample of
every rule, so a rule documents and tests itself.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar, Union

import libcst as cst

from nncheck.findings import FixSafety
from nncheck.fixes.fix import Fix
from nncheck.model.views import FileModel, Screen


class FixAvailability(Enum):
    """What a rule's fixes can be, as its documentation and the codes table say."""

    NONE = "none"
    SAFE = "safe"
    UNSAFE = "unsafe"
    SAFE_OR_UNSAFE = "safe or unsafe"  # depending on the case

    def allows(self, safety: FixSafety) -> bool:
        return self is FixAvailability.SAFE_OR_UNSAFE or self.value == safety.value


@dataclass(frozen=True)
class Sample:
    """An invalid sample with what fixing it gives: `fixed` by --fix, `unsafe_fixed` by --fix
    --unsafe-fixes (None: the same as `fixed`, or the source itself when neither is given)."""

    source: str
    fixed: str | None = None
    unsafe_fixed: str | None = None


SampleText = Union[str, Sample]


@dataclass(frozen=True)
class Report:
    """A finding before positions are known: positions are computed only for files that have one.

    A value that is a node is shown in the message as that node's line number.
    """

    node: cst.CSTNode
    code: str
    template: str
    values: dict[str, Any]
    fix: Fix | None = None


class Rule:
    code: ClassVar[str]  # NNCxxx; the rule's file is named nncxxx_<name with underscores>.py
    name: ClassVar[str]  # a short kebab-case name
    message: ClassVar[str]  # a str.format template
    default_enabled: ClassVar[bool] = True  # False: reported only when selected by its full code
    # True: what it reports on one class depends on the rest of the file (other classes' statements),
    # so when it may report, libcst is given the whole file (see engine.focus).
    whole_file: ClassVar[bool] = False
    fix_availability: ClassVar[FixAvailability]
    valid: ClassVar[tuple[str, ...]]
    invalid: ClassVar[tuple[SampleText, ...]]

    @classmethod
    def summary(cls) -> str:
        """The docstring's first line."""
        return (cls.__doc__ or "").strip().splitlines()[0]

    @classmethod
    def documentation(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def invalid_samples(cls) -> list[Sample]:
        return [s if isinstance(s, Sample) else Sample(s) for s in cls.invalid]

    @classmethod
    def might_report(cls, screen: Screen) -> bool:
        """The pre-screen: False only if this rule certainly reports nothing on the file, decided from
        Python's ast (flake8 already has it; it is four times cheaper than libcst's tree). A rule
        without one answers True, so it always runs: a screen may only ever save work.

        A screen that goes through `screen.any_module` or `screen.found` also tells where the rule may
        report; one that answers True without them makes the whole file checked."""
        return True

    def check(self, model: FileModel) -> Iterator[Report]:
        raise NotImplementedError

    def report(self, node: cst.CSTNode, template: str | None = None, fix: Fix | None = None, **values: Any) -> Report:
        return Report(node, self.code, template or self.message, values, fix)
