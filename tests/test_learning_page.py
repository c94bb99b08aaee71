"""Watch it learn: ``fit(..., snapshots=K)``, ``mg.viz.learning_page`` and ``train --watch``,
the page driven in headless Chromium (the slider changes what is shown, and what is shown is
what the snapshot models compute)."""

import json

import numpy as np
import pytest
from pages import assert_quiet, browser, csp_of, open_page  # noqa: F401 - browser is a fixture

import microgradnet as mg
from microgradnet.cli import main
from microgradnet.training import snapshot_steps
from microgradnet.viz.learning import learning_data, learning_page


@pytest.fixture(scope="module")
def run():
    train, test = mg.datasets.load_digits()
    model = mg.nn.MLP([64, 16, 16, 10], seed=0)
    start = model.state_dict()
    history = mg.fit(model, train[:400], epochs=3, test=test, snapshots=7, progress=False)
    return model, start, history, test


def test_snapshots_are_evenly_spaced_copies(run):
    model, start, history, test = run
    steps = 3 * 40  # 400 images in batches of 10, three epochs
    assert [s.step for s in history.snapshots] == [0, 20, 40, 60, 80, 100, 120]
    assert [s.epoch for s in history.snapshots] == pytest.approx([0, 0.5, 1, 1.5, 2, 2.5, 3])
    first, last = history.snapshots[0].model, history.snapshots[-1].model
    assert all(np.array_equal(first.state_dict()[k], v) for k, v in start.items())
    assert all(np.array_equal(last.state_dict()[k], v) for k, v in model.state_dict().items())
    assert first is not model and first.layers[0].weight is not model.layers[0].weight
    assert len(history.step_cost) == steps and history.test_data is test
    json.dumps(history.as_dict())  # the numbers stay JSON: no models in there


def test_no_snapshots_by_default_and_odd_counts():
    train, _ = mg.datasets.load_digits()
    h = mg.fit(mg.nn.MLP([64, 8, 10], seed=0), train[:50], epochs=1, progress=False)
    assert h.snapshots == [] and h.test_data is None
    assert snapshot_steps(1, 50) == [50]
    assert snapshot_steps(4, 2) == [0, 1, 2]  # more snapshots than steps: one per step
    with pytest.raises(ValueError, match="snapshots"):
        mg.fit(mg.nn.MLP([64, 8, 10]), train[:50], epochs=1, snapshots=-1, progress=False)


def test_data_is_what_the_snapshots_compute(run):
    _, _, history, test = run
    data = learning_data(history)
    assert len(data["frames"]) == 7 and data["steps"] == 120
    for snap, frame in zip(history.snapshots, data["frames"]):
        assert frame["accuracy"] == mg.evaluate(snap.model, test).accuracy
        out = snap.model(test.x[:200]).data.argmax(axis=1)
        assert frame["wrong"] == [int(i) for i in np.flatnonzero(out != test.y[:200])]
        lit = snap.model(test.x[data["fixed"]]).data
        assert np.allclose([f[-1] for f in frame["lit"]], lit, atol=6e-4)
    with pytest.raises(ValueError, match="snapshots=30"):
        learning_data(mg.History())


def test_slider_and_play_in_the_browser(browser, run, tmp_path):  # noqa: F811
    _, _, history, test = run
    path = learning_page(history, tmp_path / "learn.html")
    data = learning_data(history)
    page, seen = open_page(browser, path)
    try:
        assert "script-src 'sha256-" in csp_of(page) and "default-src 'none'" in csp_of(page)
        state = page.evaluate("window.microgradnet")
        assert state["snapshot"] == 0 and state["step"] == 0
        shown = []
        for k in (3, 6, 1):
            page.locator("#lp-slider").fill(str(k))
            state = page.evaluate("window.microgradnet")
            snap = history.snapshots[k]
            assert state["snapshot"] == k and state["step"] == snap.step
            text = page.inner_text("#lp-accuracy")
            assert text == f"test accuracy {100 * mg.evaluate(snap.model, test).accuracy:.1f}%"
            assert state["wrong"] == data["frames"][k]["wrong"]
            assert page.locator("#lp-wrong-grid figure").count() == len(state["wrong"])
            out = snap.model(test.x[state["image"] : state["image"] + 1]).data[0]
            assert state["answer"] == int(out.argmax())
            assert np.allclose(state["outputs"], out, atol=6e-4)
            x = float(page.get_attribute("#lp-marker", "x1"))
            shown.append((x, page.evaluate("document.querySelector('canvas.weights').toDataURL()")))
        assert shown[0][0] < shown[1][0] and shown[2][0] < shown[0][0]  # the marker follows time
        assert len({img for _, img in shown}) == 3  # the weights' pictures change
        page.click("#lp-pick button[data-image='1']")
        assert page.evaluate("window.microgradnet")["image"] == data["fixed"][1]
        page.locator("#lp-slider").fill("5")
        page.click("#lp-play")
        for _ in range(50):  # the page plays at about two snapshots a second
            if page.evaluate("window.microgradnet.snapshot") == 6:
                break
            page.wait_for_timeout(100)
        assert page.evaluate("window.microgradnet.snapshot") == 6
        assert page.inner_text("#lp-play").endswith("play")  # stopped at the end
        assert_quiet(seen)
    finally:
        page.close()


def test_train_watch_writes_the_page(tmp_path, capsys):
    out = tmp_path / "watch.html"
    assert main(["train", "--epochs", "1", "--quiet", "--watch", str(out), "--snapshots", "4"]) == 0
    assert "4 snapshots" in capsys.readouterr().out
    text = out.read_text()
    assert text.startswith("<!DOCTYPE html>") and "Content-Security-Policy" in text
    assert main(["train", "--epochs", "1", "--quiet", "--watch", str(tmp_path / "w.png")]) == 1
    assert "--watch" in capsys.readouterr().err


def test_pages_benchmark_runs():
    """A smoke test of benchmarks/pages.py (the size and build-time targets live there)."""
    import subprocess
    import sys

    from conftest import ROOT

    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "pages.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (
        all(name in proc.stdout for name in ("stepper", "learning", "draw")) and "MISSED" not in proc.stdout
    )
