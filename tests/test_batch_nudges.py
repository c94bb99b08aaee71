"""``mg.viz.nudge_table``: each example's wishes for the output layer, and their average, which
is the gradient of the batch cost (the engine's own)."""

import numpy as np
import pytest
from conftest import require

import microgradnet as mg
from microgradnet.cli import main
from microgradnet.errors import ShapeError
from microgradnet.viz.batch_nudges import nudge_table, show_nudge_table


@pytest.fixture(scope="module")
def digits():
    return mg.datasets.load_digits()


@pytest.fixture(scope="module")
def trained(digits):
    model = mg.nn.MLP([64, 16, 16, 10], seed=0)
    mg.fit(model, digits[0], epochs=2, progress=False)
    return model


@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-6), (np.float64, 1e-14)])
def test_average_is_minus_the_batch_gradient(digits, trained, dtype, tol):
    model = mg.nn.MLP([64, 16, 16, 10], dtype=dtype, seed=0)
    model.load_state_dict({k: v.astype(dtype) for k, v in trained.state_dict().items()})
    x, y = digits[1].x[:10].astype(dtype), digits[1].y[:10]
    table = nudge_table(model, x, y)
    model.zero_grad()
    mg.squared_error(model(x), y).backward()
    last = model.layers[-1]
    assert table.per_example.shape == (10, 10) and table["average"] is table.average
    np.testing.assert_allclose(table.average, -last.bias.grad, rtol=0, atol=tol)
    rows, cols = zip(*table.weights)
    np.testing.assert_allclose(table.weight_average, -last.weight.grad[rows, cols], rtol=0, atol=tol)
    assert np.all(np.abs(table.weight_average[:-1]) >= np.abs(table.weight_average[1:]))
    biggest = np.abs(last.weight.grad).max()
    assert abs(table.weight_average[0]) == pytest.approx(biggest, rel=1e-6)


def test_each_row_is_one_example_alone(digits, trained):
    x, y = digits[1].x[:5], digits[1].y[:5]
    for p in trained.parameters():
        p.grad = np.zeros_like(p.data) + 3  # must survive
    table = nudge_table(trained, x, y, loss="cross_entropy")
    assert all(np.all(p.grad == 3) for p in trained.parameters())
    trained.zero_grad()
    for n in range(5):
        trained.zero_grad()
        cost = mg.cross_entropy(trained(x[n : n + 1]), y[n : n + 1])
        cost.backward()
        np.testing.assert_allclose(table.per_example[n], -trained.layers[-1].bias.grad, atol=1e-7)
        assert table.costs[n] == pytest.approx(float(cost.data), rel=1e-6)
    assert list(table.labels) == list(y)
    assert list(table.predicted) == list(trained(x).data.argmax(axis=1))


def test_the_figure_shows_the_table(digits, trained):
    require("matplotlib")
    table = nudge_table(trained, digits[1].x[:6], digits[1].y[:6], top=4)
    fig = show_nudge_table(table)
    axes = {ax.get_label(): ax for ax in fig.axes}
    shown = axes["nudge table biases"].images[0].get_array()
    np.testing.assert_allclose(shown[:6], table.per_example, rtol=1e-6)
    np.testing.assert_allclose(shown[-1], table.average, rtol=1e-6)
    assert axes["nudge table weights"].images[0].get_array().shape == (8, 4)


@pytest.mark.parametrize(
    "x, y, error, words",
    [
        (np.zeros((3, 5)), [1, 2, 3], ShapeError, "shape \\(N, 64\\)"),
        (np.zeros((3, 64)), [1, 2], ShapeError, "one integer label"),
        (np.zeros((3, 64)), [1, 2, 10], ValueError, "0..9"),
        (np.zeros((0, 64)), np.zeros(0, dtype=int), ValueError, "empty"),
    ],
)
def test_mistakes_are_named(trained, x, y, error, words):
    with pytest.raises(error, match=words):
        nudge_table(trained, x, np.asarray(y))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    d = tmp_path_factory.mktemp("nudges")
    assert main(["train", "--epochs", "2", "--quiet", "--out", str(d / "m.npz")]) == 0
    return d


def test_cli_picks_the_costliest_of_the_first_batch(saved, digits, capsys):
    require("matplotlib")
    model = mg.load(saved / "m.npz")
    costs = nudge_table(model, digits[1].x[:10], digits[1].y[:10]).costs
    out = saved / "n.png"
    assert main(["show", "nudges", str(saved / "m.npz"), "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert f"picked test image {int(costs.argmax())}:" in said and f"cost {costs.max():.3f}" in said
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_cli_batch_table(saved, capsys):
    require("matplotlib")
    out = saved / "table.svg"
    assert main(["show", "nudges", str(saved / "m.npz"), "--batch", "12", "--out", str(out)]) == 0
    assert "test images 0..11" in capsys.readouterr().out
    assert out.read_text().lstrip().startswith("<?xml")
    assert main(["show", "weights", str(saved / "m.npz"), "--batch", "3"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--batch applies to 'show nudges' only" in err[0]
