"""The computation graph as a picture: one box per op, one per tensor, inputs left, cost right.

``draw_graph(cost)`` returns a :class:`graphviz.Digraph` (it shows itself in Jupyter as SVG);
``render_graph(dot, "graph.svg")`` writes it to a file (.svg, .png, .pdf or .dot).
``graph_nodes(cost)`` gives the same graph as plain dicts, and ``summarize(array)`` the short
text a node shows for an array of values.

What the boxes mean:

* amber rounded boxes are **ops** (``matmul``, ``add_bias``, ``sigmoid`` …);
* blue boxes with a bold border are **parameters** (the weights and biases that learn);
* green notes are **data** (the input images ``x``, the wanted outputs ``y``, constants);
* grey ovals are **intermediate** tensors (``z1``, ``a1`` …), the red double oval is the cost.

With ``cluster=True`` the ops a module computed (e.g. one ``Linear`` layer: matmul →
add_bias → sigmoid) are drawn inside one frame labelled by the module's path, so an MLP
reads as its layers.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np

from ..atomic import write_bytes
from ..errors import GraphError, MicrogradnetError
from ..tensor import Tensor, run_backward, topological_order

__all__ = [
    "draw_graph",
    "graph_nodes",
    "summarize",
    "render_graph",
    "format_number",
    "GraphvizNotFoundError",
    "INSTALL_GRAPHVIZ",
]

INSTALL_GRAPHVIZ = (
    "install Graphviz: 'sudo apt-get install graphviz' (Debian/Ubuntu), "
    "'brew install graphviz' (macOS), 'conda install -c conda-forge graphviz', "
    "or see https://graphviz.org/download/"
)

FORMATS = ("svg", "png", "pdf", "dot", "gv")
ACTIVATION_OPS = {"sigmoid", "tanh", "relu", "softmax", "log_softmax"}
LOSS_OPS = {"squared_error", "cross_entropy"}
SPARK = "▁▂▃▄▅▆▇█"

STYLE = {
    "op": dict(shape="box", style="rounded,filled", fillcolor="#fde68a", color="#b45309"),
    "parameter": dict(shape="box", style="filled,bold", fillcolor="#bfdbfe", color="#1d4ed8", penwidth="2"),
    "input": dict(shape="note", style="filled", fillcolor="#d1fae5", color="#047857"),
    "target": dict(shape="note", style="filled", fillcolor="#d1fae5", color="#047857"),
    "constant": dict(shape="note", style="filled", fillcolor="#ecfdf5", color="#047857"),
    "intermediate": dict(shape="ellipse", style="filled", fillcolor="#f3f4f6", color="#6b7280"),
    "cost": dict(shape="ellipse", style="filled", fillcolor="#fecaca", color="#b91c1c", peripheries="2"),
}
FONT = "Helvetica,Arial,sans-serif"


class GraphvizNotFoundError(MicrogradnetError, RuntimeError):
    """The Graphviz program ``dot`` is not installed, so the picture cannot be rendered."""


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


def _values_text(a: np.ndarray, digits: int) -> str:
    if a.ndim == 0:
        return format_number(a, digits)
    if a.ndim == 1:
        return "[" + ", ".join(format_number(v, digits) for v in a) + "]"
    return "[" + ",\n ".join(_values_text(row, digits) for row in a) + "]"


def sparkline(a, bins: int = 10) -> str:
    """The distribution of the values as a row of unicode blocks (a tiny histogram)."""
    a = np.asarray(a, dtype=np.float64).ravel()
    a = a[np.isfinite(a)]
    if a.size == 0:
        return ""
    lo, hi = float(a.min()), float(a.max())
    if hi == lo:
        return SPARK[3] * bins
    counts, _ = np.histogram(a, bins=bins, range=(lo, hi))
    top = counts.max()
    return "".join(
        " " if c == 0 else SPARK[min(len(SPARK) - 1, int(round((len(SPARK) - 1) * c / top)))] for c in counts
    )


def summarize(array, max_values: int = 12, digits: int = 4) -> str:
    """Short text for an array: every value when there are at most ``max_values``, else the
    mean, the min and max, and a sparkline of the distribution between them.

    >>> summarize(np.array([0.5, 0.25]))
    '[0.5, 0.25]'
    """
    a = np.asarray(array.data if isinstance(array, Tensor) else array)
    if a.size <= max_values:
        return _values_text(a, digits)
    f = a.astype(np.float64)
    if f.min() == f.max():
        return f"all {format_number(f.min(), digits)}"
    return (
        f"mean {format_number(f.mean(), digits)}\n"
        f"{format_number(f.min(), digits)} {sparkline(f)} {format_number(f.max(), digits)}"
    )


def stats(array, few: int = 6, digits: int = 6) -> dict:
    """Numbers about an array and their display text (for the stepper's JSON): shape,
    mean/min/max, the first few values, a sparkline; ``value`` for a single number."""
    a = np.asarray(array.data if isinstance(array, Tensor) else array, dtype=np.float64)
    out = {
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
    op results in forward order, each leaf placed just before the first op that uses it."""
    ops_order = topological_order(root, grad_only=False)
    order, placed = [], set()
    for t in ops_order:
        for p in t._prev:
            if p._op is None and id(p) not in placed:
                placed.add(id(p))
                order.append(p)
        order.append(t)
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


def _param_names(model, params) -> dict:
    names = {}
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
        id(t._prev[1]) for t in order if t._op is not None and t._op.name in LOSS_OPS and len(t._prev) > 1
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

    nodes, edges = [], []
    for i, t in enumerate(order):
        tid = f"t{i}"
        base = dict(id=tid, tensor=t, shape=tuple(t.data.shape), dtype=str(t.data.dtype), scope=None)
        if t._op is None:
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
            op = t._op
            opname = op.name
            ins = [symbols.get(id(p), "?") for p in t._prev]

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
                label=op.describe(),
                symbol=opname,
                op=op,
                describe=op.describe(),
                inputs=[f"t{index[id(p)]}" for p in t._prev],
                out=tid,
                tensor=t,
                scope=None,
            )
            nodes.append(op_node)
            for k, p in enumerate(t._prev):
                edges.append({"from": f"t{index[id(p)]}", "to": op_node["id"], "index": k})
            edges.append({"from": op_node["id"], "to": tid, "index": None})
        symbols[id(t)] = sym
        nodes.append(dict(base, kind=kind, label=label, symbol=sym, name=t.name))

    clusters = []
    if cluster:
        clusters = _clusters(order, index, _module_paths(model))
        where = {}
        for c in clusters:
            for m in c["members"]:
                where.setdefault(m, c["id"])
        for n in nodes:
            key = n["out"] if n["kind"] == "op" else n["id"]
            n["scope"] = where.get(key)
    return {"nodes": nodes, "edges": edges, "clusters": clusters}


