"""The tape: one graph written down as the list that backpropagation walks.

Every op applied to tensors that need a gradient records a node: the op (holding what its
gradient rule needs) and the input tensors. ``Tape.of(root)`` writes the nodes that ``root``
depends on into a list, once, in the order the forward pass ran them, and numbers every
tensor of the graph with a *slot*: node ``i``'s output is slot ``i`` (the root is the last
node), the leaves — parameters, the input batch, the target, constants — come after. Each
entry of the tape says which slots its inputs sit in.

Backward is one loop down that list, from the root to the first node::

    g = ∂C/∂out                         (arrived from the nodes already visited)
    for each input that needs it:       ∂C/∂input += op.backward(g)   (the chain rule)

Everything that goes backward runs :meth:`Tape.backward`: ``Tensor.backward()``, the
replayed training step (:class:`~microgradnet.replay.TrainStep`), the backprop stepper, the
chain rule written out, and the gradients the graph picture shows. :meth:`Tape.forward`
runs the same entries forward again with the leaves' current values: put a new batch into
the input leaf, or nudge one weight, and the tape recomputes the cost without building a
new graph.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import checks
from .errors import HIDDEN_FOR_USER_ERRORS, GraphError, ShapeError
from .ops import MatMulOp as _MatMul

__all__ = ["Tape"]

RELEASED = (
    "backward: the graph through '{op}' was already used by a backward() and its buffers "
    "released; call the first backward(retain_graph=True) to go through it again"
)


def _own(g: np.ndarray, handed: set) -> np.ndarray:
    """``g`` itself if nobody else holds it and it may be written to, else a copy: a leaf's
    ``.grad`` must never share memory with another tensor's."""
    if id(g) in handed or g.base is not None or not g.flags.writeable:
        g = g.copy()
    handed.add(id(g))
    return g


def _holds(saved, a: np.ndarray) -> bool:
    """True when what an op saved for its gradient rule is, or contains, the array ``a`` or
    a view of it."""
    items = saved if saved.__class__ is tuple or saved.__class__ is list else (saved,)
    return any(x is a or getattr(x, "base", None) is a for x in items)


