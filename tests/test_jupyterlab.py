"""nncheck in JupyterLab, seen in a real browser: `jupyter lab` with jupyterlab-lsp, python-lsp-server and
nncheck's pylsp plugin, driven through Selenium in Debian's headless Chromium. jupyterlab-lsp sends the
notebook's code cells to pylsp as one Python document, with IPython's magics and shell lines turned into
calls, and maps each diagnostic back to its cell: NNC001 must be shown on the `def __call__` line of the
right cell, after cells with `%matplotlib inline` and `!pip install`. The test saves a screenshot of it
in its temporary folder (docs/jupyterlab.png is one). It skips where Chromium, its driver or one of the
Python packages is missing: `pip install '.[browser]'` and `apt-get install chromium chromium-driver`,
as .ci/run does."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import CACHE


CELLS = [
    ("markdown", "# A model"),
    ("code", "%matplotlib inline"),
    ("code", "!pip install torch"),
    ("code", "import torch.nn as nn\n"
             "\n"
             "\n"
             "class Net(nn.Module):\n"
             "    def __init__(self):\n"
             "        super().__init__()\n"
             "        self.fc = nn.Linear(4, 2)\n"
             "\n"
             "    def __call__(self, x):\n"
             "        return self.fc(x)"),
]
NET_CELL = 3  # counted from 0, markdown too
CALL_LINE = 8  # in that cell, counted from 0

# Chromium as root in a container, with no network: without these it stalls on refused connections.
CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=960,640",
]


def missing() -> str | None:
    """Why the test cannot run here, or None."""
    for module, package in [("jupyterlab", "jupyterlab"), ("jupyterlab_lsp", "jupyterlab-lsp"),
                            ("pylsp", "python-lsp-server"), ("selenium", "selenium")]:
        if importlib.util.find_spec(module) is None:
            return f"{package} is not installed (pip install '.[browser]')"
    if not any(entry.value.startswith("nncheck") for entry in importlib.metadata.entry_points(group="pylsp")):
        return "nncheck's pylsp plugin is not installed (pip install '.[pylsp]')"
    for program in ["chromium", "chromedriver"]:
        if shutil.which(program) is None:
            return f"{program} is not installed (apt-get install chromium chromium-driver)"
    return None


pytestmark = [pytest.mark.slow, pytest.mark.skipif(missing() is not None, reason=str(missing()))]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def notebook() -> dict[str, Any]:
    cells: list[dict[str, Any]] = []
    for number, (kind, source) in enumerate(CELLS):
        cell: dict[str, Any] = {"cell_type": kind, "id": f"cell-{number}", "metadata": {},
                                "source": source.splitlines(keepends=True)}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        cells.append(cell)
    kernel = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    return {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": kernel, "language_info": {"name": "python"}}}


class Lab:
    """`jupyter lab` on a free port of 127.0.0.1, with its own configuration, data and runtime folders,
    serving a temporary folder, with nothing to fetch from the network (news, update check, extension
    manager)."""

    def __init__(self, home: Path) -> None:
        self.root = home / "root"
        self.log = home / "jupyter.log"
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{free_port()}"
        config = home / "config"
        settings = config / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True)
        (settings / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        self.root.mkdir()
        env = {**os.environ, "JUPYTER_CONFIG_DIR": str(config), "JUPYTER_DATA_DIR": str(home / "data"),
               "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "IPYTHONDIR": str(home / "ipython"),
               "NNCHECK_CACHE_DIR": CACHE}
        port = self.url.rsplit(":", 1)[1]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
                 f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
                 "--LabApp.news_url=None", "--LabApp.extension_manager=readonly",
                 "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
                cwd=self.root, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)

    def request(self, path: str, method: str = "GET") -> int:
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            status: int = response.status
            return status

    def wait_ready(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"jupyter lab exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if self.request("/api/status") == 200:
                    return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        pytest.fail(f"jupyter lab did not answer within {seconds} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        # Shut down through the API, so that the kernel and pylsp are stopped too; then its process group.
        try:
            self.request("/api/shutdown", method="POST")
            self.process.wait(timeout=30)
        except (urllib.error.URLError, OSError, subprocess.TimeoutExpired):
            pass
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    server = Lab(tmp_path / "jupyter")
    try:
        server.wait_ready(120)
        yield server
    finally:
        server.stop()


# The lines of each cell's editor (markdown cells too), and the lint marks on each line with their text.
CELL_LINES = """
return [...document.querySelectorAll('.jp-Notebook .jp-Cell')].map(cell =>
  [...cell.querySelectorAll('.cm-content .cm-line')].map(line => ({
    text: line.textContent,
    marks: [...line.querySelectorAll('.cm-lintRange')].map(mark => mark.textContent),
  })));
