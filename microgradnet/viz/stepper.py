"""The backprop stepper: one HTML page that walks through the forward pass, then the
backward pass one node at a time, showing the chain rule in numbers.

``backprop_page(cost, "backprop.html")`` writes a single self-contained file (inline SVG,
CSS and JavaScript; no network, no external fonts) that opens from disk. At each backward
step the current op is highlighted and a panel shows

    upstream ∂C/∂out  ×  local ∂out/∂input  =  gradient sent to the input ∂C/∂input

numbers for a scalar network (3Blue1Brown's chapter 4 chain, :func:`toy_network`), shapes
and summaries (mean, min, max, first values) for a batched MLP.

In a notebook, ``mg.viz.stepper(cost)`` shows the same page inline: it returns a
:class:`Stepper`, which Jupyter displays as an ``<iframe>`` holding the page itself (no
server, no file, nothing fetched). This module is callable for that reason:
``mg.viz.stepper`` is both the module and the function :func:`stepper`.
"""

from __future__ import annotations

import html
import os
import re
import sys
import types
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..atomic import write_bytes
from ..display import display_name
from ..errors import GraphError
from ..tape import Tape
from ..tensor import Tensor
from .graph import _walk, draw_graph, graph_nodes, shape_text, stats
from .nudge import panel_data
from .page import fill, json_for_html, page_html
from .render import svg_size

if TYPE_CHECKING:
    from ..nn import Module

__all__ = [
    "backprop_page",
    "stepper",
    "stepper_html",
    "Stepper",
    "page_data",
    "graph_size",
    "toy_network",
    "sanitize_svg",
    "json_for_html",
    "MAX_NODES",
]

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
MAX_NODES = 400
"""The largest graph :func:`backprop_page` draws unless told otherwise (as ``draw_graph``)."""
RELEASED = (
    "backprop_page: the graph's saved buffers were already released by a backward(); "
    "call backprop_page before cost.backward(), or use backward(retain_graph=True)"
)


