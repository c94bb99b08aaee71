"""Record once, replay: a training step without rebuilding the graph every time.

The plain training step builds a fresh graph for every mini-batch::

    cost = loss(model(xb), yb)       # forward: one Tensor and one op object per operation
    opt.zero_grad(); cost.backward() # backward: write the graph down as a tape, walk it
    opt.step()

With small batches the numbers are tiny (10 images of 784 pixels), so much of the time goes
into the *bookkeeping*: calling the modules, creating Tensors, writing the tape. The
arithmetic itself is a few dozen numpy calls.

Why replay is allowed: the graph of a training step has the same shape every step. The same
layers, in the same order, applied to a batch of the same shape give the same ops wired the
same way; only the numbers flowing through them change. So :class:`TrainStep` runs the first
step with the normal engine and keeps its :class:`~microgradnet.tape.Tape` — the very list
``backward()`` walks. Later steps put the new batch into the tape's input leaf and the new
target into its target leaf, run :meth:`Tape.forward <microgradnet.tape.Tape.forward>` (the
same op objects, in the recorded order) and :meth:`Tape.backward
<microgradnet.tape.Tape.backward>` (the engine's one backward walk), then
``optimizer.step()``. No second copy of any gradient rule exists: the numbers are the
plain loop's to the last bit (the tests compare them).

When is a recorded tape *not* valid any more? When the graph would come out different: a
batch of another shape or dtype (the last, smaller batch of an epoch), labels instead of
one-hot rows, a layer swapped or a parameter reshaped or frozen, or recording switched off
with ``no_grad()``. Each step checks these first; a new shape gets its own tape (recorded by
one normal step), a changed model throws the tapes away. And because a model might do
something that depends on the *values* of the data (a constant computed from the batch,
random noise), the first replay of every tape is checked against the normal engine: the
output, the cost and every parameter's gradient must be equal to the last bit, or the tape
is dropped and every later step runs the normal way. Any error in a replay also sends the
step through the normal engine, whose messages are the helpful ones.

Only the two costs of the library, :func:`~microgradnet.squared_error` and
:func:`~microgradnet.cross_entropy`, are replayed: their target changes every step, and
``losses.TARGETS`` says how each prepares it (labels become one-hot rows or class indices,
exactly as the cost functions do). With any other cost function every step runs the
normal way.

Usage (``fit(..., fast=True)`` does this for you)::

    step = TrainStep(model, mg.squared_error, opt)
    for xb, yb in batches(train, 10, shuffle=True, seed=0):
        cost = step(xb, yb)          # a Python float; step.output holds the model's output
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import threads
from .errors import HIDDEN_FOR_USER_ERRORS
from .losses import TARGETS, get_loss
from .tape import Tape
from .tensor import Tensor, is_grad_enabled

__all__ = ["TrainStep"]

_MAX_TAPES = 4  # tapes kept per TrainStep (one per batch shape: full batches, the last one …)


class _Recorded:
    """A recorded step for one batch shape: the tape, and where the batch, the target and
    the model's output sit in it."""

    __slots__ = ("tape", "x", "target", "out", "out_like", "seed", "checked")

    def __init__(self, tape, x, target, out, out_like, seed):
        self.tape, self.x, self.target, self.out = tape, x, target, out
        self.out_like, self.seed = out_like, seed
        self.checked = False


