"""What an op is: a name, a forward on numpy arrays, and a gradient rule.

An op never sees a :class:`~microgradnet.Tensor`. The engine hands ``forward`` plain numpy
arrays and later hands ``backward`` the upstream gradient ``g = ∂C/∂out``; ``backward``
returns one array per input, ``∂C/∂input = g · ∂out/∂input`` (a vector-Jacobian product).
Whatever the gradient rule needs from the forward pass is kept in ``self.saved`` and
dropped after ``backward`` unless the graph is retained; the engine makes sure that no saved
input or output was changed in place in between (:mod:`microgradnet.checks`).

Each op also carries text the pictures show: ``symbol`` (the forward, e.g. ``σ(z)``),
``derivatives`` (one local derivative per input, e.g. ``σ(z)·(1−σ(z))``) and ``variables``
(the name each input has in those formulas, e.g. ``("z",)``).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..errors import ShapeError

OPS: dict[str, type[Op]] = {}
"""Every op class by its graph name, filled in as op classes are defined."""


class Op:
    """One node kind of the computation graph. Subclasses define the class attributes and
    ``forward``/``backward``; instances hold the context of one application."""

    __slots__ = ("saved",)
    saved: Any  # whatever the gradient rule needs: arrays, a tuple of them, a number

    name = "op"
    symbol = ""
    derivatives: tuple[str, ...] = ()
    variables: tuple[str, ...] = ("x",)
    elementwise = False
    reads: tuple[tuple[int, ...], ...] | None = None
    """For each input, the positions in the tuple ``saved`` that its gradient rule reads
    (matmul: ``∂C/∂a = g·bᵀ`` reads ``b``, ``∂C/∂b = aᵀ·g`` reads ``a``); None: all of it.
    The engine watches for in-place changes only what a needed gradient reads."""
    overwrites: int | None = None
    """The input whose buffer ``forward`` can write its output into, when the engine passes
    it as ``out=`` (None: the op has no ``out``). Only an op that does not keep that input
    for its gradient rule may say so. A replayed tape (:meth:`Tape.forward
    <microgradnet.tape.Tape.forward>` with ``in_place=True``) does this where nothing else
    reads the input, as a hand-written ``z += b`` would: the numbers are the same."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            OPS[cls.name] = cls

    def __init__(self):
        self.saved = ()

    def forward(self, *xs: Any, **settings: Any) -> np.ndarray:  # pragma: no cover - abstract
        """The output array from the input arrays (each op names its own: ``forward(self, a, b)``)."""
        raise NotImplementedError

    def backward(self, g: np.ndarray, needs: tuple[bool, ...]) -> tuple:  # pragma: no cover
        """Return ``∂C/∂input`` for every input (``None`` where ``needs`` is False)."""
        raise NotImplementedError

    def local_derivative(self, i: int, xs: tuple, out: np.ndarray):
        """The numbers of ``∂out/∂input_i`` for display, or ``None`` when it is not a
        same-shaped array (e.g. matmul, whose local derivative is the other matrix)."""
        return None

    def describe(self) -> str:
        """Short label with the op's settings, e.g. ``sum(axis=1)``."""
        return self.name

    def derivative_text(self, i: int, names) -> str:
        """The local derivative ``∂out/∂input_i`` written with the inputs' own names: for
        ``mul`` with inputs ``w1`` and ``a0``, ``derivative_text(0, ["w1", "a0"])`` is ``a0``."""
        if i >= len(self.derivatives):
            return ""
        table = dict(zip(self.variables, names))
        if not table:
            return self.derivatives[i]
        pattern = "|".join(re.escape(v) for v in sorted(table, key=len, reverse=True))
        # ASCII word boundaries: in "b²" the superscript must not count as part of the name.
        return re.sub(
            rf"(?<![A-Za-z0-9_])({pattern})(?![A-Za-z0-9_])", lambda m: table[m.group(1)], self.derivatives[i]
        )

    def __repr__(self):
        return f"<op {self.describe()}>"


def unbroadcast(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum a gradient back down to ``shape``, undoing numpy broadcasting.

    An input that was broadcast was *used several times*, once per copy, so its gradient is
    the sum of the gradients of all its copies: sum over the leading axes that broadcasting
    added, and over every axis where the input had size 1.
    """
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra:
        g = g.sum(axis=tuple(range(extra)))
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if ones:
        g = g.sum(axis=ones, keepdims=True)
    return g.reshape(shape)


_CONSTANTS: dict[tuple, np.ndarray] = {}


def constant(make, n: int, dtype) -> np.ndarray:
    """``make(n, dtype=dtype)`` (``np.ones``, ``np.eye`` …) as a read-only array, kept for
    the next call with the same arguments: up to 64 of them, each of at most 65,536 rows (a
    larger one is made anew each time, cheap next to the work it serves)."""
    key = (make, n, dtype)
    a = _CONSTANTS.get(key)
    if a is None:
        a = make(n, dtype=dtype)
        a.flags.writeable = False
        if n <= 1 << 16:
            if len(_CONSTANTS) > 64:
                _CONSTANTS.clear()
            _CONSTANTS[key] = a
    return a


def ones_row(n: int, dtype) -> np.ndarray:
    """A read-only vector of ``n`` ones: ``ones_row(N) @ g`` sums the rows of ``g`` (the
    batch) as one matrix-vector product, which BLAS does several times faster than a
    column-wise ``g.sum(axis=0)`` for the narrow matrices of a small network."""
    return constant(np.ones, n, dtype)


def broadcast_error(op: str, a: np.ndarray, b: np.ndarray) -> ShapeError:
    """The error for two shapes that numpy cannot broadcast together."""
    return ShapeError(
        f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be broadcast together "
        "(compared from the right, each pair of sizes must be equal or one of them 1)"
    )


def normalize_axis(axis, ndim: int, op: str):
    """Turn ``axis`` (None, int or tuple, negatives allowed) into a sorted tuple of
    non-negative axes, or None for 'all axes'; a clear error for an axis out of range."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not isinstance(a, (int, np.integer)):
            raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < ndim:
            raise ShapeError(f"{op}: axis {a} is out of range for an array with {ndim} dimensions")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: axis {axis!r} repeats an axis")
    return tuple(sorted(out))
