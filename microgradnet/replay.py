"""Record once, replay: a training step without rebuilding the graph every time.

The plain training step builds a fresh graph for every mini-batch::

    cost = loss(model(xb), yb)       # forward: one Tensor and one op object per operation
    opt.zero_grad(); cost.backward() # backward: sort the graph, walk it, chain rule
    opt.step()

With small batches the numbers are tiny (10 images of 784 pixels), so most of the time goes
into the *bookkeeping*: creating Tensors, sorting the graph, looking up gradients by id.
The arithmetic itself is a few dozen numpy calls.

Why replay is allowed: the graph of a training step has the same shape every step.
The same layers, in the same order, applied to a batch of the same shape give the same ops
wired the same way; only the numbers flowing through them change. So :class:`TrainStep`
builds the graph once with the normal engine, writes down its *tape* — a flat list of
``(op, input slots, output slot)`` in the order the engine ran them — and afterwards runs
that list directly on numpy arrays:

* forward: ``vals[out] = op.forward(vals[in_1], vals[in_2])`` for each entry, in order;
* backward: the same entries backwards, ``op.backward(g, needs)``, adding up gradients
  exactly as :func:`~microgradnet.tensor.run_backward` does (in the same order, so the
  numbers are the same to the last bit);
* then every parameter's ``.grad`` is set and ``optimizer.step()`` moves it.

The ops are the very same op classes the engine uses, so the math lives in one place;
replay only skips the Tensor objects and the graph walk.

Most tapes are a plain stack of layers (an ``MLP``): ``matmul → add_bias → activation``
per layer, then the cost. Such a tape is replayed layer by layer (:class:`_ChainTape`):
``z = a @ W; z += b`` and the layer's own activation op, and backward ``aᵀ @ g``,
``Σ g``, ``g @ Wᵀ`` — the rules of ``matmul`` and ``add_bias`` written out, in the same order,
so the numbers are the same to the last bit. Less bookkeeping per op is what lets a batch of
10 train almost as fast as hand-written numpy. A "slot" is just a numbered place
in a list: slot 0 might hold the input batch, slot 1 the first weight matrix, slot 2 the
result of ``x @ W``, and so on.

When is the recorded tape *not* valid any more? When the graph would come out different:
a batch of another shape or dtype (the last, smaller batch of an epoch), labels instead of
one-hot rows, a layer swapped or a parameter reshaped or frozen, or recording switched off
with ``no_grad()``. Each step checks these first; a new shape gets its own tape (recorded
by one normal step), a changed model throws the tapes away. And because a model might do
something that depends on the *values* of the data (a constant computed from the batch,
random noise), the first replay of every tape is checked against the normal engine: if the
outputs differ in a single bit, the tape is dropped and every later step runs the normal
way. Any error in a replay also sends the step through the normal engine, whose messages
are the helpful ones.

Only the two costs of the library, :func:`~microgradnet.squared_error` and
:func:`~microgradnet.cross_entropy`, are replayed (their target changes every step and the
tape knows how to prepare it, as those functions do: integer labels become one-hot rows or
class indices). With any other cost function every step simply runs the normal way.

Usage (``fit(..., fast=True)`` does this for you)::

    step = TrainStep(model, mg.squared_error, opt)
    for xb, yb in batches(train, 10, shuffle=True, seed=0):
        cost = step(xb, yb)          # a Python float
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import ops
from .errors import HIDDEN_FOR_USER_ERRORS
from .losses import cross_entropy, squared_error
from .tensor import Tensor, _own, _state, no_grad, topological_order

__all__ = ["TrainStep"]

_MAX_TAPES = 4  # tapes kept per TrainStep (one per batch shape: full batches, the last one …)


class _Tape:
    """The recorded step for one batch shape: what to run, in which slots.

    ``forward``: ``(op.forward, input slots, output slot)`` in the order the engine ran them.
    ``backward``: ``(op, output slot, needs, edges)`` in the order ``run_backward`` visits
    the nodes; ``edges`` lists ``(input position, slot, dtype, parameter or None)`` for the
    inputs that need a gradient.
    """

    __slots__ = (
        "forward",
        "backward",
        "template",
        "nslots",
        "x_slot",
        "target_slot",
        "out_slot",
        "cost_slot",
        "params",
        "loss_op",
        "n_classes",
        "out_dtype",
        "label_shape",
        "eye",
        "seed",
        "checked",
    )
    forward: tuple[tuple[Any, tuple[int, ...], int], ...]  # (op.forward, input slots, output slot)
    backward: tuple[
        tuple[ops.Op, int, tuple[bool, ...], tuple[tuple[int, int, np.dtype, Tensor | None], ...]], ...
    ]
    template: tuple[Any, ...]
    nslots: int
    x_slot: int
    target_slot: int
    out_slot: int
    cost_slot: int
    params: tuple[tuple[Tensor, int], ...]
    loss_op: Any  # the cost's op: SquaredError or CrossEntropy
    n_classes: int
    out_dtype: np.dtype
    label_shape: tuple[int, ...] | None
    eye: np.ndarray | None
    seed: np.ndarray
    checked: bool

    def run(self, x, target):
        """Replay forward and backward on ``x``; return ``(cost, output, leaf grads)``."""
        vals = list(self.template)
        vals[self.x_slot] = x
        for p, s in self.params:
            vals[s] = p.data
        if self.target_slot >= 0:
            vals[self.target_slot] = target
        else:
            self.loss_op.target = target
        for f, ins, o in self.forward:
            if len(ins) == 1:
                vals[o] = f(vals[ins[0]])
            else:
                vals[o] = f(vals[ins[0]], vals[ins[1]])
        cost = vals[self.cost_slot]
        out = vals[self.out_slot]
        del vals
        return cost, out

    def release(self):
        """Drop the buffers a forward saved (when no backward follows)."""
        for f, _, _ in self.forward:
            f.__self__.saved = None

    def backprop(self, cost):
        """The backward walk of ``run_backward`` on the tape, into the parameters' ``.grad``."""
        grads: list[Any] = [None] * self.nslots  # ∂C/∂(slot), None until something flows in
        grads[self.cost_slot] = self.seed  # ∂C/∂C = 1 (read-only: no op writes into g)
        handed: set[int] = set()
        for op, s, needs, edges in self.backward:
            g = grads[s]
            grads[s] = None
            in_grads = op.backward(g, needs)
            op.saved = None  # release the batch's buffers now, as backward() does
            for i, t, dt, p in edges:
                pg = in_grads[i]
                if pg is None:
                    continue
                if pg.dtype is not dt and pg.dtype != dt:
                    pg = pg.astype(dt)
                if p is None:
                    old = grads[t]
                    grads[t] = pg if old is None else old + pg
                else:  # a leaf's .grad never shares memory with another array
                    p.grad = _own(pg, handed) if p.grad is None else p.grad + pg


