"""The videos' pictures: weights as images, the lit-up network, the cost curve, noise, nudges.

Each function draws one of the figures of 3Blue1Brown's neural-network series (chapters
1–4) for a microgradnet model and returns a :class:`~microgradnet.viz.Picture`:
a :class:`matplotlib.figure.Figure` that shows itself as an image when it is a notebook
cell's result (no ``%matplotlib`` magic needed). Nothing here calls ``plt.show()`` or
touches pyplot's global state: the figures are built with the object-oriented API, so they
work headless (scripts, CI), appear once in notebooks, and save with ``fig.save(path)`` or
:func:`save_figure`.

Colours follow one rule everywhere: **red = positive, blue = negative** (a diverging
colormap centred at 0), and a neuron's **grey level is its activation** (0 dark, 1 bright).

matplotlib is imported only when a picture is drawn: ``pip install "microgradnet[viz]"``.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from ..atomic import atomic_write
from ..data import as_xy
from ..display import display_name
from ..errors import HIDDEN_FOR_USER_ERRORS, ShapeError
from ..tensor import Tensor, enable_grad, no_grad

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..data import DataLike
    from ..nn import Module
    from ..training import History

__all__ = [
    "show_weights",
    "show_network",
    "cost_curve",
    "show_noise",
    "show_nudges",
    "show_digits",
    "save_figure",
]

DIVERGING = "RdBu_r"  # low = blue (negative), high = red (positive), white at 0
POSITIVE, NEGATIVE = "#c0392b", "#2e6fb7"  # the red and blue of that map, for bars and edges
HIGHLIGHT = "#f5b700"  # the predicted / target class
_DARK_BG, _DARK_FG = "#15171c", "#e8e8e8"


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------
def _figure_class():
    """The figure class pictures are made of (:class:`~microgradnet.viz.Picture`, a
    matplotlib Figure that shows itself in notebooks), or an ImportError that says how to
    install matplotlib."""
    try:
        import matplotlib  # noqa: F401  (Picture is built on it)
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError('microgradnet\'s pictures need matplotlib: pip install "microgradnet[viz]"') from e
    from .picture import Picture

    return Picture


def _new_figure(figsize, layout="constrained", **kw):
    Figure = _figure_class()
    return Figure(figsize=figsize, layout=layout, **kw)


def _linear_layers(model) -> list:
    """The Linear layers of ``model`` (an MLP, a Sequential of Linear + activations, or a
    single Linear), in order."""
    from ..nn.layers import Linear

    if isinstance(model, Linear):
        return [model]
    mods = getattr(model, "layers", None)
    found = [m for m in mods if isinstance(m, Linear)] if mods is not None else []
    if not found:
        raise TypeError(
            f"expected a network made of Linear layers (an MLP, a Sequential or a Linear), "
            f"got {type(model).__name__}"
        )
    return found


def _layer_index(layer, count: int, fn: str) -> int:
    if isinstance(layer, bool) or not isinstance(layer, numbers.Integral):
        raise TypeError(f"{fn}: layer must be an integer index, got {layer!r}")
    if not -count <= int(layer) < count:
        raise IndexError(
            f"{fn}: layer {layer} does not exist; this network has {count} layer"
            f"{'s' if count != 1 else ''} of weights, so layer must be in 0..{count - 1} "
            f"(or -{count}..-1 counted from the output)"
        )
    return int(layer) % count


def _positive_int(value, what: str, fn: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{fn}: {what} must be a positive integer, got {value!r}")
    return int(value)


def _image_shape(n: int, image_shape, fn: str) -> tuple[int, int]:
    """``image_shape`` checked against ``n`` values, or the square that holds ``n`` values."""
    if image_shape is not None:
        shape = tuple(int(d) for d in image_shape)
        if len(shape) != 2 or shape[0] * shape[1] != n:
            raise ShapeError(
                f"{fn}: image_shape {tuple(image_shape)} does not hold the {n} inputs "
                f"(need (rows, cols) with rows × cols = {n})"
            )
        return shape
    side = math.isqrt(n)
    if side * side != n:
        raise ShapeError(
            f"{fn}: the {n} inputs are not a square picture, so their shape cannot be "
            f"guessed; pass image_shape=(rows, cols) with rows × cols = {n}"
        )
    return side, side


def _maybe_image_shape(n: int, image_shape) -> tuple[int, int] | None:
    try:
        return _image_shape(n, image_shape, "")
    except ShapeError:
        return None


def _one_input(x, n_in: int, dtype, fn: str) -> np.ndarray:
    """One example as a flat array of ``n_in`` values in the model's dtype."""
    arr = np.asarray(x.data if isinstance(x, Tensor) else x)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{fn}: x must be numbers, got dtype {arr.dtype}")
    if arr.size != n_in:
        raise ShapeError(
            f"{fn}: x must be ONE example of {n_in} values (the network's inputs), got shape {arr.shape}"
        )
    return arr.reshape(n_in).astype(dtype, copy=False)


