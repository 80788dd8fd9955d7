"""The result cache of the command and the flake8 plugin: findings per file, reused while nothing they
depend on has changed.

An entry is keyed by nncheck's version and the content of its own code and data (a checkout updated and
installed again keeps its version but may find more), the effective settings, the environment whose installed
libraries imports resolve in (its import path: two virtualenvs may share one cache folder, and a base
class installed in one of them is an nn.Module there only), the file's path and its content; it also
records the content hash of every other file its cross-file resolution looked at (or that the file was
missing), and is used only if all of them are still the same. Entries are written atomically and start
with a checksum of the rest; a truncated, corrupt or foreign one, or anything that is not a readable
regular file, is ignored. The folder is kept to a bounded size.
This module must not import libcst: a fully cached run never loads it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import tempfile
import time
from typing import Any, Literal

from nncheck import __version__
from nncheck.findings import Finding, FixSafety
from nncheck.settings import Settings
from nncheck.files.source import SourceError, read_bytes
from nncheck.model.environment import InterpreterError, library_roots

MAX_ENTRIES = 100_000
PRUNE_INTERVAL = 24 * 3600  # seconds; for hosts such as flake8 that give no end of a run to prune at
_STAMP = "pruned"
_INSTALLED = re.compile(r"[/\\](?:site|dist)-packages[/\\]")
_MISSING = "-"

Reader = Literal["nncheck", "flake8"]


@functools.cache
def code_fingerprint() -> str:
    """A digest of nncheck's own source and data files, read once per process (a few milliseconds)."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    digest = hashlib.sha256()
    for folder, children, files in sorted(os.walk(package)):
        children.sort()
        for name in sorted(files):
            if name.endswith((".py", ".txt")):
                full = os.path.join(folder, name)
                digest.update(os.path.relpath(full, package).encode() + b"\0")
                try:
                    digest.update(read_bytes(full))
                except SourceError:
                    pass
    return digest.hexdigest()


