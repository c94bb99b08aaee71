"""Tests for microgradnet.datasets: IDX files, MNIST/Fashion-MNIST loading and download, digits.

No test touches the internet: downloads go to a throw-away HTTP server on 127.0.0.1.
"""

import gzip
import hashlib
import http.server
import threading
import time
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from conftest import read_unreadable, require_mnist, require_path
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microgradnet.data import Dataset
from microgradnet.datasets import (
    default_cache_dir,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    read_idx,
)
from microgradnet.datasets import mnist as mnist_mod
from microgradnet.datasets.idx import write_idx
from microgradnet.errors import DataError

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    """Point the cache at an empty temp folder so no test reads or writes the real one."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("MICROGRADNET_DATA", str(cache))
    monkeypatch.setenv("no_proxy", "*")  # the local test server must be reached directly
    monkeypatch.setenv("NO_PROXY", "*")
    return cache


# ----------------------------------------------------------------------------- IDX

IDX_DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


@pytest.mark.parametrize("dtype", IDX_DTYPES)
@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_idx_round_trip(tmp_path, dtype, name):
    rng = np.random.default_rng(0)
    arr = (rng.standard_normal((3, 4, 5)) * 50).astype(dtype)
    path = write_idx(tmp_path / name, arr)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    np.testing.assert_array_equal(back, arr)
    back[0, 0, 0] = 1  # writable


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    shape=st.lists(st.integers(0, 5), min_size=1, max_size=4),
    dtype=st.sampled_from(IDX_DTYPES),
    compress=st.booleans(),
)
def test_idx_round_trip_any_shape(tmp_path, shape, dtype, compress):
    arr = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape).astype(dtype)
    path = write_idx(tmp_path / "x.idx", arr, compress=compress)
    back = read_idx(path)
    assert back.shape == tuple(shape) and back.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(back, arr)


def test_idx_header_bytes_follow_the_spec(tmp_path):
    path = write_idx(tmp_path / "x", np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int16))
    raw = path.read_bytes()
    assert raw[:4] == bytes([0, 0, 0x0B, 2])
    assert raw[4:12] == (2).to_bytes(4, "big") + (3).to_bytes(4, "big")
    assert raw[12:14] == (1).to_bytes(2, "big")  # big-endian values


def test_idx_gzip_detected_by_magic_not_name(tmp_path):
    arr = np.arange(6, dtype=np.uint8).reshape(2, 3)
    gz_without_suffix = write_idx(tmp_path / "plain-name", arr, compress=True)
    raw_with_suffix = write_idx(tmp_path / "raw.gz", arr, compress=False)
    np.testing.assert_array_equal(read_idx(gz_without_suffix), arr)
    np.testing.assert_array_equal(read_idx(raw_with_suffix), arr)


def test_idx_write_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(DataError, match="int64"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.int64))


def _good_idx_bytes():
    return bytes([0, 0, 8, 2]) + (2).to_bytes(4, "big") + (3).to_bytes(4, "big") + bytes(range(6))


def test_idx_corrupt_gzip(tmp_path):
    good = gzip.compress(_good_idx_bytes() * 50)
    broken = tmp_path / "broken.gz"
    broken.write_bytes(good[:10] + bytes(200) + good[210:])
    with pytest.raises(DataError, match="broken.gz.*gzip"):
        read_idx(broken)
    cut = tmp_path / "cut.gz"
    cut.write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError, match="cut.gz"):
        read_idx(cut)


def test_idx_wrong_magic(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x01\x00\x08\x01" + bytes(8))
    with pytest.raises(DataError, match=r"bad is not an IDX file.*00 00"):
        read_idx(path)
    html = tmp_path / "page"
    html.write_bytes(b"<html><body>Not found</body></html>")
    with pytest.raises(DataError, match="HTML"):
        read_idx(html)


def test_idx_unknown_type_code(tmp_path):
    path = tmp_path / "odd"
    path.write_bytes(bytes([0, 0, 0x0A, 1]) + (1).to_bytes(4, "big") + b"\x00")
    with pytest.raises(DataError, match="0x0A"):
        read_idx(path)


def test_idx_too_short_or_header_cut(tmp_path):
    path = tmp_path / "tiny"
    path.write_bytes(b"\x00\x00")
    with pytest.raises(DataError, match="tiny.*2 bytes"):
        read_idx(path)
    path.write_bytes(bytes([0, 0, 8, 3]) + (5).to_bytes(4, "big"))
    with pytest.raises(DataError, match="3 dimensions.*16 bytes.*8"):
        read_idx(path)
    path.write_bytes(bytes([0, 0, 8, 0]))
    with pytest.raises(DataError, match="0 dimensions"):
        read_idx(path)


@pytest.mark.parametrize("compress", [False, True])
def test_idx_truncated_data(tmp_path, compress):
    data = _good_idx_bytes()[:-2]
    path = tmp_path / "short.idx"
    path.write_bytes(gzip.compress(data) if compress else data)
    with pytest.raises(DataError, match=r"short.idx.*6 data bytes.*has 4.*truncated"):
        read_idx(path)


def test_idx_extra_bytes(tmp_path):
    path = tmp_path / "long.idx"
    path.write_bytes(_good_idx_bytes() + b"\x00\x00\x00")
    with pytest.raises(DataError, match=r"long.idx.*6 data bytes.*has 9.*longer"):
        read_idx(path)


def test_idx_unreadable_file_stays_a_permission_error():
    arr = np.zeros((2, 3), np.uint8)
    assert read_unreadable("mg.datasets.read_idx", lambda path: write_idx(path, arr), "x-idx1-ubyte.gz")


def test_idx_missing_file(tmp_path):
    with pytest.raises(DataError, match="nope.idx"):
        read_idx(tmp_path / "nope.idx")


# ----------------------------------------------------------------------------- fake MNIST

STEMS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def write_fake_mnist(folder, n=(6, 4), gz=True, parts=("train", "test"), seed=0):
    """Write small MNIST-format files; returns {part: (images uint8, labels uint8)}."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    out = {}
    for part, count in zip(("train", "test"), n):
        if part not in parts:
            continue
        images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=count, dtype=np.uint8)
        suffix = ".gz" if gz else ""
        write_idx(folder / (STEMS[part][0] + suffix), images)
        write_idx(folder / (STEMS[part][1] + suffix), labels)
        out[part] = (images, labels)
    return out


