"""How much time the nncheck plugin adds to python-lsp-server's (pylsp's) lint of a document.

    python benchmarks/pylsp_latency.py                 # the 2,000-line file of lsp_latency.py, 40 edits
    python benchmarks/pylsp_latency.py --modules 180 --edits 100
    python benchmarks/pylsp_latency.py --stdio         # two pylsp servers, with and without nncheck

pylsp, with its default settings, in this process: after each edit (a character typed at the end of a
line in the middle of the file, or taken away, as in lsp_latency.py) every enabled pylsp_lint hook
runs once on the document, as pylsp runs them after its debounce, in an order that rotates from one
edit to the next. The table gives the median time of each, pylsp's own linters together, and the ratio
of nncheck's time to theirs. The first lint (the open) is reported apart.

With --stdio: two pylsp processes, one with the plugin disabled (`pylsp.plugins.nncheck.enabled`),
each sent the same edits in turn over JSON-RPC; each edit's time is didChange -> its diagnostics,
pylsp's debounce (0.5 s) included. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "tests"))

from lsp_latency import document, published  # noqa: E402
from test_lsp import Client  # noqa: E402


class Endpoint:
    """pylsp's workspace talks to the client through this: here nobody listens."""

    def notify(self, method: str, params: Any = None) -> None:
        pass

    def request(self, method: str, params: Any = None) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modules", type=int, default=165, help="165 gives about 2,000 lines")
    parser.add_argument("--edits", type=int, default=40)
    parser.add_argument("--stdio", action="store_true", help="time real pylsp servers, with and without nncheck")
    args = parser.parse_args()
    if args.stdio:
        over_stdio(document(args.modules), args.edits)
        return

    from pylsp.config.config import Config
    from pylsp.workspace import Workspace

    text = document(args.modules)
    lines = text.splitlines()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder).as_uri()
        config = Config(root, {}, None, {})
        workspace = Workspace(root, Endpoint(), config)
        uri = (Path(folder) / "net.py").as_uri()
        workspace.put_document(uri, text, version=1)
        doc = workspace.get_document(uri)
        hooks = [impl for impl in config.plugin_manager.hook.pylsp_lint.get_hookimpls()
                 if impl.plugin not in config.disabled_plugins]
        names = [impl.plugin_name for impl in hooks]
        assert "nncheck" in names, "the nncheck plugin is not installed: pip install -e '.[pylsp]'"
        given = {"config": config, "workspace": workspace, "document": doc, "is_saved": False}

        def lint(impl: Any) -> float:
            started = time.perf_counter()
            found = impl.function(**{name: given[name] for name in impl.argnames})
            elapsed = time.perf_counter() - started
            if impl.plugin_name == "nncheck":
                assert [d["code"] for d in found] == ["NNC001"], found
            return elapsed

        opened = {impl.plugin_name: lint(impl) for impl in hooks}
        times: dict[str, list[float]] = {name: [] for name in names}
        middle = next(i for i in range(len(lines) // 2, len(lines)) if "self.proj = nn.Linear" in lines[i])
        for edit in range(args.edits):
            column = len(lines[middle])
            end = column if edit % 2 == 0 else column + 1
            where = {"start": {"line": middle, "character": column}, "end": {"line": middle, "character": end}}
            doc.apply_change({"range": where, "text": " " if edit % 2 == 0 else ""})
            for impl in hooks[edit % len(hooks):] + hooks[:edit % len(hooks)]:
                times[impl.plugin_name].append(lint(impl))

    own = [sum(times[name][i] for name in names if name != "nncheck") for i in range(args.edits)]
    ratios = [nncheck / pylsp for nncheck, pylsp in zip(times["nncheck"], own)]
    print("| measurement | value |\n| --- | --- |")
    print(f"| document | {len(lines)} lines, {args.modules + 1} classes, 1 finding |")
    print(f"| pylsp's lint hooks, as enabled by default | {', '.join(n for n in names if n != 'nncheck')} |")
    print(f"| open: pylsp's own / nncheck | {sum(t for n, t in opened.items() if n != 'nncheck') * 1000:.0f} ms / "
          f"{opened['nncheck'] * 1000:.0f} ms |")
    for name in names:
        print(f"| an edit: {name}, median of {args.edits} | {statistics.median(times[name]) * 1000:.0f} ms |")
    print(f"| an edit: pylsp's own together, median | {statistics.median(own) * 1000:.0f} ms |")
    print(f"| an edit: nncheck / pylsp's own, median of the ratios | {statistics.median(ratios) * 100:.0f}% |")


def over_stdio(text: str, edits: int) -> None:
    lines = text.splitlines()
    middle = next(i for i in range(len(lines) // 2, len(lines)) if "self.proj = nn.Linear" in lines[i])
    times: dict[bool, list[float]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as folder:
        uri = (Path(folder) / "net.py").as_uri()
        servers = {}
        for enabled in (True, False):
            server = Client(Path(folder) / f"pylsp-{enabled}.log", [sys.executable, "-m", "pylsp"])
            server.deadline = time.monotonic() + 3600
            options = {"pylsp": {"plugins": {"nncheck": {"enabled": enabled}}}}
            server.request("initialize", {"processId": None, "rootUri": Path(folder).as_uri(), "capabilities": {},
                                          "initializationOptions": options})
            server.notify("initialized", {})
            server.open(uri, text)
            server.receive(published(uri, 1), "the first diagnostics")  # type: ignore[arg-type]
            servers[enabled] = server
        try:
            for edit in range(edits):
                version = edit + 2
                column = len(lines[middle])
                end = column if edit % 2 == 0 else column + 1
                where = {"start": {"line": middle, "character": column}, "end": {"line": middle, "character": end}}
                change = {"range": where, "text": " " if edit % 2 == 0 else ""}
                for enabled in ((True, False) if edit % 2 == 0 else (False, True)):
                    started = time.perf_counter()
                    servers[enabled].notify("textDocument/didChange", {
                        "textDocument": {"uri": uri, "version": version}, "contentChanges": [change]})
                    found = servers[enabled].receive(published(uri, version), "diagnostics")  # type: ignore[arg-type]
                    times[enabled].append(time.perf_counter() - started)
                    codes = [d.get("code") for d in found["params"]["diagnostics"] if d["source"] == "nncheck"]
                    assert codes == (["NNC001"] if enabled else []), codes
        finally:
            for server in servers.values():
                server.close()
    with_it, without = statistics.median(times[True]), statistics.median(times[False])
    print("| measurement (didChange -> diagnostics, pylsp's 0.5 s debounce included) | value |\n| --- | --- |")
    print(f"| document | {len(lines)} lines |")
    print(f"| pylsp without nncheck, median of {edits} | {without * 1000:.0f} ms |")
    print(f"| pylsp with nncheck, median of {edits} | {with_it * 1000:.0f} ms |")
    print(f"| added by nncheck | {(with_it - without) * 1000:.0f} ms, "
          f"{(with_it - without) / (without - 0.5) * 100:.0f}% of the time after the debounce |")


if __name__ == "__main__":
    main()
