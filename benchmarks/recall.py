"""How many mistakes nncheck finds when they are seeded, one at a time, into real code.

    python benchmarks/recall.py                          # every corpus, up to 60 sites per rule each
    python benchmarks/recall.py --corpus timm --rule NNC015 --misses misses.txt

For each corpus (the sources of a release from PyPI: the transformers and timm wheels that
benchmarks/run.py measures speed on, fairseq's and ignite's source distributions) it finds the
sites of each mistake of benchmarks/mutations.py (`forward` renamed `__call__`, the base `__init__`
call deleted, ...), draws up to --per-rule of them per rule (the same ones for the same --seed), and
checks each mutant with nncheck's library call, as the command would check the file in place. A
seeded mistake is found when the mutant has a finding of the rule's code on the lines where the
mistake is. Sites whose original file already has a finding of that code, and mutants that do not
compile, are left out; so are the sites listed in benchmarks/recall_excluded.txt, where the
generator's guess made something that is not a mistake. Run it with another environment's Python
(`/path/to/venv/bin/python benchmarks/recall.py`) to measure the nncheck installed there.
"""

from __future__ import annotations

import argparse
import ast
import multiprocessing
import random
import subprocess
import sys
import tarfile
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutations import GENERATORS, Mutant, Source  # noqa: E402

# name: (what pip downloads, the folder of the sources inside it); ignite's source distribution, unlike
# its wheel, holds its examples and tests (training scripts); fairseq has no wheel for this Python.
CORPORA = {
    "transformers": ("transformers==5.23.0", "transformers"),
    "timm": ("timm==1.0.31", "timm"),
    "fairseq": ("fairseq==0.12.2", "fairseq-0.12.2"),
    "ignite": ("pytorch-ignite==0.5.5", "pytorch_ignite-0.5.5"),
}
SOURCE_ONLY = {"ignite": "pytorch-ignite"}
EXCLUDED = Path(__file__).resolve().parent / "recall_excluded.txt"


def prepare(work: Path, name: str) -> Path:
    """The corpus's sources, downloaded and unpacked once into the work folder."""
    spec, folder = CORPORA[name]
    target = work / "recall" / name
    if not target.exists():
        downloads = work / "downloads"
        binary = ["--no-binary", SOURCE_ONLY[name]] if name in SOURCE_ONLY else []
        command = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", *binary, spec, "-d", str(downloads)]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        project = spec.split("==")[0].replace("-", "_").lower()
        archive = next(p for p in downloads.iterdir()
                       if p.name.lower().replace("-", "_").startswith(f"{project}_{spec.split('==')[1]}"))
        target.mkdir(parents=True)
        if archive.suffix == ".whl":
            with zipfile.ZipFile(archive) as wheel:
                wheel.extractall(target / folder)
        else:
            with tarfile.open(archive) as sdist:
                sdist.extractall(target, filter="data")
    return target / folder


