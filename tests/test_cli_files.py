"""The command line and its files: outputs checked before training, a trained model never
lost to a failed write, a full disk in one line, the MNIST test set alone enough for every
command, errors in the command line's own words, and hints when the learning rate is off."""

import errno
import os
import resource
import signal
import subprocess
import sys
import tempfile

import numpy as np
import pytest
from conftest import require

import microgradnet as mg
from microgradnet.cli import main
from microgradnet.datasets import mnist as mnist_mod
from microgradnet.datasets.idx import write_idx


@pytest.fixture(autouse=True)
def offline(tmp_path, monkeypatch):
    """An empty cache, and mirrors nobody answers: no test reaches the network or the real cache."""
    monkeypatch.setenv("MICROGRADNET_DATA", str(tmp_path / "cache"))
    monkeypatch.setitem(mnist_mod.MIRRORS, "mnist", ["http://127.0.0.1:9/"])


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(code, err, *words):
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert code == 1 and len(lines) == 1 and "Traceback" not in err, err
    assert " error: " in lines[0]
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


def mnist_test_set_only(folder, n=300, seed=0):
    """A folder holding only MNIST's two t10k files (here n random images): what many offline
    machines have. Returns (images, labels)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    write_idx(folder / "t10k-images-idx3-ubyte.gz", images)
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", labels)
    return images, labels


# ============================================================================ before training


def _no_training(monkeypatch):
    def fit(*a, **k):
        raise AssertionError("trained before checking where to write")

    monkeypatch.setattr(mg, "fit", fit)


@pytest.mark.parametrize("flag", ["--out", "--history"])
def test_outputs_are_checked_before_training(tmp_path, capsys, monkeypatch, flag):
    _no_training(monkeypatch)
    (tmp_path / "a-folder.npz").mkdir()
    code, _, err = run(capsys, "train", flag, tmp_path / "a-folder.npz")
    one_error_line(code, err, flag, "a-folder.npz", "is a folder")
    code, _, err = run(capsys, "train", flag, tmp_path / "missing" / "m.npz")
    one_error_line(code, err, flag, "missing", "does not exist")


def test_out_gets_npz_like_save_and_must_differ_from_history(tmp_path, capsys, monkeypatch):
    _no_training(monkeypatch)
    (tmp_path / "net.npz").mkdir()  # --out net is saved as net.npz: that is a folder
    code, _, err = run(capsys, "train", "--out", tmp_path / "net")
    one_error_line(code, err, "--out", "net.npz", "is a folder")
    same = tmp_path / "same.npz"
    code, _, err = run(capsys, "train", "--out", same, "--history", same)
    one_error_line(code, err, "--out and --history")


# ============================================================================ after training


def _full_disk(monkeypatch, folder):
    """Every atomic write into ``folder`` fails as a full disk does."""
    real = os.replace

    def replace(src, dst):
        if os.path.dirname(os.path.abspath(dst)) == str(folder):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(src))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)


def test_a_failed_save_after_training_rescues_the_model(tmp_path, capsys, monkeypatch):
    full, rescue = tmp_path / "full", tmp_path / "rescue"
    full.mkdir()
    rescue.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(rescue))
    _full_disk(monkeypatch, full)
    code, out, err = run(
        capsys, "train", "--epochs", "2", "--quiet", "--out", full / "m.npz", "--history", full / "h.json"
    )
    line = one_error_line(code, err, f"to {full / 'm.npz'}: No space left on device", "saved it to")
    assert "test accuracy" in out and "[Errno" not in line and ".tmp" not in line
    saved = sorted(rescue.iterdir())
    assert [p.suffix for p in saved] == [".json", ".npz"] and str(saved[1]) in line
    model = mg.load(saved[1])
    assert model.trained_on == {"dataset": "digits"}
    assert f"{mg.evaluate(model, mg.datasets.load_digits()[1]).accuracy:.2%}" in out  # the trained one
    assert list(full.iterdir()) == []


def test_when_the_rescue_fails_too_the_loss_is_said(tmp_path, capsys, monkeypatch):
    full = tmp_path / "full"
    full.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(full))
    _full_disk(monkeypatch, full)
    code, _, err = run(capsys, "train", "--epochs", "1", "--quiet", "--out", full / "m.npz")
    one_error_line(code, err, "No space left on device", "the trained model is lost")


def _file_size_limit(limit):
    def set_limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return set_limit


@pytest.mark.parametrize("to", ["torch", "onnx"])
def test_export_onto_a_full_disk_is_one_line(tmp_path, to):
    """A real failing write: RLIMIT_FSIZE makes write() fail (EFBIG) as a full disk does
    (ENOSPC). Before, --to torch ended in torch's RuntimeError and a traceback."""
    require(to)
    model = mg.save(mg.nn.MLP([64, 100, 10], seed=0), tmp_path / "m.npz")
    out = tmp_path / "out" / f"m.{'pt' if to == 'torch' else 'onnx'}"
    out.parent.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "microgradnet", "export", str(model), "--to", to, "--out", str(out)],
        capture_output=True,
        text=True,
        preexec_fn=_file_size_limit(4096),
        env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"),
    )
    one_error_line(proc.returncode, proc.stderr, f"microgradnet export: error: {out}: File too large")
    assert list(out.parent.iterdir()) == []


# ============================================================================ the MNIST test set alone


