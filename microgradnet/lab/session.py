"""The lab's engine side: one network, trained in a worker thread, that the page can pause,
step, poke and look inside.

Nothing here knows about HTTP. :class:`LabSession` holds the model, its optimizer and the
data; a worker thread runs the real training step (:class:`~microgradnet.replay.TrainStep`,
the one ``fit`` uses) while the session is playing, and every other method takes the same
lock for the few milliseconds it needs, between two steps. The page asks for a small
:meth:`LabSession.state` about ten times a second, so training keeps its speed.
"""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..data import Dataset
from ..errors import MicrogradnetError
from ..tensor import Tensor, no_grad
from ..training import evaluate, get_loss
from ..viz.draw_page import preparation
from . import inspect as look

DATASETS = ("digits", "mnist", "fashion-mnist")
ACTIVATIONS = ("sigmoid", "tanh", "relu")
LOSSES = ("mse", "cross_entropy")
_MAX_STEP_COSTS = 20_000  # per-batch costs kept for the chart (older ones thinned out)
_TRAIN_PROBE = 2_000  # training images measured at each epoch's end (train vs test accuracy)


class LabError(MicrogradnetError, ValueError):
    """A request the lab cannot carry out (a bad setting, an unknown neuron, nothing to undo)."""


def _number(value, what: str, low: float, high: float, integer: bool = False):
    """``value`` as a number in ``[low, high]``, or a LabError that names ``what``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise LabError(f"{what} must be a number, got {value!r}")
    if integer and int(value) != value:
        raise LabError(f"{what} must be a whole number, got {value!r}")
    if not (math.isfinite(value) and low <= value <= high):
        raise LabError(f"{what} must be between {low:g} and {high:g}, got {value!r}")
    return int(value) if integer else float(value)


class _TurnLock:
    """A re-entrant lock that knows when someone is waiting for it.

    The worker thread takes the lock for each training step and gives it back between steps;
    an ordinary lock would let the worker take it straight back, starving the page's
    requests. The worker looks at ``waiting`` after each step and steps aside only then, so
    with nobody waiting training runs at full speed."""

    def __init__(self):
        # Any: Condition also calls RLock's private methods (below), which typeshed does not list.
        self._lock: Any = threading.RLock()
        self._count = threading.Lock()
        self.waiting = 0

    def acquire(self, blocking=True, timeout=-1):
        with self._count:
            self.waiting += 1
        try:
            return self._lock.acquire(blocking, timeout)
        finally:
            with self._count:
                self.waiting -= 1

    def release(self):
        self._lock.release()

    __enter__ = acquire

    def __exit__(self, *exc):
        self._lock.release()

    # What threading.Condition needs from a re-entrant lock.
    def _is_owned(self):
        return self._lock._is_owned()

    def _release_save(self):
        return self._lock._release_save()

    def _acquire_restore(self, state):
        self._lock._acquire_restore(state)


class LabSession:
    """One lab: a model, its data and its training, shared by the worker thread and the page.

    ``data_dir`` is where MNIST / Fashion-MNIST files are looked for (nothing is downloaded
    unless ``download``); ``save_dir`` is the only folder the lab writes models to.
    """

    def __init__(self, data_dir=None, save_dir="microgradnet-lab", download: bool = False):
        self.data_dir = None if data_dir is None else Path(data_dir)
        self.save_dir = Path(save_dir)
        self.download = bool(download)
        self._lock = _TurnLock()
        self._wake = threading.Condition(self._lock)  # type: ignore[arg-type]  # a lock with what Condition uses
        self._data_cache: dict[str, tuple[Dataset, Dataset]] = {}
        self._mode = "paused"  # paused | playing | steps | epoch
        self._steps_left = 0
        self._closed = False
        self.error: str | None = None
        self.saved: list[str] = []
        self.build()
        self._worker = threading.Thread(target=self._run, name="microgradnet-lab-training", daemon=True)
        self._worker.start()

    # ----- data -------------------------------------------------------------------------------
    def available_datasets(self) -> list[str]:
        """The datasets this machine has: the embedded digits always, the others when their
        files are in ``data_dir``, the cache or Debian's folder (nothing is downloaded)."""
        names = ["digits"]
        for name in DATASETS[1:]:
            try:
                self._load(name)
            except Exception:  # noqa: BLE001 - missing or unreadable files: not offered
                continue
            names.append(name)
        return names

    def _load(self, name: str) -> tuple[Dataset, Dataset]:
        if name in self._data_cache:
            return self._data_cache[name]
        from .. import datasets

        if name == "digits":
            pair = datasets.load_digits()
        elif name in ("mnist", "fashion-mnist"):
            loader = datasets.load_mnist if name == "mnist" else datasets.load_fashion_mnist
            kw: dict[str, Any] = {"root": self.data_dir, "download": self.download, "progress": False}
            try:
                pair = loader(**kw)
            except MicrogradnetError:
                # Only the 10,000 test images (what many offline machines have): train on the
                # first 8,000 and test on the other 2,000, as ``--split-test-set 8000`` does.
                test = loader(split="test", **kw)
                pair = test.split(8000)
        else:
            raise LabError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
        self._data_cache[name] = pair
        return pair

    # ----- building ---------------------------------------------------------------------------
    def build(
        self,
        dataset: str = "digits",
        hidden=(16, 16),
        activation: str = "sigmoid",
        loss: str = "mse",
        lr: float = 3.0,
        batch_size: int = 10,
        seed: int = 0,
    ) -> dict:
        """A new network on ``dataset``: ``hidden`` neurons per hidden layer, sigmoid/tanh/relu,
        the squared-error (``mse``) or ``cross_entropy`` cost. Training starts paused."""
        from ..nn import MLP
        from ..optim import SGD
        from ..replay import TrainStep

        if dataset not in DATASETS:
            raise LabError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
        if activation not in ACTIVATIONS:
            raise LabError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
        if loss not in LOSSES:
            raise LabError(f"unknown cost {loss!r}; choose mse (squared error) or cross_entropy")
        if isinstance(hidden, (str, bytes)) or not hasattr(hidden, "__iter__"):
            raise LabError(f"hidden must be a list of layer sizes, got {hidden!r}")
        hidden = [_number(h, "each hidden layer size", 1, 512, integer=True) for h in hidden]
        if len(hidden) > 4:
            raise LabError(f"at most 4 hidden layers in the lab, got {len(hidden)}")
        lr = _number(lr, "the learning rate", 1e-6, 100.0)
        batch_size = _number(batch_size, "the batch size", 1, 1000, integer=True)
        seed = _number(seed, "the seed", 0, 2**31 - 1, integer=True)
        try:
            train, test = self._load(dataset)
        except LabError:
            raise
        except MicrogradnetError as e:
            raise LabError(f"{dataset} is not available here: {e}") from None
        with self._lock:
            self._mode, self._steps_left = "paused", 0
            out_act = None if loss == "cross_entropy" else activation
            sizes = [train.x.shape[1], *hidden, train.num_classes]
            self.model = MLP(sizes, activation=activation, output_activation=out_act, seed=seed)
            self.initial = [p.data.copy() for p in self.model.parameters()]
            self.loss_name, self.loss = loss, get_loss(loss)
            self.opt = SGD(self.model.parameters(), lr=lr)
            self.train_step = TrainStep(self.model, self.loss, self.opt)
            self.settings: dict[str, Any] = {
                "dataset": dataset,
                "sizes": sizes,
                "activation": activation,
                "loss": loss,
                "lr": lr,
                "batch_size": batch_size,
                "seed": seed,
            }
            self.train, self.test = train, test
            self.image_shape = train.image_shape
            self.preparation: dict | None
            try:  # how a drawing becomes an input, as the draw-a-digit page does it
                self.preparation = preparation(sizes[0])
            except ValueError:
                self.preparation = None  # inputs that are not a square picture: nothing to draw
            self.classes = list(train.classes) if train.classes is not None else [str(i) for i in range(10)]
            self.epoch, self.step, self._pos = 0, 0, 0
            self._order = self._epoch_order(0)
            self.step_costs: list[float] = []
            self.step_every = 1  # step_costs holds every step_every-th step (thinned when long)
            self.cost: float | None = None
            self.epoch_cost: list[float] = []
            self.train_accuracy: list[float] = []
            self.test_accuracy: list[float] = []
            self._epoch_sum, self._epoch_n = 0.0, 0
            self.last_batch: tuple[np.ndarray, np.ndarray] | None = None
            # each edit: (array, where, old values, (layer, index, action)) for every change
            self.undo_stack: list[list[tuple[np.ndarray, tuple, np.ndarray, tuple[int, int, str]]]] = []
            self.switched_off: set[tuple[int, int]] = set()
            self.error = None
            self.version = getattr(self, "version", 0) + 1
            self.start_accuracy = evaluate(self.model, self.test, self.loss).accuracy
        return self.state()

    def _epoch_order(self, epoch: int) -> np.ndarray:
        return np.random.default_rng(self.settings["seed"] + epoch).permutation(len(self.train))

    # ----- training ---------------------------------------------------------------------------
    def control(self, action: str, lr=None, batch_size=None) -> dict:
        """``play``, ``pause``, ``step`` (one mini-batch) or ``epoch`` (to the end of this epoch);
        ``lr`` and ``batch_size`` change the next steps, also while playing."""
        with self._lock:
            if lr is not None:
                self.opt.lr = self.settings["lr"] = _number(lr, "the learning rate", 1e-6, 100.0)
            if batch_size is not None:
                self.settings["batch_size"] = _number(batch_size, "the batch size", 1, 1000, integer=True)
            if action == "play":
                self._mode, self.error = "playing", None
            elif action == "pause":
                self._mode, self._steps_left = "paused", 0
            elif action == "step":
                self._mode, self._steps_left, self.error = "steps", self._steps_left + 1, None
            elif action == "epoch":
                self._mode, self.error = "epoch", None
            elif action not in (None, "set"):
                raise LabError(f"unknown action {action!r}; choose play, pause, step, epoch or set")
            self._wake.notify_all()
        return self.state()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until the worker has paused (after ``step`` or ``epoch``); for scripts and tests."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._mode != "paused":
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._wake.wait(left)
        return True

    def close(self) -> None:
        """Stop the worker thread."""
        with self._lock:
            self._closed = True
            self._mode = "paused"
            self._wake.notify_all()
        self._worker.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._lock:
                while self._mode == "paused" and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                try:
                    self._one_step()
                except Exception as e:  # noqa: BLE001 - shown on the page, training pauses
                    self.error = f"{type(e).__name__}: {e}"
                    self._mode = "paused"
                    self._wake.notify_all()
            # Between two steps the lock is free: a page request waiting for it gets its turn.
            if self._lock.waiting:
                time.sleep(0.0005)

    def _one_step(self) -> None:
        """One mini-batch of SGD; at the end of the data, the epoch's measurements."""
        bs = self.settings["batch_size"]
        idx = self._order[self._pos : self._pos + bs]
        xb, yb = self.train.x[idx], self.train.y[idx]
        c = self.train_step(xb, yb)
        self.last_batch = (xb, yb)
        self._pos += len(idx)
        self.step += 1
        self.cost = c
        if not math.isfinite(c):
            self._mode = "paused"
            self.error = f"the cost became {c} at step {self.step}: the learning rate is too large"
            self._wake.notify_all()
            return
        self._epoch_sum += c * len(idx)
        self._epoch_n += len(idx)
        if self.step % self.step_every == 0:
            self.step_costs.append(c)
            if len(self.step_costs) >= _MAX_STEP_COSTS:  # keep every other one: bounded memory
                self.step_costs = self.step_costs[::2]
                self.step_every *= 2
        if self._mode == "steps":
            self._steps_left -= 1
            if self._steps_left <= 0:
                self._mode = "paused"
                self._wake.notify_all()
        if self._pos >= len(self._order):
            self._end_epoch()

    def _end_epoch(self) -> None:
        self.epoch_cost.append(self._epoch_sum / max(self._epoch_n, 1))
        probe = min(len(self.train), _TRAIN_PROBE)
        self.train_accuracy.append(
            evaluate(self.model, (self.train.x[:probe], self.train.y[:probe])).accuracy
        )
        self.test_accuracy.append(evaluate(self.model, self.test, self.loss).accuracy)
        self.epoch += 1
        self._pos, self._epoch_sum, self._epoch_n = 0, 0.0, 0
        self._order = self._epoch_order(self.epoch)
        if self._mode == "epoch":
            self._mode = "paused"
            self._wake.notify_all()

    # ----- what the page shows ------------------------------------------------------------------
    def state(self, since: int = 0) -> dict:
        """The small, frequent update: counters, the latest costs (the per-batch costs from
        index ``since`` on), accuracies per epoch and the hints."""
        with self._lock:
            since = max(0, min(int(since), len(self.step_costs)))
            return {
                "version": self.version,
                "mode": self._mode,
                "running": self._mode != "paused",
                "settings": dict(self.settings),
                "classes": self.classes,
                "preparation": self.preparation,
                "epoch": self.epoch,
                "step": self.step,
                "batches_per_epoch": math.ceil(len(self.train) / self.settings["batch_size"]),
                "position": self._pos,
                "train_size": len(self.train),
                "test_size": len(self.test),
                "cost": self.cost,
                "step_every": self.step_every,
                "step_costs_from": since,
                "step_costs": self.step_costs[since:],
                "step_costs_total": len(self.step_costs),
                "epoch_cost": list(self.epoch_cost),
                "train_accuracy": list(self.train_accuracy),
                "test_accuracy": list(self.test_accuracy),
                "start_accuracy": self.start_accuracy,
                "hints": self.hints(),
                "error": self.error,
                "saved": list(self.saved),
                "can_undo": bool(self.undo_stack),
            }

    def hints(self) -> list[str]:
        """One line per way the training is going wrong, each naming the knob to turn."""
        with self._lock:
            return look.hints(
                model=self.model,
                settings=self.settings,
                step_costs=self.step_costs,
                epoch_cost=self.epoch_cost,
                train_accuracy=self.train_accuracy,
                test_accuracy=self.test_accuracy,
                probe=self.test.x[:200],
                error=self.error,
            )

    def weights(self, bins: int = 30) -> dict:
        """The first layer's weights as images (one per neuron) and each layer's weight
        distribution now and at the start, as histograms over the same bins."""
        with self._lock:
            layers = self.model.layers
            w0 = layers[0].weight.data
            shape = self.image_shape or look.square_shape(w0.shape[0])
            images = [w0[:, j].astype(float).round(5).tolist() for j in range(w0.shape[1])]
            hist = []
            for i, layer in enumerate(layers):
                now = layer.weight.data.ravel().astype(float)
                start = self.initial[2 * i].ravel().astype(float)
                lo = float(min(now.min(), start.min()))
                hi = float(max(now.max(), start.max()))
                if hi <= lo:
                    hi = lo + 1e-6
                edges = np.linspace(lo, hi, bins + 1)
                hist.append(
                    {
                        "layer": i,
                        "edges": edges.round(6).tolist(),
                        "now": np.histogram(now, edges)[0].tolist(),
                        "start": np.histogram(start, edges)[0].tolist(),
                    }
                )
            return {"image_shape": list(shape) if shape else None, "images": images, "histograms": hist}

    # ----- draw and poke ----------------------------------------------------------------------
    def _input(self, x) -> np.ndarray:
        n = self.model.sizes[0]
        try:
            arr = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            raise LabError(f"input must be a list of {n} numbers") from None
        if arr.shape != (n,):
            raise LabError(
                f"input must be a list of {n} numbers (the network's inputs), got shape {arr.shape}"
            )
        if not np.all(np.isfinite(arr)):
            raise LabError("input must hold finite numbers")
        return arr.astype(self.model.layers[0].weight.data.dtype)

    def forward(self, x) -> dict:
        """The network lit by one input: every layer's weighted sums ``z`` and activations
        ``a`` (the outputs last), the answer, and, for a cost on raw scores, the softmax."""
        with self._lock:
            a = self._input(x)[None, :]
            zs, acts = [], [a[0].astype(float).tolist()]
            with no_grad():
                for layer in self.model.layers:
                    z = Tensor(a) @ layer.weight.data
                    z = z.add_bias(layer.bias.data)
                    a_t = layer.activation.forward(z) if layer.activation is not None else z
                    zs.append(z.data[0].astype(float).tolist())
                    a = a_t.data
                    acts.append(a[0].astype(float).tolist())
            out = np.asarray(acts[-1])
            probs = None
            if self.loss_name == "cross_entropy":
                e = np.exp(out - out.max())
                probs = (e / e.sum()).tolist()
            # The weights between later layers, for the lines of the lit network (small ones only).
            links = [
                layer.weight.data.astype(float).round(4).tolist() if layer.weight.data.size <= 4096 else None
                for layer in self.model.layers[1:]
            ]
            return {
                "z": zs,
                "activations": acts,
                "weights": links,
                "output": acts[-1],
                "probabilities": probs,
                "answer": int(out.argmax()),
                "classes": self.classes,
                "switched_off": sorted(list(k) for k in self.switched_off),
            }

    def neuron(self, layer: int, index: int, x) -> dict:
        """Neuron ``index`` of layer ``layer`` (1 = the first hidden layer) for input ``x``:
        its weighted sum, bias and output."""
        with self._lock:
            lin = self._linear(layer, index)
            seen = self.forward(x)
            return {
                "layer": layer,
                "index": index,
                "weighted_sum": seen["z"][layer - 1][index] - float(lin.bias.data[index]),
                "bias": float(lin.bias.data[index]),
                "z": seen["z"][layer - 1][index],
                "output": seen["activations"][layer][index],
                "switched_off": (layer, index) in self.switched_off,
            }

    def _linear(self, layer, index):
        layers = self.model.layers
        layer = _number(layer, "layer", 1, len(layers), integer=True)
        size = layers[layer - 1].out_features
        _number(index, f"the neuron index in layer {layer}", 0, size - 1, integer=True)
        return layers[layer - 1]

    def poke(self, layer: int, index: int, action: str, amount: float = 0.0) -> dict:
        """Edit one neuron and remember how to undo it:

        * ``shift_bias``: ``b[j] += amount`` (how strong the signal must be);
        * ``scale_weights``: ``W[:, j] *= amount`` (how strongly it listens to its inputs);
        * ``switch_off``: the next layer stops hearing it — its outgoing weights
          ``W_next[j, :]`` become 0 (a hidden neuron only).

        Returns the test accuracy after the edit."""
        with self._lock:
            lin = self._linear(layer, index)
            layer, index = int(layer), int(index)
            edits: list[tuple[np.ndarray, tuple, Any]]  # (array, where, new values)
            if action == "shift_bias":
                amount = _number(amount, "the bias shift", -100, 100)
                edits = [(lin.bias.data, (index,), lin.bias.data[index] + amount)]
            elif action == "scale_weights":
                amount = _number(amount, "the weight scale", -100, 100)
                edits = [(lin.weight.data, (slice(None), index), lin.weight.data[:, index] * amount)]
            elif action == "switch_off":
                if layer == len(self.model.layers):
                    raise LabError("an output neuron has no next layer to switch off; shift its bias instead")
                nxt = self.model.layers[layer].weight.data
                edits = [(nxt, (index, slice(None)), np.zeros_like(nxt[index, :]))]
                self.switched_off.add((layer, index))
            else:
                raise LabError(f"unknown edit {action!r}; choose shift_bias, scale_weights or switch_off")
            record = []
            for arr, where, new in edits:
                record.append((arr, where, np.array(arr[where], copy=True), (layer, index, action)))
                arr[where] = new
            self.undo_stack.append(record)
            self.version += 1
            return self._after_edit()

    def undo(self) -> dict:
        """Take the last edit back."""
        with self._lock:
            if not self.undo_stack:
                raise LabError("nothing to undo")
            for arr, where, old, (layer, index, action) in reversed(self.undo_stack.pop()):
                arr[where] = old
                if action == "switch_off":
                    self.switched_off.discard((layer, index))
            self.version += 1
            return self._after_edit()

    def _after_edit(self) -> dict:
        acc = evaluate(self.model, self.test, self.loss).accuracy
        return {"test_accuracy": acc, "can_undo": bool(self.undo_stack)}

    def save(self) -> str:
        """Save the model (with its edits) into ``save_dir`` under a new name; returns the name."""
        from ..serialize import save

        with self._lock:
            self.save_dir.mkdir(parents=True, exist_ok=True)
            stamp = time.strftime("%Y%m%d-%H%M%S")
            n = 1
            while (self.save_dir / f"lab-{stamp}-{n}.npz").exists():
                n += 1
            path = save(self.model, self.save_dir / f"lab-{stamp}-{n}.npz")
            self.saved.append(path.name)
            return path.name

    # ----- explain and look inside ------------------------------------------------------------
    def explain_html(self) -> str:
        """The backprop stepper page of the current mini-batch (the last one trained, or the
        first of the epoch before any step), for the network as it is now."""
        from ..nn import MLP
        from ..viz.stepper import stepper_html

        with self._lock:
            if self.last_batch is not None:
                xb, yb = self.last_batch
            else:
                idx = self._order[: self.settings["batch_size"]]
                xb, yb = self.train.x[idx], self.train.y[idx]
            # A float64 twin of the network as it is now, so that the page's numbers are exact
            # to many digits and the training model's gradients stay untouched.
            s = self.settings
            model = MLP(
                s["sizes"],
                activation=s["activation"],
                output_activation=None if s["loss"] == "cross_entropy" else s["activation"],
                dtype=np.float64,
            )
            model.load_state_dict(self.model.state_dict())
        cost = self.loss(model(Tensor(xb.astype(np.float64))), yb)
        return stepper_html(cost, model=model, title=f"step {self.step + 1}: backpropagation of this batch")

    def confusion(self, per_cell: int = 24) -> dict:
        """The test set's confusion matrix (rows: the true class, columns: the answer) with the
        indices of up to ``per_cell`` test images behind each wrong cell."""
        with self._lock:
            return look.confusion(self.model, self.test, per_cell)

    def images(self, ids) -> dict:
        """Test images by index (pixel values in [0, 1]) with their labels."""
        with self._lock:
            if not isinstance(ids, list) or len(ids) > 200:
                raise LabError("ids must be a list of at most 200 test image indices")
            ids = [_number(i, "an image index", 0, len(self.test) - 1, integer=True) for i in ids]
            return {
                "image_shape": list(self.image_shape) if self.image_shape else None,
                "images": [self.test.x[i].astype(float).round(3).tolist() for i in ids],
                "labels": [int(self.test.y[i]) for i in ids],
            }

    def embedding(self, layer: int, method: str = "pca", n: int = 500) -> dict:
        """Layer ``layer``'s activations of ``n`` test images mapped to 2-D, with their labels."""
        with self._lock:
            layer = _number(layer, "layer", 0, len(self.model.layers), integer=True)
            n = _number(n, "the number of images", 10, 2000, integer=True)
            x, y = self.test.x[:n], self.test.y[:n]
            acts = look.layer_activations(self.model, x)[layer]
        return look.embed(acts, y, method)
