"""Replace a file's content atomically, so that it is always either the old or the new version."""

from __future__ import annotations

import os
import stat
import tempfile


class WriteError(Exception):
    """The file was left as it was; the text is a one-line reason."""


def replace_file(path: str, data: bytes) -> None:
    # A symlink is followed: the file it points to is rewritten and the link stays a link.
    target = os.path.realpath(path)
    try:
        info = os.stat(target)
    except OSError as error:
        raise WriteError(f"cannot read its status: {error.strerror}") from None
    if not info.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise WriteError("the file is read-only")
    folder, name = os.path.split(target)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".nncheck", dir=folder)
    except OSError as error:
        raise WriteError(f"cannot write in its folder: {error.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, stat.S_IMODE(info.st_mode))
        try:
            os.chown(temporary, info.st_uid, info.st_gid)
        except OSError:
            pass  # only the owner or root may give a file away; the mode bits are what matters
        os.replace(temporary, target)
    except OSError as error:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise WriteError(f"cannot write: {error.strerror}") from None
