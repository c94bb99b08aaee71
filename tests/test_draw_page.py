"""Draw a digit: ``mg.viz.digit_page`` and ``microgradnet show draw``, in headless Chromium.
A stroke drawn with the mouse becomes an input prepared like the training pictures, and the
page's outputs equal the Python model's forward pass on that input."""

import numpy as np
import pytest
from pages import assert_quiet, browser, csp_of, open_page  # noqa: F401 - browser is a fixture

import microgradnet as mg
from microgradnet.cli import main
from microgradnet.viz.draw_page import digit_page, inference_layers

pytestmark = pytest.mark.browser


def draw_seven(page):
    box = page.locator("#dp-canvas").bounding_box()
    x0, y0 = box["x"], box["y"]
    page.mouse.move(x0 + 70, y0 + 60)
    page.mouse.down()
    for t in range(1, 11):
        page.mouse.move(x0 + 70 + 13 * t, y0 + 60)
    for t in range(1, 16):
        page.mouse.move(x0 + 200 - 6 * t, y0 + 60 + 12 * t)
    page.mouse.up()
    return page.evaluate("({input: window.microgradnet.input, output: window.microgradnet.output})")


def python_forward(model, x):
    return model(np.asarray(x, dtype=model.dtype)[None, :]).data[0]


@pytest.fixture(scope="module")
def models():
    train, _ = mg.datasets.load_digits()
    small = mg.nn.MLP([64, 16, 16, 10], seed=0)
    mg.fit(small, train, epochs=3, progress=False)
    big = mg.nn.MLP([784, 16, 16, 10], seed=1)
    return {"digits": small, "mnist": big}


def test_mnist_stroke_is_prepared_and_run_like_python(browser, models, tmp_path):  # noqa: F811
    model = models["mnist"]
    path = digit_page(model, tmp_path / "draw.html")
    page, seen = open_page(browser, path)
    try:
        assert "default-src 'none'" in csp_of(page)
        blank = page.evaluate("window.microgradnet.output")
        np.testing.assert_allclose(blank, python_forward(model, np.zeros(784)), atol=1e-5)
        got = draw_seven(page)
        x = np.array(got["input"])
        assert x.shape == (784,) and x.max() <= 1 and x.min() >= 0 and x.sum() > 20
        img = x.reshape(28, 28)
        rows, cols = np.flatnonzero(img.sum(1)), np.flatnonzero(img.sum(0))
        assert rows[-1] - rows[0] + 1 <= 21 and cols[-1] - cols[0] + 1 <= 21  # fits the 20×20 box
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 >= 19  # and fills it
        assert 0 < np.mean((img > 0) & (img < 1)) < 0.5  # anti-aliased: grey edges
        ys, xs = np.indices(img.shape) + 0.5
        cy, cx = (img * ys).sum() / img.sum(), (img * xs).sum() / img.sum()
        assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5  # centre of mass at the centre
        np.testing.assert_allclose(got["output"], python_forward(model, x), atol=1e-5)
        shown = page.inner_text("#dp-says")
        assert f"“{int(np.argmax(got['output']))}”" in shown
        lit = page.locator("#dp-net circle[data-activation]").count()
        assert lit == 16 + 16 + 10
        page.click("#dp-clear")
        assert sum(page.evaluate("window.microgradnet.input")) == 0
        assert_quiet(seen)
    finally:
        page.close()


def test_embedded_digits_stroke_uses_their_scale(browser, models, tmp_path):  # noqa: F811
    model = models["digits"]
    path = digit_page(model, tmp_path / "draw8.html")
    page, seen = open_page(browser, path)
    try:
        got = draw_seven(page)
        x = np.array(got["input"])
        assert x.shape == (64,)
        assert np.allclose(x * 16, np.round(x * 16)) and x.max() <= 1  # counts of 0..16, divided by 16
        img = x.reshape(8, 8)
        assert img[0].sum() > 0 and img[-1].sum() > 0  # the digit fills the height, as the UCI ones do
        np.testing.assert_allclose(got["output"], python_forward(model, x), atol=1e-5)
        assert_quiet(seen)
    finally:
        page.close()


@pytest.mark.parametrize("act, out_act", [("tanh", "softmax"), ("relu", None), ("sigmoid", "relu")])
def test_every_activation_runs_in_the_browser(browser, tmp_path, act, out_act):  # noqa: F811
    model = mg.nn.MLP([16, 7, 5, 3], activation=act, output_activation=out_act, seed=2)
    path = digit_page(model, tmp_path / f"{act}.html", classes=["a", "b", "c"])
    page, seen = open_page(browser, path)
    try:
        x = np.random.default_rng(0).random(16)
        out = page.evaluate("(x) => window.microgradnet.run(x)", x.tolist())
        np.testing.assert_allclose(out, python_forward(model, x), atol=1e-5)
        assert_quiet(seen)
    finally:
        page.close()


def test_activation_modules_after_linear_layers_and_errors(tmp_path):
    seq = mg.nn.Sequential(mg.nn.Linear(4, 3), mg.nn.Tanh(), mg.nn.Linear(3, 2), mg.nn.Softmax())
    assert [layer["activations"] for layer in inference_layers(seq)] == [["tanh"], ["softmax"]]
    with pytest.raises(ValueError, match="not a square"):
        digit_page(mg.nn.MLP([5, 3]), tmp_path / "x.html")
    with pytest.raises(ValueError, match="28×28"):
        digit_page(mg.nn.MLP([64, 3]), tmp_path / "x.html", preprocess="mnist")
    with pytest.raises(ValueError, match=".html"):
        digit_page(mg.nn.MLP([64, 3]), tmp_path / "x.png")


def test_cli_show_draw(models, tmp_path, capsys):
    mg.save(models["digits"], tmp_path / "m.npz")
    out = tmp_path / "d.html"
    assert main(["show", "draw", str(tmp_path / "m.npz"), "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out and '"preprocess":"digits"' in out.read_text()
    assert main(["show", "draw", str(tmp_path / "m.npz"), "--out", str(tmp_path / "d.png")]) == 1
    assert ".html" in capsys.readouterr().err
