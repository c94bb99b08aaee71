"""The costs a network learns from: ``squared_error`` (the videos' cost) and ``cross_entropy``.

Both take the network's output and a target given as integer class labels ``(N,)`` or as
one-hot (or any) target rows ``(N, C)``, and both average over the batch, so the gradient
— and the learning rate that suits it — does not grow with the batch size.
"""

from __future__ import annotations

import math

import numpy as np

from . import ops
from .errors import HIDDEN_FOR_USER_ERRORS, DTypeError, NumericalError, ShapeError
from .tensor import Operand, Tensor, apply, as_tensor


def _labels(target: Operand, n_classes: int, n: int | None, fn: str) -> np.ndarray | None:
    """Integer class labels as an int64 array (checked), or None if ``target`` is not labels."""
    arr = target.data if isinstance(target, Tensor) else np.asarray(target)
    if isinstance(target, Tensor) or arr.dtype.kind not in "iu":
        return None
    expect = () if n is None else (n,)
    if arr.shape != expect:
        raise ShapeError(
            f"{fn}: {'a single label' if n is None else f'{n} labels'} expected for output "
            f"of this shape, got labels of shape {arr.shape}"
        )
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
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
    n = a.shape[0] if a.ndim == 2 else None
    labels = _labels(target, a.shape[-1], n, "squared_error") if a.ndim in (1, 2) else None
    if labels is not None:
        rows = np.zeros(a.shape, dtype=a.dtype)
        if a.ndim == 2:
            rows[np.arange(a.shape[0]), labels] = 1
        else:
            rows[labels] = 1
        y = Tensor._make(rows, None, ())
    else:
        y = a._const(target)
    if y.shape != a.shape:
        raise ShapeError(
            f"squared_error: output {a.shape} and target {y.shape} differ in shape "
            "(give one target row per output row, or integer labels)"
        )
    return _check_finite(apply(ops.SquaredError(), a, y), "squared_error", a.data, y.data)


def cross_entropy(logits: Operand, target: Operand) -> Tensor:
    """Cross-entropy from logits: ``C = −(1/N) Σ_n log softmax(z_n)[label_n]``.

    ``logits``: raw scores ``(N, C)`` (or ``(C,)`` for one example) — *not* probabilities;
    the softmax is applied inside, stably. ``target``: integer labels ``(N,)`` or target rows
    ``(N, C)`` (one-hot or probabilities). Averaged over the batch; ``∂C/∂z = (softmax(z) − y)/N``.
    """
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    z = as_tensor(logits)
    if z.ndim not in (1, 2):
        raise ShapeError(f"cross_entropy: logits must be (N, C) or (C,), got {z.shape}")
    labels = _labels(target, z.shape[-1], z.shape[0] if z.ndim == 2 else None, "cross_entropy")
    if labels is None:
        t = target.data if isinstance(target, Tensor) else np.asarray(target)
        if t.dtype.kind not in "fiub":
            raise DTypeError(f"cross_entropy: target must be labels or numbers, got dtype {t.dtype}")
        t = t.astype(z.dtype, copy=False)
        if t.shape != z.shape:
            raise ShapeError(
                f"cross_entropy: logits {z.shape} and target {t.shape} differ in shape "
                "(give integer labels or one row of probabilities per example)"
            )
    else:
        t = labels
    cost = apply(ops.CrossEntropy(t), z)
    return _check_finite(cost, "cross_entropy", z.data, t)
