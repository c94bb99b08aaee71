"""examples/readme.ipynb in JupyterLab, in headless Chromium: Run All Cells, then the graph,
the pictures and the inline backprop stepper are on the page.

The server is bound to 127.0.0.1, asks for a random token, keeps its settings, workspaces
and kernels in a temporary folder, and is always shut down (its whole process group) when
the test ends.
"""

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import ROOT, notebook_env, require, require_program

pytestmark = pytest.mark.browser

NOTEBOOK = ROOT / "examples" / "readme.ipynb"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
START_SECONDS = 120  # JupyterLab's first start on a busy 2-core machine
RUN_MS = 240_000  # Run All Cells: 30 epochs of training, the pictures, the graph


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 5.0) -> int:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    require("jupyterlab")
    folder = tmp_path_factory.mktemp("jupyterlab")
    env = notebook_env(folder)
    # No news toast asking to reach the internet: the announcements plugin is off.
    labconfig = folder / "config" / "labconfig"
    labconfig.mkdir(parents=True)
    (labconfig / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    # Every cell in the page, not only those scrolled into view, so the checks can see them.
    tracker = folder / "settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    work = folder / "work"
    work.mkdir()
    shutil.copy(NOTEBOOK, work / NOTEBOOK.name)
    port, token = _free_port(), secrets.token_hex(16)
    log = open(folder / "jupyterlab.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={work}",
            f"--LabApp.workspaces_dir={folder / 'workspaces'}",
            f"--LabApp.user_settings_dir={folder / 'settings'}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",  # nothing asks PyPI about extensions
            "--ServerApp.terminals_enabled=False",
            "--allow-root",  # CI runs as root
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # the server and its kernels form one group, ended together
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{_tail(folder)}")
            try:
                if _get(f"{base}/api/status?token={token}") == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within {START_SECONDS} s:\n{_tail(folder)}")
            time.sleep(0.5)
        with pytest.raises(urllib.error.HTTPError):  # the token is required
            _get(f"{base}/api/contents")
        yield base, token, folder
    finally:
        _stop(proc, base, token)
        log.close()


def _tail(folder) -> str:
    return (folder / "jupyterlab.log").read_text(errors="replace")[-3000:]


def _stop(proc, base, token):
    """Ask the server to shut down (it stops its kernels); end its process group if it
    has not gone within 15 s."""
    try:
        request = urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST")
        urllib.request.urlopen(request, timeout=5).close()
    except OSError:
        pass
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pass
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=10)
            break
        except subprocess.TimeoutExpired:
            continue


def test_readme_notebook_runs_in_jupyterlab(lab, tmp_path):
    require("playwright")
    chromium = require_program("chromium")
    from playwright.sync_api import sync_playwright

    base, token, folder = lab
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(90_000)
            page.goto(f"{base}/lab/tree/{NOTEBOOK.name}?token={token}")
            page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
            # The status bar names the kernel once it is connected (the execution indicator
            # already says idle while there is no kernel yet, and Run All would do nothing).
            ready = re.compile(r"microgradnet tests\) \| Idle")
            page.locator(".jp-StatusBar-TextItem", has_text=ready).wait_for(timeout=START_SECONDS * 1000)

            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()

            # The last cell is the deliberate mistake: when its error shows, all cells ran.
            mistake = page.locator(".jp-OutputArea-output", has_text="ShapeError: Linear(64→16)")
            try:
                mistake.wait_for(timeout=RUN_MS)
            finally:
                page.screenshot(path=str(tmp_path / "jupyterlab.png"), full_page=True)
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")

            body = page.inner_text(".jp-NotebookPanel")
            assert "epoch 30/30" in body  # the training lines stayed
            assert "History: 30 epochs" in body
            assert "ShapeError: Linear(64→16)" in body and "skipping hidden" in body

            # The pictures: PNG images, decoded (naturalWidth > 0), one per picture cell.
            images = page.locator(".jp-RenderedImage img")
            assert images.count() == 6
            assert all(images.nth(k).evaluate("i => i.complete && i.naturalWidth > 300") for k in range(6))

            # The graph: SVG that the browser decoded.
            graph = page.locator(".jp-RenderedSVG img, .jp-RenderedSVG svg").first
            assert graph.evaluate("e => e.tagName === 'svg' || (e.complete && e.naturalWidth > 300)")

            # The stepper: an iframe whose page has the graph and steps backward on a key.
            frame = page.frame_locator(".jp-RenderedHTMLCommon iframe").first
            frame.locator("svg").first.wait_for()
            assert frame.locator("button").count() >= 2
        finally:
            browser.close()
    assert (tmp_path / "jupyterlab.png").stat().st_size > 10_000
