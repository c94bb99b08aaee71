"""The command line: the main job, save → load → same predictions, and every user mistake
ending in one clear line and a non-zero exit, never a traceback."""

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import require_mnist

import microgradnet as mg
from microgradnet.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *words):
    assert code != 0
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert "Traceback" not in err
    assert lines and "error" in lines[-1]
    for w in words:
        assert w in lines[-1], (w, lines[-1])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "digits.npz"
    assert main(["train", "--epochs", "3", "--quiet", "--out", str(path)]) == 0
    return path


def test_console_script_runs_the_main_job_on_embedded_digits(tmp_path):
    """`microgradnet train` with no flags: the embedded digits, >= 95% test accuracy."""
    proc = subprocess.run(
        [sys.executable, "-m", "microgradnet", "train", "--history", str(tmp_path / "h.json")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "13,002" not in proc.stdout  # the digits network is 64-16-16-10
    assert "total: 1,482 weights and biases" in proc.stdout  # 64·16+16 + 16·16+16 + 16·10+10
    acc = float(proc.stdout.split("test accuracy ")[-1].split("%")[0])
    assert acc >= 95.0
    h = json.loads((tmp_path / "h.json").read_text())
    assert len(h["cost"]) == 30 and h["cost"][-1] < h["cost"][0]


def test_save_load_gives_the_same_predictions(trained, capsys):
    model = mg.load(trained)
    _, test = mg.datasets.load_digits()
    with mg.no_grad():
        a = model(test.x).data
    again = mg.load(trained)
    np.testing.assert_array_equal(a, again(test.x).data)
    code, out, _ = run(capsys, "evaluate", str(trained))
    assert code == 0
    acc = float(out.split("accuracy ")[1].split("%")[0]) / 100
    assert acc == pytest.approx(mg.evaluate(model, test).accuracy, abs=1e-4)


def test_predict_by_index_prints_ten_activations(trained, capsys):
    code, out, _ = run(capsys, "predict", str(trained), "--index", "5")
    assert code == 0
    _, test = mg.datasets.load_digits()
    model = mg.load(trained)
    expect = model(test.x[5:6]).data[0]
    rows = [line.split() for line in out.splitlines()[1:] if line.strip()]
    assert len(rows) == 10
    shown = np.array([float(r[1]) for r in rows])
    np.testing.assert_allclose(shown, expect, atol=1e-4)
    assert f"says {int(expect.argmax())}" in out.splitlines()[0]


def test_predict_an_image_file(trained, capsys, tmp_path):
    _, test = mg.datasets.load_digits()
    img = test.x[7].reshape(8, 8)
    np.save(tmp_path / "digit.npy", img)
    code, out, _ = run(capsys, "predict", str(trained), "--image", str(tmp_path / "digit.npy"))
    assert code == 0
    expect = int(mg.load(trained)(test.x[7:8]).data.argmax())
    assert f"says {expect}" in out
    pytest.importorskip("matplotlib")
    import matplotlib.image as mpimg

    big = np.kron(1 - img, np.ones((4, 4)))  # 32x32, dark ink on light paper
    mpimg.imsave(tmp_path / "digit.png", big, cmap="gray", vmin=0, vmax=1)
    code, out, _ = run(capsys, "predict", str(trained), "--image", str(tmp_path / "digit.png"))
    assert code == 0 and "says" in out


@pytest.mark.parametrize(
    "argv, words",
    [
        (["train", "--lr", "-1"], ["--lr"]),
        (["train", "--lr", "fast"], ["--lr"]),
        (["train", "--batch-size", "0"], ["--batch-size"]),
        (["train", "--epochs", "-2"], ["--epochs"]),
        (["train", "--layers", "64,x,10"], ["--layers"]),
        (["train", "--layers", "784,16,10"], ["784", "64"]),
        (["train", "--dataset", "imagenet"], ["--dataset"]),
        (["train", "--momentum", "1.5"], ["momentum"]),
        (["train", "--data-dir", "/tmp"], ["--data-dir"]),
        (["train", "--out", "/no/such/folder/m.npz"], ["folder"]),
        (
            ["train", "--dataset", "mnist", "--data-dir", "/nonexistent-dir", "--no-download"],
            ["nonexistent-dir"],
        ),
        (["evaluate", "/no/such/model.npz"], ["no such model file"]),
        (["predict", "/no/such/model.npz", "--index", "0"], ["no such model file"]),
    ],
)
def test_user_mistakes_give_one_clear_line(argv, words, capsys):
    try:
        code = main(argv)
    except SystemExit as e:  # argparse rejects a flag value: usage + one error line, exit 2
        code = e.code
    _, err = capsys.readouterr()
    assert_one_line_error(code, err, *words)


def test_wrong_model_files_are_reported_by_name(tmp_path, capsys, trained):
    text = tmp_path / "notes.npz"
    text.write_text("not a model")
    code, _, err = run(capsys, "evaluate", str(text))
    assert_one_line_error(code, err, "notes.npz")
    other = tmp_path / "arrays.npz"
    np.savez(other, a=np.zeros(3))
    code, _, err = run(capsys, "evaluate", str(other))
    assert_one_line_error(code, err, "arrays.npz", "not a microgradnet model")
    code, _, err = run(capsys, "predict", str(trained), "--index", "100000")
    assert_one_line_error(code, err, "--index")
    code, _, err = run(
        capsys,
        "evaluate",
        str(trained),
        "--dataset",
        "mnist",
        "--data-dir",
        str(require_mnist()),
        "--split-test-set",
        "100",
    )
    assert_one_line_error(code, err, "64 inputs", "784")


def test_train_on_the_mnist_test_set_split(tmp_path, capsys):
    root = require_mnist()
    out_path = tmp_path / "mnist.npz"
    code, out, err = run(
        capsys,
        "train",
        "--dataset",
        "mnist",
        "--data-dir",
        str(root),
        "--split-test-set",
        "2000",
        "--layers",
        "784,16,16,10",
        "--epochs",
        "1",
        "--quiet",
        "--out",
        str(out_path),
    )
    assert code == 0, err
    assert "trained" in out and out_path.exists()
    model = mg.load(out_path)
    assert model.sizes == [784, 16, 16, 10] and model.num_parameters() == 13_002


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "train" in capsys.readouterr().err


def test_a_network_too_big_for_memory_is_one_line(capsys, monkeypatch):
    import microgradnet.nn.layers as layers

    def no_memory(*a, **k):
        raise MemoryError

    monkeypatch.setattr(layers.Linear, "__init__", no_memory)
    code, _, err = run(capsys, "train", "--layers", "64,100000000,10", "--epochs", "1")
    assert_one_line_error(code, err, "not enough memory", "--layers")


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "show", "graph", "explain", "export"])
def test_help_texts_say_what_each_default_is(command, capsys):
    """`--help` never prints a bare "default: None"; only commands that train say "train on"."""
    with pytest.raises(SystemExit) as e:
        main([command, "--help"])
    assert e.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines: compare words
    assert "default: None" not in text and "default None" not in text
    if command in ("evaluate", "predict"):
        assert "guessed from the model's input size" in text
        assert "train on" not in text
        assert "--split-test-set N' splits it" in text
