"""The network lit by one input, as data for a page: what ``show_network`` draws with matplotlib,
``assets/network.js`` draws in the browser (the learning page and the digit page use it).

``network_layout`` says which neurons each column shows (the same choice as
:func:`~microgradnet.viz.show_network`: all, or the first and last with "⋮" between) and
whether the input is drawn as a picture; ``edge_weights`` the weights between the shown
neurons; ``activations`` the activations of a batch of inputs, layer by layer.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, no_grad
from .page import rounded
from .pictures import _class_names, _linear_layers, _maybe_image_shape, _trace, visible_neurons


def network_layout(model, image_shape=None, classes=None, max_neurons: int = 16) -> dict:
    """``{"sizes", "visible", "gap", "image", "classes"}`` for ``assets/network.js``."""
    layers = _linear_layers(model)
    sizes = [layers[0].in_features] + [lin.out_features for lin in layers]
    shape = _maybe_image_shape(sizes[0], image_shape)
    cols = [visible_neurons(n, max_neurons) for n in sizes]
    return {
        "sizes": sizes,
        "visible": [v for v, _ in cols],
        "gap": [g for _, g in cols],
        "image": list(shape) if shape is not None and sizes[0] > max_neurons else None,
        "classes": _class_names(classes, sizes[-1]),
    }


def edge_weights(model, layout: dict, digits: int = 3) -> list:
    """For each layer, its weights between the shown neurons (rows: inputs, columns: outputs),
    or None for the first layer when the input is drawn as a picture."""
    out: list[list | None] = []
    for li, lin in enumerate(_linear_layers(model)):
        if li == 0 and layout["image"] is not None:
            out.append(None)
            continue
        w = np.asarray(lin.weight.data)[np.ix_(layout["visible"][li], layout["visible"][li + 1])]
        out.append(rounded(w, digits))
    return out


def activations(model, x: np.ndarray) -> list[np.ndarray]:
    """``[x, a¹, …, aᴸ]`` for a batch ``x`` (N, inputs): each layer's activations, float64."""
    layers = _linear_layers(model)
    with no_grad():
        acts = _trace(model, Tensor(np.asarray(x, dtype=layers[0].weight.data.dtype)))
    return [np.asarray(a.data, dtype=np.float64) for a in acts]
