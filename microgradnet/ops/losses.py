"""The costs, each fused into one op so its gradient is one cheap formula.

Both average over the batch (the first axis of a 2-D output); a 1-D output or a scalar is
one example. ``squared_error`` is 3Blue1Brown's cost, *without* a ½ factor:

    C = (1/N) Σ_n Σ_j (a_nj − y_nj)²        ∂C/∂a = 2 (a − y) / N
"""

from __future__ import annotations

import numpy as np

from .base import Op
from .softmax import log_softmax_array


def batch_size(a: np.ndarray) -> int:
    """The number of examples a cost averages over: the first axis of a 2-D+ output, else 1."""
    return a.shape[0] if a.ndim >= 2 else 1


class SquaredErrorOp(Op):
    """``C = (1/N) Σ_n Σ_j (a_nj − y_nj)²``: squared distance from the wanted output,
    summed over the outputs, averaged over the N examples of the batch."""

    __slots__ = ()
    name = "squared_error"
    symbol = "(1/N) Σ (a − y)²"
    derivatives = ("2(a − y)/N", "−2(a − y)/N")
    variables = ("a", "y")
    reads = ((), ())  # saved = (a − y, N): an array of its own, that no user code can reach

    def forward(self, a, y):
        d = a - y
        n = batch_size(a)
        self.saved = (d, n)
        flat = d.reshape(-1)
        return np.asarray(np.dot(flat, flat) / n)  # a Python int keeps the dtype (NEP 50)

    def backward(self, g, needs):
        d, n = self.saved
        # a number times d keeps d's dtype (no upcast to float64); g is ∂C/∂C = 1 on a cost
        ga = d * (float(g) * 2.0 / n if g.ndim == 0 else g * (2.0 / n))
        return (ga if needs[0] else None, -ga if needs[1] else None)

    def local_derivative(self, i, xs, out):
        a, y = xs
        d = 2 * (a - y) / batch_size(a)
        return d if i == 0 else -d


class CrossEntropyOp(Op):
    """``C = −(1/N) Σ_n Σ_j y_nj · log softmax(z_n)_j`` from logits ``z`` and a target ``y``.

    The target is class indices (N,) (an integer array) or probabilities (N, C), e.g.
    one-hot rows; it gets no gradient. Gradient with respect to the logits:
    ``(softmax(z) − y) / N``.
    """

    __slots__ = ()
    name = "cross_entropy"
    symbol = "−(1/N) Σ y · log softmax(z)"
    derivatives = ("(softmax(z) − y)/N",)
    variables = ("z", "y")

    def forward(self, z, t):
        logp = log_softmax_array(z, -1)
        n = batch_size(z)
        if t.dtype.kind in "iu":
            picked = logp[np.arange(n), t] if z.ndim == 2 else logp[t]
            total = -picked.sum()
        else:
            total = -(t * logp).sum()
        self.saved = (logp, n, t)
        return np.asarray(total / np.asarray(n, dtype=z.dtype), dtype=z.dtype)

    def backward(self, g, needs):
        logp, n, t = self.saved
        p = np.exp(logp)
        if t.dtype.kind in "iu":
            if p.ndim == 2:
                p[np.arange(n), t] -= 1
            else:
                p[t] -= 1
        else:
            p -= t
        p *= np.asarray(g / n, dtype=p.dtype)
        return (p, None)
