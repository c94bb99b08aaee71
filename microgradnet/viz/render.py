"""From a graph's DOT source to a picture: which layout program runs, and how.

Two programs lay out and draw Graphviz graphs, with the same flags and the same layout:

* ``dot``, the Graphviz program that a system package installs (apt, brew, conda, the
  Windows installer);
* ``graphviz-pure``, a self-contained port of ``dot`` in one binary, which ``pip`` installs
  with microgradnet on Linux, macOS and Windows (x86-64 and ARM64). It writes svg, png, json
  and plain, but not pdf.

The choice is made once, here, for every picture that lays out a graph (``draw_graph`` and
its display in Jupyter, ``render_graph``, the backprop stepper, ``microgradnet graph`` and
``explain``, the figure script and the docs):

* ``renderer="auto"`` (the default): ``dot`` when it is on PATH, else ``graphviz-pure``;
* ``renderer="dot"`` or ``renderer="graphviz-pure"``: that program only.

The environment variable ``MICROGRADNET_RENDERER`` (``auto``, ``dot`` or ``graphviz-pure``)
sets the default, e.g. to check how a picture looks on a machine without Graphviz.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from ..errors import GraphError, MicrogradnetError

__all__ = [
    "Drawing",
    "Renderer",
    "find_renderer",
    "run_renderer",
    "GraphvizNotFoundError",
    "SvgSize",
    "svg_size",
    "RENDERERS",
    "RENDERER_ENV",
]

RENDERERS = ("auto", "dot", "graphviz-pure")
RENDERER_ENV = "MICROGRADNET_RENDERER"
# What each program can write (the formats microgradnet asks for).
SVG_NS = "http://www.w3.org/2000/svg"
WRITES = {"dot": ("svg", "png", "pdf", "json", "plain"), "graphviz-pure": ("svg", "png", "json", "plain")}

GET_PURE = (
    "'pip install graphviz-pure' (wheels for Linux, macOS and Windows on x86-64 and ARM64; "
    "installed with microgradnet where a wheel exists)"
)
GET_DOT = (
    "install Graphviz, whose 'dot' draws every format including pdf: 'sudo apt-get install "
    "graphviz' (Debian/Ubuntu), 'brew install graphviz' (macOS), 'conda install -c conda-forge "
    "graphviz', or https://graphviz.org/download/"
)
INSTALL_GRAPHVIZ = f"either {GET_PURE}, or {GET_DOT}"


class GraphvizNotFoundError(MicrogradnetError, RuntimeError):
    """No program that can lay out the graph (``dot`` or ``graphviz-pure``) is installed, or the
    one asked for cannot write the format (graphviz-pure writes no pdf)."""


@dataclass(frozen=True)
class Renderer:
    """A layout program that was found: its name (``dot`` or ``graphviz-pure``) and path."""

    name: str
    path: str

    def writes(self, fmt: str) -> bool:
        return fmt in WRITES[self.name]


def _script_dirs() -> list[str]:
    """Where pip puts commands for this Python: the environment's scripts folder (a Jupyter
    kernel started from a virtual environment often lacks it on PATH) and the user's."""
    dirs = [sysconfig.get_path("scripts"), str(Path(sys.executable).parent)]
    try:
        dirs.append(sysconfig.get_path("scripts", sysconfig.get_preferred_scheme("user")))
    except (KeyError, AttributeError):
        pass
    return [d for d in dict.fromkeys(dirs) if d]


def _which(name: str) -> str | None:
    """``name`` on PATH; graphviz-pure also next to this Python."""
    found = shutil.which(name)
    if found or name == "dot":
        return found
    for folder in _script_dirs():
        found = shutil.which(name, path=folder)
        if found:
            return found
    return None


def _choice(renderer) -> tuple[str, str]:
    """The renderer asked for and where the request came from (for error messages)."""
    if renderer is None:
        env = os.environ.get(RENDERER_ENV, "").strip()
        if env:
            if env not in RENDERERS:
                raise ValueError(
                    f"the environment variable {RENDERER_ENV}={env!r} is not a renderer: "
                    f"use one of {', '.join(RENDERERS)}"
                )
            return env, f"{RENDERER_ENV}={env}"
        return "auto", "renderer='auto'"
    if renderer not in RENDERERS:
        raise ValueError(f"renderer must be one of {', '.join(RENDERERS)}, got {renderer!r}")
    return renderer, f"renderer={renderer!r}"


