"""Which program draws the graphs (Graphviz's dot or the pip-installed graphviz-pure), and
whether the drawing of the 3Blue1Brown training step can be read where people see it."""

import os
import re
import shutil
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from conftest import require, require_renderer

import microgradnet as mg
from microgradnet.viz import render
from microgradnet.viz.graph import draw_graph, graph_nodes
from microgradnet.viz.render import GraphvizNotFoundError, find_renderer

SVG = "{http://www.w3.org/2000/svg}"
COLUMN = 900  # px: the README's column, a docs page, a notebook's output
BOTH = ["dot", "graphviz-pure"]


def three_blue_one_brown_step(n=10):
    """The videos' network, 784-16-16-10 sigmoid, on a batch of ``n`` images."""
    model = mg.nn.MLP([784, 16, 16, 10], seed=0)
    x = np.random.default_rng(0).random((n, 784)).astype(np.float32)
    return mg.squared_error(model(x), np.arange(n) % 10), model


def parse_svg(svg_text):
    return ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", svg_text.split("?>", 1)[-1]))


def shown_text_px(svg_text, column=COLUMN):
    """(width in px, smallest text in px) of an SVG shown in a ``column`` px wide, scaled down
    to fit and never up (as a page shows an image), read from the SVG's own width, viewBox,
    transform and font sizes (Graphviz writes points: 1 pt = 4/3 px)."""
    root = parse_svg(svg_text)
    width = float(root.get("width").removesuffix("pt")) * 4 / 3
    view_w = float(root.get("viewBox").split()[2])
    scale = float(re.search(r"scale\(([\d.]+)", root.find(SVG + "g").get("transform")).group(1))
    fonts = [float(t.get("font-size")) for t in root.iter(SVG + "text")]
    assert fonts, "the drawing has no text"
    shown = min(1.0, column / width)
    return width, min(fonts) * scale * (width / view_w) * shown


def fake_programs(monkeypatch, *present):
    where = {name: f"/opt/{name}/bin/{name}" for name in present}
    monkeypatch.setattr(render, "_which", lambda name: where.get(name))


# ----------------------------------------------------------------------------------------
# the choice
# ----------------------------------------------------------------------------------------
def test_auto_uses_dot_when_there_else_graphviz_pure(monkeypatch):
    monkeypatch.delenv("MICROGRADNET_RENDERER", raising=False)
    fake_programs(monkeypatch, "dot", "graphviz-pure")
    assert find_renderer().name == "dot"
    assert find_renderer("graphviz-pure").name == "graphviz-pure"
    assert find_renderer("auto", "pdf").name == "dot"
    fake_programs(monkeypatch, "graphviz-pure")
    assert find_renderer().name == "graphviz-pure"
    assert find_renderer("auto", "png").path == "/opt/graphviz-pure/bin/graphviz-pure"


def test_environment_variable_sets_the_default(monkeypatch):
    fake_programs(monkeypatch, "dot", "graphviz-pure")
    monkeypatch.setenv("MICROGRADNET_RENDERER", "graphviz-pure")
    assert find_renderer().name == "graphviz-pure"
    assert find_renderer("dot").name == "dot"  # an explicit choice wins
    monkeypatch.setenv("MICROGRADNET_RENDERER", "neato")
    with pytest.raises(ValueError, match=r"MICROGRADNET_RENDERER='neato'.*auto, dot, graphviz-pure"):
        find_renderer()
    with pytest.raises(ValueError, match="renderer must be one of"):
        draw_graph(mg.tensor(1.0, requires_grad=True) * 2.0, renderer="Dot")


