"""Check or fix many files for the command: in this process or in worker processes, with a time
limit per file, and without losing the run when a worker dies."""

from __future__ import annotations

import gc
import os
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from types import FrameType

from nncheck.engine.collector import LongLivedTables
from nncheck.files.config import Config, Overrides, config_for, settings_for
from nncheck.findings import INTERNAL_ERROR, UNPARSABLE, Finding
from nncheck.fixes.outcome import FileFix, Status, checked
from nncheck.frontends.job import Job, Mode
from nncheck.settings import Settings

# The checker, the fixer and the rules (and so libcst) are imported only when a file must really be
# checked: a run answered entirely from the cache never loads them.

TIMED_OUT = "nncheck timed out on this file"

Result = tuple[FileFix, list[str]]  # what came of one file, and the files its findings depend on


class TimeUp(BaseException):
    """Raised by the alarm. A BaseException, so that no `except Exception` guard swallows it."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    # An interval timer is the one way to interrupt Python code in this thread; elsewhere (a thread
    # other than the main one, or an OS without SIGALRM) the limit is only the main process's watchdog.
    usable = seconds > 0 and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeUp

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def timed_out(path: str, seconds: float) -> FileFix:
    message = f"{TIMED_OUT} after {seconds:g} s (--file-timeout)"
    return checked(path, [Finding(path, 1, 0, UNPARSABLE, message)], Status.TIMED_OUT)


def crashed(path: str, message: str) -> FileFix:
    return checked(path, [Finding(path, 1, 0, INTERNAL_ERROR, message)], Status.CRASHED)


def one_file(job: Job, path: str) -> Result:
    """Check or fix one file; never raises."""
    from nncheck.engine.checker import check_file, dependencies, forget_other_files
    from nncheck.fixes.add_noqa import add_noqa_file
    from nncheck.fixes.fixer import fix_file, write_fix

    try:
        try:
            with time_limit(job.file_timeout):
                settings = _settings(path, job.overrides)
                if job.mode is Mode.CHECK:
                    found = check_file(path, settings)
                    _long_lived.checked(0)  # the file's trees are freed by now: nothing of it is kept
                    return checked(path, found), dependencies(path, settings) if job.cached else []
                if job.noqa:
                    outcome = add_noqa_file(path, settings, write=False)
                else:
                    outcome = fix_file(path, settings, unsafe=job.unsafe, write=False)
        except TimeUp:
            # What this process learnt of other files may be half-built: start again from the disk.
            forget_other_files()
            return timed_out(path, job.file_timeout), []
        # Outside the time limit: a write is never interrupted half-way.
        if job.mode is Mode.FIX:
            write_fix(outcome, settings)
        outcome.data = None  # not needed any more; spares sending it back from a worker
        return outcome, dependencies(path, settings) if job.cached else []
    except Exception as error:  # the last guard: one file's bug must not lose the other files' results
        return crashed(path, f"internal error in nncheck: {type(error).__name__}: {error}"), []


_configs: dict[tuple[str, Overrides], Config] = {}
_long_lived = LongLivedTables()  # other files' tables, kept for the run: hidden from the collector's passes


def _settings(path: str, overrides: Overrides) -> Settings:
    # One run: a folder's configuration file is looked for once (each look stats every folder up).
    folder = os.path.dirname(os.path.abspath(path))
    config = _configs.get((folder, overrides))
    if config is None:
        config = _configs[folder, overrides] = config_for(path, overrides)
    return settings_for(path, overrides, config)


def run_files(paths: list[str], job: Job, jobs: int, done: Callable[[str, Result], None]) -> None:
    """Check every path, in worker processes when `jobs` > 1; `done` is called once per path."""
    _configs.clear()  # configuration files may have changed since an earlier run in this process
    if jobs == 1:
        try:
            for path in paths:
                done(path, one_file(job, path))
        finally:
            gc.unfreeze()  # this process may go on (a test, a caller of the library): its collector as it was
        return
    left = _in_pool(paths, job, jobs, done)
    while left:
        # Something killed a worker or got it stuck: one file at a time, to find which and go on.
        left = _one_by_one(left, job, done)


def _in_pool(paths: list[str], job: Job, jobs: int, done: Callable[[str, Result], None]) -> list[str]:
    """Check the paths in `jobs` workers; return those left unchecked if the pool broke or stalled."""
    # Small chunks keep both cores busy when a few huge files dominate the corpus.
    size = max(1, min(8, len(paths) // (jobs * 16)))
    chunks = [paths[i:i + size] for i in range(0, len(paths), size)]
    stall = size * job.file_timeout + _grace(job) if job.file_timeout > 0 else None
    pool = None
    try:
        pool = _pool(job, jobs)
        futures: dict[Future[list[Result]], list[str]] = {pool.submit(_chunk_in_worker, c): c for c in chunks}
    except (OSError, NotImplementedError):  # no worker processes here (no /dev/shm, a sandbox)
        if pool is not None:
            _stop(pool)
        for path in paths:
            done(path, one_file(job, path))
        return []
    pending = set(futures)
    handled: set[Future[list[Result]]] = set()
    try:
        while pending:
            finished, pending = wait(pending, timeout=stall, return_when=FIRST_COMPLETED)
            if not finished:
                break
            for future in finished:
                for path, result in zip(futures[future], future.result()):
                    done(path, result)
                handled.add(future)
    except BrokenProcessPool:
        pass
    _stop(pool)
    return [path for future, chunk in futures.items() if future not in handled for path in chunk]


def _one_by_one(paths: list[str], job: Job, done: Callable[[str, Result], None]) -> list[str]:
    pool = _pool(job, 1)
    limit = job.file_timeout + _grace(job) if job.file_timeout > 0 else None
    try:
        for index, path in enumerate(paths):
            future = pool.submit(_chunk_in_worker, [path])
            finished, _ = wait([future], timeout=limit)
            if not finished:
                done(path, (timed_out(path, job.file_timeout), []))
                return paths[index + 1:]
            try:
                (result,) = future.result()
            except BrokenProcessPool:
                message = "nncheck crashed on this file (its worker process died); please report it"
                done(path, (crashed(path, message), []))
                return paths[index + 1:]
            done(path, result)
        return []
    finally:
        _stop(pool)


def _grace(job: Job) -> float:
    # A worker stuck in native code never sees its own time limit: one that has overrun it by as much
    # again (at most 10 s more) is taken to be stuck.
    return min(job.file_timeout, 10.0) + 1.0


def _pool(job: Job, workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(job, os.getpid()))


def _stop(pool: ProcessPoolExecutor) -> None:
    # A stuck worker never finishes its task; shutdown() alone would wait for it forever. SIGTERM, which
    # a worker holds back while it renames a fixed file into place (see files/atomic.py), not SIGKILL.
    for process in list(getattr(pool, "_processes", {}).values()):
        if process.is_alive():
            process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


_worker_job = Job(Overrides(), Mode.CHECK, False)


def _init_worker(job: Job, parent: int) -> None:
    global _worker_job
    _worker_job = job
    _die_with(parent)


def _die_with(parent: int) -> None:
    # If the command is killed (SIGKILL cannot be caught), its workers must not go on fixing files.
    # SIGTERM, not SIGKILL: a worker holds it back for the microseconds in which a write cannot stop.
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        return  # not Linux: workers finish their current files, atomically, and then exit
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)


def _chunk_in_worker(paths: list[str]) -> list[Result]:
    return [one_file(_worker_job, path) for path in paths]
