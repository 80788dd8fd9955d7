"""Replace a file's content atomically, so that it is always either the old or the new version.

The new content is written and synced before it gets a name in the file's folder, then renamed over
the file. On Linux it is first an unnamed file (O_TMPFILE): a process killed while writing leaves
nothing behind. Only between the two system calls that name it and rename it does a SIGKILL leave a
stray `.NAME.XXXXXXXX.nncheck` file (the old version still stands); other signals are held back
for those microseconds. Every temporary is locked while its writer lives, so the next fix of the same
file removes strays whatever their age, and never a live writer's. Elsewhere, or where a filesystem
refuses unnamed files, a named temporary file is written in the folder, as mkstemp makes it.
"""

from __future__ import annotations

import errno
import os
import re
import signal
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

try:
    import fcntl
except ImportError:  # not POSIX: no locks, and strays are left for the user to see
    fcntl = None  # type: ignore[assignment]

# Where a process finds its own open files by number; linking one of these names an unnamed file.
_PROC_FD = "/proc/self/fd"
# os.link only calls linkat (which can follow /proc's link to the open file) when given a folder
# descriptor; plain link() would try to hard-link the /proc entry itself and fail with EXDEV.
_UNNAMED = hasattr(os, "O_TMPFILE") and os.link in os.supports_dir_fd and os.path.isdir(_PROC_FD)
# How the kernel or a filesystem says it cannot make or name unnamed files: not a failed write, a
# reason to use a named temporary file instead (old kernels without O_TMPFILE answer EISDIR).
_NO_UNNAMED = frozenset({errno.EOPNOTSUPP, errno.ENOTSUP, errno.EISDIR, errno.EINVAL, errno.EXDEV, errno.EPERM})
_SUFFIX = ".nncheck"
# Enough of the file's name to recognise a stray temporary, short enough for NAME_MAX in any encoding.
_NAME_KEPT = 40
_NAME_ATTEMPTS = 100
CHANGED = "the file changed while it was being fixed; run again"
# Signals that would end the process between naming the new version and renaming it; a worker whose
# command was killed gets SIGTERM (see runner), which thus waits for the rename.
_HELD = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP, getattr(signal, "SIGALRM", signal.SIGTERM)}


class WriteError(Exception):
    """The file was left as it was; the text is a one-line reason."""


def replace_file(path: str, data: bytes, expected: bytes | None = None) -> bool:
    """Make the file at `path` hold `data`, atomically, keeping its mode and owner.

    With `expected` (what the file held when it was read), the file is re-read just before the
    rename: if it changed meanwhile it is left alone (WriteError), unless it already holds `data`
    (another nncheck fixed it the same way). Returns whether anything was written. On WriteError the
    file is as it was and no temporary file is left.
    """
    # A symlink is followed: the file it points to is rewritten and the link stays a link.
    target = os.path.realpath(path)
    try:
        info = os.stat(target)
    except OSError as error:
        raise WriteError(f"cannot read its status: {error.strerror}") from None
    if not info.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise WriteError("the file is read-only")
    if _UNNAMED:
        written = _replace_through_unnamed(target, data, expected, info)
        if written is not None:
            return written
    return _replace_through_named(target, data, expected, info)


def _replace_through_unnamed(target: str, data: bytes, expected: bytes | None, info: os.stat_result) -> bool | None:
    """Write `data` to an unnamed file, then name it and rename it over `target`; None when this
    folder cannot hold unnamed files (nothing was changed and nothing is left)."""
    folder, name = os.path.split(target)
    try:
        # O_PATH: the folder is only a place to work in, which needs no permission to list it.
        folder_fd = os.open(folder, getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY)
    except OSError as error:
        raise WriteError(f"cannot write in its folder: {error.strerror}") from None
    try:
        try:
            handle = os.open(".", os.O_TMPFILE | os.O_WRONLY, 0o600, dir_fd=folder_fd)
        except OSError as error:
            if error.errno in _NO_UNNAMED:
                return None
            raise WriteError(f"cannot write in its folder: {error.strerror}") from None
        try:
            _lock(handle)
            _remove_strays(folder, name)
            _fill(handle, data, info)
            if not _should_write(name, data, expected, folder_fd):
                return False
            return _name_and_rename(handle, name, folder_fd)
        finally:
            _close(handle)
    finally:
        _close(folder_fd)