def parse(path: Path) -> Source | None:
    try:
        text = path.read_text(encoding="utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Source(text, ast.parse(text))
    except (SyntaxError, UnicodeDecodeError, ValueError, RecursionError):
        return None


def sites(path: Path, rules: list[str]) -> list[tuple[str, int]]:
    source = parse(path)
    if source is None:
        return []
    return [(mutant.code, mutant.site) for code in rules for mutant in GENERATORS[code](source)]


@dataclass(frozen=True)
class Outcome:
    corpus: str
    path: str  # relative to the corpus
    mutant: Mutant | None
    code: str
    site: int
    result: str  # "found", "missed", "original" (already a finding there), "invalid" (does not compile)


def check_file(job: tuple[str, Path, Path, list[tuple[str, int]]]) -> list[Outcome]:
    from nncheck import Settings
    from nncheck.engine.checker import check_source

    corpus, root, path, chosen = job
    # As `nncheck` run in the corpus's folder: imports of the project resolve from there too.
    settings = Settings(src_roots=(str(root),))
    source = parse(path)
    relative = path.relative_to(root).as_posix()
    if source is None:
        return []
    original = {f.code for f in check_source(source.text, str(path), settings)}
    wanted = set(chosen)
    outcomes = []
    for code in sorted({code for code, _ in chosen}):
        for mutant in GENERATORS[code](source):
            if (code, mutant.site) not in wanted:
                continue
            wanted.discard((code, mutant.site))  # the first mutant of a site stands for it
            if code in original:
                outcomes.append(Outcome(corpus, relative, None, code, mutant.site, "original"))
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    compile(mutant.text, str(path), "exec", dont_inherit=True)
            except (SyntaxError, ValueError):
                outcomes.append(Outcome(corpus, relative, None, code, mutant.site, "invalid"))
                continue
            lines = {f.line for f in check_source(mutant.text, str(path), settings) if f.code == code}
            found = any(mutant.region[0] <= line <= mutant.region[1] for line in lines)
            outcomes.append(Outcome(corpus, relative, mutant, code, mutant.site, "found" if found else "missed"))
    return outcomes


def excluded() -> dict[tuple[str, str, str, int], str]:
    found: dict[tuple[str, str, str, int], str] = {}
    if EXCLUDED.exists():
        for line in EXCLUDED.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                corpus, code, place, reason = line.split("\t", 3)
                path, site = place.rsplit(":", 1)
                found[(corpus, code, path, int(site))] = reason
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", action="append", choices=sorted(CORPORA), help="default: all")
    parser.add_argument("--rule", action="append", choices=sorted(GENERATORS), help="default: all")
    parser.add_argument("--per-rule", type=int, default=60, help="sites drawn per rule and corpus (default 60)")
    parser.add_argument("--seed", type=int, default=25)
    parser.add_argument("--jobs", type=int, default=multiprocessing.cpu_count())
    parser.add_argument("--work", type=Path, default=Path.home() / ".cache" / "nncheck-bench")
    parser.add_argument("--misses", type=Path, help="write every missed mutant's place and description here")
    args = parser.parse_args()
    corpora = args.corpus or list(CORPORA)
    rules = args.rule or list(GENERATORS)
    skip = excluded()

    jobs: list[tuple[str, Path, Path, list[tuple[str, int]]]] = []
    for corpus in corpora:
        root = prepare(args.work, corpus)
        files = sorted(root.rglob("*.py"))
        with multiprocessing.Pool(args.jobs) as pool:
            found = pool.starmap(sites, [(path, rules) for path in files])
        per_file: dict[Path, list[tuple[str, int]]] = {}
        for code in rules:
            candidates = [(path, site) for path, listed in zip(files, found) for c, site in listed if c == code
                          and (corpus, code, path.relative_to(root).as_posix(), site) not in skip]
            candidates = sorted(set(candidates))
            random.Random(f"{args.seed}-{corpus}-{code}").shuffle(candidates)
            for path, site in candidates[:args.per_rule]:
                per_file.setdefault(path, []).append((code, site))
        jobs.extend((corpus, root, path, chosen) for path, chosen in sorted(per_file.items()))

    with multiprocessing.Pool(args.jobs) as pool:
        outcomes = [o for batch in pool.imap_unordered(check_file, jobs, chunksize=4) for o in batch]

    counts: Counter[tuple[str, str]] = Counter((o.code, o.result) for o in outcomes)
    import nncheck

    print(f"nncheck {nncheck.__version__} from {Path(nncheck.__file__).parent}")
    print(f"corpora: {', '.join(corpora)}; up to {args.per_rule} sites per rule and corpus, seed {args.seed}\n")
    print("| rule | seeded | found | recall | left out: finding already there / does not compile |")
    print("| --- | --- | --- | --- | --- |")
    total_found = total = 0
    for code in rules:
        found_count, missed = counts[(code, "found")], counts[(code, "missed")]
        seeded = found_count + missed
        total_found, total = total_found + found_count, total + seeded
        recall = f"{100 * found_count / seeded:.0f}%" if seeded else "-"
        print(f"| {code} | {seeded} | {found_count} | {recall} | {counts[(code, 'original')]} / "
              f"{counts[(code, 'invalid')]} |")
    print(f"| all | {total} | {total_found} | {100 * total_found / max(total, 1):.0f}% | |")
    misses = sorted((o for o in outcomes if o.result == "missed"), key=lambda o: (o.code, o.corpus, o.path, o.site))
    if args.misses is not None:
        args.misses.write_text("".join(
            f"{o.corpus}\t{o.code}\t{o.path}:{o.site}\t{o.mutant.what if o.mutant else ''}\n" for o in misses
        ), encoding="utf-8")
        print(f"\n{len(misses)} misses written to {args.misses}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
