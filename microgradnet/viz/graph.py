"""The computation graph as a picture: one box per op, one per tensor, layers top to bottom.

``draw_graph(cost)`` returns a :class:`~microgradnet.viz.render.Drawing` (it shows itself in
Jupyter as SVG); ``render_graph(drawing, "graph.svg")`` writes it to a file (.svg, .png, .pdf
or .dot). Graphviz's ``dot`` or the pip-installed ``graphviz-pure`` lays it out (see
:mod:`microgradnet.viz.render`).
``graph_nodes(cost)`` gives the same graph as plain dicts, and ``summarize(array)`` the short
text a node shows for an array of values.

What the boxes mean:

* amber rounded boxes are **ops** (``matmul``, ``add_bias``, ``sigmoid`` …);
* blue boxes with a bold border are **parameters** (the weights and biases that learn);
* green notes are **data** (the input images ``x``, the wanted outputs ``y``, constants);
* grey ovals are **intermediate** tensors (``z1``, ``a1`` …), the red double oval is the cost.

With ``cluster=True`` the ops a module computed (e.g. one ``Linear`` layer: matmul →
add_bias → sigmoid) are drawn inside one frame labelled by the module's path, so an MLP
reads as its layers; ``compact=True`` draws each such layer as one box. Top to bottom (the
default), each layer is one row, so the 784-16-16-10 network's training step with its
gradients fits a 900-pixel column with its smallest text 10 px tall.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..atomic import write_bytes
from ..display import display_name
from ..errors import GraphError
from ..tape import Tape
from ..tensor import Tensor
from .render import INSTALL_GRAPHVIZ, WRITES, Drawing, GraphvizNotFoundError, run_renderer

if TYPE_CHECKING:
    from graphviz import Digraph

    from ..nn import Module

__all__ = [
    "draw_graph",
    "graph_nodes",
    "summarize",
    "render_graph",
    "format_number",
    "collapse_layers",
    "layout_rows",
    "Drawing",
    "GraphvizNotFoundError",
    "INSTALL_GRAPHVIZ",
]

FORMATS = ("svg", "png", "pdf", "dot", "gv")
RANKDIRS = ("TB", "LR", "BT", "RL")
ACTIVATION_OPS = {"sigmoid", "tanh", "relu", "softmax", "log_softmax"}
LOSS_OPS = {"squared_error", "cross_entropy"}
SPARK = "▁▂▃▄▅▆▇█"

STYLE = {
    "op": dict(shape="box", style="rounded,filled", fillcolor="#fde68a", color="#b45309"),
    "parameter": dict(shape="box", style="filled,bold", fillcolor="#bfdbfe", color="#1d4ed8", penwidth="2"),
    "input": dict(shape="note", style="filled", fillcolor="#d1fae5", color="#047857"),
    "target": dict(shape="note", style="filled", fillcolor="#d1fae5", color="#047857"),
    "constant": dict(shape="note", style="filled", fillcolor="#ecfdf5", color="#047857"),
    "intermediate": dict(shape="box", style="rounded,filled", fillcolor="#f3f4f6", color="#6b7280"),
    "cost": dict(shape="ellipse", style="filled", fillcolor="#fecaca", color="#b91c1c", peripheries="2"),
    "layer": dict(shape="box", style="rounded,filled", fillcolor="#fef3c7", color="#b45309", penwidth="1.5"),
}
# One font name that both programs measure the same way: graphviz-pure has Helvetica's
# metrics built in (its bundled Arimo has the same widths; a list such as "Helvetica,Arial"
# makes it fall back to Times), system Graphviz finds Helvetica or its look-alike through
# fontconfig, and both write font-family="Helvetica,sans-Serif", which every browser shows.
FONT = "Helvetica"
FONT_SIZE = 12  # names
DETAIL_SIZE = 10  # shapes, formulas, numbers: the smallest text of a drawing
GRAD_COLOR = "#b91c1c"
BAR_LEVELS = 5  # the histograms' height in 2-point steps
VALUES_PER_LINE = 4  # a box lists a small array's numbers four to a line


# ----------------------------------------------------------------------------------------
# numbers as text
# ----------------------------------------------------------------------------------------
def format_number(x, digits: int = 4) -> str:
    """A number as short text: ``0.6225``, ``-1.25e-05``, ``3`` (``digits`` significant)."""
    x = float(x)
    if x == 0:
        return "0"
    if not np.isfinite(x):
        return str(x)
    return format(x, f".{digits}g")


def _values_text(a: np.ndarray, digits: int, per_line: int | None = None) -> str:
    if a.ndim == 0:
        return format_number(a, digits)
    if a.ndim == 1:
        step = per_line or max(len(a), 1)
        lines = (", ".join(format_number(v, digits) for v in a[i : i + step]) for i in range(0, len(a), step))
        return "[" + ",\n ".join(lines) + "]"
    return "[" + ",\n ".join(_values_text(row, digits, per_line) for row in a) + "]"


def histogram(a, bins: int = 10):
    """``(counts, min, max)`` of the finite values, in ``bins`` equal bins from min to max;
    ``(None, nan, nan)`` when no value is finite."""
    a = np.asarray(a, dtype=np.float64).ravel()
    a = a[np.isfinite(a)]
    if a.size == 0:
        return None, float("nan"), float("nan")
    lo, hi = float(a.min()), float(a.max())
    counts, _ = np.histogram(a, bins=bins, range=(lo, hi))
    return counts, lo, hi


def sparkline(a, bins: int = 10) -> str:
    """The distribution of the values as a row of unicode blocks (a tiny histogram)."""
    counts, lo, hi = histogram(a, bins)
    if counts is None:
        return ""
    if hi == lo:
        return SPARK[3] * bins
    top = counts.max()
    return "".join(
        " " if c == 0 else SPARK[min(len(SPARK) - 1, int(round((len(SPARK) - 1) * c / top)))] for c in counts
    )


def summarize(array, max_values: int = 12, digits: int = 4, per_line: int | None = None) -> str:
    """Short text for an array: every value when there are at most ``max_values`` (at most
    ``per_line`` of them on a line), else the mean, the min and max, and a sparkline of the
    distribution between them.

    >>> summarize(np.array([0.5, 0.25]))
    '[0.5, 0.25]'
    """
    a = np.asarray(array.data if isinstance(array, Tensor) else array)
    if a.size <= max_values:
        return _values_text(a, digits, per_line)
    f = a.astype(np.float64)
    if not _summarized(f, max_values):
        return f"all {format_number(f.min(), digits)}"
    return (
        f"mean {format_number(f.mean(), digits)}\n"
        f"{format_number(f.min(), digits)} {sparkline(f)} {format_number(f.max(), digits)}"
    )


def _summarized(a: np.ndarray, max_values: int = 12) -> bool:
    """Whether :func:`summarize` shows ``a`` as mean, range and distribution (too many values
    to list, and not all the same)."""
    return a.size > max_values and not bool(a.min() == a.max())


def stats(array, few: int = 6, digits: int = 6) -> dict:
    """Numbers about an array and their display text (for the stepper's JSON): shape,
    mean/min/max, the first few values, a sparkline; ``value`` for a single number."""
    a = np.asarray(array.data if isinstance(array, Tensor) else array, dtype=np.float64)
    out: dict[str, Any] = {
        "shape": list(a.shape),
        "shape_text": shape_text(a.shape),
        "size": int(a.size),
        "scalar": a.size == 1,
    }
    if a.size:
        fl = a.ravel()
        out.update(
            mean=float(a.mean()),
            min=float(a.min()),
            max=float(a.max()),
            values=[float(v) for v in fl[:few]],
            fmt={
                "mean": format_number(a.mean(), digits),
                "min": format_number(a.min(), digits),
                "max": format_number(a.max(), digits),
                "values": [format_number(v, 4) for v in fl[:few]],
            },
            more=int(a.size > few),
            spark=sparkline(a) if a.size > few else "",
        )
    if a.size == 1:
        out["value"] = float(a.ravel()[0])
        out["fmt"]["value"] = format_number(a.ravel()[0], digits)
    for key in ("mean", "min", "max", "value"):  # JSON has no NaN/inf: None, the text says it
        if key in out and not np.isfinite(out[key]):
            out[key] = None
    if "values" in out:
        out["values"] = [v if np.isfinite(v) else None for v in out["values"]]
    return out


def shape_text(shape) -> str:
    """``(4, 16)`` -> ``4×16``; ``()`` -> ``scalar``."""
    return "×".join(str(n) for n in shape) if len(shape) else "scalar"


# ----------------------------------------------------------------------------------------
# the graph as plain data
# ----------------------------------------------------------------------------------------
def _walk(root: Tensor) -> list[Tensor]:
    """Every tensor ``root`` depends on (leaves included), each after all of its inputs: the
    nodes of the root's tape in forward order, each leaf placed just before the first node
    that uses it."""
    if root.is_leaf:
        return [root]
    tape = Tape.of(root)
    leaves = {s for s, _ in tape.leaves}
    order, placed = [], set()
    for i, ins in enumerate(tape.inputs):
        for s in ins:
            if s in leaves and s not in placed:
                placed.add(s)
                order.append(tape.tensor(s))
        order.append(tape.node(i))
    return order


def _short(name: str) -> str:
    """``layers.0.weight`` -> ``W1``, ``layers.2.bias`` -> ``b3``; other names unchanged."""
    if "." not in name:
        return name
    parts = name.split(".")
    letter = {"weight": "W", "bias": "b"}.get(parts[-1], parts[-1])
    digits = [int(p) for p in parts if p.isdigit()]
    return f"{letter}{digits[-1] + 1}" if digits else letter


def _simple(sym: str) -> bool:
    return not any(c in sym for c in "·−+/²() ")


def _param_names(model, params) -> dict[int, str]:
    names: dict[int, str] = {}
    if model is not None:
        if not hasattr(model, "named_parameters"):
            raise TypeError(f"model must be a Module (with named_parameters), got {type(model).__name__}")
        for n, p in model.named_parameters():
            names.setdefault(id(p), n)
    if params is not None:
        items = params.items() if hasattr(params, "items") else params
        for n, p in items:
            if not isinstance(p, Tensor):
                raise TypeError(f"params: {n!r} is a {type(p).__name__}, not a Tensor")
            names[id(p)] = str(n)
    return names


def _module_paths(model) -> dict:
    if model is None or not hasattr(model, "named_modules"):
        return {}
    return {id(m): path for path, m in model.named_modules()}


def _module_text(m, path: str) -> str:
    from ..nn.layers import Linear

    if isinstance(m, Linear):
        act = type(m.activation).__name__.lower() if m.activation is not None else "no activation"
        desc = f"Linear {m.in_features}→{m.out_features}, {act}"
    else:
        desc = type(m).__name__
    return f"{path}: {desc}" if path else desc


def graph_nodes(root: Tensor, *, model=None, params=None, cluster: bool = True) -> dict:
    """The graph of ``root`` as plain data: ``{"nodes": [...], "edges": [...], "clusters": [...]}``.

    Each tensor ``i`` (in topological order, leaves included) is a node ``t{i}``; the op that
    made it, if any, is a node ``op{i}``. A node dict holds ``id``, ``kind`` (``op``,
    ``parameter``, ``input``, ``target``, ``constant``, ``intermediate`` or ``cost``),
    ``label`` (what the picture shows), ``symbol`` (the short name the chain rule uses, e.g.
    ``a1``, ``W1``), ``shape``, ``dtype`` and ``tensor`` (the Tensor itself); an op node
    holds ``op`` (the Op), ``describe``, ``inputs`` (tensor node ids) and ``out``. Edges go
    ``tensor -> op`` (with the input ``index``) and ``op -> tensor``.
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"expected a Tensor (e.g. the cost), got {type(root).__name__}")
    names = _param_names(model, params)
    order = _walk(root)
    index = {id(t): i for i, t in enumerate(order)}
    loss_targets = {
        id(t.inputs[1]) for t in order if t.op is not None and t.op.name in LOSS_OPS and len(t.inputs) > 1
    }
    symbols: dict[int, str] = {}
    used: set[str] = set()
    counters: dict[str, int] = {}
    layer = 0

    def unique(sym: str) -> str:
        base, k = sym, 2
        while sym in used:
            sym = f"{base}_{k}"
            k += 1
        used.add(sym)
        return sym

    def count(key: str) -> int:
        counters[key] = counters.get(key, 0) + 1
        return counters[key]

    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    for i, t in enumerate(order):
        tid = f"t{i}"
        base = dict(id=tid, tensor=t, shape=tuple(t.data.shape), dtype=str(t.data.dtype), scope=None)
        if t.is_leaf:
            if id(t) in names:
                kind, label = "parameter", names[id(t)]
                sym = _short(label)
            elif t.requires_grad:
                kind = "parameter"
                label = t.name or f"p{count('p')}"
                sym = _short(label)
            elif id(t) in loss_targets:
                kind = "target"
                sym = t.name or "y"
                label = t.name or "target y"
            elif t.data.size == 1 and not t.name:
                kind = "constant"
                sym = format_number(t.data.ravel()[0])
                label = f"constant {sym}"
            else:
                kind = "input"
                n = count("x")
                sym = t.name or ("x" if n == 1 else f"x{n}")
                label = t.name or f"input {sym}"
            sym = unique(sym) if kind != "constant" else sym
        else:
            op = t.op
            assert op is not None  # not a leaf: made by an op
            opname = op.name
            ins = [symbols.get(id(p), "?") for p in t.inputs]

            def wrap(s):
                return s if _simple(s) else f"({s})"

            if opname in ACTIVATION_OPS:
                layer += 1
                auto = f"a{layer}"
            elif opname in ("add", "add_bias"):
                auto = f"z{layer + 1}"
            elif opname in ("mul", "matmul") and len(ins) == 2 and len(ins[0]) + len(ins[1]) <= 10:
                auto = f"{wrap(ins[0])}·{wrap(ins[1])}"
            elif opname == "sub" and len(ins) == 2 and len(ins[0]) + len(ins[1]) <= 10:
                auto = f"{wrap(ins[0])}−{wrap(ins[1])}"
            elif opname == "div" and len(ins) == 2 and len(ins[0]) + len(ins[1]) <= 10:
                auto = f"{wrap(ins[0])}/{wrap(ins[1])}"
            elif opname == "pow" and getattr(op, "p", None) == 2 and len(ins[0]) <= 10:
                auto = f"{wrap(ins[0])}²"
            else:
                auto = f"{opname}{count(opname)}"
            if t is root and t.data.size == 1:
                kind = "cost"
                sym = unique(t.name or "C")
                label = t.name or "cost C"
            else:
                kind = "intermediate"
                sym = unique(t.name or auto)
                label = sym
            op_node = dict(
                id=f"op{i}",
                kind="op",
                label=display_name(op.describe()),
                symbol=display_name(opname),
                op=op,
                describe=display_name(op.describe()),
                inputs=[f"t{index[id(p)]}" for p in t.inputs],
                out=tid,
                tensor=t,
                scope=None,
            )
            nodes.append(op_node)
            for k, p in enumerate(t.inputs):
                edges.append({"from": f"t{index[id(p)]}", "to": op_node["id"], "index": k})
            edges.append({"from": op_node["id"], "to": tid, "index": None})
        sym, label = display_name(sym), display_name(label)  # no hidden or unwritable characters
        symbols[id(t)] = sym
        nodes.append(dict(base, kind=kind, label=label, symbol=sym, name=t.name))

    clusters: list[dict[str, Any]] = []
    if cluster:
        clusters = _clusters(order, index, _module_paths(model))
        where: dict[str, str] = {}
        for c in clusters:
            for m in c["members"]:
                where.setdefault(m, c["id"])
        for node in nodes:
            key = node["out"] if node["kind"] == "op" else node["id"]
            node["scope"] = where.get(key)
    return {"nodes": nodes, "edges": edges, "clusters": clusters}