def _name_and_rename(handle: int, name: str, folder_fd: int) -> bool | None:
    """Give the unnamed file a fresh temporary name, then rename it over `name`; None when it
    cannot be named. Between the two is the only moment a kill leaves a named temporary."""
    for _ in range(_NAME_ATTEMPTS):
        temporary = f".{name[:_NAME_KEPT]}.{os.urandom(4).hex()}{_SUFFIX}"
        # Both calls sit in this one function with nothing between them: an exception raised by a
        # signal handler (Ctrl-C) arrives inside one of the two try blocks, which remove the name.
        with _signals_held():
            try:
                os.link(f"{_PROC_FD}/{handle}", temporary, dst_dir_fd=folder_fd, follow_symlinks=True)
            except FileExistsError:
                continue  # another file's name, never ours to remove
            except OSError as error:
                if error.errno in _NO_UNNAMED:
                    return None
                raise WriteError(f"cannot write: {error.strerror}") from None
            except BaseException:
                _discard(temporary, folder_fd)
                raise
            try:
                os.replace(temporary, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
            except BaseException as error:
                _discard(temporary, folder_fd)
                if isinstance(error, OSError):
                    raise WriteError(f"cannot write: {error.strerror}") from None
                raise
        return True
    raise WriteError("cannot write: no free temporary name in its folder")


def _replace_through_named(target: str, data: bytes, expected: bytes | None, info: os.stat_result) -> bool:
    """Write `data` to a named temporary file beside `target`, then rename it over `target`."""
    folder, name = os.path.split(target)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{name[:_NAME_KEPT]}.", suffix=_SUFFIX, dir=folder)
    except OSError as error:
        raise WriteError(f"cannot write in its folder: {error.strerror}") from None
    try:
        try:
            _lock(handle)
            _remove_strays(folder, name)
            _fill(handle, data, info)
        finally:
            os.close(handle)  # before the rename: a failing close can be a failed write (NFS)
        if not _should_write(target, data, expected, None):
            _discard(temporary)
            return False
        os.replace(temporary, target)
        return True
    except BaseException as error:
        _discard(temporary)  # also after Ctrl-C; gone already if the rename was done
        if isinstance(error, OSError):
            raise WriteError(f"cannot write: {error.strerror}") from None
        raise


@contextmanager
def _signals_held() -> Iterator[None]:
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _lock(handle: int) -> None:
    """Mark the temporary as in use for as long as this process lives (the kernel drops the lock)."""
    if fcntl is not None:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            pass  # a filesystem without locks: its strays stay, never a live writer's is removed


def _remove_strays(folder: str, name: str) -> None:
    """Remove temporaries of `name` left by killed writers: those nobody holds locked."""
    if fcntl is None:
        return
    pattern = re.compile(re.escape(f".{name[:_NAME_KEPT]}.") + r"[0-9a-z_]{8}" + re.escape(_SUFFIX))
    try:
        candidates = [entry for entry in os.listdir(folder) if pattern.fullmatch(entry)]
    except OSError:
        return  # a folder that cannot be listed: nothing to clean, the fix itself goes on
    for entry in candidates:
        stray = os.path.join(folder, entry)
        try:
            handle = os.open(stray, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if stat.S_ISREG(os.fstat(handle).st_mode):
                os.unlink(stray)
        except OSError:
            pass  # locked: a live writer's, about to be renamed
        finally:
            os.close(handle)


def _fill(handle: int, data: bytes, info: os.stat_result) -> None:
    """Write all of `data`, give the file the original's owner and mode, and sync it to disk."""
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(handle, view):]
        if hasattr(os, "fchown"):
            try:
                os.fchown(handle, info.st_uid, info.st_gid)
            except OSError:
                pass  # only root may give a file away; the mode bits are what matters
        # After chown, which clears the set-user-ID and set-group-ID bits.
        if hasattr(os, "fchmod"):
            os.fchmod(handle, stat.S_IMODE(info.st_mode))
        os.fsync(handle)
    except OSError as error:
        raise WriteError(f"cannot write: {error.strerror}") from None


def _should_write(name: str, data: bytes, expected: bytes | None, folder_fd: int | None) -> bool:
    """Whether the file still holds what was fixed; False if it already holds the fixed version."""
    if expected is None:
        return True
    current = _read(name, folder_fd)
    if current == expected:
        return True
    if current == data:
        return False
    raise WriteError(CHANGED)


def _read(name: str, folder_fd: int | None) -> bytes | None:
    # O_NONBLOCK: should a FIFO have taken the file's place, opening it must not wait for a writer.
    flags = getattr(os, "O_NONBLOCK", 0)
    try:
        with open(name, "rb", opener=lambda path, mode: os.open(path, mode | flags, dir_fd=folder_fd)) as handle:
            return handle.read()
    except OSError:
        return None  # gone or unreadable: it is no longer what was read


def _discard(temporary: str, folder_fd: int | None = None) -> None:
    try:
        os.unlink(temporary, dir_fd=folder_fd)
    except OSError:
        pass  # already gone, or the folder went read-only: nothing more can be done


def _close(handle: int) -> None:
    try:
        os.close(handle)
    except OSError:
        pass  # the data was synced (or the write already failed): closing cannot change the outcome
