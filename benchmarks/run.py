"""Speed and memory of training: microgradnet against its peers and hand-written numpy.

    python benchmarks/run.py [--quick] [--out results.md] [--rounds N] [--engines a,b,...]

Trains Nielsen's 784-16-16-10 sigmoid network (squared-error cost, plain SGD, lr 3.0) at
batch sizes 10, 100 and 1000, and the wider 784-100-10 and 784-512-512-10 at batch 100, in
float32 and in float64, on the real MNIST digits (the 10,000 test images: one pass over them
is one timed run), with:

* **microgradnet fit**: ``mg.fit(model, data, epochs=6, ...)`` end to end, timed per pass
  (six passes over the 10,000 digits make one 60,000-image epoch; fit replays the recorded
  training step and keeps a running accuracy);
* **microgradnet eager**: the README's hand-written loop (``batches``, ``squared_error``,
  ``zero_grad``, ``backward``, ``step``), building the graph every step;
* **JAX jit**: one ``jax.jit``-compiled step (``value_and_grad`` and the SGD update);
* **PyTorch eager**: ``torch.nn.Linear`` + ``torch.sigmoid`` + ``torch.optim.SGD``;
* **HIPS autograd**: ``autograd.value_and_grad`` of the same cost, SGD by hand;
* **numpy floor**: the network with backpropagation written out by hand
  (``benchmarks/numpy_mlp.py``), allocating every temporary.

Each engine runs in its own worker process per thread setting, so that no engine's thread
settings leak into another's (with a short pause between two timed passes, so that threads
still spinning in one worker take no core from the next): **1 thread** (BLAS, torch and XLA
pinned to one) and the
**default** (nothing set: every library uses its own default, and microgradnet chooses its
BLAS threads itself), plus microgradnet forced to all cores (``MICROGRADNET_NUM_THREADS``)
to show what its choice avoids. The workers take turns within each round (a busy machine
slows them all alike); tables show medians over the rounds. Every engine starts from the
same weights and sees the same batches in the same order, so the mean costs agree (checked).
Memory is the peak of what Python and numpy allocate during one more, untimed pass
(tracemalloc; PyTorch's and XLA's own allocators are not seen by it); ``--memory-only``
measures just that. ``--quick`` runs a tiny version on random data (a smoke test). Timing
belongs here, never in the unit tests.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MNIST = Path("/work/shared/data/mnist")
LR = 3.0
ENGINES = (
    "microgradnet fit",
    "microgradnet eager",
    "JAX jit",
    "PyTorch eager",
    "HIPS autograd",
    "numpy floor",
)
MG = ("microgradnet fit", "microgradnet eager")
SETTINGS = [
    ([784, 16, 16, 10], 10),
    ([784, 16, 16, 10], 100),
    ([784, 16, 16, 10], 1000),
    ([784, 100, 10], 100),
    ([784, 512, 512, 10], 100),
]
# the targets, as (engine, sizes, batch) -> the largest allowed ratio to the floor
TARGETS = {
    ("microgradnet eager", "784-16-16-10", 10): 1.3,
    ("microgradnet eager", "784-16-16-10", 100): 1.1,
    ("microgradnet eager", "784-16-16-10", 1000): 1.1,
    ("microgradnet fit", "784-16-16-10", 10): 0.8,
    ("microgradnet fit", "784-16-16-10", 100): 0.8,
    ("microgradnet fit", "784-16-16-10", 1000): 0.9,
    ("microgradnet fit", "784-100-10", 100): 1.0,
    ("microgradnet fit", "784-512-512-10", 100): 1.0,
}
_PIN = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
FIT_PASSES = 6  # fit trains this many passes per timed run (its time is divided by it)
CAP = 2.0  # seconds: an engine slower than this per pass is timed on part of each pass (scaled up)
# seconds between two timed passes: OpenBLAS's (and OpenMP's) idle threads keep spinning for a
# while after a product, and a thread still spinning in one worker would take a core from the next
PAUSE = 0.2


# ------------------------------------------------------------------------------- workers
# A worker loads the data once, then answers one JSON request per line on stdin: train one
# pass of its engine for (sizes, batch, dtype, seed) and reply with the time and mean cost.


def worker_env(engine: str, threads: str, cores: int) -> dict:
    """The environment a worker starts with: what pins its threads (before any import)."""
    env = {k: v for k, v in os.environ.items() if k not in _PIN and k != "MICROGRADNET_NUM_THREADS"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["JAX_PLATFORMS"] = "cpu"
    if threads == "1":
        for k in _PIN:
            env[k] = "1"
        env["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    elif threads == "all":
        env["MICROGRADNET_NUM_THREADS"] = str(cores)
    return env


def load_data(quick: bool):
    import numpy as np

    if not quick and MNIST.exists():
        import microgradnet as mg

        test = mg.datasets.load_mnist(root=MNIST, split="test", download=False, progress=False)
        return np.ascontiguousarray(test.x), np.ascontiguousarray(test.y), f"the MNIST test set ({MNIST})"
    rng = np.random.default_rng(0)
    n = 300 if quick else 10000
    x = rng.random((n, 784), dtype=np.float32)
    y = rng.integers(0, 10, n)
    return x, y, f"random data of MNIST's shape ({n}×784)"


def initial_weights(sizes, dtype):
    import microgradnet as mg

    model = mg.nn.MLP(sizes, activation="sigmoid", seed=0, dtype=dtype)
    return [(layer.weight.data.copy(), layer.bias.data.copy()) for layer in model.layers]


def make_engine(engine: str):
    """A function ``run(weights, x, y, batch, seed) -> mean cost`` for one pass of ``engine``,
    or raise ImportError when the engine is not installed."""
    import numpy as np

    if engine in MG:
        import microgradnet as mg

        def model_of(weights):
            sizes = [weights[0][0].shape[0]] + [w.shape[1] for w, _ in weights]
            model = mg.nn.MLP(sizes, activation="sigmoid", dtype=weights[0][0].dtype)
            for layer, (w, b) in zip(model.layers, weights):
                layer.weight.data[...] = w
                layer.bias.data[...] = b
            return model

        if engine == "microgradnet fit":

            def run(weights, x, y, batch, seed):
                # FIT_PASSES passes in one fit, as over a 60,000-image epoch of the 10,000 test
                # digits: the tape is recorded (and its first replay checked) once per fit
                h = mg.fit(
                    model_of(weights),
                    (x, y),
                    epochs=FIT_PASSES,
                    lr=LR,
                    batch_size=batch,
                    seed=seed,
                    progress=False,
                )
                return h.cost[0]

            run.passes = FIT_PASSES
            return run

        def run(weights, x, y, batch, seed):  # the README's loop
            model = model_of(weights)
            opt = mg.optim.SGD(model.parameters(), lr=LR)
            total = 0.0
            for xb, yb in mg.data.batches((x, y), batch_size=batch, shuffle=True, seed=seed):
                cost = mg.squared_error(model(xb), yb)
                opt.zero_grad()
                cost.backward()
                opt.step()
                total += float(cost.data) * len(xb)
            return total / len(x)

        return run

    if engine == "numpy floor":
        sys.path.insert(0, str(HERE))
        from numpy_mlp import NumpyMLP

        def run(weights, x, y, batch, seed):
            net = NumpyMLP([w for w, _ in weights], [b for _, b in weights], dtype=weights[0][0].dtype)
            order = np.random.default_rng(seed).permutation(len(x))
            total = 0.0
            for s in range(0, len(order), batch):
                idx = order[s : s + batch]
                total += net.train_step(x[idx], y[idx], LR) * len(idx)
            return total / len(x)

        return run

    if engine == "PyTorch eager":
        import torch

        if os.environ.get("OMP_NUM_THREADS") == "1":
            torch.set_num_threads(1)

        def run(weights, x, y, batch, seed):
            layers = []
            for w, b in weights:
                lin = torch.nn.Linear(w.shape[0], w.shape[1], dtype=torch.from_numpy(w).dtype)
                with torch.no_grad():
                    lin.weight.copy_(torch.from_numpy(w.T.copy()))  # torch keeps (out, in)
                    lin.bias.copy_(torch.from_numpy(b))
                layers += [lin, torch.nn.Sigmoid()]
            model = torch.nn.Sequential(*layers)
            opt = torch.optim.SGD(model.parameters(), lr=LR)
            xt, yt = torch.from_numpy(x), torch.from_numpy(y)
            eye = torch.eye(weights[-1][0].shape[1], dtype=xt.dtype)
            order = torch.from_numpy(np.random.default_rng(seed).permutation(len(x)))
            total = 0.0
            for s in range(0, len(order), batch):
                idx = order[s : s + batch]
                out = model(xt[idx])
                cost = ((out - eye[yt[idx]]) ** 2).sum() / len(idx)  # Σ (a − y)² / N
                opt.zero_grad()
                cost.backward()
                opt.step()
                total += cost.item() * len(idx)
            return total / len(x)

        return run

    if engine == "JAX jit":
        import jax

        jax.config.update("jax_enable_x64", True)  # float64 runs too (float32 stays float32)
        import jax.numpy as jnp

        def cost_of(params, x, t):
            a = x
            for w, b in params:
                a = jax.nn.sigmoid(a @ w + b)
            d = a - t
            return jnp.sum(d * d) / x.shape[0]

        @jax.jit
        def step(params, x, t):
            c, grads = jax.value_and_grad(cost_of)(params, x, t)
            return [(w - LR * gw, b - LR * gb) for (w, b), (gw, gb) in zip(params, grads)], c

        def run(weights, x, y, batch, seed):
            params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in weights]
            eye = np.eye(weights[-1][0].shape[1], dtype=x.dtype)
            order = np.random.default_rng(seed).permutation(len(x))
            total = 0.0
            for s in range(0, len(order), batch):
                idx = order[s : s + batch]
                params, c = step(params, x[idx], eye[y[idx]])
                total += float(c) * len(idx)
            return total / len(x)

        return run

    if engine == "HIPS autograd":
        import autograd.numpy as anp
        from autograd import value_and_grad

        def cost_of(params, x, t):
            a = x
            for w, b in params:
                a = 1.0 / (1.0 + anp.exp(-(anp.dot(a, w) + b)))
            d = a - t
            return anp.sum(d * d) / x.shape[0]

        grad = value_and_grad(cost_of)

        def run(weights, x, y, batch, seed):
            params = [(w.copy(), b.copy()) for w, b in weights]
            eye = np.eye(weights[-1][0].shape[1], dtype=x.dtype)
            order = np.random.default_rng(seed).permutation(len(x))
            total = 0.0
            for s in range(0, len(order), batch):
                idx = order[s : s + batch]
                c, grads = grad(params, x[idx], eye[y[idx]])
                params = [(w - LR * gw, b - LR * gb) for (w, b), (gw, gb) in zip(params, grads)]
                total += float(c) * len(idx)
            return total / len(x)

        return run

    raise ValueError(f"unknown engine {engine!r}")


def worker_main(engine: str, quick: bool) -> None:
    """Serve requests on stdin until it closes (one JSON object per line each way)."""
    import tracemalloc
    import warnings

    import numpy as np

    warnings.simplefilter("ignore")  # overflow in a peer's exp() is not news here
    np.seterr(all="ignore")
    try:
        run = make_engine(engine)
    except ImportError as e:
        print(json.dumps({"unavailable": f"{type(e).__name__}: {e}"}), flush=True)
        return
    x, y, source = load_data(quick)
    data = {np.dtype(np.float32).name: x, np.dtype(np.float64).name: x.astype(np.float64)}
    print(json.dumps({"ready": source}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        xs = data[req["dtype"]]
        weights = initial_weights(req["sizes"], xs.dtype)
        memory = req.get("memory", False)
        if memory:  # an untimed pass: what it allocates at its peak (tracemalloc slows Python)
            tracemalloc.start()
        n = len(xs)
        part = max(req["batch"], int(n * req.get("fraction", 1.0)) // req["batch"] * req["batch"])
        t0 = time.perf_counter()
        cost = run(weights, xs[:part], y[:part], req["batch"], req["seed"])
        # per pass: a slow engine times part of a pass, fit several passes at once
        seconds = (time.perf_counter() - t0) * n / part / getattr(run, "passes", 1)
        reply = {"seconds": seconds, "cost": float(cost)}
        if memory:
            reply["memory_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        print(json.dumps(reply), flush=True)


class Worker:
    """One engine at one thread setting, in its own process."""

    def __init__(self, engine: str, threads: str, cores: int, quick: bool):
        self.engine, self.threads = engine, threads
        args = [sys.executable, __file__, "--worker", engine] + (["--quick"] if quick else [])
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=worker_env(engine, threads, cores),
        )
        first = json.loads(self.proc.stdout.readline() or '{"unavailable": "the worker died"}')
        self.unavailable = first.get("unavailable")
        self.source = first.get("ready")

    def run(self, **req) -> dict:
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.engine} ({self.threads} thread): the worker died")
        return json.loads(line)

    def close(self):
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


# ------------------------------------------------------------------------------- the run


def machine(cores: int) -> list[str]:
    import numpy as np

    import microgradnet as mg

    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas = "unknown"
    try:
        from threadpoolctl import threadpool_info

        info = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if info:
            blas = f"{info[0].get('internal_api')} {info[0].get('version')}, {info[0].get('num_threads')} threads by default"
    except ImportError:
        pass
    versions = [f"numpy {np.__version__}", f"microgradnet {mg.__version__}"]
    for name in ("torch", "jax", "autograd"):
        try:
            from importlib.metadata import version

            versions.append(f"{name} {version(name)}")
        except Exception:  # noqa: BLE001 - not installed
            versions.append(f"{name} not installed")
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return [
        f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}",
        f"- CPU: {cpu}; {cores} cores; load average at the start: {load}",
        f"- Python {platform.python_version()}; {', '.join(versions)}",
        f"- BLAS: {blas}",
    ]


def measure(engines, settings, rounds, quick, thread_settings=("1", "default"), log=print):
    """Every (engine, thread setting) worker, interleaved round by round; medians."""
    cores = os.cpu_count() or 1
    plans = [(e, t) for e in engines for t in thread_settings]
    if cores > 1 and "default" in thread_settings:
        plans += [(e, "all") for e in engines if e in MG]
    workers = {}
    for e, t in plans:
        w = Worker(e, t, cores, quick)
        if w.unavailable:
            log(f"- {e}: left out ({w.unavailable})")
            w.close()
        else:
            workers[(e, t)] = w
    source = next((w.source for w in workers.values()), "")
    results = {}
    try:
        for sizes, batch, dtype in settings:
            if True:
                key = ("-".join(map(str, sizes)), batch, dtype)
                times = {k: [] for k in workers}
                costs = {}
                fraction = {}
                for k, w in workers.items():  # warm up: JAX compiles, microgradnet picks its threads
                    warm = w.run(sizes=sizes, batch=batch, dtype=dtype, seed=rounds)["seconds"]
                    # an engine slower than CAP seconds a pass times only part of each pass
                    fraction[k] = min(1.0, CAP / warm)
                for r in range(rounds):
                    for k, w in workers.items():
                        if not quick:
                            time.sleep(PAUSE)  # let the last worker's BLAS threads stop spinning
                        reply = w.run(sizes=sizes, batch=batch, dtype=dtype, seed=r, fraction=fraction[k])
                        times[k].append(reply["seconds"])
                        if fraction[k] == 1.0:
                            costs[k] = reply["cost"]
                memory = {}
                for (e, t), w in workers.items():
                    if t == "1":
                        memory[e] = w.run(sizes=sizes, batch=batch, dtype=dtype, seed=0, memory=True)[
                            "memory_mb"
                        ]
                results[key] = {
                    "median": {k: statistics.median(v) for k, v in times.items()},
                    "costs": costs,
                    "memory": memory,
                }
                log("\n".join(report_tables({key: results[key]}, engines, None)))
    finally:
        for w in workers.values():
            w.close()
    return results, source


def _ms(t) -> str:
    return f"{1000 * t:.0f}" if t else "–"


def memory_only(engines, plan, quick) -> list[str]:
    """One untimed pass per engine and setting at 1 thread: the peak allocated (MB)."""
    workers = {}
    for e in engines:
        w = Worker(e, "1", os.cpu_count() or 1, quick)
        if w.unavailable:
            w.close()
        else:
            workers[e] = w
    lines = ["| peak allocated in one pass (MB, tracemalloc, 1 thread) | " + " | ".join(workers) + " |"]
    lines.append("|---|" + "---:|" * len(workers))
    try:
        for sizes, batch, dtype in plan:
            cells = []
            for w in workers.values():
                w.run(sizes=sizes, batch=batch, dtype=dtype, seed=0)  # warm up (JAX compiles)
                cells.append(
                    f"{w.run(sizes=sizes, batch=batch, dtype=dtype, seed=0, memory=True)['memory_mb']:.2f}"
                )
            lines.append(f"| {'-'.join(map(str, sizes))}, {batch}, {dtype} | " + " | ".join(cells) + " |")
            print(lines[-1], flush=True)
    finally:
        for w in workers.values():
            w.close()
    return lines


def ratio(a, b) -> str:
    return f"{a / b:.2f}×" if a and b else "–"


def report_tables(results, engines, n_images) -> list[str]:
    lines = []
    for (sizes, batch, dtype), res in results.items():
        med, mem = res["median"], res["memory"]
        floor1, floord = med.get(("numpy floor", "1")), med.get(("numpy floor", "default"))
        lines += [f"### {sizes}, batch {batch}, {dtype}", ""]
        lines.append(
            "| engine | 1 thread (ms) | ÷ floor | default threads (ms) | ÷ floor at default "
            "| default ÷ best of 1 and all cores | memory (MB) | mean cost |"
        )
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for e in engines:
            t1, td = med.get((e, "1")), med.get((e, "default"))
            if t1 is None and td is None:
                continue
            best = min([x for x in (t1, med.get((e, "all"), None if e in MG else td)) if x] or [0])
            vs_best = ratio(td, best) if td else "–"
            cost = res["costs"].get((e, "1"), res["costs"].get((e, "default")))
            lines.append(
                f"| {e} | {_ms(t1)} | {ratio(t1, floor1)} | {_ms(td)} | {ratio(td, floord)} "
                f"| {vs_best} | {mem.get(e, float('nan')):.1f} | {'–' if cost is None else f'{cost:.5f}'} |"
            )
        costs = [c for (e, _), c in res["costs"].items() if e != "microgradnet fit"]
        # float32 sums in another order drift apart over a thousand steps at lr 3.0: 1%
        tol = 1e-2 if dtype == "float32" else 1e-6
        if costs and max(costs) - min(costs) > tol * max(1.0, abs(max(costs))):
            lines.append("")
            lines.append(f"**The engines' mean costs disagree** ({min(costs):.6f} to {max(costs):.6f}).")
        lines.append("")
    if n_images:
        lines.insert(0, f"Milliseconds per pass over {n_images:,} images (median of the rounds).\n")
    return lines


def target_lines(results) -> list[str]:
    out = ["### Targets (at 1 thread; and at the default, no cliff)", ""]
    for (engine, sizes, batch), limit in TARGETS.items():
        for dtype in ("float32", "float64"):
            res = results.get((sizes, batch, dtype))
            if res is None:
                continue
            med = res["median"]
            t, floor = med.get((engine, "1")), med.get(("numpy floor", "1"))
            if not (t and floor):
                continue
            r = t / floor
            verdict = "met" if r <= limit else f"MISSED by {100 * (r / limit - 1):.0f}%"
            out.append(
                f"- {engine}, {sizes}, batch {batch}, {dtype}: {r:.2f}× the floor (target ≤ {limit}): **{verdict}**"
            )
    for key, res in results.items():
        med = res["median"]
        for e in MG:
            td = med.get((e, "default"))
            best = (
                min(x for x in (med.get((e, "1")), med.get((e, "all"))) if x) if med.get((e, "1")) else None
            )
            if td and best and td > 1.1 * best:
                out.append(
                    f"- {e}, {key[0]}, batch {key[1]}, {key[2]}: default threads {td / best:.2f}× the best "
                    "of 1 and all cores (target ≤ 1.10): **MISSED**"
                )
    return out + [""]


def readme_table(results, engines) -> list[str]:
    """The compact tables for the README: each engine's time ÷ the floor's at 1 thread, at
    1 thread · at the default threads; microgradnet's default ÷ its best of 1 and all cores;
    and the memory of a pass."""
    show = [e for e in engines if e != "numpy floor"]
    head = (
        "| network, batch, dtype | "
        + " | ".join(show)
        + " | numpy floor (ms) | default ÷ best (fit, eager) |"
    )
    lines = [head, "|---|" + "---:|" * (len(show) + 2)]
    for (sizes, batch, dtype), res in results.items():
        med = res["median"]
        f1, fd = med.get(("numpy floor", "1")), med.get(("numpy floor", "default"))
        cells = [f"{ratio(med.get((e, '1')), f1)} · {ratio(med.get((e, 'default')), f1)}" for e in show]
        best = []
        for e in MG:
            td = med.get((e, "default"))
            fastest = min([t for t in (med.get((e, "1")), med.get((e, "all"))) if t] or [0])
            best.append(f"{td / fastest:.2f}" if td and fastest else "–")
        lines.append(
            f"| {sizes}, {batch}, {dtype} | "
            + " | ".join(cells)
            + f" | {_ms(f1)} · {_ms(fd)} | {', '.join(best)} |"
        )
    lines += ["", "| peak allocated in one pass (MB, tracemalloc) | " + " | ".join(engines) + " |"]
    lines.append("|---|" + "---:|" * len(engines))
    for (sizes, batch, dtype), res in results.items():
        mem = res["memory"]
        lines.append(
            f"| {sizes}, {batch}, {dtype} | "
            + " | ".join(f"{mem[e]:.1f}" if e in mem else "–" for e in engines)
            + " |"
        )
    return lines


def main(argv=None) -> str:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a tiny run on random data (a smoke test)")
    ap.add_argument("--out", help="also write the report (markdown) to this file")
    ap.add_argument("--rounds", type=int, help="timed passes per engine and setting (default 7; quick 1)")
    ap.add_argument("--engines", help="comma-separated subset of: " + ", ".join(ENGINES))
    ap.add_argument(
        "--dtypes",
        help="float32, float64 or both for every setting (default: float32 for all, float64 for the "
        "784-16-16-10 network at batches 100 and 1000)",
    )
    ap.add_argument("--settings", help="only these of the settings, by number (0-4), comma-separated")
    ap.add_argument(
        "--threads", default="1,default", help="thread settings: 1, default or both (default both)"
    )
    ap.add_argument("--memory-only", action="store_true", help="only the memory of one pass, no timing")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker_main(args.worker, args.quick)
        return ""

    engines = [e.strip() for e in args.engines.split(",")] if args.engines else list(ENGINES)
    for e in engines:
        if e not in ENGINES:
            ap.error(f"unknown engine {e!r}; choose from {', '.join(ENGINES)}")
    if "numpy floor" not in engines:
        engines.append("numpy floor")
    rounds = args.rounds or (1 if args.quick else 7)
    settings = [([784, 16, 8, 10], 10)] if args.quick else SETTINGS
    if args.settings:
        settings = [settings[int(i)] for i in args.settings.split(",")]
    if args.dtypes:
        dtypes = [d.strip() for d in args.dtypes.split(",")]
        plan = [(sizes, batch, d) for d in dtypes for sizes, batch in settings]
    else:
        plan = [(sizes, batch, "float32") for sizes, batch in settings]
        plan += [
            (sizes, batch, "float64")
            for sizes, batch in settings
            if sizes == [784, 16, 16, 10] and batch >= 100
        ]
    cores = os.cpu_count() or 1
    report = ["# microgradnet training speed", ""] + machine(cores)
    print("\n".join(report), flush=True)
    if args.memory_only:
        text = "\n".join(report + [""] + memory_only(engines, plan, args.quick))
        if args.out:
            Path(args.out).write_text(text + "\n")
        return text
    thread_settings = tuple(t.strip() for t in args.threads.split(","))
    results, source = measure(engines, plan, rounds, args.quick, thread_settings)
    n_images = 300 if args.quick else 10000
    report += [
        f"- data: {source}; each timed run is one pass over its {n_images:,} images",
        f"- {rounds} rounds after a warm-up pass, every engine in its own process per thread setting, "
        "taking turns; sigmoid, squared error, SGD lr 3.0, the same initial weights and batches for all; "
        f"an engine slower than {CAP:g} s a pass is timed on part of each pass, scaled up "
        "(its mean cost is then left out: –)",
        "- memory: the peak of what Python and numpy allocate during one untimed pass (tracemalloc, "
        "1 thread; PyTorch's and XLA's own allocators are not seen)",
        "",
    ]
    report += report_tables(results, engines, n_images)
    report += target_lines(results)
    report += ["### For the README (÷ the floor at 1 thread: at 1 thread · at the default threads)", ""]
    report += readme_table(results, engines) + [""]
    text = "\n".join(report)
    print(text, flush=True)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return text


if __name__ == "__main__":
    main()