class TrainStep:
    """One training step — cost, backward, optimizer step — that replays a recorded tape.

    ``TrainStep(model, loss_fn, optimizer)``; calling ``step(xb, yb)`` does
    ``optimizer.zero_grad()``, ``loss_fn(model(xb), yb).backward()``, ``optimizer.step()``
    and returns the cost as a Python float, with the same numbers as those three lines;
    ``step.output`` is then the model's output for the batch (a numpy array).
    The first call for each batch shape records (runs the normal engine); later ones replay.
    ``records``, ``replays`` and ``plain_steps`` count what happened; ``reset()`` forgets
    the tapes. See the module docstring for why and when replaying is allowed.
    """

    def __init__(self, model, loss_fn, optimizer, verify: bool = True):
        loss_fn = get_loss(loss_fn)
        self.model = model
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.verify = verify
        self.records = 0
        self.replays = 0
        self.plain_steps = 0
        self.output: np.ndarray | None = None
        self.replayable = loss_fn in TARGETS
        self._target: Any = TARGETS.get(loss_fn)
        self._tapes: dict = {}
        self._structure = None

    def reset(self) -> None:
        """Forget every recorded tape: the next step records again."""
        self._tapes.clear()
        self._structure = None

    @property
    def tapes(self) -> list[Tape]:
        """The recorded tapes (one per batch shape seen)."""
        return [r.tape for r in self._tapes.values()]

    # ----- one step -------------------------------------------------------------------
    def __call__(self, xb, yb) -> float:
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        if not self.replayable or not is_grad_enabled():
            return self._plain(xb, yb)
        x = self._input(xb)
        if x is None or isinstance(yb, Tensor):
            return self._plain(xb, yb)
        y = yb if isinstance(yb, np.ndarray) else np.asarray(yb)
        rec = self._tapes.get((x.shape, x.dtype, y.shape, y.dtype))
        if rec is None or not self._unchanged():
            return self._record(x, xb, y)
        tape = rec.tape
        if tape.products:
            threads.choose_for(tape.products)
        try:
            values = tape.forward({rec.x: x, rec.target: self._target(rec.out_like, y)}, in_place=True)
        except Exception:  # the normal engine explains what is wrong (or records anew)
            self.reset()
            return self._plain(xb, yb)
        cost = values[tape.root]
        out = values[rec.out]
        c = float(cost)
        if not math.isfinite(c):  # the normal engine raises the helpful error (or goes on)
            _release(tape)
            return self._plain(xb, yb)
        if not rec.checked:
            return self._first_replay(rec, out, cost, xb, yb)
        self.optimizer.zero_grad()
        tape.backward(rec.seed)
        self.optimizer.step()
        self.replays += 1
        self.output = out
        return c

    def _plain(self, xb, yb) -> float:
        """The three lines of the ordinary training loop."""
        out = self.model(xb)
        cost = self.loss_fn(out, yb)
        self.optimizer.zero_grad()
        cost.backward()
        self.optimizer.step()
        self.plain_steps += 1
        self.output = out.data if isinstance(out, Tensor) else np.asarray(out)
        return float(cost.data)

    def _input(self, xb):
        """The batch as an array of the parameters' dtype (as ``Linear`` converts it), or
        None when the normal engine should handle it."""
        x = xb.data if isinstance(xb, Tensor) else xb
        if isinstance(xb, Tensor) and xb.requires_grad:
            return None
        if not isinstance(x, np.ndarray):
            x = np.asarray(x)
        if x.dtype.kind not in "fiub":
            return None
        params = self.optimizer.params
        dt = params[0].data.dtype if params else x.dtype
        return x if x.dtype == dt else x.astype(dt)

    # ----- recording ------------------------------------------------------------------
    def _record(self, x, xb, y) -> float:
        """Run one normal step on ``x`` and keep its tape."""
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        xt = Tensor._make(x, None, ())
        out = self.model(xt)
        cost = self.loss_fn(out, y)
        rec = _recorded(cost, xt, out)
        self.optimizer.zero_grad()
        if rec is None:
            cost.backward()
        else:
            if rec.tape.products:
                threads.choose_for(rec.tape.products)
            rec.tape.backward(rec.seed)  # what cost.backward() does, on the tape we keep
        self.optimizer.step()
        self.records += 1
        self.output = out.data if isinstance(out, Tensor) else np.asarray(out)
        c = float(cost.data)
        if rec is None:  # a graph the tape cannot describe: every step runs the normal way
            self.replayable = False
        else:
            rec.tape.forget_tensors()  # keep the ops, not this batch's graph
            if len(self._tapes) >= _MAX_TAPES:
                self._tapes.clear()
            self._tapes[(x.shape, x.dtype, y.shape, y.dtype)] = rec
            if self._structure is None:
                self._structure = _snapshot(self.model, self.optimizer)
        return c

    def _first_replay(self, rec, out, cost, xb, yb) -> float:
        """The first replay of a tape, checked against the normal engine: the output, the
        cost and every parameter's gradient must be the same to the last bit."""
        tape = rec.tape
        grads = tape.backward(rec.seed, into_leaves=False)
        mine = {id(leaf): grads[s] for s, leaf in tape.leaves if leaf.requires_grad}
        ref_out = self.model(xb)
        ref_cost = self.loss_fn(ref_out, yb)
        self.optimizer.zero_grad()
        ref_cost.backward()
        ref = ref_out.data if isinstance(ref_out, Tensor) else np.asarray(ref_out)
        same = (
            ref.shape == out.shape
            and ref.dtype == out.dtype
            and np.array_equal(ref, out, equal_nan=True)
            and float(ref_cost.data) == float(cost)
        )
        for p in self.optimizer.params:
            if not same:
                break
            g = mine.get(id(p))
            same = (g is None and p.grad is None) or (
                g is not None and p.grad is not None and np.array_equal(g, p.grad, equal_nan=True)
            )
        self.optimizer.step()  # the gradients in .grad are the normal engine's either way
        self.output = ref
        if same or not self.verify:
            rec.checked = True
            self.replays += 1
        else:
            self.replayable = False
            self.reset()
            self.plain_steps += 1
        return float(ref_cost.data)

    def _unchanged(self) -> bool:
        """True if the model has the structure it had when the tapes were recorded."""
        snap = self._structure
        if snap is None:
            return False
        modules, params = snap
        try:
            for d, saved in modules:
                if d != saved:
                    break
            else:
                for p, shape, dtype, rg in params:
                    if p.requires_grad is not rg or p.data.shape != shape or p.data.dtype != dtype:
                        break
                else:
                    return True
        except Exception:  # e.g. comparing two different numpy arrays
            pass
        self.reset()
        return False


