"""Matrix multiplication: ``a @ b`` for vectors, matrices and batches of matrices."""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from .base import Op, unbroadcast


class MatMulOp(Op):
    """``a @ b``: each output entry is a weighted sum, ``out[i, j] = Σ_k a[i, k]·b[k, j]``.

    Gradients: ``∂C/∂a = g @ bᵀ`` and ``∂C/∂b = aᵀ @ g``. A 1-D operand is a row (left) or
    a column (right) as in numpy; batch dimensions broadcast, and their gradients are
    summed back to each input's shape.
    """

    __slots__ = ()
    name = "matmul"
    symbol = "a @ b"
    derivatives = ("g @ bᵀ", "aᵀ @ g")
    variables = ("a", "b")
    reads = ((1,), (0,))  # saved = (a, b): ∂C/∂a reads b, ∂C/∂b reads a

    def forward(self, a, b):
        try:
            out = a @ b
        except ValueError:
            raise self._error(a, b) from None
        self.saved = (a, b)
        return out

    @staticmethod
    def _error(a, b) -> ShapeError:
        """Why numpy refused ``a @ b``, in the words of the math."""
        if a.ndim == 0 or b.ndim == 0:
            return ShapeError(
                f"matmul: cannot multiply shapes {tuple(a.shape)} and {tuple(b.shape)}: "
                "both operands need at least one dimension (use * for a scalar)"
            )
        k_a = a.shape[-1]
        k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if k_a != k_b:
            return ShapeError(
                f"matmul: cannot multiply {tuple(a.shape)} by {tuple(b.shape)}: "
                f"the inner sizes {k_a} and {k_b} differ"
            )
        return ShapeError(
            f"matmul: the batch dimensions of {tuple(a.shape)} and {tuple(b.shape)} "
            "cannot be broadcast together"
        )

    def backward(self, g, needs):
        a, b = self.saved
        if a.ndim == 2 and b.ndim == 2:  # the common case, and the fast one
            return (g @ b.T if needs[0] else None, a.T @ g if needs[1] else None)
        if a.ndim == 1 and b.ndim == 1:  # dot product: g is a scalar
            return (g * b if needs[0] else None, g * a if needs[1] else None)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = g2[..., None, :] if b.ndim > 1 else g2
        if b.ndim == 1:
            g2 = g2[..., None]
        ga = gb = None
        if needs[0]:
            ga = g2 @ np.swapaxes(b2, -1, -2)
            ga = unbroadcast(ga, a2.shape).reshape(a.shape)
        if needs[1]:
            gb = np.swapaxes(a2, -1, -2) @ g2
            gb = unbroadcast(gb, b2.shape).reshape(b.shape)
        return ga, gb

    def local_derivative(self, i, xs, out):
        return None
