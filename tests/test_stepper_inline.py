"""The backprop stepper inside a notebook (``mg.viz.stepper``), and the stepper's graph
legible at the size it is shown."""

import html
import re
import warnings

import numpy as np
import pytest
from conftest import require, require_renderer
from test_render import COLUMN, parse_svg

import microgradnet as mg
from microgradnet.viz.stepper import Stepper, backprop_page, stepper_html, toy_network


def mlp_step(n=10):
    model = mg.nn.MLP([784, 16, 16, 10], seed=0)
    x = np.random.default_rng(0).random((n, 784)).astype(np.float32)
    return mg.squared_error(model(x), np.arange(n) % 10), model


def srcdoc(frame_html):
    m = re.fullmatch(r'<iframe srcdoc="([^"]*)" ([^>]*)></iframe>', frame_html, re.S)
    assert m, frame_html[:200]
    return html.unescape(m.group(1)), m.group(2)


def test_stepper_is_the_page_in_a_sandboxed_frame(tmp_path):
    require_renderer()
    cost, model = mlp_step(3)
    shown = mg.viz.stepper(cost, model=model)
    assert isinstance(shown, Stepper)
    page, attrs = srcdoc(shown._repr_html_())
    written = backprop_page(cost, tmp_path / "page.html", model=model).read_text(encoding="utf-8")
    assert page == written == shown.html  # the same self-contained page
    assert 'sandbox="allow-scripts"' in attrs and "allow-same-origin" not in attrs
    assert "height: 760px" in attrs and "width: 100%" in attrs
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)  # nothing fetched
    assert "default-src 'none'" in page
    assert all(p.grad is None for p in model.parameters())
    assert shown.save(tmp_path / "again.html").read_text(encoding="utf-8") == written
    with pytest.raises(ValueError, match="html"):
        shown.save(tmp_path / "page.txt")
    with pytest.raises(ValueError, match="height"):
        mg.viz.stepper(cost, model=model, height=50)


def test_jupyter_displays_it_without_the_iframe_warning():
    require_renderer()
    require("IPython")
    from IPython.core.formatters import DisplayFormatter

    cost, params = toy_network()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # IPython.display.HTML('<iframe …') would warn here
        data, _ = DisplayFormatter().format(mg.viz.stepper(cost, params=params, height=500))
    assert data["text/html"].startswith("<iframe srcdoc=")
    assert "height: 500px" in data["text/html"]
    assert "Stepper" in data["text/plain"]


def test_mg_viz_stepper_is_callable_however_it_was_imported():
    import microgradnet.viz.stepper as module

    assert mg.viz.stepper is module and callable(mg.viz.stepper)
    assert module.backprop_page is mg.viz.backprop_page


@pytest.mark.parametrize("renderer", ["dot", "graphviz-pure"])
def test_the_stepper_graph_reads_in_a_900px_column(renderer):
    require_renderer(renderer)
    cost, model = mlp_step()
    page = stepper_html(cost, model=model, renderer=renderer)
    box = re.search(
        r'<section id="mg-graph" data-width="(\d+)" data-height="(\d+)" data-min-font="([\d.]+)">', page
    )
    width, min_font = float(box.group(1)), float(box.group(3))
    svg = parse_svg(re.search(r"<svg.*?</svg>", page, re.S).group(0))
    view_w = float(svg.get("viewBox").split()[2])
    fonts = [float(t.get("font-size")) for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert min_font == pytest.approx(min(fonts) * width / view_w, rel=1e-2)
    assert min_font * min(1.0, COLUMN / width) >= 8
