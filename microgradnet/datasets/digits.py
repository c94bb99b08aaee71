"""The small handwritten-digits dataset that ships inside microgradnet (no download).

1,797 grey images of 8x8 pixels, digits 0..9, from the UCI "Optical Recognition of
Handwritten Digits" test set (E. Alpaydin & C. Kaynak, 1998, CC BY 4.0; see
``files/DIGITS-LICENSE.txt``). Small enough to train a network on in seconds.
"""

from __future__ import annotations

import io
import numbers
from importlib import resources

import numpy as np

from microgradnet.data import Dataset
from microgradnet.errors import DataError

__all__ = ["load_digits", "DIGITS_CLASSES"]

DIGITS_CLASSES = [str(k) for k in range(10)]
_RESOURCE = "files/digits.npz"
_N = 1797
_MAX_PIXEL = 16


def _read_npz() -> tuple[np.ndarray, np.ndarray]:
    """The packaged arrays: images uint8 (1797, 8, 8) with values 0..16, labels uint8 (1797,)."""
    resource = resources.files("microgradnet.datasets").joinpath(_RESOURCE)
    where = f"{resource} (inside the microgradnet package)"
    try:
        raw = resource.read_bytes()
    except (FileNotFoundError, OSError) as exc:
        raise DataError(
            f"the bundled digits file is missing: {where}; reinstall microgradnet, or from a "
            "source checkout rebuild it with `python scripts/make_digits.py`"
        ) from exc
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            images, labels = npz["images"], npz["labels"]
    except KeyError as exc:
        raise DataError(f"{where} lacks the array {exc}; rebuild it with scripts/make_digits.py") from None
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"{where} is not a readable .npz file ({exc})") from exc
    if images.shape != (_N, 8, 8) or labels.shape != (_N,):
        raise DataError(
            f"{where} holds images {images.shape} and labels {labels.shape}, "
            f"expected ({_N}, 8, 8) and ({_N},)"
        )
    if images.dtype != np.uint8 or labels.dtype != np.uint8 or images.max() > _MAX_PIXEL or labels.max() > 9:
        raise DataError(f"{where} holds values outside pixels 0..{_MAX_PIXEL} / labels 0..9")
    return images, labels


def _stratified_test_indices(labels: np.ndarray, test_size: int, rng: np.random.Generator) -> np.ndarray:
    """Pick ``test_size`` indices so that each class is represented in proportion to its size."""
    counts = np.bincount(labels, minlength=10)
    ideal = counts * test_size / counts.sum()
    quota = np.floor(ideal).astype(np.int64)
    # Hand the remaining places to the classes with the largest rounding loss (stable ties).
    leftover = test_size - int(quota.sum())
    order = np.argsort(-(ideal - quota), kind="stable")
    quota[order[:leftover]] += 1
    picked = [rng.permutation(np.flatnonzero(labels == k))[: quota[k]] for k in range(len(counts))]
    return np.concatenate(picked)


def load_digits(split: str | None = None, *, test_size=360, seed: int = 0):
    """Load the bundled 8x8 digits, split into a fixed training and test set.

    ``train, test = load_digits()`` gives 1,437 training and 360 test samples, drawn once
    with ``numpy.random.default_rng(seed)`` and stratified (each digit in the same
    proportion in both), then shuffled; the same ``seed`` always gives the same split.
    Each is a :class:`~microgradnet.data.Dataset` with ``x`` float32 of shape (N, 64)
    (pixel count / 16, so in [0, 1]), ``y`` int64 of shape (N,) with digits 0..9,
    ``image_shape`` (8, 8) and ``classes`` "0".."9".

    ``split="train"`` or ``"test"`` returns only that Dataset; ``split="all"`` returns all
    1,797 samples in their original order (no split). ``test_size`` is a count or a
    fraction in (0, 1) of the 1,797 samples.
    """
    if split not in (None, "train", "test", "all"):
        raise ValueError(f"load_digits: split must be None, 'train', 'test' or 'all', got {split!r}")
    images, labels = _read_npz()
    x = images.reshape(_N, -1).astype(np.float32) / np.float32(_MAX_PIXEL)
    y = labels.astype(np.int64)

    def make(idx, name):
        return Dataset(x[idx], y[idx], image_shape=(8, 8), classes=DIGITS_CLASSES, name=name)

    if split == "all":
        return make(np.arange(_N), "digits")

    if isinstance(test_size, float) and 0.0 < test_size < 1.0:
        test_size = int(np.ceil(test_size * _N))
    if (
        isinstance(test_size, bool)
        or not isinstance(test_size, numbers.Integral)
        or not 1 <= int(test_size) < _N
    ):
        raise ValueError(
            f"load_digits: test_size must be a count 1..{_N - 1} or a fraction in (0, 1), got {test_size!r}"
        )
    rng = np.random.default_rng(seed)
    test_idx = _stratified_test_indices(y, int(test_size), rng)
    train_mask = np.ones(_N, dtype=bool)
    train_mask[test_idx] = False
    train_idx = rng.permutation(np.flatnonzero(train_mask))
    test_idx = rng.permutation(test_idx)

    if split == "train":
        return make(train_idx, "digits-train")
    if split == "test":
        return make(test_idx, "digits-test")
    return make(train_idx, "digits-train"), make(test_idx, "digits-test")
