"""``mg.viz.nudge_check``: the recorded forward pass run again with one number nudged, checked
against an independent re-run of the network and against the engine's backward pass."""

import numpy as np
import pytest

import microgradnet as mg
from microgradnet.errors import GraphError, ShapeError
from microgradnet.tensor import topological_order
from microgradnet.viz.nudge import RecordedForward, nudge_check, panel_data


def batch(n_in=12, n=4, seed=3):
    rng = np.random.default_rng(seed)
    return rng.random((n, n_in)).astype(np.float32), rng.integers(0, 4, n)


def mlp_cost(model, x, y, loss=mg.squared_error):
    return loss(model(x), y)


def float64_copy(model, sizes, **kw):
    """The same network rebuilt in float64 from the model's weights: an independent forward."""
    twin = mg.nn.MLP(sizes, dtype=np.float64, **kw)
    twin.load_state_dict({k: v.astype(np.float64) for k, v in model.state_dict().items()})
    return twin


@pytest.mark.parametrize(
    "name, index", [("layers.0.weight", (5, 2)), ("layers.1.bias", 3), ("layers.1.weight", -1)]
)
def test_costs_and_slope_match_an_independent_rerun(name, index):
    sizes = [12, 5, 4]
    model = mg.nn.MLP(sizes, seed=1)
    x, y = batch()
    cost = mlp_cost(model, x, y)
    rows = nudge_check(cost, dict(model.named_parameters())[name], index, eps=(1e-1, 1e-3))

    twin = float64_copy(model, sizes)
    p = dict(twin.named_parameters())[name]
    idx = np.unravel_index(index % p.data.size, p.shape) if isinstance(index, int) else index
    w = p.data[idx]
    for r in rows:
        p.data[idx] = w + r["eps"]
        plus = float(mlp_cost(twin, x.astype(np.float64), y).data)
        p.data[idx] = w - r["eps"]
        minus = float(mlp_cost(twin, x.astype(np.float64), y).data)
        p.data[idx] = w
        assert r["cost_plus"] == pytest.approx(plus, abs=1e-13)
        assert r["cost_minus"] == pytest.approx(minus, abs=1e-13)
        assert r["slope"] == pytest.approx((plus - minus) / (2 * r["eps"]), rel=1e-9, abs=1e-12)

    twin.zero_grad()
    mlp_cost(twin, x.astype(np.float64), y).backward()
    assert all(r["backprop"] == pytest.approx(p.grad[idx], rel=1e-12, abs=1e-15) for r in rows)


def test_slope_converges_to_backprop():
    model = mg.nn.MLP([12, 6, 4], activation="tanh", output_activation=None, seed=2)
    x, y = batch()
    rows = nudge_check(mg.cross_entropy(model(x), y), model.layers[0].weight, (4, 1))
    gaps = [abs(r["slope"] - r["backprop"]) for r in rows]
    assert [r["eps"] for r in rows] == [1e-1, 1e-2, 1e-3, 1e-4]
    assert all(a > b for a, b in zip(gaps, gaps[1:])), gaps
    assert gaps[-1] < 1e-8 * max(1.0, abs(rows[0]["backprop"]))


def test_graph_and_grads_are_left_alone():
    model = mg.nn.MLP([12, 5, 4], seed=1)
    x, y = batch()
    cost = mlp_cost(model, x, y)
    order = topological_order(cost, grad_only=False)
    saved = [t.op.saved for t in order]
    W = model.layers[0].weight
    W.grad = np.full(W.shape, 7.0, dtype=np.float32)
    before = W.data.copy()
    nudge_check(cost, W, (0, 0))
    assert all(t.op.saved is s for t, s in zip(order, saved))
    assert np.array_equal(W.grad, np.full(W.shape, 7.0)) and model.layers[1].bias.grad is None
    assert np.array_equal(W.data, before)
    W.grad = None
    cost.backward()  # the graph still works, with the same numbers
    reference = mlp_cost(model, x, y)
    model.zero_grad()
    reference.backward()
    np.testing.assert_array_equal(W.grad, model.layers[0].weight.grad)


def test_after_backward_and_on_an_input_pixel():
    model = mg.nn.MLP([12, 5, 4], seed=1)
    x, y = batch()
    xt = mg.Tensor(x)  # an input: no gradient asked for, still a leaf one can nudge
    cost = mlp_cost(model, xt, y)
    cost.backward()  # the buffers are released: the re-run needs none of them
    rows = nudge_check(cost, xt, (2, 7), eps=1e-4)
    twin = float64_copy(model, [12, 5, 4])
    x64 = mg.Tensor(x.astype(np.float64), requires_grad=True)
    mlp_cost(twin, x64, y).backward()
    assert rows[0]["backprop"] == pytest.approx(x64.grad[2, 7], rel=1e-12)
    assert rows[0]["slope"] == pytest.approx(x64.grad[2, 7], rel=1e-6)


