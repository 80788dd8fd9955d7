"""The one library call behind every front end: check a source string, get findings."""

from __future__ import annotations

import ast
from collections.abc import Hashable
from dataclasses import dataclass

import libcst as cst

from nncheck.engine.noqa import is_silenced, split_lines
from nncheck.engine.positions import Misaligned, positions_of
from nncheck.engine.parsing import TOO_DEEP, check_size, parse, python_parse
from nncheck.engine.collector import collector_paused
from nncheck.engine.recursion import deep_recursion
from nncheck.engine.focus import NeedsWholeFile, Reduced, focus, reduce
from nncheck.engine.incremental import Kept, keep, update
from nncheck.files import notebook
from nncheck.files.notebook import is_notebook
from nncheck.files.source import SourceError, Unsupported, decode, read_bytes
from nncheck.findings import INTERNAL_ERROR, UNPARSABLE, UNSUPPORTED, Finding
from nncheck.fixes.fix import Fix
from nncheck.model.build import build
from nncheck.model.table import Table
from nncheck.model.project import Project
from nncheck.model.views import FileModel, Screen
from nncheck.rule import Report
from nncheck.engine.rule_set import selected_rules
from nncheck.settings import Settings

DEFAULT_SETTINGS = Settings()


def check_file(path: str, settings: Settings = DEFAULT_SETTINGS) -> list[Finding]:
    project = _project(settings) if settings.cross_file else None
    stamp = project.stamp(path) if project is not None else None  # before the read
    try:
        data = read_bytes(path)
    except SourceError as error:
        return [_unparsable(path, f"nncheck could not read this file: {error}")]
    try:
        text = decode(data)
    except SourceError:
        return check_source(data, path, settings)  # which says why, as for any source
    if project is not None:
        project.read_from_disk(stamp, text)  # the table built from it is kept without reading it again
    return check_source(text, path, settings)


def dependencies(path: str, settings: Settings = DEFAULT_SETTINGS) -> list[str]:
    """The other files (present or not) whose content the findings of `path` depend on, as far as
    this process has resolved them: after check_file(path), everything that check looked at."""
    return _project(settings).dependencies(path) if settings.cross_file else []


def check_source(
    source: str | bytes,
    path: str = "<string>",
    settings: Settings = DEFAULT_SETTINGS,
    *,
    honour_noqa: bool = True,
    tree: ast.Module | None = None,
    memory: Memory | None = None,
) -> list[Finding]:
    """Findings for one file's source, sorted by position. Bytes are decoded as Python would.
    `tree`, Python's ast of the same source if the caller has it (flake8 does), saves parsing it.
    `memory`, kept by the caller from one check of a file to the next (the language server), lets the
    next check of an edited text reuse the table and the screen's answers (engine.incremental)."""
    try:
        text = decode(source) if isinstance(source, bytes) else source
    except SourceError as error:
        return [_unparsable(path, f"nncheck could not parse this file: {error}")]
    if is_notebook(path):
        return check_notebook(text, path, settings, honour_noqa=honour_noqa)
    return analyse(text, path, settings, honour_noqa=honour_noqa, tree=tree, partial=True, memory=memory).findings


@dataclass
class Memory:
    """What the last check of a document worked out (engine.incremental), for the next one."""

    kept: Kept | None = None
    # The rules' reports on the reduced source, with what they were worked out from (see _rules_of).
    rules: tuple[tuple[str, frozenset[int], Table], cst.Module, list[Report], list[Finding]] | None = None


def check_notebook(
    text: str, path: str, settings: Settings = DEFAULT_SETTINGS, *, honour_noqa: bool = True
) -> list[Finding]:
    """Findings for a notebook's JSON text, at cell positions."""
    try:
        book = notebook.read(text)
    except SourceError as error:
        return [_unparsable(path, f"nncheck could not parse this file: {error}")]
    findings = analyse(book.python, path, settings, honour_noqa=honour_noqa, partial=True).findings
    return sorted((book.to_cells(f) for f in findings), key=lambda f: f.place)


@dataclass
class Item:
    finding: Finding
    key: Hashable  # what the finding says, whatever its line: how a fix is seen to have worked
    fix: Fix | None


@dataclass
class Analysis:
    module: cst.Module | None  # None when the file could not be parsed
    items: list[Item]

    @property
    def findings(self) -> list[Finding]:
        return [item.finding for item in self.items]