@pytest.mark.parametrize("gz", [True, False])
def test_load_mnist_from_root(tmp_path, gz):
    arrays = write_fake_mnist(tmp_path / "m", gz=gz)
    train, test = load_mnist(tmp_path / "m", download=False)
    for ds, part in [(train, "train"), (test, "test")]:
        images, labels = arrays[part]
        assert isinstance(ds, Dataset)
        assert ds.x.shape == (len(images), 784) and ds.x.dtype == np.float32
        assert ds.y.dtype == np.int64 and ds.image_shape == (28, 28)
        np.testing.assert_allclose(ds.x, images.reshape(len(images), -1) / 255.0, rtol=1e-6)
        np.testing.assert_array_equal(ds.y, labels)
        assert ds.classes == [str(k) for k in range(10)]
        assert ds.name == f"mnist-{part}"


def test_load_mnist_single_split(tmp_path):
    write_fake_mnist(tmp_path, parts=("test",))
    test = load_mnist(tmp_path, download=False, split="test")
    assert isinstance(test, Dataset) and len(test) == 4
    with pytest.raises(DataError, match="train-images-idx3-ubyte"):
        load_mnist(tmp_path, download=False, split="train")
    with pytest.raises(ValueError, match="split"):
        load_mnist(tmp_path, download=False, split="validation")


def test_load_fashion_mnist_class_names(tmp_path):
    write_fake_mnist(tmp_path)
    train, _ = load_fashion_mnist(tmp_path, download=False)
    assert train.classes == [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]
    assert train.name == "fashion-mnist-train"


