"""How long `nncheck lsp` takes to answer, driven as an editor drives it (JSON-RPC over stdio).

    python benchmarks/lsp_latency.py                 # a 2,000-line file, 40 edits
    python benchmarks/lsp_latency.py --modules 180 --edits 100
    python benchmarks/lsp_latency.py --compare /work/base/.venv/bin/python --rounds 5

`--compare PYTHON` also measures the server of another installation of nncheck (a Python whose
`-m nncheck lsp` runs it; it needs pygls), in turns with this one, each round in the other order:
the table then gives both, and this one's ratio to it. Edits are pooled over the rounds; open and
burst are the medians of the rounds.

The document is `--modules` small nn.Module classes and one that overrides __call__ (one NNC001). Each
edit changes a line in the middle of the file (an incremental change, as editors send) and waits for
the diagnostics of that version: the latency includes the server's debounce. Also measured: open ->
first diagnostics, and a burst of 200 changes -> the diagnostics of the last one. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from test_lsp import Client, Message  # noqa: E402

BLOCK = '''

class Block{n}(nn.Module):
    """Block number {n}."""

    def __init__(self, dim: int = {dim}) -> None:
        super().__init__()
        self.proj = nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.proj(x)) + x
'''
BAD = "\n\nclass Net(nn.Module):\n    def __call__(self, x):\n        return x\n"


def document(modules: int) -> str:
    return "import torch\nfrom torch import nn\n" + "".join(BLOCK.format(n=n, dim=n + 8) for n in range(modules)) + BAD


def published(uri: str, version: int) -> object:
    def wanted(message: Message) -> bool:
        return (message.get("method") == "textDocument/publishDiagnostics" and message["params"]["uri"] == uri
                and message["params"].get("version") == version)
    return wanted


@dataclass
class Measured:
    opened: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    bursts: list[float] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        latencies = sorted(self.latencies)
        p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
        return {"open -> diagnostics": statistics.median(self.opened),
                f"didChange -> diagnostics, median of {len(latencies)}": statistics.median(latencies),
                "didChange -> diagnostics, p95": p95,
                "200 changes in a burst -> diagnostics of the last": statistics.median(self.bursts)}


def measure(python: str, text: str, edits: int, into: Measured) -> None:
    """One server's session: open, `edits` edits one at a time, a burst."""
    lines = text.splitlines()
    with tempfile.TemporaryDirectory() as folder:
        client = Client(Path(folder) / "server.log", [python, "-m", "nncheck", "lsp"])
        client.deadline = time.monotonic() + 3600
        try:
            client.initialize()
            uri = (Path(folder) / "net.py").as_uri()
            started = time.perf_counter()
            client.open(uri, text)
            first = client.receive(published(uri, 1), "the first diagnostics")  # type: ignore[arg-type]
            into.opened.append(time.perf_counter() - started)
            assert len(first["params"]["diagnostics"]) == 1, first
            middle = next(i for i in range(len(lines) // 2, len(lines)) if "self.proj = nn.Linear" in lines[i])
            for version in range(2, edits + 2):
                # Type a character at the end of the line, then take it away: the file stays the same size.
                column = len(lines[middle])
                end = column if version % 2 == 0 else column + 1
                where = {"start": {"line": middle, "character": column}, "end": {"line": middle, "character": end}}
                change = {"range": where, "text": " " if version % 2 == 0 else ""}
                started = time.perf_counter()
                client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                                         "contentChanges": [change]})
                client.receive(published(uri, version), "diagnostics")  # type: ignore[arg-type]
                into.latencies.append(time.perf_counter() - started)
                time.sleep(0.05)  # a pause between keystrokes, so that each one is answered on its own
            burst_start = edits + 2
            started = time.perf_counter()
            for version in range(burst_start, burst_start + 200):
                client.change(uri, version, text + "#" * (version % 7))
            client.change(uri, burst_start + 200, text)
            wanted = published(uri, burst_start + 200)
            last = client.receive(wanted, "the burst's diagnostics")  # type: ignore[arg-type]
            into.bursts.append(time.perf_counter() - started)
            assert len(last["params"]["diagnostics"]) == 1  # the last text's, after the burst
        finally:
            client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modules", type=int, default=165, help="165 gives about 2,000 lines")
    parser.add_argument("--edits", type=int, default=40)
    parser.add_argument("--compare", metavar="PYTHON", action="append", default=[],
                        help="also measure `PYTHON -m nncheck lsp`, in turns with this one")
    parser.add_argument("--rounds", type=int, default=None, help="sessions per server (default 1; 3 with --compare)")
    args = parser.parse_args()
    text = document(args.modules)
    sides = [sys.executable, *args.compare]
    measured = [Measured() for _ in sides]
    rounds = args.rounds or (3 if args.compare else 1)
    for round_ in range(rounds):
        order = list(range(len(sides)))
        for index in order if round_ % 2 == 0 else order[::-1]:
            measure(sides[index], text, args.edits, measured[index])
    figures = [m.figures() for m in measured]
    if not args.compare:
        print("| measurement | value |\n| --- | --- |")
        print(f"| document | {len(text.splitlines())} lines, {args.modules + 1} classes, 1 finding |")
        for what, seconds in figures[0].items():
            print(f"| {what} | {seconds * 1000:.0f} ms{' after the first' if 'burst' in what else ''} |")
        return
    heads = " | ".join(f"{side} | ratio" for side in args.compare)
    print(f"| measurement | this checkout | {heads} |\n| --- | --- |{' --- | --- |' * len(args.compare)}")
    print(f"| document | {len(text.splitlines())} lines, {args.modules + 1} classes, 1 finding, {rounds} rounds |"
          + " | |" * len(args.compare))
    for what, seconds in figures[0].items():
        others = " | ".join(f"{f[what] * 1000:.0f} ms | {seconds / f[what]:.2f}" for f in figures[1:])
        print(f"| {what} | {seconds * 1000:.0f} ms | {others} |")


if __name__ == "__main__":
    main()
