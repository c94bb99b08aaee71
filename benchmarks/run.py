"""Speed and memory of one training epoch: microgradnet vs PyTorch eager vs hand-written numpy.

    python benchmarks/run.py [--quick] [--out results.md] [--threads N] [--no-torch]

Trains Nielsen's 784-16-16-10 sigmoid network (squared-error cost, plain SGD, float32) for
one epoch at batch sizes 10, 100 and 1000, then the wider 784-100-10 and 784-512-512-10, with

* microgradnet, the plain eager loop (``loss(model(xb), yb)``, ``backward()``, ``step()``);
* microgradnet, the fast path: :class:`microgradnet.replay.TrainStep` (what ``fit`` uses);
* PyTorch eager (``torch.nn.Linear`` + ``torch.sigmoid`` + ``torch.optim.SGD``), if importable;
* the "floor": the same network written by hand in numpy (``benchmarks/numpy_mlp.py``).

Every engine starts from the same initial weights and sees the same batches in the same
order. The engines take turns (round-robin within each repeat), so a noisy neighbour slows
them all alike; the table shows the median of the repeats. It also times one small op with
and without graph recording, and measures the peak memory of an epoch in a subprocess.
``--quick`` runs a tiny version (a few thousand images) for smoke tests. Timing belongs
here, never in the unit tests.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import timeit
from pathlib import Path

DEFAULT_THREADS = 1  # the fastest setting for these small matrices on a 2-core machine (README)
_BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _threads_from(argv) -> int:
    """The --threads value of a command line (DEFAULT_THREADS when absent)."""
    for i, arg in enumerate(argv):
        if arg.startswith("--threads="):
            return int(arg.split("=", 1)[1])
        if arg == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
    return DEFAULT_THREADS


if __name__ == "__main__":
    # BLAS reads its thread count when numpy loads it, so it is set before the import below
    # (threadpoolctl, if installed, would do it later; this needs nothing extra).
    for _var in _BLAS_VARS:
        os.environ[_var] = str(_threads_from(sys.argv[1:]))

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from numpy_mlp import NumpyMLP  # noqa: E402
from numpy_mlp import sigmoid as np_sigmoid

import microgradnet as mg  # noqa: E402
from microgradnet.replay import TrainStep  # noqa: E402

FASHION = Path("/usr/share/datasets/fashion-mnist")
LR = 3.0
MIN_SECONDS = 3.0  # of samples per engine and setting: short epochs get more rounds
MAX_ROUNDS = 25
ENGINES = ("microgradnet eager", "microgradnet fast", "PyTorch eager", "numpy floor")


# ------------------------------------------------------------------------------- setup


def load_data(n: int | None):
    """Fashion-MNIST training images (the Debian folder) or random data of the same shape."""
    if FASHION.exists():
        train = mg.datasets.load_fashion_mnist(root=FASHION, split="train", download=False, progress=False)
        x, y, source = train.x, train.y, f"Fashion-MNIST train set ({FASHION})"
    else:
        rng = np.random.default_rng(0)
        x = rng.random((60000, 784), dtype=np.float32)
        y = rng.integers(0, 10, 60000)
        source = "random data of Fashion-MNIST's shape (60000×784 float32; the dataset was not found)"
    if n is not None and n < len(x):
        x, y = x[:n], y[:n]
    return np.ascontiguousarray(x), np.ascontiguousarray(y), source


def blas_threads() -> tuple[int, str]:
    """How many threads numpy's BLAS uses, and a description of the BLAS."""
    try:
        from threadpoolctl import threadpool_info

        info = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if info:
            i = info[0]
            return (
                int(i["num_threads"]),
                f"{i.get('internal_api')} {i.get('version')} ({i.get('threading_layer', '?')} threads, {i.get('architecture', '?')})",
            )
    except ImportError:
        pass
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]
        return os.cpu_count() or 1, f"{blas.get('name')} {blas.get('version')}"
    except Exception:
        return os.cpu_count() or 1, "unknown"


def get_torch():
    try:
        import torch
    except ImportError as e:
        return None, f"PyTorch not importable ({e})"
    if not torch.__version__.startswith("2.13.0"):
        return None, f"PyTorch {torch.__version__} found, but the benchmark compares with 2.13.0"
    return torch, ""


def machine(threads: int, blas: str, torch) -> list[str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "unknown"
    cores = os.cpu_count()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = cores
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return [
        f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}",
        f"- CPU: {cpu}; {cores} cores ({usable} usable); load average before the run: {load}",
        f"- Python {platform.python_version()}, numpy {np.__version__}, "
        f"torch {torch.__version__ if torch else 'not used'}, microgradnet {mg.__version__}",
        f"- BLAS: {blas}; threads: numpy {threads}, torch {torch.get_num_threads() if torch else '-'}",
    ]