def _clusters(order, index, paths) -> list[dict]:
    """One cluster per module output: the ops between the module's inputs and its output
    (walk back through the inputs until another module's output or a leaf)."""
    member: dict[int, int] = {}
    clusters: list[dict[str, Any]] = []
    for s in order:
        if s.is_leaf or s.module is None or id(s) in member:
            continue
        k = len(clusters)
        mod = s.module
        member[id(s)] = k
        stack = list(s.inputs)
        while stack:
            p = stack.pop()
            if id(p) in member:
                continue
            if p.is_leaf:  # leaves (even the module's own parameters) stay outside:
                continue  # inside, they would push the frames into a staircase
            if p.module is not None:
                continue
            member[id(p)] = k
            stack.extend(p.inputs)
        clusters.append(
            {
                "id": f"cluster_{k}",
                "label": display_name(_module_text(mod, paths.get(id(mod), ""))),
                "module": mod,
                "members": [],
            }
        )
    for t in order:
        owner = member.get(id(t))
        if owner is not None:
            clusters[owner]["members"].append(f"t{index[id(t)]}")
    return clusters


# ----------------------------------------------------------------------------------------
# gradients for the picture
# ----------------------------------------------------------------------------------------
def collect_grads(root: Tensor, order=None) -> dict:
    """``id(tensor) -> ∂root/∂tensor`` for every tensor of the graph that needs a gradient.

    Uses ``.grad`` where the user's ``backward(keep_grads=True)`` left it; otherwise walks
    the graph again with a recording backward (the user's ``.grad`` are not touched), which
    needs the graph's saved buffers.
    """
    order = order if order is not None else _walk(root)
    grads = {}
    missing = any(t.grad is None for t in order if t.requires_grad)
    if missing and not root.is_leaf:
        tape = Tape.of(root)
        try:
            found = tape.backward(
                np.ones_like(root.data), retain_graph=True, keep_grads=True, into_leaves=False
            )
        except GraphError:
            raise GraphError(
                "show_grads: the intermediate tensors' gradients were not kept and backward() has "
                "already released the graph's saved buffers, so they cannot be computed again; call "
                "cost.backward(keep_grads=True) before drawing, or draw before backward(), or use "
                "backward(retain_graph=True)"
            ) from None
        for s, g in enumerate(found):
            if g is not None:
                grads[id(tape.tensor(s))] = g
    for t in order:  # the user's own gradients win where they exist
        if t.grad is not None:
            grads[id(t)] = t.grad
    return grads


