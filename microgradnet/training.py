"""Train and measure a network: ``evaluate`` (accuracy and cost) and ``fit`` (the SGD loop).

``fit`` is the loop every tutorial writes, with a progress bar and a history:

    for epoch in range(epochs):
        for xb, yb in batches(train, batch_size, shuffle=True, seed=seed + epoch):
            cost = loss(model(xb), yb)
            opt.zero_grad(); cost.backward(); opt.step()
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .data import DataLike, as_xy
from .errors import HIDDEN_FOR_USER_ERRORS, NumericalError
from .losses import LOSSES, get_loss  # noqa: F401  (LOSSES: the names fit accepts)
from .progress import Progress
from .tensor import Tensor, no_grad

if TYPE_CHECKING:
    from .nn import Module
    from .optim import Optimizer

Loss = Callable[[Tensor, Any], Tensor]
"""A cost function such as :func:`~microgradnet.squared_error`, called as ``loss(output, target)``
and returning a scalar Tensor."""


@dataclass
class Evaluation:
    """What :func:`evaluate` measured: the share of examples classified right, the mean cost."""

    accuracy: float
    cost: float
    n: int

    def __iter__(self) -> Iterator[float]:  # so that ``acc, cost = mg.evaluate(...)`` works
        return iter((self.accuracy, self.cost))

    def __str__(self) -> str:
        return (
            f"accuracy {self.accuracy:.2%} ({round(self.accuracy * self.n)}/{self.n}), cost {self.cost:.4f}"
        )

    __repr__ = __str__  # a notebook cell ending in evaluate(...) shows the readable line


def evaluate(
    model: Callable[[np.ndarray], Tensor], data: DataLike, loss: str | Loss = "mse", batch_size: int = 1000
) -> Evaluation:
    """Accuracy (the largest output is the predicted class) and mean cost of ``model`` on
    ``data`` (a Dataset or ``(x, y)`` with integer labels), without building a graph."""
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    x, y = as_xy(data, "evaluate")
    fn = get_loss(loss)
    if len(x) == 0:
        raise ValueError("evaluate: the data is empty")
    correct = 0
    total_cost = 0.0
    with no_grad():
        for i in range(0, len(x), batch_size):
            xb, yb = x[i : i + batch_size], y[i : i + batch_size]
            out = model(xb)
            correct += int((out.data.argmax(axis=-1) == yb).sum())
            total_cost += float(fn(out, yb).data) * len(xb)
    return Evaluation(correct / len(x), total_cost / len(x), len(x))


@dataclass
class History:
    """Per-epoch record of training: ``cost`` (mean training cost) and ``accuracy`` (the
    share of training examples classified right), both *running* figures over the epoch as
    Keras reports them: each batch counted from the forward pass that trained on it, with the
    weights before its step (no second pass over the data). When test data is given,
    ``test_cost`` and ``test_accuracy``; ``seconds`` per epoch; ``step_cost`` holds the cost
    of every mini-batch step (for a detailed cost curve)."""

    cost: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    test_cost: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    step_cost: list[float] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list, repr=False)  # fit(..., snapshots=K)
    test_data: DataLike | None = field(
        default=None, repr=False, compare=False
    )  # what fit tested on, for the pages

    def as_dict(self) -> dict[str, list[float]]:
        """The numbers (everything but the snapshots and the test data), as plain lists."""
        return {k: list(v) for k, v in vars(self).items() if k not in ("snapshots", "test_data")}

    def epoch_line(self, epoch: int, epochs: int | None = None) -> str:
        """One line about epoch ``epoch`` (counted from 0): ``epoch  3/10  cost 0.0412
        accuracy 95.10%  test accuracy 94.44%  (0.05 s)``; what is not measured is left out."""
        of = f"/{epochs}" if epochs is not None else ""
        width = len(str(epochs)) if epochs is not None else 1
        parts = [f"epoch {epoch + 1:>{width}}{of}", f"cost {self.cost[epoch]:.4f}"]
        for name, values in (("accuracy", self.accuracy), ("test accuracy", self.test_accuracy)):
            if epoch < len(values) and math.isfinite(values[epoch]):
                parts.append(f"{name} {values[epoch]:.2%}")
        line = "  ".join(parts)
        return line + (f"  ({self.seconds[epoch]:.2f} s)" if epoch < len(self.seconds) else "")

    def __str__(self):
        """A short summary (the lists themselves stay in the attributes): epochs, time,
        the final cost and accuracies, and the best test accuracy."""
        n = len(self.cost)
        if n == 0:
            return "History: no epochs yet"
        head = f"History: {n} epoch{'s' if n != 1 else ''}"
        if self.seconds:
            head += f" in {sum(self.seconds):.1f} s"
        parts = [f"final cost {self.cost[-1]:.4f}"]
        if self.accuracy and math.isfinite(self.accuracy[-1]):
            parts.append(f"accuracy {self.accuracy[-1]:.2%}")
        if self.test_accuracy:
            parts.append(f"test accuracy {self.test_accuracy[-1]:.2%}")
            best = max(range(len(self.test_accuracy)), key=lambda k: self.test_accuracy[k])
            if best != len(self.test_accuracy) - 1:
                parts.append(f"best {self.test_accuracy[best]:.2%} at epoch {best + 1}")
        lists = "per epoch: " + " ".join(f".{k}" for k in self.as_dict() if k != "step_cost")
        if self.step_cost:
            lists += f"; per step: .step_cost ({len(self.step_cost):,} values)"
        if self.snapshots:
            lists += f"; .snapshots ({len(self.snapshots)} models)"
        return f"{head}: {', '.join(parts)}\n  ({lists})"

    __repr__ = __str__  # a notebook cell ending in fit(...) shows this, not 10,000 numbers


@dataclass
class Snapshot:
    """A copy of the model as it was after ``step`` mini-batch steps (``epoch`` = the same
    time in epochs: 1.5 is half-way through the second epoch)."""

    step: int
    epoch: float
    model: Module


def snapshot_steps(count: int, total: int) -> list[int]:
    """``count`` step numbers evenly spaced over a training run of ``total`` steps, from 0
    (before the first step) to ``total`` (the trained model); fewer if there are fewer steps."""
    if count <= 0:
        return []
    if count == 1:
        return [total]
    return sorted({round(i * total / (count - 1)) for i in range(count)})


def _snapshot(model: Module, step: int, steps_per_epoch: int) -> Snapshot:
    twin = copy.deepcopy(model)
    for p in twin.parameters():
        p.grad = None
    return Snapshot(step=step, epoch=step / max(steps_per_epoch, 1), model=twin)


def fit(
    model: Module,
    train: DataLike,
    epochs: int = 10,
    lr: float = 3.0,
    batch_size: int = 10,
    loss: str | Loss = "mse",
    optimizer: Optimizer | None = None,
    test: DataLike | None = None,
    seed: int | None = 0,
    progress: bool | str = True,
    fast: bool = True,
    callback: Callable[[int, History], object] | None = None,
    snapshots: int = 0,
) -> History:
    """Train ``model`` on ``train`` with mini-batch stochastic gradient descent.

    Each epoch shuffles the data (seeded: ``seed + epoch``), walks it in mini-batches of
    ``batch_size``, and for each batch computes the cost, back-propagates and steps
    ``optimizer`` (default ``SGD(model.parameters(), lr)``). Returns a :class:`History`.
    ``fast=True`` replays the recorded graph of the first step instead of rebuilding it
    (same numbers, less Python); ``callback(epoch, history)`` runs after each epoch.
    A cost that becomes NaN or infinite stops training with a clear error.

    ``snapshots=K`` keeps K copies of the model evenly spaced over the run, from before the
    first step to the end, in ``history.snapshots`` (:class:`Snapshot`), and the test data in
    ``history.test_data``: :func:`microgradnet.viz.learning_page` plays them back. The default
    0 keeps nothing and costs nothing.

    ``progress=True`` shows a bar within each epoch and keeps one line per finished epoch
    (cost, accuracies, time), in a terminal or a notebook, and nothing in logs or pipes
    (``microgradnet.progress``); ``"bar"`` shows only the bar; ``False`` nothing.
    """
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    from .data import batches
    from .optim import SGD

    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
    fn = get_loss(loss)
    opt = optimizer if optimizer is not None else SGD(model.parameters(), lr=lr)
    from .replay import TrainStep

    step = TrainStep(model, fn, opt)
    step.replayable = step.replayable and fast  # fast=False: every step the plain way
    if isinstance(snapshots, bool) or not isinstance(snapshots, int) or snapshots < 0:
        raise ValueError(f"fit: snapshots must be a whole number >= 0, got {snapshots!r}")
    history = History()
    x, y = as_xy(train, "fit")
    per_epoch = -(-len(x) // batch_size) if isinstance(batch_size, int) and batch_size > 0 else 0
    keep = set(snapshot_steps(snapshots, epochs * per_epoch))
    done = 0
    if snapshots:
        history.test_data = test
        if 0 in keep:
            history.snapshots.append(_snapshot(model, 0, per_epoch))
    shown = Progress(enabled=bool(progress), lines=progress != "bar")
    for epoch in range(epochs):
        t0 = time.perf_counter()
        it = batches((x, y), batch_size=batch_size, shuffle=True, seed=None if seed is None else seed + epoch)
        total = 0.0
        count = 0
        # what each step's forward pass gave, for the running accuracy
        outputs: list[Any] = []
        targets: list[Any] = []
        for i, (xb, yb) in enumerate(shown.each(it, desc=f"epoch {epoch + 1}/{epochs}")):
            c = step(xb, yb)
            if not math.isfinite(c):
                raise NumericalError(
                    f"fit: the cost became {c} at epoch {epoch + 1}, step {i + 1}: "
                    f"the learning rate ({getattr(opt, 'lr', lr)}) is probably too large"
                )
            outputs.append(step.output)
            targets.append(yb)
            history.step_cost.append(c)
            done += 1
            if done in keep:
                history.snapshots.append(_snapshot(model, done, per_epoch))
            total += c * len(xb)
            count += len(xb)
            if i % 50 == 0:
                shown.note(f"cost={c:.4f}")
        history.accuracy.append(_running_accuracy(outputs, targets))
        history.cost.append(total / max(count, 1))
        if test is not None:
            ev = evaluate(model, test, fn)
            history.test_cost.append(ev.cost)
            history.test_accuracy.append(ev.accuracy)
        history.seconds.append(time.perf_counter() - t0)
        shown.end_epoch(history.epoch_line(epoch, epochs))
        if callback is not None:
            callback(epoch, history)
    return history


def _running_accuracy(outputs, targets) -> float:
    """The share of examples whose largest output is their label (or their target row's
    largest entry), over the outputs the training steps computed."""
    try:
        out = np.concatenate([np.reshape(o, (-1, np.shape(o)[-1])) for o in outputs])
        y = np.concatenate([np.asarray(t).reshape(len(o), -1) for t, o in zip(targets, outputs)])
    except (ValueError, IndexError):  # outputs that are not one row of scores per example
        return float("nan")
    labels = y[:, 0] if y.shape[1] == 1 and y.dtype.kind in "iu" else y.argmax(axis=-1)
    return float((out.argmax(axis=-1) == labels).mean()) if len(out) else float("nan")