def test_any_graph_with_broadcasting_and_a_shared_leaf():
    w = mg.Tensor(np.array([[0.3, -0.2, 0.5]]), requires_grad=True)
    v = mg.Tensor(np.array([0.1, 0.4]), requires_grad=True)
    x = mg.Tensor(np.arange(6.0).reshape(2, 3) / 6)
    h = (x * w).sum(axis=1) + v  # w broadcast over rows; v added elementwise
    cost = (h.exp() * w.sum() + (h**2).mean()).sum()
    row = nudge_check(cost, w, (0, 1), eps=1e-5)[0]

    def f(w01):
        w2 = w.data.copy()
        w2[0, 1] = w01
        h = (x.data * w2).sum(axis=1) + v.data
        return float((np.exp(h) * w2.sum() + (h**2).mean()).sum())

    w01 = w.data[0, 1]
    assert row["cost_plus"] == pytest.approx(f(w01 + 1e-5), abs=1e-14)
    cost.backward()
    assert row["backprop"] == pytest.approx(w.grad[0, 1], rel=1e-12)
    assert row["slope"] == pytest.approx(w.grad[0, 1], rel=1e-7)


def test_rows_print_as_a_table_and_flat_indices_work():
    model = mg.nn.MLP([12, 5, 4], seed=1)
    x, y = batch()
    cost = mlp_cost(model, x, y)
    W = model.layers[1].weight
    flat = nudge_check(cost, W, 7, eps=[0.01])
    assert flat == nudge_check(cost, W, (1, 3), eps=[0.01])  # 7 = 1·4 + 3 in a 5×4 matrix
    text = repr(flat)
    assert "slope" in text and "backprop" in text and "0.01" in text


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda c, m, h: nudge_check(c, h, 0), GraphError, "intermediate"),
        (
            lambda c, m, h: nudge_check(c, mg.Tensor(np.ones(3), requires_grad=True), 0),
            GraphError,
            "not used",
        ),
        (lambda c, m, h: nudge_check(c, m.layers[0].weight, (12, 0)), IndexError, "outside"),
        (lambda c, m, h: nudge_check(c, m.layers[0].weight, (1,)), IndexError, "2 whole numbers"),
        (lambda c, m, h: nudge_check(c, m.layers[0].weight, None), ShapeError, "which element"),
        (lambda c, m, h: nudge_check(c, m.layers[0].weight, 0, eps=[0.1, -1]), ValueError, "positive"),
        (lambda c, m, h: nudge_check(c, m.layers[0].weight, 0, eps=[]), ValueError, "empty"),
        (lambda c, m, h: nudge_check(h, m.layers[0].weight, 0), ShapeError, "single number"),
        (lambda c, m, h: nudge_check(m.layers[0].weight, m.layers[0].weight, 0), GraphError, "leaf"),
    ],
)
def test_mistakes_are_named(call, error, words):
    model = mg.nn.MLP([12, 5, 4], seed=1)
    x, y = batch()
    hidden = model.layers[0](x)
    cost = mg.squared_error(model.layers[1](hidden), y)
    with pytest.raises(error, match=words):
        call(cost, model, hidden)


def test_panel_picks_the_largest_gradients_and_the_first_numbers():
    model = mg.nn.MLP([12, 5, 4], seed=1)
    x, y = batch()
    cost = mlp_cost(model, x, y)
    W = model.layers[0].weight
    data = panel_data(cost, {"t1": (W, "W1")}, first=3, largest=2, eps=(0.1, 0.001))
    assert data["eps"] == [0.1, 0.001]
    elements = data["params"]["t1"]["elements"]
    grad = RecordedForward(cost).gradients()[id(W)]
    top = np.argsort(-np.abs(grad), axis=None)[:2]
    picked = [np.ravel_multi_index(e["index"], W.shape) for e in elements]
    assert picked[:2] == list(top)
    assert set(picked[2:]) == {0, 1, 2} - set(top)
    e = elements[0]
    assert e["label"] == f"W1[{e['index'][0]}, {e['index'][1]}]"
    assert e["rows"] == list(nudge_check(cost, W, tuple(e["index"]), eps=(0.1, 0.001)))
    assert data["cost"] == pytest.approx(float(cost.data), rel=1e-6)


def test_public_names_are_the_functions():
    import microgradnet.viz.batch_nudges  # noqa: F401 - importing the modules must not shadow the names
    import microgradnet.viz.nudge  # noqa: F401

    assert callable(mg.viz.nudge_check) and callable(mg.viz.nudge_table)