def _clusters(order, index, paths) -> list[dict]:
    """One cluster per module output: the ops between the module's inputs and its output
    (walk back through ``_prev`` until another module's output or a leaf)."""
    member: dict[int, int] = {}
    clusters = []
    for s in order:
        if s._op is None or s._scope is None or id(s) in member:
            continue
        k = len(clusters)
        mod = s._scope
        member[id(s)] = k
        stack = list(s._prev)
        while stack:
            p = stack.pop()
            if id(p) in member:
                continue
            if p._op is None:  # leaves (even the module's own parameters) stay outside:
                continue  # inside, they would push the frames into a staircase
            if p._scope is not None:
                continue
            member[id(p)] = k
            stack.extend(p._prev)
        clusters.append(
            {
                "id": f"cluster_{k}",
                "label": _module_text(mod, paths.get(id(mod), "")),
                "module": mod,
                "members": [],
            }
        )
    for t in order:
        k = member.get(id(t))
        if k is not None:
            clusters[k]["members"].append(f"t{index[id(t)]}")
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
    if missing and root._op is not None:
        steps = []
        try:
            run_backward(root, np.ones_like(root.data), retain_graph=True, record=steps)
        except GraphError:
            raise GraphError(
                "show_grads: the intermediate tensors' gradients were not kept and backward() has "
                "already released the graph's saved buffers, so they cannot be computed again; call "
                "cost.backward(keep_grads=True) before drawing, or draw before backward(), or use "
                "backward(retain_graph=True)"
            ) from None
        leaf = {}
        for node, up, contribs in steps:
            grads[id(node)] = up
            for p, c in contribs:
                if p._op is None:
                    leaf[id(p)] = c if id(p) not in leaf else leaf[id(p)] + c
        grads.update(leaf)
        if root._op is not None:
            grads.setdefault(id(root), np.ones_like(root.data))
    for t in order:  # the user's own gradients win where they exist
        if t.grad is not None:
            grads[id(t)] = t.grad
    return grads


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


def _tensor_label(n: dict, grads, show_values: bool, show_grads: bool) -> str:
    t = n["tensor"]
    parts = [
        f"<B>{escape_label(n['label'])}</B>",
        f'<FONT POINT-SIZE="10" COLOR="#4b5563">{escape_label(shape_text(n["shape"]))} · '
        f"{escape_label(n['dtype'])}</FONT>",
    ]
    if show_values:
        parts.append(f'<FONT POINT-SIZE="10">value {_lines_html(summarize(t.data))}</FONT>')
    if show_grads and t.requires_grad:
        g = grads.get(id(t))
        text = "not computed" if g is None else summarize(g)
        parts.append(f'<FONT POINT-SIZE="10" COLOR="#b91c1c">grad {_lines_html(text)}</FONT>')
    return "<" + "<BR/>".join(parts) + ">"


def _op_label(n: dict) -> str:
    op = n["op"]
    sym = getattr(op, "symbol", "")
    parts = [f"<B>{escape_label(n['describe'])}</B>"]
    if sym:
        parts.append(f'<FONT POINT-SIZE="10" COLOR="#78350f">{escape_label(sym)}</FONT>')
    return "<" + "<BR/>".join(parts) + ">"