class _Layer:
    """One ``Linear`` layer of a chain tape, replayed as a block.

    The same numbers as the three ops it stands for, in the same order: ``matmul``
    (``z = a @ W``), ``add_bias`` (``z += b``: the sum, without a second array), then the
    layer's own activation op. Backward applies their rules in reverse:
    ``∂C/∂W = aᵀ @ g``, ``∂C/∂b = Σ_batch g``, ``∂C/∂a = g @ Wᵀ``.
    """

    __slots__ = ("W", "b", "act", "needs_input", "a")

    def __init__(self, W: Tensor, b: Tensor, act: ops.Op | None, needs_input: bool):
        self.W, self.b, self.act, self.needs_input = W, b, act, needs_input
        self.a: np.ndarray | None = None  # the layer's input, kept by forward for backward

    def forward(self, a):
        self.a = a
        z = a @ self.W.data
        z += self.b.data
        return z if self.act is None else self.act.forward(z)

    def backward(self, g):
        if self.act is not None:
            (g,) = self.act.backward(g, (True,))
            self.act.saved = None  # release the batch's buffers now, as backward() does
        W = self.W.data
        assert self.a is not None, "backward before forward"
        self.W.grad = self.a.T @ g
        self.b.grad = g.sum(axis=0)
        self.a = None
        return g @ W.T if self.needs_input else None


class _ChainTape(_Tape):
    """The tape of a plain stack of layers (an ``MLP``): its layers replayed block by block,
    then the cost. Built only when the recorded graph is exactly that chain (see
    :func:`_chain_layers`); anything else replays the general tape."""

    __slots__ = ("layers",)
    layers: list[_Layer]

    def run(self, x, target):
        a = x
        for layer in self.layers:
            a = layer.forward(a)
        if self.target_slot >= 0:
            return self.loss_op.forward(a, target), a
        self.loss_op.target = target
        return self.loss_op.forward(a), a

    def release(self):
        for layer in self.layers:
            layer.a = None
            if layer.act is not None:
                layer.act.saved = None
        self.loss_op.saved = None

    def backprop(self, cost):
        g = self.loss_op.backward(self.seed, (True, False))[0]
        self.loss_op.saved = None
        for layer in reversed(self.layers):
            g = layer.backward(g)


