"""Faults inside nncheck, injected into a real run: a rule that raises, a file that takes too long, a
worker that crashes or gets stuck in native code. Each file at fault gets one line; the others are
still checked; the exit status is 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CACHE
from test_cli import BAD, BAD_LINE, write

# Loaded by every Python process of a run (workers included) through PYTHONPATH: it breaks nncheck
# on purpose, for the files named in the FAULTS environment variable, and NNC001 for files holding
# the comment `# FAIL HERE`.
INJECTOR = '''
import os, signal, time

import nncheck.frontends.runner
from nncheck.rules import nnc001_call_overridden as rule

faults = dict(item.split("=") for item in os.environ.get("FAULTS", "").split(",") if item)  # file=fault
checking = nncheck.frontends.runner.one_file
check = rule.CallOverridden.check


def one_file(job, path):
    fault = faults.get(os.path.basename(path))
    if fault == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    if fault == "stuck":  # as if stuck in native code: the alarm is never seen
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(3600)
    return checking(job, path)


def failing_check(self, model):
    if "# FAIL HERE" in model.tree.code:
        raise KeyError("injected")
    return check(self, model)


def no_pool(*args, **kwargs):
    raise OSError(38, "Function not implemented")  # as where /dev/shm is missing


nncheck.frontends.runner.one_file = one_file
rule.CallOverridden.check = failing_check
if "pool=none" in os.environ.get("FAULTS", ""):
    nncheck.frontends.runner.ProcessPoolExecutor = no_pool
'''


def run_with_faults(tmp_path: Path, faults: str, *command: str) -> subprocess.CompletedProcess[str]:
    injector = tmp_path / "injector"
    write(injector / "sitecustomize.py", INJECTOR)
    env = {**os.environ, "PYTHONPATH": str(injector), "FAULTS": faults, "NNCHECK_CACHE_DIR": CACHE}
    return subprocess.run([sys.executable, "-m", *command], cwd=tmp_path / "tree", env=env, capture_output=True,
                          text=True, timeout=300)


def tree(tmp_path: Path, count: int) -> list[str]:
    """`count` files with one NNC001 each; their expected lines."""
    names = [f"m{i:02}.py" for i in range(count)]
    for name in names:
        write(tmp_path / "tree" / name, BAD)
    return [f"{name}:{BAD_LINE}" for name in names]


def expect_run(tmp_path: Path, faults: str, options: list[str], replaced: dict[int, str], status: int, *,
               count: int = 20, sources: dict[int, str] | None = None) -> None:
    """Run the command over `count` files with NNC001 each (or the given `sources`, by index) and
    check every line (the `replaced` ones say something else, by index) and the exit status."""
    expected = tree(tmp_path, count)
    for index, source in (sources or {}).items():
        write(tmp_path / "tree" / f"m{index:02}.py", source)
    result = run_with_faults(tmp_path, faults, "nncheck", "--no-cache", *options)
    for index, line in replaced.items():
        expected[index] = f"m{index:02}.py:1:1: {line}"
    assert result.stdout.splitlines() == expected
    assert result.returncode == status
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_failing_rule_is_nnc901_in_the_command(tmp_path: Path, jobs: str) -> None:
    failed = "NNC901 internal error in nncheck (NNC001): KeyError: 'injected'"
    expect_run(tmp_path, "", ["--jobs", jobs], {3: failed}, 2, sources={3: BAD + "# FAIL HERE\n"})


def test_a_failing_rule_is_nnc901_in_flake8(tmp_path: Path) -> None:
    tree(tmp_path, 2)
    write(tmp_path / "tree" / "m01.py", BAD + "# FAIL HERE\n")
    result = run_with_faults(tmp_path, "", "flake8", "--isolated", "--select", "NNC")
    assert result.stdout.splitlines() == [
        f"./m00.py:{BAD_LINE.replace(' [*]', '')}",
        "./m01.py:1:1: NNC901 internal error in nncheck (NNC001): KeyError: 'injected'",
    ]
    assert result.returncode == 1
    assert "Traceback" not in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_file_over_the_time_limit_is_nnc900_timed_out(tmp_path: Path, jobs: str) -> None:
    # Python accepts this chain; libcst's tree for it takes seconds to parse and walk.
    deep = BAD.replace("return x", "return x" + "[0]" * 2000)
    timed_out = "NNC900 nncheck timed out on this file after 0.5 s (--file-timeout)"
    expect_run(tmp_path, "", ["--jobs", jobs, "--file-timeout", "0.5"], {5: timed_out}, 2, sources={5: deep})


def test_a_crashed_worker_costs_only_its_file(tmp_path: Path) -> None:
    crashed = "NNC901 nncheck crashed on this file (its worker process died); please report it"
    expect_run(tmp_path, "m07.py=crash", ["--jobs", "2"], {7: crashed}, 2, count=40)


@pytest.mark.slow
def test_a_worker_stuck_in_native_code_is_given_up_on(tmp_path: Path) -> None:
    timed_out = "NNC900 nncheck timed out on this file after 1 s (--file-timeout)"
    expect_run(tmp_path, "m02.py=stuck", ["--jobs", "2", "--file-timeout", "1"], {2: timed_out}, 2)


def test_without_worker_processes_the_files_are_checked_in_process(tmp_path: Path) -> None:
    expect_run(tmp_path, "pool=none", ["--jobs", "2"], {}, 1)
