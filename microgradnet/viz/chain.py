"""The chain rule written out: every path from the cost down to one tensor, as a product.

For 3Blue1Brown's chapter-4 chain (one neuron per layer) this prints, e.g.::

    ∂C/∂w2 = ∂(w2·a1)/∂w2 · ∂z2/∂(w2·a1) · ∂a2/∂z2 · ∂C/∂a2
           = 0.6225 · 1 · 0.2386 · -0.7865 = -0.1168

A tensor used more than once has one path per use: its gradient is the **sum** over the
paths. For arrays the factors are not single numbers: each step is a vector-Jacobian
product (the upstream gradient pushed through the op's local derivative), and the text
shows the path as a chain of ops with shapes and a summary of the resulting gradient.
"""

from __future__ import annotations

import re
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

import numpy as np

from ..display import display_name
from ..errors import HIDDEN_FOR_USER_ERRORS, GraphError
from ..tape import Tape
from ..tensor import Tensor
from .graph import format_number, graph_nodes, shape_text, summarize

if TYPE_CHECKING:
    from ..nn import Module

__all__ = ["chain_rule", "chain_rule_paths", "ChainPath", "ChainRuleText", "MAX_PATHS"]

MAX_PATHS = 1000
WIDTH = 80  # the printed chain fits a terminal (and a page of the docs) without scrolling


def _fit(line: str, width: int = WIDTH) -> str:
    """``line`` broken into lines of at most ``width`` characters where it can be: before an
    ``=`` (continuations aligned under the first one); a part too long for a line of its
    own before its ``·``, ``+``, ``→`` or ``←``; anything else at spaces."""
    if len(line) <= width:
        return line
    eq = line.find(" = ")
    if 0 <= eq <= width // 2:
        indent, parts = " " * (eq + 1), re.split(r"(?= = )", line)
    else:
        indent, parts = "    ", [line]
    lines: list[str] = []

    def add(piece: str) -> None:
        if lines and len(lines[-1]) + len(piece) <= width:
            lines[-1] += piece
        else:
            lines.append(indent + piece.lstrip() if lines else piece)

    for part in parts:
        fits_here = bool(lines) and len(lines[-1]) + len(part) <= width
        fits_alone = len(indent + part.lstrip() if lines else part) <= width
        for piece in [part] if fits_here or fits_alone else re.split(r"(?= [·+→←] )", part):
            add(piece)
    out: list[str] = []
    for text in lines:
        wrapped = textwrap.wrap(text, width, subsequent_indent=indent, break_on_hyphens=False)
        out.extend(wrapped if len(text) > width else [text])
    return "\n".join(out)


def _wrap(sym: str) -> str:
    return sym if not any(c in sym for c in "·−+/²() @") else f"({sym})"


@dataclass
class ChainPath:
    """One path from ``wrt`` up to the cost.

    ``tensors`` runs from ``wrt`` to the cost and ``symbols`` names them; ``ops`` are the op
    names between consecutive tensors; ``factors`` holds one dict per step (``num``/``den``
    symbols of ``∂num/∂den``, the op's ``formula``, and ``value``: the number for a scalar
    step, else None); ``value`` is this path's share of ``∂C/∂wrt`` (an array of wrt's shape).
    """

    tensors: list
    symbols: list
    ops: list
    factors: list
    value: np.ndarray
    scalar: bool
    shapes: list = field(default_factory=list)

    def partials(self) -> str:
        """``∂z2/∂w2 · ∂a2/∂z2 · ∂C/∂a2`` (from ``wrt`` up to the cost, as in the videos)."""
        return " · ".join(f"∂{_wrap(f['num'])}/∂{_wrap(f['den'])}" for f in self.factors)


def chain_rule_paths(
    cost: Tensor, wrt: Tensor, *, model: Module | None = None, params: Mapping[str, Tensor] | None = None
) -> list[ChainPath]:
    """Every path from ``cost`` down to ``wrt``, each with its factors and its share of the
    gradient; the shares add up to ``∂cost/∂wrt`` (what ``backward()`` puts in ``wrt.grad``).

    The paths are read off the cost's :class:`~microgradnet.tape.Tape` (the list
    ``backward()`` walks): from ``wrt``'s slot, through the nodes that use it, up to the root.
    """
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    if not isinstance(cost, Tensor) or not isinstance(wrt, Tensor):
        raise TypeError("chain_rule: cost and wrt must be Tensors")
    if cost.is_leaf:
        raise GraphError("chain_rule: the cost is a leaf: it was not computed from anything")
    tape = Tape.of(cost)
    start = tape.slot_of(wrt)
    if start is None:
        raise GraphError("chain_rule: wrt is not one of the tensors the cost was computed from")
    g = graph_nodes(cost, model=model, params=params, cluster=False)
    sym = {id(n["tensor"]): n["symbol"] for n in g["nodes"] if n["kind"] != "op"}

    # all paths wrt -> cost, as lists of (node, input position) steps on the tape
    paths: list[list[tuple[int, int]]] = []
    stack: list[tuple[int, list[tuple[int, int]]]] = [(start, [])]
    while stack:
        s, steps = stack.pop()
        if s == tape.root:
            paths.append(steps)
            if len(paths) > MAX_PATHS:
                raise GraphError(
                    f"chain_rule: more than {MAX_PATHS} paths lead from the cost to this tensor; "
                    "too many to write out"
                )
            continue
        for i, k in reversed(tape.consumers(s)):
            stack.append((tape.outs[i], steps + [(i, k)]))
    if not paths:
        raise GraphError("chain_rule: no path from the cost to wrt needs a gradient")

    result = []
    for steps in paths:
        tensors, ops, factors = [wrt], [], []
        scalar = True
        below = wrt
        for i, k in steps:
            out = tape.node(i)
            op = tape.ops[i]
            value = None
            if out.data.size == 1 and below.data.size == 1:
                xs = tuple(tape.tensor(s).data for s in tape.inputs[i])
                ld = op.local_derivative(k, xs, out.data)
                if ld is not None:
                    value = float(np.asarray(ld).reshape(-1)[0])
            if value is None:
                scalar = False
            formula = display_name(op.derivatives[k]) if k < len(op.derivatives) else ""
            factors.append(
                {
                    "num": sym[id(out)],
                    "den": sym[id(below)],
                    "op": display_name(op.name),
                    "formula": formula,
                    "value": value,
                }
            )
            ops.append(display_name(op.name))
            tensors.append(out)
            below = out
        if scalar:
            v = float(np.prod([f["value"] for f in factors]))
            path_value = np.full(wrt.shape, v, dtype=np.float64)
        else:
            path_value = _vjp_along(tape, cost, wrt, steps)
        result.append(
            ChainPath(
                tensors=tensors,
                symbols=[sym[id(t)] for t in tensors],
                ops=ops,
                factors=factors,
                value=path_value,
                scalar=scalar,
                shapes=[tuple(t.shape) for t in tensors],
            )
        )
    return result


