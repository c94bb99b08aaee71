"""Reductions: ``sum`` and ``mean`` over some or all axes."""

from __future__ import annotations

import numpy as np

from .base import Op, normalize_axis


class _Reduce(Op):
    __slots__ = ("axis", "keepdims")

    def __init__(self, axis=None, keepdims=False):
        super().__init__()
        self.axis = axis
        self.keepdims = keepdims

    def describe(self):
        parts = [] if self.axis is None else [f"axis={self.axis}"]
        if self.keepdims:
            parts.append("keepdims")
        return f"{self.name}({', '.join(parts)})" if parts else self.name

    def _spread(self, g):
        """Broadcast ``g`` back over the reduced axes (a read-only view, no copy)."""
        shape, axes = self.saved
        if not self.keepdims:
            g = np.expand_dims(g, axes if axes is not None else tuple(range(len(shape))))
        return np.broadcast_to(g, shape)


class SumOp(_Reduce):
    """``Σ x`` over ``axis``: every summed number gets the whole upstream gradient."""

    __slots__ = ()
    name = "sum"
    symbol = "Σ x"
    derivatives = ("1",)

    def forward(self, x):
        axes = normalize_axis(self.axis, x.ndim, "sum")
        self.saved = (x.shape, axes)
        return np.asarray(np.sum(x, axis=axes, keepdims=self.keepdims))

    def backward(self, g, needs):
        return (self._spread(g),)

    def local_derivative(self, i, xs, out):
        return np.ones_like(xs[0])


class MeanOp(_Reduce):
    """``(1/n) Σ x`` over ``axis``: every number gets ``1/n`` of the upstream gradient."""

    __slots__ = ()
    name = "mean"
    symbol = "(1/n) Σ x"
    derivatives = ("1/n",)

    def forward(self, x):
        axes = normalize_axis(self.axis, x.ndim, "mean")
        self.saved = (x.shape, axes)
        return np.asarray(np.mean(x, axis=axes, keepdims=self.keepdims))

    def backward(self, g, needs):
        shape, axes = self.saved
        n = int(np.prod([shape[a] for a in axes])) if axes is not None else int(np.prod(shape))
        return (self._spread(g / np.asarray(max(n, 1), dtype=g.dtype)),)

    def local_derivative(self, i, xs, out):
        x = xs[0]
        return np.full_like(x, 1 / max(x.size // max(np.asarray(out).size, 1), 1))