def default_folder() -> str:
    explicit = os.environ.get("NNCHECK_CACHE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "nncheck")


class ResultCache:
    def __init__(self, folder: str) -> None:
        self.folder = folder
        self._digests: dict[str, str] = {}
        self._environments: dict[str | None, str] = {}
        self._shards: set[str] = set()  # the shard folders this process has made sure of
        self._written = 0  # entries written by this process: names its temporaries

    def key(self, path: str, data: bytes, settings: Settings, reader: Reader = "nncheck") -> str:
        """`reader`: who shows the findings; flake8 applies noqa comments itself, so its entries keep
        the findings those comments silence."""
        environment = self._environment(settings.python)
        digest = hashlib.sha256(
            f"{__version__}\0{code_fingerprint()}\0{reader}\0{settings!r}\0{environment}\0"
            f"{os.path.abspath(path)}\0".encode())
        digest.update(data)
        return digest.hexdigest()

    def _environment(self, python: str | None) -> str:
        """The import path that installed libraries are read from: the settings name the interpreter
        (or None, nncheck's own), and only its answer tells which environment that is."""
        if python not in self._environments:
            try:
                roots = library_roots(python)
            except InterpreterError as error:  # no library is read then; the front end has said why
                roots = (f"unusable: {error}",)
            self._environments[python] = json.dumps(roots)
        return self._environments[python]

    def _file(self, key: str) -> str:
        return os.path.join(self.folder, key[:2], key + ".json")

    def digest(self, path: str) -> str:
        """A file's content hash, or a mark that it is missing; once per file and run. An installed
        library's file is known by its size and modification time instead: a warm run reads none of them."""
        if path not in self._digests and _INSTALLED.search(path):
            try:
                info = os.stat(path)
                self._digests[path] = f"stat:{info.st_size}:{info.st_mtime_ns}"
            except OSError:
                self._digests[path] = _MISSING
        if path not in self._digests:
            try:
                self._digests[path] = hashlib.sha256(read_bytes(path)).hexdigest()
            except SourceError:  # missing, or not a file that can be read (a FIFO is never opened to wait)
                self._digests[path] = _MISSING
        return self._digests[path]

    def get(self, key: str, path: str) -> list[Finding] | None:
        """The findings kept for `key`, shown at `path` as the user names the file in this run (an entry
        records no path: the same file is named differently from another folder)."""
        try:
            entry = _load(self._file(key))
            if entry["version"] != __version__:
                return None
            if any(self.digest(path) != digest for path, digest in entry["dependencies"].items()):
                return None
            return [_finding(record, path) for record in entry["findings"]]
        except (OSError, SourceError, ValueError, KeyError, TypeError, AttributeError):
            return None  # absent, truncated, corrupt or foreign: computed afresh

    def put(self, key: str, findings: list[Finding], dependencies: list[str]) -> None:
        entry = {
            "version": __version__,
            "dependencies": {path: self.digest(path) for path in dependencies},
            "findings": [_record(f) for f in findings],
        }
        body = json.dumps(entry).encode()
        target = self._file(key)
        temporary = None
        try:
            shard = os.path.dirname(target)
            if shard not in self._shards:
                os.makedirs(shard, exist_ok=True)
                self._shards.add(shard)
            handle, temporary = self._temporary(shard)
            with os.fdopen(handle, "wb") as out:
                out.write(_checksum(body) + b"\n" + body)
            os.replace(temporary, target)  # readers see the old entry or the new one, never half
        except OSError:
            # An unwritable cache only costs speed; a temporary that could not take the entry's place
            # (a full disk, a folder where the entry should be) must not pile up.
            if temporary is not None:
                _discard(temporary)

    def _temporary(self, shard: str) -> tuple[int, str]:
        # A name of this process's own (a first run writes thousands: mkstemp's random names cost more).
        self._written += 1
        name = os.path.join(shard, f"{os.getpid()}-{self._written}.tmp")
        try:
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), name
        except FileExistsError:  # left by a process of the same number that was killed
            return tempfile.mkstemp(dir=shard, suffix=".tmp")
        except FileNotFoundError:  # the folder was removed while this process ran
            self._shards.discard(shard)
            raise

    def prune(self, limit: int = MAX_ENTRIES) -> None:
        """Keep the newest `limit` entries."""
        try:
            entries = [e for shard in os.scandir(self.folder) if shard.is_dir() for e in os.scandir(shard.path)]
        except OSError:
            return
        if len(entries) <= limit:
            return
        entries.sort(key=_modified)
        for entry in entries[: len(entries) - limit]:
            _discard(entry.path)

    def prune_now_and_then(self, interval: float = PRUNE_INTERVAL) -> None:
        """Prune if no run has done so for `interval` seconds: a look at one file's time otherwise."""
        stamp = os.path.join(self.folder, _STAMP)
        try:
            if time.time() - os.stat(stamp).st_mtime < interval:
                return
        except OSError:
            pass  # never pruned, or the folder does not exist yet
        try:
            os.makedirs(self.folder, exist_ok=True)
            with open(stamp, "wb"):
                pass
        except OSError:
            return  # an unwritable cache is not written to either
        self.prune()


def _load(path: str) -> Any:
    """An entry's content, once its checksum shows it whole; ValueError if it is not (or SourceError
    if it is not a readable regular file: a FIFO in its place is never waited on)."""
    checksum, _, body = read_bytes(path).partition(b"\n")
    if checksum != _checksum(body):
        raise ValueError("truncated or damaged")
    return json.loads(body)


def _checksum(body: bytes) -> bytes:
    return hashlib.sha256(body).hexdigest().encode()


def _modified(entry: os.DirEntry[str]) -> float:
    try:
        return entry.stat(follow_symlinks=False).st_mtime
    except OSError:
        return 0.0  # removed meanwhile by another run's pruning: nothing to keep


def _discard(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass  # gone already, or not ours to remove: the cache works without it


def _record(finding: Finding) -> dict[str, Any]:
    return {
        "line": finding.line, "col": finding.col, "code": finding.code, "message": finding.message,
        "fix": finding.fix.value if finding.fix else None, "span": list(finding.span) if finding.span else None,
        "fix_title": finding.fix_title, "cell": finding.cell,
    }


def _finding(record: dict[str, Any], path: str) -> Finding:
    span, fix = record["span"], record["fix"]
    return Finding(
        path, record["line"], record["col"], record["code"], record["message"], FixSafety(fix) if fix else None,
        (span[0], span[1], span[2], span[3]) if span else None, record["fix_title"], record.get("cell"),
    )
