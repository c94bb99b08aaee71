"""The ops as functions, for code that reads like math: ``mg.sigmoid(x @ W + b)``.

Each takes Tensors, numpy arrays or numbers and returns a Tensor.
"""

from __future__ import annotations

from . import ops
from .errors import HIDDEN_FOR_USER_ERRORS
from .tensor import Operand, Tensor, apply, as_tensor


def matmul(a: Operand, b: Operand) -> Tensor:
    """``a @ b`` (vectors, matrices, batches of matrices)."""
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    a = as_tensor(a)
    return a @ b


def add_bias(x: Operand, b: Operand) -> Tensor:
    """``x + b`` with the vector ``b`` added to every row of ``x``, recorded as ``add_bias``."""
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    return as_tensor(x).add_bias(b)


def exp(x: Operand) -> Tensor:
    """``e^x`` elementwise."""
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    return as_tensor(x).exp()


def log(x: Operand) -> Tensor:
    """Natural logarithm elementwise (inputs must be > 0)."""
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    return as_tensor(x).log()


def sigmoid(x: Operand) -> Tensor:
    """``σ(z) = 1/(1 + e^(−z))``: squashes each number into (0, 1)."""
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    return as_tensor(x).sigmoid()


def tanh(x: Operand) -> Tensor:
    """``tanh(z)``: squashes each number into (−1, 1)."""
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    return as_tensor(x).tanh()


def relu(x: Operand) -> Tensor:
    """``max(0, z)`` elementwise."""
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    return as_tensor(x).relu()


def softmax(x: Operand, axis: int = -1) -> Tensor:
    """``e^(x_i) / Σ_j e^(x_j)`` along ``axis``: positive values that sum to 1."""
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    return as_tensor(x).softmax(axis)


def log_softmax(x: Operand, axis: int = -1) -> Tensor:
    """``x_i − log Σ_j e^(x_j)`` along ``axis``, computed without overflow."""
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    return as_tensor(x).log_softmax(axis)


def sum(x: Operand, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:  # noqa: A001 - mirrors numpy/torch
    """Sum over ``axis`` (all axes by default)."""
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    return as_tensor(x).sum(axis, keepdims)


def mean(x: Operand, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` (all axes by default)."""
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    return as_tensor(x).mean(axis, keepdims)


def reshape(x: Operand, *shape: int | tuple[int, ...] | list[int]) -> Tensor:
    """The same values in a new shape."""
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    return as_tensor(x).reshape(*shape)


def transpose(x: Operand, *axes: int | tuple[int, ...] | list[int]) -> Tensor:
    """Reverse (or permute) the axes."""
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    return as_tensor(x).transpose(*axes)


__all__ = [
    "matmul",
    "add_bias",
    "exp",
    "log",
    "sigmoid",
    "tanh",
    "relu",
    "softmax",
    "log_softmax",
    "sum",
    "mean",
    "reshape",
    "transpose",
    "apply",
    "ops",
]