# ----------------------------------------------------------------------------------------
# the layout as data
# ----------------------------------------------------------------------------------------
def collapse_layers(g: dict) -> dict:
    """The graph of :func:`graph_nodes` with each frame (a module, e.g. one ``Linear``) as one
    node of kind ``layer``: the module's output tensor, which also lists the module's ``ops``
    (their names, in order). The ops and intermediate tensors inside the frame are dropped;
    edges that entered them enter the layer node instead (one edge per input)."""
    owner: dict[str, str] = {}
    title = {}
    for c in g["clusters"]:
        out = c["members"][-1]  # members are in forward order: the module's output is last
        title[out] = c["label"]
        for m in c["members"]:
            owner[m] = out
    for n in g["nodes"]:
        if n["kind"] == "op" and n["out"] in owner:
            owner[n["id"]] = owner[n["out"]]
    ops: dict[str, list[str]] = {}
    for n in g["nodes"]:
        if n["kind"] == "op" and n["id"] in owner:
            ops.setdefault(owner[n["id"]], []).append(n["describe"])
    nodes = []
    for n in g["nodes"]:
        if n["id"] not in owner:
            nodes.append(n)
        elif n["id"] in title:
            nodes.append(dict(n, kind="layer", title=title[n["id"]], ops=ops[n["id"]], scope=None))
    edges, seen = [], set()
    for e in g["edges"]:
        a, b = owner.get(e["from"], e["from"]), owner.get(e["to"], e["to"])
        if a != b and (a, b) not in seen:
            seen.add((a, b))
            edges.append(dict(e, **{"from": a, "to": b}))
    return {"nodes": nodes, "edges": edges, "clusters": []}


