"""What nncheck's two language front ends share, `nncheck lsp` and the python-lsp-server plugin: a
document's check (its last findings kept while it does not parse), where a finding is shown, and
which code actions a check offers. Each front end turns these into its own protocol objects; no
pygls or pylsp import here.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar

from nncheck.engine.checker import Memory, check_source
from nncheck.engine.noqa import split_lines
from nncheck.engine.parsing import python_parse
from nncheck.engine.reparse import reparse
from nncheck.files.config import Overrides, python_for, settings_for
from nncheck.files.source import SourceError
from nncheck.findings import FILE_CODES, UNPARSABLE, Finding, FixSafety
from nncheck.fixes.fixer import fix_source
from nncheck.fixes.noqa_comments import Insertion, add_noqa_comments
from nncheck.fixes.outcome import FixResult
from nncheck.frontends.interpreter import fallback_warning, problem
from nncheck.frontends.lsp_documents import carried_over, edits_between
from nncheck.settings import Settings

QUICK_FIX = "quickfix"
FIX_ALL_KIND = "source.fixAll.nncheck"
FIX_ALL_TITLE = "Fix all nncheck findings in this file"

Span = tuple[int, int, int, int]  # 0-based (line, col, end_line, end_col)
Position = tuple[int, int]  # (line, character) in the client's units
Diagnostic = TypeVar("Diagnostic")  # each front end's own diagnostic object


def fix_title(finding: Finding) -> str:
    """A quick fix's title, such as `NNC001: Rename __call__ to forward`, from the rule's fix."""
    title = f"{finding.code}: {finding.fix_title}" if finding.fix_title else f"Fix {finding.code}"
    # The user should know before choosing it that an unsafe fix may change what the code does.
    return f"{title} (unsafe fix)" if finding.fix is FixSafety.UNSAFE else title


def width(text: str, encoding: str) -> int:
    """Length of `text` in the client's position units (UTF-16 code units unless negotiated otherwise)."""
    if encoding == "utf-32":
        return len(text)
    if encoding == "utf-8":
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def span_of(finding: Finding, lines: Sequence[str]) -> Span:
    """What to underline, columns in code points."""
    if finding.span is None:
        # Whole-file findings (NNC900, NNC901) are shown from their column (a syntax error's) to the line's end.
        line = min(max(finding.line - 1, 0), len(lines) - 1)
        col = min(finding.col, len(lines[line]))
        return line, col, line, max(len(lines[line]), col)
    line, col, end_line, end_col = finding.span
    return line - 1, col, end_line - 1, end_col


def position(lines: Sequence[str], line: int, col: int, encoding: str) -> Position:
    line = min(max(line, 0), len(lines) - 1)
    return line, width(lines[line][:max(col, 0)], encoding)


def lsp_range(lines: Sequence[str], span: Span, encoding: str) -> tuple[Position, Position]:
    line, col, end_line, end_col = span
    return position(lines, line, col, encoding), position(lines, end_line, end_col, encoding)


def overlaps(a: tuple[Position, Position], b: tuple[Position, Position]) -> bool:
    # Inclusive at both ends: a cursor just after the underlined name still offers its fixes.
    return a[0] <= b[1] and b[0] <= a[1]


def is_wanted(kind: str, only: Sequence[str] | None) -> bool:
    # A client asking for "source.fixAll" wants "source.fixAll.nncheck" too: kinds are hierarchical.
    # (`k + "."`, not an f-string: for lsprotocol's str enums that would spell "CodeActionKind.Source".)
    return only is None or any(kind == k or kind.startswith(k + ".") for k in only)


def usable_settings(path: str, overrides: Overrides, host: str, warn: Callable[[str], None]) -> Settings:
    """The file's settings; with the environment `host` runs under if the interpreter named for it
    cannot be used, after `warn` (see frontends/interpreter.py): an editor's diagnostics must not stop for it."""
    settings = settings_for(path, overrides)
    if settings.python is None:
        return settings
    found = problem(*python_for(path, overrides))
    if found is None:
        return settings
    warn(f"nncheck: {fallback_warning(found, host)}")
    return replace(settings, python=None)


def parse_again(last: tuple[str, ast.Module] | None, text: str) -> ast.Module | None:
    """Python's ast of `text`, from the ast of the document's last text where the edit allows
    (engine.reparse: `last`'s tree is not to be used afterwards); None if it does not parse."""
    tree = reparse(*last, text) if last else None
    if tree is None:
        try:
            tree = python_parse(text)
        except SourceError:
            return None  # checked without a tree, for Python's own error and its place
    return tree