def test_load_mnist_accepts_dotted_file_names(tmp_path):
    arrays = write_fake_mnist(tmp_path, parts=("test",), gz=False)
    for stem in STEMS["test"]:
        (tmp_path / stem).rename(tmp_path / stem.replace("-idx", ".idx"))
    test = load_mnist(tmp_path, download=False, split="test")
    np.testing.assert_array_equal(test.y, arrays["test"][1])


def test_load_mnist_uses_cache_dir_from_env(isolated_cache):
    write_fake_mnist(isolated_cache / "mnist", parts=("test",))
    assert len(load_mnist(split="test", download=False)) == 4


def test_load_mnist_count_mismatch_names_both_files(tmp_path):
    write_fake_mnist(tmp_path, parts=("test",))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(3, dtype=np.uint8))
    with pytest.raises(DataError) as info:
        load_mnist(tmp_path, download=False, split="test")
    msg = str(info.value)
    assert "t10k-images-idx3-ubyte.gz" in msg and "t10k-labels-idx1-ubyte.gz" in msg
    assert "4 images" in msg and "3 labels" in msg


def test_load_mnist_of_zero_images_names_the_file(tmp_path):
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((0, 28, 28), np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(0, np.uint8))
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte.gz: holds 0 images"):
        load_mnist(tmp_path, split="test", download=False)


def test_missing_files_error_words_its_advice_for_each_caller(tmp_path):
    with pytest.raises(mnist_mod.MissingFilesError) as info:
        load_mnist(tmp_path, split="test", download=False)
    e = info.value
    assert e.missing == list(STEMS["test"]) and e.searched == [tmp_path] and not e.download
    assert "root=FOLDER" in str(e) and "download=False" in str(e)
    cli = e.advice("--data-dir DIR", "--no-download", sep=" ")
    assert "--data-dir DIR" in cli and "--no-download" in cli and "\n" not in cli
    assert "root=" not in cli and "download=False" not in cli


def test_load_mnist_wrong_image_dims(tmp_path):
    write_fake_mnist(tmp_path, parts=("test",))
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((4, 8, 8), dtype=np.uint8))
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte.gz.*28x28.*\(4, 8, 8\)"):
        load_mnist(tmp_path, download=False, split="test")


def test_load_mnist_label_out_of_range(tmp_path):
    write_fake_mnist(tmp_path, parts=("test",))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.array([0, 1, 12, 3], dtype=np.uint8))
    with pytest.raises(DataError, match="label 12"):
        load_mnist(tmp_path, download=False, split="test")


def test_missing_files_message_is_actionable(isolated_cache, monkeypatch):
    monkeypatch.setattr(mnist_mod, "SYSTEM_DIRS", {"mnist": [], "fashion-mnist": [Path("/nonexistent/fm")]})
    with pytest.raises(DataError) as info:
        load_fashion_mnist(download=False)
    msg = str(info.value)
    for stem in STEMS["train"] + STEMS["test"]:
        assert stem in msg
    assert str(isolated_cache / "fashion-mnist") in msg and "/nonexistent/fm" in msg
    assert "MICROGRADNET_DATA" in msg and "root=" in msg and "download=False" in msg