# ----------------------------------------------------------------------------------------
# the chapter-4 toy network
# ----------------------------------------------------------------------------------------
def toy_network(a0=1.0, y=1.0, w1=0.8, b1=-0.3, w2=1.5, b2=-0.5, dtype=np.float64):
    """3Blue1Brown's one-neuron-per-layer chain (chapter 4), in float64 scalars:

        a1 = σ(w1·a0 + b1),  a2 = σ(w2·a1 + b2),  C = (a2 − y)²

    Returns ``(cost, params)`` with ``params`` the dict ``{"w1": …, "b1": …, "w2": …, "b2": …}``.
    """
    from .. import losses
    from ..tensor import tensor

    p = {
        n: tensor(v, requires_grad=True, name=n, dtype=dtype)
        for n, v in (("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2))
    }
    x = tensor(a0, name="a0", dtype=dtype)
    target = tensor(y, name="y", dtype=dtype)
    a1 = (p["w1"] * x + p["b1"]).sigmoid()
    a2 = (p["w2"] * a1 + p["b2"]).sigmoid()
    return losses.squared_error(a2, target), p


# ----------------------------------------------------------------------------------------
# the steps as data
# ----------------------------------------------------------------------------------------
def _wrap(sym: str) -> str:
    return sym if not any(c in sym for c in "·−+/²() @") else f"({sym})"


def _equation(op, out: str, ins: list[str], scalar: bool) -> str:
    """The forward of one op in symbols: ``a1 = σ(z1)``."""
    w = [_wrap(s) for s in ins]
    name = op.name
    forms = {"add": " + ", "add_bias": " + ", "sub": " − ", "mul": " · ", "matmul": " @ ", "div": " / "}
    if name in forms and len(w) == 2:
        rhs = forms[name].join(w)
    elif name == "sigmoid":
        rhs = f"σ({ins[0]})"
    elif name == "relu":
        rhs = f"max(0, {ins[0]})"
    elif name == "pow":
        rhs = f"{w[0]}^{getattr(op, 'p', 'p')}"
    elif name == "squared_error" and len(w) == 2:
        rhs = f"({ins[0]} − {ins[1]})²" if scalar else f"(1/N) Σ ({ins[0]} − {ins[1]})²"
    else:
        rhs = f"{op.describe()}({', '.join(ins)})"
    return f"{out} = {rhs}"


def page_data(cost: Tensor, *, model=None, params=None, title=None) -> dict:
    """Everything the page shows, as plain JSON-able data (the tests read it too).

    Walks the cost's :class:`~microgradnet.tape.Tape` — the list ``backward()`` walks — with
    the graph retained, noting each step: the user's ``.grad`` are not touched and the graph
    stays usable.
    """
    if not isinstance(cost, Tensor):
        raise TypeError(f"backprop_page: expected the cost Tensor, got {type(cost).__name__}")
    if cost.op is None or not cost.requires_grad:
        raise GraphError(
            "backprop_page: the cost was not computed from tensors that require grad, "
            "so there is no backward pass to show"
        )
    tape = Tape.of(cost)
    steps: list = []  # the walk's steps: (node, upstream, what the op sent to each input)
    try:
        tape.backward(
            np.ones_like(cost.data),
            retain_graph=True,
            into_leaves=False,
            on_step=lambda i, g, in_grads: steps.append((i, g, in_grads)),
        )
    except GraphError:
        raise GraphError(RELEASED) from None
    g = graph_nodes(cost, model=model, params=params)
    tnodes = {id(n["tensor"]): n for n in g["nodes"] if n["kind"] != "op"}
    opnode = {n["out"]: n for n in g["nodes"] if n["kind"] == "op"}
    scalar = all(n["tensor"].data.size == 1 for n in tnodes.values())
    edges_in: dict[str, list[str]] = {}
    edge_out: dict[str, str] = {}
    for k, e in enumerate(g["edges"]):
        if e["to"].startswith("op"):
            edges_in.setdefault(e["to"], []).append(f"e{k}")
        else:
            edge_out[e["from"]] = f"e{k}"

    nodes = {}
    for n in g["nodes"]:
        if n["kind"] == "op":
            nodes[n["id"]] = {"kind": "op", "label": n["describe"], "symbol": display_name(n["op"].symbol)}
        else:
            t = n["tensor"]
            nodes[n["id"]] = {
                "kind": n["kind"],
                "label": n["label"],
                "symbol": n["symbol"],
                "d": _wrap(n["symbol"]),
                "shape": shape_text(t.shape),
                "dtype": str(t.dtype),
                "leaf": t.is_leaf,
                "requires_grad": bool(t.requires_grad),
                "value": stats(t.data),
            }

    forward = []
    for n in g["nodes"]:
        if n["kind"] != "op":
            continue
        ins = [nodes[i]["symbol"] for i in n["inputs"]]
        out = nodes[n["out"]]["symbol"]
        forward.append(
            {
                "op": n["id"],
                "out": n["out"],
                "inputs": n["inputs"],
                "name": n["symbol"],
                "formula": display_name(n["op"].symbol),
                "eq": display_name(_equation(n["op"], out, ins, scalar)),
                "edges": edges_in.get(n["id"], []) + [edge_out[n["id"]]],
            }
        )

    equations = {f["op"]: f["eq"] for f in forward}
    backward = []
    leaf_grads: dict[str, np.ndarray] = {}
    for i, up, in_grads in steps:
        node = tape.node(i)
        tn = tnodes[id(node)]
        on = opnode[tn["id"]]
        op = tape.ops[i]
        prev = [tape.tensor(s) for s in tape.inputs[i]]
        xs = tuple(p.data for p in prev)
        inputs = []
        for k, *_ in tape.edges[i]:
            c = in_grads[k]
            if c is None:
                continue
            p = prev[k]
            pid = tnodes[id(p)]["id"]
            local = None
            try:
                ld = op.local_derivative(k, xs, node.data)
            except Exception:  # noqa: BLE001 - a display nicety, never fatal
                ld = None
            if ld is not None:
                local = stats(np.asarray(ld))
            formula = display_name(
                op.derivative_text(k, [nodes[tnodes[id(q)]["id"]]["symbol"] for q in prev])
            )
            inputs.append(
                {
                    "node": pid,
                    "index": k,
                    "formula": formula,
                    "local": local,
                    "contribution": stats(c),
                    "leaf": p.is_leaf,
                    "parameter": nodes[pid]["kind"] == "parameter",
                    "summed": tuple(np.shape(c)) != tuple(node.data.shape),
                }
            )
            if p.is_leaf:
                leaf_grads[pid] = c if pid not in leaf_grads else leaf_grads[pid] + c
        backward.append(
            {
                "op": on["id"],
                "out": tn["id"],
                "name": on["symbol"],
                "describe": on["describe"],
                "eq": equations[on["id"]],
                "upstream": stats(up),
                "inputs": inputs,
                "elementwise": bool(op.elementwise),
                "edges": edges_in.get(on["id"], []) + [edge_out[on["id"]]],
            }
        )

    final = [
        {"node": pid, "label": nodes[pid]["label"], "symbol": nodes[pid]["symbol"], "grad": stats(gr)}
        for pid, gr in sorted(leaf_grads.items(), key=lambda kv: int(kv[0][1:]))
        if nodes[pid]["kind"] == "parameter"
    ]
    cost_sym = nodes[tnodes[id(cost)]["id"]]["symbol"]
    if title is None:
        title = (
            "Backpropagation through a one-neuron-per-layer network"
            if scalar
            else "Backpropagation through the network, one op at a time"
        )
    return {
        "title": display_name(title),
        "scalar": scalar,
        "cost": tnodes[id(cost)]["id"],
        "cost_symbol": cost_sym,
        "cost_value": stats(cost.data),
        "nodes": nodes,
        "leaves": [n["id"] for n in g["nodes"] if n["kind"] != "op" and n["tensor"].is_leaf],
        "forward": forward,
        "backward": backward,
        "final": final,
        # the nudge-check panel at each parameter (its own module: nudge.py, nudge.js)
        "nudge": panel_data(
            cost, {n["id"]: (n["tensor"], n["symbol"]) for n in g["nodes"] if n["kind"] == "parameter"}
        ),
    }


# ----------------------------------------------------------------------------------------
# safe embedding
# ----------------------------------------------------------------------------------------
def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


def sanitize_svg(svg_text: str) -> tuple[str, float, float]:
    """Parse Graphviz's SVG and keep only drawing: no ``<script>``, ``<foreignObject>``,
    event-handler attributes, external links or ``<title>`` tooltips. Returns the SVG text
    (without XML prolog) and its natural width and height in CSS pixels."""
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", svg_text)
    text = re.sub(r"<!DOCTYPE[^>]*>", "", text, count=1)
    root = ET.fromstring(text)
    for parent in list(root.iter()):
        for child in list(parent):
            if _local(child.tag) in ("script", "foreignobject", "title", "iframe", "object", "embed"):
                parent.remove(child)
    for el in root.iter():
        for key in list(el.attrib):
            name = _local(key)
            value = el.attrib[key].strip().lower()
            if (
                name.startswith("on")
                or (name == "href" and not value.startswith("#"))
                or "javascript:" in value
            ):
                del el.attrib[key]

    def px(v):
        m = re.match(r"([\d.]+)\s*(pt|px)?", v or "")
        if not m:
            return 0.0
        return float(m.group(1)) * (4 / 3 if m.group(2) == "pt" else 1)

    width, height = px(root.get("width")), px(root.get("height"))
    for key in ("width", "height"):
        root.attrib.pop(key, None)
    root.set("role", "img")
    root.set("aria-label", "computation graph")
    return ET.tostring(root, encoding="unicode"), width, height


_BODY = """<header>
  <h1 id="mg-title"></h1>
  <p class="sub">Forward: each op computes its output from its inputs. Backward: each op receives the
  <b>upstream gradient</b> ∂C/∂out and multiplies it by its <b>local derivative</b> ∂out/∂input:
  <span class="chain">upstream × local = gradient sent to each input</span></p>
</header>
<nav id="controls" aria-label="steps">
  <button id="mg-home" type="button" title="start (Home)">« start</button>
  <button id="mg-prev" type="button" title="previous step (←)">◀ back</button>
  <button id="mg-next" type="button" title="next step (→)">next ▶</button>
  <button id="mg-end" type="button" title="the final gradients (End)">end »</button>
  <span id="mg-progress" aria-live="polite"></span>
  <span class="keys">keys: ← → Home End</span>
  <button id="mg-zoom" type="button" title="fit the graph to the window, or show it at full size">zoom</button>
</nav>
<main>
  <section id="mg-graph" data-width="@@WIDTH@@" data-height="@@HEIGHT@@" data-min-font="@@MIN_FONT@@">
@@SVG@@
  </section>
  <section id="mg-panel" aria-live="polite"></section>
</main>
<footer id="mg-legend">
  <span class="sw op"></span>op
  <span class="sw parameter"></span>parameter (learns)
  <span class="sw data"></span>data (input, target)
  <span class="sw intermediate"></span>intermediate
  <span class="sw current"></span>current op
  <span class="sw upstream"></span>its output: gradient arrives (upstream)
  <span class="sw receiving"></span>its inputs: gradient sent
  <span class="sw hasgrad"></span>has its gradient ∂C/∂·
</footer>
"""


def graph_size(root: Tensor) -> int:
    """How many boxes the picture of ``root``'s graph has: every tensor (leaves included) and
    every op. Counted without drawing anything, so a too-big graph is refused at once."""
    order = _walk(root)
    return len(order) + sum(not t.is_leaf for t in order)


def _check_size(cost, max_nodes, who: str) -> None:
    """Refuse a graph of more than ``max_nodes`` boxes before any work (None: no limit)."""
    if not isinstance(cost, Tensor):
        raise TypeError(f"{who}: expected the cost Tensor, got {type(cost).__name__}")
    if max_nodes is None:
        return
    size = graph_size(cost)
    if size > max_nodes:
        steps = sum(not t.is_leaf for t in _walk(cost))
        raise GraphError(
            f"{who}: the graph has {size} nodes ({steps} ops to step through), more than "
            f"max_nodes={max_nodes}: too many steps to follow on one page. Step through a "
            "smaller graph (one example, one layer, a smaller network), or pass "
            "max_nodes=None to lay it out anyway (minutes for thousands of ops)"
        )


def stepper_html(
    cost: Tensor,
    *,
    model: Module | None = None,
    params: Mapping[str, Tensor] | None = None,
    title: str | None = None,
    renderer: str | None = None,
    max_nodes: int | None = MAX_NODES,
) -> str:
    """The backprop stepper page for ``cost`` as HTML text: what :func:`backprop_page` writes
    and :func:`stepper` shows inline. ``renderer`` picks the program that lays out its graph
    (see :mod:`microgradnet.viz.render`). A graph of more than ``max_nodes`` boxes (tensors
    and ops, as ``graph_size`` counts them) is refused with a
    :class:`~microgradnet.GraphError` before any work: a page of hundreds of steps is too
    long to follow and slow to lay out (``max_nodes=None`` draws it anyway)."""
    _check_size(cost, max_nodes, "backprop_page")
    data = page_data(cost, model=model, params=params, title=title)
    dot = draw_graph(
        cost, model=model, params=params, show_values=data["scalar"], max_nodes=None, renderer=renderer
    )
    svg_text = dot.svg()
    size = svg_size(svg_text)
    svg, width, height = sanitize_svg(svg_text)
    body = fill(
        _BODY,
        {"WIDTH": f"{width:.0f}", "HEIGHT": f"{height:.0f}", "MIN_FONT": f"{size.min_font:.2f}", "SVG": svg},
    )
    return page_html(
        title=data["title"],
        body=body,
        data=data,
        css=["stepper.css", "nudge.css"],
        js=["nudge.js", "stepper.js"],
        body_attrs={"data-phase": "start", "data-step": "0"},
    )


def backprop_page(
    cost: Tensor,
    path: str | os.PathLike[str] = "backprop.html",
    *,
    model: Module | None = None,
    params: Mapping[str, Tensor] | None = None,
    title: str | None = None,
    renderer: str | None = None,
    max_nodes: int | None = MAX_NODES,
) -> Path:
    """Write the backprop stepper for ``cost`` to ``path`` (one self-contained HTML file) and
    return the path.

    Call it *before* ``cost.backward()`` (it runs its own recording backward with the graph
    retained, and leaves every ``.grad`` untouched), or after ``backward(retain_graph=True)``.
    ``model`` (or ``params``, a dict name -> tensor) names the parameters. Like
    ``draw_graph``, it refuses a graph of more than ``max_nodes`` boxes (tensors and ops)
    at once, with a :class:`~microgradnet.GraphError`: a page of hundreds of steps is too long
    to follow and slow to lay out (``max_nodes=None`` draws it anyway).
    """
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"backprop_page: the page must be an .html file, got {path.name!r}")
    page = stepper_html(cost, model=model, params=params, title=title, renderer=renderer, max_nodes=max_nodes)
    return write_bytes(path, page.encode("utf-8"))


# ----------------------------------------------------------------------------------------
# inline in a notebook
# ----------------------------------------------------------------------------------------
class Stepper:
    """The backprop stepper as a notebook output: Jupyter (Lab, classic Notebook, VS Code)
    shows it as an ``<iframe>`` whose ``srcdoc`` is the whole page, so it runs inside the
    notebook with nothing fetched and no file written. The frame is sandboxed: its script
    runs, but cannot reach the notebook. ``html`` is the page; ``save(path)`` writes it."""

    def __init__(self, page: str, height: int = 760):
        self.html = page
        self.height = int(height)

    def _repr_html_(self) -> str:
        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" sandbox="allow-scripts" '
            f'title="backprop stepper" loading="eager" '
            f'style="width: 100%; height: {self.height}px; border: 1px solid #e5e7eb; '
            f'border-radius: 8px; background: #f8fafc"></iframe>'
        )

    def save(self, path) -> Path:
        """Write the page to an ``.html`` file (as :func:`backprop_page` does)."""
        path = Path(path)
        if path.suffix.lower() not in (".html", ".htm"):
            raise ValueError(f"Stepper.save: the page must be an .html file, got {path.name!r}")
        return write_bytes(path, self.html.encode("utf-8"))

    def __repr__(self) -> str:
        return f"<Stepper: backprop page of {len(self.html):,} characters; display it in a notebook>"


def stepper(
    cost: Tensor,
    *,
    model: Module | None = None,
    params: Mapping[str, Tensor] | None = None,
    title: str | None = None,
    height: int = 760,
    renderer: str | None = None,
    max_nodes: int | None = MAX_NODES,
) -> Stepper:
    """The backprop stepper for ``cost``, shown inline when it is the last expression of a
    notebook cell: ``mg.viz.stepper(cost, model=model)``. Same page, same rules as
    :func:`backprop_page` (call it before ``cost.backward()``); ``height`` is the frame's
    height in pixels."""
    if height < 200:
        raise ValueError(f"stepper: height must be at least 200 pixels, got {height}")
    page = stepper_html(cost, model=model, params=params, title=title, renderer=renderer, max_nodes=max_nodes)
    return Stepper(page, height)


class _CallableModule(types.ModuleType):
    """``mg.viz.stepper`` names this module (Python binds a submodule to its package's
    attribute) and, called, the inline stepper: ``mg.viz.stepper(cost, model=model)``."""

    def __call__(self, *args, **kwargs) -> Stepper:
        return stepper(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
