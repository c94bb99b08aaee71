"""Draw a digit (chapter 1): a page where the learner draws with the mouse or a finger and the
network, running in the browser, says which digit it sees.

The drawing is prepared the way the training pictures were:

* MNIST (28×28 inputs): the ink's bounding box is scaled to fit a 20×20 box (keeping its
  shape, averaging the pixels it covers: anti-aliased grey edges), then placed in the 28×28
  picture so that its centre of mass sits at the centre, as LeCun et al. prepared MNIST;
* the embedded digits (8×8 inputs): the bounding box is scaled to fill a 32×32 bitmap (the
  longer side fills it, the digit centred), the bitmap made black and white, and each 4×4
  block's count of ink pixels (0 to 16) divided by 16, as ``load_digits`` scales the UCI data;
* any other square input: the bounding box scaled to fill the picture.

The page then runs the model's forward pass in JavaScript (the weights are embedded: matmul,
add_bias and the activation of each layer; sigmoid, tanh, relu, softmax or none) and lights
the network as :func:`~microgradnet.viz.show_network` does. ``window.microgradnet.input`` and
``window.microgradnet.output`` hold the current input vector and output activations.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..nn.layers import Identity, Linear, ReLU, Sigmoid, Softmax, Tanh
from .lit_network import edge_weights, network_layout
from .page import bytes_b64, check_html_path, write_page

if TYPE_CHECKING:
    from ..nn import Module

__all__ = ["digit_page", "inference_layers", "preparation", "PREPARATIONS"]

PREPARATIONS = {"mnist": (28, 20), "digits": (8, 32), "fit": (None, None)}
_ACTIVATIONS = {Sigmoid: "sigmoid", Tanh: "tanh", ReLU: "relu", Softmax: "softmax", Identity: None}

_BODY = """<header>
  <h1 id="dp-title"></h1>
  <p class="sub">Draw a digit in the black square with the mouse or a finger. The network of this page
  runs in your browser on the picture at the right: the drawing made small, as its training pictures were.</p>
</header>
<main>
  <section id="dp-draw">
    <canvas id="dp-canvas" width="280" height="280" aria-label="draw a digit here"></canvas>
    <div class="row"><button id="dp-clear" type="button">clear</button>
      <span class="note">what the network sees:</span><canvas id="dp-input"></canvas></div>
    <p id="dp-prep" class="note"></p>
  </section>
  <section id="dp-answer">
    <h2 id="dp-says" aria-live="polite"></h2>
    <div id="dp-outputs"></div>
  </section>
  <section id="dp-network"><svg id="dp-net" role="img" aria-label="the network's activations"></svg></section>
</main>"""


def inference_layers(model) -> list[dict[str, Any]]:
    """The model as the page runs it: for each Linear layer its weights ``(in, out)`` and bias
    (float32, base64) and its activations in order (names). Activation modules that follow a
    Linear layer belong to it; anything else cannot run in the browser and is an error."""
    mods = [model] if isinstance(model, Linear) else list(getattr(model, "layers", []) or [])
    out: list[dict[str, Any]] = []
    for m in mods:
        if isinstance(m, Linear):
            acts = [] if m.activation is None else [_activation_name(m.activation)]
            w = np.asarray(m.weight.data, dtype=np.float32)
            out.append(
                {
                    "inputs": int(w.shape[0]),
                    "outputs": int(w.shape[1]),
                    "weight": bytes_b64(w),
                    "bias": bytes_b64(np.asarray(m.bias.data, dtype=np.float32)),
                    "activations": [a for a in acts if a],
                }
            )
        elif out and type(m) in _ACTIVATIONS:
            name = _activation_name(m)
            if name:
                out[-1]["activations"].append(name)
        else:
            raise TypeError(
                f"digit_page: cannot run {type(m).__name__} in the browser; the page runs Linear layers "
                "and the activations sigmoid, tanh, relu, softmax"
            )
    if not out:
        raise TypeError(
            f"digit_page: expected a network of Linear layers (an MLP), got {type(model).__name__}"
        )
    return out


def _activation_name(m):
    for cls, name in _ACTIVATIONS.items():
        if type(m) is cls:
            return name
    raise TypeError(
        f"digit_page: cannot run the activation {type(m).__name__} in the browser; "
        "use sigmoid, tanh, relu, softmax or none"
    )


def preparation(n_in: int, preprocess: str | None = None, fn: str = "digit_page") -> dict:
    """How a drawing becomes the input of a network with ``n_in`` inputs (what ``prepare.js``
    is told): ``{"preprocess", "side", "box"}``, ``preprocess`` by default from the input size
    (784: mnist, 64: digits, any other square: fit)."""
    side = math.isqrt(n_in)
    if side * side != n_in:
        raise ValueError(f"{fn}: the network takes {n_in} inputs, not a square picture one could draw")
    if preprocess is None:
        preprocess = {784: "mnist", 64: "digits"}.get(n_in, "fit")
    if preprocess not in PREPARATIONS:
        raise ValueError(f"{fn}: preprocess must be one of {', '.join(PREPARATIONS)}, got {preprocess!r}")
    expected = PREPARATIONS[preprocess][0]
    if expected is not None and expected != side:
        raise ValueError(
            f"{fn}: preprocess={preprocess!r} makes {expected}×{expected} pictures but the network "
            f"takes {side}×{side} = {n_in} inputs"
        )
    return {"side": side, "preprocess": preprocess, "box": PREPARATIONS[preprocess][1]}


def digit_page(
    model: Module,
    path: str | os.PathLike[str] = "draw.html",
    *,
    preprocess: str | None = None,
    classes: Sequence[str] | None = None,
    title: str | None = None,
) -> Path:
    """Write the draw-a-digit page for ``model`` to ``path`` and return the path.

    ``preprocess`` says how a drawing becomes the network's input: ``"mnist"`` (28×28: fit into
    20×20, centre of mass at the centre), ``"digits"`` (8×8, the embedded digits: ink counts
    of 4×4 blocks of a 32×32 bitmap, divided by 16) or ``"fit"`` (any square: the drawing
    scaled to fill it); by default from the input size (784: mnist, 64: digits). ``classes``
    names the outputs (default "0", "1", …). One self-contained HTML file, no network needed.
    """
    fn = "digit_page"
    check_html_path(path, fn)
    layers = inference_layers(model)
    prep = preparation(layers[0]["inputs"], preprocess, fn)
    side = prep["side"]
    layout = network_layout(model, (side, side), classes)
    data = {
        "title": str(title) if title is not None else "Draw a digit",
        **prep,
        "layers": layers,
        "layout": layout,
        "edges": edge_weights(model, layout),
        "classes": layout["classes"],
    }
    return write_page(
        path,
        title=data["title"],
        body=_BODY,
        data=data,
        css=["draw.css"],
        js=["network.js", "prepare.js", "draw.js"],
        fn=fn,
    )
