"""Each rule's own valid and invalid samples (its documentation) are run as tests, fixes included."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import nncheck.rules
from expected import expected_findings
from nncheck import Settings, check_source
from nncheck.findings import FixSafety
from nncheck.fixes.fixer import fix_source
from nncheck.rule import FixAvailability, Rule, Sample
from nncheck.engine.rule_set import all_rules, rule_codes, rule_names

SECTIONS = ("**What it finds.**", "**Why is this a bug.**", "**Example.**", "**Instead.**", "**Fix.**")
RULE_FILES = Path(nncheck.rules.__file__).parent


def _only(rule: type[Rule]) -> Settings:
    return Settings(select=(rule.code,))


def _valid() -> list[object]:
    return [
        pytest.param(rule, sample, id=f"{rule.code}-valid-{index}")
        for rule in all_rules()
        for index, sample in enumerate(rule.valid)
    ]


def _invalid() -> list[object]:
    return [
        pytest.param(rule, sample, id=f"{rule.code}-invalid-{index}")
        for rule in all_rules()
        for index, sample in enumerate(rule.invalid_samples())
    ]


@pytest.mark.parametrize(("rule", "sample"), _valid())
def test_valid_sample_has_no_finding(rule: type[Rule], sample: str) -> None:
    assert [f for f in check_source(sample, settings=_only(rule)) if f.code == rule.code] == []


@pytest.mark.parametrize(("rule", "sample"), _invalid())
def test_invalid_sample_reports_marked_lines(rule: type[Rule], sample: Sample) -> None:
    expected = {e for e in expected_findings(sample.source) if e[2] == rule.code}
    assert expected, "an invalid sample must mark at least one finding"
    found = check_source(sample.source, settings=_only(rule))
    assert {(f.line, f.col + 1, f.code) for f in found if f.code == rule.code} == expected


@pytest.mark.parametrize(("rule", "sample"), _invalid())
def test_invalid_sample_fixes_to_the_text_it_shows(rule: type[Rule], sample: Sample) -> None:
    safe = sample.fixed if sample.fixed is not None else sample.source
    unsafe = sample.unsafe_fixed if sample.unsafe_fixed is not None else safe
    assert fix_source(sample.source, settings=_only(rule)).text == safe
    assert fix_source(sample.source, settings=_only(rule), unsafe=True).text == unsafe


@pytest.mark.parametrize(("rule", "sample"), _invalid())
def test_fixes_are_of_the_kinds_the_rule_documents(rule: type[Rule], sample: Sample) -> None:
    found = [f for f in check_source(sample.source, settings=_only(rule)) if f.code == rule.code]
    assert all(rule.fix_availability.allows(f.fix) for f in found if f.fix is not None)
    assert all(f.fix_title for f in found if f.fix is not None), "a fix needs a title for editors"


@pytest.mark.parametrize("rule", all_rules(), ids=lambda rule: rule.code)
def test_a_documented_fix_is_shown_in_a_sample(rule: type[Rule]) -> None:
    samples = rule.invalid_samples()
    if rule.fix_availability in (FixAvailability.SAFE, FixAvailability.SAFE_OR_UNSAFE):
        assert any(s.fixed is not None for s in samples), f"{rule.code} documents a safe fix but shows none"
    if rule.fix_availability in (FixAvailability.UNSAFE, FixAvailability.SAFE_OR_UNSAFE):
        assert any(s.unsafe_fixed is not None for s in samples), f"{rule.code} documents an unsafe fix but shows none"
    if rule.fix_availability is FixAvailability.NONE:
        assert all(s.fixed is None and s.unsafe_fixed is None for s in samples)


def test_codes_are_unique_and_well_formed() -> None:
    codes = [rule.code for rule in all_rules()]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"NNC\d{3}", code) for code in codes)
    names = [rule.name for rule in all_rules()]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", name) for name in names)


@pytest.mark.parametrize("rule", all_rules(), ids=lambda rule: rule.code)
def test_file_name_class_and_documentation_agree(rule: type[Rule]) -> None:
    # rule_codes() reads the codes from the file names, without importing libcst; the class says them too.
    assert rule.__module__ == f"nncheck.rules.{rule.code.lower()}_{rule.name.replace('-', '_')}"
    assert (RULE_FILES / f"{rule.code.lower()}_{rule.name.replace('-', '_')}.py").is_file()
    assert rule.code in rule_codes()
    assert "off by default" not in rule.summary(), "the listing adds that from default_enabled"


def test_rule_codes_from_file_names_are_the_classes_codes() -> None:
    assert rule_codes() == tuple(rule.code for rule in all_rules())
    assert rule_names() == {rule.code: rule.name for rule in all_rules()}


@pytest.mark.parametrize("rule", all_rules(), ids=lambda rule: rule.code)
def test_rule_is_documented_and_exercised(rule: type[Rule]) -> None:
    doc = rule.__doc__ or ""
    for section in SECTIONS:
        assert section in doc, f"{rule.code} docstring lacks {section}"
    assert rule.valid and rule.invalid
    assert "{" in rule.message
    assert isinstance(rule.fix_availability, FixAvailability)


def test_rules_are_found_without_a_registry() -> None:
    files = {p.stem for p in RULE_FILES.glob("nnc*.py")}
    assert {rule.__module__.rsplit(".", 1)[-1] for rule in all_rules()} == files


def test_fix_availability_allows_only_what_it_says() -> None:
    assert FixAvailability.SAFE.allows(FixSafety.SAFE) and not FixAvailability.SAFE.allows(FixSafety.UNSAFE)
    assert FixAvailability.UNSAFE.allows(FixSafety.UNSAFE) and not FixAvailability.UNSAFE.allows(FixSafety.SAFE)
    assert not FixAvailability.NONE.allows(FixSafety.SAFE)
    assert FixAvailability.SAFE_OR_UNSAFE.allows(FixSafety.SAFE) and FixAvailability.SAFE_OR_UNSAFE.allows(
        FixSafety.UNSAFE)
