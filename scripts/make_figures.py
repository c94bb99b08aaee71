"""Regenerate the pictures of the README and the docs into ``docs/images/``.

Every picture in the README and the docs is made by this script, so they always show
what the current code draws. It trains a 64-16-16-10 sigmoid network on the digits that
ship with microgradnet (about two seconds) and draws from it:

    digits_examples   a grid of training examples with their labels      (chapter 1)
    digits_weights    the first layer's weights as 8×8 pictures           (chapter 1)
    digits_network    the network lit up by one test digit                (chapter 1)
    digits_cost       the cost curve and test accuracy while training     (chapter 2)
    digits_noise      the confident answer to pure noise                  (chapter 2)
    digits_nudges     what one training example asks: the nudges          (chapters 3–4)
    digits_graph      the computation graph of one training step (SVG)    (chapter 4)

The graph is laid out by graphviz-pure by default (``--renderer``), which writes the same bytes
on every machine, so the committed SVG only changes when the drawing does; it must read in the
README's 900-pixel column (its smallest text is printed, and checked to be at least 8 px).

It also writes the README's quick-start accuracy: the number ``microgradnet train``
prints, in the row of the README's accuracy table made by that command.

The output is deterministic: fixed seeds, matplotlib's own defaults whatever the local
``matplotlibrc`` says, its bundled DejaVu fonts, a fixed SVG hash salt, and no dates or
software versions in the files. So ``--check`` can tell whether the committed pictures
and number are still what the code makes. It draws everything into a temporary folder
and compares: PNGs pixel by pixel (a few off-by-a-shade pixels are allowed, so a
rebuilt font rasteriser does not fail it), SVGs element by element (texts and styles
exactly, coordinates to within half a percent of the drawing), and the README's number
exactly. It also checks that every picture the README shows is one this script makes,
and that the table's other rows name the command and the date that made them (they
train on MNIST-sized data: ``tests/test_readme.py`` re-runs them). A picture made by another
script (the lab's browser screenshots, ``scripts/lab_screenshots.py``) must be committed and
named by that script; its pixels are that script's business. It exits 1 and names what
drifted when anything did.

With ``--mnist DIR`` (a folder holding the MNIST IDX files) it also trains the videos'
784-16-16-10 network and draws the same pictures as ``mnist_*``. When DIR holds only
the 10,000-image test set, the first 8,000 of it train and the last 2,000 test.

Usage:
    python scripts/make_figures.py [--out docs/images] [--format png|svg] [--mnist DIR]
                                   [--renderer graphviz-pure|dot|auto]
    python scripts/make_figures.py --check          # CI: fails when the README drifted
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shlex
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import microgradnet as mg  # noqa: E402
from microgradnet.atomic import atomic_write  # noqa: E402
from microgradnet.viz.pictures import (
    cost_curve,
    save_figure,
    show_digits,
    show_network,  # noqa: E402
    show_noise,
    show_nudges,
    show_weights,
)
from microgradnet.viz.render import svg_size  # noqa: E402


def train(sizes, train_set, test_set, epochs, lr, seed):
    model = mg.nn.MLP(sizes, activation="sigmoid", seed=seed)
    history = mg.fit(
        model,
        train_set,
        epochs=epochs,
        lr=lr,
        batch_size=10,
        loss="mse",
        test=test_set,
        seed=seed,
        progress=False,
        fast=False,
    )
    return model, history


def shrink_png(path: Path) -> None:
    """Re-encode a PNG with a 256-colour palette (a third of the size, same look), atomically.
    Skipped when Pillow (which matplotlib installs) is missing."""
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as im:
        small = im.convert("RGB").quantize(
            colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
        )
    with atomic_write(path) as fh:
        small.save(fh, format="PNG", optimize=True)


README_COLUMN = 900  # px


def draw_all(prefix, model, history, train_set, test_set, out, fmt, dpi, shrink=True, renderer=None):
    """Draw the six pictures of one trained model; return the paths written."""
    # A test example the network gets right, for the lit-up network; a training example
    # it is still unsure about (the right output near 0.5), so nudges up and down show.
    with mg.no_grad():
        test_pred = model(test_set.x).data.argmax(axis=1)
        train_out = model(train_set.x).data
    right = np.flatnonzero(test_pred == test_set.y)
    shown = int(right[0]) if len(right) else 0
    margin = train_out[np.arange(len(train_set)), train_set.y]
    unsure = int(np.argmin(np.abs(margin - 0.5)))

    figures = {
        "examples": show_digits(train_set, n=16),
        "weights": show_weights(model, layer=0),
        "network": show_network(model, test_set.x[shown], classes=test_set.classes),
        "cost": cost_curve(history),
        "noise": show_noise(model, seed=0, classes=test_set.classes),
        "nudges": show_nudges(
            model, train_set.x[unsure], int(train_set.y[unsure]), classes=train_set.classes
        ),
    }
    written = []
    for name, fig in figures.items():
        path = save_figure(fig, out / f"{prefix}_{name}.{fmt}", dpi=dpi)
        if fmt == "png" and shrink:
            shrink_png(path)
        written.append(path)
    # The computation graph of one training step on a mini-batch of ten, with its gradients.
    cost = mg.squared_error(model(train_set.x[:10]), train_set.y[:10])
    dot = mg.viz.draw_graph(cost, show_grads=True, model=model, renderer=renderer)
    path = mg.viz.render_graph(dot, out / f"{prefix}_graph.svg")
    size = svg_size(path.read_text(encoding="utf-8"))
    text = size.min_font_in(README_COLUMN)
    print(
        f"  {path.name}: {size.width:.0f}×{size.height:.0f} px, smallest text {text:.1f} px in a "
        f"{README_COLUMN} px column"
    )
    if text < 8:
        raise SystemExit(f"{path.name} would be unreadable in the README (text {text:.1f} px < 8 px)")
    written.append(path)
    return written


def load_mnist(folder):
    try:
        train_set, test_set = mg.datasets.load_mnist(folder, download=False)
    except (mg.DataError, OSError):
        full = mg.datasets.load_mnist(folder, split="test", download=False)
        train_set, test_set = full[:8000], full[8000:]
    return train_set, test_set


# ----------------------------------------------------------------------------------------
# the same pictures on every machine
# ----------------------------------------------------------------------------------------
def figure_style():
    """matplotlib's built-in defaults (not the local matplotlibrc), its bundled DejaVu Sans,
    and a fixed salt for the ids in SVG files: the same code draws the same pixels."""
    style = {k: v for k, v in matplotlib.rcParamsDefault.items() if k != "backend"}
    style.update({"font.family": ["DejaVu Sans"], "svg.hashsalt": "microgradnet", "svg.fonttype": "path"})
    return matplotlib.rc_context(style)


# ----------------------------------------------------------------------------------------
# the README's accuracy table
# ----------------------------------------------------------------------------------------
QUICK_START = "microgradnet train"  # the quick start; its row's accuracy is written by this script
_PERCENT = re.compile(r"\d+(?:\.\d+)?%")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def accuracy_table(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The README table with a ``test accuracy`` and a ``made by`` column: its headers and
    its rows as ``(line index, cells)``."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and "test accuracy" in cells and "made by" in cells:
            rows = []
            for j in range(i + 2, len(lines)):  # below the header and its --- line
                if not lines[j].startswith("|"):
                    break
                rows.append((j, [c.strip() for c in lines[j].strip().strip("|").split("|")]))
            return cells, rows
    raise SystemExit(f"make_figures: {README.name} has no table with 'test accuracy' and 'made by' columns")


def row_command(made_by: str) -> str | None:
    """The ``microgradnet ...`` command quoted in a ``made by`` cell."""
    found = re.search(r"`(microgradnet [^`]*)`", made_by)
    return found.group(1) if found else None


def quick_start_accuracy() -> str:
    """What ``microgradnet train`` (the quick start, all defaults) prints as its test
    accuracy, e.g. ``"95.83%"``: the CLI run in this process, on the embedded digits."""
    from microgradnet.cli import main as cli

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli([*shlex.split(QUICK_START)[1:], "--quiet"])
    found = re.search(r"test accuracy (\d+\.\d+%)", out.getvalue())
    if code != 0 or not found:
        raise SystemExit(f"make_figures: {QUICK_START} failed:\n{out.getvalue()}")
    return found.group(1)


def write_quick_start_accuracy(readme: Path, accuracy: str) -> bool:
    """Put ``accuracy`` in the quick start's row of the README table; True if it changed."""
    text = readme.read_text(encoding="utf-8")
    headers, rows = accuracy_table(text)
    col, by = headers.index("test accuracy"), headers.index("made by")
    lines = text.splitlines(keepends=True)
    for j, cells in rows:
        if row_command(cells[by]) == QUICK_START:
            cells[col] = _PERCENT.sub(accuracy, cells[col], count=1)
            new = "| " + " | ".join(cells) + " |\n"
            if new == lines[j]:
                return False
            lines[j] = new
            with atomic_write(readme, mode="w", encoding="utf-8") as fh:
                fh.write("".join(lines))
            return True
    raise SystemExit(f"make_figures: no row of the README table is made by `{QUICK_START}`")