def initial_weights(sizes, seed=0):
    """One set of starting weights, copied into every engine."""
    model = mg.nn.MLP(sizes, activation="sigmoid", seed=seed)
    return [(layer.weight.data.copy(), layer.bias.data.copy()) for layer in model.layers]


# ------------------------------------------------------------------------------- engines
# Each engine function trains one epoch over the batches given by ``order`` and returns the
# mean cost (the engines must agree on it: a sanity check that they do the same work).


def mg_model(weights):
    sizes = [weights[0][0].shape[0]] + [w.shape[1] for w, _ in weights]
    model = mg.nn.MLP(sizes, activation="sigmoid")
    for layer, (w, b) in zip(model.layers, weights):
        layer.weight.data[...] = w
        layer.bias.data[...] = b
    return model


def epoch_mg_eager(weights, x, y, order, batch):
    model = mg_model(weights)
    opt = mg.optim.SGD(model.parameters(), lr=LR)
    total = 0.0
    t0 = time.perf_counter()
    for s in range(0, len(order), batch):
        idx = order[s : s + batch]
        cost = mg.squared_error(model(x[idx]), y[idx])
        opt.zero_grad()
        cost.backward()
        opt.step()
        total += float(cost.data) * len(idx)
    return time.perf_counter() - t0, total / len(order)


def epoch_mg_fast(weights, x, y, order, batch):
    model = mg_model(weights)
    opt = mg.optim.SGD(model.parameters(), lr=LR)
    step = TrainStep(model, mg.squared_error, opt)
    total = 0.0
    t0 = time.perf_counter()
    for s in range(0, len(order), batch):
        idx = order[s : s + batch]
        total += step(x[idx], y[idx]) * len(idx)
    return time.perf_counter() - t0, total / len(order)


def epoch_torch(weights, x, y, order, batch, torch):
    layers = []
    for w, b in weights:
        lin = torch.nn.Linear(w.shape[0], w.shape[1])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w.T.copy()))  # torch keeps (out, in)
            lin.bias.copy_(torch.from_numpy(b))
        layers += [lin, torch.nn.Sigmoid()]
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    eye = torch.eye(weights[-1][0].shape[1])
    order_t = torch.from_numpy(order)
    total = 0.0
    t0 = time.perf_counter()
    for s in range(0, len(order), batch):
        idx = order_t[s : s + batch]
        out = model(xt[idx])
        cost = ((out - eye[yt[idx]]) ** 2).sum() / len(idx)  # the same cost: Σ (a − y)² / N
        opt.zero_grad()
        cost.backward()
        opt.step()
        total += cost.item() * len(idx)
    return time.perf_counter() - t0, total / len(order)


def epoch_floor(weights, x, y, order, batch):
    net = NumpyMLP([w for w, _ in weights], [b for _, b in weights])
    total = 0.0
    t0 = time.perf_counter()
    for s in range(0, len(order), batch):
        idx = order[s : s + batch]
        total += net.train_step(x[idx], y[idx], LR) * len(idx)
    return time.perf_counter() - t0, total / len(order)


def run_engine(name, weights, x, y, order, batch, torch):
    if name == "microgradnet eager":
        return epoch_mg_eager(weights, x, y, order, batch)
    if name == "microgradnet fast":
        return epoch_mg_fast(weights, x, y, order, batch)
    if name == "PyTorch eager":
        return epoch_torch(weights, x, y, order, batch, torch)
    return epoch_floor(weights, x, y, order, batch)


def time_epochs(sizes, batch, x, y, repeats, engines, torch, min_seconds=MIN_SECONDS):
    """Median epoch time per engine, the engines taking turns within each repeat.

    At least ``repeats`` rounds; short epochs get more rounds (up to ``MAX_ROUNDS``) until
    every engine has ``min_seconds`` of samples, so that one noisy moment on a shared
    machine cannot decide a median of 0.2-second epochs."""
    weights = initial_weights(sizes)
    order = np.random.default_rng(1).permutation(len(x))
    times = {e: [] for e in engines}
    costs = {}
    rounds = 0
    while rounds < repeats or (rounds < MAX_ROUNDS and min(sum(v) for v in times.values()) < min_seconds):
        for e in engines:
            gc.collect()
            t, c = run_engine(e, weights, x, y, order, batch, torch)
            times[e].append(t)
            costs[e] = c
        rounds += 1
    return {e: statistics.median(v) for e, v in times.items()}, costs, rounds


# ------------------------------------------------------------------------------- per-op


