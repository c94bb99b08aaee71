"""microgradnet in Jupyter: examples/readme.ipynb (the README as a notebook) run in a real
kernel with nbclient, as ``jupyter nbconvert --execute`` would, and what each cell leaves
in the saved notebook.

No ``%matplotlib`` magic anywhere: pictures are images, the graph is SVG, the stepper is
HTML, training leaves one line per epoch, reprs are short, errors show short tracebacks.
"""

import json
import os
import re
import sys

import numpy as np
import pytest
from conftest import ROOT, notebook_env, require

import microgradnet as mg

NOTEBOOK = ROOT / "examples" / "readme.ipynb"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
MAX_OUTPUT = 200_000  # bytes of one cell output in the saved notebook


def run_notebook(nb, folder, allow_errors=False):
    """Execute ``nb`` in place in a fresh kernel of this Python (see conftest.notebook_env)."""
    nbclient = require("nbclient")
    env = notebook_env(folder)
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            if os.environ.get(key) != value:
                mp.setenv(key, value)
        mp.delenv("MPLBACKEND", raising=False)
        client = nbclient.NotebookClient(
            nb,
            timeout=180,
            startup_timeout=60,
            kernel_name="python3",
            allow_errors=allow_errors,
            resources={"metadata": {"path": str(folder)}},
        )
        client.execute()
    return nb


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    nbformat = require("nbformat")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    return run_notebook(nb, tmp_path_factory.mktemp("readme-notebook"))


def cell(nb, source_start):
    """The one code cell whose source starts with ``source_start``."""
    found = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(source_start)]
    assert len(found) == 1, source_start
    return found[0]


def test_the_stored_notebook_has_no_outputs():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert not any("%matplotlib" in "".join(c["source"]) for c in code)  # no magic needed


def test_the_kernel_is_this_python(tmp_path):
    env = notebook_env(tmp_path)
    spec = json.loads((tmp_path / "jupyter" / "kernels" / "python3" / "kernel.json").read_text())
    assert spec["argv"][0] == sys.executable
    assert env["JUPYTER_PATH"] == str(tmp_path / "jupyter")