def layout_rows(g: dict, max_ops: int = 3) -> list[list[str]]:
    """The rows of a top-to-bottom drawing, as lists of node ids: the ops and the tensors
    they make, in forward order, a new row after an activation or a cost, at the edge of a
    frame (one ``Linear`` layer is one row: matmul → add_bias → sigmoid), and after
    ``max_ops`` ops. Leaves (parameters, data) belong to no row: they sit above the op that
    reads them."""
    rows: list[list[str]] = []
    row: list[str] = []
    ops_in_row, scope, ended = 0, None, False
    for n in g["nodes"]:
        if n["kind"] in ("op", "layer"):
            if row and (ended or n["scope"] != scope or ops_in_row >= max_ops):
                rows.append(row)
                row, ops_in_row = [], 0
            scope = n["scope"]
            ops_in_row += 1
            ended = n["kind"] == "layer" or n["op"].name in ACTIVATION_OPS | LOSS_OPS
            row.append(n["id"])
        elif not n["tensor"].is_leaf:  # an op's result follows its op
            row.append(n["id"])
    if row:
        rows.append(row)
    return rows


# ----------------------------------------------------------------------------------------
# drawing
# ----------------------------------------------------------------------------------------
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def escape_label(text) -> str:
    """Text made safe inside a Graphviz HTML-like label: XML entities for ``& < > " '``,
    backslashes doubled (Graphviz would read ``\\N`` as the node name), control characters
    shown as ``\\xNN``."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))
    return html.escape(text, quote=True).replace("\\", "\\\\")


def _lines_html(text: str) -> str:
    return "<BR/>".join(escape_label(line) for line in text.split("\n"))


def _small(text: str, color: str) -> str:
    return f'<FONT POINT-SIZE="{DETAIL_SIZE}" COLOR="{color}">{text}</FONT>'


def _bars_html(counts, color: str) -> str:
    """A histogram drawn with table cells (a picture in any font, any renderer): one column
    per bin, its height proportional to the count; empty bins show a grey baseline."""
    top = max(counts)
    heights = [0 if c == 0 else max(1, round(BAR_LEVELS * c / top)) for c in counts]
    rows = []
    for level in range(BAR_LEVELS, 0, -1):
        cells = []
        for h in heights:
            fill = color if h >= level else ("#d1d5db" if level == 1 else None)
            bg = f' BGCOLOR="{fill}"' if fill else ""
            cells.append(f'<TD FIXEDSIZE="TRUE" WIDTH="4" HEIGHT="2"{bg}></TD>')
        rows.append("<TR>" + "".join(cells) + "</TR>")
    size = f'WIDTH="{4 * len(counts)}" HEIGHT="{2 * BAR_LEVELS}" FIXEDSIZE="TRUE"'  # never stretched
    return f'<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="0" {size}>' + "".join(rows) + "</TABLE>"


def _summary_rows(word: str, a: np.ndarray, color: str) -> list[str]:
    """Table rows for ``value …`` or ``grad …``: every number of a small array, else the
    mean and, on the next row, min, a histogram of the values, max."""
    f = np.asarray(a, dtype=np.float64)
    counts, lo, hi = histogram(f) if _summarized(f) else (None, 0.0, 0.0)
    if counts is None:
        text = _lines_html(f"{word} {summarize(a, per_line=VALUES_PER_LINE)}")
        return [f'<TR><TD COLSPAN="3">{_small(text, color)}</TD></TR>']
    return [
        f'<TR><TD COLSPAN="3">{_small(escape_label(f"{word} mean {format_number(f.mean())}"), color)}</TD></TR>',
        f'<TR><TD ALIGN="RIGHT">{_small(escape_label(format_number(lo)) + " ", color)}</TD>'
        f"<TD>{_bars_html(counts, color)}</TD>"
        f'<TD ALIGN="LEFT">{_small(" " + escape_label(format_number(hi)), color)}</TD></TR>',
    ]


def _tensor_label(n: dict, grads, show_values: bool, show_grads: bool) -> str:
    t = n["tensor"]
    rows = []
    if n["kind"] == "layer":
        rows.append(f'<TR><TD COLSPAN="3"><B>{escape_label(n["title"])}</B></TD></TR>')
        ops = escape_label(" → ".join(n["ops"]))
        rows.append(f'<TR><TD COLSPAN="3">{_small(ops, "#78350f")}</TD></TR>')
        first = f"{n['label']} · {shape_text(n['shape'])} · {n['dtype']}"
    else:
        rows.append(f'<TR><TD COLSPAN="3"><B>{escape_label(n["label"])}</B></TD></TR>')
        first = f"{shape_text(n['shape'])} · {n['dtype']}"
    rows.append(f'<TR><TD COLSPAN="3">{_small(escape_label(first), "#4b5563")}</TD></TR>')
    if show_values:
        rows += _summary_rows("value", t.data, "#111827")
    if show_grads and t.requires_grad:
        g = grads.get(id(t))
        if g is None:
            rows.append(f'<TR><TD COLSPAN="3">{_small("grad not computed", GRAD_COLOR)}</TD></TR>')
        else:
            rows += _summary_rows("grad", g, GRAD_COLOR)
    return '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">' + "".join(rows) + "</TABLE>>"


def _op_label(n: dict) -> str:
    op = n["op"]
    sym = display_name(getattr(op, "symbol", ""))
    parts = [f"<B>{escape_label(n['describe'])}</B>"]
    if sym:
        parts.append(_small(escape_label(sym), "#78350f"))
    return "<" + "<BR/>".join(parts) + ">"


def draw_graph(
    root: Tensor,
    *,
    show_values: bool = False,
    show_grads: bool = False,
    params: Mapping[str, Tensor] | None = None,
    model: Module | None = None,
    cluster: bool = True,
    compact: bool = False,
    rankdir: str = "TB",
    max_nodes: int | None = 400,
    renderer: str | None = None,
) -> Drawing:
    """Draw the computation graph that produced ``root`` (usually the cost).

    ``model`` (a Module) or ``params`` (a dict ``name -> tensor``) names the parameters
    (``layers.0.weight`` …); ``show_values``/``show_grads`` add each tensor's values and
    gradient ``∂root/∂tensor`` (every value of small arrays, else the mean and a histogram
    between the min and the max). ``cluster`` frames each module's ops; ``compact=True``
    draws each module as one box instead (its ops listed, its output's numbers shown).

    ``rankdir="TB"`` (the default) stacks the layers top to bottom, each layer's ops reading
    left to right in one row, so a deep network stays narrow enough for a page or a notebook;
    ``"LR"`` draws one long left-to-right line (``"BT"``, ``"RL"`` reverse them).
    ``renderer`` picks the layout program (``"auto"``, ``"dot"``, ``"graphviz-pure"``; see
    :mod:`microgradnet.viz.render`).

    Returns a :class:`~microgradnet.viz.render.Drawing`: it displays itself in Jupyter; in a
    script nothing is written until you save it with :func:`render_graph` (the suffix picks
    the format) or ``.save(path)``::

        dot = mg.viz.draw_graph(cost, model=model)
        mg.viz.render_graph(dot, "graph.svg")  # or .png, .pdf, .dot
    """
    import graphviz

    if rankdir not in RANKDIRS:
        raise ValueError(f"draw_graph: rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    drawing_renderer = Drawing("", renderer).renderer  # a wrong renderer name fails now
    g = graph_nodes(root, model=model, params=params, cluster=cluster or compact)
    if max_nodes is not None and len(g["nodes"]) > max_nodes:
        raise GraphError(
            f"draw_graph: the graph has {len(g['nodes'])} nodes, more than max_nodes={max_nodes}; "
            "draw a smaller part (e.g. one layer's output), pass compact=True, or pass max_nodes=None"
        )
    tensors = [n["tensor"] for n in g["nodes"] if n["kind"] != "op"]
    grads = collect_grads(root, tensors) if show_grads else {}
    g["edges"] = [dict(e, id=f"e{k}") for k, e in enumerate(g["edges"])]
    if compact:
        g = collapse_layers(g)
    nodes = g["nodes"]
    rows = layout_rows(g) if rankdir in ("TB", "BT") else []
    row_of = {nid: k for k, row in enumerate(rows) for nid in row}

    dot = graphviz.Digraph("computation_graph")
    dot.attr(
        rankdir=rankdir,
        newrank="true",
        bgcolor="white",
        fontname=FONT,
        nodesep="0.2",
        ranksep="0.3",
        tooltip="computation graph",
    )
    dot.attr("node", fontname=FONT, fontsize=str(FONT_SIZE), margin="0.1,0.05")
    dot.attr("edge", color="#6b7280", arrowsize="0.7")

    def add(graph, n):
        label = _op_label(n) if n["kind"] == "op" else _tensor_label(n, grads, show_values, show_grads)
        graph.node(n["id"], label=label, id=n["id"], **{"class": n["kind"]}, **STYLE[n["kind"]])

    def fill(graph, members):
        """Add the nodes; each row's nodes side by side (rank=same) within their frame."""
        by_row: dict[int, list] = {}
        for n in members:
            if n["id"] in row_of:
                by_row.setdefault(row_of[n["id"]], []).append(n)
            else:
                add(graph, n)
        for k, row in by_row.items():
            with graph.subgraph(name=f"row_{k}") as same:
                same.attr(rank="same")
                for n in row:
                    add(same, n)

    by_cluster: dict = {}
    for n in nodes:
        by_cluster.setdefault(n["scope"], []).append(n)
    fill(dot, by_cluster.get(None, []))
    for c in g["clusters"]:
        with dot.subgraph(name=c["id"]) as sub:
            sub.attr(
                label=f"<<B>{escape_label(c['label'])}</B>>",
                style="rounded,dashed",
                color="#9ca3af",
                fontcolor="#374151",
                fontsize=str(FONT_SIZE),
                labeljust="l",
                id=c["id"],
            )
            fill(sub, by_cluster.get(c["id"], []))

    leaf = {n["id"] for n in nodes if n["kind"] not in ("op", "layer") and n["tensor"].is_leaf}
    fed_rows = {row_of[e["to"]] for e in g["edges"] if e["from"] in leaf and e["to"] in row_of}
    for e in g["edges"]:
        a, b = e["from"], e["to"]
        if a in leaf:  # leaves hang off the main chain
            attrs = {"weight": "1"}
        elif a in row_of and b in row_of and row_of[a] != row_of[b]:
            # from the end of one row to the start of the next: no pull sideways, and room
            # in between for the next row's parameters
            attrs = {"weight": "0", "minlen": "2" if row_of[b] in fed_rows else "1"}
        else:  # the main chain draws straight
            attrs = {"weight": "8"}
        dot.edge(a, b, id=e["id"], **attrs)
    for above, below in zip(rows, rows[1:]):  # rows start at the left, as lines of text do
        dot.edge(above[0], below[0], style="invis", weight="4")
    return Drawing(dot, drawing_renderer)


# ----------------------------------------------------------------------------------------
# files
# ----------------------------------------------------------------------------------------
def render_graph(
    dot: Drawing | Digraph | str, path: str | os.PathLike[str], *, renderer: str | None = None
) -> Path:
    """Write the graph to ``path``; the format comes from the suffix: ``.svg``, ``.png``,
    ``.pdf``, or ``.dot``/``.gv`` (the Graphviz source, no program needed). Returns the path.

    ``dot`` is what :func:`draw_graph` returned (or any :class:`graphviz.Digraph`, or DOT
    text). ``renderer`` overrides the drawing's choice of layout program (``"auto"``,
    ``"dot"``, ``"graphviz-pure"``). When no program can draw the format, the source is still
    written next to ``path`` (same name, ``.dot``) and :class:`GraphvizNotFoundError` says
    how to get one.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(
            f"render_graph: cannot tell the format of {path.name!r}: use a name ending in "
            ".svg, .png, .pdf or .dot"
        )
    source = dot if isinstance(dot, str) else dot.source
    if fmt in ("dot", "gv"):
        return write_bytes(path, source.encode("utf-8"))
    if renderer is None:
        renderer = getattr(dot, "renderer", None)
    try:
        data = run_renderer(source, fmt, renderer)
    except GraphvizNotFoundError as e:
        dot_path = path.with_suffix(".dot")
        write_bytes(dot_path, source.encode("utf-8"))
        later = f"'dot -T{fmt} {dot_path} -o {path}'"
        if fmt in WRITES["graphviz-pure"]:
            later += f" or 'graphviz-pure -T{fmt} {dot_path} -o {path}'"
        raise GraphvizNotFoundError(
            f"cannot render {path}: {e}. The graph's source was written to {dot_path}: "
            f"render it later with {later}"
        ) from None
    return write_bytes(path, data)
