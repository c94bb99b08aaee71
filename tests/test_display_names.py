"""Names as the user gave them, shown safely everywhere: a lone surrogate cannot crash a
picture, and a right-to-left override or an invisible character cannot disguise a name."""

import io

import numpy as np
import pytest
from conftest import require_program

import microgradnet as mg
from microgradnet.display import display_name
from microgradnet.viz.chain import chain_rule
from microgradnet.viz.graph import draw_graph, graph_nodes, render_graph
from microgradnet.viz.stepper import backprop_page, page_data

RLO = "\u202e"  # right-to-left override: "b\u202eevil" reads as "blive"
SURROGATE = "\ud800"  # half of a UTF-16 pair: not encodable as UTF-8


@pytest.mark.parametrize(
    "name, shown",
    [
        ("W1", "W1"),
        ("σ₁ weights ü 权重 🙂", "σ₁ weights ü 权重 🙂"),  # every visible script stays
        ("b" + RLO + "evil", "b\\u202eevil"),
        ("W" + SURROGATE + "1", "W\\ud8001"),
        ("a\u200bb", "a\\u200bb"),  # zero width space: two names that look the same differ
        ("x\x1b[31m", "x\\x1b[31m"),  # a terminal escape
        ("two\nlines\u2028", "two\\x0alines\\u2028"),
        ("tag\U000e0041", "tag\\U000e0041"),
        (None, ""),
        (3, "3"),
    ],
)
def test_display_name_escapes_only_what_hides_or_cannot_be_written(name, shown):
    assert display_name(name) == shown
    display_name(name).encode("utf-8")


def _net(names):
    x = mg.Tensor(np.ones((3, 2)), name=names["x"])
    W = mg.Tensor(np.ones((2, 2)) * 0.5, requires_grad=True, name=names["W"])
    b = mg.Tensor(np.zeros(2), requires_grad=True, name=names["b"])
    cost = ((x @ W + b).sigmoid()).sum()
    return cost, W, b


NAMES = {"x": "in" + SURROGATE + "put", "W": "W" + SURROGATE, "b": "b" + RLO + "evil"}


def _clean(text: str):
    text.encode("utf-8")
    assert RLO not in text and SURROGATE not in text


def test_graph_data_and_dot_source_show_escaped_names(tmp_path):
    cost, W, b = _net(NAMES)
    labels = {n["label"] for n in graph_nodes(cost)["nodes"]}
    assert {"W\\ud800", "b\\u202eevil", "in\\ud800put"} <= labels
    source = draw_graph(cost, show_values=True, show_grads=True).source
    _clean(source)
    assert "b\\\\u202eevil" in source  # Graphviz labels double the backslash
    dot_file = render_graph(draw_graph(cost), tmp_path / "g.dot")
    _clean(dot_file.read_text(encoding="utf-8"))


def test_render_graph_draws_escaped_names(tmp_path):
    require_program("dot")
    cost, W, b = _net(NAMES)
    svg = render_graph(draw_graph(cost), tmp_path / "g.svg").read_text(encoding="utf-8")
    _clean(svg)
    assert "b\\u202eevil" in svg


def test_backprop_page_writes_escaped_names(tmp_path):
    require_program("dot")
    cost, W, b = _net(NAMES)
    page = backprop_page(cost, tmp_path / "p.html", title="t" + SURROGATE + RLO).read_text(encoding="utf-8")
    _clean(page)
    data = page_data(cost)
    assert {"W\\ud800", "b\\u202eevil"} <= {n["label"] for n in data["nodes"].values()}


def test_chain_rule_prints_escaped_names():
    cost, W, b = _net(NAMES)
    for wrt in (W, b):
        buf = io.StringIO()
        text = chain_rule(cost, wrt, file=buf)
        _clean(text)
        assert text == buf.getvalue().rstrip("\n")
    assert "∂C/∂b\\u202eevil" in chain_rule(cost, b, file=io.StringIO())


def test_module_names_and_summaries_are_escaped():
    model = mg.nn.Sequential(mg.nn.Linear(2, 2))
    setattr(model, "odd" + RLO + "layer", mg.nn.Linear(2, 1))
    _clean(model.summary())
    assert "odd\\u202elayer.weight" in model.summary()
    cost = model(np.ones((1, 2))).sum()
    clusters = graph_nodes(cost, model=model)["clusters"]
    for c in clusters:
        _clean(c["label"])


def test_an_op_with_an_odd_name_is_escaped_too():
    from microgradnet.functional import apply
    from microgradnet.ops import Op

    class Odd(Op):
        name = "twice" + RLO
        symbol = "2" + SURROGATE + "x"

        def forward(self, x):
            return 2 * x

        def backward(self, g, needs):
            return (2 * g,)

    try:
        x = mg.Tensor(np.ones(2), requires_grad=True)
        cost = apply(Odd(), x).sum()
        _clean(draw_graph(cost).source)
        _clean(str(page_data(cost)))
    finally:
        mg.ops.OPS.pop(Odd.name, None)
