"""What the tutorial's pages say about the digits they were built with.

Each chapter loads its digits in a cell the reader sees (MNIST's test set, split 8,000 /
2,000, or, on a machine without MNIST, the 8×8 digits embedded in microgradnet; see
``docs/_ext/docs_data.py`` for where the build finds MNIST). A hidden cell then shows
:func:`note`, which says plainly when the page was built with the small digits, so that no
reader mistakes their numbers for MNIST's.
"""

from __future__ import annotations

from IPython.display import Markdown


def built_with_mnist(train) -> bool:
    return tuple(train.image_shape) == (28, 28)


def note(train, test):
    """Nothing for MNIST (the visible code says it); a clear warning for the fallback."""
    if built_with_mnist(train):
        return None
    return Markdown(
        "**This page was built on a machine without MNIST**, so it uses the small 8×8 digits "
        f"that ship inside microgradnet ({len(train):,} to learn from, {len(test):,} to test on). "
        "Everything below is computed on them: the input layer has 64 neurons instead of 784, "
        "the pictures are coarser, and every number is the small network's, not the videos'. "
        "With MNIST on your machine, the same code gives the 784-input versions."
    )
