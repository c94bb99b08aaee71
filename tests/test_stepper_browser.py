"""The backprop stepper in headless Chromium: every step by clicks and by keys, checked
against the engine's own backward pass; no console error, no network, nothing injected runs."""

import numpy as np
import pytest
from conftest import require_renderer
from pages import browser, open_page  # noqa: F401 - browser is a fixture

import microgradnet as mg
from microgradnet.viz.graph import graph_nodes
from microgradnet.viz.stepper import backprop_page, page_data, toy_network

pytestmark = pytest.mark.browser
EVIL = "<script>alert(1)</script>"


def toy():
    cost, p = toy_network()
    p["w1"].name = EVIL  # a hostile name must show as text and never run
    return cost, dict(p, **{EVIL: p.pop("w1")}), None


def small_mlp():
    model = mg.nn.MLP([12, 5, 4], seed=3)
    x = np.random.default_rng(3).random((3, 12)).astype(np.float32)
    return mg.squared_error(model(x), np.array([0, 3, 1])), None, model


@pytest.fixture(scope="module", autouse=True)
def _renderer():
    require_renderer()  # the page draws the graph: dot or graphviz-pure


def reference(build):
    """{node id: tensor} of a separately built copy after backward(keep_grads=True)."""
    cost, _, _ = build()
    cost.backward(keep_grads=True)
    return {n["id"]: n["tensor"] for n in graph_nodes(cost)["nodes"] if n["kind"] != "op"}


STATE_JS = """() => {
  const q = (s) => document.querySelector(s);
  const text = (e) => e ? e.textContent : null;
  const read = (root, role) => {
    const s = root.querySelector('[data-role="' + role + '"]');
    if (!s) return null;
    if (s.classList.contains('num')) return {value: s.textContent};
    return {mean: text(root.querySelector('[data-role="' + role + '-mean"]')),
            min: text(root.querySelector('[data-role="' + role + '-min"]')),
            max: text(root.querySelector('[data-role="' + role + '-max"]'))};
  };
  const panel = q('#mg-panel');
  const inputs = {};
  panel.querySelectorAll('[data-role="input"]').forEach((c) => { inputs[c.dataset.node] = read(c, 'contribution'); });
  const finals = {};
  panel.querySelectorAll('table.final tr[data-node]').forEach((r) => { finals[r.dataset.node] = read(r, 'final'); });
  return {phase: document.body.dataset.phase,
          current: Array.from(document.querySelectorAll('#mg-graph g.node.current')).map((g) => g.id),
          upstream: read(panel, 'upstream'), inputs: inputs, finals: finals};
}"""


def close(shown, arr):
    arr = np.asarray(arr, dtype=np.float64)
    if "value" in shown:
        return float(shown["value"]) == pytest.approx(float(arr), rel=1e-4, abs=1e-9)
    return (
        float(shown["mean"]) == pytest.approx(float(arr.mean()), rel=1e-4, abs=1e-9)
        and float(shown["min"]) == pytest.approx(float(arr.min()), rel=1e-4, abs=1e-9)
        and float(shown["max"]) == pytest.approx(float(arr.max()), rel=1e-4, abs=1e-9)
    )


def check_backward_step(state, step, ref):
    assert state["phase"] == "backward"
    assert state["current"] == [step["op"]]
    assert close(state["upstream"], ref[step["out"]].grad)
    assert set(state["inputs"]) == {i["node"] for i in step["inputs"]}
    for node, shown in state["inputs"].items():
        assert close(shown, ref[node].grad), node  # every tensor here is used once


