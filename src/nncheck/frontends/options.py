"""Command-line options that the check command and the language server share: which codes, which
bases, which configuration. Both turn them into the same Overrides, combined with the configuration
file by one rule (see files/config.py)."""

from __future__ import annotations

import argparse

from nncheck.files.config import ConfigError, Overrides, check_codes


def _codes(text: str) -> tuple[str, ...]:
    try:
        return check_codes(tuple(text.split(",")), "codes")
    except ConfigError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("codes: ")) from None


def names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


def add_configuration_options(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--select", type=_codes, default=None, metavar="CODES",
        help="comma-separated codes or prefixes to report, replacing the configuration's selection (default: NNC)")
    add("--extend-select", type=_codes, default=(), metavar="CODES",
        help="codes or prefixes to report on top of the selection (e.g. NNC007, which is off by default)")
    add("--ignore", type=_codes, default=None, metavar="CODES", help="comma-separated codes or prefixes not to report")
    add("--module-bases", type=names, default=None, metavar="NAMES",
        help="comma-separated qualified names of extra base classes that are nn.Modules, e.g. mypkg.layers.Base")
    add("--src", type=names, default=None, metavar="FOLDERS",
        help="comma-separated folders to look up absolute imports in (besides the one holding the top package)")
    add("--python", default=None, metavar="PATH",
        help="the Python interpreter whose installed libraries imported base classes are read from "
        "(default: the one nncheck runs under)")
    add("--config", default=None, metavar="FILE", help="read [tool.nncheck] from this file, not the nearest one")
    add("--isolated", action="store_true", help="ignore all configuration files")


def overrides_from(args: argparse.Namespace) -> Overrides:
    return Overrides(
        select=args.select,
        extend_select=args.extend_select,
        ignore=args.ignore,
        module_bases=args.module_bases,
        src=args.src,
        python=args.python,
        config_file=args.config,
        isolated=args.isolated,
    )