def test_the_mnist_test_set_alone_works_end_to_end_without_repeated_flags(tmp_path, capsys):
    folder = tmp_path / "mnist"
    folder.mkdir()
    images, labels = mnist_test_set_only(folder)
    model_path = tmp_path / "m.npz"
    code, out, err = run(
        capsys, "train", "--dataset", "mnist", "--data-dir", folder, "--split-test-set", 200,
        "--layers", "784,16,10", "--epochs", 1, "--quiet", "--out", model_path,
    )  # fmt: skip
    assert code == 0, err
    model = mg.load(model_path)
    assert model.trained_on == {"dataset": "mnist", "split_test_set": 200}
    held_out = mg.data.Dataset(images[200:].reshape(100, -1) / np.float32(255), labels[200:].astype(int))

    code, out, err = run(capsys, "evaluate", model_path, "--data-dir", folder, "--no-download")
    assert code == 0, err
    assert "mnist-test" in out and f"{mg.evaluate(model, held_out).accuracy:.2%} (" in out and "/100)" in out

    code, out, err = run(capsys, "predict", model_path, "--data-dir", folder, "--index", 5)
    assert code == 0, err
    assert f"image 5 (label {labels[205]})" in out

    require("matplotlib")
    code, out, err = run(
        capsys, "show", "network", model_path, "--data-dir", folder, "--out", tmp_path / "n.png"
    )
    assert code == 0, err
    assert (tmp_path / "n.png").stat().st_size > 0


def test_an_older_model_file_needs_only_the_test_files_too(tmp_path, capsys):
    folder = tmp_path / "mnist"
    folder.mkdir()
    mnist_test_set_only(folder, n=50)
    model_path = mg.save(mg.nn.MLP([784, 16, 10], seed=0), tmp_path / "old.npz")  # no trained_on
    code, out, err = run(capsys, "evaluate", model_path, "--data-dir", folder)
    assert code == 0, err
    assert "mnist-test" in out and "/50)" in out  # guessed from 784 inputs, the whole test set


def test_missing_data_is_explained_in_command_line_words(tmp_path, capsys):
    model_path = mg.save(mg.nn.MLP([784, 16, 10], seed=0), tmp_path / "m.npz")
    (tmp_path / "empty").mkdir()
    code, _, err = run(capsys, "evaluate", model_path, "--data-dir", tmp_path / "empty", "--no-download")
    line = one_error_line(code, err, "t10k-images-idx3-ubyte", "--data-dir", "--no-download")
    assert "root=" not in line and "download=False" not in line and "train-images" not in line
    code, _, err = run(capsys, "evaluate", model_path)  # the cache, then a download that fails
    line = one_error_line(code, err, "MICROGRADNET_DATA", "--data-dir", "Downloading failed")
    assert "root=" not in line
    assert not (tmp_path / "cache").exists()  # no folder made for a download that never came


# ============================================================================ models that cannot be used


def test_a_diverged_model_file_is_one_line_everywhere(tmp_path, capsys):
    model = mg.nn.MLP([64, 16, 10], seed=0)
    model.layers[0].weight.data[3, 3] = np.nan
    path = mg.save(model, tmp_path / "nan.npz")
    for argv in (["evaluate", path], ["predict", path, "--index", 0], ["export", path, "--to", "onnx"]):
        code, _, err = run(capsys, *argv)
        one_error_line(code, err, "nan.npz", "layers.0.weight holds 1 NaN", "--lr")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nan.npz"]


def test_a_fifo_given_as_a_model_is_refused_not_waited_on(tmp_path, capsys):
    os.mkfifo(tmp_path / "pipe.npz")
    code, _, err = run(capsys, "evaluate", tmp_path / "pipe.npz")
    one_error_line(code, err, "pipe.npz", "FIFO")


# ============================================================================ the learning rate


def test_zero_epochs_says_nothing_was_trained(capsys, tmp_path):
    code, out, err = run(capsys, "train", "--epochs", 0, "--quiet", "--out", tmp_path / "m.npz")
    assert code == 0, err
    assert "--epochs 0: nothing was trained" in out and "test accuracy" in out


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--lr", "100"], ["stuck at 1.0000", "pinned at 0 or 1", "--lr 10"]),
        (["--loss", "cross-entropy", "--lr", "50"], ["rose from", "--lr 5"]),
    ],
)
def test_a_learning_rate_too_large_gets_a_one_line_hint(capsys, argv, words):
    code, out, err = run(capsys, "train", "--epochs", 2, "--quiet", *argv)
    assert code == 0, err
    hints = [line for line in out.splitlines() if line.startswith("hint:")]
    assert len(hints) == 1, out
    for w in words:
        assert w in hints[0], (w, hints[0])
    assert "Warning" not in err


def test_a_healthy_run_gets_no_hint(capsys):
    code, out, _ = run(capsys, "train", "--epochs", 3, "--quiet")
    assert code == 0 and "hint" not in out


def test_a_cost_that_becomes_nan_is_one_line_naming_the_flag(capsys, tmp_path):
    code, _, err = run(
        capsys,
        "train",
        "--loss",
        "cross-entropy",
        "--lr",
        "1e300",
        "--epochs",
        1,
        "--out",
        tmp_path / "m.npz",
    )
    one_error_line(code, err, "diverged", "nothing was saved", "--lr 1e+299")
    assert list(tmp_path.iterdir()) == []
