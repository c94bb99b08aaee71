"""The videos' pictures (microgradnet.viz.pictures): what they draw is the model's numbers."""

import os

import numpy as np
import pytest
from conftest import require

import microgradnet as mg

matplotlib = require("matplotlib")
matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

from microgradnet.viz import pictures  # noqa: E402
from microgradnet.viz.pictures import (
    cost_curve,
    save_figure,
    show_digits,
    show_network,  # noqa: E402
    show_noise,
    show_nudges,
    show_weights,
)


@pytest.fixture(scope="module")
def digits():
    return mg.datasets.load_digits()


@pytest.fixture(scope="module")
def trained(digits):
    """A 64-16-16-10 network after a few steps, and its history."""
    train, test = digits
    model = mg.nn.MLP([64, 16, 16, 10], seed=3)
    history = mg.fit(
        model, train[:200], epochs=2, lr=3.0, batch_size=20, test=test[:100], progress=False, fast=False
    )
    return model, history


def _all_axes(fig):
    """The figure's axes and their insets (``inset_axes`` are children of an axes)."""
    return [a for ax in fig.axes for a in [ax, *ax.child_axes]]


def _axes(fig, label):
    found = [ax for ax in _all_axes(fig) if ax.get_label() == label]
    assert len(found) == 1, [ax.get_label() for ax in _all_axes(fig)]
    return found[0]


def _heights(ax):
    return np.array([p.get_height() for p in ax.patches])


# ----- show_weights ---------------------------------------------------------------------
def test_show_weights_images_are_the_weight_columns(trained):
    model, _ = trained
    fig = show_weights(model)
    assert isinstance(fig, Figure)
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len(images) == 16
    assert len(fig.axes) == 16 + 1  # one per neuron and the colorbar
    w = model.layers[0].weight.data
    for j, im in enumerate(images):
        np.testing.assert_array_equal(np.asarray(im.get_array()), w[:, j].reshape(8, 8))
        lo, hi = im.get_clim()
        assert lo == -hi and hi >= np.abs(w[:, j]).max()
    assert "neuron 3" in images[3].axes.get_title()
    assert f"{model.layers[0].bias.data[3]:+.2f}" in images[3].axes.get_title()


def test_show_weights_later_layer_and_max_neurons(trained):
    model, _ = trained
    fig = show_weights(model, layer=1, max_neurons=5)
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len(images) == 5
    np.testing.assert_array_equal(
        np.asarray(images[4].get_array()), model.layers[1].weight.data[:, 4].reshape(4, 4)
    )
    fig = show_weights(model, layer=-1, image_shape=(2, 8))  # 16 inputs as 2×8
    assert np.asarray(fig.axes[0].get_images()[0].get_array()).shape == (2, 8)


def test_show_weights_clear_errors():
    model = mg.nn.MLP([12, 3, 2], seed=0)
    with pytest.raises(ValueError, match="not a square.*image_shape"):
        show_weights(model)
    with pytest.raises(ValueError, match="image_shape"):
        show_weights(model, image_shape=(5, 5))
    fig = show_weights(model, image_shape=(3, 4))
    assert len([im for ax in fig.axes for im in ax.get_images()]) == 3
    with pytest.raises(IndexError, match="layer 2 does not exist.*0..1"):
        show_weights(model, layer=2, image_shape=(3, 4))
    with pytest.raises(IndexError, match="layer -3"):
        show_weights(model, layer=-3)
    with pytest.raises(TypeError, match="integer"):
        show_weights(model, layer="first")


# ----- show_network ---------------------------------------------------------------------
def test_show_network_input_as_picture(trained, digits):
    model, _ = trained
    x = digits[1].x[0]
    fig = show_network(model, x)
    assert isinstance(fig, Figure)
    assert len(_all_axes(fig)) == 2  # the network and the input picture (an inset)
    picture = _axes(fig, "input image")
    np.testing.assert_array_equal(np.asarray(picture.get_images()[0].get_array()), x.reshape(8, 8))
    net = _axes(fig, "network")
    # Neuron colours are the activations: 16, 16, 10 circles (+ the ring of the prediction).
    with mg.no_grad():
        h1 = model.layers[0](x[None])
        h2 = model.layers[1](h1)
        out = model.layers[2](h2).data[0]
    layers = [c for c in net.collections if c.get_array() is not None]
    assert [len(c.get_array()) for c in layers] == [16, 16, 10]
    np.testing.assert_allclose(layers[0].get_array(), h1.data[0], rtol=1e-6)
    np.testing.assert_allclose(layers[2].get_array(), out, rtol=1e-6)
    pred = int(out.argmax())
    bold = [t.get_text() for t in net.texts if t.get_fontweight() == "bold"]
    assert bold == [f"{pred}  {out[pred]:.2f}"]
    assert f"says “{pred}”" in " ".join(t.get_text() for t in fig.texts)


