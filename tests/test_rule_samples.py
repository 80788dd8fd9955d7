"""Each rule's own valid and invalid samples (its documentation) are run as tests."""

from __future__ import annotations

import re

import pytest

from expected import expected_findings
from nncheck import Settings, check_source
from nncheck.rule import Rule
from nncheck.rules import all_rules

SECTIONS = ("**What it finds.**", "**Why is this a bug.**", "**Example.**", "**Instead.**", "**Fix.**")


def _only(rule: type[Rule]) -> Settings:
    return Settings(select=(rule.code,))


def _samples(kind: str) -> list[object]:
    return [
        pytest.param(rule, sample, id=f"{rule.code}-{kind}-{index}")
        for rule in all_rules()
        for index, sample in enumerate(getattr(rule, kind))
    ]


@pytest.mark.parametrize(("rule", "sample"), _samples("valid"))
def test_valid_sample_has_no_finding(rule: type[Rule], sample: str) -> None:
    assert [f for f in check_source(sample, settings=_only(rule)) if f.code == rule.code] == []


@pytest.mark.parametrize(("rule", "sample"), _samples("invalid"))
def test_invalid_sample_reports_marked_lines(rule: type[Rule], sample: str) -> None:
    expected = {e for e in expected_findings(sample) if e[2] == rule.code}
    assert expected, "an invalid sample must mark at least one finding"
    found = {(f.line, f.col + 1, f.code) for f in check_source(sample, settings=_only(rule)) if f.code == rule.code}
    assert found == expected


def test_codes_are_unique_and_well_formed() -> None:
    codes = [rule.code for rule in all_rules()]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"NNC\d{3}", code) for code in codes)
    names = [rule.name for rule in all_rules()]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("rule", all_rules(), ids=lambda rule: rule.code)
def test_rule_is_documented_and_exercised(rule: type[Rule]) -> None:
    doc = rule.__doc__ or ""
    for section in SECTIONS:
        assert section in doc, f"{rule.code} docstring lacks {section}"
    assert rule.valid and rule.invalid
    assert "{" in rule.message


def test_rules_are_found_without_a_registry() -> None:
    from pathlib import Path

    import nncheck.rules

    files = {p.stem for p in Path(nncheck.rules.__file__).parent.glob("nnc*.py")}
    assert {rule.__module__.rsplit(".", 1)[-1] for rule in all_rules()} == files


@pytest.mark.parametrize(("rule", "sample"), _samples("invalid"))
def test_fixes_are_of_the_kinds_the_rule_documents(rule: type[Rule], sample: str) -> None:
    kinds = {f.fix for f in check_source(sample, settings=_only(rule)) if f.code == rule.code} - {None}
    allowed = {"none": set(), "safe": {"safe"}, "unsafe": {"unsafe"}, "safe or unsafe": {"safe", "unsafe"}}
    assert kinds <= allowed[rule.fix_safety]