def analyse(
    text: str,
    path: str,
    settings: Settings = DEFAULT_SETTINGS,
    *,
    honour_noqa: bool = True,
    tree: ast.Module | None = None,
    partial: bool = False,
    memory: Memory | None = None,
) -> Analysis:
    """The file's findings, with its libcst tree for fixing them. `partial`: findings only (no tree);
    libcst is then given only the classes where a finding is possible, which is faster."""
    with collector_paused():
        return _analyse(text, path, settings, honour_noqa, tree, partial, memory)


def _analyse(
    text: str, path: str, settings: Settings, honour_noqa: bool, tree: ast.Module | None, partial: bool,
    memory: Memory | None = None,
) -> Analysis:
    try:
        # Before the recursion limit is raised: Python's parser scales its own limit from it.
        tree = python_parse(text) if tree is None else tree
    except SourceError as error:
        # At the error's own place, as Python reports it: an editor shows it where the typing is.
        finding = _unparsable(path, f"nncheck could not parse this file: {error}", error.line, error.col)
        if memory is not None:
            memory.kept = None
        return Analysis(None, [_item(finding)])
    lines = split_lines(text)
    with deep_recursion():
        try:
            # The file's table is built once, from ast: the screen and the rules share its answers.
            project = _project(settings) if settings.cross_file else None
            resolver = project.resolver_for(path) if project else None
            reduced: Reduced | None = None
            try:
                kept = memory.kept if memory is not None and settings.prescreen else None
                if memory is not None:
                    memory.kept = None  # until this check is through
                known = update(kept, settings, project, tree, text) if kept is not None else None
                if known is not None:
                    table, class_nodes, where, kept = known
                else:
                    star_resolver = project.star_resolver_for(path) if project else None
                    finders = project.finders_for(path) if project else None
                    table, class_nodes = build(
                        tree, settings.module_bases, resolver, star_resolver=star_resolver, finders=finders
                    )
                    where = focus(Screen(table, tree, class_nodes, text), settings) if settings.prescreen else None
                    if memory is not None and settings.prescreen:
                        kept = keep(settings, project, table, tree, class_nodes, where, text)
                if project is not None:
                    project.keep_table(path, text, table)
                if memory is not None and settings.prescreen:
                    memory.kept = kept
                if settings.prescreen:
                    if where is None:
                        return Analysis(None, [])
                    reduced = reduce(text, tree, table, class_nodes, where) if partial else None
            except RecursionError:
                raise
            except Exception as error:  # a bug in nncheck must not stop the other files
                return Analysis(None, [_item(_internal_error(path, "model", error))])
            check_size(text, tree)
            module: cst.Module | None = None
            items: list[Item] = []
            quiet = where.quiet if where is not None else frozenset()
            if reduced is not None:
                try:
                    module, reports, errors = _rules_of(reduced, table, text, path, settings, memory,
                                                        reuse=known is not None, quiet=quiet)
                    items = _items(errors) + _place(module, tree, lines, path, reports, reduced.stubs)
                except (NeedsWholeFile, Unsupported, Misaligned):
                    module = None  # a rule needs more of the file than libcst was given
            if module is None:
                module = parse(text)
                reports, errors = _run_rules(table, module, text, path, settings, quiet=quiet)
                items = _items(errors) + _place(module, tree, lines, path, reports, frozenset())
            if partial:
                module = None  # findings alone: the tree may be a reduced one, which nothing may fix
        except Unsupported as error:
            return Analysis(None, [_item(_unsupported(path, str(error)))])
        except RecursionError:  # should not happen below Python's own limits (see deep_recursion)
            return Analysis(None, [_item(_unsupported(path, TOO_DEEP))])
    if honour_noqa:
        items = [
            i for i in items
            if not (i.finding.line <= len(lines) and is_silenced(lines[i.finding.line - 1], i.finding.code))
        ]
    return Analysis(module, sorted(items, key=lambda item: item.finding))


def _item(finding: Finding) -> Item:
    return Item(finding, (finding.code, finding.message), None)


def _items(errors: list[Finding]) -> list[Item]:
    return [_item(error) for error in errors]


def _project(settings: Settings) -> Project:
    # One per process and settings: other files' tables are read once, whatever is checked after.
    key = (settings.module_bases, settings.src_roots, settings.python)
    if key not in _projects:
        _projects[key] = Project(settings.module_bases, settings.src_roots, settings.python)
    return _projects[key]