def test_show_network_big_layers_are_subsampled():
    model = mg.nn.MLP([784, 40, 10], seed=0)
    x = np.random.default_rng(0).uniform(0, 1, 784).astype(np.float32)
    fig = show_network(model, x, max_neurons=16, classes=list("abcdefghij"))
    net = _axes(fig, "network")
    sizes = [len(c.get_array()) for c in net.collections if c.get_array() is not None]
    assert sizes == [16, 10]
    assert any(t.get_text() == "⋮" for t in net.texts)
    assert any(t.get_text().startswith("j  ") for t in net.texts)
    # A small input layer is drawn as neurons, no picture.
    fig = show_network(mg.nn.MLP([3, 4, 2], seed=0), [0.1, 0.5, 0.9])
    assert len(_all_axes(fig)) == 1
    assert [len(c.get_array()) for c in fig.axes[0].collections if c.get_array() is not None] == [3, 4, 2]
    with pytest.raises(ValueError, match="ONE example of 3"):
        show_network(mg.nn.MLP([3, 4, 2], seed=0), np.zeros((2, 3)))


# ----- cost_curve -----------------------------------------------------------------------
def test_cost_curve_carries_the_history(trained):
    _, history = trained
    fig = cost_curve(history)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2  # cost and the test-accuracy twin
    ax, acc_ax = _axes(fig, "cost"), _axes(fig, "accuracy")
    ys = [list(np.asarray(line.get_ydata())) for line in ax.lines]
    assert list(history.cost) in ys and list(history.step_cost) in ys and list(history.test_cost) in ys
    np.testing.assert_array_equal(acc_ax.lines[0].get_ydata(), history.test_accuracy)
    np.testing.assert_array_equal(ax.lines[1].get_xdata(), [1, 2])


def test_cost_curve_on_given_axes_and_dict():
    fig = Figure()
    ax = fig.add_subplot()
    got = cost_curve({"cost": [0.5, 0.3, 0.2]}, ax=ax)
    assert got is fig and len(fig.axes) == 1 and len(ax.lines) == 1
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [0.5, 0.3, 0.2])
    with pytest.raises(ValueError, match="no epochs"):
        cost_curve(mg.History())


# ----- show_noise -----------------------------------------------------------------------
def test_show_noise_bars_are_the_outputs_for_that_noise(trained):
    model, _ = trained
    fig = show_noise(model, seed=7)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    image = [im for ax in fig.axes for im in ax.get_images()]
    assert len(image) == 1
    noise = np.asarray(image[0].get_array()).reshape(-1)
    np.testing.assert_array_equal(noise, np.random.default_rng(7).uniform(0, 1, 64).astype(np.float32))
    with mg.no_grad():
        out = model(noise[None]).data[0]
    np.testing.assert_allclose(_heights(_axes(fig, "outputs")), out, rtol=1e-6)
    assert f"“{out.argmax()}” (activation {out.max():.2f})" in fig._suptitle.get_text()