def _release(tape: Tape) -> None:
    """Drop the buffers a forward saved (when no backward follows)."""
    for op in tape.ops:
        op.saved = None


def _snapshot(model, optimizer):
    """What the tapes assume about the model: every module's attributes (lists copied, so
    that swapping ``layers[1]`` shows) and every parameter's shape, dtype, requires_grad."""
    modules = []
    if hasattr(model, "named_modules"):
        for _, m in model.named_modules():
            d = vars(m)
            modules.append((d, {k: (list(v) if isinstance(v, list) else v) for k, v in d.items()}))
    params = model.parameters() if hasattr(model, "parameters") else []
    seen = {id(p) for p in params}
    params = list(params) + [p for p in optimizer.params if id(p) not in seen]
    return modules, [(p, p.data.shape, p.data.dtype, p.requires_grad) for p in params]


def _recorded(cost, xt: Tensor, out) -> _Recorded | None:
    """The tape of one step's graph, or None if it cannot be replayed: the cost must be a
    library cost of the model's output and a target leaf, and depend on the input batch."""
    if not isinstance(cost, Tensor) or not isinstance(out, Tensor) or cost.op is None:
        return None
    if cost.op.name not in ("squared_error", "cross_entropy") or cost.inputs[0] is not out:
        return None
    target = cost.inputs[1]
    if target.op is not None or target.requires_grad or target is xt:
        return None
    tape = Tape.of(cost)
    if tape.slot_of(xt) is None:
        return None  # the output does not depend on the input: nothing sensible to replay
    tape.plan_in_place()  # z += b and σ into z's buffer, as a hand-written step does
    out_slot = tape.slot_of(out)
    seed = np.ones_like(cost.data)
    seed.flags.writeable = False  # ∂C/∂C = 1, shared by every replay: no op may write into it
    # what the target functions read of the output: its shape and dtype (no memory)
    out_like = np.broadcast_to(np.zeros((), out.data.dtype), out.data.shape)
    return _Recorded(tape, xt, target, out_slot, out_like, seed)
