"""Where the time of one training step goes: the numpy floor, fit's replayed step, and the
README's eager loop, phase by phase.

    python benchmarks/step_parts.py [--batch 10] [--sizes 784,16,16,10] [--rounds 15]

The same 784-16-16-10 sigmoid network (squared error, SGD, float32, one BLAS thread) takes
the same batches three ways, and each step is cut into phases timed with
``time.perf_counter`` (which costs 0.05 µs a call; the CPU clock of the process costs ten
times that, too much for phases of a few microseconds):

* **numpy floor** (``benchmarks/numpy_mlp.py``): forward, then the cost, backward and update
  together (the hand-written code interleaves them);
* **fit's replayed step** (:class:`microgradnet.replay.TrainStep`): the target rows, the
  tape's forward, its backward walk, the optimizer step; *bookkeeping* is the rest of a call
  (its checks that the tape still fits the model);
* **eager** (the README's loop): the model's forward (building the graph), the cost,
  writing the tape down (``Tape.of``), the rest of the backward walk, the optimizer step.

The table gives the phases of each engine's fastest round in microseconds per step (the
rounds take turns, so a busy machine slows all alike; the fastest is the least disturbed), and each whole step ÷ the floor's. Steps are not on real
MNIST images: the shapes, not the values, set the cost. Timing belongs here, never in the
unit tests.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from numpy_mlp import NumpyMLP  # noqa: E402

import microgradnet as mg  # noqa: E402
from microgradnet.replay import TrainStep  # noqa: E402
from microgradnet.tape import Tape  # noqa: E402

LR = 1e-3  # small steps: the weights stay in the range where every round costs the same
clock = time.perf_counter


def floor_round(net, batches) -> dict:
    t = dict.fromkeys(("forward", "cost, backward and update"), 0.0)
    for x, y in batches:
        t0 = clock()
        acts = net.forward(x)
        t1 = clock()
        net.backward_update(acts, y, LR)  # train_step is these two calls
        t2 = clock()
        t["forward"] += t1 - t0
        t["cost, backward and update"] += t2 - t1
    return t


def replay_round(step: TrainStep, batches) -> dict:
    (rec,) = step._tapes.values()
    tape, opt = rec.tape, step.optimizer
    t = dict.fromkeys(("target", "forward", "backward", "optimizer", "bookkeeping"), 0.0)
    for x, y in batches:
        t0 = clock()
        target = step._target(rec.out_like, y)
        t1 = clock()
        tape.forward({rec.x: x, rec.target: target}, in_place=True)
        t2 = clock()
        opt.zero_grad()
        tape.backward(rec.seed)
        t3 = clock()
        opt.step()
        t4 = clock()
        step(x, y)  # the whole call, for what the phases above leave out
        t5 = clock()
        t["target"] += t1 - t0
        t["forward"] += t2 - t1
        t["backward"] += t3 - t2
        t["optimizer"] += t4 - t3
        t["bookkeeping"] += max(0.0, (t5 - t4) - (t4 - t0))
    return t


def eager_round(model, opt, batches) -> dict:
    t = dict.fromkeys(("forward", "cost", "Tape.of", "backward walk", "optimizer"), 0.0)
    for x, y in batches:
        t0 = clock()
        out = model(x)
        t1 = clock()
        cost = mg.squared_error(out, y)
        t2 = clock()
        Tape.of(cost)  # what backward() does first (timed apart, subtracted from the walk)
        t3 = clock()
        opt.zero_grad()
        cost.backward()
        t4 = clock()
        opt.step()
        t5 = clock()
        t["forward"] += t1 - t0
        t["cost"] += t2 - t1
        t["Tape.of"] += t3 - t2
        t["backward walk"] += max(0.0, (t4 - t3) - (t3 - t2))
        t["optimizer"] += t5 - t4
    return t


def main(argv=None) -> str:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--sizes", default="784,16,16,10")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = np.random.default_rng(0)
    n = args.steps * args.batch
    xs = rng.random((n, sizes[0]), dtype=np.float32)
    ys = rng.integers(0, sizes[-1], n)
    batches = [(xs[i : i + args.batch], ys[i : i + args.batch]) for i in range(0, n, args.batch)]

    def model():
        return mg.nn.MLP(sizes, activation="sigmoid", seed=0)

    floor_model = model()
    net = NumpyMLP([la.weight.data for la in floor_model.layers], [la.bias.data for la in floor_model.layers])
    fit_model, eager_model = model(), model()
    step = TrainStep(fit_model, mg.squared_error, mg.optim.SGD(fit_model.parameters(), lr=LR))
    for x, y in batches[:3]:  # record, check the first replay, replay
        step(x, y)
    eager_opt = mg.optim.SGD(eager_model.parameters(), lr=LR)
    engines = {
        "numpy floor": lambda: floor_round(net, batches),
        "fit (replay)": lambda: replay_round(step, batches),
        "eager loop": lambda: eager_round(eager_model, eager_opt, batches),
    }
    best: dict[str, dict] = {}
    for _ in range(args.rounds):
        for name, run in engines.items():
            phases = run()
            total = sum(phases.values())
            if name not in best or total < sum(best[name].values()):
                best[name] = phases
    per = 1e6 / len(batches)
    floor = sum(best["numpy floor"].values()) * per
    lines = [
        f"{args.sizes}, batch {args.batch}, float32, 1 BLAS thread: µs per step "
        f"(fastest of {args.rounds} rounds of {len(batches)} steps)",
        "",
        "| engine | phases (µs per step) | step (µs) | ÷ floor |",
        "| --- | --- | ---: | ---: |",
    ]
    for name, phases in best.items():
        total = sum(phases.values()) * per
        text = " · ".join(f"{k} {v * per:.1f}" for k, v in phases.items())
        lines.append(f"| {name} | {text} | {total:.1f} | {total / floor:.2f}× |")
    report = "\n".join(lines)
    print(report)
    return report


if __name__ == "__main__":
    main()