def check_readme(readme: Path, accuracy: str, made: set[str]) -> list[str]:
    """What in the README is not what the code makes (empty when all is well)."""
    from microgradnet.cli import build_parser

    problems = []
    text = readme.read_text(encoding="utf-8")
    headers, rows = accuracy_table(text)
    col, by = headers.index("test accuracy"), headers.index("made by")
    quick = [cells for _, cells in rows if row_command(cells[by]) == QUICK_START]
    if len(quick) != 1:
        problems.append(f"{readme.name}: expected one row of the accuracy table made by `{QUICK_START}`")
    for cells in quick:
        shown = _PERCENT.search(cells[col])
        if not shown or shown.group(0) != accuracy:
            problems.append(
                f"{readme.name}: says `{QUICK_START}` reaches {shown.group(0) if shown else '?'}, "
                f"but it prints {accuracy} today"
            )
    for _, cells in rows:
        command = row_command(cells[by])
        if command == QUICK_START:
            continue
        if command is None or not _DATE.search(cells[by]):
            problems.append(
                f"{readme.name}: the row '{cells[0]}' must name the command and the date that made it"
            )
            continue
        try:  # the flags still exist (DIR stands for the user's data folder)
            with contextlib.redirect_stderr(io.StringIO()):
                build_parser().parse_args(shlex.split(command)[1:])
        except SystemExit:
            problems.append(f"{readme.name}: `{command}` is no longer a valid command")
    for shown in sorted(set(re.findall(r"docs/images/[\w.-]+\.(?:png|svg)", text))):
        if Path(shown).name in made:
            continue
        # Made elsewhere (the lab's browser screenshots): committed, and named by its script.
        makers = [
            p.name for p in sorted((ROOT / "scripts").glob("*.py")) if Path(shown).name in p.read_text()
        ]
        if not makers or not (ROOT / shown).is_file():
            problems.append(f"{readme.name}: shows {shown}, which no script in scripts/ makes")
    return problems


