"""The backprop stepper is bounded like draw_graph: a graph too big to step through is
refused at once, with the numbers and what to do, before any layout work or file."""

import numpy as np
import pytest
from conftest import require_program

import microgradnet as mg
from microgradnet.viz.stepper import MAX_NODES, backprop_page, graph_size, page_data, toy_network


def chain(n: int) -> mg.Tensor:
    """A chain of ``n`` ops: sigmoid and multiply-by-a-constant, alternately."""
    y = mg.Tensor(np.array(0.5), requires_grad=True, name="x")
    for i in range(n):
        y = y * 1.0001 if i % 2 else y.sigmoid()
    return y


def test_graph_size_counts_the_boxes_the_picture_has():
    cost, params = toy_network()
    g = mg.viz.graph.graph_nodes(cost, params=params)
    assert graph_size(cost) == len(g["nodes"])
    assert graph_size(chain(10)) == 1 + 10 + 10 + 5  # x, the ops, their results, 5 constants


@pytest.mark.parametrize("n", [3000, 10000])
def test_a_long_chain_is_refused_at_once_by_default(tmp_path, n):
    out = tmp_path / "page.html"
    with pytest.raises(mg.GraphError) as e:
        backprop_page(chain(n), out)
    text = str(e.value)
    assert f"{graph_size(chain(n))} nodes" in text and f"{n} ops" in text
    assert f"max_nodes={MAX_NODES}" in text and "max_nodes=None" in text
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_the_limit_is_the_callers_to_move(tmp_path):
    require_program("dot")
    cost, params = toy_network()
    with pytest.raises(mg.GraphError, match="max_nodes=5"):
        backprop_page(cost, tmp_path / "p.html", params=params, max_nodes=5)
    long = chain(200)  # 501 boxes: over the default, fine when asked for
    with pytest.raises(mg.GraphError):
        backprop_page(long, tmp_path / "long.html")
    page = backprop_page(long, tmp_path / "long.html", max_nodes=None)
    assert page.exists() and len(page_data(long)["backward"]) == 200


def test_the_usual_pages_are_well_inside_the_limit():
    cost, _ = toy_network()
    assert graph_size(cost) < MAX_NODES // 10
    model = mg.nn.MLP([784, 16, 16, 10])
    mnist_step = mg.squared_error(model(np.zeros((10, 784), dtype=np.float32)), np.arange(10))
    assert graph_size(mnist_step) < MAX_NODES // 10


def test_a_wrong_suffix_is_refused_before_any_work(tmp_path):
    with pytest.raises(ValueError, match=r"\.html"):
        backprop_page(chain(3000), tmp_path / "page.svg")


def test_the_inline_stepper_has_the_same_limit():
    from microgradnet.viz.stepper import stepper

    with pytest.raises(mg.GraphError, match=f"max_nodes={MAX_NODES}"):
        stepper(chain(3000))
    with pytest.raises(mg.GraphError, match="max_nodes=5"):
        mg.viz.stepper(toy_network()[0], max_nodes=5)
