"""How long `nncheck lsp` takes to answer, driven as an editor drives it (JSON-RPC over stdio).

    python benchmarks/lsp_latency.py                 # a 2,000-line file, 40 edits
    python benchmarks/lsp_latency.py --modules 180 --edits 100

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modules", type=int, default=165, help="165 gives about 2,000 lines")
    parser.add_argument("--edits", type=int, default=40)
    args = parser.parse_args()
    text = document(args.modules)
    lines = text.splitlines()
    with tempfile.TemporaryDirectory() as folder:
        client = Client(Path(folder) / "server.log", [sys.executable, "-m", "nncheck", "lsp"])
        client.deadline = time.monotonic() + 3600
        try:
            client.initialize()
            uri = (Path(folder) / "net.py").as_uri()
            started = time.perf_counter()
            client.open(uri, text)
            first = client.receive(published(uri, 1), "the first diagnostics")  # type: ignore[arg-type]
            opened = time.perf_counter() - started
            assert len(first["params"]["diagnostics"]) == 1, first
            middle = next(i for i in range(len(lines) // 2, len(lines)) if "self.proj = nn.Linear" in lines[i])
            latencies = []
            for version in range(2, args.edits + 2):
                # Type a character at the end of the line, then take it away: the file stays the same size.
                column = len(lines[middle])
                end = column if version % 2 == 0 else column + 1
                where = {"start": {"line": middle, "character": column}, "end": {"line": middle, "character": end}}
                change = {"range": where, "text": " " if version % 2 == 0 else ""}
                started = time.perf_counter()
                client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                                         "contentChanges": [change]})
                client.receive(published(uri, version), "diagnostics")  # type: ignore[arg-type]
                latencies.append(time.perf_counter() - started)
                time.sleep(0.05)  # a pause between keystrokes, so that each one is answered on its own
            burst_start = args.edits + 2
            started = time.perf_counter()
            for version in range(burst_start, burst_start + 200):
                client.change(uri, version, text + "#" * (version % 7))
            client.change(uri, burst_start + 200, text)
            wanted = published(uri, burst_start + 200)
            last = client.receive(wanted, "the burst's diagnostics")  # type: ignore[arg-type]
            burst = time.perf_counter() - started
            assert len(last["params"]["diagnostics"]) == 1
        finally:
            client.close()
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
    print("| measurement | value |\n| --- | --- |")
    print(f"| document | {len(lines)} lines, {args.modules + 1} classes, 1 finding |")
    print(f"| open -> diagnostics | {opened * 1000:.0f} ms |")
    print(f"| didChange -> diagnostics, median of {len(latencies)} | {statistics.median(latencies) * 1000:.0f} ms |")
    print(f"| didChange -> diagnostics, p95 | {p95 * 1000:.0f} ms |")
    print(f"| 200 changes in a burst -> diagnostics of the last | {burst * 1000:.0f} ms after the first |")


if __name__ == "__main__":
    main()
