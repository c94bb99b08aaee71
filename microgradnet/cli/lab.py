"""``microgradnet lab``: train live in the browser on the real engine, and look inside."""

from __future__ import annotations

from .common import UsageError, non_negative_int


def add_parser(sub) -> None:
    p = sub.add_parser(
        "lab",
        help="train a network live in the browser and look inside it while it learns",
        description="Start the lab: a local web page that builds and trains a network on the real "
        "engine (play, pause, step; learning rate and batch size change while it trains), explains any "
        "step with the backprop stepper, lets you draw a digit and poke single neurons, and shows the "
        "confusion matrix and what each layer sees. The first line printed is the page's address with "
        "its secret token. Needs microgradnet[lab] (Starlette and uvicorn).",
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)"
    )
    p.add_argument(
        "--port",
        type=non_negative_int,
        default=8765,
        help="port to listen on, or the next free one after it (default: 8765; 0: any free port)",
    )
    p.add_argument("--no-browser", action="store_true", help="print the address but do not open a browser")
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder with the MNIST or Fashion-MNIST IDX files (default: the data cache; nothing is downloaded)",
    )
    p.add_argument(
        "--save-dir",
        metavar="DIR",
        default="microgradnet-lab",
        help="the one folder where models saved from the page go (default: ./microgradnet-lab)",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from ..lab import serve

    if args.port > 65535:
        raise UsageError(f"--port must be at most 65535, got {args.port}")
    serve(
        args.host, args.port, open_browser=not args.no_browser, data_dir=args.data_dir, save_dir=args.save_dir
    )
    return 0