def find_renderer(renderer: str | None = None, fmt: str = "svg") -> Renderer:
    """The program that will draw ``fmt``: ``renderer`` is ``"auto"`` (``dot`` if it is on
    PATH, else ``graphviz-pure``), ``"dot"``, ``"graphviz-pure"``, or None for the default
    (``$MICROGRADNET_RENDERER``, else auto). Raises :class:`GraphvizNotFoundError`, saying
    how to get one, when none fits."""
    choice, asked = _choice(renderer)
    names = ("dot", "graphviz-pure") if choice == "auto" else (choice,)
    found = [Renderer(n, p) for n in names if (p := _which(n))]
    for r in found:
        if r.writes(fmt):
            return r
    if found:  # graphviz-pure alone, asked for pdf
        raise GraphvizNotFoundError(
            f"graphviz-pure cannot write {fmt} (it writes {', '.join(WRITES['graphviz-pure'])}); "
            f"for {fmt}, {GET_DOT}; or write .svg or .png instead"
        )
    if choice == "dot":
        raise GraphvizNotFoundError(
            f"the Graphviz program 'dot' was not found on PATH ({asked}); {GET_DOT}; "
            f"or use renderer='graphviz-pure' after {GET_PURE}"
        )
    if choice == "graphviz-pure":
        raise GraphvizNotFoundError(
            f"graphviz-pure was not found ({asked}): {GET_PURE}; or use renderer='dot' "
            "with Graphviz installed"
        )
    raise GraphvizNotFoundError(
        f"no program to lay out the graph was found (neither graphviz-pure nor Graphviz's "
        f"'dot'): {INSTALL_GRAPHVIZ}"
    )


def run_renderer(source: str, fmt: str, renderer: str | None = None) -> bytes:
    """Lay out the DOT ``source`` and return the picture in ``fmt`` (``svg``, ``png``,
    ``pdf``, ``json`` or ``plain``)."""
    program = find_renderer(renderer, fmt)
    try:
        done = subprocess.run(
            [program.path, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True, check=False
        )
    except OSError as e:
        raise GraphvizNotFoundError(f"could not run {program.name} ({program.path}): {e}") from None
    if done.returncode != 0 or not done.stdout:
        said = done.stderr.decode("utf-8", "replace").strip() or f"exit status {done.returncode}"
        raise GraphError(f"{program.name} failed to draw the graph as {fmt}: {said}")
    return done.stdout


class Drawing:
    """A graph ready to be drawn: its DOT source, laid out on demand by the chosen program.

    It shows itself as SVG in Jupyter (``_repr_mimebundle_``/``_repr_svg_``), ``save(path)``
    writes a file (:func:`~microgradnet.viz.render_graph`), ``pipe(format)`` returns the
    picture's bytes, ``source`` is the DOT text and ``digraph`` the
    :class:`graphviz.Digraph` it was built with (add attributes there before drawing).
    ``renderer`` is ``None`` (the default choice), ``"auto"``, ``"dot"`` or
    ``"graphviz-pure"``.
    """

    def __init__(self, graph, renderer: str | None = None):
        if renderer is not None:
            _choice(renderer)  # a wrong name fails here, not at display time
        self.digraph = graph
        self.renderer = renderer

    @property
    def source(self) -> str:
        return self.digraph if isinstance(self.digraph, str) else self.digraph.source

    def pipe(self, format: str = "svg", encoding: str | None = None):
        """The picture as bytes (or text when ``encoding`` is given)."""
        data = run_renderer(self.source, format, self.renderer)
        return data.decode(encoding) if encoding else data

    def svg(self) -> str:
        """The picture as SVG text."""
        return self.pipe("svg", encoding="utf-8")

    def save(self, path) -> Path:
        """Write the picture to ``path`` (format from the suffix); see ``render_graph``."""
        from .graph import render_graph

        return render_graph(self, path)

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"image/svg+xml": self.svg()}

    def _repr_svg_(self) -> str:
        return self.svg()

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        lines = self.source.count("\n")
        return f"<Drawing: {lines} lines of DOT, renderer {self.renderer or _choice(None)[0]!r}>"


@dataclass(frozen=True)
class SvgSize:
    """How large a drawing is at its natural size, in CSS pixels: ``width``, ``height`` and
    ``min_font`` (the font size of its smallest text)."""

    width: float
    height: float
    min_font: float

    def min_font_in(self, column: float) -> float:
        """The smallest text's size in pixels when the drawing is shown in a ``column`` pixels
        wide (scaled down to fit, never up, as a web page or notebook shows an image)."""
        return self.min_font * min(1.0, column / self.width)


def _px(length: str) -> float:
    m = re.fullmatch(r"\s*([\d.]+)\s*(pt|px)?\s*", length or "")
    if not m:
        raise ValueError(f"not an SVG length: {length!r}")
    return float(m.group(1)) * (4 / 3 if m.group(2) == "pt" else 1)


def svg_size(svg_text: str) -> SvgSize:
    """The size of a Graphviz SVG and of its smallest text, in CSS pixels, read from the SVG's
    own ``width``, ``viewBox``, the drawing's ``scale(…)`` and the texts' ``font-size``."""
    text = re.sub(r"<!DOCTYPE[^>]*>", "", re.sub(r"^\s*<\?xml[^>]*\?>", "", svg_text), count=1)
    root = ET.fromstring(text)
    view = [float(v) for v in root.get("viewBox", "").replace(",", " ").split()]
    width, height = _px(root.get("width", "")), _px(root.get("height", ""))
    per_unit = width / view[2] if len(view) == 4 and view[2] else 1.0
    drawing = root.find(f"{{{SVG_NS}}}g")
    m = re.search(r"scale\(([\d.]+)", drawing.get("transform", "") if drawing is not None else "")
    scale = float(m.group(1)) if m else 1.0
    sizes = [float(t.attrib["font-size"]) for t in root.iter(f"{{{SVG_NS}}}text") if t.get("font-size")]
    return SvgSize(width, height, min(sizes, default=0.0) * scale * per_unit)
