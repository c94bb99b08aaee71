"""The costs a network learns from: ``squared_error`` (the videos' cost) and ``cross_entropy``.

Both take the network's output and a target given as integer class labels ``(N,)`` or as
one-hot (or any) target rows ``(N, C)``, and both average over the batch, so the gradient
— and the learning rate that suits it — does not grow with the batch size.
"""

from __future__ import annotations

import math

import numpy as np

from . import ops
from .data import one_hot_rows
from .errors import HIDDEN_FOR_USER_ERRORS, DTypeError, NumericalError, ShapeError
from .tensor import Operand, Tensor, apply, as_tensor

_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _labels(target: Operand, n_classes: int, n: int | None, fn: str) -> np.ndarray | None:
    """Integer class labels as an int64 array (checked), or None if ``target`` is not labels."""
    if isinstance(target, Tensor):
        return None
    arr = target if isinstance(target, np.ndarray) else np.asarray(target)
    if arr.dtype.kind not in "iu":
        return None
    expect = () if n is None else (n,)
    if arr.shape != expect:
        raise ShapeError(
            f"{fn}: {'a single label' if n is None else f'{n} labels'} expected for output "
            f"of this shape, got labels of shape {arr.shape}"
        )
    # Read as unsigned, a negative label is a huge number: one max() checks 0..C-1.
    unsigned = arr if arr.dtype.kind == "u" else arr.view(_UNSIGNED[arr.dtype.itemsize])
    if arr.size and np.maximum.reduce(unsigned, axis=None) >= n_classes:
        raise ValueError(
            f"{fn}: labels must lie in 0..{n_classes - 1} (the output has {n_classes} values "
            f"per example), found {int(arr.min() if arr.min() < 0 else arr.max())}"
        )
    return arr.astype(np.int64, copy=False)


def _check_finite(cost: Tensor, fn: str, *arrays) -> Tensor:
    if not math.isfinite(float(cost.data)):
        for what, a in zip(("output", "target"), arrays):
            bad = ~np.isfinite(a)
            if bad.any():
                where = tuple(int(i) for i in np.argwhere(bad)[0])
                raise NumericalError(
                    f"{fn}: the {what} holds {a[where]} at index {where}: the cost "
                    "cannot be computed (a learning rate too large makes weights blow up)"
                )
    return cost


def squared_error_target(output: np.ndarray, target: Operand) -> np.ndarray:
    """What :func:`squared_error` compares ``output`` with, as an array: one-hot rows for
    integer labels, else the target's numbers in the output's dtype."""
    if output.ndim in (1, 2):
        n = output.shape[0] if output.ndim == 2 else None
        labels = _labels(target, output.shape[-1], n, "squared_error")
        if labels is not None:
            return one_hot_rows(labels, output.shape[-1], output.dtype)
    arr = target.data if isinstance(target, Tensor) else np.asarray(target)
    if arr.dtype.kind not in "fiub":
        raise DTypeError(f"squared_error: the target must hold numbers, got dtype {arr.dtype}")
    return arr.astype(output.dtype, copy=False)


def squared_error(output: Operand, target: Operand) -> Tensor:
    """3Blue1Brown's cost: ``C = (1/N) Σ_n Σ_j (a_nj − y_nj)²``, no ½ factor.

    The squared differences between the output activations ``a`` and the wanted ones
    ``y`` are summed over the outputs of each example, then averaged over the ``N`` examples
    of the batch (a 1-D output or a scalar is one example). ``∂C/∂a = 2(a − y)/N``.

    ``target``: integer labels ``(N,)`` (turned into one-hot rows), or an array/Tensor
    shaped like ``output``. Returns a scalar Tensor.
    """
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    a = as_tensor(output)
    if a.data.dtype.kind != "f":
        raise DTypeError("squared_error: the output must be a float tensor")
    if isinstance(target, Tensor):
        y = a._const(target)
    else:
        y = Tensor._make(squared_error_target(a.data, target), None, ())
    if y.shape != a.shape:
        raise ShapeError(
            f"squared_error: output {a.shape} and target {y.shape} differ in shape "
            "(give one target row per output row, or integer labels)"
        )
    return _check_finite(apply(ops.SquaredErrorOp(), a, y), "squared_error", a.data, y.data)


def cross_entropy_target(logits: np.ndarray, target) -> np.ndarray:
    """What :func:`cross_entropy` compares the logits with: int64 class indices for integer
    labels, else target rows (one-hot or probabilities) in the logits' dtype."""
    if logits.ndim not in (1, 2):
        raise ShapeError(f"cross_entropy: logits must be (N, C) or (C,), got {logits.shape}")
    n = logits.shape[0] if logits.ndim == 2 else None
    labels = _labels(target, logits.shape[-1], n, "cross_entropy")
    if labels is not None:
        return labels
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind not in "fiub":
        raise DTypeError(f"cross_entropy: target must be labels or numbers, got dtype {t.dtype}")
    t = t.astype(logits.dtype, copy=False)
    if t.shape != logits.shape:
        raise ShapeError(
            f"cross_entropy: logits {logits.shape} and target {t.shape} differ in shape "
            "(give integer labels or one row of probabilities per example)"
        )
    return t


def cross_entropy(logits: Operand, target: Operand) -> Tensor:
    """Cross-entropy from logits: ``C = −(1/N) Σ_n log softmax(z_n)[label_n]``.

    ``logits``: raw scores ``(N, C)`` (or ``(C,)`` for one example) — *not* probabilities;
    the softmax is applied inside, stably. ``target``: integer labels ``(N,)`` or target rows
    ``(N, C)`` (one-hot or probabilities). Averaged over the batch; ``∂C/∂z = (softmax(z) − y)/N``.
    """
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    z = as_tensor(logits)
    t = cross_entropy_target(z.data, target)
    cost = apply(ops.CrossEntropyOp(), z, Tensor._make(t, None, ()))
    return _check_finite(cost, "cross_entropy", z.data, t)


TARGETS = {squared_error: squared_error_target, cross_entropy: cross_entropy_target}
"""For each cost of the library, the function that prepares its target as an array."""

LOSSES = {
    "mse": squared_error,
    "squared_error": squared_error,
    "cross_entropy": cross_entropy,
    "cross-entropy": cross_entropy,
}


def get_loss(loss):
    """A cost function from a name (``"mse"``, ``"cross_entropy"``) or a callable."""
    if callable(loss):
        return loss
    if isinstance(loss, str) and loss.lower() in LOSSES:
        return LOSSES[loss.lower()]
    raise ValueError(f"unknown loss {loss!r}; choose mse (squared error) or cross_entropy")
