"""``microgradnet graph`` (the computation graph of one training step) and ``microgradnet
explain`` (the backprop stepper page)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .common import UsageError, add_data_flags, layer_sizes, load_data, load_model, positive_int

GRAPH_SUFFIXES = (".svg", ".png", ".pdf", ".dot", ".gv")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "graph",
        help="draw the computation graph of one training step",
        description="Build one training step (forward pass and cost) of the network on a "
        "few images and draw its computation graph: ops, tensors, layers.",
    )
    add_data_flags(p)
    _model_flags(p)
    p.add_argument("--batch-size", type=positive_int, default=4, help="images in the step (default 4)")
    p.add_argument("--values", action="store_true", help="show each tensor's values")
    p.add_argument("--grads", action="store_true", help="show each tensor's gradient ∂C/∂tensor")
    p.add_argument("--no-cluster", action="store_true", help="do not frame each layer's ops")
    p.add_argument("--compact", action="store_true", help="draw each layer as one box (its ops listed)")
    p.add_argument(
        "--rankdir",
        choices=("TB", "LR", "BT", "RL"),
        default="TB",
        help="TB: the layers stacked top to bottom, each one row (default); LR: one long line",
    )
    _renderer_flag(p)
    p.add_argument(
        "--out",
        default="graph.svg",
        metavar="PATH",
        help="output file: .svg, .png, .pdf or .dot (default graph.svg)",
    )
    p.set_defaults(func=run_graph)

    e = sub.add_parser(
        "explain",
        help="write the backprop stepper: an HTML page that walks the chain rule",
        description="Write one self-contained HTML page that steps through the forward pass "
        "and then the backward pass, one op at a time; at every parameter, the nudge check: "
        "move one of its numbers by ±ε, run the forward pass again, and watch the slope "
        "(C(w+ε) − C(w−ε))/2ε settle on backpropagation's ∂C/∂w. Without --model or --layers: "
        "the one-neuron-per-layer chain of 3Blue1Brown's chapter 4 (--toy).",
    )
    add_data_flags(e)
    src = e.add_mutually_exclusive_group()
    src.add_argument(
        "--toy",
        action="store_true",
        help="a1 = σ(w1·a0 + b1), a2 = σ(w2·a1 + b2), C = (a2 − y)² in numbers (the default)",
    )
    src.add_argument("--model", metavar="FILE", help="a model file written by 'train --out'")
    src.add_argument(
        "--layers", type=layer_sizes, metavar="SIZES", help="a fresh seeded MLP, e.g. 64,16,16,10"
    )
    e.add_argument("--seed", type=int, default=0, help="seed of the fresh MLP's weights (default 0)")
    e.add_argument("--batch-size", type=positive_int, default=2, help="images in the step (default 2)")
    e.add_argument("--title", help="the page's title")
    e.add_argument("--out", default="backprop.html", metavar="PATH", help="the page (default backprop.html)")
    _renderer_flag(e)
    e.set_defaults(func=run_explain)


def _renderer_flag(p) -> None:
    from ..viz.render import RENDERER_ENV, RENDERERS

    p.add_argument(
        "--renderer",
        choices=RENDERERS,
        default=None,
        help="the program that lays out the graph: Graphviz's dot, the pip-installed graphviz-pure, "
        f"or auto (dot if installed, else graphviz-pure; default: ${RENDERER_ENV} or auto)",
    )


def _model_flags(p) -> None:
    src = p.add_mutually_exclusive_group()
    src.add_argument("--model", metavar="FILE", help="a model file written by 'train --out'")
    src.add_argument(
        "--layers",
        type=layer_sizes,
        metavar="SIZES",
        help="a fresh seeded MLP (default: inputs,16,16,10 — the 3Blue1Brown network)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the fresh MLP's weights (default 0)")


def _check_out(path: str, suffixes, flag="--out") -> Path:
    out = Path(path)
    if out.suffix.lower() not in suffixes:
        raise UsageError(
            f"{flag}: cannot tell the format of {path!r}: use a name ending in {', '.join(suffixes)}"
        )
    if not out.resolve().parent.is_dir():
        raise UsageError(f"{flag}: the folder {out.parent} does not exist")
    return out


def training_step(args):
    """``(cost, model)``: one forward pass and cost of the network on the first images."""
    from .. import losses, nn

    train, _ = load_data(args)
    n_in = train.x.shape[1]
    if args.model:
        model = load_model(args.model)
        if model.sizes[0] != n_in:
            raise UsageError(
                f"the model takes {model.sizes[0]} inputs but each {args.dataset} image has "
                f"{n_in} values (pick the dataset the model was trained on)"
            )
    else:
        sizes = args.layers or [n_in, 16, 16, train.num_classes]
        if sizes[0] != n_in:
            raise UsageError(
                f"--layers starts with {sizes[0]} inputs but each {args.dataset} image has {n_in} "
                f"values; use --layers {n_in},{','.join(map(str, sizes[1:]))}"
            )
        model = nn.MLP(sizes, seed=args.seed)
    n_out = model.sizes[-1]
    if n_out < train.num_classes:
        raise UsageError(
            f"the network has {n_out} outputs but {args.dataset} has {train.num_classes} classes"
        )
    k = min(args.batch_size, len(train))
    x = train.x[:k].astype(model.dtype)
    y = np.asarray(train.y[:k], dtype=np.int64)
    out = model(x)
    if model.output_activation_name == "none":
        cost = losses.cross_entropy(out, y)
    else:
        cost = losses.squared_error(out, y)
    return cost, model


def run_graph(args) -> int:
    from ..viz.graph import draw_graph, render_graph

    out = _check_out(args.out, GRAPH_SUFFIXES)
    cost, model = training_step(args)
    dot = draw_graph(
        cost,
        model=model,
        show_values=args.values,
        show_grads=args.grads,
        cluster=not args.no_cluster,
        compact=args.compact,
        rankdir=args.rankdir,
        renderer=args.renderer,
    )
    path = render_graph(dot, out)
    print(f"wrote the computation graph to {path}")
    return 0


def run_explain(args) -> int:
    from ..viz.stepper import backprop_page, toy_network

    out = _check_out(args.out, (".html", ".htm"))
    if args.model or args.layers:
        cost, model = training_step(args)
        path = backprop_page(cost, out, model=model, title=args.title, renderer=args.renderer)
    else:
        cost, params = toy_network()
        path = backprop_page(cost, out, params=params, title=args.title, renderer=args.renderer)
    print(f"wrote the backprop stepper to {path}: open it in a browser (no network needed)")
    return 0
