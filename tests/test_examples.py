"""Every script in examples/ runs on its own, on small settings, and does what it says."""

import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, require, require_mnist

EXAMPLES = ROOT / "examples"


def run_example(name, *args, timeout=180, launcher=(), env=None):
    """Run examples/NAME with ``args`` (under ``launcher``, e.g. torchrun); its stdout."""
    proc = subprocess.run(
        [*launcher, str(EXAMPLES / name), *args]
        if launcher
        else [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
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


def test_outgrow_ddp_trains_on_two_processes_and_comes_back():
    """torchrun with two processes on this machine (loopback only): microgradnet, then
    DistributedDataParallel over gloo for a few steps on two shards, then microgradnet again."""
    require("torch")
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    loopback = Path("/sys/class/net/lo").exists()  # Linux: keep gloo's traffic on this machine
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo"} if loopback else None
    out = run_example(
        "outgrow_ddp.py",
        "--epochs",
        "2",
        "--ddp-epochs",
        "1",
        "--max-steps",
        "8",
        launcher=torchrun,
        env=env,
        timeout=300,
    )
    before = float(re.search(r"microgradnet, 2 epochs on rank 0: test accuracy ([\d.]+)%", out).group(1))
    after = float(re.search(r"back in microgradnet after DDP: test accuracy ([\d.]+)%", out).group(1))
    assert before > 30 and after > 30, out  # both scored by microgradnet, both learned something
    # each rank trained on its own half of the 1,437 training images
    assert sorted(re.findall(r"rank (\d): 719 of the 1437 training images", out)) == ["0", "1"], out
    assert "DDP: 8 steps per process, 160 images seen by the 2 processes together" in out, out
    assert "the 2 replicas agree: largest difference from rank 0's weights 0.0e+00" in out, out
    assert float(re.search(r"largest weight change made under DDP: ([\d.]+)", out).group(1)) > 0, out


def test_every_example_is_covered():
    names = {p.name for p in EXAMPLES.glob("*.py")}
    tested = set(re.findall(r'run_example\(\s*"([^"]+)"', Path(__file__).read_text()))
    assert names <= tested, f"examples without a test: {sorted(names - tested)}"
