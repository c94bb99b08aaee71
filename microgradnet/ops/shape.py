"""Ops that move numbers around without changing them: reshape, transpose, indexing.

Their gradient rules move the upstream gradient back to where each number came from.
"""

from __future__ import annotations

import numpy as np

from ..errors import IndexOutOfRangeError, ShapeError
from .base import Op


class ReshapeOp(Op):
    """Same numbers, new shape; the gradient is reshaped back."""

    __slots__ = ("shape",)
    name = "reshape"
    symbol = "reshape(x)"
    derivatives = ("reshape back",)

    def __init__(self, shape):
        super().__init__()
        self.shape = shape

    def describe(self):
        return f"reshape{tuple(self.shape)}"

    def forward(self, x):
        self.saved = x.shape
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise ShapeError(
                f"reshape: cannot reshape {tuple(x.shape)} ({x.size} values) into {tuple(self.shape)}"
            ) from None

    def backward(self, g, needs):
        return (g.reshape(self.saved),)


class TransposeOp(Op):
    """Permute the axes (reverse them by default, ``.T``); the gradient is permuted back."""

    __slots__ = ("axes",)
    name = "transpose"
    symbol = "xᵀ"
    derivatives = ("transpose back",)

    def __init__(self, axes=None):
        super().__init__()
        self.axes = axes

    def describe(self):
        return "transpose" if self.axes is None else f"transpose{tuple(self.axes)}"

    def forward(self, x):
        if self.axes is not None and sorted(a % max(x.ndim, 1) for a in self.axes) != list(range(x.ndim)):
            raise ShapeError(
                f"transpose: axes {tuple(self.axes)} are not a permutation of the "
                f"{x.ndim} axes of shape {tuple(x.shape)}"
            )
        return np.transpose(x, self.axes)

    def backward(self, g, needs):
        if self.axes is None:
            return (np.transpose(g),)
        return (np.transpose(g, np.argsort([a % g.ndim for a in self.axes])),)


def _is_basic(index) -> bool:
    """True when ``index`` uses only ints, slices, None and Ellipsis (no repeated positions)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts)


class GetItemOp(Op):
    """``x[index]``: pick numbers out; the gradient goes back to the picked positions
    (added up where an integer array picks the same position twice), zero elsewhere."""

    __slots__ = ("index",)
    name = "getitem"
    symbol = "x[i]"
    derivatives = ("1 at the picked positions, 0 elsewhere",)

    def __init__(self, index):
        super().__init__()
        self.index = index

    def describe(self):
        return "getitem"

    def forward(self, x):
        self.saved = (x.shape, x.dtype)
        try:
            return np.asarray(x[self.index])
        except IndexError as e:
            raise IndexOutOfRangeError(
                f"getitem: index {self.index!r} does not fit shape {tuple(x.shape)}: {e}"
            ) from None

    def backward(self, g, needs):
        shape, dtype = self.saved
        out = np.zeros(shape, dtype=dtype)
        if _is_basic(self.index):
            out[self.index] = g
        else:
            np.add.at(out, self.index, g)
        return (out,)
