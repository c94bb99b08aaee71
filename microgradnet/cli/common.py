"""What several commands share: reading flags, datasets and model files."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from ..errors import MicrogradnetError

DATASETS = ("digits", "mnist", "fashion-mnist")


class UsageError(MicrogradnetError, ValueError):
    """A flag value the command cannot use."""


def _whole_number(low: int, what: str):
    """An argparse type: a whole number >= ``low``, with an error that says so."""

    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            n = None
        if n is None or n < low:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return n

    return parse


positive_int = _whole_number(1, "a positive whole number")
non_negative_int = _whole_number(0, "a whole number >= 0")


def positive_float(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not math.isfinite(x) or x <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text!r}")
    return x


def layer_sizes(text: str) -> list[int]:
    """``784,16,16,10`` -> [784, 16, 16, 10]."""
    parts = [p.strip() for p in text.replace("-", ",").split(",") if p.strip()]
    try:
        sizes = [int(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected layer sizes like 784,16,16,10, got {text!r}") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"expected at least two positive layer sizes (inputs,...,outputs), got {text!r}"
        )
    return sizes


SPLIT_TO_TRAIN = "use only the dataset's test set: train on its first N images, test on the rest"
SPLIT_TO_TEST = (
    "use only the dataset's test set, split as 'train --split-test-set N' splits it: "
    "the test images are those after the first N"
)


GUESSED = "guessed from the model's input size: 64 is digits, 784 is mnist"


def add_data_flags(
    p: argparse.ArgumentParser, default="digits", split_help: str = SPLIT_TO_TRAIN, guessed: str = GUESSED
) -> None:
    """The flags that choose a dataset. ``default=None``: the command guesses it, as
    ``guessed`` says. ``split_help`` says what ``--split-test-set`` does for this command."""
    if default is None:
        dataset_help = f"which data (default: {guessed})"
    else:
        dataset_help = f"which data (default: {default}; digits is embedded, no download)"
    p.add_argument("--dataset", choices=DATASETS, default=default, help=dataset_help)
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder with the IDX files (default: search the cache, then download)",
    )
    p.add_argument("--no-download", action="store_true", help="never download; use local files only")
    p.add_argument(
        "--split-test-set",
        type=positive_int,
        metavar="N",
        help=split_help + " (for a machine that has just the 10,000 MNIST test digits)",
    )


def load_data(args):
    """``(train, test)`` Datasets for the data flags."""
    from .. import datasets

    name = args.dataset
    if name == "digits":
        if args.data_dir:
            raise UsageError("--data-dir does not apply to the embedded digits dataset")
        train, test = datasets.load_digits()
        if args.split_test_set:
            raise UsageError("--split-test-set applies to mnist and fashion-mnist only")
        return train, test
    loader = datasets.load_mnist if name == "mnist" else datasets.load_fashion_mnist
    kw = {"root": args.data_dir, "download": not args.no_download}
    if args.split_test_set:
        test_set = loader(split="test", **kw)
        if args.split_test_set >= len(test_set):
            raise UsageError(
                f"--split-test-set {args.split_test_set} leaves nothing to test on: the test set "
                f"has {len(test_set)} images"
            )
        return test_set.split(args.split_test_set)
    return loader(**kw)


def guess_dataset(model) -> str | None:
    """The dataset a model was most likely trained on, from its input size (64 pixels:
    the embedded digits; 784: MNIST), or None when the size says nothing."""
    return {64: "digits", 784: "mnist"}.get(model.sizes[0])


def load_model(path):
    """A saved model; a clear error if the file is missing or not a model."""
    from ..serialize import load

    return load(Path(path))


def check_fits(model, data, what="data") -> None:
    """The model's input size must match the data's features."""
    n = data.x.shape[1]
    if model.sizes[0] != n:
        raise UsageError(
            f"the model takes {model.sizes[0]} inputs but the {what} has {n} values per image "
            f"(pick the dataset the model was trained on)"
        )
