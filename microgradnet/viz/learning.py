"""Watch it learn (chapter 2): one page that plays back the snapshots of a training run.

``history = mg.fit(model, train, test=test, snapshots=30)`` keeps 30 copies of the model,
evenly spaced from before the first step to the end; ``learning_page(history, "learning.html")``
turns them into one self-contained page with a slider and a play button over training time.
At each snapshot the page shows the first layer's weights as images, the network lit by a
few fixed test images, the cost curve with a marker at that moment, the test accuracy, and
the test images the network still gets wrong. Every number is computed here, when the page is
built, by the snapshot models themselves.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..data import as_xy
from ..training import evaluate
from .lit_network import activations, edge_weights, network_layout
from .page import bytes_b64, check_html_path, pixels, rounded, write_page
from .pictures import _linear_layers, _maybe_image_shape

if TYPE_CHECKING:
    from ..data import DataLike
    from ..training import History

__all__ = ["learning_page", "learning_data"]

_BODY = """<header>
  <h1 id="lp-title"></h1>
  <p class="sub">Each step of gradient descent nudges all the weights and biases a little downhill on
  the cost. Drag the slider (or press play) to watch what that does: the weights slowly turn into
  pictures, the network's answers settle, the cost falls and the mistakes thin out.</p>
</header>
<nav id="lp-controls" aria-label="training time">
  <button id="lp-play" type="button">▶ play</button>
  <input id="lp-slider" type="range" min="0" max="0" step="1" value="0" aria-label="snapshot of the training run">
  <span id="lp-time" aria-live="polite"></span>
  <span id="lp-accuracy" class="big"></span>
</nav>
<main>
  <section id="lp-cost"><h2>The cost, step by step</h2><svg id="lp-cost-svg" role="img" aria-label="cost curve"></svg>
    <p class="note">faint: each mini-batch's cost; bold: the mean of each epoch; red dots: test accuracy
    at each snapshot (right axis); the line: now.</p></section>
  <section id="lp-network"><h2>The network lit by a test image</h2><div id="lp-pick"></div>
    <p id="lp-says"></p><svg id="lp-net" role="img" aria-label="the network's activations"></svg></section>
  <section id="lp-weights"><h2>What each first-layer neuron looks for</h2>
    <p class="note">Each picture is one neuron's weights: red pixels raise its weighted sum, blue ones
    lower it (one colour scale per snapshot, <span id="lp-scale"></span>).</p><div id="lp-weight-grid"></div></section>
  <section id="lp-wrong"><h2>Test images it still gets wrong</h2><p id="lp-wrong-count"></p>
    <div id="lp-wrong-grid"></div></section>
