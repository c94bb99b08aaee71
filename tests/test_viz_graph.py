"""The computation-graph picture: nodes, edges, clusters, numbers, escaping, files."""

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from conftest import require_renderer

import microgradnet as mg
from microgradnet.viz.graph import GraphvizNotFoundError, draw_graph, graph_nodes, render_graph, summarize
from microgradnet.viz.stepper import toy_network

SVG = "{http://www.w3.org/2000/svg}"
EVIL = "<script>alert(1)</script>"


def mlp_step(sizes=(784, 16, 16, 10), n=4):
    model = mg.nn.MLP(list(sizes), seed=0)
    x = np.random.default_rng(0).random((n, sizes[0])).astype(np.float32)
    return mg.squared_error(model(x), np.arange(n) % sizes[-1]), model


def svg_nodes(dot):
    """{node id: [text lines]} and the set of edge ids, from the rendered SVG."""
    root = ET.fromstring(dot.pipe(format="svg", encoding="utf-8"))
    nodes, edges = {}, set()
    for g in root.iter(SVG + "g"):
        cls = g.get("class", "").split()
        if "node" in cls:
            nodes[g.get("id")] = [t.text or "" for t in g.iter(SVG + "text")]
        elif "edge" in cls:
            edges.add(g.get("id"))
    return root, nodes, edges


def number_after(lines, word):
    for line in lines:
        if line.startswith(word + " "):
            return float(line.split()[1])
    raise AssertionError(f"no '{word}' line in {lines}")


def test_mlp_graph_has_ops_tensors_edges_and_layers():
    require_renderer()
    cost, model = mlp_step()
    g = graph_nodes(cost, model=model)
    ops = [n for n in g["nodes"] if n["kind"] == "op"]
    assert [n["label"] for n in ops] == ["matmul", "add_bias", "sigmoid"] * 3 + ["squared_error"]
    assert len(g["nodes"]) <= 30  # readable: 10 ops + 18 tensors
    root, nodes, edges = svg_nodes(draw_graph(cost, model=model))
    text = {nid: " ".join(lines) for nid, lines in nodes.items()}
    for n in g["nodes"]:
        assert n["id"] in text
    firsts = {lines[0] for lines in nodes.values()}
    assert {"matmul", "add_bias", "sigmoid", "squared_error", "cost C", "input x", "target y"} <= firsts
    for name, p in model.named_parameters():
        nid = next(n["id"] for n in g["nodes"] if n.get("tensor") is p)
        assert nodes[nid][0] == name
        assert "×".join(map(str, p.shape)) in text[nid] and "float32" in text[nid]
    assert edges == {f"e{k}" for k in range(len(g["edges"]))}
    # the edges go tensor -> op -> tensor, x into the first matmul
    first_matmul = ops[0]
    assert {e["from"] for e in g["edges"] if e["to"] == first_matmul["id"]} == {"t0", "t1"}
    # each Linear is one cluster, labelled by its path
    labels = [c["label"] for c in g["clusters"]]
    assert labels == [
        "layers.0: Linear 784→16, sigmoid",
        "layers.1: Linear 16→16, sigmoid",
        "layers.2: Linear 16→10, sigmoid",
    ]
    in_first = {n["label"] for n in g["nodes"] if n["scope"] == "cluster_0"}
    assert in_first == {"matmul", "add_bias", "sigmoid", "x·W1", "z1", "a1"}
    svg_text = ET.tostring(root, encoding="unicode")
    assert "layers.0: Linear 784→16, sigmoid" in svg_text
    assert root.find(f".//{SVG}g[@id='cluster_0']") is not None


def test_parameter_data_and_intermediate_look_different():
    cost, model = mlp_step((6, 4, 3), 2)
    src = draw_graph(cost, model=model).source
    kinds = {n["kind"] for n in graph_nodes(cost, model=model)["nodes"]}
    assert {"op", "parameter", "input", "target", "intermediate", "cost"} <= kinds
    fills = {
        k: re.search(rf'class={k} [^\]]*fillcolor="([^"]+)"', src)
        for k in ("parameter", "input", "intermediate", "op")
    }
    assert len({m.group(1) for m in fills.values()}) == 4


def test_toy_values_and_grads_match_the_engine():
    require_renderer()
    cost, params = toy_network()
    g = graph_nodes(cost)
    _, nodes, _ = svg_nodes(draw_graph(cost, show_values=True, show_grads=True))
    assert all(p.grad is None for p in params.values())  # drawing did not touch .grad
    cost.backward(keep_grads=True)
    labels = {n["label"] for n in g["nodes"]}
    assert {"w1", "b1", "w2", "b2", "a0", "y", "w1·a0", "z1", "a1", "w2·a1", "z2", "a2", "cost C"} <= labels
    for n in g["nodes"]:
        if n["kind"] == "op":
            continue
        t = n["tensor"]
        lines = nodes[n["id"]]
        assert lines[0] == n["label"]
        assert number_after(lines, "value") == pytest.approx(float(t.data), rel=1e-3, abs=1e-6)
        if t.requires_grad:
            assert number_after(lines, "grad") == pytest.approx(float(t.grad), rel=1e-3, abs=1e-6)