def draw_graph(
    root: Tensor,
    *,
    show_values: bool = False,
    show_grads: bool = False,
    params=None,
    model=None,
    cluster: bool = True,
    rankdir: str = "LR",
    max_nodes: int | None = 400,
):
    """Draw the computation graph that produced ``root`` (usually the cost).

    ``model`` (a Module) or ``params`` (a dict ``name -> tensor``) names the parameters
    (``layers.0.weight`` …); ``show_values``/``show_grads`` add each tensor's values and
    gradient ``∂root/∂tensor`` (every value of small arrays, else mean, min, max and a
    sparkline of the distribution). ``cluster`` frames each module's ops. Returns a
    :class:`graphviz.Digraph`: it displays itself in Jupyter; in a script nothing is written
    until you save it with :func:`render_graph` (the suffix picks the format)::

        dot = mg.viz.draw_graph(cost, model=model)
        mg.viz.render_graph(dot, "graph.svg")  # or .png, .pdf, .dot
    """
    import graphviz

    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"draw_graph: rankdir must be LR, RL, TB or BT, got {rankdir!r}")
    g = graph_nodes(root, model=model, params=params, cluster=cluster)
    nodes = g["nodes"]
    if max_nodes is not None and len(nodes) > max_nodes:
        raise GraphError(
            f"draw_graph: the graph has {len(nodes)} nodes, more than max_nodes={max_nodes}; "
            "draw a smaller part (e.g. one layer's output) or pass max_nodes=None"
        )
    grads = collect_grads(root, [n["tensor"] for n in nodes if n["kind"] != "op"]) if show_grads else {}
    dot = graphviz.Digraph("computation_graph")
    dot.attr(
        rankdir=rankdir,
        newrank="true",
        bgcolor="white",
        fontname=FONT,
        nodesep="0.25",
        ranksep="0.35",
        tooltip="computation graph",
    )
    dot.attr("node", fontname=FONT, fontsize="12", margin="0.12,0.06")
    dot.attr("edge", color="#6b7280", arrowsize="0.7")
    by_cluster: dict = {}
    for n in nodes:
        by_cluster.setdefault(n["scope"], []).append(n)

    def add(graph, n):
        if n["kind"] == "op":
            label = _op_label(n)
        else:
            label = _tensor_label(n, grads, show_values, show_grads)
        graph.node(n["id"], label=label, id=n["id"], **{"class": n["kind"]}, **STYLE[n["kind"]])

    for n in by_cluster.get(None, []):
        add(dot, n)
    for c in g["clusters"]:
        with dot.subgraph(name=c["id"]) as sub:
            sub.attr(
                label=f"<<B>{escape_label(c['label'])}</B>>",
                style="rounded,dashed",
                color="#9ca3af",
                fontcolor="#374151",
                fontsize="12",
                labeljust="l",
                id=c["id"],
            )
            for n in by_cluster.get(c["id"], []):
                add(sub, n)
    leaf = {n["id"] for n in nodes if n["kind"] != "op" and n["tensor"]._op is None}
    for k, e in enumerate(g["edges"]):
        # a heavy main chain (op results) draws straight; leaves hang off it
        dot.edge(e["from"], e["to"], id=f"e{k}", weight="1" if e["from"] in leaf else "8")
    return dot


# ----------------------------------------------------------------------------------------
# files
# ----------------------------------------------------------------------------------------
def render_graph(dot, path) -> Path:
    """Write the graph to ``path``; the format comes from the suffix: ``.svg``, ``.png``,
    ``.pdf``, or ``.dot``/``.gv`` (the Graphviz source, no program needed). Returns the path.

    Without the Graphviz program ``dot``, the source is still written next to ``path``
    (same name, ``.dot``) and :class:`GraphvizNotFoundError` says how to install Graphviz.
    """
    import graphviz

    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(
            f"render_graph: cannot tell the format of {path.name!r}: use a name ending in "
            ".svg, .png, .pdf or .dot"
        )
    source = dot.source.encode("utf-8")
    if fmt in ("dot", "gv"):
        return write_bytes(path, source)
    try:
        data = dot.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        dot_path = path.with_suffix(".dot")
        write_bytes(dot_path, source)
        raise GraphvizNotFoundError(
            f"cannot render {path}: the Graphviz program 'dot' was not found; {INSTALL_GRAPHVIZ}. "
            f"The graph's source was written to {dot_path}: render it later with "
            f"'dot -T{fmt} {dot_path} -o {path}'"
        ) from None
    except graphviz.CalledProcessError as e:
        raise GraphError(f"Graphviz failed to render {path}: {e}") from None
    return write_bytes(path, data)


def svg_source(dot) -> str:
    """The graph rendered as SVG text (a clear error if Graphviz is missing)."""
    import graphviz

    try:
        return dot.pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFoundError(f"the Graphviz program 'dot' was not found; {INSTALL_GRAPHVIZ}") from None
