"""Datasets for microgradnet: the bundled 8x8 digits, MNIST, Fashion-MNIST and an IDX reader.

Every loader returns :class:`microgradnet.data.Dataset` objects (``x`` float32 in [0, 1] of
shape (N, features), ``y`` int64 labels of shape (N,)), usually as a ``(train, test)`` pair.
"""

from microgradnet.datasets.digits import load_digits
from microgradnet.datasets.idx import read_idx
from microgradnet.datasets.mnist import default_cache_dir, load_fashion_mnist, load_mnist

__all__ = ["load_digits", "load_mnist", "load_fashion_mnist", "read_idx", "default_cache_dir"]
