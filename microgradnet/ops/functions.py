"""Elementwise functions: ``exp``, ``log``, ``sigmoid``, ``tanh``, ``relu``.

Where the derivative is easiest to write in terms of the output (``exp``, ``sigmoid``,
``tanh``), the op saves its *output*, not its input, and the gradient rule reuses it.
"""

from __future__ import annotations

import numpy as np

from ..errors import NumericalError
from .base import Op

# Far left, σ(z) ≈ e^z drops below the smallest normal float (about 1.2e-38 in float32 at
# z ≈ -87.3, 2.2e-308 in float64 at z ≈ -708.4) into denormals, which are slow (a matmul fed
# with them can run ten times slower) and then overflow e^(-z). So -z is capped at the
# largest whole number whose σ stays normal: beyond it σ(z) stays at σ(-cap), ≈ 1.6e-38 in
# float32 and 3.3e-308 in float64, numbers too small to matter next to any other.
_EXP_CAP = {np.dtype(t): float(np.floor(-np.log(np.finfo(t).tiny))) for t in (np.float32, np.float64)}


def sigmoid_array(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """σ(z) = 1 / (1 + e^(−z)) on a numpy array, without overflow warnings for large ``|z|``
    (into ``out`` if given, which may be ``z`` itself)."""
    if out is None:  # (out= for a 0-d input too, which must stay an array, not a numpy scalar)
        out = np.empty_like(z) if not z.ndim else None
    t = np.negative(z, out=out)
    np.minimum(t, _EXP_CAP.get(z.dtype, 708.0), out=t)
    np.exp(t, out=t)
    t += 1
    return np.reciprocal(t, out=t)


class ExpOp(Op):
    """``e^x``, whose derivative is itself."""

    __slots__ = ()
    name = "exp"
    symbol = "eˣ"
    derivatives = ("eˣ",)
    elementwise = True

    def forward(self, x):
        out = np.exp(x)
        self.saved = out
        return out

    def backward(self, g, needs):
        return (g * self.saved,)

    def local_derivative(self, i, xs, out):
        return out


class LogOp(Op):
    """Natural logarithm ``ln x`` (x > 0), derivative ``1/x``."""

    __slots__ = ()
    name = "log"
    symbol = "ln x"
    derivatives = ("1/x",)
    elementwise = True

    def forward(self, x):
        if x.size and not (x > 0).all():
            bad = x[~(x > 0)].flat[0]
            raise NumericalError(
                f"log: every input must be > 0, found {float(bad)!r} "
                "(for a log of probabilities, use log_softmax on the logits)"
            )
        self.saved = x
        return np.log(x)

    def backward(self, g, needs):
        return (g / self.saved,)

    def local_derivative(self, i, xs, out):
        return 1 / xs[0]


class SigmoidOp(Op):
    """The logistic sigmoid ``σ(z) = 1/(1 + e^(−z))``, squashing any number into (0, 1).

    Its derivative is ``σ(z)·(1 − σ(z))``: the op saves its output ``σ(z)`` for the rule.
    """

    __slots__ = ()
    name = "sigmoid"
    symbol = "σ(z)"
    derivatives = ("σ(z)·(1−σ(z))",)
    variables = ("z",)
    elementwise = True
    overwrites = 0

    def forward(self, z, out=None):
        s = sigmoid_array(z, out)
        self.saved = s
        return s

    def backward(self, g, needs):
        s = self.saved
        t = s * s if s.ndim else np.multiply(s, s, out=np.empty_like(s))  # 0-d: stays an array
        np.subtract(s, t, out=t)  # σ(1 − σ) = σ − σ², in one buffer
        t *= g
        return (t,)

    def local_derivative(self, i, xs, out):
        return out * (1 - out)


class TanhOp(Op):
    """Hyperbolic tangent, squashing into (−1, 1); derivative ``1 − tanh²(z)``."""

    __slots__ = ()
    name = "tanh"
    symbol = "tanh(z)"
    derivatives = ("1 − tanh²(z)",)
    variables = ("z",)
    elementwise = True

    overwrites = 0

    def forward(self, z, out=None):
        t = np.tanh(z, out=out)
        self.saved = t
        return t

    def backward(self, g, needs):
        t = self.saved
        return (g * (1 - t * t),)

    def local_derivative(self, i, xs, out):
        return 1 - out * out


class ReLUOp(Op):
    """Rectified linear unit ``max(0, z)``; derivative 1 where z > 0, else 0."""

    __slots__ = ()
    name = "relu"
    symbol = "max(0, z)"
    derivatives = ("1 if z > 0 else 0",)
    variables = ("z",)
    elementwise = True

    overwrites = 0

    def forward(self, z, out=None):
        out = np.maximum(z, 0, out=out)
        self.saved = out
        return out

    def backward(self, g, needs):
        return (g * (self.saved > 0),)

    def local_derivative(self, i, xs, out):
        return (out > 0).astype(out.dtype)