# ----------------------------------------------------------------------------------------
# comparing pictures
# ----------------------------------------------------------------------------------------
PNG_LEVELS = 8  # a pixel "differs" when a channel moves by more than this (of 255) ...
PNG_SHARE = 0.005  # ... and a picture differs when more than 0.5% of its pixels do
SVG_SHARE = 0.005  # SVG coordinates may move by 0.5% of the drawing's larger side
_GEOMETRY = {
    "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "width", "height",
    "points", "d", "viewBox", "transform",
}  # fmt: skip
_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def compare_png(made: Path, committed: Path) -> str | None:
    """None when the two PNGs look the same, else what differs."""
    from PIL import Image

    with Image.open(made) as a, Image.open(committed) as b:
        if a.size != b.size:
            return f"size {b.size[0]}x{b.size[1]} px, the code makes {a.size[0]}x{a.size[1]} px"
        pa = np.asarray(a.convert("RGB"), dtype=np.int16)
        pb = np.asarray(b.convert("RGB"), dtype=np.int16)
    off = (np.abs(pa - pb).max(axis=2) > PNG_LEVELS).mean()
    if off > PNG_SHARE:
        return f"{off:.2%} of the pixels differ (more than {PNG_LEVELS}/255 in a channel)"
    return None


def _svg_size(root: ET.Element) -> float:
    box = root.get("viewBox")
    if box:
        return max(float(v) for v in box.split()[2:4])
    return max(float(_NUMBER.search(root.get(k, "0")).group(0)) for k in ("width", "height"))