def _trace(model, x: Tensor) -> list[Tensor]:
    """Run ``model`` on ``x`` layer by layer: ``[x, a¹, …, aᴸ]``, the activations after each
    Linear layer (and its activation function, whether inside the layer or the next module)."""
    from ..nn.layers import Linear

    mods = [model] if isinstance(model, Linear) else list(model.layers)
    acts = [x]
    seen = False
    for m in mods:
        out = m(acts[-1])
        if isinstance(m, Linear):
            acts.append(out)
            seen = True
        elif seen:
            acts[-1] = out  # an activation module after a Linear: same neurons
        else:
            acts[0] = out  # something before the first Linear (e.g. a reshape)
    return acts


def visible_neurons(n: int, max_neurons: int) -> tuple[list[int], int | None]:
    """Which of a column's ``n`` neurons a picture shows: all of them, or the first and the
    last ones (``max_neurons`` in all) with a gap ("⋮") before position ``gap``."""
    if n <= max_neurons:
        return list(range(n)), None
    top = max_neurons - max_neurons // 2
    return list(range(top)) + list(range(n - max_neurons // 2, n)), top


def _activations(model, x: np.ndarray) -> list[np.ndarray]:
    with no_grad():
        acts = _trace(model, Tensor._make(x[None, :], None, ()))
    return [np.asarray(a.data)[0] for a in acts]


def _class_names(classes, n: int) -> list[str]:
    if classes is None:
        return [str(k) for k in range(n)]
    names = [str(c) for c in classes]
    if len(names) != n:
        raise ValueError(f"classes has {len(names)} names but the network has {n} outputs")
    return names


def _label_name(classes, label: int) -> str:
    return str(classes[label]) if classes is not None and 0 <= label < len(classes) else str(label)


def _plain(ax):
    ax.set_xticks([])
    ax.set_yticks([])


# ----------------------------------------------------------------------------------------
# chapter 1: the data, the weights, the network
# ----------------------------------------------------------------------------------------
def show_digits(
    data: DataLike,
    n: int = 16,
    image_shape: Sequence[int] | None = None,
    predicted: ArrayLike | None = None,
) -> Figure:
    """A grid of ``n`` examples of ``data`` (a :class:`~microgradnet.data.Dataset` or a pair
    ``(x, y)``), each drawn as its picture with its label above: "the network sees these
    28×28 grey values". Images are white ink on black, 0 = black, 1 = white.

    ``predicted`` (the network's answers, one label per example) adds each answer to its
    title, ``label → answer``, in red where the answer is wrong.
    """
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    fn = "show_digits"
    n = _positive_int(n, "n", fn)
    x, y = as_xy(data, fn)
    classes = getattr(data, "classes", None)
    if image_shape is None:
        image_shape = getattr(data, "image_shape", None)
    name = getattr(data, "name", None)
    title = f"{min(n, len(y))} examples" + (f" from {display_name(name)}" if name is not None else "")
    if len(x) == 0:
        raise ValueError(f"{fn}: the data is empty")
    if predicted is not None:
        predicted = np.asarray(predicted).reshape(-1)
        if len(predicted) != len(y):
            raise ShapeError(
                f"{fn}: predicted has {len(predicted)} answers but the data has {len(y)} examples"
            )
        title += ": the label → the network's answer"
    x = x.reshape(len(x), -1)
    shape = _image_shape(x.shape[1], image_shape, fn)
    n = min(n, len(x))
    cols = min(n, 8)
    rows = -(-n // cols)
    fig = _new_figure((1.25 * cols + 0.3, 1.45 * rows + 0.5))
    axes = fig.subplots(rows, cols, squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k >= n:
            ax.remove()
            continue
        ax.imshow(x[k].reshape(shape), cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        label = int(y[k])
        name = _label_name(classes, label)
        if predicted is None:
            ax.set_title(name, fontsize=11)
        else:
            answer = int(predicted[k])
            said = _label_name(classes, answer)
            ax.set_title(f"{name} → {said}", fontsize=11, color="#b91c1c" if answer != label else "black")
        _plain(ax)
    fig.suptitle(title, fontsize=12)
    return fig


def show_weights(
    model: Module, layer: int = 0, image_shape: Sequence[int] | None = None, max_neurons: int | None = None
) -> Figure:
    """Each neuron of ``layer`` drawn as the picture of its weights.

    Neuron ``j`` computes ``σ(w_j · a + b_j)``: column ``j`` of ``weight`` reshaped to the
    input's picture shows *what pixel pattern the neuron looks for* — red pixels raise the
    weighted sum, blue ones lower it — and its bias ``b_j`` (in the title) says how strong
    that signal must be before the neuron lights up. One colour scale for the whole layer,
    symmetric around 0 (white). ``image_shape`` defaults to the square of ``in_features``
    (28×28 for MNIST, 8×8 for the digits; 4×4 for a layer after 16 neurons); ``max_neurons``
    draws only the first ones.
    """
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    fn = "show_weights"
    layers = _linear_layers(model)
    idx = _layer_index(layer, len(layers), fn)
    lin = layers[idx]
    w = np.asarray(lin.weight.data)
    b = np.asarray(lin.bias.data)
    n_in, n_out = w.shape
    shape = _image_shape(n_in, image_shape, fn)
    n = n_out if max_neurons is None else min(n_out, _positive_int(max_neurons, "max_neurons", fn))
    lim = float(np.abs(w[:, :n]).max()) if n else 0.0
    lim = lim if lim > 0 and math.isfinite(lim) else 1.0
    cols = math.ceil(math.sqrt(n))
    rows = -(-n // cols)
    fig = _new_figure((1.75 * cols + 1.2, 1.85 * rows + 1.0))
    axes = fig.subplots(rows, cols, squeeze=False)
    im, kept = None, []
    for j, ax in enumerate(axes.flat):
        if j >= n:
            ax.remove()
            continue
        kept.append(ax)
        im = ax.imshow(w[:, j].reshape(shape), cmap=DIVERGING, vmin=-lim, vmax=lim, interpolation="nearest")
        ax.set_title(f"neuron {j}\nbias {b[j]:+.2f}", fontsize=9, linespacing=1.15)
        _plain(ax)
    cbar = fig.colorbar(im, ax=kept, shrink=0.75, aspect=30)
    cbar.set_label("weight   (blue −, red +)")
    what = "pixel pattern" if idx == 0 else f"pattern of layer {idx}'s neurons"
    fig.suptitle(
        f"Layer {idx}: what {what} each neuron looks for\n"
        f"red raises the weighted sum, blue lowers it; the bias says how strong the "
        f"signal must be",
        fontsize=10.5,
    )
    return fig


def show_network(
    model: Module,
    x: ArrayLike,
    max_neurons: int = 16,
    classes: Sequence[str] | None = None,
    image_shape: Sequence[int] | None = None,
) -> Figure:
    """The network lit up by ONE input ``x``: columns of neurons whose grey level is their
    activation (dark 0 → bright 1), joined by edges coloured by the weight's sign (red +,
    blue −) with opacity and width growing with ``|w|``.

    An input layer bigger than ``max_neurons`` that is a picture (``image_shape``, or a
    square such as 784 = 28×28) is drawn as the picture itself; other layers bigger than
    ``max_neurons`` show their first and last neurons with "⋮" between. The outputs are
    labelled with ``classes`` (default "0", "1", …) and their activation, the predicted
    class highlighted. Readable for 784-16-16-10.
    """
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    fn = "show_network"
    _figure_class()  # the clear message if matplotlib is missing
    from matplotlib.collections import LineCollection
    from matplotlib.colors import to_rgba

    max_neurons = _positive_int(max_neurons, "max_neurons", fn)
    layers = _linear_layers(model)
    sizes = [layers[0].in_features] + [lin.out_features for lin in layers]
    xin = _one_input(x, sizes[0], layers[0].weight.data.dtype, fn)
    acts = _activations(model, xin)
    names = _class_names(classes, sizes[-1])
    out = acts[-1]
    pred = int(np.argmax(out))
    shape = _maybe_image_shape(sizes[0], image_shape)
    input_as_image = shape is not None and sizes[0] > max_neurons

    cols = [visible_neurons(n, max_neurons) for n in sizes]
    slots = max(len(v) + (g is not None) for i, (v, g) in enumerate(cols) if i > 0 or not input_as_image)
    slots = max(slots, 2)
    spacing = 0.9 / (slots - 1) if slots > 1 else 0.5

    def ypos(i_col):
        vis, gap = cols[i_col]
        k = len(vis) + (gap is not None)
        top = 0.5 + (k - 1) / 2 * spacing
        ys, gap_y, pos = [], None, 0
        for r, _ in enumerate(vis):
            if gap is not None and r == gap:
                gap_y = top - pos * spacing
                pos += 1
            ys.append(top - pos * spacing)
            pos += 1
        return np.array(ys), gap_y

    L = len(layers)
    width_in, height_in = 2.3 * (L + 1) + 1.0, 5.6
    fig = _new_figure((width_in, height_in), layout=None, facecolor=_DARK_BG)
    ax_box = (0.02, 0.1, 0.96, 0.78)
    ylim = (-0.06, 1.06)
    right = L + 0.6
    img_h, img_right = 0.5, 0.3  # the input picture: height in y units, right edge
    img_w = 0.0
    if input_as_image:
        # Width (x units) that makes the picture square, given that it also sets the x range:
        # w = k · (x range) with x range = right − (img_right − w − 0.08).
        inch_y = ax_box[3] * height_in / (ylim[1] - ylim[0])
        k = img_h * inch_y / (ax_box[2] * width_in)
        img_w = k * (right - img_right + 0.08) / (1 - k)
        xlim = (img_right - img_w - 0.08, right)
    else:
        xlim = (-0.5, right)
    ax = fig.add_axes(ax_box)
    ax.set_facecolor(_DARK_BG)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.axis("off")
    ax.set_label("network")
    pts_per_unit_y = ax_box[3] * height_in * 72 / (ylim[1] - ylim[0])
    diameter = min(0.72 * spacing * pts_per_unit_y, 24.0)

    # Edges, layer by layer (strongest drawn last, on top).
    for li, lin in enumerate(layers):
        w = np.asarray(lin.weight.data)
        vis_in, _ = cols[li]
        vis_out, _ = cols[li + 1]
        y_out, _ = ypos(li + 1)
        if li == 0 and input_as_image:
            # Every pixel feeds every neuron: a fan from the picture to each neuron.
            k = len(vis_out)
            starts = 0.5 + (np.arange(k)[::-1] - (k - 1) / 2) * (0.8 * img_h / max(k - 1, 1))
            segs = [[(img_right, s), (1, yo)] for s, yo in zip(starts, y_out)]
            ax.add_collection(
                LineCollection(segs, colors=[to_rgba(_DARK_FG, 0.18)], linewidths=0.6, zorder=1)
            )
            continue
        y_in, _ = ypos(li)
        sub = w[np.ix_(vis_in, vis_out)]
        big = float(np.abs(sub).max()) or 1.0
        segs, colors, widths, order = [], [], [], []
        for r, _i in enumerate(vis_in):
            for c, _j in enumerate(vis_out):
                s = abs(float(sub[r, c])) / big
                segs.append([(li, y_in[r]), (li + 1, y_out[c])])
                colors.append(to_rgba(POSITIVE if sub[r, c] > 0 else NEGATIVE, 0.05 + 0.85 * s**1.5))
                widths.append(0.3 + 2.2 * s)
                order.append(s)
        o = np.argsort(order)
        ax.add_collection(
            LineCollection(
                [segs[t] for t in o],
                colors=[colors[t] for t in o],
                linewidths=[widths[t] for t in o],
                zorder=1,
            )
        )

    # Neurons.
    for ci, (vis, _gap) in enumerate(cols):
        if ci == 0 and input_as_image:
            inset = ax.inset_axes([img_right - img_w, 0.5 - img_h / 2, img_w, img_h], transform=ax.transData)
            inset.imshow(xin.reshape(shape), cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
            _plain(inset)
            for sp in inset.spines.values():
                sp.set_color("#888888")
            inset.set_label("input image")
            continue
        ys, gap_y = ypos(ci)
        a = acts[ci][vis]
        ax.scatter(
            np.full(len(vis), ci),
            ys,
            s=diameter**2,
            c=np.clip(a, 0, 1),
            cmap="gray",
            vmin=0,
            vmax=1,
            edgecolors="#9aa0a6",
            linewidths=0.8,
            zorder=3,
        )
        if gap_y is not None:
            ax.text(ci, gap_y, "⋮", color=_DARK_FG, ha="center", va="center", fontsize=16, zorder=3)
        if ci == L:
            for yv, j, av in zip(ys, vis, a):
                hit = j == pred
                ax.text(
                    ci + 0.1 + diameter / 400,
                    yv,
                    f"{names[j]}  {av:.2f}",
                    va="center",
                    ha="left",
                    fontsize=10 if hit else 8.5,
                    fontweight="bold" if hit else "normal",
                    color=HIGHLIGHT if hit else "#b0b4b8",
                    zorder=4,
                )
                if hit:
                    ax.scatter(
                        [ci],
                        [yv],
                        s=(diameter + 7) ** 2,
                        facecolors="none",
                        edgecolors=HIGHLIGHT,
                        linewidths=2.0,
                        zorder=4,
                    )

    for ci, n in enumerate(sizes):
        role = "input" if ci == 0 else ("output" if ci == L else f"hidden layer {ci}")
        unit = "pixels" if ci == 0 and input_as_image else "neurons"
        ax.text(
            img_right - img_w / 2 if ci == 0 and input_as_image else ci,
            -0.04,
            f"{role}\n{n} {unit}",
            ha="center",
            va="top",
            color=_DARK_FG,
            fontsize=9,
        )
    fig.text(
        0.5,
        0.965,
        f"The network says “{names[pred]}” (activation {out[pred]:.2f})",
        ha="center",
        va="top",
        color=_DARK_FG,
        fontsize=13,
        fontweight="bold",
    )
    fig.text(
        0.5,
        0.915,
        "neuron brightness = activation (dark 0 → bright 1);  edges: red = positive "
        "weight, blue = negative, stronger = bolder",
        ha="center",
        va="top",
        color="#b0b4b8",
        fontsize=8.5,
    )
    return fig


# ----------------------------------------------------------------------------------------
# chapter 2: learning — the cost curve and confident nonsense
# ----------------------------------------------------------------------------------------
def _history_lists(history):
    get = history.get if isinstance(history, dict) else (lambda k, d=None: getattr(history, k, d))
    return {k: list(get(k, None) or []) for k in ("cost", "step_cost", "test_cost", "test_accuracy")}


def cost_curve(history: History, ax: Axes | None = None) -> Figure:
    """The cost going down: the mean training cost of each epoch (bold), every mini-batch
    step's cost faintly behind it (if ``history.step_cost`` has them), and the test accuracy
    on a second axis on the right (if ``history.test_accuracy`` has values).

    ``history`` is what :func:`microgradnet.fit` returns (or its ``as_dict()``). Draws on
    ``ax`` if given, else on a new figure; returns the figure.
    """
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    _figure_class()  # the clear message if matplotlib is missing
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    h = _history_lists(history)
    cost = h["cost"]
    if not cost:
        raise ValueError("cost_curve: the history has no epochs yet (history.cost is empty)")
    if ax is None:
        fig = _new_figure((6.4, 3.8))
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    epochs = np.arange(1, len(cost) + 1)
    handles: list[Any] = []  # matplotlib artists, for the legend
    steps = h["step_cost"]
    if steps:
        per_epoch = len(steps) / len(cost)
        xs = (np.arange(len(steps)) + 1) / per_epoch
        handles += ax.plot(xs, steps, color="C0", alpha=0.13, lw=0.4, label="cost of each mini-batch step")
    handles += ax.plot(epochs, cost, "o-", color="C0", lw=2, ms=4, label="training cost (epoch mean)")
    if h["test_cost"] and len(h["test_cost"]) == len(cost):
        handles += ax.plot(epochs, h["test_cost"], "--", color="C0", lw=1.2, label="test cost")
    ax.set_xlabel("epoch (one pass over the training examples)")
    ax.set_ylabel("cost")
    # Scale to the epoch curves: the noisy first steps may run off the top.
    tops = [max(cost)] + ([max(h["test_cost"])] if h["test_cost"] else [])
    top = max(t for t in tops if math.isfinite(t)) if any(math.isfinite(t) for t in tops) else 1.0
    ax.set_ylim(0, 1.15 * top if top > 0 else 1.0)
    ax.set_xlim(0 if steps else 0.8, len(cost) + 0.2)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    acc = h["test_accuracy"]
    if acc and len(acc) == len(cost):
        ax2 = ax.twinx()
        handles += ax2.plot(epochs, acc, "s-", color="C3", lw=1.6, ms=4, label="test accuracy")
        ax2.set_ylabel("test accuracy", color="C3")
        ax2.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax2.tick_params(axis="y", colors="C3")
        lo = min(a for a in acc if math.isfinite(a)) if any(math.isfinite(a) for a in acc) else 0.0
        ax2.set_ylim(max(0.0, lo - 0.05), 1.0)
        ax2.set_label("accuracy")
    ax.legend(
        handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=2, fontsize=8.5, frameon=False
    )
    ax.set_title("Learning = making the cost go down", fontsize=11)
    ax.set_label("cost")
    return fig


def show_noise(
    model: Module,
    seed: int = 0,
    image_shape: Sequence[int] | None = None,
    classes: Sequence[str] | None = None,
) -> Figure:
    """Feed the network pure noise — ``numpy.random.default_rng(seed).uniform(0, 1, n_inputs)``
    — and show it beside the bar chart of the output activations: the network was only ever
    asked "which digit?", so it answers anyway, often confidently. The title names the
    predicted class and its activation."""
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    fn = "show_noise"
    layers = _linear_layers(model)
    n_in = layers[0].in_features
    shape = _image_shape(n_in, image_shape, fn)
    noise = np.random.default_rng(seed).uniform(0.0, 1.0, n_in).astype(layers[0].weight.data.dtype)
    out = _activations(model, noise)[-1]
    names = _class_names(classes, len(out))
    pred = int(np.argmax(out))
    fig = _new_figure((8.2, 3.4))
    ax_img, ax_bar = fig.subplots(1, 2, width_ratios=[1, 1.9])
    ax_img.imshow(noise.reshape(shape), cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax_img.set_title("input: pure random noise", fontsize=10)
    _plain(ax_img)
    colors = [HIGHLIGHT if k == pred else "#8a9099" for k in range(len(out))]
    ax_bar.bar(np.arange(len(out)), out, color=colors, edgecolor="#333333", linewidth=0.5)
    ax_bar.set_xticks(np.arange(len(out)), names)
    ax_bar.set_xlabel("output neuron (class)")
    ax_bar.set_ylabel("output activation")
    if out.min() >= 0 and out.max() <= 1:
        ax_bar.set_ylim(0, 1.05)
    ax_bar.grid(axis="y", alpha=0.3)
    ax_bar.set_title("what the network answers", fontsize=10)
    ax_bar.set_label("outputs")
    fig.suptitle(
        f"Noise in, an answer out: the network says “{names[pred]}” (activation {out[pred]:.2f})\n"
        "it was never taught to say “this is not a digit”",
        fontsize=11,
    )
    return fig


# ----------------------------------------------------------------------------------------
# chapters 3–4: what one example asks — the nudges of backpropagation
# ----------------------------------------------------------------------------------------
def _nudge_bars(ax, values, labels, title, ylabel, highlight=None):
    colors = [POSITIVE if v > 0 else NEGATIVE for v in values]
    bars = ax.bar(np.arange(len(values)), values, color=colors, edgecolor="#333333", linewidth=0.4)
    ax.axhline(0, color="#333333", lw=0.8)
    ax.set_xticks(
        np.arange(len(values)),
        labels,
        fontsize=8 if len(values) <= 16 else 6.5,
        rotation=0 if len(values) <= 16 else 90,
    )
    if highlight is not None:
        tick = ax.get_xticklabels()[highlight]
        tick.set_fontweight("bold")
        tick.set_color("#b07f00")
    ax.set_title(title, fontsize=9.5)
    ax.set_ylabel(ylabel, fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    lim = float(np.abs(values).max()) if len(values) else 0.0
    if lim > 0:
        ax.set_ylim(-1.15 * lim, 1.15 * lim)
    return bars


def show_nudges(
    model: Module,
    x: ArrayLike,
    y: int,
    top: int = 10,
    loss: str = "mse",
    classes: Sequence[str] | None = None,
) -> Figure:
    """What ONE training example ``(x, label y)`` asks of the network, as in chapters 3–4.

    The cost ``C`` of this one example is back-propagated with the engine
    (``cost.backward(keep_grads=True)``), and the figure shows the *nudges* — minus the
    gradients, the direction that lowers the cost:

    * how much each output activation should be nudged, ``−∂C/∂a⁽ᴸ⁾`` — up for the right
      class, down for the others, proportional to how wrong each one is;
    * the nudges to the output layer's biases, ``−∂C/∂b⁽ᴸ⁾``;
    * the nudges to the activations of the layer before, ``−∂C/∂a⁽ᴸ⁻¹⁾`` (the wishes of all
      outputs added up: what backpropagation passes back);
    * the ``top`` largest weight nudges ``−∂C/∂w⁽ᴸ⁾`` of the output layer.

    ``loss`` is ``"mse"`` (the videos' cost) or ``"cross_entropy"`` (for a network with raw
    outputs). The model's parameter gradients are left as they were.
    """
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    fn = "show_nudges"
    from ..losses import get_loss

    top = _positive_int(top, "top", fn)
    layers = _linear_layers(model)
    last = layers[-1]
    n_in, n_out = layers[0].in_features, last.out_features
    dtype = layers[0].weight.data.dtype
    xin = _one_input(x, n_in, dtype, fn)
    if isinstance(y, bool) or not isinstance(y, numbers.Integral) or not 0 <= int(y) < n_out:
        raise ValueError(f"{fn}: y must be the label of x, an integer in 0..{n_out - 1}, got {y!r}")
    y = int(y)
    names = _class_names(classes, n_out)
    cost_fn = get_loss(loss)

    params = model.parameters() if hasattr(model, "parameters") else []
    saved = [p.grad for p in params]
    try:
        for p in params:
            p.grad = None
        with enable_grad():
            xt = Tensor(xin[None, :].copy(), requires_grad=True)
            acts = _trace(model, xt)
            cost = cost_fn(acts[-1], np.array([y]))
            cost.backward(keep_grads=True)
        c = float(cost.data)
        a_out = np.asarray(acts[-1].data)[0]
        nudge_out = -np.asarray(acts[-1].grad)[0]
        nudge_prev = -np.asarray(acts[-2].grad)[0]
        nudge_b = -np.asarray(last.bias.grad)
        nudge_w = -np.asarray(last.weight.grad)
    finally:
        for p, g in zip(params, saved):
            p.grad = g

    shape = _maybe_image_shape(n_in, None)
    fig = _new_figure((11.5, 6.8))
    if shape is not None:
        axd = fig.subplot_mosaic([["I", "O", "O"], ["B", "A", "W"]], width_ratios=[1, 1.3, 1.3])
        ax_i = axd["I"]
        ax_i.imshow(xin.reshape(shape), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax_i.set_title(f"one training example: a “{names[y]}”", fontsize=10)
        _plain(ax_i)
        ax_i.set_label("example")
    else:
        axd = fig.subplot_mosaic([["O", "O", "O"], ["B", "A", "W"]])

    ax_o = axd["O"]
    _nudge_bars(
        ax_o,
        nudge_out,
        [f"{nm}\n{a:.2f}" for nm, a in zip(names, a_out)],
        f"How much each output should be nudged: up for “{names[y]}”, down for the rest,\n"
        "proportional to how wrong it is   (under each class: its activation now)",
        r"nudge  $-\partial C/\partial a^{(L)}$",
        highlight=y,
    )
    ax_o.set_label("nudge outputs")

    ax_b = axd["B"]
    _nudge_bars(
        ax_b, nudge_b, names, "Nudges to the output biases", r"$-\partial C/\partial b^{(L)}$", highlight=y
    )
    ax_b.set_label("nudge biases")

    ax_a = axd["A"]
    n_prev = len(nudge_prev)
    if n_prev <= 32:
        idx_prev = np.arange(n_prev)
        title = "Nudges to the layer before's neurons\n(all outputs' wishes added up)"
    else:
        idx_prev = np.sort(np.argsort(-np.abs(nudge_prev), kind="stable")[: 2 * top])
        title = f"The {len(idx_prev)} largest nudges to the layer before\n(all outputs' wishes added up)"
    _nudge_bars(
        ax_a, nudge_prev[idx_prev], [str(k) for k in idx_prev], title, r"$-\partial C/\partial a^{(L-1)}$"
    )
    ax_a.set_xlabel("neuron of the layer before", fontsize=8.5)
    ax_a.set_label("nudge previous activations")

    ax_w = axd["W"]
    flat = np.argsort(-np.abs(nudge_w), axis=None, kind="stable")[: min(top, nudge_w.size)]
    rows, cols = np.unravel_index(flat, nudge_w.shape)
    vals = nudge_w[rows, cols]
    ypos = np.arange(len(vals))[::-1]
    ax_w.barh(
        ypos, vals, color=[POSITIVE if v > 0 else NEGATIVE for v in vals], edgecolor="#333333", linewidth=0.4
    )
    ax_w.axvline(0, color="#333333", lw=0.8)
    ax_w.set_yticks(ypos, [f"{k} → “{names[j]}”" for k, j in zip(rows, cols)], fontsize=8)
    lim = float(np.abs(vals).max()) if len(vals) else 0.0
    if lim > 0:
        ax_w.set_xlim(-1.15 * lim, 1.15 * lim)
    from matplotlib.ticker import MaxNLocator

    ax_w.xaxis.set_major_locator(MaxNLocator(5, symmetric=True))
    ax_w.set_xlabel(r"$-\partial C/\partial w^{(L)}$", fontsize=9)
    ax_w.set_ylabel("weight: from neuron k → output", fontsize=8.5)
    ax_w.set_title(
        f"The {len(vals)} largest weight nudges\n(biggest from the brightest neurons before)", fontsize=9.5
    )
    ax_w.grid(axis="x", alpha=0.3)
    ax_w.set_label("nudge weights")

    fig.suptitle(
        f"What this example asks of the network (its cost C = {c:.3f}); red = increase, blue = decrease",
        fontsize=11.5,
    )
    return fig


# ----------------------------------------------------------------------------------------
# saving
# ----------------------------------------------------------------------------------------
_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
_NO_DATES = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}


def save_figure(fig: Figure, path: str | os.PathLike[str], dpi: float | None = None) -> Path:
    """Save ``fig`` to ``path``, the format from the suffix (``.png``, ``.svg``, ``.pdf``).

    The file is written under a temporary name in the same folder and then moved into
    place (``os.replace``), so a reader never sees half a picture and a failure leaves no
    stray file. No timestamps are embedded, so the same figure gives the same file.
    Returns the path.
    """
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    _figure_class()  # the clear message if matplotlib is missing
    import matplotlib

    path = Path(path)
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"save_figure: cannot tell the format of {str(path)!r}; "
            f"end the name with one of {', '.join(_FORMATS)}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    kw: dict[str, Any] = {"format": fmt, "metadata": _NO_DATES[fmt]}
    if dpi is not None:
        kw["dpi"] = dpi
    with atomic_write(path) as fh, matplotlib.rc_context({"svg.hashsalt": "microgradnet"}):
        fig.savefig(fh, **kw)
    return path
