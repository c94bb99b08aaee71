"""``microgradnet show``: each picture is written as a real image; mistakes are one line."""

import pytest
from conftest import require

from microgradnet.cli import main


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    d = tmp_path_factory.mktemp("show")
    assert (
        main(["train", "--epochs", "2", "--quiet", "--out", str(d / "m.npz"), "--history", str(d / "h.json")])
        == 0
    )
    return d


@pytest.mark.parametrize("what", ["weights", "network", "noise", "nudges", "digits"])
def test_show_writes_a_png(saved, what, capsys):
    require("matplotlib")
    out = saved / f"{what}.png"
    assert main(["show", what, str(saved / "m.npz"), "--out", str(out), "--index", "3"]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {out}" in capsys.readouterr().out


def test_show_cost_from_history_as_svg(saved):
    require("matplotlib")
    import xml.etree.ElementTree as ET

    out = saved / "cost.svg"
    assert main(["show", "cost", str(saved / "h.json"), "--out", str(out)]) == 0
    assert ET.parse(out).getroot().tag.endswith("svg")


@pytest.mark.parametrize(
    "argv, word",
    [
        (["show", "weights", "{m}", "--out", "{d}/x.gif"], ".png"),
        (["show", "cost", "{m}"], "not a training history"),
        (["show", "network", "{m}", "--index", "99999"], "--index"),
        (["show", "weights", "{d}/missing.npz"], "no such model file"),
    ],
)
def test_show_mistakes_are_one_line(saved, argv, word, capsys):
    argv = [a.format(m=saved / "m.npz", d=saved) for a in argv]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and word in err[0] and "Traceback" not in err[0]


@pytest.mark.parametrize("what", ["weights", "cost"])
def test_show_without_a_model_trains_the_default_network_first(tmp_path, what, capsys):
    """The first picture is one command away: `microgradnet show weights` alone."""
    require("matplotlib")
    out = tmp_path / f"{what}.png"
    assert main(["show", what, "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    said = capsys.readouterr().out
    assert "no model given: training the network 'microgradnet train --dataset digits'" in said
    keep = "--history history.json" if what == "cost" else "--out model.npz"
    assert keep in said and f"microgradnet show {what} " in said
    assert "test accuracy" in said and f"wrote {out}" in said