def test_only_the_error_cell_fails(executed):
    errors = [
        c for c in executed.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert len(errors) == 1 and "raises-exception" in errors[0].metadata.tags


@pytest.mark.parametrize(
    "source",
    [
        "train, test = mg.datasets.load_digits()",
        "mg.viz.cost_curve(history)",
        "mg.viz.show_weights(model)",
        "mg.viz.show_network(model, test.x[0])",
        "mg.viz.show_noise(model)",
        "mg.viz.show_nudges(",
    ],
)
def test_pictures_are_images_shown_once(executed, source):
    outputs = cell(executed, source).outputs
    assert len(outputs) == 1, [o.output_type for o in outputs]  # not shown twice
    data = outputs[0]["data"]
    assert "image/png" in data or "image/svg+xml" in data, list(data)


def test_fit_leaves_one_line_per_epoch(executed):
    outputs = cell(executed, "history = mg.fit(").outputs
    assert [o.output_type for o in outputs] == ["display_data"]  # one area, updated in place
    lines = outputs[0]["data"]["text/plain"].splitlines()
    assert len(lines) == 30
    for k, line in enumerate(lines, 1):
        assert re.fullmatch(
            rf"epoch +{k}/30  cost \d\.\d{{4}}  accuracy [\d.]+%  test accuracy [\d.]+%  \(\d+\.\d\d s\)",
            line,
        ), line


def test_no_carriage_returns_anywhere(executed):
    text = json.dumps([c.get("outputs", []) for c in executed.cells])
    assert "\\r" not in text


def test_history_evaluation_and_chain_rule_are_short_and_single(executed):
    history = cell(executed, "history  #").outputs
    assert [o.output_type for o in history] == ["execute_result"]
    text = history[0]["data"]["text/plain"]
    assert text.startswith("History: 30 epochs") and len(text) < 300, text

    ev = cell(executed, "mg.evaluate(model, test)").outputs
    assert re.fullmatch(r"accuracy [\d.]+% \(\d+/360\), cost \d\.\d{4}", ev[0]["data"]["text/plain"])

    chain = cell(executed, "f64 = np.float64").outputs
    assert [o.output_type for o in chain] == ["stream"], chain  # printed once, not repeated
    assert chain[0]["text"].startswith("∂C/∂w2 = ") and chain[0]["text"].count("∂C/∂w2 =") == 1
    assert len(chain[0]["text"]) < 400


def test_graph_is_svg(executed):
    outputs = cell(executed, "xb, yb = train.x[:10]").outputs
    assert len(outputs) == 1
    svg = outputs[0]["data"]["image/svg+xml"]
    assert "<svg" in svg and "matmul" in svg and "layers.0.weight" in svg


def test_stepper_is_inline_html(executed):
    outputs = cell(executed, "mg.viz.stepper(cost, model=model)").outputs
    assert len(outputs) == 1
    html = outputs[0]["data"]["text/html"]
    assert "<iframe" in html and "srcdoc" in html


def test_no_output_is_larger_than_200_kb(executed):
    for c in executed.cells:
        for o in c.get("outputs", []):
            size = len(json.dumps(o))
            assert size <= MAX_OUTPUT, (c.source.splitlines()[0], size)


def test_the_error_cell_shows_the_users_line_and_the_check(executed):
    (error,) = cell(executed, "model(np.ones((1, 784)))").outputs
    model = mg.nn.MLP([64, 16, 16, 10], seed=0)
    with pytest.raises(mg.ShapeError) as info:
        model(np.ones((1, 784)))
    assert error.ename == "ShapeError" and error.evalue == str(info.value)  # message unchanged
    _assert_short(error)


def _frames(error):
    tb = ANSI.sub("", "\n".join(error.traceback))
    return [line for line in tb.splitlines() if line.startswith(("Cell In", "File "))]


def _assert_short(error):
    frames = _frames(error)
    assert frames[0].startswith("Cell In"), frames
    assert len(frames) == 2 and "microgradnet" in frames[1], frames  # the user's line, the check


MISTAKES = {
    "x @ W": "ShapeError",
    "x + mg.tensor(np.ones(5))": "ShapeError",
    "model(np.ones((2, 784)))": "ShapeError",
    "mg.fit(model, (np.ones((5, 784)), np.zeros(5, int)), epochs=1)": "ShapeError",
    "mg.squared_error(model(np.ones((2, 64))), np.zeros((3, 10)))": "ShapeError",
    "c = (W * 2).sum()\nc.backward()\nc.backward()": "GraphError",
    "mg.evaluate(model, 5)": "DTypeError",
    "mg.load('no-such-model.npz')": "ModelFileError",
    "mg.viz.show_weights(model, layer=5)": "IndexError",
    "mg.fit(model, train, epochs=-1)": "ValueError",
}


def test_mistakes_keep_short_tracebacks_and_bugs_keep_theirs(tmp_path):
    nbformat = require("nbformat")
    setup = (
        "import numpy as np\nimport microgradnet as mg\n"
        "x = mg.tensor(np.ones((10, 784)))\nW = mg.tensor(np.ones((16, 784)), requires_grad=True)\n"
        "model = mg.nn.MLP([64, 16, 10], seed=0)\ntrain, test = mg.datasets.load_digits()\n"
        "from microgradnet.tensor import apply\n"
        "class Broken(mg.ops.Op):\n"
        "    name = 'broken'\n"
        "    def forward(self, a):\n"
        "        return a / 0 if a.ndim > 5 else 1 // 0\n"
    )
    bug = "apply(Broken(), x)"  # a bug in an op: every frame stays
    cells = [setup, *MISTAKES, bug]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    run_notebook(nb, tmp_path, allow_errors=True)
    assert not nb.cells[0].outputs or all(o.output_type != "error" for o in nb.cells[0].outputs)
    for c, ename in zip(nb.cells[1:], MISTAKES.values()):
        errors = [o for o in c.outputs if o.output_type == "error"]
        assert len(errors) == 1 and errors[0].ename == ename, (c.source, errors)
        _assert_short(errors[0])
    (bug_error,) = [o for o in nb.cells[-1].outputs if o.output_type == "error"]
    assert bug_error.ename == "ZeroDivisionError"
    assert len(_frames(bug_error)) >= 3  # the library's frames are all there
    assert "skipping hidden" not in ANSI.sub("", "\n".join(bug_error.traceback))
