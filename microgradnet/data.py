"""Datasets in memory, mini-batches and one-hot labels.

A :class:`Dataset` holds a feature matrix ``x`` (one flattened sample per row) and integer
class labels ``y``, plus a little metadata (the image shape to un-flatten a row for display,
the class names, a name for messages). :func:`batches` cuts a dataset, or a plain ``(x, y)``
pair of arrays, into mini-batches for a training loop. :func:`one_hot` turns class labels
into the 0/1 target rows that a cross-entropy or MSE loss compares against.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator, Sequence
from typing import Any, Protocol, overload, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from microgradnet.errors import HIDDEN_FOR_USER_ERRORS, DataError, DTypeError, ShapeError
from microgradnet.ops.base import constant

__all__ = ["Dataset", "batches", "one_hot", "one_hot_rows", "as_xy", "DataLike", "HasXY"]


@runtime_checkable
class HasXY(Protocol):
    """Anything with arrays ``x`` (samples) and ``y`` (labels or targets), like a :class:`Dataset`."""

    x: Any
    y: Any


DataLike = HasXY | tuple[ArrayLike, ArrayLike] | list[Any]
"""The data that training and evaluation accept, a :class:`Dataset` (or anything with ``.x``
and ``.y``) or a pair ``(x, y)`` of arrays."""


def _as_labels(y: ArrayLike, what: str = "labels") -> np.ndarray:
    """Return ``y`` as an int64 array, refusing floats, booleans and other non-integers."""
    arr = np.asarray(y)
    if arr.dtype == np.bool_ or not (
        np.issubdtype(arr.dtype, np.integer) or (arr.size == 0 and arr.dtype == np.float64)
    ):
        raise DTypeError(
            f"{what} must be integers (class indices 0, 1, 2, ...), got dtype {arr.dtype}; "
            "convert them with .astype(int) if they hold whole numbers"
        )
    return arr.astype(np.int64, copy=False)


class Dataset:
    """A labelled set of samples: ``x`` is float32 of shape (N, features), ``y`` int64 of shape (N,).

    ``x`` may also be given unflattened, e.g. (N, 8, 8): it is flattened to (N, 64) and,
    unless ``image_shape`` is passed, the trailing shape becomes ``image_shape``. Values are
    stored as float32 as given; the dataset loaders scale image pixels to [0, 1] before.
    ``classes`` names each label (label ``k`` is ``classes[k]``); when omitted it is
    ``["0", "1", ..., str(max label)]``. Every label must lie in ``0 .. len(classes) - 1``.

    Indexing: ``ds[i]`` is the pair ``(x_i, y_i)`` (a float32 row and a Python int);
    ``ds[a:b]``, ``ds[index_array]`` and ``ds[bool_mask]`` are a new Dataset with the same
    metadata. The arrays of a slice share memory with the original, as numpy slices do.
    """

    def __init__(
        self,
        x: ArrayLike,
        y: ArrayLike,
        image_shape: Sequence[int] | None = None,
        classes: Sequence[str] | None = None,
        name: str = "dataset",
    ):
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        x = np.asarray(x)
        if x.ndim == 0:
            raise ShapeError(f"Dataset {name!r}: x must have one row per sample, got a scalar")
        if not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_):
            raise DTypeError(f"Dataset {name!r}: x must be numeric, got dtype {x.dtype}")
        if x.dtype.kind == "c":  # float32 would silently keep only the real part
            raise DTypeError(
                f"Dataset {name!r}: x must be real numbers, got complex ({x.dtype}); "
                "choose what to keep yourself, e.g. x.real or np.abs(x)"
            )
        if x.ndim == 1:
            # A single feature per sample: keep the documented (N, features) layout.
            x = x.reshape(-1, 1)
        if image_shape is None and x.ndim > 2:
            image_shape = x.shape[1:]
        x = x.reshape(x.shape[0], -1).astype(np.float32, copy=False)

        y = _as_labels(y, f"Dataset {name!r}: y (labels)")
        if y.ndim != 1:
            raise ShapeError(
                f"Dataset {name!r}: y must be a 1-D array of class labels, got shape {y.shape}"
                " (one-hot rows? turn them back into labels with .argmax(axis=1))"
            )
        if len(x) != len(y):
            raise ShapeError(
                f"Dataset {name!r}: x has {len(x)} samples but y has {len(y)} labels; "
                "they must have the same length"
            )

        if image_shape is not None:
            image_shape = tuple(int(d) for d in image_shape)
            if int(np.prod(image_shape)) != x.shape[1]:
                raise ShapeError(
                    f"Dataset {name!r}: image_shape {image_shape} holds {int(np.prod(image_shape))} "
                    f"values but each sample has {x.shape[1]} features"
                )

        if classes is None:
            top = int(y.max()) + 1 if len(y) else 0
            classes = [str(k) for k in range(top)]
        else:
            if isinstance(classes, str) or not isinstance(classes, Sequence | np.ndarray):
                raise DTypeError(f"Dataset {name!r}: classes must be a list of class names, got {classes!r}")
            classes = [str(c) for c in classes]
        if len(y):
            low, high = int(y.min()), int(y.max())
            if low < 0 or high >= len(classes):
                bad = low if low < 0 else high
                raise DataError(
                    f"Dataset {name!r}: label {bad} is outside 0..{len(classes) - 1} "
                    f"(there are {len(classes)} classes)"
                )

        self.x: np.ndarray = x
        self.y: np.ndarray = y
        self.image_shape: tuple[int, ...] | None = image_shape
        self.classes: list[str] = classes
        self.name: str = str(name)

    @property
    def num_classes(self) -> int:
        """The number of classes, ``len(self.classes)``."""
        return len(self.classes)

    def _like(self, x: np.ndarray, y: np.ndarray) -> Dataset:
        """A new Dataset with these arrays and this dataset's metadata (no re-validation)."""
        out = object.__new__(Dataset)
        out.x, out.y = x, y
        out.image_shape, out.classes, out.name = self.image_shape, list(self.classes), self.name
        return out

    def __len__(self) -> int:
        return len(self.y)

    @overload
    def __getitem__(self, index: int) -> tuple[np.ndarray, int]: ...
    @overload
    def __getitem__(self, index: slice | ArrayLike) -> Dataset: ...
    def __getitem__(self, index: Any) -> tuple[np.ndarray, int] | Dataset:
        if isinstance(index, numbers.Integral) and not isinstance(index, bool):
            return self.x[index], int(self.y[index])
        if isinstance(index, slice):
            return self._like(self.x[index], self.y[index])
        idx = np.asarray(index)
        if idx.dtype == np.bool_:
            if idx.shape != (len(self),):
                raise ShapeError(
                    f"Dataset {self.name!r}: a boolean mask must have shape ({len(self)},), got {idx.shape}"
                )
        elif not np.issubdtype(idx.dtype, np.integer) and idx.size:
            raise DTypeError(
                f"Dataset {self.name!r}: index with an int, a slice, an int array or a boolean "
                f"mask, not {type(index).__name__} of dtype {idx.dtype}"
            )
        elif idx.ndim != 1:
            raise ShapeError(f"Dataset {self.name!r}: an index array must be 1-D, got shape {idx.shape}")
        else:
            idx = idx.astype(np.intp, copy=False)
        return self._like(self.x[idx], self.y[idx])

    def __iter__(self) -> Iterator[tuple[np.ndarray, int]]:
        for i in range(len(self)):
            yield self[i]

    def split(self, n: float) -> tuple[Dataset, Dataset]:
        """Cut into ``(first n samples, the rest)``, keeping order; shuffle first if sorted.

        ``n`` is a count ``0 <= n <= len(self)`` or a fraction ``0 < n < 1`` of the samples
        (rounded to the nearest count).
        """
        if isinstance(n, float) and 0.0 < n < 1.0:
            n = int(round(n * len(self)))
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            raise DTypeError(
                f"Dataset.split: n must be a sample count or a fraction between 0 and 1, got {n!r}"
            )
        n = int(n)
        if not 0 <= n <= len(self):
            raise ValueError(
                f"Dataset.split: n={n} is outside 0..{len(self)} ({self.name!r} has {len(self)} samples)"
            )
        return self[:n], self[n:]

    def shuffled(self, seed: int | None = None) -> Dataset:
        """Return a copy with the samples in a random order; the same seed gives the same order."""
        order = np.random.default_rng(seed).permutation(len(self))
        return self[order]

    def __repr__(self) -> str:
        shape = "x".join(str(d) for d in self.image_shape) if self.image_shape else None
        return (
            f"Dataset(name={self.name!r}, n={len(self)}, x={self.x.shape} {self.x.dtype}, "
            f"image_shape={shape}, num_classes={self.num_classes})"
        )


