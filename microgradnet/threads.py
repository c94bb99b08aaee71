"""How many threads numpy's BLAS uses for the matrix products of training.

numpy hands every matrix product to a BLAS library, which splits big products across all
cores. For the small layers this project trains (16 neurons, batches of 10) a product takes
a few microseconds, and waking a second thread costs more than it saves: on a 2-core machine
an epoch at batch 100 ran about 10× *slower* with the default 2 threads than with 1. For
wide layers and big batches more threads do help. So microgradnet measures, once per set of
matrix shapes, whether one thread or all of them multiplies those shapes faster, remembers
the answer, and sets numpy's BLAS to it when a training step uses those shapes (``fit``, and
``backward()`` in a hand-written loop). The choice stays in effect afterwards.

You decide instead with :func:`set_num_threads` (``mg.set_num_threads(1)``; ``None`` goes
back to choosing), or with the environment variable ``MICROGRADNET_NUM_THREADS`` (a number,
or ``auto``). When ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS`` is
set, microgradnet leaves the thread count to it. Needs ``threadpoolctl`` (installed with
microgradnet); without it nothing is changed.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

__all__ = ["set_num_threads", "get_num_threads", "choose_for", "ENV"]

ENV = "MICROGRADNET_NUM_THREADS"
_BLAS_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

_state: dict[str, Any] = {
    "mode": None,  # "auto", "fixed" or "off"; decided on first use
    "fixed": None,  # the user's count in "fixed" mode
    "applied": None,  # the count microgradnet last set
    "controllers": None,  # threadpoolctl's BLAS controllers (an empty list without it)
    "most": 1,  # the BLAS thread count numpy started with
}
SMALL = 100_000  # multiply-adds: below this in every product, one thread without measuring
_CHOICES: dict[tuple, int] = {}  # matrix shapes -> the faster thread count for them
_LAST: dict[str, Any] = {"key": None, "count": None}  # the shapes of the last step, and their choice


def _controllers() -> list:
    if _state["controllers"] is None:
        try:
            from threadpoolctl import ThreadpoolController

            found = ThreadpoolController().select(user_api="blas").lib_controllers
        except ImportError:  # pragma: no cover - threadpoolctl is a dependency
            found = []
        _state["controllers"] = found
        _state["most"] = max([c.num_threads for c in found] or [1])
    return _state["controllers"]


def _mode() -> str:
    if _state["mode"] is None:
        value = os.environ.get(ENV, "").strip().lower()
        if value and value != "auto":
            try:
                n = int(value)
            except ValueError:
                raise ValueError(
                    f"{ENV} must be a whole number of threads or 'auto', got {value!r}"
                ) from None
            set_num_threads(n)
        elif not value and any(os.environ.get(v) for v in _BLAS_ENV):
            _state["mode"] = "off"  # the user set the BLAS threads themselves: leave them
        else:
            _state["mode"] = "auto"
    return _state["mode"]


def _apply(n: int) -> None:
    if _state["applied"] != n:
        for c in _controllers():
            c.set_num_threads(n)
        _state["applied"] = n


def set_num_threads(n: int | None) -> None:
    """Use ``n`` BLAS threads for numpy's matrix products from now on (``None``: let
    microgradnet measure and choose the faster of 1 and all cores for the shapes it trains)."""
    if n is None:
        _state["mode"], _state["fixed"] = "auto", None
        _LAST["key"] = None
        return
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive whole number or None, got {n!r}")
    _controllers()
    _state["mode"], _state["fixed"] = "fixed", int(n)
    _state["applied"] = None
    _apply(int(n))


def get_num_threads() -> int:
    """The number of threads numpy's BLAS uses now."""
    found = _controllers()
    return max([c.get_num_threads() for c in found] or [1])


def choose_for(shapes) -> int | None:
    """Set numpy's BLAS to the faster thread count for matrix products of these shapes
    (``(rows, inner, columns, dtype)`` tuples: a training step's forward products), measuring
    once per set of shapes; returns the count, or None when the choice is not ours."""
    if _LAST["key"] == shapes and _state["mode"] == "auto":
        _apply(_LAST["count"])
        return _LAST["count"]
    mode = _mode()
    if mode != "auto":
        return _state["fixed"] if mode == "fixed" else None
    if not shapes or not _controllers():
        return None
    n = _CHOICES.get(shapes)
    if n is None:
        n = _CHOICES[shapes] = _measure(shapes)
    _LAST["key"], _LAST["count"] = shapes, n
    _apply(n)
    return n


def _measure(shapes) -> int:
    """Time a training step's products (forward ``a @ W``, backward ``g @ Wᵀ`` and ``aᵀ @ g``)
    with one thread and with all, a few rounds each, taking turns, with a layer's elementwise
    work in between as in a real step; the faster wins. More threads must win clearly (by 15%):
    ties and near-ties go to one thread, which leaves the other cores to the rest of the
    machine."""
    most = _state["most"]
    if most <= 1 or max(m * k * n for m, k, n, _ in shapes) < SMALL:
        return 1  # products this small run on one thread inside BLAS anyway
    rng = np.random.default_rng(0)
    work = []
    for m, k, n, dt in shapes:
        a = rng.random((m, k)).astype(dt)
        w = rng.random((k, n)).astype(dt)
        g = rng.random((m, n)).astype(dt)
        work.append((a, w, g))

    def step():
        for a, w, g in work:
            z = a @ w
            # a layer's elementwise work between the products: BLAS threads idle in between,
            # and waking them again is part of what more threads cost
            np.tanh(z, out=z)
            g @ w.T
            a.T @ g

    best: dict[int, float] = {}
    budget = time.perf_counter() + 0.15  # at most ~0.15 s of measuring per set of shapes
    for _ in range(5):
        for n in (1, most):
            _apply(n)
            t0 = time.perf_counter()
            reps = 0
            while True:
                step()
                reps += 1
                elapsed = time.perf_counter() - t0
                if elapsed > 0.004 or reps >= 50 or time.perf_counter() > budget:
                    break
            best[n] = min(best.get(n, float("inf")), elapsed / reps)
        if time.perf_counter() > budget:
            break
    return most if best[most] < 0.85 * best[1] else 1
