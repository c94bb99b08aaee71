"""``microgradnet export``: a saved model to ONNX or a PyTorch checkpoint; mistakes in one line."""

import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, require

import microgradnet as mg
import microgradnet.export  # noqa: F401  (mg.export)
from microgradnet.cli import main


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *words):
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert code == 1 and len(lines) == 1, err
    assert "Traceback" not in err and lines[0].startswith("microgradnet export: error:")
    for w in words:
        assert w in lines[0], (w, lines[0])


@pytest.fixture
def saved(tmp_path):
    model = mg.nn.MLP([64, 16, 10], activation="sigmoid", seed=0)
    return model, mg.save(model, tmp_path / "digits.npz")


def outputs(model, x):
    with mg.no_grad():
        return model(x).data


def test_export_onnx(capsys, saved, tmp_path):
    ort = require("onnxruntime")
    require("onnx")
    model, path = saved
    code, out, err = run(capsys, "export", path, "--to", "onnx", "--out", tmp_path / "d.onnx")
    assert code == 0, err
    assert "d.onnx" in out and "opset 17" in out and "[batch, 64]" in out
    x = np.random.default_rng(0).random((5, 64), dtype=np.float32)
    session = ort.InferenceSession(str(tmp_path / "d.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": x})[0]
    np.testing.assert_allclose(got, outputs(model, x), rtol=1e-5, atol=1e-6)


def test_export_torch_and_load_it_back(capsys, saved, tmp_path):
    torch = require("torch")
    model, path = saved
    code, out, err = run(capsys, "export", path, "--to", "torch", "--out", tmp_path / "d.pt")
    assert code == 0, err
    assert "load_torch" in out
    seq = mg.export.load_torch(tmp_path / "d.pt")
    x = np.random.default_rng(1).random((3, 64), dtype=np.float32)
    with torch.no_grad():
        np.testing.assert_allclose(seq(torch.from_numpy(x)).numpy(), outputs(model, x), rtol=1e-5, atol=1e-6)
    ckpt = torch.load(tmp_path / "d.pt", weights_only=True)
    back = mg.export.from_torch(ckpt)
    assert all(np.array_equal(a, b) for a, b in zip(model.state_dict().values(), back.state_dict().values()))


def test_default_out_is_next_to_the_model(capsys, saved):
    require("torch")
    require("onnx")
    _, path = saved
    assert run(capsys, "export", path, "--to", "torch")[0] == 0
    assert run(capsys, "export", path, "--to", "ONNX", "--opset", "18")[0] == 0
    assert path.with_suffix(".pt").is_file() and path.with_suffix(".onnx").is_file()


def test_bad_target(capsys, saved):
    _, path = saved
    assert_one_line_error(*run(capsys, "export", path, "--to", "tflite")[::2], "--to", "tflite")


def test_model_file_errors(capsys, tmp_path):
    require("onnx")
    assert_one_line_error(
        *run(capsys, "export", tmp_path / "none.npz", "--to", "onnx")[::2], "no such model file"
    )
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"definitely not a zip")
    assert_one_line_error(
        *run(capsys, "export", junk, "--to", "onnx")[::2], "junk.npz", "not a microgradnet model"
    )
    assert not (tmp_path / "junk.onnx").exists()


def test_out_folder_and_opset_errors(capsys, saved, tmp_path):
    require("onnx")
    _, path = saved
    assert_one_line_error(
        *run(capsys, "export", path, "--to", "onnx", "--out", tmp_path / "no" / "m.onnx")[::2],
        "does not exist",
    )
    assert_one_line_error(*run(capsys, "export", path, "--to", "onnx", "--opset", "9")[::2], "--opset")
    assert_one_line_error(*run(capsys, "export", path, "--to", "onnx", "--out", tmp_path)[::2], "is a folder")


@pytest.mark.parametrize(
    "target,module,extra", [("torch", "torch", "microgradnet[torch]"), ("onnx", "onnx", "microgradnet[onnx]")]
)
def test_missing_extra(capsys, saved, monkeypatch, target, module, extra):
    monkeypatch.setitem(sys.modules, module, None)
    _, path = saved
    assert_one_line_error(*run(capsys, "export", path, "--to", target)[::2], f'pip install "{extra}"')


def test_console_script(saved, tmp_path):
    require("onnx")
    _, path = saved
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "microgradnet",
            "export",
            str(path),
            "--to",
            "onnx",
            "--out",
            str(tmp_path / "c.onnx"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "c.onnx").stat().st_size > 1000
    help_text = subprocess.run(
        [sys.executable, "-m", "microgradnet", "--help"], capture_output=True, text=True, cwd=ROOT, timeout=60
    ).stdout
    assert "export" in help_text
