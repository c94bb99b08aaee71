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
    "the test images are those after the first N (default: the N the model was trained with)"
)


GUESSED = "the one the model file remembers; for older files, guessed from the model's input size: 64 is digits, 784 is mnist"


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


def load_data(args, need_train: bool = True):
    """``(train, test)`` Datasets for the data flags. With ``need_train=False`` (evaluate,
    predict, show) only the test files are read and ``train`` is None, so a machine with
    just the 10,000 MNIST test digits can run those commands."""
    from .. import datasets
    from ..datasets.mnist import MissingFilesError

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
    try:
        if args.split_test_set:
            test_set = loader(split="test", **kw)
            if args.split_test_set >= len(test_set):
                raise UsageError(
                    f"--split-test-set {args.split_test_set} leaves nothing to test on: the test set "
                    f"has {len(test_set)} images"
                )
            train, test = test_set.split(args.split_test_set)
            return (train if need_train else None), test
        if not need_train:
            return None, loader(split="test", **kw)
        return loader(**kw)
    except MissingFilesError as e:  # the same facts, in the command line's words
        raise UsageError(e.advice("pass --data-dir DIR", "--no-download", sep=" ")) from None


def guess_dataset(model) -> str | None:
    """The dataset a model was most likely trained on, from its input size (64 pixels:
    the embedded digits; 784: MNIST), or None when the size says nothing."""
    return {64: "digits", 784: "mnist"}.get(model.sizes[0])


def remembered_data(args, model) -> None:
    """Fill the data flags the user left out from what the model file remembers (the dataset
    and the ``--split-test-set`` it was trained with), else from its input size."""
    trained_on = getattr(model, "trained_on", None) or {}
    if args.dataset is None:
        args.dataset = trained_on.get("dataset") if trained_on.get("dataset") in DATASETS else None
        args.dataset = args.dataset or guess_dataset(model)
    if args.split_test_set is None and trained_on.get("dataset") == args.dataset:
        split = trained_on.get("split_test_set")
        if isinstance(split, int) and not isinstance(split, bool) and split > 0:
            args.split_test_set = split


def trained_on(args) -> dict:
    """What a model trained with these data flags records about its data (see ``mg.save``)."""
    record = {"dataset": args.dataset}
    if args.split_test_set:
        record["split_test_set"] = args.split_test_set
    return record


def load_model(path):
    """A saved model; a clear error if the file is missing, not a model or diverged."""
    from ..serialize import NonFiniteWeightsError, load

    try:
        return load(Path(path))
    except NonFiniteWeightsError as e:
        raise UsageError(
            f"{e.reason}: the training that wrote it diverged; train it again with a smaller --lr"
        ) from None


def check_fits(model, data, what="data") -> None:
    """The model's input size must match the data's features."""
    n = data.x.shape[1]
    if model.sizes[0] != n:
        raise UsageError(
            f"the model takes {model.sizes[0]} inputs but the {what} has {n} values per image "
            f"(pick the dataset the model was trained on)"
        )