</main>"""


def _loss_of(model) -> str:
    return "cross_entropy" if getattr(model, "output_activation_name", "") == "none" else "mse"


def _fixed_images(y: np.ndarray, count: int) -> list[int]:
    """The first test images with different labels (then any), ``count`` of them."""
    picked, seen = [], set()
    for i, label in enumerate(y):
        if int(label) not in seen:
            picked.append(i)
            seen.add(int(label))
        if len(picked) == count:
            return picked
    return (picked + [i for i in range(len(y)) if i not in picked])[:count]


def _step_curve(step_cost: list, points: int = 600) -> list:
    """The per-step costs averaged into at most ``points`` buckets: ``[[step, cost], …]``."""
    c = np.asarray(step_cost, dtype=np.float64)
    if c.size == 0:
        return []
    edges = np.unique(np.linspace(0, c.size, min(points, c.size) + 1).astype(int))
    return [[int(b), float(np.round(c[a:b].mean(), 5))] for a, b in zip(edges[:-1], edges[1:])]


def learning_data(history, test=None, images: int = 3, pool: int = 200, max_neurons: int = 16) -> dict:
    """Everything the learning page shows, as plain JSON-able data (the tests read it too).

    ``test`` (a Dataset or ``(x, y)``) defaults to the data ``fit`` tested on. ``images``
    fixed test images light the network; the mistakes are looked for among the first ``pool``
    test images (and counted over the whole test set).
    """
    fn = "learning_page"
    snaps = list(getattr(history, "snapshots", None) or [])
    if not snaps:
        raise ValueError(
            f"{fn}: the history has no snapshots; train with mg.fit(..., snapshots=30) "
            "(or 'microgradnet train --watch PAGE')"
        )
    test = test if test is not None else getattr(history, "test_data", None)
    if test is None:
        raise ValueError(
            f"{fn}: no test data: pass test=..., or train with mg.fit(..., test=test, snapshots=K)"
        )
    x, y = as_xy(test, fn)
    classes = getattr(test, "classes", None)
    first = snaps[0].model
    layers = _linear_layers(first)
    n_in = layers[0].in_features
    if x.ndim != 2 or x.shape[1] != n_in:
        raise ValueError(f"{fn}: the test data has shape {x.shape} but the network takes {n_in} inputs")
    shape = _maybe_image_shape(n_in, getattr(test, "image_shape", None))
    layout = network_layout(first, shape, classes, max_neurons)
    fixed = _fixed_images(y, min(images, len(y)))
    pool_idx = np.arange(min(pool, len(y)))
    w0 = np.asarray(layers[0].weight.data)
    shown_neurons = min(w0.shape[1], 2 * max_neurons)
    loss = _loss_of(first)

    frames = []
    for snap in snaps:
        model = snap.model
        ev = evaluate(model, (x, y), loss)
        acts = activations(model, x[fixed])
        pred = activations(model, x[pool_idx])[-1].argmax(axis=1)
        wrong = [int(i) for i in pool_idx[pred != y[pool_idx]]]
        frame = {
            "step": int(snap.step),
            "epoch": round(float(snap.epoch), 4),
            "accuracy": ev.accuracy,
            "cost": ev.cost,
            "wrong_total": int(round((1 - ev.accuracy) * len(y))),
            "wrong": wrong,
            "said": [int(pred[i]) for i in wrong],
            "lit": [[rounded(a[k], 3) for a in acts[1:]] for k in range(len(fixed))],
            "edges": edge_weights(model, layout),
        }
        if shape is not None:
            w = np.asarray(_linear_layers(model)[0].weight.data, dtype=np.float64)[:, :shown_neurons]
            scale = float(np.abs(w).max()) or 1.0
            frame["weights"] = bytes_b64(np.round(w.T / scale * 127).astype(np.int8))
            frame["scale"] = scale
        frames.append(frame)

    epochs = len(getattr(history, "cost", []) or [])
    steps = len(getattr(history, "step_cost", []) or [])
    per_epoch = steps / epochs if epochs else 1.0
    return {
        "title": "Watch the network learn",
        "layout": layout,
        "image": list(shape) if shape is not None else None,
        "neurons": shown_neurons,
        "classes": layout["classes"],
        "fixed": fixed,
        "fixed_labels": [int(y[i]) for i in fixed],
        "fixed_pixels": rounded(x[fixed], 3) if layout["image"] is None else None,
        "images": pixels(x[: max(len(pool_idx), max(fixed) + 1)]) if shape is not None else None,
        "labels": [int(v) for v in y[: len(pool_idx)]],
        "pool": int(len(pool_idx)),
        "test_size": int(len(y)),
        "steps": steps,
        "per_epoch": per_epoch,
        "curve": _step_curve(getattr(history, "step_cost", []) or []),
        "epoch_cost": [[round((k + 1) * per_epoch), float(c)] for k, c in enumerate(history.cost)]
        if epochs
        else [],
        "frames": frames,
    }


def learning_page(
    history: History,
    path: str | os.PathLike[str] = "learning.html",
    *,
    test: DataLike | None = None,
    images: int = 3,
    title: str | None = None,
) -> Path:
    """Write the page that plays back a training run (``history`` from
    ``mg.fit(..., snapshots=K)``) to ``path`` and return the path: a slider and a play button
    over training time; at each snapshot the first-layer weights as images, the network lit by
    ``images`` fixed test images, the cost curve with a marker, the test accuracy, and the test
    images it still gets wrong. One self-contained HTML file (no network needed).
    """
    check_html_path(path, "learning_page")
    data = learning_data(history, test=test, images=images)
    if title is not None:
        data["title"] = str(title)
    return write_page(
        path,
        title=data["title"],
        body=_BODY,
        data=data,
        css=["learning.css"],
        js=["network.js", "learning.js"],
        fn="learning_page",
    )
