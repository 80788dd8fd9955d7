"""nncheck's speed, side by side with flake8 and TorchFix, on real corpora, in one run.

    python benchmarks/run.py                      # transformers==5.23.0 and timm==1.0.31, 5 runs each
    python benchmarks/run.py --corpus timm --runs 5 --skip-torchfix
    python benchmarks/run.py --baseline ea6a0cd   # also an older commit of nncheck, side by side
    python benchmarks/run.py --baseline 672e348 --lsp-baseline 78503dc  # the server against another

The language server's latency (benchmarks/lsp_latency.py) is the last part of the table (with
--baseline or --lsp-baseline, that commit's server measured in turns with this one's).

It prepares everything itself in a work folder (default ~/.cache/nncheck-bench): the corpora (the
Python sources of the wheels, via `pip download --no-deps`), and three virtualenvs: flake8 alone,
flake8 with this checkout of nncheck, and TorchFix 0.7.0. Every figure is the median wall time of
--runs runs after one warm-up, and the table reports ratios, which drift far less than seconds on
shared machines. Nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPORA = {"transformers": "transformers==5.23.0", "timm": "timm==1.0.31"}
TORCHFIX = "torchfix==0.7.0"


def sh(*args: str | Path) -> None:
    subprocess.run([str(a) for a in args], check=True, stdout=subprocess.DEVNULL)


def prepare_corpus(work: Path, name: str) -> Path:
    target = work / "corpora" / name
    if not target.exists():
        downloads = work / "downloads"
        sh(sys.executable, "-m", "pip", "download", "-q", "--no-deps", CORPORA[name], "-d", downloads)
        wheel = next(downloads.glob(f"{name}-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(target)
    return target / name


def prepare_venv(work: Path, name: str, packages: list[str]) -> Path:
    venv = work / "venvs" / name
    if not (venv / "bin" / "python").exists():
        sh(sys.executable, "-m", "venv", venv)
        sh(venv / "bin" / "pip", "install", "-q", *packages)
    return venv / "bin"


def measure(
    command: list[str], runs: int, cwd: Path | None = None, before: Callable[[], None] | None = None
) -> tuple[float, int]:
    """Median wall seconds over `runs` after a warm-up, and the peak RSS (KB) seen, children included."""
    times, peak = [], 0
    for attempt in range(runs + 1):
        if before is not None:
            before()
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, _, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        peak = max(peak, usage.ru_maxrss)
        if attempt:  # the first run only warms the disk cache
            times.append(elapsed)
    return statistics.median(times), peak


def measure_alternating(
    first: list[str], second: list[str], runs: int, before_second: Callable[[], None] | None = None
) -> tuple[float, float]:
    """Median wall seconds of two commands run in turn (after a warm-up of each), so that a machine
    whose speed drifts slows both alike. `before_second` runs, untimed, before each run of the second."""
    times: tuple[list[float], list[float]] = ([], [])
    for attempt in range(runs + 1):
        for index, command in enumerate((first, second)):
            if index and before_second is not None:
                before_second()
            start = time.perf_counter()
            subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if attempt:
                times[index].append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def prepare_baseline(work: Path, commit: str) -> Path:
    """A virtualenv with nncheck (and flake8) at an older commit of this repository."""
    source = work / "baselines" / commit
    if not source.exists():
        source.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(REPO), "archive", commit], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
    return prepare_venv(work, f"baseline-{commit}", [str(source), "flake8"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", choices=sorted(CORPORA), action="append")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--work", type=Path, default=Path.home() / ".cache" / "nncheck-bench")
    parser.add_argument("--skip-torchfix", action="store_true")
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--baseline", metavar="COMMIT", help="also measure nncheck at this commit, alternating")
    parser.add_argument("--skip-lsp", action="store_true", help="leave out the language server (lsp_latency.py)")
    parser.add_argument("--lsp-baseline", metavar="COMMIT",
                        help="the commit the language server is compared with (default: --baseline's)")
    args = parser.parse_args()
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    plain = prepare_venv(work, "flake8", ["flake8"])
    with_nncheck = prepare_venv(work, "flake8-nncheck", [str(REPO)])
    sh(with_nncheck / "pip", "install", "-q", "--force-reinstall", "--no-deps", str(REPO))  # this checkout
    torchfix = None if args.skip_torchfix else prepare_venv(work, "torchfix", [TORCHFIX])
    baseline = None if args.baseline is None else prepare_baseline(work, args.baseline)
    lsp_commit = args.lsp_baseline or args.baseline
    lsp_baseline = None if lsp_commit is None else prepare_baseline(work, lsp_commit)
    rows: list[tuple[str, str, str]] = []

    def row(what: str, seconds: str, ratio: str) -> None:
        rows.append((what, seconds, ratio))
        print(f"{what}: {seconds} ({ratio})", file=sys.stderr)

    for name in args.corpus or sorted(CORPORA):
        corpus = prepare_corpus(work, name)
        files = sum(1 for _ in corpus.rglob("*.py"))
        cache = Path(tempfile.mkdtemp(prefix="nncheck-bench-cache-"))
        nncheck = [str(with_nncheck / "nncheck"), "--cache-dir", str(cache)]
        plugin_cache = cache / "flake8"
        alone = [str(plain / "flake8"), "-j2", str(corpus)]
        with_plugin = [str(with_nncheck / "flake8"), "-j2", "--nncheck-cache-dir", str(plugin_cache), str(corpus)]

        def forget() -> None:
            shutil.rmtree(plugin_cache, ignore_errors=True)

        # Each pair alternates: flake8 alone, then with nncheck (its cache emptied first, for the first run).
        flake8_alone, flake8_cold = measure_alternating(alone, with_plugin, args.runs, before_second=forget)
        row(f"{name} ({files} files): flake8 -j2 alone", f"{flake8_alone:.2f} s", "1.00")
        row(f"{name}: flake8 -j2 with nncheck, first run (empty cache)", f"{flake8_cold:.2f} s",
            f"{flake8_cold / flake8_alone:.2f} x flake8")
        flake8_alone, flake8_warm = measure_alternating(alone, with_plugin, args.runs)
        row(f"{name}: flake8 -j2 alone, measured again beside the next row", f"{flake8_alone:.2f} s", "1.00")
        row(f"{name}: flake8 -j2 with nncheck, run again (its cache filled)", f"{flake8_warm:.2f} s",
            f"{flake8_warm / flake8_alone:.3f} x flake8")
        cold, peak = measure([*nncheck, "--no-cache", "--jobs", "2", str(corpus)], args.runs)
        row(f"{name}: nncheck cold (--no-cache)", f"{cold:.2f} s", f"{cold / flake8_alone:.2f} x flake8")
        if baseline is not None:
            # An older plugin without a cache has no option to turn it off; one with a cache must not use it.
            help_text = subprocess.run([str(baseline / "flake8"), "--help"], capture_output=True, text=True).stdout
            no_cache = ["--nncheck-no-cache"] if "--nncheck-no-cache" in help_text else []
            pairs = {
                "flake8 -j2 with nncheck, no cache": ([str(with_nncheck / "flake8"), "-j2", "--nncheck-no-cache",
                                                       str(corpus)],
                                                      [str(baseline / "flake8"), "-j2", *no_cache, str(corpus)]),
                "nncheck cold (--no-cache)": ([*nncheck, "--no-cache", "--jobs", "2", str(corpus)],
                                              [str(baseline / "nncheck"), "--no-cache", "--jobs", "2", str(corpus)]),
            }
            for what, (this, other) in pairs.items():
                this_time, other_time = measure_alternating(this, other, args.runs)
                row(f"{name}: {what}, this checkout vs {args.baseline}", f"{this_time:.2f} s vs {other_time:.2f} s",
                    f"{this_time / other_time:.3f} x {args.baseline}")
            # The findings must not move with the speed: the JSON outputs, compared byte for byte.
            outputs = [subprocess.run([str(venv / "nncheck"), "--no-cache", "--output-format", "json", str(corpus)],
                                      capture_output=True).stdout for venv in (with_nncheck, baseline)]
            row(f"{name}: findings (JSON), this checkout vs {args.baseline}",
                "byte-identical" if outputs[0] == outputs[1] else "DIFFERENT", "")
        row(f"{name}: nncheck peak RSS", f"{peak / 1024:.0f} MB", "")
        subprocess.run([*nncheck, str(corpus)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fill it
        warm, _ = measure([*nncheck, str(corpus)], args.runs)
        row(f"{name}: nncheck warm, nothing changed", f"{warm:.2f} s", f"{warm / cold:.3f} x cold")
        touched = next(iter(sorted(corpus.rglob("modeling_*.py"))), next(corpus.rglob("*.py")))

        def touch() -> None:
            touched.write_bytes(touched.read_bytes() + b"\n")

        one, _ = measure([*nncheck, str(corpus)], args.runs, before=touch)
        row(f"{name}: nncheck warm, one file edited", f"{one:.2f} s", f"{one / cold:.3f} x cold")
        if torchfix is not None:
            fix_time, _ = measure([str(torchfix / "torchfix"), str(corpus)], max(1, args.runs // 5))
            row(f"{name}: torchfix command", f"{fix_time:.2f} s", f"nncheck cold is {fix_time / cold:.1f} x faster")
        big = min(corpus.rglob("*.py"), key=lambda p: abs(len(p.read_text(errors="replace").splitlines()) - 2000))
        lines = len(big.read_text(errors="replace").splitlines())
        single, _ = measure([*nncheck, "--no-cache", str(big)], args.runs)
        row(f"{name}: one {lines}-line file, cold, whole process", f"{single:.2f} s", "")
        one_job, _ = measure([*nncheck, "--no-cache", "--jobs", "1", str(corpus)], args.runs)
        row(f"{name}: --jobs 1 vs --jobs 2", f"{one_job:.2f} s", f"--jobs 2 is {one_job / cold:.2f} x faster")
        if not args.skip_scaling:
            with tempfile.TemporaryDirectory() as scaled:
                for copies in (2, 4):
                    for index in range(copies):
                        target = Path(scaled) / f"copy{index}"
                        if not target.exists():
                            shutil.copytree(corpus, target)
                    seconds, _ = measure([*nncheck, "--no-cache", "--jobs", "2", scaled], args.runs)
                    row(f"{name}: corpus x{copies}", f"{seconds:.2f} s", f"{seconds / cold:.2f} x the 1x time")
        shutil.rmtree(cache, ignore_errors=True)

    if not args.skip_lsp:
        # The language server's figures, from the same virtualenv (with the lsp extra's pygls).
        sh(with_nncheck / "pip", "install", "-q", "pygls>=2,<3", "pytest")
        command = [str(with_nncheck / "python"), str(REPO / "benchmarks" / "lsp_latency.py")]
        if lsp_baseline is not None:  # both servers in turns, in one run
            sh(lsp_baseline / "pip", "install", "-q", "pygls>=2,<3")
            command += ["--compare", str(lsp_baseline / "python"), "--rounds", str(max(3, args.runs))]
        latency = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        for line in latency.splitlines()[2:]:
            what, value, *other = (cell.strip() for cell in line.strip("|").split("|"))
            if other and other[0]:
                row(f"nncheck lsp: {what}, this checkout vs {lsp_commit}", f"{value} vs {other[0]}",
                    f"{other[1]} x {lsp_commit}")
            else:
                row(f"nncheck lsp: {what}", value, "")

    print("| measurement | median | ratio |\n| --- | --- | --- |")
    for what, seconds, ratio in rows:
        print(f"| {what} | {seconds} | {ratio} |")


if __name__ == "__main__":
    main()