@pytest.mark.parametrize("build", [toy, small_mlp], ids=["toy", "mlp"])
def test_step_through_by_clicks_and_by_keys(browser, build, tmp_path):  # noqa: F811
    cost, params, model = build()
    data = page_data(cost, params=params, model=model)
    path = backprop_page(cost, tmp_path / "page.html", params=params, model=model)
    ref = reference(build)
    F, B = len(data["forward"]), len(data["backward"])
    page, seen = open_page(browser, path, viewport=(1300, 850))
    try:
        for how in ("click", "key"):
            page.reload()
            step = (
                (lambda: page.click("#mg-next"))
                if how == "click"
                else (lambda: page.keyboard.press("ArrowRight"))
            )
            assert page.evaluate(STATE_JS)["phase"] == "start"
            for i in range(F):
                step()
                st = page.evaluate(STATE_JS)
                assert st["phase"] == "forward" and st["current"] == [data["forward"][i]["op"]]
            for i in range(B):
                step()
                check_backward_step(page.evaluate(STATE_JS), data["backward"][i], ref)
            step()
            st = page.evaluate(STATE_JS)
            assert st["phase"] == "end" and st["current"] == []
            assert set(st["finals"]) == {f["node"] for f in data["final"]} and st["finals"]
            for node, shown in st["finals"].items():
                assert close(shown, ref[node].grad)
            if how == "click":  # past the end: the button is off, the key does nothing
                assert page.is_disabled("#mg-next")
            else:
                step()
            assert page.evaluate(STATE_JS)["phase"] == "end"
            if how == "click":
                page.click("#mg-prev")
            else:
                page.keyboard.press("ArrowLeft")
            check_backward_step(page.evaluate(STATE_JS), data["backward"][-1], ref)
        page.keyboard.press("Home")
        assert page.evaluate(STATE_JS)["phase"] == "start"
        page.keyboard.press("End")
        assert page.evaluate(STATE_JS)["phase"] == "end"
        if params and EVIL in params:
            texts = page.evaluate("""() => Array.from(document.querySelectorAll('#mg-graph g.node text'))
                                          .map((t) => t.textContent)""")
            assert EVIL in texts
            assert EVIL in page.inner_text("#mg-panel")
            assert page.evaluate("document.querySelectorAll('script').length") == 2
        assert seen["errors"] == []
        assert seen["dialogs"] == []
        assert seen["requests"] and all(u.startswith(("file:", "data:")) for u in seen["requests"])
    finally:
        page.close()


SHOWN_TEXT_JS = """() => {
  const texts = Array.from(document.querySelectorAll('#mg-graph svg text'));
  const px = texts.map((t) => parseFloat(t.getAttribute('font-size')) * t.getScreenCTM().a);
  const box = document.querySelector('#mg-graph').getBoundingClientRect();
  const svg = document.querySelector('#mg-graph svg').getBoundingClientRect();
  return {min: Math.min(...px), count: texts.length, svg: svg.width, box: box.width,
          zoomed: document.querySelector('#mg-graph').classList.contains('zoomed')};
}"""


def mnist_step():
    model = mg.nn.MLP([784, 16, 16, 10], seed=0)
    x = np.random.default_rng(0).random((10, 784)).astype(np.float32)
    return mg.squared_error(model(x), np.arange(10)), model


@pytest.mark.parametrize("width", [1300, 950])
def test_the_3b1b_graph_fits_the_page_and_its_text_reads(browser, tmp_path, width):  # noqa: F811
    cost, model = mnist_step()
    path = backprop_page(cost, tmp_path / "page.html", model=model)
    page = browser.new_page(viewport={"width": width, "height": 850})
    try:
        page.goto(path.as_uri())
        shown = page.evaluate(SHOWN_TEXT_JS)
        assert shown["count"] > 40 and not shown["zoomed"]
        assert shown["svg"] <= shown["box"]  # no sideways scrolling
        assert shown["min"] >= 8, shown
    finally:
        page.close()


def test_inline_stepper_works_inside_its_frame(browser, tmp_path):  # noqa: F811
    """What a notebook shows: the page in an iframe's srcdoc, in a 950 px wide output."""
    cost, model = mnist_step()
    data = page_data(cost, model=model)
    host = tmp_path / "notebook.html"
    frame = mg.viz.stepper(cost, model=model)._repr_html_()
    host.write_text(f'<!DOCTYPE html><body style="margin:0;width:950px">{frame}</body>', encoding="utf-8")
    page, seen = open_page(browser, host, viewport=(1300, 850))
    try:
        inner = page.frame_locator("iframe")
        inner.locator("#mg-next").click()
        inner.locator("#mg-next").click()
        frame_page = page.frames[1]
        st = frame_page.evaluate(STATE_JS)
        assert st["phase"] == "forward" and st["current"] == [data["forward"][1]["op"]]
        frame_page.press("body", "End")
        assert frame_page.evaluate(STATE_JS)["phase"] == "end"
        shown = frame_page.evaluate(SHOWN_TEXT_JS)
        assert shown["min"] >= 8 and not shown["zoomed"] and shown["svg"] <= shown["box"]
        assert seen["errors"] == [] and seen["dialogs"] == []
        assert all(u.startswith(("file:", "data:", "about:")) for u in seen["requests"])
    finally:
        page.close()
