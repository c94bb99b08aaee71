"""Regenerate the pictures of the README and the docs into ``docs/images/``.

Every picture in the README and the docs is made by this script, so they always show
what the current code draws. It trains a 64-16-16-10 sigmoid network on the digits that
ship with microgradnet (about two seconds) and draws from it:

    digits_examples   a grid of training examples with their labels      (chapter 1)
    digits_weights    the first layer's weights as 8×8 pictures           (chapter 1)
    digits_network    the network lit up by one test digit                (chapter 1)
    digits_cost       the cost curve and test accuracy while training     (chapter 2)
    digits_noise      the confident answer to pure noise                  (chapter 2)
    digits_nudges     what one training example asks: the nudges          (chapters 3–4)
    digits_graph      the computation graph of one training step (SVG)    (chapter 4)

The graph is laid out by graphviz-pure by default (``--renderer``), which writes the same bytes
on every machine, so the committed SVG only changes when the drawing does; it must read in the
README's 900-pixel column (its smallest text is printed, and checked to be at least 8 px).

With ``--mnist DIR`` (a folder holding the MNIST IDX files) it also trains the videos'
784-16-16-10 network and draws the same pictures as ``mnist_*``. When DIR holds only
the 10,000-image test set, the first 8,000 of it train and the last 2,000 test.

Usage:
    python scripts/make_figures.py [--out docs/images] [--format png|svg] [--mnist DIR]
                                   [--renderer graphviz-pure|dot|auto]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import microgradnet as mg  # noqa: E402
from microgradnet.atomic import atomic_write  # noqa: E402
from microgradnet.viz.pictures import (
    cost_curve,
    save_figure,
    show_digits,
    show_network,  # noqa: E402
    show_noise,
    show_nudges,
    show_weights,
)
from microgradnet.viz.render import svg_size  # noqa: E402


def train(sizes, train_set, test_set, epochs, lr, seed):
    model = mg.nn.MLP(sizes, activation="sigmoid", seed=seed)
    history = mg.fit(
        model,
        train_set,
        epochs=epochs,
        lr=lr,
        batch_size=10,
        loss="mse",
        test=test_set,
        seed=seed,
        progress=False,
        fast=False,
    )
    return model, history


def shrink_png(path: Path) -> None:
    """Re-encode a PNG with a 256-colour palette (a third of the size, same look), atomically.
    Skipped when Pillow (which matplotlib installs) is missing."""
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as im:
        small = im.convert("RGB").quantize(
            colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
        )
    with atomic_write(path) as fh:
        small.save(fh, format="PNG", optimize=True)


README_COLUMN = 900  # px


def draw_all(prefix, model, history, train_set, test_set, out, fmt, dpi, shrink=True, renderer=None):
    """Draw the six pictures of one trained model; return the paths written."""
    # A test example the network gets right, for the lit-up network; a training example
    # it is still unsure about (the right output near 0.5), so nudges up and down show.
    with mg.no_grad():
        test_pred = model(test_set.x).data.argmax(axis=1)
        train_out = model(train_set.x).data
    right = np.flatnonzero(test_pred == test_set.y)
    shown = int(right[0]) if len(right) else 0
    margin = train_out[np.arange(len(train_set)), train_set.y]
    unsure = int(np.argmin(np.abs(margin - 0.5)))

    figures = {
        "examples": show_digits(train_set, n=16),
        "weights": show_weights(model, layer=0),
        "network": show_network(model, test_set.x[shown], classes=test_set.classes),
        "cost": cost_curve(history),
        "noise": show_noise(model, seed=0, classes=test_set.classes),
        "nudges": show_nudges(
            model, train_set.x[unsure], int(train_set.y[unsure]), classes=train_set.classes
        ),
    }
    written = []
    for name, fig in figures.items():
        path = save_figure(fig, out / f"{prefix}_{name}.{fmt}", dpi=dpi)
        if fmt == "png" and shrink:
            shrink_png(path)
        written.append(path)
    # The computation graph of one training step on a mini-batch of ten, with its gradients.
    cost = mg.squared_error(model(train_set.x[:10]), train_set.y[:10])
    dot = mg.viz.draw_graph(cost, show_grads=True, model=model, renderer=renderer)
    path = mg.viz.render_graph(dot, out / f"{prefix}_graph.svg")
    size = svg_size(path.read_text(encoding="utf-8"))
    text = size.min_font_in(README_COLUMN)
    print(
        f"  {path.name}: {size.width:.0f}×{size.height:.0f} px, smallest text {text:.1f} px in a "
        f"{README_COLUMN} px column"
    )
    if text < 8:
        raise SystemExit(f"{path.name} would be unreadable in the README (text {text:.1f} px < 8 px)")
    written.append(path)
    return written


def load_mnist(folder):
    try:
        train_set, test_set = mg.datasets.load_mnist(folder, download=False)
    except (mg.DataError, OSError):
        full = mg.datasets.load_mnist(folder, split="test", download=False)
        train_set, test_set = full[:8000], full[8000:]
    return train_set, test_set


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "images", help="output folder")
    ap.add_argument("--format", choices=["png", "svg"], default="png")
    ap.add_argument("--dpi", type=float, default=80, help="resolution of PNG files")
    ap.add_argument(
        "--mnist",
        type=Path,
        default=None,
        metavar="DIR",
        help="also draw the 784-16-16-10 network trained on the MNIST files in DIR",
    )
    ap.add_argument("--epochs", type=int, default=30, help="epochs on the digits")
    ap.add_argument("--mnist-epochs", type=int, default=10, help="epochs on MNIST")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-shrink", action="store_true", help="keep matplotlib's full-colour PNGs")
    ap.add_argument(
        "--renderer",
        choices=["graphviz-pure", "dot", "auto"],
        default="graphviz-pure",
        help="the program that lays out the graph (default graphviz-pure: the same bytes everywhere)",
    )
    args = ap.parse_args(argv)

    jobs = []
    train_set, test_set = mg.datasets.load_digits()
    jobs.append(("digits", [64, 16, 16, 10], train_set, test_set, args.epochs))
    if args.mnist is not None:
        mtrain, mtest = load_mnist(args.mnist)
        jobs.append(("mnist", [784, 16, 16, 10], mtrain, mtest, args.mnist_epochs))

    for prefix, sizes, tr, te, epochs in jobs:
        t0 = time.perf_counter()
        model, history = train(sizes, tr, te, epochs, lr=3.0, seed=args.seed)
        paths = draw_all(
            prefix,
            model,
            history,
            tr,
            te,
            args.out,
            args.format,
            args.dpi,
            shrink=not args.no_shrink,
            renderer=args.renderer,
        )
        print(
            f"{prefix}: {'-'.join(map(str, sizes))} trained {epochs} epochs, test accuracy "
            f"{history.test_accuracy[-1]:.1%} ({time.perf_counter() - t0:.1f}s)"
        )
        for p in paths:
            print(
                f"  {p.relative_to(ROOT) if p.is_relative_to(ROOT) else p}  ({p.stat().st_size / 1024:.0f} KiB)"
            )


if __name__ == "__main__":
    main()
