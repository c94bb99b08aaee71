"""The backprop stepper page, without a browser: data, safety, self-containment."""

import json
import re

import numpy as np
import pytest
from conftest import require_renderer

import microgradnet as mg
from microgradnet.viz.stepper import backprop_page, json_for_html, page_data, sanitize_svg, toy_network

EVIL = "</script><script>alert(1)</script>"


def embedded_data(html):
    m = re.search(r'<script type="application/json" id="mg-data">(.*?)</script>', html, re.S)
    return json.loads(m.group(1))


def test_toy_page_data_follows_the_chain_rule():
    cost, p = toy_network()
    data = page_data(cost, params=p)
    assert data["scalar"]
    assert [s["name"] for s in data["forward"]] == [
        "mul",
        "add",
        "sigmoid",
        "mul",
        "add",
        "sigmoid",
        "squared_error",
    ]
    assert [s["name"] for s in data["backward"]] == [
        "squared_error",
        "sigmoid",
        "add",
        "mul",
        "sigmoid",
        "add",
        "mul",
    ]
    assert data["forward"][2]["eq"] == "a1 = σ(z1)"
    for s in data["backward"]:
        for inp in s["inputs"]:
            if inp["local"] is not None:  # upstream × local = contribution, in numbers
                assert inp["contribution"]["value"] == pytest.approx(
                    s["upstream"]["value"] * inp["local"]["value"], rel=1e-12
                )
    sig = data["backward"][1]
    assert sig["inputs"][0]["formula"] == "σ(z2)·(1−σ(z2))"  # the op's formula in this graph's names
    assert all(t.grad is None for t in p.values())
    cost.backward()
    final = {f["label"]: f["grad"]["value"] for f in data["final"]}
    assert final == pytest.approx({k: float(v.grad) for k, v in p.items()}, rel=1e-12)


def test_mlp_page_data_has_shapes_and_summaries():
    model = mg.nn.MLP([8, 5, 3], seed=0)
    x = np.random.default_rng(0).random((4, 8)).astype(np.float32)
    cost = mg.squared_error(model(x), np.array([0, 1, 2, 0]))
    data = page_data(cost, model=model)
    assert not data["scalar"]
    mm = next(s for s in data["backward"] if s["name"] == "matmul")
    assert mm["inputs"][-1]["local"] is None and mm["inputs"][-1]["formula"] == "a1ᵀ @ g"
    bias = next(s for s in data["backward"] if s["name"] == "add_bias")
    assert bias["inputs"][1]["summed"]
    cost.backward()
    for f in data["final"]:
        p = dict(model.named_parameters())[f["label"]]
        assert f["grad"]["shape"] == list(p.shape)
        assert f["grad"]["mean"] == pytest.approx(float(p.grad.mean()), rel=1e-5, abs=1e-9)


def test_page_is_self_contained_and_safe(tmp_path):
    require_renderer()
    cost, p = toy_network()
    p["w1"].name = EVIL
    path = backprop_page(cost, tmp_path / "page.html", params={EVIL: p["w1"]}, title="<b>t</b>")
    html = path.read_text(encoding="utf-8")
    assert html.count("<script") == 2 and html.count("</script>") == 2  # the JSON block and the code
    assert "alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the SVG shows it as text
    assert embedded_data(html)["nodes"]["t0"]["label"] == EVIL
    assert "<title>&lt;b&gt;t&lt;/b&gt;</title>" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)
    assert "@import" not in html and "url(" not in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert all(t.grad is None for t in p.values())


def test_json_for_html_cannot_break_out():
    text = json_for_html({"a": EVIL + "&\u2028"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"a": EVIL + "&\u2028"}


def test_sanitize_svg_strips_scripts_and_handlers():
    svg = (
        '<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x.dtd">'
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="30pt" '
        'height="15pt"><script>alert(1)</script><g id="n" onclick="alert(2)"><title>t</title>'
        '<a xlink:href="javascript:alert(3)"><text>ok</text></a></g></svg>'
    )
    out, w, h = sanitize_svg(svg)
    assert "alert" not in out and "<title" not in out and "ok" in out
    assert (w, h) == (40, 20)


def test_released_graph_gives_the_advice():
    cost, _ = toy_network()
    cost.backward()
    with pytest.raises(
        mg.GraphError,
        match=r"call backprop_page before cost.backward\(\), or use "
        r"backward\(retain_graph=True\)",
    ):
        page_data(cost)


def test_retained_graph_is_fine_and_grads_untouched(tmp_path):
    require_renderer()
    cost, p = toy_network()
    cost.backward(retain_graph=True)
    before = {k: float(v.grad) for k, v in p.items()}
    backprop_page(cost, tmp_path / "p.html")
    assert {k: float(v.grad) for k, v in p.items()} == before
    with pytest.raises(ValueError, match="html"):
        backprop_page(cost, tmp_path / "p.txt")


def test_local_derivative_formulas_use_the_inputs_own_names():
    """The page writes ∂(w1·a0)/∂w1 = a0, not the op's generic 'b'."""
    from microgradnet import ops

    assert ops.MulOp().derivative_text(0, ["w1", "a0"]) == "a0"
    assert ops.MulOp().derivative_text(1, ["w1", "a0"]) == "w1"
    assert ops.DivOp().derivative_text(1, ["u", "v"]) == "−u/v²"
    assert ops.SigmoidOp().derivative_text(0, ["z1"]) == "σ(z1)·(1−σ(z1))"
    assert ops.PowOp(2).derivative_text(0, ["d"]) == "2 · d^1"
    assert ops.SquaredErrorOp().derivative_text(0, ["a2", "y"]) == "2(a2 − y)/N"
