"""``softmax`` and ``log_softmax`` along an axis, computed stably.

Subtracting the row maximum before exponentiating changes nothing mathematically
(the factor ``e^(−max)`` cancels) but keeps ``e^x`` from overflowing.
"""

from __future__ import annotations

import numpy as np

from .base import Op, normalize_axis


def log_softmax_array(x: np.ndarray, axis: int) -> np.ndarray:
    """``x − log Σ e^x`` along ``axis``, without overflow."""
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


class SoftmaxOp(Op):
    """``softmax(x)_i = e^(x_i) / Σ_j e^(x_j)``: positive numbers summing to 1.

    Gradient: ``s ⊙ (g − Σ_j g_j s_j)`` with ``s`` the softmax output.
    """

    __slots__ = ("axis",)
    name = "softmax"
    symbol = "eˣⁱ / Σ eˣʲ"
    derivatives = ("s_i·(δ_ij − s_j)",)

    def __init__(self, axis=-1):
        super().__init__()
        self.axis = axis

    def describe(self):
        return f"softmax(axis={self.axis})"

    def forward(self, x):
        (axis,) = normalize_axis(self.axis, x.ndim, "softmax")
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        s = e / e.sum(axis=axis, keepdims=True)
        self.saved = (s, axis)
        return s

    def backward(self, g, needs):
        s, axis = self.saved
        return (s * (g - (g * s).sum(axis=axis, keepdims=True)),)


class LogSoftmaxOp(Op):
    """``log_softmax(x)_i = x_i − log Σ_j e^(x_j)``; gradient ``g − softmax(x)·Σ_j g_j``."""

    __slots__ = ("axis",)
    name = "log_softmax"
    symbol = "xᵢ − log Σ eˣʲ"
    derivatives = ("δ_ij − s_j",)

    def __init__(self, axis=-1):
        super().__init__()
        self.axis = axis

    def describe(self):
        return f"log_softmax(axis={self.axis})"

    def forward(self, x):
        (axis,) = normalize_axis(self.axis, x.ndim, "log_softmax")
        out = log_softmax_array(x, axis)
        self.saved = (out, axis)
        return out

    def backward(self, g, needs):
        out, axis = self.saved
        return (g - np.exp(out) * g.sum(axis=axis, keepdims=True),)
