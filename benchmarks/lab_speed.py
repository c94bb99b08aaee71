"""Does the lab train as fast as ``fit``? Side by side, interleaved, in one run.

The lab trains in a worker thread while the page polls it: the state about ten times a second
(what the update stream sends) and the weights once a second. This script runs that, with a
poller thread in place of the page, against ``mg.fit`` on the same network, data and batch
size, alternating the two, and prints the medians and the ratio (target: the lab keeps at
least 80% of fit's speed at batch 10).

    python benchmarks/lab_speed.py [--layers 784,16,16,10] [--batch-size 10] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

import microgradnet as mg
from microgradnet.lab.session import LabSession


def page_poller(session: LabSession, stop: threading.Event) -> None:
    """What an open lab page asks for while training runs."""
    since, last_weights = 0, 0.0
    while not stop.is_set():
        st = session.state(since)
        since = st["step_costs_from"] + len(st["step_costs"])
        if time.monotonic() - last_weights > 1.0:
            session.weights()
            last_weights = time.monotonic()
        time.sleep(0.1)


def lab_epoch(session: LabSession) -> float:
    stop = threading.Event()
    poller = threading.Thread(target=page_poller, args=(session, stop))
    poller.start()
    t0 = time.perf_counter()
    session.control("epoch")
    session.wait_idle(600)
    seconds = time.perf_counter() - t0
    stop.set()
    poller.join()
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="mnist", choices=["digits", "mnist", "fashion-mnist"])
    ap.add_argument("--data-dir", default=os.environ.get("MICROGRADNET_MNIST"))
    ap.add_argument("--hidden", default="16,16")
    ap.add_argument("--batch-size", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    hidden = [int(h) for h in args.hidden.split(",") if h]

    session = LabSession(data_dir=args.data_dir, save_dir="/nonexistent-never-written")
    try:
        session.build(dataset=args.dataset, hidden=hidden, batch_size=args.batch_size, lr=3.0)
    except Exception as e:  # noqa: BLE001
        print(f"{args.dataset} not available ({e}); using the embedded digits")
        session.build(dataset="digits", hidden=hidden, batch_size=args.batch_size, lr=3.0)
    train, sizes = session.train, session.settings["sizes"]
    print(f"network {'-'.join(map(str, sizes))}, {len(train)} training images, batch {args.batch_size}")

    fit_times, lab_times = [], []
    for r in range(args.rounds):
        model = mg.nn.MLP(sizes, seed=r)
        t0 = time.perf_counter()
        mg.fit(model, train, epochs=1, lr=3.0, batch_size=args.batch_size, progress=False, seed=r)
        fit_times.append(time.perf_counter() - t0)
        lab_times.append(lab_epoch(session))
    session.close()
    f, lab = statistics.median(fit_times), statistics.median(lab_times)
    print()
    print("| engine | one epoch (median) | rounds |")
    print("| --- | ---: | ---: |")
    print(f"| mg.fit | {f:.3f} s | {len(fit_times)} |")
    print(f"| lab (worker thread, page polling) | {lab:.3f} s | {len(lab_times)} |")
    print()
    print(f"the lab trains at {f / lab:.0%} of fit's speed (target: at least 80%)")
    print(f"fit epochs: {np.round(fit_times, 3).tolist()}; lab epochs: {np.round(lab_times, 3).tolist()}")


if __name__ == "__main__":
    main()