def _chain_layers(cost: Tensor, xt: Tensor, out: Tensor, n_ops: int):
    """The layers of the graph if it is a plain chain ``x → [matmul → add_bias →
    activation?] × L → cost`` on 2-D batches, with distinct trainable weights of one dtype
    and no other op anywhere; else None."""
    layers: list[_Layer] = []
    seen: set[int] = set()
    dtype = xt.data.dtype
    t = out
    while t is not xt:
        act = None
        if isinstance(t._op, (ops.Sigmoid, ops.Tanh, ops.ReLU)):
            act, t = t._op, t._prev[0]
        if not isinstance(t._op, ops.AddBias):
            return None
        mm, b = t._prev
        if not isinstance(mm._op, ops.MatMul):
            return None
        a, W = mm._prev
        for p in (W, b):
            if p._op is not None or not p.requires_grad or id(p) in seen or p.data.dtype != dtype:
                return None
            seen.add(id(p))
        if a.data.ndim != 2 or W.data.ndim != 2 or b.data.ndim != 1:
            return None
        layers.append(_Layer(W, b, act, needs_input=a is not xt))
        t = a
    if n_ops != sum(3 if layer.act is not None else 2 for layer in layers) + 1:
        return None  # some other op hangs off the chain
    return layers[::-1]


class TrainStep:
    """One training step — cost, backward, optimizer step — that replays a recorded tape.

    ``TrainStep(model, loss_fn, optimizer)``; calling ``step(xb, yb)`` does
    ``optimizer.zero_grad()``, ``loss_fn(model(xb), yb).backward()``, ``optimizer.step()``
    and returns the cost as a Python float, with the same numbers as those three lines.
    The first call for each batch shape records (runs the normal engine); later ones replay.
    ``records``, ``replays`` and ``plain_steps`` count what happened; ``reset()`` forgets
    the tapes. See the module docstring for why and when replaying is allowed.
    """

    def __init__(self, model, loss_fn, optimizer, verify: bool = True):
        if isinstance(loss_fn, str):
            from .training import get_loss

            loss_fn = get_loss(loss_fn)
        self.model = model
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.verify = verify
        self.records = 0
        self.replays = 0
        self.plain_steps = 0
        self.replayable = loss_fn is squared_error or loss_fn is cross_entropy
        self._tapes: dict = {}
        self._structure = None

    def reset(self) -> None:
        """Forget every recorded tape: the next step records again."""
        self._tapes.clear()
        self._structure = None

    # ----- one step -------------------------------------------------------------------
    def __call__(self, xb, yb) -> float:
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        if not self.replayable or not _state["grad"]:
            return self._plain(xb, yb)
        x = self._input(xb)
        if x is None or isinstance(yb, Tensor):
            return self._plain(xb, yb)
        y = yb if isinstance(yb, np.ndarray) else np.asarray(yb)
        tape = self._tapes.get((x.shape, x.dtype, y.shape, y.dtype))
        if tape is None or not self._unchanged():
            return self._record(x, xb, y)
        try:
            target = self._target(tape, y)
            cost, out = tape.run(x, target)
        except Exception:  # the normal engine explains what is wrong (or records anew)
            self.reset()
            return self._plain(xb, yb)
        c = float(cost)
        if not math.isfinite(c):  # the normal engine raises the helpful error (or goes on)
            tape.release()
            return self._plain(xb, yb)
        if not tape.checked:
            if self.verify and not self._same_as_plain(out, c, xb, yb):
                tape.release()
                self.replayable = False
                self.reset()
                return self._plain(xb, yb)
            tape.checked = True
        self.optimizer.zero_grad()
        tape.backprop(cost)
        self.optimizer.step()
        self.replays += 1
        return c

    def _plain(self, xb, yb) -> float:
        """The three lines of the ordinary training loop."""
        cost = self.loss_fn(self.model(xb), yb)
        self.optimizer.zero_grad()
        cost.backward()
        self.optimizer.step()
        self.plain_steps += 1
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

    def _target(self, tape, y):
        """What the cost compares with, prepared as ``squared_error``/``cross_entropy`` do."""
        if y.dtype.kind in "iu" and tape.label_shape is not None:
            if y.shape != tape.label_shape:
                raise ValueError("labels of an unexpected shape")
            # As unsigned numbers negative labels become huge: one max() checks 0..C-1.
            if y.size and y.astype(np.uintp).max() >= tape.n_classes:
                raise IndexError("label out of range")
            if tape.eye is None:  # cross_entropy keeps the class indices
                return y.astype(np.int64, copy=False)
            return tape.eye[y]  # squared_error compares with one-hot rows
        return y.astype(tape.out_dtype, copy=False)

    # ----- recording ------------------------------------------------------------------
    def _record(self, x, xb, y) -> float:
        """Run one normal step on ``x`` and keep its tape."""
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        xt = Tensor._make(x, None, ())
        out = self.model(xt)
        cost = self.loss_fn(out, y)
        tape = _build_tape(cost, xt, out, y) if isinstance(out, Tensor) else None
        self.optimizer.zero_grad()
        cost.backward()
        self.optimizer.step()
        self.records += 1
        c = float(cost.data)
        if tape is None:  # a graph the tape cannot describe: every step runs the normal way
            self.replayable = False
        else:
            if len(self._tapes) >= _MAX_TAPES:
                self._tapes.clear()
            self._tapes[(x.shape, x.dtype, y.shape, y.dtype)] = tape
            if self._structure is None:
                self._structure = _snapshot(self.model, self.optimizer)
        return c

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

    def _same_as_plain(self, out, c, xb, yb) -> bool:
        """The first replay of a tape: does the normal engine compute the same output?"""
        with no_grad():
            ref = self.model(xb)
            ref_cost = float(self.loss_fn(ref, yb).data)
        ref = ref.data if isinstance(ref, Tensor) else np.asarray(ref)
        return (
            ref.shape == out.shape
            and ref.dtype == out.dtype
            and np.array_equal(ref, out, equal_nan=True)
            and ref_cost == c
        )


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


