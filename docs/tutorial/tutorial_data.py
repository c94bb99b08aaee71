"""Where the tutorial's digits come from when these pages are built.

On your own machine, ``train, test = mg.datasets.load_mnist()`` downloads MNIST once
(60,000 training and 10,000 test digits) and is all you need. The documentation, though,
is built offline, on machines that may hold only MNIST's 10,000 *test* digits, or nothing
at all. So the pages ask this helper, which looks, in order, for

1. the folder named by the environment variable ``MICROGRADNET_MNIST``, if it is set;
2. otherwise ``../shared/data/mnist`` next to the repository (where CI keeps the test set);

and splits those 10,000 digits into 8,000 to learn from and 2,000 to test on. Without
them it falls back to the 8×8 digits that ship inside microgradnet, and says so.
"""

from __future__ import annotations

import os
from pathlib import Path

import microgradnet as mg

REPO = Path(__file__).resolve().parents[2]


def mnist_folder() -> Path | None:
    """The folder holding MNIST's test-set IDX files, or None."""
    env = os.environ.get("MICROGRADNET_MNIST")
    if env:  # an explicit choice wins, even when it holds nothing (that builds the fallback)
        candidates = [Path(env).expanduser()]
    else:
        candidates = [REPO.parent / "shared" / "data" / "mnist"]
    for folder in candidates:
        if any((folder / name).is_file() for name in ("t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte")):
            return folder
    return None


def load_digit_images(n_train: int = 8000):
    """``(train, test, note)``: two Datasets of handwritten digits and a sentence saying
    which digits they are (shown on the page)."""
    folder = mnist_folder()
    if folder is not None:
        digits = mg.datasets.load_mnist(folder, split="test", download=False, progress=False)
        train, test = digits.split(n_train)
        note = (
            f"These pages use MNIST's {len(digits):,} test digits (28×28 pixels): "
            f"the first {len(train):,} to learn from, the last {len(test):,} to test on. "
            "On your machine, `train, test = mg.datasets.load_mnist()` downloads all "
            "70,000 digits."
        )
    else:
        train, test = mg.datasets.load_digits()
        note = (
            "**No copy of MNIST was found when this page was built**, so it uses the small "
            "8×8 digits that ship inside microgradnet instead "
            f"({len(train):,} to learn from, {len(test):,} to test on): the pictures are "
            "coarser and the input layer has 64 neurons instead of 784. Set "
            "`MICROGRADNET_MNIST` to a folder with MNIST's files to build the full version."
        )
    return train, test, note
