"""Elementwise arithmetic: ``+ - * / **``, negation, and ``add_bias``.

Every binary rule sends its gradient through :func:`unbroadcast`, so an input that numpy
broadcast (a scalar, a row, a column) gets the sum of the gradients of all its copies.
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from .base import Op, ones_row, unbroadcast


class _Binary(Op):
    """The two-input elementwise ops (numpy broadcasting applies)."""

    __slots__ = ()
    elementwise = True
    variables = ("a", "b")


class AddOp(_Binary):
    """``a + b``: the gradient passes through unchanged to both inputs."""

    __slots__ = ()
    name = "add"
    symbol = "a + b"
    derivatives = ("1", "1")

    def forward(self, a, b):
        self.saved = (a.shape, b.shape)
        return a + b

    def backward(self, g, needs):
        sa, sb = self.saved
        return (unbroadcast(g, sa) if needs[0] else None, unbroadcast(g, sb) if needs[1] else None)

    def local_derivative(self, i, xs, out):
        return np.ones_like(out)


class AddBiasOp(Op):
    """``z = x + b``: the bias vector ``b`` (n,) is added to every row of ``x`` (…, n).

    The same op as ``add``, named apart so a layer's graph reads like the math: one bias
    per neuron, shared by every example of the batch. ``∂C/∂b`` sums over the batch.
    """

    __slots__ = ()
    name = "add_bias"
    symbol = "z = x + b"
    derivatives = ("1", "1 (summed over the batch)")
    variables = ("x", "b")
    elementwise = True
    overwrites = 0

    def forward(self, x, b, out=None):
        if b.ndim != 1 or not x.shape or x.shape[-1] != b.shape[0]:
            raise ShapeError(
                f"add_bias: a bias of shape {tuple(b.shape)} cannot be added to rows of shape "
                f"{tuple(x.shape)}: the bias must be a vector with one value per column "
                f"({x.shape[-1] if x.ndim else 'scalar input'})"
            )
        self.saved = x.ndim
        return np.add(x, b, out=out)

    def backward(self, g, needs):
        gb = None
        if needs[1]:
            if self.saved == 2:  # the usual (batch, n) rows: Σ_n g_n, written as 1ᵀ·g
                gb = ones_row(g.shape[0], g.dtype) @ g
            else:
                gb = g.sum(axis=tuple(range(self.saved - 1))) if self.saved > 1 else g
        return (g if needs[0] else None, gb)

    def local_derivative(self, i, xs, out):
        return np.ones_like(out)


class SubOp(_Binary):
    """``a - b``: gradient ``g`` to ``a`` and ``-g`` to ``b``."""

    __slots__ = ()
    name = "sub"
    symbol = "a − b"
    derivatives = ("1", "−1")

    def forward(self, a, b):
        self.saved = (a.shape, b.shape)
        return a - b

    def backward(self, g, needs):
        sa, sb = self.saved
        return (unbroadcast(g, sa) if needs[0] else None, unbroadcast(-g, sb) if needs[1] else None)

    def local_derivative(self, i, xs, out):
        return np.full_like(out, 1 if i == 0 else -1)


class MulOp(_Binary):
    """``a * b``: each input's gradient is ``g`` times the *other* input."""

    __slots__ = ()
    name = "mul"
    symbol = "a · b"
    derivatives = ("b", "a")
    reads = ((1,), (0,))  # saved = (a, b): each gradient reads the other input

    def forward(self, a, b):
        self.saved = (a, b)
        return a * b

    def backward(self, g, needs):
        a, b = self.saved
        return (
            unbroadcast(g * b, a.shape) if needs[0] else None,
            unbroadcast(g * a, b.shape) if needs[1] else None,
        )

    def local_derivative(self, i, xs, out):
        return np.broadcast_to(xs[1 - i], out.shape)


class DivOp(_Binary):
    """``a / b``: ``∂/∂a = 1/b`` and ``∂/∂b = −a/b²``."""

    __slots__ = ()
    name = "div"
    symbol = "a / b"
    derivatives = ("1/b", "−a/b²")
    reads = ((1,), (0, 1))  # saved = (a, b)

    def forward(self, a, b):
        self.saved = (a, b)
        return a / b

    def backward(self, g, needs):
        a, b = self.saved
        ga = g / b
        return (
            unbroadcast(ga, a.shape) if needs[0] else None,
            unbroadcast(-ga * a / b, b.shape) if needs[1] else None,
        )

    def local_derivative(self, i, xs, out):
        a, b = xs
        d = 1 / b if i == 0 else -a / (b * b)
        return np.broadcast_to(d, out.shape)


class PowOp(Op):
    """``x ** p`` for a number ``p``: the power rule, ``∂/∂x = p · x^(p−1)``."""

    __slots__ = ("p",)
    name = "pow"
    symbol = "x^p"
    derivatives = ("p · x^(p−1)",)
    elementwise = True

    def __init__(self, p):
        super().__init__()
        self.p = p

    def describe(self):
        return f"pow(p={self.p:g})"

    def derivative_text(self, i, names):
        x = names[0] if names else "x"
        return f"{self.p:g} · {x}^{self.p - 1:g}"

    def forward(self, x):
        self.saved = x
        p = self.p
        return x * x if p == 2 else x ** np.asarray(p, dtype=x.dtype)

    def backward(self, g, needs):
        x = self.saved
        if self.p == 2:
            return (g * (x + x),)
        return (g * self._derivative(x),)

    def local_derivative(self, i, xs, out):
        return self._derivative(xs[0])

    def _derivative(self, x):
        """``p · x^(p−1)``; for ``p = 0``, ``x⁰ = 1`` is constant, so 0 everywhere (also at
        ``x = 0``, where the formula would read ``0 · 0⁻¹``), as in PyTorch."""
        p = self.p
        if p == 0:
            return np.zeros_like(x)
        return (p * x ** np.asarray(p - 1, dtype=x.dtype)).astype(x.dtype, copy=False)


class NegOp(Op):
    """``−x``: the gradient flips sign."""

    __slots__ = ()
    name = "neg"
    symbol = "−x"
    derivatives = ("−1",)
    elementwise = True

    def forward(self, x):
        return -x

    def backward(self, g, needs):
        return (-g,)

    def local_derivative(self, i, xs, out):
        return np.full_like(out, -1)
