"""The flake8 front end: flake8 hands over the file's lines; the library call does the rest."""

from __future__ import annotations

import ast
import argparse
from collections.abc import Iterator
from typing import Any

from nncheck import __version__
from nncheck.checker import check_source
from nncheck.settings import Settings


class Plugin:
    name = "nncheck"
    version = __version__
    settings = Settings()

    def __init__(self, tree: ast.AST, lines: list[str], filename: str) -> None:
        # flake8 only asks for `tree` so that it runs this once per file; libcst does the parsing.
        self._lines = lines
        self._filename = filename

    @classmethod
    def add_options(cls, parser: Any) -> None:
        parser.add_option(
            "--nncheck-module-bases",
            default="",
            parse_from_config=True,
            comma_separated_list=True,
            help="Qualified names of extra base classes that are nn.Modules (e.g. mypkg.layers.Base).",
        )

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        # flake8 does the selecting and the noqa handling itself.
        cls.settings = Settings(module_bases=frozenset(options.nncheck_module_bases or ()))

    def run(self) -> Iterator[tuple[int, int, str, type[Plugin]]]:
        source = "".join(self._lines)
        for finding in check_source(source, self._filename, self.settings, honour_noqa=False):
            yield finding.line, finding.col, f"{finding.code} {finding.message}", type(self)
