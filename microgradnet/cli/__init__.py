"""The ``microgradnet`` command line.

Each command lives in its own module with ``add_parser(subparsers)``; ``main`` turns any
user mistake (bad flag value, missing or wrong file) into one line on stderr and a
non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import MicrogradnetError

COMMANDS = ["train", "graph", "show", "export", "lab"]  # modules of this package, in --help order


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="microgradnet",
        description="Train, inspect and picture small neural networks built on microgradnet.",
        epilog="Run 'microgradnet COMMAND --help' for the flags of a command.",
    )
    parser.add_argument("--version", action="version", version=f"microgradnet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f".{name}", __name__).add_parser(sub)
    return parser


def main(argv=None) -> int:
    """Entry point of the console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"microgradnet {args.command}: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print(
            f"microgradnet {args.command}: error: not enough memory for this network and data "
            "(try smaller --layers or --batch-size)",
            file=sys.stderr,
        )
        return 1
    except (MicrogradnetError, ValueError, TypeError, OSError, ImportError) as e:
        print(f"microgradnet {args.command}: error: {one_line(e)}", file=sys.stderr)
        return 1


def one_line(e: BaseException) -> str:
    """The error as one line: ``FILE: No space left on device`` for an OS error (without
    Python's ``[Errno 28]``), the message with its lines joined for any other."""
    if isinstance(e, OSError) and e.strerror and not isinstance(e, MicrogradnetError):
        text = f"{e.filename}: {e.strerror}" if e.filename else e.strerror
    else:
        text = str(e) or type(e).__name__
        if isinstance(e, OSError) and e.filename and str(e.filename) not in text:
            text = f"{e.filename}: {text}"
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