def test_missing_files_with_root_searches_only_root(tmp_path, monkeypatch):
    write_fake_mnist(tmp_path / "cache-has-it" / "mnist")
    monkeypatch.setenv("MICROGRADNET_DATA", str(tmp_path / "cache-has-it"))
    with pytest.raises(DataError) as info:
        load_mnist(tmp_path / "empty", download=False)
    assert str(tmp_path / "empty") in str(info.value)
    assert "cache-has-it" not in str(info.value)


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("MICROGRADNET_DATA", str(tmp_path / "d"))
    assert default_cache_dir() == tmp_path / "d"
    monkeypatch.delenv("MICROGRADNET_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "microgradnet"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "microgradnet"


# ----------------------------------------------------------------------------- download


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves files from server.folder; names in server.cut are sent only half, then closed;
    names in server.drip are sent one byte every 50 ms. Every answer waits for server.answer."""

    def do_GET(self):
        self.server.requests.append(self.path)
        self.server.answer.wait(10)
        prefix, _, name = self.path.rpartition("/")
        path = self.server.folder / name
        if prefix != "/data" or not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if name in self.server.cut:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
        elif name in self.server.drip:
            try:
                for i in range(len(data)):
                    self.wfile.write(data[i : i + 1])
                    self.wfile.flush()
                    time.sleep(0.05)
            except OSError:  # the client gave up
                pass
            self.close_connection = True
        else:
            self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """A local HTTP server on 127.0.0.1; yields (base_url, served_folder, server)."""
    folder = tmp_path / "served"
    folder.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.folder, httpd.cut, httpd.drip, httpd.requests = folder, set(), set(), []
    httpd.answer = threading.Event()
    httpd.answer.set()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/data/", folder, httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def _md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_download_good_file(server, tmp_path):
    base, served, _ = server
    (served / "f.bin").write_bytes(b"hello world" * 1000)
    dest = mnist_mod.download_file(
        "f.bin", tmp_path / "out", [base], md5=_md5(served / "f.bin"), timeout=5, progress=False
    )
    assert dest == tmp_path / "out" / "f.bin"
    assert dest.read_bytes() == b"hello world" * 1000
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["f.bin"]


def test_download_checksum_mismatch_leaves_nothing(server, tmp_path):
    base, served, _ = server
    (served / "f.bin").write_bytes(b"tampered")
    (tmp_path / "out").mkdir()  # an existing folder stays, empty
    with pytest.raises(DataError, match="f.bin.*checksum mismatch"):
        mnist_mod.download_file("f.bin", tmp_path / "out", [base], md5="0" * 32, timeout=5, progress=False)
    assert list((tmp_path / "out").iterdir()) == []


def test_download_connection_cut_mid_file_leaves_nothing(server, tmp_path):
    base, served, httpd = server
    (served / "f.bin").write_bytes(bytes(range(256)) * 400)
    httpd.cut.add("f.bin")
    with pytest.raises(DataError, match="f.bin: the connection closed before the whole file arrived"):
        mnist_mod.download_file("f.bin", tmp_path / "out", [base], md5=None, timeout=5, progress=False)
    assert not (tmp_path / "out").exists()  # created when the server answered, removed with the temp file


def test_download_falls_back_to_next_mirror(server, tmp_path):
    base, served, httpd = server
    (served / "f.bin").write_bytes(b"data")
    dest = mnist_mod.download_file(
        "f.bin",
        tmp_path / "out",
        [base + "missing/", base],
        md5=_md5(served / "f.bin"),
        timeout=5,
        progress=True,
    )
    assert dest.read_bytes() == b"data"
    assert httpd.requests == ["/data/missing/f.bin", "/data/f.bin"]


def test_download_all_mirrors_fail_lists_each(server, tmp_path):
    base, _, _ = server
    with pytest.raises(DataError) as info:
        mnist_mod.download_file(
            "nothing.gz", tmp_path / "out", [base, base + "b/"], timeout=5, progress=False
        )
    assert str(info.value).count("HTTP 404") == 2


def test_download_keyboard_interrupt_removes_temp_file(monkeypatch, tmp_path):
    class Response:
        headers = {"Content-Length": "1000"}

        def __init__(self):
            self.calls = 0

        def read(self, n):
            self.calls += 1
            if self.calls > 1:
                raise KeyboardInterrupt
            return b"x" * 100

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(mnist_mod, "_urlopen", lambda url, timeout: Response())
    (tmp_path / "out").mkdir()
    with pytest.raises(KeyboardInterrupt):
        mnist_mod.download_file("f.bin", tmp_path / "out", ["http://127.0.0.1:9/"], progress=False)
    assert list((tmp_path / "out").iterdir()) == []


def test_download_into_a_missing_folder_creates_nothing_until_the_server_answers(server, tmp_path):
    base, served, httpd = server
    (served / "f.bin").write_bytes(b"payload" * 100)
    folder = tmp_path / "new" / "data"
    httpd.answer.clear()  # the server takes the request but does not answer yet
    result = {}
    worker = threading.Thread(
        target=lambda: result.update(
            path=mnist_mod.download_file("f.bin", folder, [base], timeout=10, progress=False)
        )
    )
    worker.start()
    for _ in range(200):
        if httpd.requests:
            break
        time.sleep(0.01)
    assert httpd.requests == ["/data/f.bin"]
    time.sleep(0.2)
    assert not (tmp_path / "new").exists()  # no folder, no temp file while the network is silent
    httpd.answer.set()
    worker.join(10)
    assert result["path"] == folder / "f.bin" and result["path"].read_bytes() == b"payload" * 100
    assert sorted(p.name for p in folder.iterdir()) == ["f.bin"]


@pytest.mark.parametrize("how", ["404", "refused"])
def test_a_failed_download_leaves_no_new_folder(server, tmp_path, how):
    base, _, _ = server
    mirror = base if how == "404" else "http://127.0.0.1:9/"  # port 9 (discard): nobody listens
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(DataError, match="could not download f.bin"):
        mnist_mod.download_file("f.bin", work / "a" / "b", [mirror], timeout=5, progress=False)
    assert list(work.iterdir()) == []
    with pytest.raises(DataError):
        load_mnist(work / "root", split="test", mirrors=[mirror], timeout=5, progress=False)
    assert list(work.iterdir()) == []


def test_a_dripping_server_is_cut_off_by_the_deadline(server, tmp_path):
    base, served, httpd = server
    (served / "slow.bin").write_bytes(bytes(2000))  # 2000 bytes at 20 per second: 100 s
    httpd.drip.add("slow.bin")
    started = time.monotonic()
    with pytest.raises(DataError) as info:
        mnist_mod.download_file("slow.bin", tmp_path / "out", [base], timeout=5, deadline=0.5, progress=False)
    took = time.monotonic() - started
    assert took < 4, took  # every read got a byte within the 5 s timeout: only the deadline stops it
    assert "slow.bin" in str(info.value) and "deadline" in str(info.value)
    assert not (tmp_path / "out").exists()


def _serve_fake_mnist(served, monkeypatch, key="mnist"):
    arrays = write_fake_mnist(served, gz=True)
    for stem in STEMS["train"] + STEMS["test"]:
        name = stem + ".gz"
        monkeypatch.setitem(mnist_mod.MD5[key], name, _md5(served / name))
    return arrays


def test_load_mnist_downloads_into_cache_then_reuses_it(server, isolated_cache, monkeypatch):
    base, served, httpd = server
    arrays = _serve_fake_mnist(served, monkeypatch)
    monkeypatch.setitem(mnist_mod.MIRRORS, "mnist", [base])
    train, test = load_mnist(progress=False)
    np.testing.assert_array_equal(train.y, arrays["train"][1])
    np.testing.assert_array_equal(test.y, arrays["test"][1])
    assert sorted(p.name for p in (isolated_cache / "mnist").iterdir()) == sorted(
        stem + ".gz" for stem in STEMS["train"] + STEMS["test"]
    )
    assert len(httpd.requests) == 4
    load_mnist(progress=False)  # second time: from the cache, no request
    assert len(httpd.requests) == 4


def test_load_fashion_mnist_downloads_into_root_with_mirrors_argument(server, tmp_path, monkeypatch):
    base, served, _ = server
    _serve_fake_mnist(served, monkeypatch, key="fashion-mnist")
    test = load_fashion_mnist(tmp_path / "fm", split="test", mirrors=[base], progress=False)
    assert len(test) == 4
    assert sorted(p.name for p in (tmp_path / "fm").iterdir()) == sorted(s + ".gz" for s in STEMS["test"])


def test_load_mnist_bad_download_explains_and_leaves_nothing(server, tmp_path, monkeypatch):
    base, served, _ = server
    write_fake_mnist(served, gz=True)  # checksums will not match the real MNIST ones
    with pytest.raises(DataError) as info:
        load_mnist(tmp_path / "m", split="test", mirrors=[base], progress=False)
    msg = str(info.value)
    assert "checksum mismatch" in msg and "t10k-images-idx3-ubyte" in msg and str(tmp_path / "m") in msg
    assert not (tmp_path / "m").exists()


# ----------------------------------------------------------------------------- real data


def test_real_mnist_test_set():
    root = require_mnist()
    test = load_mnist(root, download=False, split="test")
    assert test.x.shape == (10_000, 784) and test.x.dtype == np.float32
    assert test.y.shape == (10_000,) and test.y.dtype == np.int64
    assert test.x.min() == 0.0 and test.x.max() == 1.0
    assert set(np.unique(test.y).tolist()) == set(range(10))
    assert test.image_shape == (28, 28)
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        if (root / name).is_file():  # gzipped as published: the very bytes the mirrors serve
            assert _md5(root / name) == mnist_mod.MD5["mnist"][name], name


def test_debian_fashion_mnist_found_without_root():
    require_path(DEBIAN_FASHION / "train-images-idx3-ubyte.gz", "Debian's dataset-fashion-mnist")
    train, test = load_fashion_mnist(download=False)
    assert train.x.shape == (60_000, 784) and test.x.shape == (10_000, 784)
    assert 0.0 <= float(train.x.min()) and float(train.x.max()) <= 1.0
    assert np.bincount(test.y).tolist() == [1000] * 10
    assert train.classes[0] == "T-shirt/top" and train.classes[9] == "Ankle boot"


# ----------------------------------------------------------------------------- digits


def test_digits_file_is_small_and_bundled():
    resource = resources.files("microgradnet.datasets").joinpath("files/digits.npz")
    assert len(resource.read_bytes()) < 100_000
    licence = resources.files("microgradnet.datasets").joinpath("files/DIGITS-LICENSE.txt")
    text = licence.read_text(encoding="utf-8")
    assert "Alpaydin" in text and "Kaynak" in text and "CC BY 4.0" in text


def test_digits_default_split():
    train, test = load_digits()
    assert (len(train), len(test)) == (1437, 360)
    for ds in (train, test):
        assert ds.x.dtype == np.float32 and ds.x.shape[1] == 64
        assert ds.y.dtype == np.int64 and ds.image_shape == (8, 8)
        assert ds.classes == [str(k) for k in range(10)] and ds.num_classes == 10
        assert 0.0 <= ds.x.min() and ds.x.max() <= 1.0
    assert train.x.max() == 1.0  # 16 / 16
    # Stratified: every digit has about a fifth of its samples in the test set.
    whole = np.bincount(np.concatenate([train.y, test.y]), minlength=10)
    assert whole.tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    ratio = np.bincount(test.y, minlength=10) / whole
    assert np.all(np.abs(ratio - 360 / 1797) < 0.01)


def test_digits_split_is_deterministic_and_disjoint():
    a_train, a_test = load_digits()
    b_train, b_test = load_digits()
    np.testing.assert_array_equal(a_train.x, b_train.x)
    np.testing.assert_array_equal(a_test.y, b_test.y)
    c_train, _ = load_digits(seed=1)
    assert not np.array_equal(a_train.x, c_train.x)
    # Together the two halves are exactly the 1,797 samples.
    everything = load_digits(split="all")
    assert len(everything) == 1797 and everything.x.shape == (1797, 64)
    rows = lambda ds: sorted(map(bytes, np.hstack([ds.x, ds.y[:, None]]).astype(np.float32)))
    assert rows(everything) == sorted(rows(a_train) + rows(a_test))
    np.testing.assert_array_equal(load_digits(split="test").y, a_test.y)
    np.testing.assert_array_equal(load_digits(split="train").x, a_train.x)


def test_digits_values_are_sixteenths():
    ds = load_digits(split="all")
    np.testing.assert_array_equal(ds.x * 16, np.round(ds.x * 16))


def test_digits_options():
    train, test = load_digits(test_size=0.5)
    assert (len(train), len(test)) == (898, 899)
    with pytest.raises(ValueError, match="test_size"):
        load_digits(test_size=0)
    with pytest.raises(ValueError, match="split"):
        load_digits(split="validation")
