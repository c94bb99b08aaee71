"""Every example's wishes, averaged (chapter 3).

Each training example ``x`` asks the output biases for its own nudges, ``−∂Cₓ/∂b``: up for
its digit, down for the others, as much as each output is wrong. The cost of a mini-batch is
the average of its examples' costs, so its gradient is the average of theirs: the step
gradient descent takes is the *average wish*. :func:`nudge_table` computes each example's
wishes with the engine's backward pass (one backward per example) and their average;
:func:`show_nudge_table` draws them as a heat map, examples × outputs, with the average row
under it, and the same for the output layer's largest weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ShapeError
from ..tensor import Tensor, enable_grad
from .pictures import DIVERGING, _class_names, _linear_layers, _new_figure, _positive_int

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from numpy.typing import ArrayLike

    from ..nn import Module

__all__ = ["nudge_table", "NudgeTable", "show_nudge_table"]


@dataclass
class NudgeTable:
    """What each example of a batch asks of the output layer, and the average.

    ``per_example`` (N, outputs): row ``n`` is ``−∂Cₙ/∂b`` for the output biases, where
    ``Cₙ`` is the cost of example ``n`` alone. ``average`` (outputs,): their mean, which is
    ``−∂C/∂b`` of the batch cost. ``weights`` lists the ``(k, j)`` of the output layer's
    weights whose average nudge is largest (from neuron ``k`` of the layer before to output
    ``j``), with ``weight_per_example`` (N, len(weights)) and ``weight_average`` the same
    for them. ``costs`` is each example's cost, ``labels`` and ``predicted`` its class and
    the network's answer. Fields can also be read as ``table["average"]``.
    """

    per_example: np.ndarray
    average: np.ndarray
    weights: list
    weight_per_example: np.ndarray
    weight_average: np.ndarray
    costs: np.ndarray
    labels: np.ndarray
    predicted: np.ndarray
    classes: list

    def __getitem__(self, key: str):
        if key not in self.__dataclass_fields__:
            raise KeyError(key)
        return getattr(self, key)


def nudge_table(
    model: Module,
    x: ArrayLike,
    y: ArrayLike,
    loss: str = "mse",
    top: int = 8,
    classes: Sequence[str] | None = None,
) -> NudgeTable:
    """The nudges each example of the batch ``(x, y)`` asks of the output biases, and their
    average: ``per_example[n] = −∂Cₙ/∂b`` and ``average = mean over n = −∂C/∂b``.

    ``x`` is a batch (N, inputs), ``y`` its integer labels (N,). Each row comes from the
    engine's ``backward()`` on that example's own cost (``loss``: ``"mse"``, the videos'
    cost, or ``"cross_entropy"``); the same is kept for the ``top`` weights of the output
    layer with the largest average nudge. The model's ``.grad`` are left as they were.
    """
    fn = "nudge_table"
    from ..training import get_loss

    top = _positive_int(top, "top", fn)
    layers = _linear_layers(model)
    last = layers[-1]
    n_in, n_out = layers[0].in_features, last.out_features
    xs = np.asarray(x.data if isinstance(x, Tensor) else x)
    if xs.ndim == 1:
        xs = xs[None, :]
    if xs.dtype.kind not in "fiub" or xs.ndim != 2 or xs.shape[1] != n_in:
        raise ShapeError(f"{fn}: x must be a batch of shape (N, {n_in}), got shape {xs.shape}")
    xs = xs.astype(layers[0].weight.data.dtype, copy=False)
    labels = np.atleast_1d(np.asarray(y))
    if labels.shape != (len(xs),) or labels.dtype.kind not in "iu":
        raise ShapeError(
            f"{fn}: y must hold one integer label per example ({len(xs)}), got {labels.dtype} of shape {labels.shape}"
        )
    if labels.size and not (0 <= labels.min() and labels.max() < n_out):
        raise ValueError(f"{fn}: labels must be in 0..{n_out - 1}, got {labels.min()}..{labels.max()}")
    if len(xs) == 0:
        raise ValueError(f"{fn}: the batch is empty")
    cost_fn = get_loss(loss)
    names = _class_names(classes, n_out)

    params = model.parameters()
    saved = [p.grad for p in params]
    bias, weight, costs, predicted = [], [], [], []
    try:
        with enable_grad():
            for n in range(len(xs)):
                for p in params:
                    p.grad = None
                out = model(xs[n : n + 1])
                cost = cost_fn(out, labels[n : n + 1])
                cost.backward()
                bias.append(-np.asarray(last.bias.grad, dtype=np.float64))
                weight.append(-np.asarray(last.weight.grad, dtype=np.float64))
                costs.append(float(cost.data))
                predicted.append(int(np.argmax(out.data[0])))
    finally:
        for p, g in zip(params, saved):
            p.grad = g
    per_example = np.stack(bias)
    weight_all = np.stack(weight)  # (N, n_prev, n_out)
    weight_mean = weight_all.mean(axis=0)
    k = min(top, weight_mean.size)
    flat = np.argsort(-np.abs(weight_mean), axis=None, kind="stable")[:k]
    rows, cols = np.unravel_index(flat, weight_mean.shape)
    return NudgeTable(
        per_example=per_example,
        average=per_example.mean(axis=0),
        weights=[(int(r), int(c)) for r, c in zip(rows, cols)],
        weight_per_example=weight_all[:, rows, cols],
        weight_average=weight_mean[rows, cols],
        costs=np.array(costs),
        labels=labels.astype(np.int64),
        predicted=np.array(predicted, dtype=np.int64),
        classes=names,
    )


def _heat(ax, per_example, average, row_names, col_names, title):
    """One heat map: a row per example, a gap, then the average row; red +, blue −."""
    values = np.vstack([per_example, np.full((1, per_example.shape[1]), np.nan), average[None, :]])
    lim = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
    lim = lim if lim > 0 else 1.0
    im = ax.imshow(values, cmap=DIVERGING, vmin=-lim, vmax=lim, aspect="auto", interpolation="nearest")
    ax.set_xticks(
        np.arange(len(col_names)), col_names, fontsize=8, rotation=0 if len(col_names) <= 10 else 60
    )
    ax.set_yticks(
        np.arange(len(per_example)).tolist() + [len(per_example) + 1], row_names + ["average"], fontsize=8
    )
    ax.get_yticklabels()[-1].set_fontweight("bold")
    for j, v in enumerate(average):  # the average row also in numbers: it is the step taken
        ax.text(j, len(per_example) + 1, f"{v:+.2f}", ha="center", va="center", fontsize=7, color="#111111")
    ax.tick_params(length=0)
    ax.set_title(title, fontsize=9.5)
    return im


def show_nudge_table(table: NudgeTable) -> Figure:
    """Draw a :class:`NudgeTable`: on the left, each example's nudges to the output biases
    (a row per example, a column per output) with the average row under it; on the right,
    the same for the output layer's largest weights. Red asks for an increase, blue for a
    decrease; the average row is the step gradient descent takes."""
    n = len(table.per_example)
    names = table.classes
    rows = [
        f"#{i} “{names[t]}”" + ("" if p == t else f" (says {names[p]})") + f"  C={c:.2f}"
        for i, (t, p, c) in enumerate(zip(table.labels, table.predicted, table.costs))
    ]
    fig = _new_figure((12.0, 1.6 + 0.32 * (n + 2)))
    ax_b, ax_w = fig.subplots(1, 2, width_ratios=[1.0, max(0.6, len(table.weights) / 10)])
    im = _heat(
        ax_b,
        table.per_example,
        table.average,
        rows,
        names,
        "What each example asks of the output biases, −∂Cₓ/∂b\n(the average row is the batch's step)",
    )
    ax_b.set_xlabel("output neuron (class)", fontsize=9)
    ax_b.set_label("nudge table biases")
    wnames = [f"{k}→{names[j]}" for k, j in table.weights]
    im_w = _heat(
        ax_w,
        table.weight_per_example,
        table.weight_average,
        rows,
        wnames,
        f"The same for the {len(table.weights)} output weights\nwith the largest average nudge, −∂Cₓ/∂w",
    )
    ax_w.set_xlabel("weight: from neuron k of the layer before → output", fontsize=9)
    ax_w.set_label("nudge table weights")
    fig.colorbar(im, ax=ax_b, shrink=0.8, aspect=30).set_label("bias nudge (red +, blue −)")
    fig.colorbar(im_w, ax=ax_w, shrink=0.8, aspect=30).set_label("weight nudge (red +, blue −)")
    fig.suptitle(
        f"{n} examples, {n} wishes: the mini-batch steps by their average (cost of the batch "
        f"{float(np.mean(table.costs)):.3f})",
        fontsize=11,
    )
    return fig
