"""save/load: round trips, the file format, damaged files and failed saves."""

import json
import os
import zipfile

import numpy as np
import pytest
from conftest import read_unreadable

import microgradnet as mg
from microgradnet import serialize


def model_and_input(sizes, dtype, seed=0, **kw):
    m = mg.nn.MLP(sizes, dtype=dtype, seed=seed, **kw)
    x = np.random.default_rng(seed).standard_normal((5, sizes[0])).astype(dtype)
    return m, x


# ============================================================================ round trips


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "sizes,kw",
    [
        ([784, 16, 16, 10], {}),
        ([2, 3], {}),
        ([4, 8, 8, 8, 3], {"activation": "relu", "output_activation": None}),
        ([3, 5, 2], {"activation": "tanh", "output_activation": "softmax"}),
    ],
)
def test_save_load_round_trip(tmp_path, dtype, sizes, kw):
    m, x = model_and_input(sizes, dtype, **kw)
    # train one step so the weights are not just the seeded initialisation
    mg.squared_error(m(x), np.zeros((5, sizes[-1]), dtype=dtype)).backward()
    mg.optim.SGD(m.parameters(), lr=0.5).step()
    path = mg.save(m, tmp_path / "model.npz")
    assert path == tmp_path / "model.npz" and path.exists()
    loaded = mg.load(path)
    assert isinstance(loaded, mg.nn.MLP)
    assert loaded.config() == m.config()
    assert loaded.sizes == sizes and loaded.dtype == np.dtype(dtype)
    for (n1, p1), (n2, p2) in zip(m.named_parameters(), loaded.named_parameters()):
        assert n1 == n2 and p1.dtype == p2.dtype == dtype
        np.testing.assert_array_equal(p1.data, p2.data)
    np.testing.assert_array_equal(loaded(x).data, m(x).data)
    assert loaded(x).dtype == dtype


def test_save_adds_npz_suffix_and_accepts_str_paths(tmp_path):
    m, x = model_and_input([3, 2], np.float32)
    path = mg.save(m, str(tmp_path / "net"))
    assert path.name == "net.npz" and path.exists()
    np.testing.assert_array_equal(mg.load(str(path))(x).data, m(x).data)


def test_save_overwrites_an_existing_model(tmp_path):
    a, x = model_and_input([3, 2], np.float32, seed=0)
    b, _ = model_and_input([3, 2], np.float32, seed=1)
    p = tmp_path / "m.npz"
    mg.save(a, p)
    mg.save(b, p)
    np.testing.assert_array_equal(mg.load(p)(x).data, b(x).data)
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]


def test_file_is_a_plain_npz_without_pickle(tmp_path):
    m, _ = model_and_input([4, 3, 2], np.float64)
    path = mg.save(m, tmp_path / "m.npz")
    assert zipfile.is_zipfile(path)
    with np.load(path, allow_pickle=False) as z:
        names = set(z.files)
        assert names == {"__config__", "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"}
        config = json.loads(str(z["__config__"]))
        assert z["layers.0.weight"].dtype == np.float64 and z["layers.0.weight"].shape == (4, 3)
        np.testing.assert_array_equal(z["layers.1.bias"], m.layers[1].bias.data)
    assert config["sizes"] == [4, 3, 2] and config["kind"] == "MLP" and config["format"] == serialize.FORMAT
    assert config["dtype"] == "float64" and config["activation"] == "sigmoid"


