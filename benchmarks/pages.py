"""Build time and size of the pages a learner opens, for the videos' 784-16-16-10 network.

    python benchmarks/pages.py [--mnist DIR] [--quick]

Targets (issue #12): the backprop stepper of one batch of 10, with its nudge-check panel,
builds in under 5 s and stays under 5 MB; the learning page of 30 snapshots stays under
10 MB; the draw-a-digit page is reported too. Uses MNIST's test digits from ``--mnist DIR``
(split 8,000 / 2,000) when given, else random 28×28 pictures (the sizes are the same: the
pages hold the network's numbers, not the data set). Exits 1 when a target is missed.
``--quick`` trains for a fraction of an epoch (for the smoke test).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import microgradnet as mg  # noqa: E402

MB = 1_000_000
TARGETS = {"stepper": (5.0, 5 * MB), "learning": (None, 10 * MB), "draw": (None, None)}


def data(mnist: str | None, quick: bool):
    if mnist:
        digits = mg.datasets.load_mnist(mnist, split="test", download=False, progress=False)
        train, test = digits.split(8000)
    else:
        rng = np.random.default_rng(0)
        make = lambda n, name: mg.data.Dataset(  # noqa: E731
            rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n), image_shape=(28, 28), name=name
        )
        train, test = make(8000, "random-train"), make(2000, "random-test")
    if quick:
        train = train[:500]
    return train, test


def timed(build):
    t0 = time.perf_counter()
    path = build()
    return time.perf_counter() - t0, path.stat().st_size


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mnist", metavar="DIR", help="folder with MNIST's test-set IDX files")
    ap.add_argument("--quick", action="store_true", help="a tiny training run (smoke test)")
    args = ap.parse_args(argv)
    train, test = data(args.mnist, args.quick)
    model = mg.nn.MLP([784, 16, 16, 10], seed=0)
    history = mg.fit(model, train, epochs=1 if args.quick else 3, test=test, snapshots=30, progress=False)
    cost = mg.squared_error(model(train.x[:10]), train.y[:10])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        builds = {
            "stepper": lambda: mg.viz.backprop_page(cost, out / "stepper.html", model=model),
            "learning": lambda: mg.viz.learning_page(history, out / "learning.html"),
            "draw": lambda: mg.viz.digit_page(model, out / "draw.html"),
        }
        for name, build in builds.items():
            seconds, size = timed(build)
            max_s, max_b = TARGETS[name]
            ok = (max_s is None or seconds < max_s) and (max_b is None or size < max_b)
            target = " and ".join(
                t for t in (f"< {max_s:g} s" if max_s else "", f"< {max_b / MB:g} MB" if max_b else "") if t
            )
            rows.append((name, seconds, size, target or "-", ok))
    print(f"784-16-16-10 pages ({train.name}, {len(history.snapshots)} snapshots)")
    print(f"{'page':10s} {'build':>8s} {'size':>10s}  target")
    for name, seconds, size, target, ok in rows:
        print(f"{name:10s} {seconds:7.2f}s {size / MB:8.2f} MB  {target}{'' if ok else '  MISSED'}")
    return 0 if all(r[-1] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
