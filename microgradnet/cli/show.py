"""``microgradnet show``: the videos' pictures of a saved model, written to an image file."""

from __future__ import annotations

import json
from pathlib import Path

from ..files import open_regular
from .common import (
    GUESSED,
    SPLIT_TO_TEST,
    UsageError,
    add_data_flags,
    check_fits,
    guess_dataset,
    load_data,
    load_model,
    non_negative_int,
    positive_int,
    remembered_data,
)

WHAT = {
    "weights": "the first layer's weights as images: the pixel pattern each neuron looks for",
    "network": "the network lit by its activations for one test image",
    "noise": "the confident answer the network gives to pure noise",
    "nudges": "the nudges a test image asks of the output layer and the layer before (with "
    "--batch N: what each of N images asks, and the average)",
    "digits": "a grid of test images with their labels",
    "cost": "the cost curve of a training run (give the JSON written by 'train --history')",
    "draw": "an HTML page where you draw a digit and the network, running in the browser, reads it",
}


def add_parser(sub) -> None:
    p = sub.add_parser(
        "show",
        help="draw one of the videos' pictures of a saved model",
        description="Draw a picture: "
        + "; ".join(f"{k}: {v}" for k, v in WHAT.items())
        + ". Without MODEL, the default network of 'microgradnet train' is trained first "
        "(a second on the embedded digits).",
    )
    p.add_argument("what", choices=list(WHAT), help="which picture")
    p.add_argument(
        "model",
        nargs="?",
        help="model file written by 'train --out' (for 'cost': the JSON written by 'train --history'); "
        "default: train the default network first",
    )
    p.add_argument(
        "--out",
        metavar="PATH",
        help="image file to write (.png, .svg, .pdf; default WHAT.png); for draw, the page (default draw.html)",
    )
    p.add_argument(
        "--index",
        type=non_negative_int,
        help="which test image for network/nudges (default: 0 for network; for nudges the "
        "highest-cost image of the first ten); with --batch, the first of the batch",
    )
    p.add_argument(
        "--batch",
        type=positive_int,
        metavar="N",
        help="nudges: a table of what each of N test images asks, with the average under it",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the noise image")
    add_data_flags(
        p,
        default=None,
        split_help=SPLIT_TO_TEST + "; without MODEL, the default network trains on the first N",
        guessed=GUESSED + "; without MODEL: digits",
    )
    p.set_defaults(func=run_show)


def run_show(args) -> int:
    from ..viz import pictures

    page = args.what == "draw"
    out = Path(args.out or ("draw.html" if page else f"{args.what}.png"))
    suffixes = (".html", ".htm") if page else (".png", ".svg", ".pdf")
    if out.suffix.lower() not in suffixes:
        raise UsageError(f"--out must end in {', '.join(suffixes)}, got {out.name}")
    if not out.resolve().parent.is_dir():
        raise UsageError(f"--out: the folder {out.parent} does not exist")
    if args.batch is not None and args.what != "nudges":
        raise UsageError("--batch applies to 'show nudges' only")
    if args.model is None:
        model, history = _train_default(args)
        args.dataset = args.dataset or "digits"
    elif args.what == "cost":
        history = _read_history(args.model)
    else:
        model = load_model(args.model)
        remembered_data(args, model)
    if page:
        return _draw(model, args, out)
    if args.what == "cost":
        fig = pictures.cost_curve(history)
    else:
        test = None
        if args.what in ("network", "nudges", "digits"):
            if args.dataset is None:
                raise UsageError(f"the model takes {model.sizes[0]} inputs: say which --dataset it reads")
            _, test = load_data(args, need_train=False)
            check_fits(model, test, f"{args.dataset} test set")
            if args.index is not None and args.index >= len(test):
                raise UsageError(f"--index {args.index} is past the end of the test set ({len(test)} images)")
        shape = test.image_shape if test is not None else None
        classes = test.classes if test is not None else None
        if args.what == "weights":
            fig = pictures.show_weights(model, image_shape=shape)
        elif args.what == "noise":
            fig = pictures.show_noise(model, seed=args.seed, image_shape=shape)
        elif args.what == "network":
            assert test is not None  # loaded above for network, nudges and digits
            fig = pictures.show_network(model, test.x[args.index or 0], classes=classes, image_shape=shape)
        elif args.what == "nudges":
            fig = _nudges(model, test, args, classes)
        else:
            assert test is not None  # loaded above for network, nudges and digits
            fig = pictures.show_digits(test)
    path = pictures.save_figure(fig, out)
    print(f"wrote {path}: {WHAT[args.what]}")
    return 0


def _train_default(args):
    """``(model, history)`` of the network ``microgradnet train`` builds with no flags (on the
    dataset the data flags name), saying so first."""
    from . import build_parser
    from .train import train_network

    argv = ["train", "--quiet", "--dataset", args.dataset or "digits"]
    if args.data_dir:
        argv += ["--data-dir", args.data_dir]
    if args.no_download:
        argv.append("--no-download")
    if args.split_test_set:
        argv += ["--split-test-set", str(args.split_test_set)]
    train_args = build_parser().parse_args(argv)
    command = " ".join(["microgradnet train", *argv[2:]])
    if args.what == "cost":
        keep = f"{command} --history history.json, then microgradnet show cost history.json"
    else:
        keep = f"{command} --out model.npz, then microgradnet show {args.what} model.npz"
    print(
        f"no model given: training the network '{command}' builds first\n(to keep one and skip this: {keep})",
        flush=True,
    )
    model, history, _ = train_network(train_args, say=lambda *a: None)
    return model, history


def _draw(model, args, out: Path) -> int:
    """'show draw': the draw-a-digit page; the dataset (given or guessed) names the classes."""
    from ..viz.draw_page import digit_page

    dataset = args.dataset or guess_dataset(model)
    classes = None
    if dataset == "fashion-mnist":
        from ..datasets.mnist import FASHION_MNIST_CLASSES

        classes = FASHION_MNIST_CLASSES
    prep = {"digits": "digits", "mnist": "mnist", "fashion-mnist": "mnist"}.get(dataset or "")
    path = digit_page(model, out, preprocess=prep, classes=classes)
    print(f"wrote {path}: {WHAT['draw']}; open it in a browser (no network needed)")
    return 0


def _nudges(model, test, args, classes):
    """The figure of 'show nudges': one example's nudges, or the table of a batch."""
    from ..viz import pictures
    from ..viz.batch_nudges import nudge_table, show_nudge_table

    loss = "mse" if model.output_activation_name != "none" else "cross_entropy"
    if args.batch is not None:
        start = args.index or 0
        stop = min(start + args.batch, len(test))
        table = nudge_table(model, test.x[start:stop], test.y[start:stop], loss=loss, classes=classes)
        print(f"the nudges of test images {start}..{stop - 1} and their average")
        return show_nudge_table(table)
    index = args.index
    if index is None:  # a well-classified digit asks for nothing: show the one that costs most
        first = nudge_table(model, test.x[:10], test.y[:10], loss=loss, classes=classes)
        index = int(first.costs.argmax())
        said = first.classes[first.predicted[index]]
        print(
            f"picked test image {index}: a “{first.classes[first.labels[index]]}”, the network says "
            f"“{said}”, cost {first.costs[index]:.3f}, the highest of the first {len(first.costs)} "
            "test images (--index picks another)"
        )
    return pictures.show_nudges(model, test.x[index], int(test.y[index]), loss=loss, classes=classes)


MAX_HISTORY_BYTES = 1 << 26  # 64 MiB: a history of millions of steps


def _read_history(path) -> dict:
    path = Path(path)
    if not path.exists():
        raise UsageError(f"no such history file {path} (write one with 'microgradnet train --history PATH')")
    with open_regular(path, UsageError, "training history (JSON)") as f:
        text = f.read(MAX_HISTORY_BYTES + 1)
    if len(text) > MAX_HISTORY_BYTES:
        raise UsageError(f"{path} is not a training history: it is larger than {MAX_HISTORY_BYTES:,} bytes")
    try:
        data = json.loads(text.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UsageError(f"{path} is not a training history (JSON): {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("cost"), list):
        raise UsageError(f"{path} is not a training history: it has no 'cost' list")
    return data
