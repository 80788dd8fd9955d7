"""Read a file and decode it the way Python would (BOM, PEP 263 cookie, else UTF-8)."""

from __future__ import annotations

import errno
import io
import os
import stat
import tokenize


class SourceError(Exception):
    """The file cannot be checked; the text is a one-line reason for the user, `line` and `col`
    (1-based, 0-based) where the problem is when it is at one place."""

    def __init__(self, reason: str, line: int = 1, col: int = 0) -> None:
        super().__init__(reason)
        self.line = line
        self.col = col


class Unsupported(SourceError):
    """Python accepts the file, but nncheck cannot check it."""


def read_bytes(path: str) -> bytes:
    """The bytes of a regular file. Anything else named like a source file (a FIFO, a socket, a
    device) is refused without blocking: a FIFO is opened non-blocking and never read."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        broken = os.path.islink(path)
        raise SourceError("is a broken symlink" if broken else "file vanished before it could be read") from None
    except IsADirectoryError:
        raise SourceError("is a directory") from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise SourceError("is a symlink loop") from None
        raise SourceError(f"cannot read file: {error.strerror or error}") from None
    try:
        kind = os.fstat(fd).st_mode
        if stat.S_ISDIR(kind):
            raise SourceError("is a directory")
        if not stat.S_ISREG(kind):
            raise SourceError(f"is {_KINDS.get(stat.S_IFMT(kind), 'not a regular file')}, not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    except OSError as error:
        raise SourceError(f"cannot read file: {error.strerror or error}") from None
    finally:
        os.close(fd)


_KINDS = {stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device"}


def decode(data: bytes) -> str:
    return decode_with_encoding(data)[0]


def decode_with_encoding(data: bytes) -> tuple[str, str]:
    """The text and the encoding to write it back in ("utf-8-sig" when the file starts with a BOM)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SourceError("file is UTF-16; Python source must be UTF-8 or declare an 8-bit encoding")
    if b"\0" in data:
        line = data.count(b"\n", 0, data.index(b"\0")) + 1
        raise SourceError(f"line {line} contains a NUL byte")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        if not str(error.msg).startswith("invalid or missing encoding declaration"):
            raise SourceError(str(error.msg)) from None
        encoding = "utf-8"  # undecodable first lines: decoding below says where
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        name = "utf-8" if encoding == "utf-8-sig" else encoding
        raise SourceError(f"line {line}: byte 0x{data[error.start]:02x} is not valid {name}") from None
    except LookupError:
        raise SourceError(f"unknown encoding {encoding!r}") from None