def test_mlp_grads_summaries_match_and_keep_grads_is_used():
    require_renderer()
    cost, model = mlp_step((30, 8, 5), 3)
    cost.backward(keep_grads=True)  # buffers released: the picture must use the kept grads
    g = graph_nodes(cost, model=model)
    _, nodes, _ = svg_nodes(draw_graph(cost, model=model, show_values=True, show_grads=True))
    for n in g["nodes"]:
        if n["kind"] == "op" or not n["tensor"].requires_grad:
            continue
        t = n["tensor"]
        lines = nodes[n["id"]]
        i = next(k for k, line in enumerate(lines) if line.startswith("grad "))
        if t.grad.size <= 12:
            shown = [float(v) for v in re.findall(r"-?\d[\d.e+-]*", " ".join(lines[i:])[5:])]
            np.testing.assert_allclose(shown[: t.grad.size], t.grad.ravel(), rtol=2e-3, atol=1e-7)
        else:  # the mean, then the min, a histogram drawn as bars, the max
            mean = float(lines[i].split()[2])
            lo, hi = lines[i + 1], lines[i + 2]
            assert mean == pytest.approx(float(t.grad.mean()), rel=2e-3, abs=1e-7)
            assert float(lo) == pytest.approx(float(t.grad.min()), rel=2e-3)
            assert float(hi) == pytest.approx(float(t.grad.max()), rel=2e-3)


def test_show_grads_after_a_plain_backward_is_a_clear_error():
    cost, params = toy_network()
    cost.backward()
    with pytest.raises(mg.GraphError, match="keep_grads=True"):
        draw_graph(cost, show_grads=True)
    draw_graph(cost, show_values=True)  # values need no buffers


def test_names_are_escaped_in_dot_and_svg():
    require_renderer()
    odd = "q\"u'o{t}e\\N back\\slash & amp"
    w = mg.tensor([1.0, 2.0], requires_grad=True, name=EVIL)
    v = mg.tensor([3.0, 4.0], requires_grad=True, name=odd)
    cost = (w * v).sum()
    dot = draw_graph(cost, show_values=True)
    assert EVIL not in dot.source
    root, nodes, _ = svg_nodes(dot)
    firsts = [lines[0] for lines in nodes.values()]
    assert EVIL in firsts and odd in firsts
    assert not list(root.iter(SVG + "script"))


def test_summarize():
    assert summarize(np.array(0.5)) == "0.5"
    assert summarize(np.array([0.5, -0.25])) == "[0.5, -0.25]"
    assert summarize(np.zeros((2, 2))) == "[[0, 0],\n [0, 0]]"
    text = summarize(np.linspace(-1, 2, 100) ** 2)
    assert text.startswith("mean 1") and text.split("\n")[1].startswith("0 ") and text.endswith(" 4")
    assert any(c in text for c in "▁▂▃▄▅▆▇█")
    assert summarize(np.zeros(50)) == "all 0"


@pytest.mark.parametrize("renderer", ["dot", "graphviz-pure"])
def test_render_formats(tmp_path, renderer):
    require_renderer(renderer)
    cost, _ = toy_network()
    dot = draw_graph(cost, renderer=renderer)
    for suffix, magic in ((".svg", b"<?xml"), (".png", b"\x89PNG"), (".dot", b"digraph")):
        path = render_graph(dot, tmp_path / f"g{suffix}")
        assert path.read_bytes().startswith(magic)
    drawn_by = render_graph(dot, tmp_path / "g.svg").read_text().split("-->")[0]  # "Generated by …"
    assert ("graphviz-pure" in drawn_by) == (renderer == "graphviz-pure")
    if renderer == "dot":
        assert render_graph(dot, tmp_path / "g.pdf").read_bytes().startswith(b"%PDF")
    else:  # graphviz-pure writes no pdf: the error says how to get one, the source is kept
        with pytest.raises(GraphvizNotFoundError, match=r"cannot write pdf.*apt-get install graphviz"):
            render_graph(dot, tmp_path / "g.pdf")
        assert not (tmp_path / "g.pdf").exists() and (tmp_path / "g.dot").exists()
    with pytest.raises(ValueError, match=".svg"):
        render_graph(dot, tmp_path / "g.txt")
    assert not list(tmp_path.glob(".*tmp"))


def test_no_renderer_writes_source_and_says_both_ways(tmp_path, monkeypatch):
    from microgradnet.viz import render

    cost, _ = toy_network()
    dot = draw_graph(cost)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("MICROGRADNET_RENDERER", raising=False)
    monkeypatch.setattr(render, "_script_dirs", lambda: [])  # graphviz-pure not next to python either
    with pytest.raises(GraphvizNotFoundError) as err:
        render_graph(dot, tmp_path / "graph.svg")
    msg = str(err.value)
    assert "pip install graphviz-pure" in msg
    assert "apt-get install graphviz" in msg and "brew install graphviz" in msg and "conda" in msg
    assert "graph.dot" in msg
    assert (tmp_path / "graph.dot").read_text().startswith("digraph")
    assert not (tmp_path / "graph.svg").exists()
    assert isinstance(err.value, mg.MicrogradnetError)
    assert render_graph(dot, tmp_path / "only.dot").read_text().startswith("digraph")  # no program needed
    with pytest.raises(GraphvizNotFoundError, match="pip install graphviz-pure"):
        dot._repr_mimebundle_()


def test_jupyter_shows_svg():
    require_renderer()
    cost, _ = toy_network()
    bundle = draw_graph(cost)._repr_mimebundle_()
    assert "image/svg+xml" in bundle and "<svg" in bundle["image/svg+xml"]


def test_params_dict_names_and_max_nodes():
    x = mg.tensor(2.0, requires_grad=True)
    cost = x * 3.0
    g = graph_nodes(cost, params={"my weight": x})
    assert [n["label"] for n in g["nodes"] if n["kind"] == "parameter"] == ["my weight"]
    assert any(n["kind"] == "constant" for n in g["nodes"])
    with pytest.raises(mg.GraphError, match="max_nodes"):
        draw_graph(cost, max_nodes=2)
    y = x
    for _ in range(3000):  # deep graphs: no recursion limit
        y = y * 1.0
    assert len(graph_nodes(y)["nodes"]) > 6000