"""


def test_jupyterlab_shows_nnc001_on_the_line_of_its_cell(lab: Lab, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    (lab.root / "nb.ipynb").write_text(json.dumps(notebook(), indent=1), encoding="utf-8")
    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager downloads nothing: the paths are given
    options = webdriver.ChromeOptions()
    options.binary_location = str(shutil.which("chromium"))
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium'}"]:
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(str(shutil.which("chromedriver"))), options=options)
    started = time.monotonic()
    try:
        browser.get(f"{lab.url}/lab/tree/nb.ipynb?token={lab.token}")

        def call_line_marks(driver: webdriver.Chrome) -> list[str]:
            cells = driver.execute_script(CELL_LINES)
            if len(cells) <= NET_CELL or len(cells[NET_CELL]) <= CALL_LINE:
                return []
            marks: list[str] = cells[NET_CELL][CALL_LINE]["marks"]
            return marks

        marks = WebDriverWait(browser, 120, poll_frequency=0.5).until(call_line_marks)
        waited = time.monotonic() - started
        cells = browser.execute_script(CELL_LINES)
        assert cells[NET_CELL][CALL_LINE]["text"] == "    def __call__(self, x):"
        assert marks == ["__call__"], cells

        # The file browser folded away, the cell selected, the pointer on the mark: its tooltip says what it is.
        browser.find_element(By.CSS_SELECTOR, ".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").click()
        browser.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell .jp-InputPrompt")[NET_CELL].click()
        mark = browser.execute_script(
            "return document.querySelectorAll('.jp-Notebook .jp-Cell')[arguments[0]]"
            ".querySelectorAll('.cm-content .cm-line')[arguments[1]].querySelector('.cm-lintRange')",
            NET_CELL, CALL_LINE)
        ActionChains(browser).move_to_element(mark).perform()
        tooltip = WebDriverWait(browser, 30).until(
            lambda driver: driver.find_elements(By.CSS_SELECTOR, ".cm-tooltip-lint .cm-diagnostic"))
        shown = [item.text for item in tooltip]
        browser.save_screenshot(str(tmp_path / "jupyterlab.png"))
        # The tooltip gives the message and the source; the code is in the panel below.
        assert "Net.__call__ bypasses forward hooks; rename it to forward\nnncheck" in shown, shown

        # jupyterlab-lsp's diagnostics panel lists every diagnostic with its cell and line: NNC001 is
        # there once, on that line of that cell (the panel counts cells from 1 and lines from 0).
        ActionChains(browser).context_click(mark).perform()
        WebDriverWait(browser, 30).until(lambda driver: [
            item for item in driver.find_elements(By.CSS_SELECTOR, ".lm-Menu-itemLabel")
            if item.text == "Show diagnostics panel"])[0].click()
        rows = WebDriverWait(browser, 30).until(lambda driver: driver.execute_script("""
            const table = document.querySelector('table.lsp-diagnostics-listing');
            if (!table) return null;
            const names = [...table.querySelectorAll('thead th')].map(th => th.dataset.id);
            return [...table.querySelectorAll('tbody tr')].map(tr =>
              Object.fromEntries([...tr.children].map((td, i) => [names[i], td.textContent])));"""))
        browser.save_screenshot(str(tmp_path / "jupyterlab-panel.png"))
        ours = [row for row in rows if row["Source"] == "nncheck"]
        assert [(row["Code"], row["Cell"], row["Line:Ch"]) for row in ours] == [
            ("NNC001", str(NET_CELL + 1), f"{CALL_LINE}:8")], rows
        print(f"NNC001 shown in the cell {waited:.1f} s after the notebook was opened; "
              f"screenshots in {tmp_path}")
    except Exception:
        # What the page showed, for the failure's report.
        browser.save_screenshot(str(tmp_path / "failure.png"))
        (tmp_path / "failure.html").write_text(browser.page_source, encoding="utf-8")
        raise
    finally:
        browser.quit()