def test_save_rejects_non_models(tmp_path):
    with pytest.raises(TypeError, match="save"):
        mg.save(mg.nn.Linear(2, 3), tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []


# ============================================================================ bad files


def _assert_names_file(excinfo, path):
    assert str(path) in str(excinfo.value)


def test_load_missing_file(tmp_path):
    p = tmp_path / "nope.npz"
    with pytest.raises(mg.ModelFileError) as e:
        mg.load(p)
    _assert_names_file(e, p)
    assert "no such" in str(e.value)


def test_load_a_folder(tmp_path):
    with pytest.raises(mg.ModelFileError) as e:
        mg.load(tmp_path)
    _assert_names_file(e, tmp_path)


def test_load_text_file(tmp_path):
    p = tmp_path / "notes.npz"
    p.write_text("these are not the weights you are looking for\n")
    with pytest.raises(mg.ModelFileError) as e:
        mg.load(p)
    _assert_names_file(e, p)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_load_random_bytes(tmp_path, seed):
    p = tmp_path / f"random{seed}.npz"
    p.write_bytes(np.random.default_rng(seed).bytes(2000))
    with pytest.raises(mg.ModelFileError) as e:
        mg.load(p)
    _assert_names_file(e, p)


def test_load_empty_file(tmp_path):
    p = tmp_path / "empty.npz"
    p.write_bytes(b"")
    with pytest.raises(mg.ModelFileError) as e:
        mg.load(p)
    _assert_names_file(e, p)


def test_load_npz_without_config(tmp_path):
    p = tmp_path / "plain.npz"
    np.savez(p, a=np.zeros(3))
    with pytest.raises(mg.ModelFileError) as e:
        mg.load(p)
    _assert_names_file(e, p)
    assert "no architecture" in str(e.value)


def test_load_npy_file(tmp_path):
    p = tmp_path / "array.npy"
    np.save(p, np.zeros((2, 3)))
    with pytest.raises(mg.ModelFileError) as e:
        mg.load(p)
    _assert_names_file(e, p)


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.99])
def test_load_truncated_model_file(tmp_path, fraction):
    m, _ = model_and_input([20, 10, 5], np.float32)
    good = mg.save(m, tmp_path / "good.npz").read_bytes()
    p = tmp_path / "cut.npz"
    p.write_bytes(good[: int(len(good) * fraction)])
    with pytest.raises(mg.ModelFileError) as e:
        mg.load(p)
    _assert_names_file(e, p)


def test_load_model_file_with_corrupted_middle(tmp_path):
    m, _ = model_and_input([20, 10, 5], np.float32)
    data = bytearray(mg.save(m, tmp_path / "good.npz").read_bytes())
    mid = len(data) // 3
    data[mid : mid + 64] = bytes(64)
    p = tmp_path / "bad.npz"
    p.write_bytes(bytes(data))
    with pytest.raises(mg.ModelFileError) as e:
        mg.load(p)
    _assert_names_file(e, p)


def test_load_model_file_with_any_flipped_byte_loads_or_raises_model_file_error(tmp_path):
    """A damaged header or compressed stream (zlib errors, "unsupported version", "encrypted"
    flags) must also come out as ModelFileError naming the file."""
    m, _ = model_and_input([2, 1], np.float32)
    data = mg.save(m, tmp_path / "good.npz").read_bytes()
    p = tmp_path / "flipped.npz"
    # every byte of the first entry and of the central directory, every 3rd in between
    positions = sorted(
        set(range(0, 300))
        | set(range(300, len(data) - 300, 3))
        | set(range(max(len(data) - 300, 0), len(data)))
    )
    raised = 0
    for i in positions:
        d = bytearray(data)
        d[i] ^= 0x01 if i % 2 else 0xFF  # low bits hit flag fields, whole bytes hit the rest
        p.write_bytes(bytes(d))
        try:
            mg.load(p)
        except mg.ModelFileError as e:
            assert str(p) in str(e)
            raised += 1
    assert raised > len(positions) // 3


def _write_model_npz(path, config, arrays):
    np.savez(path, __config__=np.array(json.dumps(config)), **arrays)


@pytest.mark.parametrize(
    "change",
    [
        "wrong_shape",
        "missing_array",
        "extra_array",
        "bad_format",
        "bad_kind",
        "bad_sizes",
        "bad_json",
        "missing_sizes",
    ],
)
def test_load_inconsistent_model_files(tmp_path, change):
    m, _ = model_and_input([4, 3, 2], np.float32)
    config = dict(m.config(), format=serialize.FORMAT)
    arrays = dict(m.state_dict())
    p = tmp_path / "m.npz"
    if change == "wrong_shape":
        arrays["layers.1.weight"] = np.zeros((3, 3), dtype=np.float32)
    elif change == "missing_array":
        del arrays["layers.0.bias"]
    elif change == "extra_array":
        arrays["layers.9.weight"] = np.zeros(2, dtype=np.float32)
    elif change == "bad_format":
        config["format"] = "someone-else-1"
    elif change == "bad_kind":
        config["kind"] = "CNN"
    elif change == "bad_sizes":
        config["sizes"] = [4, -3, 2]
    elif change == "missing_sizes":
        del config["sizes"]
    if change == "bad_json":
        np.savez(p, __config__=np.array("{not json"), **arrays)
    else:
        _write_model_npz(p, config, arrays)
    with pytest.raises(mg.ModelFileError) as e:
        mg.load(p)
    _assert_names_file(e, p)


# ============================================================================ failed saves