def per_op(torch, quick):
    """Microseconds for one sigmoid of a (10, 16) float32 array."""
    z = np.random.default_rng(0).standard_normal((10, 16)).astype(np.float32)
    number = 200 if quick else 20000
    rows = []

    def best(fn):
        return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6

    t_rec = mg.Tensor(z, requires_grad=True)
    t_const = mg.Tensor(z)
    rows.append(("microgradnet, recording the graph", best(lambda: t_rec.sigmoid())))
    with mg.no_grad():
        rows.append(("microgradnet, no_grad()", best(lambda: t_rec.sigmoid())))
    rows.append(("microgradnet, constant input", best(lambda: t_const.sigmoid())))
    op = mg.ops.SigmoidOp()
    rows.append(("microgradnet op.forward (what replay runs)", best(lambda: op.forward(z))))
    rows.append(("numpy, 1/(1+exp(-z))", best(lambda: 1.0 / (1.0 + np.exp(-z)))))
    rows.append(("numpy, the floor's in-place sigmoid", best(lambda: np_sigmoid(z.copy()))))
    if torch is not None:
        zt = torch.from_numpy(z.copy()).requires_grad_(True)
        rows.append(("PyTorch, recording the graph", best(lambda: torch.sigmoid(zt))))
        with torch.no_grad():
            rows.append(("PyTorch, no_grad()", best(lambda: torch.sigmoid(zt))))
    return rows


# ------------------------------------------------------------------------------- memory


def memory_child(spec: dict) -> dict:
    """Run in a subprocess: one epoch of one engine, its peak memory."""
    import resource
    import tracemalloc

    torch = None
    if spec["engine"] == "PyTorch eager":
        torch, _ = get_torch()
        torch.set_num_threads(spec["threads"])
    x, y, _ = load_data(spec["n"])
    weights = initial_weights(spec["sizes"])
    order = np.random.default_rng(1).permutation(len(x))
    gc.collect()
    try:  # Linux: reset the peak-RSS mark, so loading the data does not hide the epoch's peak
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    rss0 = _rss_kb("VmRSS")
    tracemalloc.start()
    run_engine(spec["engine"], weights, x, y, order, spec["batch"], torch)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss1 = _rss_kb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "data_mb": (x.nbytes + y.nbytes) / 2**20,
        "traced_peak_mb": peak / 2**20,
        "rss_before_mb": rss0 / 1024,
        "rss_peak_mb": rss1 / 1024,
    }


def _rss_kb(field: str) -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory(engines, n, batch, threads):
    rows = []
    for e in engines:
        spec = {"engine": e, "n": n, "batch": batch, "sizes": [784, 16, 16, 10], "threads": threads}
        proc = subprocess.run(
            [sys.executable, __file__, "--threads", str(threads), "--memory-child", json.dumps(spec)],
            capture_output=True,
            text=True,
            timeout=900,
        )
        if proc.returncode != 0:
            rows.append((e, None, proc.stderr.strip().splitlines()[-1:] or ["failed"]))
        else:
            rows.append((e, json.loads(proc.stdout.strip().splitlines()[-1]), None))
    return rows


# ------------------------------------------------------------------------------- report


def ratio(a, b):
    return f"{a / b:.2f}×" if a and b else "–"


def epoch_table(title, results, costs, engines, note=""):
    lines = [f"### {title}", ""]
    if note:
        lines += [note, ""]
    torch_t = results.get("PyTorch eager")
    floor_t = results.get("numpy floor")
    lines.append("| engine | epoch (s, median) | vs PyTorch eager | vs numpy floor | mean cost |")
    lines.append("|---|---:|---:|---:|---:|")
    for e in engines:
        t = results[e]
        lines.append(f"| {e} | {t:.3f} | {ratio(t, torch_t)} | {ratio(t, floor_t)} | {costs[e]:.5f} |")
    return lines + [""]


def target_lines(all_results):
    """The issue's targets, checked on the fast path."""
    out = ["### Targets (microgradnet fast path)", ""]

    def check(label, value, limit):
        ok = value <= limit
        verdict = "met" if ok else f"MISSED by {100 * (value / limit - 1):.0f}%"
        out.append(f"- {label}: {value:.2f} (target ≤ {limit:.2f}): **{verdict}**")

    for key, res in all_results.items():
        fast, floor, torch_t = res.get("microgradnet fast"), res.get("numpy floor"), res.get("PyTorch eager")
        if key == "784-16-16-10, batch 10":
            check(f"{key}: fast / floor", fast / floor, 1.3)
            if torch_t:
                check(f"{key}: fast / PyTorch (≥ 3× faster)", fast / torch_t, 1 / 3)
        elif key == "784-16-16-10, batch 100":
            check(f"{key}: fast / floor", fast / floor, 1.2)
        elif torch_t:
            check(f"{key}: fast / PyTorch", fast / torch_t, 1.1)
    return out + [""]


