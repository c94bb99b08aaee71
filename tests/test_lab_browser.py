"""A real ``microgradnet lab`` server, driven over HTTP and by headless Chromium: the token guards
every request, training runs and the cost falls, pause pauses, a drawn digit's outputs and a
switched-off neuron's effect equal the Python model's, nothing leaves 127.0.0.1."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import numpy as np
import pytest
from conftest import require, require_mnist, require_program

import microgradnet as mg

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def start_lab(save_dir, *extra):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "microgradnet",
            "lab",
            "--port",
            "0",
            "--no-browser",
            "--save-dir",
            str(save_dir),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    url = proc.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        proc.kill()
        pytest.fail(f"the lab did not print its URL first: {url!r} {proc.stderr.read()}")
    return proc, url


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    require("starlette")
    require("uvicorn")
    save_dir = tmp_path_factory.mktemp("lab-saved")
    mnist = require_mnist()
    proc, url = start_lab(save_dir, "--data-dir", str(mnist))
    parts = urlsplit(url)
    yield {
        "proc": proc,
        "url": url,
        "base": f"http://{parts.netloc}",
        "token": parts.query.split("=", 1)[1],
        "save_dir": save_dir,
        "port": parts.port,
    }
    proc.terminate()
    proc.wait(10)


def get(url, headers=None, data=None):
    req = urllib.request.Request(url, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_without_the_token_every_request_is_refused(lab):
    for path in ["/", "/api/state", "/api/stream", "/assets/lab.js", "/api/explain", "/nowhere"]:
        status, body = get(lab["base"] + path)
        assert status == 403, path
        assert "token" in body
    status, _ = get(lab["base"] + "/api/control", data=b'{"action": "play"}')
    assert status == 403
    status, body = get(lab["url"])
    assert status == 200 and "<title>microgradnet lab</title>" in body


def test_the_server_survives_a_client_that_leaves_mid_stream(lab):
    with socket.create_connection(("127.0.0.1", lab["port"]), timeout=10) as s:
        s.sendall(
            f"GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1:{lab['port']}\r\n"
            f"Authorization: token {lab['token']}\r\n\r\n".encode()
        )
        assert b"data: " in s.recv(65536) + s.recv(65536)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # reset
    status, body = get(lab["base"] + "/api/state", {"Authorization": f"token {lab['token']}"})
    assert status == 200 and '"version"' in body
    assert lab["proc"].poll() is None


@pytest.fixture(scope="module")
def page(lab):
    require("playwright")
    chromium = require_program("chromium")
    from playwright.sync_api import sync_playwright

    requests, problems, log = [], [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which(chromium), args=ARGS)
        pg = browser.new_page(viewport={"width": 1300, "height": 1000})
        pg.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
        pg.on("pageerror", lambda e: problems.append(str(e)))
        pg.on("request", lambda r: requests.append(r.url))
        pg.on("requestfinished", lambda r: log.append(f"{r.method} {r.url} {r.response().status}"))
        pg.on("requestfailed", lambda r: log.append(f"{r.method} {r.url} failed: {r.failure}"))
        pg.goto(lab["url"])
        wait(pg, "window.microgradnet.ready === true")
        pg.requests, pg.problems, pg.log = requests, problems, log
        yield pg
        browser.close()


def wait(page, expr, timeout=120.0):
    """Poll a JavaScript expression (the page's policy forbids eval, so no wait_for_function)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if page.evaluate(expr):
            return
        time.sleep(0.1)
    shown = page.evaluate("document.getElementById('message').textContent")
    raise AssertionError(
        f"timed out waiting for {expr}; the page says {shown!r}; last requests: {getattr(page, 'log', [])[-8:]}"
    )


def state(page, key):
    return page.evaluate(f"window.microgradnet.{key}")


def test_training_runs_and_the_shown_cost_falls_and_pause_stops_it(page):
    page.click("#b-play")
    wait(page, "window.microgradnet.step > 0 && window.microgradnet.cost !== null")
    wait(page, "window.microgradnet.epoch >= 2")
    assert "training" in page.text_content("#status")
    page.click("#b-pause")
    wait(page, "window.microgradnet.mode === 'paused'")
    time.sleep(0.3)  # one more update may be on its way
    step = state(page, "step")
    time.sleep(0.6)
    assert state(page, "step") == step
    assert page.text_content("#status").startswith("paused")
    # one batch's cost jumps from batch to batch; an epoch's mean cost falls
    epochs = state(page, "epochCost")
    assert len(epochs) >= 2 and epochs[-1] < epochs[0]
    assert "%" in page.text_content("#status")


def draw(page):
    box = page.locator("#pad").bounding_box()
    x, y = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.15
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(25):  # a "7": across, then down to the left
        page.mouse.move(
            x - 40 + 4 * i if i < 12 else x + 8 - 3 * (i - 12), y + (0 if i < 12 else 9 * (i - 12))
        )
    page.mouse.up()


def python_forward(model, x):
    with mg.no_grad():
        return model(np.asarray(x, dtype=np.float32)[None, :]).data[0]


def test_a_drawn_digit_and_a_switched_off_neuron_match_python(page, lab):
    if state(page, "mode") != "paused":
        page.click("#b-pause")
        wait(page, "window.microgradnet.mode === 'paused'")
    draw(page)
    wait(page, "window.microgradnet.output !== null")
    x = np.array(state(page, "input"))
    assert x.shape == (64,) and x.max() > 0 and x.min() >= 0 and x.max() <= 1
    page.click("#b-save")
    wait(page, "!!window.microgradnet.saved")
    model = mg.load(lab["save_dir"] / state(page, "saved"))
    np.testing.assert_allclose(state(page, "output"), python_forward(model, x), atol=1e-5)
    assert "%" in page.text_content("#answer") or page.text_content("#answer").strip()

    edits, forwards = state(page, "edits"), state(page, "forwards")
    page.click("#network circle[data-layer='1'][data-index='5']")
    wait(page, "!document.getElementById('neuron').hidden")
    assert "layer 1, neuron 5" in page.text_content("#n-title")
    page.click("#b-off")
    wait(page, f"window.microgradnet.edits > {edits} && window.microgradnet.forwards > {forwards}")
    model.layers[1].weight.data[5, :] = 0  # the same edit by hand: layer 2 stops hearing neuron 5
    np.testing.assert_allclose(state(page, "output"), python_forward(model, x), atol=1e-5)
    assert state(page, "editAccuracy") == pytest.approx(
        mg.evaluate(model, mg.datasets.load_digits(split="test")).accuracy
    )
    page.click("#b-undo")
    wait(page, f"window.microgradnet.edits > {edits + 1}")
    model = mg.load(lab["save_dir"] / state(page, "saved"))
    np.testing.assert_allclose(state(page, "output"), python_forward(model, x), atol=1e-5)


def test_look_inside_and_explain(page):
    page.click("#b-confusion")
    wait(page, "!!window.microgradnet.confusion")
    assert sum(map(sum, state(page, "confusion"))) == 360
    assert page.locator("#confusion tr").count() == 11
    page.click("#b-embed")
    wait(page, "window.microgradnet.embedding > 0")
    page.click("#b-explain")
    frame = page.frame_locator("#stepper")
    frame.locator("#mg-next").click()
    assert "step 1 of" in frame.locator("#mg-progress").text_content()


def test_mnist_drawing_is_centred_like_the_training_digits(page, lab):
    assert "mnist" in page.eval_on_selector_all("#f-dataset option", "os => os.map(o => o.value)")
    page.select_option("#f-dataset", "mnist")
    page.fill("#f-hidden", "16,16")
    version, pictures = state(page, "version"), state(page, "pictures")
    page.click("#b-build")
    wait(
        page,
        f"window.microgradnet.version > {version} && window.microgradnet.output === null || "
        f"window.microgradnet.version > {version}",
    )
    # The new network's panels are drawn before anything is clicked (they move the buttons).
    wait(page, f"window.microgradnet.pictures > {pictures}")
    page.click("#b-clear")
    wait(page, "document.querySelector('#network circle') !== null")
    box = page.locator("#pad").bounding_box()
    # A stroke in the pad's top-left corner: the preprocessing must move it to the middle.
    page.mouse.move(box["x"] + 20, box["y"] + 15)
    page.mouse.down()
    for i in range(15):
        page.mouse.move(box["x"] + 20 + 2 * i, box["y"] + 15 + 5 * i)
    page.mouse.up()
    wait(page, "window.microgradnet.output !== null && window.microgradnet.input.length === 784")
    img = np.array(state(page, "input")).reshape(28, 28)
    rows, cols = np.nonzero(img > 0.05)
    assert rows.max() - rows.min() + 1 <= 21 and cols.max() - cols.min() + 1 <= 21  # fits 20x20
    cy, cx = (np.indices(img.shape) * img).reshape(2, -1).sum(1) / img.sum()
    assert abs(cy - 13.5) < 1.5 and abs(cx - 13.5) < 1.5  # centre of mass in the middle
    name = state(page, "saved")
    page.click("#b-save")
    wait(page, f"window.microgradnet.saved !== {json.dumps(name)}")  # null before any save
    model = mg.load(lab["save_dir"] / state(page, "saved"))
    assert model.sizes == [784, 16, 16, 10]
    np.testing.assert_allclose(state(page, "output"), python_forward(model, img.ravel()), atol=1e-5)


def test_no_console_error_and_no_request_leaves_the_machine(page, lab):
    assert page.problems == []
    assert page.requests, "the page made no request at all?"
    outside = [u for u in page.requests if not u.startswith(lab["base"] + "/") and not u.startswith("data:")]
    assert outside == []


def test_ctrl_c_stops_the_lab_cleanly(tmp_path):
    require("uvicorn")
    proc, url = start_lab(tmp_path)
    assert get(url)[0] == 200
    proc.send_signal(signal.SIGINT)
    try:
        rc = proc.wait(15)
    finally:
        proc.kill()
    err = proc.stderr.read()
    assert rc == 0, err
    assert "Traceback" not in err
