"""How long drawing the 3Blue1Brown training step takes, with each layout program.

    python benchmarks/render.py [--repeats 5] [--out results.md]

Builds one training step of the videos' network (784-16-16-10 sigmoid, squared-error cost,
a mini-batch of 10 images) and times, for Graphviz's ``dot`` and for the pip-installed
``graphviz-pure`` (whichever are installed):

* ``draw_graph(cost, show_grads=True, model=model)`` then its SVG: what a notebook cell or
  ``microgradnet graph --grads`` does (the recording backward pass for the gradients, the
  DOT source, the layout);
* the same as PNG;
* the backprop stepper page for the same step (``stepper_html``: the page's data, its graph).

The target is under 2 s for each, with either program. The table shows the median and the
slowest of the repeats, and how large the drawing is: its width and its smallest text in a
900-pixel column (at least 8 px to be legible). Timing belongs here, never in the unit tests.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import microgradnet as mg  # noqa: E402
from microgradnet.viz.render import GraphvizNotFoundError, find_renderer, svg_size  # noqa: E402
from microgradnet.viz.stepper import stepper_html  # noqa: E402

TARGET = 2.0  # seconds
COLUMN = 900  # px


def training_step():
    model = mg.nn.MLP([784, 16, 16, 10], seed=0)
    x = np.random.default_rng(0).random((10, 784)).astype(np.float32)
    return mg.squared_error(model(x), np.arange(10)), model


def timed(fn, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def measure(renderer: str, repeats: int) -> list[dict]:
    cost, model = training_step()

    def svg():
        return mg.viz.draw_graph(cost, show_grads=True, model=model, renderer=renderer).svg()

    def png():
        return mg.viz.draw_graph(cost, show_grads=True, model=model, renderer=renderer).pipe("png")

    def page():
        return stepper_html(cost, model=model, renderer=renderer)

    size = svg_size(svg())
    rows = []
    for what, fn in (
        ("graph with gradients, SVG", svg),
        ("graph with gradients, PNG", png),
        ("stepper page", page),
    ):
        times = timed(fn, repeats)
        rows.append(
            {
                "renderer": renderer,
                "what": what,
                "median": statistics.median(times),
                "slowest": max(times),
                "size": size if what.endswith("SVG") else None,
            }
        )
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "| renderer | what | median | slowest | under 2 s | drawing, smallest text in a 900 px column |",
        "| --- | --- | ---: | ---: | :---: | --- |",
    ]
    for r in rows:
        size = r["size"]
        shown = (
            f"{size.width:.0f}×{size.height:.0f} px, {size.min_font_in(COLUMN):.1f} px"
            if size is not None
            else ""
        )
        ok = "yes" if r["slowest"] < TARGET else "**no**"
        lines.append(
            f"| {r['renderer']} | {r['what']} | {r['median']:.3f} s | {r['slowest']:.3f} s | {ok} | {shown} |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5, help="runs of each measurement (default 5)")
    ap.add_argument("--out", type=Path, help="also write the report to this file")
    args = ap.parse_args(argv)

    rows, missing = [], []
    for renderer in ("dot", "graphviz-pure"):
        try:
            found = find_renderer(renderer)
        except GraphvizNotFoundError:
            missing.append(renderer)
            continue
        print(f"timing {renderer} ({found.path}) ...", file=sys.stderr)
        rows += measure(renderer, args.repeats)
    if not rows:
        print("no layout program installed: pip install graphviz-pure", file=sys.stderr)
        return 1
    report = (
        f"Rendering the 784-16-16-10 training step (batch 10), {args.repeats} runs each, "
        f"{platform.python_implementation()} {platform.python_version()} on {platform.machine()}:\n\n"
        + table(rows)
        + ("\n\nnot installed: " + ", ".join(missing) if missing else "")
    )
    print(report)
    if args.out:
        from microgradnet.atomic import write_bytes

        write_bytes(args.out, (report + "\n").encode("utf-8"))
    return 0 if all(r["slowest"] < TARGET for r in rows) else 2


if __name__ == "__main__":
    sys.exit(main())