def test_each_missing_program_says_how_to_get_it(monkeypatch):
    monkeypatch.delenv("MICROGRADNET_RENDERER", raising=False)
    fake_programs(monkeypatch, "graphviz-pure")
    with pytest.raises(GraphvizNotFoundError) as err:
        find_renderer("auto", "pdf")
    assert "graphviz-pure cannot write pdf" in str(err.value)
    assert "apt-get install graphviz" in str(err.value) and ".svg or .png" in str(err.value)
    with pytest.raises(GraphvizNotFoundError, match=r"'dot' was not found.*renderer='graphviz-pure'"):
        find_renderer("dot")
    fake_programs(monkeypatch, "dot")
    with pytest.raises(GraphvizNotFoundError, match=r"pip install graphviz-pure.*renderer='dot'"):
        find_renderer("graphviz-pure")
    fake_programs(monkeypatch)
    with pytest.raises(GraphvizNotFoundError) as err:
        find_renderer()
    msg = str(err.value)
    assert msg.count("\n") == 0  # one line, both ways
    assert "pip install graphviz-pure" in msg and "brew install graphviz" in msg and "conda" in msg


def test_graphviz_pure_is_found_next_to_python_without_path(monkeypatch, tmp_path):
    """A notebook kernel started from a virtual environment often lacks its bin folder on
    PATH; pip put graphviz-pure there, next to the interpreter."""
    require_renderer("graphviz-pure")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("MICROGRADNET_RENDERER", raising=False)
    found = find_renderer()
    assert found.name == "graphviz-pure" and os.path.exists(found.path)


def test_a_failing_program_is_a_clear_error():
    require_renderer()
    with pytest.raises(mg.GraphError, match="failed to draw the graph as svg"):
        render.run_renderer("digraph { a -> ", "svg")


# ----------------------------------------------------------------------------------------
# legible at the size people see it
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("renderer", BOTH)
def test_the_3b1b_step_with_gradients_reads_in_a_900px_column(renderer):
    require_renderer(renderer)
    cost, model = three_blue_one_brown_step()
    drawing = mg.viz.draw_graph(cost, show_grads=True, model=model, renderer=renderer)
    svg = drawing.pipe("svg", encoding="utf-8")
    width, text_px = shown_text_px(svg)
    assert text_px >= 8, f"smallest text {text_px:.1f} px in a {COLUMN} px column ({width:.0f} px wide)"
    assert width <= 1.4 * COLUMN  # barely scaled: it is laid out for the column
    # everything is there: every node, with its gradient
    ids = {g.get("id") for g in parse_svg(svg).iter(SVG + "g")}
    assert {n["id"] for n in graph_nodes(cost, model=model)["nodes"]} <= ids
    assert svg.count("grad mean") >= 9
    assert render.svg_size(svg).min_font_in(COLUMN) == pytest.approx(text_px)


@pytest.mark.parametrize("renderer", BOTH)
def test_compact_and_direction_are_options(renderer):
    require_renderer(renderer)
    cost, model = three_blue_one_brown_step()
    stacked = shown_text_px(draw_graph(cost, show_grads=True, model=model, renderer=renderer).svg())
    compact = draw_graph(cost, show_grads=True, model=model, compact=True, renderer=renderer).svg()
    line = shown_text_px(
        draw_graph(cost, show_grads=True, model=model, rankdir="LR", renderer=renderer).svg()
    )
    assert shown_text_px(compact)[1] >= 8 and shown_text_px(compact)[0] < stacked[0]
    assert "matmul → add_bias → sigmoid" in compact and "layers.2: Linear 16→10, sigmoid" in compact
    assert 'class="node layer"' in compact and "x·W1" not in compact  # the layer's insides fold away
    assert line[0] > 3 * stacked[0] and line[1] < 4  # one long line: the old unreadable strip


def test_font_has_metrics_in_graphviz_pure():
    """graphviz-pure measures the labels with the font's own metrics (a name it does not know,
    such as the list 'Helvetica,Arial,sans-serif', makes it fall back to Times and warn)."""
    require_renderer("graphviz-pure")
    cost, model = three_blue_one_brown_step(2)
    source = draw_graph(cost, show_grads=True, show_values=True, model=model).source
    done = subprocess.run(
        [find_renderer("graphviz-pure").path, "-Tsvg"], input=source.encode(), capture_output=True, check=True
    )
    assert b"metrics" not in done.stderr, done.stderr.decode()
    families = set(re.findall(rb'font-family="([^"]+)"', done.stdout))
    assert families == {b"Helvetica,sans-Serif"}  # what a browser shows as Helvetica or Arial