_projects: dict[tuple[frozenset[str], tuple[str, ...], str | None], Project] = {}


def forget_other_files() -> None:
    """Drop what this process has read of other files: after an interrupted check it may be half-built."""
    _projects.clear()


def _rules_of(
    reduced: Reduced, table: Table, text: str, path: str, settings: Settings, memory: Memory | None, reuse: bool,
    quiet: frozenset[str],
) -> tuple[cst.Module, list[Report], list[Finding]]:
    """libcst's tree of the reduced source and the rules' reports on it. After an edit that kept the
    table (engine.incremental: the same settings, and the same answers from the text's looks), the
    same reduced source gives the same reports: an edit in a class left out changes nothing libcst sees."""
    key = (reduced.text, reduced.kept, table)
    if reuse and memory is not None and memory.rules is not None and memory.rules[0][0] == reduced.text \
            and memory.rules[0][1] == reduced.kept and memory.rules[0][2] is table:
        return memory.rules[1:]
    module = parse(reduced.text)
    reports, errors = _run_rules(table, module, text, path, settings, reduced.kept, quiet)
    if memory is not None:
        memory.rules = (key, module, reports, errors)
    return module, reports, errors


def _run_rules(
    table: Table, module: cst.Module, text: str, path: str, settings: Settings, kept: frozenset[int] | None = None,
    quiet: frozenset[str] = frozenset(),
) -> tuple[list[Report], list[Finding]]:
    """`quiet`: the rules the pre-screen found report nothing on the file, which are not run."""
    try:
        model = FileModel(table, module, text, kept)
    except RecursionError:
        raise
    except Exception as error:  # a bug in nncheck must not stop the other files
        if kept is not None:
            raise NeedsWholeFile("the reduced tree") from error  # the whole file may still be checked
        return [], [_internal_error(path, "model", error)]
    reports: list[Report] = []
    errors: list[Finding] = []
    for rule in selected_rules(settings):
        if rule.code in quiet:
            continue
        try:
            reports.extend(rule().check(model))
        except (RecursionError, NeedsWholeFile):
            raise
        except Exception as error:  # one broken rule must not hide the others
            errors.append(_internal_error(path, rule.code, error))
    return reports, errors


def _place(
    module: cst.Module, tree: ast.Module, lines: list[str], path: str, reports: list[Report], stubs: frozenset[int]
) -> list[Item]:
    if not reports:
        return []
    # Positions are computed only for files with something to report, and only where the reports are.
    nodes = [node for report in reports for node in (report.node, _highlighted(report.node), *report.values.values())
             if isinstance(node, cst.CSTNode)]
    places = positions_of(module, tree, lines, nodes, stubs)
    items = []
    for report in reports:
        start = places[id(report.node)].start
        values = {k: places[id(v)].start.line if isinstance(v, cst.CSTNode) else v for k, v in report.values.items()}
        message = report.template.format(**values)
        safety = report.fix.safety if report.fix else None
        title = report.fix.title if report.fix else None
        shown = places[id(_highlighted(report.node))]
        span = (shown.start.line, shown.start.column, shown.end.line, shown.end.column)
        finding = Finding(path, start.line, start.column, report.code, message, safety, span, title)
        key = (report.code, report.template, tuple(sorted((k, str(v)) for k, v in report.values.items()
                                                          if not isinstance(v, cst.CSTNode))))
        items.append(Item(finding, key, report.fix))
    return items


def _highlighted(node: cst.CSTNode) -> cst.CSTNode:
    # A def or class is reported at its keyword but underlined at its name, as editors do.
    return node.name if isinstance(node, (cst.FunctionDef, cst.ClassDef)) else node


def _internal_error(path: str, where: str, error: Exception) -> Finding:
    return Finding(path, 1, 0, INTERNAL_ERROR, f"internal error in nncheck ({where}): {type(error).__name__}: {error}")


def _unparsable(path: str, message: str, line: int = 1, col: int = 0) -> Finding:
    return Finding(path, line, col, UNPARSABLE, message)


def _unsupported(path: str, reason: str) -> Finding:
    return Finding(path, 1, 0, UNSUPPORTED, f"nncheck cannot check this file, though Python can compile it: {reason}")