_CHUNK_ROWS = 512  # rows gathered at once when shuffling (about 1.6 MB of MNIST images)


class Batches:
    """The mini-batches of one dataset: iterate for ``(xb, yb)`` pairs, ``len()`` counts them.

    Made by :func:`batches`. Each ``for`` loop over the same object is one pass (epoch)
    over the data; with ``shuffle=True`` every pass draws a new order from one random
    generator seeded once, so a whole run of epochs repeats exactly for the same seed.
    """

    def __init__(
        self, x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool, seed: int | None, drop_last: bool
    ):
        self.x, self.y = x, y
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self._rng = np.random.default_rng(seed) if self.shuffle else None

    def __len__(self) -> int:
        n = len(self.x)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        n, size = len(self.x), self.batch_size
        stop = len(self) * size
        if self._rng is not None:
            order = self._rng.permutation(n)
            # Gather several batches with one fancy index and hand out row slices of it:
            # the same numbers, one numpy call per chunk instead of two per batch.
            chunk = max(1, _CHUNK_ROWS // size) * size
            for c in range(0, stop, chunk):
                idx = order[c : min(c + chunk, stop)]
                xs, ys = self.x.take(idx, axis=0), self.y[idx]  # take: a faster x[idx]
                for start in range(0, len(idx), size):
                    yield xs[start : start + size], ys[start : start + size]
        else:
            for start in range(0, stop, size):
                yield self.x[start : start + size], self.y[start : start + size]

    def __repr__(self) -> str:
        return (
            f"Batches(n={len(self.x)}, batch_size={self.batch_size}, batches={len(self)}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last})"
        )


def as_xy(data: DataLike, who: str = "data") -> tuple[np.ndarray, np.ndarray]:
    """The arrays ``(x, y)`` of a :class:`Dataset` (or anything with ``.x`` and ``.y``) or of
    a pair ``(x, y)``; ``who`` names the caller in the error for anything else."""
    if isinstance(data, HasXY):  # a Dataset, or anything else with .x and .y
        return np.asarray(data.x), np.asarray(data.y)
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return np.asarray(data[0]), np.asarray(data[1])
    raise DTypeError(f"{who}: data must be a Dataset or a pair (x, y) of arrays, got {type(data).__name__}")


def batches(
    data: DataLike,
    batch_size: int = 32,
    shuffle: bool = False,
    seed: int | None = None,
    drop_last: bool = False,
) -> Batches:
    """Cut ``data`` into mini-batches ``(xb, yb)`` of ``batch_size`` samples, for a training loop.

    ``data`` is a :class:`Dataset` or a pair ``(x, y)`` of arrays with the same first
    dimension N (any trailing shapes, e.g. one-hot ``y``). Each ``xb`` is ``x[i:i+B]``
    (shape (B, ...), dtype of ``x``; a view of ``x`` when not shuffled), each ``yb`` the
    matching labels. With ``shuffle=True`` the order comes from
    ``numpy.random.default_rng(seed)``: the same seed gives the same batches. The last,
    smaller batch is kept unless ``drop_last=True``. The result has ``len()`` (the number of
    batches), so progress bars such as tqdm show a total.
    """
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise DTypeError(f"batches: batch_size must be a positive int, got {batch_size!r}")
    if batch_size <= 0:
        raise ValueError(f"batches: batch_size must be a positive int, got {batch_size}")
    batch_size = int(batch_size)

    x, y = as_xy(data, "batches")
    if x.ndim == 0 or y.ndim == 0:
        raise ShapeError(f"batches: x and y need one entry per sample, got shapes {x.shape} and {y.shape}")
    if len(x) != len(y):
        raise ShapeError(
            f"batches: x has {len(x)} samples but y has {len(y)}; they must have the same length"
        )
    if len(x) == 0:
        raise DataError("batches: the data is empty (0 samples), there is nothing to batch")
    return Batches(x, y, batch_size, shuffle, seed, drop_last)


def one_hot(labels: ArrayLike, num_classes: int | None = None, dtype: DTypeLike = np.float32) -> np.ndarray:
    """Turn integer class labels into one-hot rows: label ``k`` becomes a row with a 1 at ``k``.

    ``labels`` of shape (N,) gives shape (N, C) with ``C = num_classes`` (default: the
    largest label + 1), of ``dtype`` (float32 by default). Labels must be integers in
    ``0 .. C - 1``.
    """
    arr = _as_labels(labels, "one_hot: labels")
    if num_classes is None:
        if arr.size == 0:
            raise ValueError("one_hot: cannot guess num_classes from no labels; pass num_classes")
        num_classes = int(arr.max()) + 1
    elif isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral):
        raise DTypeError(f"one_hot: num_classes must be a positive int, got {num_classes!r}")
    num_classes = int(num_classes)
    if num_classes <= 0:
        raise ValueError(f"one_hot: num_classes must be a positive int, got {num_classes}")
    if arr.size:
        bad = np.flatnonzero((arr.ravel() < 0) | (arr.ravel() >= num_classes))
        if bad.size:
            i = int(bad[0])
            raise DataError(
                f"one_hot: label {int(arr.ravel()[i])} (at position {i}) is outside "
                f"0..{num_classes - 1} for num_classes={num_classes}"
            )
    return one_hot_rows(arr, num_classes, dtype)


def one_hot_rows(labels: np.ndarray, num_classes: int, dtype) -> np.ndarray:
    """Row ``k`` of the identity matrix for each label ``k``: the one place labels become
    one-hot rows (:func:`one_hot`, the costs and replay all call it). ``labels`` must be
    integers already checked to lie in ``0 .. num_classes - 1``; the result is a new array."""
    eye = constant(np.eye, int(num_classes), np.dtype(dtype))
    return eye.take(labels, axis=0)  # = eye[labels], several times faster than fancy indexing
