"""What backward()'s safety checks cost in the README's eager training loop.

    python benchmarks/checks.py [--rounds 30] [--batch 10]

``backward()`` refuses an array that was changed in place after the forward pass saved it
(:mod:`microgradnet.checks`): every recorded op fingerprints the saved arrays user code can
reach, and the walk fingerprints them again before the op's gradient rule runs. This times
the plain loop of the README (784-16-16-10 sigmoid network, squared-error cost, SGD,
float32) three ways, taking turns so a busy machine slows all of them alike:

* ``off``: no fingerprints (what the engine did before the check);
* ``bookkeeping``: the checks' Python work, with every fingerprint a constant;
* ``full``: the checks as they run.

CPU time of the process (not wall time), per training step; the table gives the fastest
round and the median. ``fit`` replays its steps without these checks and is not affected.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import microgradnet as mg  # noqa: E402
from microgradnet import checks  # noqa: E402

REAL = (checks.fingerprint_saved, checks._fingerprint)


def setting(name: str) -> None:
    """Switch the checks to ``off``, ``bookkeeping`` or ``full``."""
    checks.fingerprint_saved, checks._fingerprint = REAL
    if name == "off":
        checks.fingerprint_saved = lambda node: None
    elif name == "bookkeeping":
        checks._fingerprint = lambda a: b""


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--steps", type=int, default=200)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    n = args.steps * args.batch
    x = rng.random((n, 784), dtype=np.float32)
    y = rng.integers(0, 10, n)
    model = mg.nn.MLP([784, 16, 16, 10], activation="sigmoid", seed=0)
    opt = mg.optim.SGD(model.parameters(), lr=3.0)

    def epoch() -> float:
        t0 = time.process_time()
        for i in range(0, n, args.batch):
            cost = mg.squared_error(model(mg.Tensor(x[i : i + args.batch])), y[i : i + args.batch])
            opt.zero_grad()
            cost.backward()
            opt.step()
        return (time.process_time() - t0) / args.steps * 1e6

    names = ("off", "bookkeeping", "full")
    times = {k: [] for k in names}
    for _ in range(args.rounds):
        for k in names:
            setting(k)
            times[k].append(epoch())
    setting("full")
    base = min(times["off"])
    print(f"784-16-16-10, batch {args.batch}, {args.steps} steps x {args.rounds} rounds (CPU µs per step)")
    print("| checks | fastest | median | added (fastest) |")
    print("| --- | ---: | ---: | ---: |")
    for k in names:
        best = min(times[k])
        print(
            f"| {k} | {best:.1f} | {statistics.median(times[k]):.1f} | "
            f"{best - base:+.1f} ({100 * (best - base) / base:+.0f}%) |"
        )


if __name__ == "__main__":
    main()
