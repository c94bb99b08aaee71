"""``microgradnet train``, ``evaluate`` and ``predict``."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ..errors import MicrogradnetError
from ..files import open_regular
from ..serialize import save
from . import one_line
from .common import (
    SPLIT_TO_TEST,
    UsageError,
    add_data_flags,
    check_fits,
    layer_sizes,
    load_data,
    load_model,
    non_negative_int,
    positive_float,
    positive_int,
    remembered_data,
    trained_on,
)

DEFAULT_LR = {
    ("sgd", "mse"): 3.0,
    ("sgd", "cross-entropy"): 0.5,
    ("adam", "mse"): 1e-3,
    ("adam", "cross-entropy"): 1e-3,
}


def add_parser(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train a network and report its test accuracy",
        description="Train an MLP with mini-batch stochastic gradient descent. "
        "With no flags: 64-16-16-10 sigmoid network on the embedded digits.",
    )
    add_data_flags(p)
    p.add_argument(
        "--layers",
        type=layer_sizes,
        metavar="SIZES",
        help="neurons per layer, input first (default: inputs,16,16,10 — the 3Blue1Brown network)",
    )
    p.add_argument("--activation", choices=["sigmoid", "relu", "tanh"], default="sigmoid")
    p.add_argument(
        "--loss",
        choices=["mse", "cross-entropy"],
        default="mse",
        help="mse: the videos' sum of squared differences (sigmoid outputs); cross-entropy: "
        "softmax of raw output scores",
    )
    p.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    p.add_argument(
        "--lr",
        type=positive_float,
        help="learning rate (default: 3.0 for SGD+mse, 0.5 for SGD+cross-entropy, 0.001 for Adam)",
    )
    p.add_argument("--momentum", type=float, default=0.0, help="SGD momentum in [0, 1) (default 0)")
    p.add_argument("--batch-size", type=positive_int, default=10, help="mini-batch size (default 10)")
    p.add_argument(
        "--epochs",
        type=non_negative_int,
        help="passes over the training data (default: 30 for digits, 10 otherwise)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed for the initial weights and the shuffling")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--out", metavar="PATH", help="save the trained model here (.npz)")
    p.add_argument("--history", metavar="PATH", help="write the cost and accuracy per epoch as JSON")
    p.add_argument(
        "--watch",
        metavar="PAGE",
        help="write an HTML page that plays the training back: a slider over time, the weights, "
        "the lit network, the cost and the mistakes at each snapshot",
    )
    p.add_argument(
        "--snapshots",
        type=positive_int,
        default=30,
        metavar="K",
        help="snapshots of the model kept for --watch, evenly spaced (default 30)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar or per-epoch lines")
    p.set_defaults(func=run_train)

    e = sub.add_parser("evaluate", help="accuracy and cost of a saved model on a dataset's test set")
    e.add_argument("model", help="model file written by 'train --out'")
    add_data_flags(e, default=None, split_help=SPLIT_TO_TEST)
    e.add_argument(
        "--loss", choices=["mse", "cross-entropy"], help="cost to report (default: from the model)"
    )
    e.set_defaults(func=run_evaluate)

    r = sub.add_parser("predict", help="print the ten output activations for one image")
    r.add_argument("model", help="model file written by 'train --out'")
    src = r.add_mutually_exclusive_group(required=True)
    src.add_argument("--index", type=non_negative_int, help="an image of the dataset's test set, by index")
    src.add_argument(
        "--image",
        metavar="FILE",
        help="an image file (.png, .jpg, .npy): a light digit on a "
        "dark background, or dark on light (inverted)",
    )
    add_data_flags(r, default=None, split_help=SPLIT_TO_TEST)
    r.set_defaults(func=run_predict)


def _loss_of(model, flag) -> str:
    if flag:
        return flag
    return "mse" if model.output_activation_name != "none" else "cross-entropy"


def run_train(args) -> int:
    if not 0 <= args.momentum < 1:
        raise UsageError(f"--momentum must be in [0, 1), got {args.momentum}")
    # Every output is checked before training: minutes of work must not end in "no such folder".
    outputs = {
        "--out": check_output(args.out, "--out", suffix=".npz") if args.out else None,
        "--history": check_output(args.history, "--history") if args.history else None,
        "--watch": check_output(args.watch, "--watch") if args.watch else None,
    }
    if outputs["--watch"] and outputs["--watch"].suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"--watch: the page must be an .html file, got {outputs['--watch'].name}")
    given = [(flag, path.resolve()) for flag, path in outputs.items() if path]
    for i, (flag, path) in enumerate(given):
        for other, other_path in given[i + 1 :]:
            if path == other_path:
                raise UsageError(f"{flag} and {other} both name {path}: give them different files")
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, flush=True))
    model, history, sizes = train_network(args, say)
    failed = []
    if outputs["--out"]:
        failed += _write_or_rescue(lambda path: save(model, path), outputs["--out"], "the trained model")
    if outputs["--history"]:
        record = dict(history.as_dict(), sizes=sizes, dataset=args.dataset)
        failed += _write_or_rescue(
            lambda path: _write_json(path, record), outputs["--history"], "the history"
        )
    if outputs["--watch"]:
        from ..viz.learning import learning_page

        title = f"Watch a {'-'.join(map(str, sizes))} network learn {history.test_data.name}"
        failed += _write_or_rescue(
            lambda path: learning_page(history, path, title=title),
            outputs["--watch"],
            f"the page of {len(history.snapshots)} snapshots of the training run",
        )
    if failed:
        print(f"microgradnet train: error: {'; '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def check_output(path, flag: str, suffix: str | None = None) -> Path:
    """The file ``flag`` names, checked before any work: not a folder, in a folder that
    exists and may be written. ``suffix`` is added when missing, as ``save`` does."""
    path = Path(path)
    if suffix and path.suffix != suffix:
        path = path.with_name(path.name + suffix)
    if path.is_dir():
        raise UsageError(f"{flag}: {path} is a folder; give a file name")
    folder = path.resolve().parent
    if not folder.is_dir():
        raise UsageError(f"{flag}: the folder {path.parent} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{flag}: cannot write in the folder {folder} (permission denied)")
    return path


def _write_or_rescue(write, path: Path, what: str) -> list[str]:
    """``write(path)``; if that fails, ``write`` to a fallback file instead, so that minutes
    of training are not lost to a full disk. Returns the failures to report (empty if none)."""
    try:
        path = write(path)
        print(f"saved {what} to {path}")
        return []
    except (OSError, MicrogradnetError) as e:
        problem = f"could not write {what} to {path}: {_reason(e)}"
    rescue = Path(tempfile.gettempdir()) / f"microgradnet-{os.getpid()}-{path.name}"
    try:
        rescue = write(rescue)
    except (OSError, MicrogradnetError) as e:
        return [f"{problem}; nor to {rescue}: {_reason(e)}; {what} is lost"]
    return [f"{problem}; saved it to {rescue} instead"]


def _reason(e: Exception) -> str:
    return e.strerror if isinstance(e, OSError) and e.strerror else one_line(e)


def learning_rate_hint(history, result, model, test, lr) -> str | None:
    """One line about the learning rate when the cost rose instead of falling, or when the
    sigmoid outputs got stuck at 0 or 1 (cost ≈ 1.0, accuracy near chance); else None."""
    first, last = history.step_cost[0], history.cost[-1]
    smaller = f"try a smaller --lr, e.g. --lr {lr / 10:g}"
    if last > 2 * first:
        return f"the cost rose from {first:.4g} to {last:.4g} instead of falling: {smaller}"
    chance = 1 / max(test.num_classes, 1)
    if model.output_activation_name != "sigmoid" or result.accuracy > 2 * chance:
        return None
    from ..tensor import no_grad

    with no_grad():
        a = model(test.x[:1000].astype(model.dtype)).data
    stuck = float(np.mean(np.minimum(a, 1 - a) < 1e-3))
    if stuck < 0.9:
        return None
    return (
        f"the cost is stuck at {result.cost:.4f} and the accuracy near chance: {stuck:.0%} of the "
        f"sigmoid outputs are pinned at 0 or 1, where their slope is almost 0, so learning stops; {smaller}"
    )


def train_network(args, say):
    """Train the network the ``train`` flags in ``args`` describe, reporting through
    ``say`` and printing the final test accuracy: ``(model, history, sizes)``."""
    from .. import fit, nn, optim
    from ..errors import NumericalError
    from ..training import evaluate

    if not 0 <= args.momentum < 1:
        raise UsageError(f"--momentum must be in [0, 1), got {args.momentum}")
    train, test = load_data(args)
    n_in = train.x.shape[1]
    sizes = args.layers or [n_in, 16, 16, train.num_classes]
    if sizes[0] != n_in:
        raise UsageError(
            f"--layers starts with {sizes[0]} inputs but each {args.dataset} image has {n_in} "
            f"values; use --layers {n_in},{','.join(map(str, sizes[1:]))}"
        )
    if sizes[-1] < train.num_classes:
        raise UsageError(
            f"--layers ends with {sizes[-1]} outputs but {args.dataset} has {train.num_classes} classes"
        )
    epochs = args.epochs if args.epochs is not None else (30 if args.dataset == "digits" else 10)
    out_act = args.activation if args.loss == "mse" else None
    loss = "mse" if args.loss == "mse" else "cross_entropy"
    lr = args.lr or DEFAULT_LR[(args.optimizer, args.loss)]
    model = nn.MLP(
        sizes, activation=args.activation, output_activation=out_act, dtype=args.dtype, seed=args.seed
    )
    model.trained_on = trained_on(args)
    opt = (
        optim.SGD(model.parameters(), lr=lr, momentum=args.momentum)
        if args.optimizer == "sgd"
        else optim.Adam(model.parameters(), lr=lr)
    )
    say(model.summary())
    say(
        f"\ndata: {train.name} {len(train):,} training / {len(test):,} test images; "
        f"{args.optimizer.upper()} lr={lr:g}, batch {args.batch_size}, {epochs} epochs, loss {args.loss}, "
        f"seed {args.seed}"
    )

    def report(epoch, h):
        say(h.epoch_line(epoch, epochs))

    t0 = time.perf_counter()
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is explained below
            history = fit(
                model,
                train,
                epochs=epochs,
                batch_size=args.batch_size,
                loss=loss,
                optimizer=opt,
                test=test,
                seed=args.seed,
                progress=False
                if args.quiet
                else "bar",  # a bar in each epoch on a terminal; the lines are ours
                callback=report,
                snapshots=args.snapshots if getattr(args, "watch", None) else 0,
            )
    except NumericalError as e:
        raise UsageError(
            f"training diverged, nothing was saved: {e}. Try a smaller --lr, e.g. --lr {lr / 10:g}"
        ) from None
    seconds = time.perf_counter() - t0
    result = evaluate(model, test, loss)
    if epochs == 0:
        print(
            f"--epochs 0: nothing was trained; the network keeps its random initial weights "
            f"(test accuracy {result.accuracy:.2%}, cost {result.cost:.4f})"
        )
        return model, history, sizes
    print(
        f"test accuracy {result.accuracy:.2%} ({round(result.accuracy * result.n)}/{result.n}), "
        f"cost {result.cost:.4f}, trained in {seconds:.1f} s"
    )
    hint = learning_rate_hint(history, result, model, test, lr)
    if hint:
        print(f"hint: {hint}")
    return model, history, sizes


def _write_json(path, obj) -> Path:
    from ..atomic import atomic_write

    with atomic_write(path, "w", encoding="utf-8") as f:
        json.dump(obj, f)
    return Path(path)


def run_evaluate(args) -> int:
    from ..training import evaluate

    model = load_model(args.model)
    remembered_data(args, model)
    args.dataset = args.dataset or "digits"
    _, test = load_data(args, need_train=False)
    check_fits(model, test, f"{args.dataset} test set")
    result = evaluate(model, test, "mse" if _loss_of(model, args.loss) == "mse" else "cross_entropy")
    print(f"{args.model}: {test.name}: {result}")
    return 0


MAX_IMAGE_VALUES = 4096 * 4096


def read_image(path, shape) -> np.ndarray:
    """An image file as a float array of ``shape`` in [0, 1], light digit on dark (as in MNIST)."""
    path = Path(path)
    open_regular(path, UsageError, "image file").close()  # refuses a folder, a FIFO, a device
    if path.suffix.lower() == ".npy":
        try:  # mapped, not read: a header that promises more than the file holds is an error
            img = np.load(path, mmap_mode="r", allow_pickle=False)
        except (ValueError, EOFError, OSError):
            raise UsageError(f"--image: {path} is not a .npy array of numbers") from None
        if img.dtype.kind not in "biuf" or img.size > MAX_IMAGE_VALUES:
            raise UsageError(
                f"--image: {path} holds {img.size:,} values of {img.dtype}, not a grey image of numbers"
            )
        img = np.asarray(img, dtype=np.float64)
        if img.size == int(np.prod(shape)):
            img = img.reshape(shape)
    else:
        try:
            import matplotlib.image as mpimg
        except ImportError:
            raise UsageError(
                'reading PNG/JPEG images needs matplotlib: pip install "microgradnet[viz]"'
            ) from None
        try:
            img = np.asarray(mpimg.imread(path), dtype=np.float64)
        except Exception as e:  # noqa: BLE001 - any decoder failure is a bad file
            raise UsageError(f"--image: cannot read {path} as an image: {e}") from None
        if img.ndim == 3:
            img = img[..., :3].mean(axis=-1)
    if img.ndim != 2:
        raise UsageError(f"--image: expected a 2-D grey image, got an array of shape {img.shape}")
    if img.max() > 1:
        img = img / 255.0
    if img.mean() > 0.5:  # dark ink on light paper: invert to MNIST's light-on-dark
        img = 1.0 - img
    if img.shape != tuple(shape):
        img = _resize(img, shape)
    return np.clip(img, 0, 1)


def _resize(img, shape) -> np.ndarray:
    """Area-average resize (enough for a digit); no imaging library needed."""
    h, w = shape
    ys = np.linspace(0, img.shape[0], h + 1).astype(int)
    xs = np.linspace(0, img.shape[1], w + 1).astype(int)
    out = np.zeros(shape)
    for i in range(h):
        for j in range(w):
            block = img[ys[i] : max(ys[i + 1], ys[i] + 1), xs[j] : max(xs[j + 1], xs[j] + 1)]
            out[i, j] = block.mean()
    return out


def run_predict(args) -> int:
    from ..tensor import no_grad

    model = load_model(args.model)
    remembered_data(args, model)
    args.dataset = args.dataset or "digits"
    if args.image:
        side = int(round(model.sizes[0] ** 0.5))
        if side * side != model.sizes[0]:
            raise UsageError(f"the model takes {model.sizes[0]} inputs, not a square image")
        x = read_image(args.image, (side, side)).reshape(1, -1)
        label = None
        classes = [str(i) for i in range(model.sizes[-1])]
        what = args.image
    else:
        _, test = load_data(args, need_train=False)
        check_fits(model, test, f"{args.dataset} test set")
        if args.index >= len(test):
            raise UsageError(f"--index {args.index} is past the end of the test set ({len(test)} images)")
        x, label = test.x[args.index : args.index + 1], int(test.y[args.index])
        classes = test.classes
        what = f"{test.name} image {args.index} (label {classes[label]})"
    with no_grad():
        out = model(x.astype(model.dtype)).data[0]
    best = int(out.argmax())
    print(f"{what}: the network says {classes[best] if best < len(classes) else best}")
    hi = max(float(out.max()), 1e-12)
    for i, a in enumerate(out):
        name = classes[i] if i < len(classes) else str(i)
        bar = "█" * int(round(30 * max(float(a), 0) / hi))
        mark = "  <- answer" if i == best else ""
        print(f"  {name:>12}  {a:8.4f}  {bar}{mark}")
    sys.stdout.flush()
    return 0