def _vjp_along(tape: Tape, cost, wrt, steps) -> np.ndarray:
    """Push ``∂C/∂C = 1`` down one path of the tape: at each node, the op's rule for just the
    input on the path (a vector-Jacobian product)."""
    g = np.ones_like(cost.data)
    for i, k in reversed(steps):
        op = tape.ops[i]
        if op.saved is None:
            raise GraphError(
                f"chain_rule: the graph through '{op.name}' was released by backward(), so the products "
                "for arrays cannot be computed; call chain_rule before backward(), or use "
                "backward(retain_graph=True)"
            )
        needs = tuple(j == k for j in range(len(tape.inputs[i])))
        g = op.backward(g, needs)[k]
    return np.asarray(g, dtype=np.float64).reshape(wrt.shape)


class ChainRuleText(str):
    """The text :func:`chain_rule` prints and returns: a ``str`` that appears once in a notebook.

    A cell ending in ``chain_rule(...)`` would otherwise show the printed text and then the
    returned string again, quoted, with its line breaks as ``\\n``. When the text already went
    to the screen (``printed``) IPython shows nothing more; otherwise it shows the text itself.
    """

    printed = False

    def _repr_pretty_(self, p, cycle):
        p.text(str(self))

    def _ipython_display_(self):
        if not self.printed:
            print(self)


def chain_rule(
    cost: Tensor,
    wrt: Tensor,
    *,
    model: Module | None = None,
    params: Mapping[str, Tensor] | None = None,
    file: TextIO | None = None,
) -> str:
    """Print (to ``file``, default stdout) and return the chain rule for ``∂cost/∂wrt``: every
    path with its product of partial derivatives, and the total when there are several.

    The result is a ``str`` (``ChainRuleText``); a notebook cell ending in this call shows
    the text once."""
    __tracebackhide__ = HIDDEN_FOR_USER_ERRORS
    paths = chain_rule_paths(cost, wrt, model=model, params=params)
    names = {
        id(n["tensor"]): n["label"]
        for n in graph_nodes(cost, model=model, params=params, cluster=False)["nodes"]
        if n["kind"] != "op"
    }
    p0 = paths[0]
    C, W = p0.symbols[-1], p0.symbols[0]
    dW = f"∂{_wrap(C)}/∂{_wrap(W)}"
    total = paths[0].value
    for p in paths[1:]:  # the chain rule adds the paths up
        total = total + p.value
    lines = []
    if all(p.scalar for p in paths):
        if len(paths) > 1:
            lines.append(
                f"{W} is used {len(paths)} times: {len(paths)} paths lead from {C} to it, and the "
                "chain rule adds them up."
            )
        for i, p in enumerate(paths, 1):
            nums = " · ".join(format_number(f["value"]) for f in p.factors)
            head = f"path {i}: " if len(paths) > 1 else ""
            lines.append(f"{head}{dW} = {p.partials()} = {nums} = {format_number(p.value.reshape(-1)[0])}")
        if len(paths) > 1:
            parts = " + ".join(format_number(p.value.reshape(-1)[0]) for p in paths)
            lines.append(f"total: {dW} = {parts} = {format_number(total.reshape(-1)[0])}")
    else:
        label = names.get(id(wrt), W)
        about = f"{label}, " if label != W else ""
        lines.append(
            f"{dW}  ({about}{shape_text(wrt.shape)}, {wrt.dtype}): {len(paths)} path"
            f"{'s' if len(paths) > 1 else ''} from {C} to {W}."
        )
        lines.append(
            "For arrays each factor is not one number: each step is a vector-Jacobian product, "
            "the upstream gradient multiplied by the op's local derivative (and summed back to "
            "the input's shape), applied from the cost down."
        )
        for i, p in enumerate(paths, 1):
            chain = f"{p.symbols[0]} ({shape_text(p.shapes[0])})"
            for op, s, sh in zip(p.ops, p.symbols[1:], p.shapes[1:]):
                chain += f" → {op} → {s} ({shape_text(sh)})"
            lines.append(f"path {i}: {chain}")
            lines.append(f"   {dW} ← {p.partials()}")
            lines.append("   = " + summarize(p.value).replace("\n", "; "))
        lines.append(f"total {dW} ({shape_text(wrt.shape)}) = " + summarize(total).replace("\n", "; "))
    text = ChainRuleText("\n".join(_fit(line) for line in lines))
    print(text, file=file if file is not None else sys.stdout)
    text.printed = file is None or file is sys.stdout
    return text