def main(argv=None) -> str:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a tiny run for smoke tests")
    ap.add_argument("--out", help="also write the report (markdown) to this file")
    ap.add_argument(
        "--threads",
        type=int,
        default=DEFAULT_THREADS,
        help=f"BLAS and torch threads, the same for every engine (default {DEFAULT_THREADS}: on a "
        "2-core machine the fastest setting for these small matrices)",
    )
    ap.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    ap.add_argument("--repeats", type=int, help="epochs timed per engine at least (default 5, quick 1)")
    ap.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.memory_child:
        print(json.dumps(memory_child(json.loads(args.memory_child))))
        return ""

    limiter = None
    try:  # when imported rather than run, the environment variables came too late
        from threadpoolctl import threadpool_limits

        limiter = threadpool_limits(args.threads, user_api="blas")
    except ImportError:
        pass
    _, blas = blas_threads()
    threads = args.threads
    torch, torch_note = (None, "left out (--no-torch)") if args.no_torch else get_torch()
    if torch is not None:
        torch.set_num_threads(threads)
    engines = [e for e in ENGINES if torch is not None or e != "PyTorch eager"]

    quick = args.quick
    repeats = args.repeats or (1 if quick else 5)
    n_main = 2000 if quick else None
    x, y, source = load_data(n_main)
    report = ["# microgradnet training speed", ""] + machine(threads, blas, torch)
    report += [
        f"- data: {source}; {len(x):,} images per epoch for 784-16-16-10" + (" (--quick)" if quick else ""),
        f"- at least {repeats} timed epoch(s) per engine and setting, engines interleaved (short "
        f"epochs repeated until each engine has {0 if quick else MIN_SECONDS:g} s of samples, "
        f"at most {MAX_ROUNDS} rounds); medians; "
        "sigmoid, squared error, SGD lr 3.0, float32, same initial weights and batch order",
        "- microgradnet fast = `TrainStep` (what `fit(..., fast=True)` runs); "
        "the floor = `benchmarks/numpy_mlp.py`",
    ]
    if torch is None:
        report.append(f"- PyTorch: {torch_note}")
    report.append("")
    print("\n".join(report), flush=True)

    all_results = {}
    settings = [
        ([784, 16, 16, 10], 10, None),
        ([784, 16, 16, 10], 100, None),
        ([784, 16, 16, 10], 1000, None),
        ([784, 100, 10], 100, 500 if quick else 30000),
        ([784, 512, 512, 10], 100, 300 if quick else 10000),
    ]
    for sizes, batch, n in settings:
        xs, ys = (x, y) if n is None or n >= len(x) else (x[:n], y[:n])
        key = f"{'-'.join(map(str, sizes))}, batch {batch}"
        res, costs, rounds = time_epochs(
            sizes, batch, xs, ys, repeats, engines, torch, min_seconds=0 if quick else MIN_SECONDS
        )
        note = f"{rounds} rounds" + (
            "" if n is None else f"; {len(xs):,} images (fewer than a full epoch, to keep the run short)"
        )
        all_results[key] = res
        lines = epoch_table(key, res, costs, engines, note)
        print("\n".join(lines), flush=True)
        report += lines

    report += target_lines(all_results)
    lines = [
        "### Per-op overhead: sigmoid of a (10, 16) float32 array",
        "",
        "| how | µs per call |",
        "|---|---:|",
    ]
    lines += [f"| {name} | {us:.2f} |" for name, us in per_op(torch, quick)]
    report += lines + [""]
    print("\n".join(report[-len(lines) - 1 :]), flush=True)

    if not args.no_memory:
        n_mem = 2000 if quick else None
        rows = memory(engines, n_mem, 100, threads)
        lines = [
            "### Peak memory of one epoch (784-16-16-10, batch 100, in a subprocess each)",
            "",
            "traced = peak of numpy/Python allocations during the epoch (tracemalloc; "
            "blind to PyTorch's own allocator); RSS = the process's resident memory "
            "(data loaded before the epoch starts; the peak mark is reset then).",
            "",
            "| engine | data (MB) | traced peak in the epoch (MB) | RSS before (MB) | RSS peak (MB) |",
            "|---|---:|---:|---:|---:|",
        ]
        for e, r, err in rows:
            if r is None:
                lines.append(f"| {e} | failed: {err[0] if err else ''} | | | |")
            else:
                traced = "n/a (torch allocator)" if e == "PyTorch eager" else f"{r['traced_peak_mb']:.2f}"
                lines.append(
                    f"| {e} | {r['data_mb']:.1f} | {traced} | {r['rss_before_mb']:.0f} | "
                    f"{r['rss_peak_mb']:.0f} |"
                )
        report += lines + [""]
        print("\n".join(lines + [""]), flush=True)

    text = "\n".join(report)
    if args.out:
        Path(args.out).write_text(text + "\n")
    if limiter is not None:
        limiter.unregister()
    return text


if __name__ == "__main__":
    main()
