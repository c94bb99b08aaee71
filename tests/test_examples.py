"""Every script in examples/ runs on its own, on small settings, and does what it says."""

import re
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, require, require_mnist

EXAMPLES = ROOT / "examples"


def run_example(name, *args, timeout=180):
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_xor_learns():
    assert "learned XOR" in run_example("xor.py")


def test_xor_docstring_says_how_many_hidden_neurons_the_code_builds():
    source = (EXAMPLES / "xor.py").read_text()
    hidden = int(re.search(r"MLP\(\[2, (\d+), 1\]", source).group(1))
    word = ["zero", "one", "two", "three", "four", "five"][hidden]
    first_line = source.split('"""')[1].splitlines()[0]
    assert f"{word} hidden neurons can" in first_line, (first_line, hidden)


def test_moons_learns_and_plots(tmp_path):
    require("matplotlib")
    out = run_example("moons.py", "--epochs", "30", "--plot", str(tmp_path / "moons.png"))
    acc = float(out.split("accuracy ")[1].split("%")[0])
    assert acc >= 90
    assert (tmp_path / "moons.png").stat().st_size > 1000


def test_custom_op_passes_gradcheck():
    out = run_example("custom_op.py")
    assert "gradcheck passed" in out


def test_mnist_3blue1brown_on_small_settings():
    root = require_mnist()
    out = run_example(
        "mnist_3blue1brown.py",
        "--data-dir",
        str(root),
        "--split-test-set",
        "8000",
        "--epochs",
        "1",
        "--limit",
        "3000",
    )
    assert "13,002" in out
    acc = float(out.split("final: accuracy ")[1].split("%")[0])
    assert acc > 50


def test_outgrow_moves_the_network_to_torch_and_onnx():
    require("torch")
    require("onnxruntime")
    out = run_example("outgrow.py")
    assert "onnx" in out.lower() and "torch" in out.lower()


def test_every_example_is_covered():
    names = {p.name for p in EXAMPLES.glob("*.py")}
    tested = set(re.findall(r'run_example\(\s*"([^"]+)"', Path(__file__).read_text()))
    assert names <= tested, f"examples without a test: {sorted(names - tested)}"