@dataclass
class Checked(Generic[Diagnostic]):
    """One version of one document as checked, with the fixes computed for it so far (editors ask for
    code actions at every cursor move; each is worked out once per text)."""

    path: str
    text: str
    settings: Settings
    findings: list[Finding]
    diagnostics: list[Diagnostic]
    parsed: bool = True
    fixes: dict[tuple[Finding | None, bool], FixResult] = field(default_factory=dict)
    silenced: dict[Finding, Insertion | None] = field(default_factory=dict)

    @property
    def lines(self) -> list[str]:
        return split_lines(self.text)

    def fixed(self, only: Finding | None, unsafe: bool) -> FixResult:
        if (only, unsafe) not in self.fixes:
            self.fixes[only, unsafe] = fix_source(self.text, self.path, self.settings, unsafe=unsafe, only=only)
        return self.fixes[only, unsafe]

    def with_noqa(self, finding: Finding) -> Insertion | None:
        """Where a noqa comment silencing `finding` goes (fixes/noqa_comments.py), or None if its line
        cannot take one (it ends inside a string or continues with a backslash) or the comment would
        not silence it."""
        if finding not in self.silenced:
            added = add_noqa_comments(self.text, {finding.line: [finding.code]})
            after = check_source(added.text, self.path, self.settings) if added.insertions else None
            worked = after is not None and not any(
                f.code in FILE_CODES or (f.code, f.line) == (finding.code, finding.line) for f in after)
            self.silenced[finding] = added.insertions[0] if worked else None
        return self.silenced[finding]


def check_text(path: str, text: str, settings: Settings, good: Checked[Diagnostic] | None, tree: ast.Module | None,
               diagnose: Callable[[Finding, list[str]], Diagnostic],
               memory: Memory | None = None) -> Checked[Diagnostic]:
    """The findings for this text of a document, `good` its last check that parsed. While a line is
    being typed (the text does not parse) the last findings stay where their lines still are. `memory`,
    kept with the document, lets an edit's check reuse the last one's table and screen (engine.incremental)."""
    findings = check_source(text, path, settings, tree=tree, memory=memory)
    parsed = not any(f.code == UNPARSABLE for f in findings)
    if not parsed and good is not None:
        findings = sorted(carried_over(good.text, text, good.findings) + findings)
    lines = split_lines(text)
    return Checked(path, text, settings, findings, [diagnose(f, lines) for f in findings], parsed)


@dataclass(frozen=True)
class Action:
    """A code action as both front ends offer it; edits are spans of the checked text."""

    title: str
    kind: str
    findings: tuple[Finding, ...]  # those it resolves, whose diagnostics it names
    edits: tuple[tuple[Span, str], ...]
    preferred: bool | None = None


def code_actions(checked: Checked[Diagnostic], here: Sequence[Finding], only: Sequence[str] | None) -> list[Action]:
    """The quick fixes and noqa comments for the findings `here` (under the client's range), and the
    fix of the whole file, as the client's `only` kinds allow."""
    def replace_all(text: str) -> tuple[tuple[Span, str], ...]:
        # A fix may touch several places (a rename and its callers): one edit for each run of changed lines.
        return tuple(edits_between(checked.text, text))

    actions: list[Action] = []
    if is_wanted(QUICK_FIX, only):
        for finding in here:
            if finding.fix is None:
                continue
            # The user picked this very fix, so an unsafe one is applied too.
            result = checked.fixed(finding, finding.fix is FixSafety.UNSAFE)
            if result.changed:
                actions.append(Action(fix_title(finding), QUICK_FIX, (finding,), replace_all(result.text),
                                      preferred=finding.fix is FixSafety.SAFE))

    # Offered in the light bulb beside a fixable finding, and to "fix all on save" (which asks by kind).
    if only is not None and is_wanted(FIX_ALL_KIND, only):
        fix_all_kind: str | None = FIX_ALL_KIND
    elif is_wanted(QUICK_FIX, only) and any(f.fix for f in here):
        fix_all_kind = QUICK_FIX
    else:
        fix_all_kind = None
    if fix_all_kind and any(f.fix is FixSafety.SAFE for f in checked.findings):
        result = checked.fixed(None, False)
        if result.changed:
            resolved = tuple(f for f in checked.findings if f in result.fixed)
            actions.append(Action(FIX_ALL_TITLE, fix_all_kind, resolved, replace_all(result.text)))

    if is_wanted(QUICK_FIX, only):
        seen: set[tuple[str, int]] = set()
        for finding in here:
            # NNC900-NNC902 are reported before noqa comments are read; a comment cannot silence them.
            if finding.code in FILE_CODES or (finding.code, finding.line) in seen:
                continue
            seen.add((finding.code, finding.line))
            insertion = checked.with_noqa(finding)
            if insertion is None:
                continue
            at = (insertion.line - 1, insertion.col)
            same = tuple(f for f in here if (f.code, f.line) == (finding.code, finding.line))
            actions.append(Action(f"Silence {finding.code} with # noqa", QUICK_FIX, same,
                                  ((at + at, insertion.text),)))
    return actions
