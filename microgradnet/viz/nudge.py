"""The nudge check of chapter 4: move one number by ±ε, run the forward pass again, and
compare the cost's slope with what backpropagation says.

    slope = (C(w + ε) − C(w − ε)) / 2ε   →   ∂C/∂w   as ε → 0

No model or closure is needed: the cost's graph records every op and its inputs, so the
forward pass can be recomputed from the leaves (``topological_order(cost, grad_only=False)``
gives the ops in the order they ran). The re-run works on float64 copies of the leaves with
fresh copies of the ops, so the graph's saved buffers and every ``.grad`` stay as they were;
the backprop number comes from the engine's own ``backward()`` on a float64 copy of the graph.
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Sequence

import numpy as np

from ..errors import GraphError, ShapeError
from ..tensor import Tensor, apply, enable_grad, topological_order

__all__ = ["nudge_check", "RecordedForward", "NudgeRows", "DEFAULT_EPS", "panel_data"]

DEFAULT_EPS = (1e-1, 1e-2, 1e-3, 1e-4)
PANEL_EPS = (1.0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6)  # the stepper's choices: from coarse to fine


class NudgeRows(list):
    """The rows of a nudge check (one dict per ε), printed as a table."""

    def __repr__(self):
        head = f"{'ε':>8}  {'C(w+ε)':>14}  {'C(w−ε)':>14}  {'slope':>14}  {'backprop':>14}"
        lines = [head]
        for r in self:
            lines.append(
                f"{r['eps']:>8g}  {r['cost_plus']:>14.10f}  {r['cost_minus']:>14.10f}  "
                f"{r['slope']:>14.9g}  {r['backprop']:>14.9g}"
            )
        return "\n".join(lines)

    __str__ = __repr__


class RecordedForward:
    """The forward pass recorded in ``cost``'s graph, ready to be run again in float64.

    ``cost_with(leaf, index, value)`` is the cost with one element of a leaf replaced;
    only the ops downstream of that leaf are recomputed. ``gradients()`` runs the engine's
    ``backward()`` on a float64 copy of the graph and returns ``∂C/∂leaf`` for every leaf.
    """

    def __init__(self, cost: Tensor, fn: str = "nudge_check"):
        if not isinstance(cost, Tensor):
            raise TypeError(f"{fn}: expected the cost Tensor, got {type(cost).__name__}")
        if cost.is_leaf:
            raise GraphError(f"{fn}: the cost is a leaf tensor: no forward pass was recorded to re-run")
        if cost.data.size != 1:
            raise ShapeError(f"{fn}: the cost must be a single number, got shape {cost.shape}")
        self.fn = fn
        self.cost = cost
        self.order = topological_order(cost, grad_only=False)
        self.leaves: dict[int, Tensor] = {}
        for t in self.order:
            for p in t.inputs:
                if p.is_leaf:
                    self.leaves.setdefault(id(p), p)
        # float leaves as float64 copies; integer ones (cross_entropy's class labels) as they are
        self.base = {
            i: np.array(t.data, dtype=np.float64) if t.data.dtype.kind == "f" else t.data
            for i, t in self.leaves.items()
        }
        self._run(self.base, None)
        self.value = float(self.base[id(cost)].reshape(()))
        self._grads: dict[int, np.ndarray] | None = None

    def _run(self, vals: dict, dirty: set | None) -> None:
        """Fill ``vals`` with every op's output, in forward order. With ``dirty`` (ids of
        changed tensors), only ops with a changed input run; the others keep ``self.base``."""
        for t in self.order:
            if dirty is not None:
                if not any(id(p) in dirty for p in t.inputs):
                    continue
                dirty.add(id(t))
            xs = [vals[id(p)] if id(p) in vals else self.base[id(p)] for p in t.inputs]
            assert t.op is not None  # the order holds only tensors made by an op
            vals[id(t)] = copy.copy(t.op).forward(*xs)  # a copy: the graph's own op keeps its saved buffers

    def leaf(self, tensor) -> Tensor:
        """``tensor`` checked to be one of the leaves the cost was computed from."""
        if not isinstance(tensor, Tensor):
            raise TypeError(f"{self.fn}: expected a Tensor to nudge, got {type(tensor).__name__}")
        if id(tensor) not in self.leaves:
            what = "an intermediate result" if not tensor.is_leaf else "not used by the cost"
            name = f" {tensor.name!r}" if tensor.name else ""
            raise GraphError(
                f"{self.fn}: the tensor{name} of shape {tensor.shape} is {what}; nudge one of the "
                "leaves the cost was computed from (a weight, a bias or an input)"
            )
        return tensor

    def cost_with(self, tensor: Tensor, index: tuple, value: float) -> float:
        """The cost recomputed with ``tensor[index] = value`` (float64)."""
        arr = self.base[id(self.leaf(tensor))].copy()
        arr[index] = value
        vals = {id(tensor): arr}
        try:
            with np.errstate(all="ignore"):
                self._run(vals, {id(tensor)})
        except ValueError:  # e.g. log of a value the nudge pushed below 0: no cost there
            return float("nan")
        return float(vals.get(id(self.cost), self.base[id(self.cost)]).reshape(()))

    def gradients(self) -> dict[int, np.ndarray]:
        """``∂C/∂leaf`` in float64 for every leaf (by ``id``), from the engine's backward
        walk over a float64 copy of the graph (inputs included, as if they required grad)."""
        if self._grads is None:
            with enable_grad():
                made = {
                    i: Tensor(a.copy(), requires_grad=True)
                    if a.dtype.kind == "f"
                    else Tensor._make(a, None, ())
                    for i, a in self.base.items()
                }
                for t in self.order:
                    assert t.op is not None  # the order holds only tensors made by an op
                    made[id(t)] = apply(copy.copy(t.op), *[made[id(p)] for p in t.inputs])
                made[id(self.cost)].backward()
            grads = {}
            for i, a in self.base.items():
                g = made[i].grad
                grads[i] = g if g is not None else np.zeros_like(a)
            self._grads = grads
        return self._grads

    def check(self, tensor, index, eps=DEFAULT_EPS) -> NudgeRows:
        """The rows of :func:`nudge_check` for one element of one leaf."""
        t = self.leaf(tensor)
        idx = element_index(index, t.shape, self.fn)
        steps = eps_list(eps, self.fn)
        w = float(self.base[id(t)][idx])
        backprop = float(self.gradients()[id(t)][idx])
        rows = NudgeRows()
        for e in steps:
            plus, minus = self.cost_with(t, idx, w + e), self.cost_with(t, idx, w - e)
            rows.append(
                {
                    "eps": e,
                    "cost_plus": plus,
                    "cost_minus": minus,
                    "slope": (plus - minus) / (2 * e),
                    "backprop": backprop,
                }
            )
        return rows


def element_index(index, shape: tuple, fn: str = "nudge_check") -> tuple:
    """One element of an array of ``shape``: a tuple with one int per axis, or an int
    counted in flat (row-major) order; negative numbers count from the end."""
    size = int(np.prod(shape, dtype=np.int64))
    if index is None or (isinstance(index, tuple) and not index):
        if size != 1:
            raise ShapeError(f"{fn}: the tensor has shape {tuple(shape)}: say which element, e.g. index=0")
        return (0,) * len(shape)
    if isinstance(index, numbers.Integral) and not isinstance(index, bool):
        if not -size <= int(index) < size:
            raise IndexError(f"{fn}: index {index} is outside a tensor of {size} values")
        return tuple(int(i) for i in np.unravel_index(int(index) % size, shape))
    try:
        idx = tuple(index)
    except TypeError:
        raise TypeError(f"{fn}: index must be an int or a tuple of ints, got {index!r}") from None
    if len(idx) != len(shape) or not all(
        isinstance(i, numbers.Integral) and not isinstance(i, bool) for i in idx
    ):
        raise IndexError(
            f"{fn}: index {index!r} does not pick one element of a tensor of shape {tuple(shape)} "
            f"(give {len(shape)} whole numbers)"
        )
    for i, n in zip(idx, shape):
        if not -n <= i < n:
            raise IndexError(f"{fn}: index {index!r} is outside a tensor of shape {tuple(shape)}")
    return tuple(int(i) % n for i, n in zip(idx, shape))


def eps_list(eps, fn: str = "nudge_check") -> list[float]:
    """``eps`` as a list of positive finite step sizes (one number or several)."""
    steps = [eps] if isinstance(eps, numbers.Real) else list(eps)
    if not steps:
        raise ValueError(f"{fn}: eps is empty; give one or more step sizes such as (1e-2, 1e-3)")
    out = []
    for e in steps:
        if isinstance(e, bool) or not isinstance(e, numbers.Real) or not np.isfinite(float(e)) or e <= 0:
            raise ValueError(f"{fn}: every eps must be a positive number, got {e!r}")
        out.append(float(e))
    return out


def nudge_check(
    cost: Tensor,
    tensor: Tensor,
    index: int | tuple[int, ...] | None,
    eps: float | Sequence[float] = DEFAULT_EPS,
) -> NudgeRows:
    """How sensitive is the cost to one number? Measure it, then compare with backprop.

    Runs the forward pass recorded in ``cost``'s graph again with ``tensor[index]`` moved to
    ``w + ε`` and to ``w − ε``, for each ``ε`` in ``eps``, and returns one row (a dict) per ε:
    ``eps``, ``cost_plus`` = C(w + ε), ``cost_minus`` = C(w − ε), ``slope`` =
    (C(w + ε) − C(w − ε)) / 2ε, and ``backprop`` = ∂C/∂w from the engine's backward walk.
    As ε shrinks the slope converges to the backprop number.

    ``tensor`` is a leaf of the graph (a weight, a bias, an input); ``index`` picks one of
    its elements (a tuple, or an int in flat order). Everything is computed in float64 on
    copies: the graph's saved buffers and every ``.grad`` are left as they were, so it
    works before or after ``cost.backward()``. The rows print as a table.
    """
    return RecordedForward(cost).check(tensor, index, eps)


def _label(symbol: str, idx: tuple) -> str:
    return f"{symbol}[{', '.join(map(str, idx))}]" if idx else symbol


def panel_data(cost: Tensor, tensors: dict, first: int = 3, largest: int = 5, eps=PANEL_EPS) -> dict:
    """The numbers of the stepper's nudge-check panel, computed when the page is built.

    ``tensors`` maps a node id of the page to ``(leaf, symbol)``. For each leaf the panel
    offers the ``largest`` elements with the largest ``|∂C/∂w|`` and the ``first`` few in
    flat order, each with the rows of :func:`nudge_check` for every ε of ``eps``.
    """
    fwd = RecordedForward(cost, "backprop_page")
    grads = fwd.gradients()
    steps = eps_list(eps, "backprop_page")
    out = {}
    for node, (t, symbol) in tensors.items():
        g = grads[id(fwd.leaf(t))]
        picks = []
        by_size = np.argsort(-np.abs(g), axis=None, kind="stable")[:largest]
        for rank, flat in enumerate(by_size):
            why = (
                "its only number"
                if g.size == 1
                else "largest |∂C/∂w|"
                if rank == 0
                else f"#{rank + 1} largest"
            )
            picks.append((int(flat), why))
        for flat in range(min(first, g.size)):
            if all(flat != p for p, _ in picks):
                picks.append((flat, "in order"))
        elements = []
        for flat, why in picks:
            idx = tuple(int(i) for i in np.unravel_index(flat, g.shape))
            checked = fwd.check(t, idx, steps)
            rows = [
                {k: (v if np.isfinite(v) else None) for k, v in r.items()} for r in checked
            ]  # JSON: no NaN
            elements.append({"index": list(idx), "label": _label(symbol, idx), "why": why, "rows": rows})
        out[node] = {"symbol": symbol, "elements": elements}
    return {"cost": fwd.value, "eps": steps, "params": out}