# ----- show_nudges ----------------------------------------------------------------------
def test_show_nudges_are_minus_the_engine_gradients(trained, digits):
    model, _ = trained
    x, y = digits[0][5]
    before = [p.grad for p in model.parameters()]
    fig = show_nudges(model, x, y, top=7)
    assert isinstance(fig, Figure) and len(fig.axes) == 5
    assert [p.grad for p in model.parameters()] == before  # the model's grads are untouched

    # The same gradients, computed independently with the engine.
    h1 = model.layers[0](x[None]).retain_grad()
    h2 = model.layers[1](h1).retain_grad()
    out = model.layers[2](h2).retain_grad()
    model.zero_grad()
    mg.squared_error(out, np.array([y])).backward()
    np.testing.assert_allclose(_heights(_axes(fig, "nudge outputs")), -out.grad[0], rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(
        _heights(_axes(fig, "nudge biases")), -model.layers[2].bias.grad, rtol=1e-5, atol=1e-8
    )
    np.testing.assert_allclose(
        _heights(_axes(fig, "nudge previous activations")), -h2.grad[0], rtol=1e-5, atol=1e-8
    )
    gw = -model.layers[2].weight.grad
    bars = _axes(fig, "nudge weights").patches
    assert len(bars) == 7
    widths = np.array([b.get_width() for b in bars])
    np.testing.assert_allclose(np.sort(np.abs(widths)), np.sort(np.abs(gw).ravel())[-7:], rtol=1e-5)
    # Up for the target, down for every other output (squared error).
    heights = _heights(_axes(fig, "nudge outputs"))
    assert heights[y] > 0 and np.all(np.delete(heights, y) < 0)
    model.zero_grad()


def test_show_nudges_one_layer_network_and_errors():
    model = mg.nn.MLP([64, 10], seed=0)
    x = np.random.default_rng(1).uniform(0, 1, 64).astype(np.float32)
    fig = show_nudges(model, x, 4, top=5)
    prev = _axes(fig, "nudge previous activations")
    assert len(prev.patches) == 10  # the 2·top largest of the 64 input nudges
    with pytest.raises(ValueError, match="0..9"):
        show_nudges(model, x, 10)
    with pytest.raises(ValueError, match="ONE example"):
        show_nudges(model, x[:10], 1)


# ----- show_digits ----------------------------------------------------------------------
def test_show_digits_grid(digits):
    train, _ = digits
    fig = show_digits(train, n=10)
    assert isinstance(fig, Figure)
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len(images) == len(fig.axes) == 10
    np.testing.assert_array_equal(np.asarray(images[2].get_array()), train.x[2].reshape(8, 8))
    assert images[2].axes.get_title() == str(train.y[2])
    fig = show_digits((train.x[:3], train.y[:3]), n=16)
    assert len(fig.axes) == 3


def test_show_digits_with_the_networks_answers(digits):
    train, _ = digits
    answers = train.y[:4].copy()
    answers[1] = (answers[1] + 1) % 10  # one wrong answer
    fig = show_digits(train[:4], predicted=answers)
    titles = [ax.title for ax in fig.axes]
    assert [t.get_text() for t in titles] == [f"{y} → {a}" for y, a in zip(train.y[:4], answers)]
    red = [t.get_color() == "#b91c1c" for t in titles]
    assert red == [False, True, False, False]
    with pytest.raises(mg.ShapeError, match="predicted has 3 answers but the data has 4"):
        show_digits(train[:4], predicted=answers[:3])


# ----- in a notebook --------------------------------------------------------------------
def _every_picture(model, history, digits):
    train, test = digits
    return {
        "show_digits": show_digits(train),
        "show_weights": show_weights(model),
        "show_network": show_network(model, test.x[0]),
        "show_noise": show_noise(model),
        "show_nudges": show_nudges(model, test.x[0], int(test.y[0])),
        "cost_curve": cost_curve(history),
    }


def test_pictures_show_themselves_as_png_without_pyplot(trained, digits):
    """What IPython puts in a cell's output for each picture: a PNG, with no %matplotlib
    magic and no pyplot (so the inline backend cannot show it a second time)."""
    formatters = require("IPython.core.formatters")
    import matplotlib.pyplot as plt

    plt.close("all")
    fmt = formatters.DisplayFormatter()
    model, history = trained
    big = mg.nn.MLP([784, 16, 16, 10], seed=0)  # thousands of translucent edges
    pictures_ = _every_picture(model, history, digits)
    pictures_["show_network 784"] = show_network(big, np.random.default_rng(0).uniform(0, 1, 784))
    for name, fig in pictures_.items():
        assert isinstance(fig, mg.viz.Picture) and isinstance(fig, Figure), name
        data, _ = fmt.format(fig)
        assert set(data) == {"text/plain", "image/png"}, (name, set(data))
        png = data["image/png"]
        assert png.startswith(b"\x89PNG\r\n\x1a\n"), name
        assert len(png) < 150_000, (name, len(png))  # a notebook output stays under 200 KB in base64
        assert fig.canvas.manager is None  # never registered with pyplot
    assert plt.get_fignums() == []


def test_picture_save_writes_atomically(tmp_path, digits):
    fig = show_digits(digits[0], n=4)
    path = fig.save(tmp_path / "digits.svg")
    assert path.read_bytes().startswith(b"<?xml") and os.listdir(tmp_path) == ["digits.svg"]
    fig.savefig(tmp_path / "digits.png")  # matplotlib's own savefig works as ever
    assert (tmp_path / "digits.png").read_bytes().startswith(b"\x89PNG")


# ----- saving ---------------------------------------------------------------------------
@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_save_figure_is_atomic(tmp_path, digits, suffix, magic):
    fig = show_digits(digits[0], n=4)
    path = save_figure(fig, tmp_path / "sub" / f"digits{suffix}")
    assert path.read_bytes().startswith(magic)
    assert os.listdir(tmp_path / "sub") == [f"digits{suffix}"]  # no temp file left behind


def test_save_figure_bad_suffix_and_failure_leave_nothing(tmp_path, digits):
    fig = show_digits(digits[0], n=4)
    with pytest.raises(ValueError, match=r"\.png"):
        save_figure(fig, tmp_path / "digits.jpeg")

    class Broken(Figure):
        def savefig(self, *a, **k):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        save_figure(Broken(), tmp_path / "x.png")
    assert os.listdir(tmp_path) == []


def test_missing_matplotlib_says_how_to_install(monkeypatch):
    import builtins

    real = builtins.__import__

    def fake(name, *args, **kw):
        if name.startswith("matplotlib"):
            raise ImportError("no matplotlib")
        return real(name, *args, **kw)

    model = mg.nn.MLP([4, 2], seed=0)
    monkeypatch.setattr(builtins, "__import__", fake)
    for draw in (
        lambda: pictures.show_digits((np.zeros((1, 4)), np.zeros(1, dtype=int))),
        lambda: pictures.show_network(model, np.zeros(4)),
        lambda: pictures.cost_curve({"cost": [1.0]}),
        lambda: pictures.save_figure(None, "x.png"),
    ):
        with pytest.raises(ImportError, match=r'pip install "microgradnet\[viz\]"'):
            draw()


def test_lazy_names_on_viz():
    assert mg.viz.show_weights is show_weights and mg.viz.cost_curve is cost_curve