def compare_svg(made: Path, committed: Path) -> str | None:
    """None when the two SVGs draw the same thing, else the first difference: the same
    elements, texts and styles, coordinates within ``SVG_SHARE`` of the drawing's size.
    Comments (such as the renderer's version) are ignored."""
    try:
        a, b = ET.parse(made).getroot(), ET.parse(committed).getroot()
    except ET.ParseError as e:
        return f"not a readable SVG ({e})"
    tol = SVG_SHARE * max(_svg_size(a), _svg_size(b))
    ea, eb = list(a.iter()), list(b.iter())
    if len(ea) != len(eb):
        return f"{len(eb)} SVG elements, the code makes {len(ea)}"
    for x, y in zip(ea, eb):
        where = f"<{y.tag.rpartition('}')[2]} id={y.get('id')!r}>"
        if x.tag != y.tag or set(x.attrib) != set(y.attrib):
            return f"{where}: the code makes <{x.tag.rpartition('}')[2]}> with other attributes"
        if (x.text or "").strip() != (y.text or "").strip():
            return f"{where}: text {(y.text or '').strip()!r}, the code writes {(x.text or '').strip()!r}"
        for key, vy in y.attrib.items():
            vx = x.attrib[key]
            if key.rpartition("}")[2] not in _GEOMETRY:
                if vx != vy:
                    return f"{where}: {key}={vy!r}, the code writes {vx!r}"
                continue
            nx, ny = _NUMBER.findall(vx), _NUMBER.findall(vy)
            if _NUMBER.sub("#", vx) != _NUMBER.sub("#", vy) or len(nx) != len(ny):
                return f"{where}: {key} has another shape"
            moved = max((abs(float(p) - float(q)) for p, q in zip(nx, ny)), default=0.0)
            if moved > tol:
                return f"{where}: {key} moved by {moved:.1f} (more than {tol:.1f})"
    return None


def compare(made: Path, committed: Path) -> str | None:
    if not committed.is_file():
        return "not committed"
    if made.read_bytes() == committed.read_bytes():
        return None
    return compare_png(made, committed) if made.suffix == ".png" else compare_svg(made, committed)


# ----------------------------------------------------------------------------------------
# the command
# ----------------------------------------------------------------------------------------
def renderer_mismatch() -> list[str]:
    """The pinned renderers (pyproject.toml's ``figures`` extra) this environment lacks,
    e.g. ``["matplotlib==3.11.2 (this is 3.10.9)"]``."""
    from importlib.metadata import PackageNotFoundError, version

    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    extra = re.search(r"^figures\s*=\s*\[([^\]]*)\]", text, flags=re.M)
    pins = re.findall(r'"([A-Za-z0-9_.-]+)==([^"]+)"', extra.group(1)) if extra else []
    wrong = []
    for name, wanted in pins:
        try:
            have = version(name)
        except PackageNotFoundError:
            have = "not installed"
        if have != wanted:
            wrong.append(f"{name}=={wanted} (this is {have})")
    return wrong


