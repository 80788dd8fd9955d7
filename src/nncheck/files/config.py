"""Configuration: `[tool.nncheck]` in the nearest pyproject.toml that has the table (as ruff finds its
own), with the command line on top. The command and the language server both come here.

How the two combine, as in ruff: code selection is layered, the file first and the command line after
it, so `--select` starts afresh (the file's select, extend-select and ignore no longer count),
`--extend-select` adds to what the file selected and `--ignore` takes away from it; per-file-ignores
always apply last. Every other option given on the command line replaces the file's setting."""

from __future__ import annotations

import fnmatch
import functools
import os
import sys
from dataclasses import dataclass
from typing import Any

from nncheck.settings import Selection, Settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CONFIG_FILE = "pyproject.toml"
DEFAULT_SELECT = ("NNC",)
# Where absolute imports are looked up, relative to the configuration's folder (else the current
# one), as ruff's default: the project's own folder and its src/.
DEFAULT_SRC = (".", "src")


class ConfigError(Exception):
    """A configuration file nncheck cannot use; the text names the file and the key."""


@dataclass(frozen=True)
class Overrides:
    """What the command line says; None (or empty for extend-*) where it says nothing."""

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] | None = None
    module_bases: tuple[str, ...] | None = None
    src: tuple[str, ...] | None = None
    python: str | None = None
    config_file: str | None = None
    isolated: bool = False


@dataclass(frozen=True)
class Config:
    path: str | None = None  # None: no configuration file
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] | None = None
    extend_exclude: tuple[str, ...] = ()
    module_bases: tuple[str, ...] = ()
    src: tuple[str, ...] | None = None  # None: the default, DEFAULT_SRC
    python: str | None = None  # relative to the configuration's folder when it has a slash

    @property
    def root(self) -> str:
        return os.path.dirname(self.path) if self.path else os.getcwd()


def _known_codes() -> list[str]:
    from nncheck.findings import FILE_CODES
    from nncheck.engine.rule_set import rule_codes

    return [*rule_codes(), *FILE_CODES]


def check_codes(codes: tuple[str, ...], where: str) -> tuple[str, ...]:
    """Codes or prefixes, upper-cased; an unknown one is an error naming `where`."""
    known = _known_codes()
    result = tuple(code.strip().upper() for code in codes if code.strip())
    for code in result:
        if not any(k.startswith(code) for k in known):
            raise ConfigError(f"{where}: unknown code or prefix {code!r} (codes are {', '.join(known)})")
    return result


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
    return tuple(value)


def load(path: str) -> Config:
    """Read the `[tool.nncheck]` table of `path` (an empty Config if the file has none)."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    table = data.get("tool", {}).get("nncheck")
    if table is None:
        return Config(path=path)
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.nncheck] must be a table")
    values: dict[str, Any] = {}
    for key, value in table.items():
        where = f"{path}: [tool.nncheck] {key}"
        if key in ("select", "extend-select", "ignore"):
            values[key.replace("-", "_")] = check_codes(_strings(value, where), where)
        elif key in ("exclude", "extend-exclude", "module-bases", "src"):
            values[key.replace("-", "_")] = _strings(value, where)
        elif key == "python":
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{where}: expected the path or name of a Python interpreter, got {value!r}")
            values["python"] = value
        elif key == "per-file-ignores":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: expected a table of glob = [codes]")
            values["per_file_ignores"] = tuple(
                (pattern, check_codes(_strings(codes, f"{where}.{pattern}"), f"{where}.{pattern}"))
                for pattern, codes in value.items()
            )
        else:
            raise ConfigError(f"{path}: [tool.nncheck] unknown key {key!r}")
    return Config(path=path, **values)


def _stamp(path: str) -> tuple[int, int] | None:
    """What changes when a file is edited; caches key on it, so a long-lived language server sees edits."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


def _has_table(path: str) -> bool:
    stamp = _stamp(path)
    return stamp is not None and _has_table_cached(path, stamp)


@functools.lru_cache(maxsize=256)
def _has_table_cached(path: str, stamp: tuple[int, int]) -> bool:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return False
    try:
        return "nncheck" in tomllib.loads(data.decode("utf-8", "replace")).get("tool", {})
    except tomllib.TOMLDecodeError as error:
        if b"tool.nncheck" in data:
            raise ConfigError(f"{path}: not valid TOML: {error}") from None
        return False  # someone else's broken file: not ours to judge


def find_config_file(folder: str) -> str | None:
    """The nearest pyproject.toml with a [tool.nncheck] table, from `folder` up."""
    while True:
        candidate = os.path.join(folder, CONFIG_FILE)
        if _has_table(candidate):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _load_cached(path: str) -> Config:
    return _load_stamped(path, _stamp(path))


@functools.lru_cache(maxsize=256)
def _load_stamped(path: str, stamp: tuple[int, int] | None) -> Config:
    return load(path)


def config_for(path: str, overrides: Overrides = Overrides()) -> Config:
    if overrides.isolated:
        return Config()
    if overrides.config_file:
        return _load_cached(os.path.abspath(overrides.config_file))
    found = find_config_file(os.path.dirname(os.path.abspath(path)))
    return _load_cached(found) if found else Config()


def settings_for(path: str, overrides: Overrides = Overrides(), config: Config | None = None) -> Settings:
    """The settings for the file `path`: its configuration (`config`, if the caller has already found
    it with config_for), then the command line on top (see above)."""
    if config is None:
        config = config_for(path, overrides)
    layers: list[Selection] = []
    if overrides.select is not None or overrides.extend_select or overrides.ignore:
        layers.append(Selection(overrides.select, overrides.extend_select, overrides.ignore or ()))
    relative = os.path.relpath(os.path.abspath(path), config.root)
    per_file = tuple(c for pattern, codes in config.per_file_ignores if _matches(relative, pattern) for c in codes)
    if per_file:
        layers.append(Selection(ignore=per_file))
    src_setting = config.src if config.src is not None else DEFAULT_SRC
    src = overrides.src if overrides.src is not None else tuple(
        os.path.normpath(os.path.join(config.root, s)) for s in src_setting)
    bases = overrides.module_bases if overrides.module_bases is not None else config.module_bases
    python, _ = _python_of(config, overrides)
    return Settings(
        select=(config.select if config.select is not None else DEFAULT_SELECT) + config.extend_select,
        ignore=config.ignore,
        layers=tuple(layers),
        module_bases=frozenset(bases),
        src_roots=src,
        python=python,
    )


def python_for(path: str, overrides: Overrides = Overrides()) -> tuple[str | None, str]:
    """The Python interpreter named for the file `path` (None: nncheck's own), and where it was named,
    as an error about it should say: `--python`, or the configuration file and key."""
    return _python_of(config_for(path, overrides), overrides)


def _python_of(config: Config, overrides: Overrides) -> tuple[str | None, str]:
    if overrides.python is not None:
        return overrides.python, "--python"
    where = f"{config.path}: [tool.nncheck] python"
    if config.python is None:
        return None, where
    # A path is relative to the configuration's folder; a bare name (`python3`) is looked up on PATH.
    return (os.path.join(config.root, config.python) if os.sep in config.python else config.python), where


def excludes_for(path: str, overrides: Overrides = Overrides()) -> tuple[tuple[str, ...] | None, tuple[str, ...], str]:
    """(exclude replacing the defaults or None, extend-exclude, the folder patterns are relative to)."""
    config = config_for(path, overrides)
    return config.exclude, config.extend_exclude, config.root


def _matches(relative: str, pattern: str) -> bool:
    relative = relative.replace(os.sep, "/")
    return fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(os.path.basename(relative), pattern)