def _build_tape(cost: Tensor, xt: Tensor, out: Tensor, y: np.ndarray) -> _Tape | None:
    """Turn the graph of one step into a tape, or None if it cannot be replayed."""
    loss = cost._op
    if not cost.requires_grad or loss is None or cost._prev[0] is not out:
        return None
    if isinstance(loss, ops.SquaredError):
        target_leaf = cost._prev[1]
        if target_leaf._op is not None or target_leaf.requires_grad:
            return None
    elif isinstance(loss, ops.CrossEntropy):
        target_leaf = None
    else:
        return None
    order = topological_order(cost)
    slot: dict[int, int] = {}
    template: list = []
    params: list = []

    def slot_of(t: Tensor) -> int:
        s = slot.get(id(t))
        if s is None:
            s = slot[id(t)] = len(template)
            template.append(None)
            if t._op is None and t is not xt and t is not target_leaf:
                if t.requires_grad:
                    params.append((t, s))
                else:
                    template[s] = t.data  # a constant of the graph (e.g. the 2 in x * 2)
        return s

    layers = _chain_layers(cost, xt, out, len(order)) if out.data.dtype == cost.data.dtype else None
    tape: _Tape
    if layers is None:
        tape = _Tape()
    else:
        tape = chain = _ChainTape()
        chain.layers = layers
    tape.x_slot = slot_of(xt)
    tape.target_slot = slot_of(target_leaf) if target_leaf is not None else -1
    forward = []
    for node in order:
        if node._op is None or len(node._prev) not in (1, 2):
            return None
        ins = tuple(slot_of(p) for p in node._prev)
        forward.append((node._op.forward, ins, slot_of(node)))
    backward = []
    has_grad = {id(cost)}
    for node in reversed(order):
        if id(node) not in has_grad:
            continue
        edges: list[tuple[int, int, np.dtype, Tensor | None]] = []
        for i, p in enumerate(node._prev):
            if not p.requires_grad:
                continue
            if p._op is None:
                edges.append((i, slot[id(p)], p.data.dtype, p))
            else:
                edges.append((i, slot[id(p)], p.data.dtype, None))
                has_grad.add(id(p))
        needs = tuple(p.requires_grad for p in node._prev)
        assert node._op is not None  # the forward loop above returned on any leaf in the order
        backward.append((node._op, slot[id(node)], needs, tuple(edges)))
    if tape.x_slot not in [s for _, ins, _ in forward for s in ins]:
        return None  # the output does not depend on the input: nothing sensible to replay
    tape.forward = tuple(forward)
    tape.backward = tuple(backward)
    tape.params = tuple(params)
    tape.nslots = len(template)
    tape.out_slot = slot[id(out)]
    tape.cost_slot = slot[id(cost)]
    tape.loss_op = loss
    tape.n_classes = out.data.shape[-1] if out.data.ndim else 1
    tape.out_dtype = out.data.dtype
    tape.label_shape = out.data.shape[:-1] if out.data.ndim in (1, 2) else None
    tape.checked = False
    tape.seed = np.ones_like(cost.data)
    tape.seed.flags.writeable = False
    # one-hot rows of the output's dtype, looked up by label: eye[y] is exactly the array of
    # zeros and ones that squared_error builds from labels
    tape.eye = np.eye(tape.n_classes, dtype=out.data.dtype) if target_leaf is not None else None
    tape.template = tuple(template)
    return tape