def test_save_into_missing_folder_leaves_nothing(tmp_path):
    m, _ = model_and_input([3, 2], np.float32)
    target = tmp_path / "missing" / "m.npz"
    with pytest.raises(mg.ModelFileError) as e:
        mg.save(m, target)
    assert "missing" in str(e.value)
    assert not target.exists() and not (tmp_path / "missing").exists()
    assert os.listdir(tmp_path) == []


def test_failing_savez_leaves_no_file_and_no_temp_file(tmp_path, monkeypatch):
    m, _ = model_and_input([3, 2], np.float32)

    def boom(f, **arrays):
        f.write(b"PK\x03\x04 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", boom)
    with pytest.raises(OSError, match="disk full"):
        mg.save(m, tmp_path / "m.npz")
    assert os.listdir(tmp_path) == []


def test_failing_save_keeps_the_previous_model(tmp_path, monkeypatch):
    old, x = model_and_input([3, 2], np.float32, seed=0)
    new, _ = model_and_input([3, 2], np.float32, seed=1)
    p = mg.save(old, tmp_path / "m.npz")

    def interrupted(f, **arrays):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez_compressed", interrupted)
    with pytest.raises(KeyboardInterrupt):
        mg.save(new, p)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["m.npz"]
    np.testing.assert_array_equal(mg.load(p)(x).data, old(x).data)


def test_failing_rename_leaves_no_temp_file(tmp_path, monkeypatch):
    m, _ = model_and_input([3, 2], np.float32)

    def no_rename(src, dst):
        raise PermissionError("read-only")

    monkeypatch.setattr(os, "replace", no_rename)
    with pytest.raises(PermissionError):
        mg.save(m, tmp_path / "m.npz")
    monkeypatch.undo()
    assert os.listdir(tmp_path) == []


# ============================================================================ hostile and odd files


@pytest.mark.parametrize("kind", ["pickle", "object npy", "object npz", "npy"])
def test_anything_else_is_not_a_model_file_and_gets_no_pickle_advice(tmp_path, kind):
    import pickle

    p = tmp_path / f"{kind.replace(' ', '-')}.npz"
    if kind == "pickle":
        p.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    elif kind == "object npy":
        with open(p, "wb") as f:
            np.save(f, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    elif kind == "object npz":
        np.savez(p, __config__=np.array([{"a": 1}], dtype=object))
    else:
        with open(p, "wb") as f:
            np.save(f, np.zeros(3))
    with pytest.raises(mg.ModelFileError) as e:
        mg.load(p)
    msg = str(e.value)
    assert msg.startswith(f"{p}: not a microgradnet model file"), msg
    said = msg[len(str(p)) :].lower()
    assert "pickle" not in said and "unsafe" not in said, msg


def test_an_unreadable_model_file_stays_a_permission_error():
    assert read_unreadable("mg.load", lambda path: mg.save(mg.nn.MLP([2, 1]), path), "m.npz")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_are_refused_unless_allowed(tmp_path, bad):
    m, x = model_and_input([4, 3, 2], np.float32)
    m.layers[1].weight.data[1, 0] = bad
    m.layers[1].weight.data[2, 1] = bad
    p = mg.save(m, tmp_path / "diverged.npz")
    with pytest.raises(mg.ModelFileError) as e:
        mg.load(p)
    what = "NaN" if np.isnan(bad) else "infinite"
    assert str(e.value).startswith(f"{p}: layers.1.weight holds 2 {what} values (of 6)"), str(e.value)
    assert "allow_nonfinite=True" in str(e.value)
    loaded = mg.load(p, allow_nonfinite=True)
    np.testing.assert_array_equal(loaded.layers[1].weight.data, m.layers[1].weight.data)


def test_trained_on_is_kept_and_old_files_still_load(tmp_path):
    m, x = model_and_input([4, 3, 2], np.float32)
    assert m.trained_on is None
    p = mg.save(m, tmp_path / "m.npz", trained_on={"dataset": "mnist", "split_test_set": 8000})
    loaded = mg.load(p)
    assert loaded.trained_on == {"dataset": "mnist", "split_test_set": 8000}
    again = mg.load(mg.save(loaded, tmp_path / "again.npz"))  # the model carries it on
    assert again.trained_on == loaded.trained_on
    # a file written before trained_on existed: just the architecture and the weights
    old = tmp_path / "old.npz"
    _write_model_npz(old, dict(m.config(), format=serialize.FORMAT), dict(m.state_dict()))
    assert mg.load(old).trained_on is None
    np.testing.assert_array_equal(mg.load(old)(x).data, m(x).data)
    with pytest.raises(TypeError, match="JSON"):
        mg.save(m, tmp_path / "bad.npz", trained_on={"dataset": object()})