class Tape:
    """The nodes of one graph in forward order, each with the slots of its inputs.

    Read it with: ``len(tape)`` (the number of nodes), ``ops[i]`` (the op of node ``i``),
    ``inputs[i]`` (the slots of its inputs), ``outs[i]`` (the slot of its output), ``root``
    (the root's slot: the output of the last node), ``node(i)`` and ``tensor(slot)`` (the
    tensors, while the tape holds the graph's tensors), ``leaves`` (``(slot, tensor)`` for
    every leaf: parameters, the input batch, the target, constants), ``slot_of(tensor)``
    and ``consumers(slot)`` (the nodes that use a slot, with the input position).
    """

    __slots__ = (
        "ops",
        "inputs",
        "outs",
        "needs",
        "edges",
        "leaves",
        "tensors",
        "retained",
        "checked",
        "products",
        "in_place",
        "_plans",
        "_index",
    )

    def __init__(self, ops, inputs, outs, needs, edges, leaves, tensors, retained, products=()):
        self.ops = ops
        self.inputs = inputs
        self.outs = outs
        self.needs = needs
        # for each node, ``(input position, slot, shape, dtype)`` of every input that needs a
        # gradient: where the chain rule sends it, and what it must look like
        self.edges = edges
        self.leaves = leaves
        self.tensors = tensors
        self.retained = retained
        self.checked = None  # node index -> node whose saved arrays are fingerprinted (checks.py)
        # the matrix products of the graph, ``(rows, inner, columns, dtype)``: what numpy's
        # BLAS threads are chosen for (see :mod:`microgradnet.threads`)
        self.products = products
        # node index -> the slot its op may write its output into (see plan_in_place)
        self.in_place: dict[int, int] = {}
        self._plans: dict[str, list] = {}
        self._index = None

    # ----- building ---------------------------------------------------------------------
    @classmethod
    def of(cls, root) -> Tape:
        """The tape of everything ``root`` was computed from (``root`` must come from an op).

        One depth-first pass with an explicit stack (a chain of 100,000 ops is fine): each
        node is written down after all of its inputs, the order a forward pass computes
        them; an op's inputs are visited in their order (layer 1 before layer 2).
        """
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        if root._op is None:
            raise GraphError(
                "Tape.of: the tensor is a leaf (made by the user, not by an op): no graph to write down"
            )
        slot: dict[int, int] = {}  # id -> slot; -1 while a node's inputs are being written down
        get = slot.get
        tensors: list = []
        ops: list[Any] = []
        inputs: list[tuple[int, ...]] = []
        outs: list[int] = []
        needs: list[tuple[bool, ...]] = []
        edges: list[tuple] = []
        leaves: list[tuple[int, Any]] = []
        retained = checked = None
        products = []
        stack = [root]
        push, pop = stack.append, stack.pop
        while stack:
            t = stack[-1]
            key = id(t)
            s = get(key)
            if s is None:  # first visit: its unwritten inputs go on top of it, first input on top
                slot[key] = -1
                for p in reversed(t._prev):
                    if p._op is not None and id(p) not in slot:
                        push(p)
                continue
            pop()
            if s >= 0:  # already written down (pushed twice, by two users)
                continue
            ins, nd, ed = [], [], []
            for k, p in enumerate(t._prev):
                q = get(id(p))
                if q is None:  # a leaf (or a tensor made under no_grad), met for the first time
                    q = slot[id(p)] = len(tensors)
                    tensors.append(p)
                    leaves.append((q, p))
                ins.append(q)
                if p.requires_grad:
                    nd.append(True)
                    d = p.data
                    ed.append((k, q, d.shape, d.dtype))
                else:
                    nd.append(False)
            s = slot[key] = len(tensors)
            tensors.append(t)
            if t._retain:
                retained = retained or {}
                retained[s] = t
            if t._fingerprints is not None:
                checked = checked or {}
                checked[len(ops)] = t
            op = t._op
            if op.__class__ is _MatMul:
                a, b = t._prev[0].data, t._prev[1].data
                if a.ndim == 2 and b.ndim == 2:
                    products.append((a.shape[0], a.shape[1], b.shape[1], a.dtype))
            ops.append(op)
            inputs.append(tuple(ins))
            outs.append(s)
            needs.append(tuple(nd))
            edges.append(tuple(ed))
        tape = cls(ops, inputs, outs, needs, edges, leaves, tensors, retained, tuple(products))
        tape.checked = checked
        return tape

    # ----- reading ----------------------------------------------------------------------
    @property
    def root(self) -> int:
        """The slot of the root (the output of the last node)."""
        return self.outs[-1]

    def __len__(self) -> int:
        return len(self.ops)

    def tensor(self, slot: int):
        """The tensor in ``slot`` (a node's output or a leaf)."""
        if self.tensors is None:
            for s, leaf in self.leaves:
                if s == slot:
                    return leaf
            raise GraphError("Tape.tensor: this tape no longer holds the graph's tensors (only its ops)")
        return self.tensors[slot]

    def node(self, i: int):
        """The output tensor of node ``i``."""
        return self.tensor(self.outs[i])

    def slot_of(self, t) -> int | None:
        """The slot of tensor ``t``, or None when it is not part of the graph."""
        if self.tensors is None:
            return self._leaf_slot(t)
        for s, u in enumerate(self.tensors):
            if u is t:
                return s
        return None

    def is_leaf_slot(self, slot: int) -> bool:
        """True when ``slot`` holds a leaf rather than a node's output."""
        return any(s == slot for s, _ in self.leaves)

    def consumers(self, slot: int) -> list[tuple[int, int]]:
        """The nodes that take ``slot`` as an input: ``(node, input position)`` pairs, in
        forward order (a tensor used twice by one op appears twice)."""
        return [(i, k) for i, ins in enumerate(self.inputs) for k, s in enumerate(ins) if s == slot]

    def forget_tensors(self) -> Tape:
        """Stop holding the graph's intermediate tensors (the ops and leaves stay): a tape
        kept for :meth:`forward` then keeps no batch's graph alive. Returns the tape."""
        self.tensors = None
        self.retained = self.checked = None
        return self

    def _leaf_slot(self, leaf) -> int | None:
        index = self._index
        if index is None:
            index = self._index = {id(u): s for s, u in self.leaves}
        return index.get(id(leaf))

    def _grads_tuple(self, i, in_grads) -> tuple:
        if self.tensors is not None:
            return checks.grads_tuple(self.node(i), in_grads)
        if isinstance(in_grads, (tuple, list)) and len(in_grads) == len(self.inputs[i]):
            return tuple(in_grads)
        raise GraphError(
            f"backward of {self.ops[i].name}: the gradient rule must return a tuple with one "
            f"gradient per input ({len(self.inputs[i])}, None where not needed)"
        )

    def _grad_error(self, i, k, pg) -> Exception:
        if self.tensors is not None:
            return checks.grad_error(self.node(i), self.tensor(self.inputs[i][k]), pg)
        shape = self.edges[i][[e[0] for e in self.edges[i]].index(k)][2]
        return ShapeError(
            f"backward of {self.ops[i].name}: the gradient for input {k} has shape "
            f"{tuple(getattr(pg, 'shape', ()))}, but the input has shape {tuple(shape)}"
        )

    def plan_in_place(self) -> dict[int, int]:
        """Find where :meth:`forward` may write a node's output into the buffer of one of
        its inputs instead of a new array, as ``z += b`` does in a hand-written network:
        the op says which input it can overwrite (``Op.overwrites``: add_bias, sigmoid,
        tanh, relu), and the input must be another node's output that only this node reads,
        that its own op did not keep for a gradient rule (sigmoid keeps its output, matmul
        does not), that is not the root and not kept by ``retain_grad()``, that owns its
        memory (not a view of another array) and has the output's shape and dtype. Call it
        while the tape holds the graph's tensors and the ops' saved buffers (before the
        backward walk). Returns (and keeps in ``in_place``) ``{node: slot}``.
        """
        if self.tensors is None:
            raise GraphError("Tape.plan_in_place: the tape no longer holds the graph's tensors")
        uses: dict[int, int] = {}
        for ins in self.inputs:
            for q in ins:
                uses[q] = uses.get(q, 0) + 1
        made_by = {s: i for i, s in enumerate(self.outs)}
        plan = {}
        for i, op in enumerate(self.ops):
            k = op.overwrites
            if k is None or k >= len(self.inputs[i]):
                continue
            q = self.inputs[i][k]
            j = made_by.get(q)
            if j is None or uses[q] != 1 or q == self.root or q in (self.retained or ()):
                continue
            a, out = self.tensors[q].data, self.tensors[self.outs[i]].data
            if (
                a.__class__ is not np.ndarray
                or out.__class__ is not np.ndarray
                or not a.flags.owndata
                or not a.flags.writeable
                or a.shape != out.shape
                or a.dtype != out.dtype
                or _holds(self.ops[j].saved, a)
                or _holds(op.saved, a)
            ):
                continue
            plan[i] = q
        self.in_place = plan
        self._plans.clear()
        return plan

    # ----- running ----------------------------------------------------------------------
    def forward(self, feed=None, in_place: bool = False) -> list:
        """Run the ops forward again, in order, on the leaves' current values (``feed``: a
        dict ``{leaf tensor: array}`` to use other values for some leaves without changing
        them). Returns every slot's value; ``values[tape.root]`` is the new root.

        Each op keeps what its gradient rule needs from this run, so :meth:`backward` can
        follow; the tensors of the recorded graph keep their old values. With ``in_place``
        the ops in ``in_place`` (see :meth:`plan_in_place`) write their output into
        their input's buffer (the same numbers; that input's slot then holds the output).
        """
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        values = [None] * (len(self.ops) + len(self.leaves))
        for s, leaf in self.leaves:
            values[s] = leaf.data
        if feed:
            for leaf, value in feed.items():
                s = self._leaf_slot(leaf)
                if s is None:
                    raise GraphError("Tape.forward: a tensor in feed is not a leaf of this graph")
                values[s] = value
        for run, ins, o, into in self._calls(in_place):
            if into < 0:
                if len(ins) == 1:
                    values[o] = run(values[ins[0]])
                elif len(ins) == 2:
                    values[o] = run(values[ins[0]], values[ins[1]])
                else:
                    values[o] = run(*[values[s] for s in ins])
            elif len(ins) == 1:
                values[o] = run(values[ins[0]], out=values[into])
            else:
                values[o] = run(*[values[s] for s in ins], out=values[into])
        return values

    def _calls(self, in_place: bool) -> list:
        """For each node, in order: its op's forward, the slots of its inputs, the slot of its
        output and the slot to write into (-1: a new array). Made once per tape and mode."""
        key = "in_place" if in_place else "fresh"
        calls = self._plans.get(key)
        if calls is None:
            plan = self.in_place if in_place else {}
            calls = self._plans[key] = [
                (op.forward, self.inputs[i], self.outs[i], plan.get(i, -1)) for i, op in enumerate(self.ops)
            ]
        return calls

    def backward(self, seed, *, retain_graph=False, keep_grads=False, into_leaves=True, on_step=None):
        """The backward walk: the chain rule at every node, from the root down.

        ``seed`` is ``∂C/∂root`` (ones for a scalar cost). Gradients that arrive at the same
        slot add up. With ``into_leaves`` the leaves that require grad get their gradient
        added to ``.grad``; nodes marked with ``retain_grad()`` (every node with
        ``keep_grads``) get theirs in ``.grad`` too. ``on_step(i, g, in_grads)``, if given, is
        called at every visited node with the upstream gradient and what the op sent to
        each input. The ops' saved buffers are released unless ``retain_graph``.
        Returns the gradient of every slot (with ``keep_grads``; else the leaves' only).
        """
        __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
        ops, outs, needs, edges = self.ops, self.outs, self.needs, self.edges
        grads = [None] * (len(ops) + len(self.leaves))
        grads[outs[-1]] = seed
        handed: set[int] = set()
        retained = self.retained if into_leaves else None
        checked = self.checked
        for i in range(len(ops) - 1, -1, -1):
            s = outs[i]
            g = grads[s]
            if g is None:  # reachable only through inputs that need no gradient
                continue
            if not keep_grads:
                grads[s] = None  # not needed any more: let it go while the walk goes on
            if retained is not None and s in retained:
                t = retained[s]
                t.grad = _own(g, handed) if t.grad is None else t.grad + g
            op = ops[i]
            if op.saved is None:
                raise GraphError(RELEASED.format(op=op.name))
            if checked is not None and i in checked:  # saved arrays changed in place since?
                checks.check_saved(checked[i])
            in_grads = op.backward(g, needs[i])
            if in_grads.__class__ is not tuple or len(in_grads) != len(needs[i]):
                in_grads = self._grads_tuple(i, in_grads)
            if not retain_graph:
                op.saved = None
            if on_step is not None:
                on_step(i, g, in_grads)
            for k, t, shape, dtype in edges[i]:
                pg = in_grads[k]
                if pg is None:
                    continue
                try:
                    fits = pg.shape == shape
                except AttributeError:  # not an array at all
                    fits = False
                if not fits:
                    raise self._grad_error(i, k, pg)
                if pg.dtype != dtype:
                    pg = pg.astype(dtype)
                old = grads[t]
                grads[t] = pg if old is None else old + pg
        if into_leaves:
            if keep_grads and self.tensors is not None:
                for s in outs:
                    if s not in (retained or ()) and grads[s] is not None:
                        t = self.tensors[s]
                        t.grad = _own(grads[s], handed) if t.grad is None else t.grad + grads[s]
            for s, leaf in self.leaves:
                g = grads[s]
                if g is not None and leaf.requires_grad:
                    leaf.grad = _own(g, handed) if leaf.grad is None else leaf.grad + g
        return grads