def make(jobs, out: Path, args) -> list[Path]:
    """Train each job's network and draw its pictures into ``out``; the paths written."""
    written = []
    for prefix, sizes, tr, te, epochs in jobs:
        t0 = time.perf_counter()
        model, history = train(sizes, tr, te, epochs, lr=3.0, seed=args.seed)
        with figure_style():
            paths = draw_all(
                prefix,
                model,
                history,
                tr,
                te,
                out,
                args.format,
                args.dpi,
                shrink=not args.no_shrink,
                renderer=args.renderer,
            )
        print(
            f"{prefix}: {'-'.join(map(str, sizes))} trained {epochs} epochs, test accuracy "
            f"{history.test_accuracy[-1]:.1%} ({time.perf_counter() - t0:.1f}s)"
        )
        for p in paths:
            print(
                f"  {p.relative_to(ROOT) if p.is_relative_to(ROOT) else p}  ({p.stat().st_size / 1024:.0f} KiB)"
            )
        written += paths
    return written


def check(jobs, args) -> int:
    """Draw into a temporary folder and compare with ``args.out`` and the README."""
    with tempfile.TemporaryDirectory(prefix="make-figures-") as tmp:
        with contextlib.redirect_stdout(io.StringIO()):
            made = make(jobs, Path(tmp), args)
        problems = []
        for path in made:
            committed = args.out / path.name
            why = compare(path, committed)
            if why:
                problems.append(
                    f"{committed.relative_to(ROOT) if committed.is_relative_to(ROOT) else committed}: {why}"
                )
    accuracy = quick_start_accuracy()
    problems += check_readme(args.readme, accuracy, {p.name for p in made})
    if problems:
        import platform

        print("make_figures --check: the README is not what the code makes today:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        print(
            f"Regenerate with: python scripts/make_figures.py (and commit the result). "
            f"This machine: Python {platform.python_version()}, numpy {np.__version__}, "
            f"matplotlib {matplotlib.__version__}.",
            file=sys.stderr,
        )
        return 1
    print(f"make_figures --check: {len(made)} pictures and the README's {accuracy} are what the code makes")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "images", help="output folder")
    ap.add_argument("--format", choices=["png", "svg"], default="png")
    ap.add_argument("--dpi", type=float, default=80, help="resolution of PNG files")
    ap.add_argument(
        "--mnist",
        type=Path,
        default=None,
        metavar="DIR",
        help="also draw the 784-16-16-10 network trained on the MNIST files in DIR",
    )
    ap.add_argument("--epochs", type=int, default=30, help="epochs on the digits")
    ap.add_argument("--mnist-epochs", type=int, default=10, help="epochs on MNIST")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-shrink", action="store_true", help="keep matplotlib's full-colour PNGs")
    ap.add_argument(
        "--renderer",
        choices=["graphviz-pure", "dot", "auto"],
        default="graphviz-pure",
        help="the program that lays out the graph (default graphviz-pure: the same bytes everywhere)",
    )
    ap.add_argument(
        "--readme", type=Path, default=README, help="the README whose accuracy is written or checked"
    )
    ap.add_argument(
        "--check",
        action="store_true",
        help="write nothing: exit 1 if the pictures in --out or the README's number differ from what the code makes",
    )
    args = ap.parse_args(argv)
    if args.check and args.mnist is not None:
        ap.error("--check compares the committed digits pictures; the MNIST ones are not committed")

    jobs = []
    train_set, test_set = mg.datasets.load_digits()
    jobs.append(("digits", [64, 16, 16, 10], train_set, test_set, args.epochs))
    if args.mnist is not None:
        mtrain, mtest = load_mnist(args.mnist)
        jobs.append(("mnist", [784, 16, 16, 10], mtrain, mtest, args.mnist_epochs))

    committed = args.out.resolve() == (ROOT / "docs" / "images").resolve()
    wrong = renderer_mismatch() if args.check or committed else []
    if wrong:
        print(
            f"make_figures: the committed pictures are drawn with {', '.join(wrong)}: another "
            "version lays them out differently. Install the pinned ones: "
            'pip install -e ".[figures]" (or use --out for pictures of your own)',
            file=sys.stderr,
        )
        return 2
    if args.check:
        return check(jobs, args)
    make(jobs, args.out, args)
    accuracy = quick_start_accuracy()
    changed = write_quick_start_accuracy(args.readme, accuracy)
    print(f"{args.readme.name}: `{QUICK_START}` reaches {accuracy}{' (updated)' if changed else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