# ----------------------------------------------------------------------------------------
# notebooks
# ----------------------------------------------------------------------------------------
def test_drawing_displays_in_jupyter(monkeypatch):
    require_renderer()
    require("IPython")
    from IPython.core.formatters import DisplayFormatter

    cost, model = three_blue_one_brown_step(2)
    drawing = mg.viz.draw_graph(cost, show_grads=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data, _ = DisplayFormatter().format(drawing)
    assert data["image/svg+xml"].lstrip().startswith(("<?xml", "<svg"))
    assert "squared_error" in data["image/svg+xml"]
    assert drawing._repr_svg_() == data["image/svg+xml"]


def test_the_cli_draws_with_a_path_that_has_no_dot(tmp_path):
    """The real thing, without any switch: PATH holds no Graphviz at all, the CLI runs as a
    new user's would, and graphviz-pure (found next to python) draws everything but pdf."""
    require_renderer("graphviz-pure")
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "MICROGRADNET_RENDERER"}
    env["PATH"] = str(empty)
    assert shutil.which("dot", path=env["PATH"]) is None

    def cli(*argv):
        return subprocess.run(
            [sys.executable, "-m", "microgradnet", *argv],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )

    done = cli("graph", "--grads", "--batch-size", "10", "--out", "step.svg")
    assert done.returncode == 0, done.stderr
    svg = (tmp_path / "step.svg").read_text(encoding="utf-8")
    assert "graphviz-pure" in svg.split("-->")[0]
    assert shown_text_px(svg)[1] >= 8
    done = cli("explain", "--layers", "64,16,16,10", "--out", "page.html")
    assert done.returncode == 0, done.stderr
    assert 'class="node op"' in (tmp_path / "page.html").read_text(encoding="utf-8")
    done = cli("graph", "--out", "step.pdf")
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "cannot write pdf" in done.stderr and "apt-get install graphviz" in done.stderr
    assert (tmp_path / "step.dot").exists() and not (tmp_path / "step.pdf").exists()


# ----------------------------------------------------------------------------------------
# packaging
# ----------------------------------------------------------------------------------------
# graphviz-pure 0.2.2's wheels, checked with `pip download --no-deps --only-binary=:all:
# graphviz-pure==0.2.2 --platform P`: (sys_platform, platform_machine) where one installs,
# and where none does (no sdist either: there pip would fail).
WHEELS = [
    ("linux", "x86_64"),
    ("linux", "aarch64"),
    ("darwin", "x86_64"),
    ("darwin", "arm64"),
    ("win32", "AMD64"),
    ("win32", "ARM64"),
]
NO_WHEEL = [
    ("linux", "armv7l"),
    ("linux", "i686"),
    ("linux", "ppc64le"),
    ("linux", "s390x"),
    ("win32", "x86"),
]


def test_graphviz_pure_is_a_dependency_exactly_where_it_has_wheels():
    tomllib = require("tomllib")
    require("packaging")
    from packaging.requirements import Requirement

    with open(os.path.join(os.path.dirname(__file__), "..", "pyproject.toml"), "rb") as f:
        deps = [Requirement(d) for d in tomllib.load(f)["project"]["dependencies"]]
    (pure,) = [d for d in deps if d.name == "graphviz-pure"]
    assert pure.specifier.contains("0.2.2")
    for platform, machine in WHEELS:
        assert pure.marker.evaluate({"sys_platform": platform, "platform_machine": machine}), (
            platform,
            machine,
        )
    for platform, machine in NO_WHEEL:
        assert not pure.marker.evaluate({"sys_platform": platform, "platform_machine": machine}), (
            platform,
            machine,
        )
