"""``microgradnet graph`` and ``microgradnet explain``."""

import json
import re
import xml.etree.ElementTree as ET

import pytest
from conftest import require_renderer

from microgradnet.cli import main


def test_graph_writes_svg_with_the_layers(tmp_path, capsys):
    require_renderer()
    out = tmp_path / "g.svg"
    assert main(["graph", "--batch-size", "2", "--values", "--grads", "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    root = ET.parse(out).getroot()
    texts = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {"matmul", "add_bias", "sigmoid", "squared_error", "layers.0.weight", "layers.2.bias"} <= texts
    assert "layers.0: Linear 64→16, sigmoid" in texts


def test_graph_dot_needs_no_graphviz_and_layers_flag(tmp_path):
    out = tmp_path / "g.dot"
    assert main(["graph", "--layers", "64,8,10", "--out", str(out), "--no-cluster"]) == 0
    src = out.read_text()
    assert src.startswith("digraph") and "layers.1.weight" in src and "cluster" not in src


def test_graph_from_a_model_file(tmp_path):
    import microgradnet as mg

    model_path = mg.save(mg.nn.MLP([64, 7, 10], seed=1), tmp_path / "m.npz")
    out = tmp_path / "g.dot"
    assert main(["graph", "--model", str(model_path), "--out", str(out)]) == 0
    assert "64→7" in out.read_text()


def test_explain_toy_is_the_default(tmp_path, capsys):
    require_renderer()
    out = tmp_path / "b.html"
    assert main(["explain", "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="mg-data">(.*?)</script>', html, re.S).group(1))
    assert data["scalar"] and {f["label"] for f in data["final"]} == {"w1", "b1", "w2", "b2"}
    assert main(["explain", "--layers", "64,6,10", "--batch-size", "3", "--out", str(out)]) == 0
    data = json.loads(
        re.search(r'id="mg-data">(.*?)</script>', out.read_text(encoding="utf-8"), re.S).group(1)
    )
    assert not data["scalar"] and data["final"][0]["label"] == "layers.0.weight"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["graph", "--out", "g.txt"], "cannot tell the format"),
        (["graph", "--out", "no/such/dir/g.svg"], "does not exist"),
        (["graph", "--layers", "10,4", "--out", "g.dot"], "--layers starts with 10 inputs"),
        (["graph", "--model", "missing.npz", "--out", "g.dot"], "missing.npz"),
        (["explain", "--out", "page.svg"], "cannot tell the format"),
        (["explain", "--layers", "64,5,3", "--out", "p.html"], "3 outputs"),
    ],
)
def test_user_mistakes_are_one_line(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_bad_flag_values_are_argparse_errors(capsys):
    with pytest.raises(SystemExit) as e:
        main(["explain", "--toy", "--layers", "64,10"])
    assert e.value.code == 2
    with pytest.raises(SystemExit):
        main(["graph", "--batch-size", "0"])
    assert "positive whole number" in capsys.readouterr().err
